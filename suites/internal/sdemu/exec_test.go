//go:build linux

package sdemu

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dcheck/dcheck/internal/attacker"
	"github.com/dcheck/dcheck/unitfile"
)

// unit parses a service unit of the given text.
func unit(t *testing.T, text string) *unitfile.Service {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	svc, err := unitfile.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// ran runs a prepared command to its end and returns what it printed.
func ran(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
	}
	b, _ := os.ReadFile(out.Name())
	return string(b)
}

// environ is what `env` printed, as a map.
func environ(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// TestCommandGetsWhatSystemdGives: the main process of a unit with
// WatchdogSec=, PIDFile=, Environment= and a socket gets what systemd 252
// gives it (the oracle test compares the same with the real one):
// NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID naming itself, the socket
// as descriptor 3 with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID naming
// itself, PIDFILE, its words expanded from that environment, no PWD, a
// session of its own, and / as its directory. The commands are no shells:
// a shell sets PWD itself.
func TestCommandGetsWhatSystemdGives(t *testing.T) {
	dir := t.TempDir()
	sock := socketUnitAt(t, dir, "[Socket]\nListenStream="+filepath.Join(dir, "t.sock")+"\nFileDescriptorName=tsock\n")
	p, err := ListenOn(sock.Listen[0], sock)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	svc := unit(t, "[Service]\nType=notify\nWatchdogSec=3s\nPIDFile=/run/t.pid\nEnvironment=WORD=expanded\n"+
		"ExecStart=/usr/bin/env ARG=${WORD}\nExecReload=/bin/readlink /proc/self/fd/3 /proc/self/cwd\n")
	x := Exec{Main: true, Notify: "/run/notify.sock", Sockets: []ListeningSocket{p}, FDName: sock.FDName(), Env: []string{"MARK=1"}}
	cmd, err := Command(svc, svc.ExecStart[0], x)
	if err != nil {
		t.Fatal(err)
	}
	out := ran(t, cmd)
	env, pid := environ(out), strconv.Itoa(cmd.Process.Pid)
	for k, want := range map[string]string{
		"NOTIFY_SOCKET": "/run/notify.sock", "WATCHDOG_USEC": "3000000", "WATCHDOG_PID": pid,
		"LISTEN_FDS": "1", "LISTEN_FDNAMES": "tsock", "LISTEN_PID": pid, "PIDFILE": "/run/t.pid",
		"WORD": "expanded", "MARK": "1", "ARG": "expanded",
	} {
		if env[k] != want {
			t.Errorf("%s=%q; want %q\n%s", k, env[k], want, out)
		}
	}
	if _, ok := env["PWD"]; ok {
		t.Errorf("PWD is set, which systemd never sets\n%s", out)
	}
	if cmd.SysProcAttr == nil || !cmd.SysProcAttr.Setsid {
		t.Error("the command is not given a session of its own")
	}
	cmd, err = Command(svc, svc.ExecReload[0], x) // run as the main process is, to see its descriptor 3 and directory
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ran(t, cmd), "socket:["+strconv.FormatUint(p.Ino, 10)+"]\n/\n"; got != want {
		t.Errorf("descriptor 3 and the directory are %q; want %q", got, want)
	}
}

// TestCommandOffersTheNotifySocketToWhomItHears: ExecStartPre= and the
// other commands get NOTIFY_SOCKET only with NotifyAccess=exec or all;
// nothing of the main process's (watchdog, sockets) reaches them.
func TestCommandOffersTheNotifySocketToWhomItHears(t *testing.T) {
	for access, want := range map[string]bool{"main": false, "exec": true, "all": true, "none": false} {
		svc := unit(t, "[Service]\nType=simple\nWatchdogSec=3s\nNotifyAccess="+access+"\nExecStartPre=/usr/bin/env\nExecStart=/bin/true\n")
		cmd, err := Command(svc, svc.ExecStartPre[0], Exec{Notify: "/run/notify.sock"})
		if err != nil {
			t.Fatal(err)
		}
		env := environ(ran(t, cmd))
		if _, got := env["NOTIFY_SOCKET"]; got != want {
			t.Errorf("NotifyAccess=%s: ExecStartPre= given NOTIFY_SOCKET %v; want %v", access, got, want)
		}
		if _, got := env["WATCHDOG_USEC"]; got {
			t.Errorf("NotifyAccess=%s: ExecStartPre= given WATCHDOG_USEC, the main process's alone", access)
		}
	}
}

// TestCommandRunsAsUserInItsDirectory: User= and WorkingDirectory= reach
// the process; the "+" prefix keeps root, as systemd's full privileges.
func TestCommandRunsAsUserInItsDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("User= needs root")
	}
	dir := t.TempDir()
	attacker.Reachable(dir)
	svc := unit(t, "[Service]\nUser=nobody\nWorkingDirectory="+dir+"\nExecStart=/bin/sh -c 'echo uid=$(id -u); echo cwd=$(pwd)'\nExecStartPre=+/bin/sh -c 'echo uid=$(id -u)'\n")
	cmd, err := Command(svc, svc.ExecStart[0], Exec{Main: true})
	if err != nil {
		t.Fatal(err)
	}
	env := environ(ran(t, cmd))
	cred, _, _ := Credential("nobody", "")
	if env["uid"] != strconv.Itoa(int(cred.Uid)) || env["cwd"] != dir {
		t.Errorf("ran as uid %s in %s; want nobody's uid %d in %s", env["uid"], env["cwd"], cred.Uid, dir)
	}
	cmd, err = Command(svc, svc.ExecStartPre[0], Exec{})
	if err != nil {
		t.Fatal(err)
	}
	if env := environ(ran(t, cmd)); env["uid"] != "0" {
		t.Errorf("ExecStartPre=+ ran as uid %s; want root's", env["uid"])
	}
}
