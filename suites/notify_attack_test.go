//go:build linux

package suites_test

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/attacker"
)

// spoofReady is the attacker of the run's notify socket: nobody, on a
// thread of its own, lists the temporary directory for the run's
// directory (its name is there for every user to see) and sends READY=1
// to the socket in it, again and again. It counts the sends that reached
// the socket and those refused for want of permission.
func spoofReady(t *testing.T, tmp string) (reached, refused *atomic.Int64) {
	reached, refused = new(atomic.Int64), new(atomic.Int64)
	attacker.Go(t, func(stop <-chan struct{}) {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return
		}
		defer unix.Close(fd)
		for {
			select {
			case <-stop:
				return
			default:
			}
			dirs, _ := filepath.Glob(filepath.Join(tmp, "dcheck-suite-*"))
			for _, d := range dirs {
				// Where the socket is, and where it was before it
				// had a directory of its own.
				for _, sock := range []string{filepath.Join(d, "notify", "notify.sock"), filepath.Join(d, "notify.sock")} {
					err := unix.Sendto(fd, []byte("READY=1"), 0, &unix.SockaddrUnix{Name: sock})
					switch {
					case err == nil:
						reached.Add(1)
					case errors.Is(err, unix.EACCES):
						refused.Add(1)
					}
				}
			}
			unix.Nanosleep(&unix.Timespec{Nsec: 5e6}, nil)
		}
	})
	return reached, refused
}

// attackableTmp is a temporary directory like /tmp (sticky, every user
// lists it) for the run's own.
func attackableTmp(t *testing.T) string {
	tmp := t.TempDir()
	attacker.Reachable(tmp)
	os.Chmod(tmp, os.ModeSticky|0o777)
	return tmp
}

// TestNotifySocketReachesOnlyTheDaemonsUser: the run's notify socket was
// in a directory every user could search, and its name is listed in
// /tmp: nobody sending READY=1 there turned a daemon that never notifies
// (sleep) into a pass of SU112. Under a unit whose User= is another user
// (daemon), the socket's directory is that user's alone: nobody cannot
// send at all.
func TestNotifySocketReachesOnlyTheDaemonsUser(t *testing.T) {
	attacker.Need(t)
	if _, err := user.Lookup("daemon"); err != nil {
		t.Skip("no user daemon here to run the unit as")
	}
	tmp := attackableTmp(t)
	unit := filepath.Join(t.TempDir(), "sleeper.service")
	if err := os.WriteFile(unit, []byte("[Service]\nType=notify\nUser=daemon\nTimeoutStartSec=3\nExecStart=/bin/sleep 100000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reached, refused := spoofReady(t, tmp)
	_, out, _ := verify(t, []string{"TMPDIR=" + tmp}, "--unit", unit, "--start-timeout", "3s", "--label-filter", "SU112")
	if line := summaryLines(out)["SU112"]; !strings.HasPrefix(line, "WARN  no READY=1") {
		t.Errorf("SU112 %q: want a warning, nobody's READY=1 kept out\n%s", line, summaryOf(out))
	}
	if reached.Load() > 0 || refused.Load() == 0 {
		t.Errorf("nobody's sends to the notify socket: %d reached it, %d were refused; want none to reach it, and some tried", reached.Load(), refused.Load())
	}
}

// TestNotifySocketReachesADaemonThatDropsPrivileges: a daemon started as
// root (no User=) may become another user before it says it is ready, as
// dbus-daemon becomes messagebus: the socket must reach it, as systemd's
// does. Here the main process becomes nobody (setpriv execs it: the main
// pid stays) and sends READY=1, which is heard.
func TestNotifySocketReachesADaemonThatDropsPrivileges(t *testing.T) {
	attacker.Need(t)
	dir := t.TempDir()
	attacker.Reachable(dir)
	os.Chmod(dir, 0o777)
	unit := filepath.Join(dir, "dropper.service")
	text := fmt.Sprintf("[Service]\nType=notify\nTimeoutStartSec=10\nExecStart=/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups %s run -fault none -pidfile %s -listen %s\n",
		filepath.Join(bin, "brokendaemon"), filepath.Join(dir, "d.pid"), filepath.Join(dir, "d.sock"))
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ := verify(t, nil, "--unit", unit, "--start-timeout", "10s", "--label-filter", "SU112 || SU113")
	if line := summaryLines(out)["SU113"]; !strings.HasPrefix(line, "PASS  Type=notify: the main pid") {
		t.Errorf("SU113 %q: want a pass, the READY=1 of a daemon that became nobody heard\n%s", line, summaryOf(out))
	}
}

// TestNotifySocketHearsOnlyTheRun: where the attacker is the daemon's
// own user (User=nobody), it reaches the socket, and its READY=1 is
// credited to its sender (SCM_CREDENTIALS): from outside the run, it is
// ignored and named in the summary, and the unit's start fails as under
// systemd.
func TestNotifySocketHearsOnlyTheRun(t *testing.T) {
	attacker.Need(t)
	tmp := attackableTmp(t)
	unit := filepath.Join(t.TempDir(), "sleeper.service")
	if err := os.WriteFile(unit, []byte("[Service]\nType=notify\nUser=nobody\nTimeoutStartSec=3\nExecStart=/bin/sleep 100000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reached, _ := spoofReady(t, tmp)
	_, out, _ := verify(t, []string{"TMPDIR=" + tmp}, "--unit", unit, "--start-timeout", "3s", "--label-filter", "SU112 || SU113")
	if line := summaryLines(out)["SU112"]; !strings.HasPrefix(line, "WARN  no READY=1") {
		t.Errorf("SU112 %q: want a warning, nobody's READY=1 ignored\n%s", line, summaryOf(out))
	}
	if line := summaryLines(out)["SU113"]; !strings.HasPrefix(line, "FAIL  Type=notify, but no READY=1") {
		t.Errorf("SU113 %q: want a failure, nobody's READY=1 ignored\n%s", line, summaryOf(out))
	}
	if reached.Load() == 0 {
		t.Errorf("the daemon's own user (nobody) never reached the notify socket")
	}
	if !strings.Contains(out, "note: ignored sd_notify messages from processes outside the run: pid ") || !strings.Contains(out, `"READY=1"`) {
		t.Errorf("the summary does not name the ignored sender:\n%s", summaryOf(out))
	}
}
