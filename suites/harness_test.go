package suites

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMarkedNeverTakesTheHarnessSession guards the cleanup: a supervised
// daemon shares nothing with the harness, but were its session the
// harness's own, killing "the daemon's session" would kill whoever ran the
// suite (it once killed the developer's shell).
func TestMarkedNeverTakesTheHarnessSession(t *testing.T) {
	sibling := exec.Command("sleep", "1000") // same session as this test, no marker
	if err := sibling.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sibling.Process.Kill(); sibling.Wait() })
	own, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{runID: "no-process-carries-this"}
	if got := h.marked(own); slices.Contains(got, sibling.Process.Pid) || slices.Contains(got, os.Getppid()) {
		t.Errorf("marked(own session %d) = %v: it includes the harness's own session", own, got)
	}

	marked := exec.Command("sleep", "1000")
	marked.Env = append(os.Environ(), markerEnv+"="+h.runID)
	if err := marked.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { marked.Process.Kill(); marked.Wait() })
	for range 1000 { // until it has exec'd and /proc shows its environment
		if got := h.marked(own); slices.Contains(got, marked.Process.Pid) {
			return
		}
	}
	t.Errorf("a process carrying the run's marker was not found")
}
