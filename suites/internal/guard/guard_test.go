//go:build linux

package guard

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

// TestRefusesWhatItMustNeverSignal: pid 1, the harness, its parent and a
// process of its session (the caller's shell and tools) are refused, each
// with its reason and ErrNotSignalled, and each refusal is remembered for
// the summary. SIGCONT is the signal asked for: were a refusal to fail,
// nothing would be harmed. (What the run did not start is refused too:
// suites' TestSignalRefusesWhatTheRunDidNotStart, with a real run.)
func TestRefusesWhatItMustNeverSignal(t *testing.T) {
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	sibling := exec.Command("sleep", "1000") // this test's session, no marker, started before the run
	if err := sibling.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sibling.Process.Kill(); sibling.Wait() })
	st, err := fsys.Stat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	g := &Guard{Look: fsys, Marker: "DCHECK_GUARD_TEST=1", Environ: true, StartTicks: st.StartTime}
	for _, c := range []struct {
		name, why string
		pid       int
	}{
		{"pid 1", "pid 1", 1},
		{"a process group", "not a single process", 0},
		{"the harness", "the harness itself", os.Getpid()},
		{"its parent", "an ancestor of the harness", os.Getppid()},
		{"its session", "in the harness's own session", sibling.Process.Pid},
	} {
		err := g.Signal(c.pid, unix.SIGCONT)
		var ns *NotSignalledError
		if !errors.Is(err, ErrNotSignalled) || !errors.As(err, &ns) || ns.PID != c.pid || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s (pid %d): %v, want a refusal saying %q", c.name, c.pid, err, c.why)
		}
	}
	if n := len(g.Refused()); n != 5 {
		t.Errorf("%d refusals remembered, want 5: %v", n, g.Refused())
	}
}

// TestNothingIsOfARunWithoutItsEvidence: with no reader, or a marker no
// process carries, nothing is of the run, and Ancestors yields nothing.
func TestNothingIsOfARunWithoutItsEvidence(t *testing.T) {
	var g Guard
	if g.OfRun(os.Getpid()) || g.CarriesMarker(os.Getpid()) {
		t.Error("a guard without a reader took the test for the run's")
	}
	for range Ancestors(nil, os.Getpid()) {
		t.Error("Ancestors without a reader yielded a process")
	}
}
