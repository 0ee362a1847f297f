package pidfd

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWait: a live process is not exited until it exits; then Wait returns
// at once, before it is reaped, and a cancelled context ends the wait.
func TestWait(t *testing.T) {
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if Exited(pid) {
		t.Fatalf("pid %d counts as exited while it runs", pid)
	}
	if ok, err := WaitPID(context.Background(), pid, 20*time.Millisecond); ok || err != nil {
		t.Fatalf("WaitPID on a live process: %v, %v; want false, nil", ok, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ok, err := WaitPID(ctx, pid, time.Hour); ok || err != context.Canceled {
		t.Fatalf("WaitPID with a cancelled context: %v, %v", ok, err)
	}
	cmd.Process.Kill() // a zombie until Wait: exited all the same
	if ok, err := WaitPID(context.Background(), pid, time.Minute); !ok || err != nil {
		t.Fatalf("WaitPID after SIGKILL: %v, %v; want true", ok, err)
	}
	if !Exited(pid) {
		t.Fatalf("pid %d, a zombie, does not count as exited", pid)
	}
}

// TestHandleSignalAndWait: a handle signals its process and sees it exit;
// after that it signals nothing.
func TestHandleSignalAndWait(t *testing.T) {
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	h, err := Open(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Signal(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Wait(context.Background(), time.Minute); !ok || err != nil {
		t.Fatalf("Wait after SIGTERM: %v, %v", ok, err)
	}
	cmd.Wait()
	if err := h.Signal(unix.SIGTERM); err != unix.ESRCH {
		t.Fatalf("Signal after the exit: %v, want ESRCH", err)
	}
	if _, err := Open(cmd.Process.Pid); err != unix.ESRCH {
		t.Fatalf("Open of a reaped pid: %v, want ESRCH", err)
	}
}
