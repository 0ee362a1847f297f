//go:build linux

package suites_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/attacker"
)

// TestNotifySocketHearsOnlyTheRun: the run's notify socket is in a
// directory every user can search (a unit's User= must reach it), and its
// name is listed in /tmp. nobody sending READY=1 there turned a daemon
// that never notifies (sleep) into a pass of SU112. Messages are now
// credited to their sender (SCM_CREDENTIALS), and one from outside the
// run is ignored and named in the summary.
func TestNotifySocketHearsOnlyTheRun(t *testing.T) {
	attacker.Need(t)
	tmp := t.TempDir()
	attacker.Reachable(tmp)
	os.Chmod(tmp, os.ModeSticky|0o777) // as /tmp: every user lists it
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
			// The run's directory can be searched, not listed: its
			// name comes from the listing of the temporary directory.
			dirs, _ := filepath.Glob(filepath.Join(tmp, "dcheck-suite-*"))
			for _, d := range dirs {
				unix.Sendto(fd, []byte("READY=1"), 0, &unix.SockaddrUnix{Name: filepath.Join(d, "notify.sock")})
			}
			unix.Nanosleep(&unix.Timespec{Nsec: 5e6}, nil)
		}
	})
	_, out, _ := verify(t, []string{"TMPDIR=" + tmp}, "--profile", "supervised", "--start-timeout", "3s", "--label-filter", "SU112", "--", "/bin/sleep", "100000")
	line := summaryLines(out)["SU112"]
	if !strings.HasPrefix(line, "WARN  no READY=1") {
		t.Errorf("SU112 %q: want a warning, nobody's READY=1 ignored\n%s", line, summaryOf(out))
	}
	if !strings.Contains(out, "note: ignored sd_notify messages from processes outside the run: pid ") || !strings.Contains(out, `"READY=1"`) {
		t.Errorf("the summary does not name the ignored sender:\n%s", summaryOf(out))
	}
}
