//go:build linux

package suites_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcheck/dcheck/suites"
)

// injectedRun is a child run of the test binary: the suite, in-process,
// on the daemon start (JSON: pidfile, argv), with a spec that kills the
// daemon injected after SU103 when DCHECK_TEST_INJECT is "kill".
func injectedRun(start string) int {
	var s struct {
		PidFile string
		Argv    []string
	}
	if err := json.Unmarshal([]byte(start), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if os.Getenv("DCHECK_TEST_INJECT") == "kill" {
		suites.InjectKillingSpec()
	}
	c := suites.NewConfig()
	c.Start, c.PidFile, c.Reload, c.Out = s.Argv, s.PidFile, true, os.Stdout
	c.StartTimeout = slow(time.Minute)
	passed, err := suites.RunStandalone(c, suites.Reports{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if !passed {
		return 1
	}
	return 0
}

// TestAKillingSpecChangesNoOtherOutcome: a new warning-level spec that
// killed the daemon once turned SU104, SU105 and SU108 into unknowns, as
// specs shared one daemon and its damage. A spec is local now: with a
// spec that kills the daemon injected after SU103, where a new lifecycle
// spec would go, every spec has the outcome it has without it, and those
// after it say they judged a fresh daemon.
func TestAKillingSpecChangesNoOtherOutcome(t *testing.T) {
	run := func(inject string) map[string]string {
		dir := t.TempDir()
		pidfile := filepath.Join(dir, "d.pid")
		start, _ := json.Marshal(map[string]any{"PidFile": pidfile,
			"Argv": []string{filepath.Join(bin, "gooddaemon"), "start", "-pidfile", pidfile, "-log", filepath.Join(dir, "d.log")}})
		cmd := exec.Command(os.Args[0], "-test.run", "^$")
		cmd.Env = append(os.Environ(), "DCHECK_TEST_INJECTED_RUN="+string(start), "DCHECK_TEST_INJECT="+inject, "DCHECK_TEST_BIN="+bin)
		out, err := cmd.CombinedOutput()
		lines := summaryLines(string(out))
		if len(lines) == 0 {
			t.Fatalf("inject %q: no summary (%v):\n%s", inject, err, out)
		}
		return lines
	}
	plain, killed := run(""), run("kill")
	judged := 0
	for id, line := range plain {
		status, _, _ := strings.Cut(line, "  ")
		kstatus, kmsg, _ := strings.Cut(killed[id], "  ")
		if kstatus != status {
			t.Errorf("%s: %s without the injected spec, %s with it: %s", id, status, kstatus, kmsg)
		}
		judged++
	}
	if judged < 20 {
		t.Fatalf("only %d outcomes compared: %v", judged, plain)
	}
	for _, id := range []string{"SU107", "SU104", "SU105", "SU108"} {
		if !strings.Contains(killed[id], "judged on a fresh daemon") {
			t.Errorf("%s after the injected kill: %q; want it judged on a fresh daemon, saying so", id, killed[id])
		}
	}
}
