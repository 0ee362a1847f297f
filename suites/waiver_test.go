//go:build linux

package suites_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWaiversInVerify: dcheck verify --config applies the entry matching
// the daemon, to lifecycle specs as well as static ones. A daemon that
// leaves its pidfile behind (SU105) passes with a waiver in force, the
// spec reported waived with the reason, never pass; with the waiver
// expired it fails, saying so.
func TestWaiversInVerify(t *testing.T) {
	broken := filepath.Join(bin, "brokendaemon")
	for _, tc := range []struct {
		name, expires string
		wantCode      int
		want105       string
	}{
		{"in force", "2999-12-31", 0, "WAIVED  /"},
		{"expired", "2020-01-31", 1, "FAIL  /"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pidfile := filepath.Join(dir, "b.pid")
			cfg := filepath.Join(dir, "dcheck.yaml")
			os.WriteFile(cfg, []byte(`daemons:
  - match: {exe: `+broken+`}
    waive:
      - {rule: SU105, reason: "the package's stop script removes it", expires: `+tc.expires+`}
      - {rule: DC201, reason: "not needed: it runs in /"}
`), 0o644)
			code, out, _ := verify(t, nil, "--config", cfg, "--pidfile", pidfile, "--label-filter", "SU101 || SU104 || SU105 || DC201",
				"--", broken, "start", "-fault", "keep-pidfile", "-pidfile", pidfile)
			lines := summaryLines(out)
			if code != tc.wantCode || !strings.HasPrefix(lines["SU105"], tc.want105) || !strings.HasPrefix(lines["DC201"], "PASS") {
				t.Fatalf("exit %d (want %d); SU105 %q, DC201 %q\n%s", code, tc.wantCode, lines["SU105"], lines["DC201"], summaryOf(out))
			}
			switch tc.name {
			case "in force":
				if !strings.Contains(lines["SU105"], "still there after a clean stop") || !strings.Contains(lines["SU105"], "(waived: the package's stop script removes it)") ||
					!strings.Contains(out, "1 waived") {
					t.Errorf("the waived spec does not keep its evidence and reason, or the count:\n%s", summaryOf(out))
				}
			case "expired":
				if !strings.Contains(lines["SU105"], "a waiver expired after 2020-01-31") {
					t.Errorf("the expired waiver is not named:\n%s", summaryOf(out))
				}
			}
		})
	}
}

// TestNoColourIntoAFile: suites.Run from go test -v, its output going to a
// pipe (as to a file), writes no escape sequences. The test binary runs
// its own TestConformance, one spec of it.
func TestNoColourIntoAFile(t *testing.T) {
	if os.Getenv("DCHECK_TEST_CHILD") != "" {
		t.Skip("inside the child run")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConformance$", "-test.v", "-ginkgo.label-filter=DC103")
	cmd.Env = append(os.Environ(), "DCHECK_TEST_CHILD=1", "DCHECK_TEST_BIN="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DC103") {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(string(out), "\x1b[") {
		t.Errorf("escape sequences in output that goes to a pipe:\n%q", out)
	}
}
