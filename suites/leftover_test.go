package suites_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStalePidFileBeforeAndAfter: a pidfile that exists before the run is
// named in the summary, with whether its pid runs; a pidfile the run left
// naming one of its own dead daemons (a daemon that never removes it) is
// removed at teardown, so that the next run does not start against it.
func TestStalePidFileBeforeAndAfter(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "b.pid")
	// 4194305 is above the kernel's largest pid: it never runs.
	if err := os.WriteFile(pidfile, []byte("4194305\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := verify(t, nil, "--pidfile", pidfile, "--label-filter", "SU104 || SU105",
		"--", filepath.Join(bin, "brokendaemon"), "start", "-fault", "keep-pidfile", "-pidfile", pidfile)
	lines := summaryLines(out)
	if code != 1 || !strings.HasPrefix(lines["SU105"], "FAIL") {
		t.Fatalf("exit %d, SU105 %q\n%s", code, lines["SU105"], summaryOf(out))
	}
	if !strings.Contains(out, "note: "+pidfile+" already named pid 4194305, which does not run, before the run started anything") {
		t.Errorf("the stale pidfile found before the run is not named:\n%s", out)
	}
	if !strings.Contains(out, "removed "+pidfile+": it named pid ") {
		t.Errorf("no word of the pidfile removed at teardown:\n%s", out)
	}
	if _, err := os.Lstat(pidfile); !os.IsNotExist(err) {
		t.Errorf("the pidfile the run left is still there: %v", err)
	}
}
