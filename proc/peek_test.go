//go:build linux

package proc

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPeekProvesOneProcess: a snapshot taken after a Peek is of the process
// peeked at, or none. A process that exits while it is read is not
// reported with what the kernel shows of a zombie, and once it is reaped
// the peek's descriptor says so, whatever now has its pid.
func TestPeekProvesOneProcess(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	e := startEchoer(t, nil, "cat")
	e.echo(t, "up")
	pid, cmd := e.pid(), e.cmd

	p, err := fsys.Peek(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Stat.PID != pid || !p.Stat.Alive() {
		t.Fatalf("Peek(%d).Stat = pid %d, state %c", pid, p.Stat.PID, p.Stat.State)
	}
	if s, err := fsys.TakeFrom(pid, p); err != nil || s.Stat.StartTime != p.Stat.StartTime {
		t.Fatalf("TakeFrom a live peek: %v, %v", s, err)
	}

	// Exited, not reaped: the first look saw it run, the last a zombie.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	if s, err := fsys.TakeFrom(pid, p); !errors.Is(err, ErrExited) {
		t.Errorf("TakeFrom a peek at a process that exited since = %v, %v; want ErrExited", s, err)
	}
	// A zombie peeked at as one is read as one.
	z, err := fsys.Peek(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if s, err := fsys.TakeFrom(pid, z); err != nil || !s.Zombie() {
		t.Errorf("TakeFrom a zombie's peek = %v, %v; want the zombie", s, err)
	}

	// Reaped: the descriptor reads ESRCH, even were the pid reused.
	cmd.Wait()
	if _, err := p.read(make([]byte, 4096)); !errors.Is(err, unix.ESRCH) {
		t.Errorf("reading a reaped process's peek: %v, want ESRCH", err)
	}
	if s, err := fsys.TakeFrom(pid, p); !errors.Is(err, ErrExited) && !errors.Is(err, ErrNoProcess) {
		t.Errorf("TakeFrom a reaped process's peek = %v, %v; want ErrExited or ErrNoProcess", s, err)
	}
	p.Close()
	p.Close() // twice is allowed
}

// TestPeekSeesAnExec: a process that runs another program between the peek
// and the end of the snapshot is not reported as a mix of the two (or as
// the new one before its arguments and environment are set); a new look
// reads the new program whole.
func TestPeekSeesAnExec(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	// sh reads a line, then becomes cat.
	e := startEchoer(t, nil, "/bin/sh", "-c", "read line; exec cat")
	pid := e.pid()

	p, err := fsys.Peek(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Stat.EnvEnd == 0 {
		t.Skip("stat hides the environment's addresses here (fields 50 and 51)")
	}
	e.send(t, "go\n")
	e.echo(t, "ping")
	if s, err := fsys.TakeFrom(pid, p); !errors.Is(err, ErrExited) {
		t.Errorf("TakeFrom a peek at sh, now cat = %v, %v; want ErrExited", s, err)
	}
	s, err := fsys.Take(pid)
	if err != nil || s.Stat.Comm != "cat" || len(s.Cmdline) != 1 || len(s.Environ) == 0 {
		t.Errorf("Take after the exec = %v; want cat, its arguments and environment", err)
	}
}
