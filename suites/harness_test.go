//go:build linux

package suites

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/suites/internal/guard"
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
	h.guard = &guard.Guard{Look: looks(), Marker: markerEnv + "=" + h.runID, Environ: can().environ}
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

// TestSignalRefusesWhatTheRunDidNotStart: the one function that sends
// signals refuses pid 1, the harness, its ancestors, its own session, and
// any process the run did not start, whatever a spec asks; and delivers to
// a process the run started. SIGCONT is the signal asked for: were a
// refusal to fail, nothing would be harmed.
func TestSignalRefusesWhatTheRunDidNotStart(t *testing.T) {
	// Not a descendant of the harness: orphaned to init before the run
	// (this process is not yet a subreaper), in a session of its own.
	out, err := exec.Command("sh", "-c", "setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	outsider, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	t.Cleanup(func() { unix.Kill(outsider, unix.SIGKILL) })                            // by pid; init reaps it
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) { // setsid(1) gives no event
		if sid, err := unix.Getsid(outsider); err == nil && sid == outsider {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never led a session of its own", outsider)
		}
	}
	// Older than the run: the run starts two clock ticks after it.
	st, _ := procStat(outsider)
	for bootTicks(can()) < st.StartTime+2 {
		time.Sleep(time.Millisecond)
	}
	sibling := exec.Command("sleep", "1000") // the harness's session
	if err := sibling.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sibling.Process.Kill(); sibling.Wait() })

	h, err := newHarness(NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.cleanup)
	for _, tt := range []struct {
		name string
		pid  int
		why  string
	}{
		{"pid 1", 1, "pid 1"},
		{"pid 0 (a process group to kill(2))", 0, "not a single process"},
		{"the harness", os.Getpid(), "the harness itself"},
		{"the harness's parent", os.Getppid(), "ancestor"},
		{"a process in the harness's session", sibling.Process.Pid, "own session"},
		{"a process outside the run", outsider, "did not start"},
	} {
		err := h.signal(tt.pid, unix.SIGCONT)
		if !errors.Is(err, ErrNotSignalled) || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("%s (pid %d): err = %v, want ErrNotSignalled saying %q", tt.name, tt.pid, err, tt.why)
		}
	}

	// A process of the run: started after it began, in a session of its
	// own, a descendant of the harness. It gets the signal.
	ours := exec.Command("sleep", "1000")
	ours.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // before exec: Start returns after it
	if err := ours.Start(); err != nil {
		t.Fatal(err)
	}
	if err := h.signal(ours.Process.Pid, unix.SIGKILL); err != nil {
		t.Errorf("signal to a process of the run: %v", err)
	}
	if err := ours.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("the run's process ended with %v, want killed", err)
	}
}
