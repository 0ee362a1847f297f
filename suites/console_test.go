//go:build linux

package suites_test

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dcheck/dcheck/internal/hostile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// normalize makes a verify run's console output comparable between runs:
// numbers (pids, times, the seed, counts of descriptors), temporary paths.
func normalize(out, dir string) string {
	out = strings.ReplaceAll(out, dir, "DIR")
	if wd, err := os.Getwd(); err == nil {
		out = strings.ReplaceAll(out, wd, "CWD")
	}
	out = strings.ReplaceAll(out, bin, "BIN")
	out = regexp.MustCompile(`/tmp/dcheck-suite-[0-9]+`).ReplaceAllString(out, "RUN")
	out = regexp.MustCompile(`[0-9]+(\.[0-9]+)?(ms|µs|s\b)?`).ReplaceAllString(out, "N")
	out = regexp.MustCompile(`(?m)^=+$`).ReplaceAllString(out, "===")                                     // Ginkgo underlines the title, whose length varies
	out = regexp.MustCompile(`\bprocess(es)? of the run`).ReplaceAllString(out, "process(es) of the run") // N may be 1
	return out
}

// TestConsoleOutput holds dcheck verify's console output for a passing and
// a failing daemon as golden files: Ginkgo's progress, a failed spec's
// short block (never the /proc snapshot: that is in the reports), and
// dcheck's summary last.
func TestConsoleOutput(t *testing.T) {
	for _, tc := range []struct{ name, fault string }{{"verify-pass", ""}, {"verify-fail", "single-fork"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pidfile := filepath.Join(dir, "d.pid")
			start := []string{filepath.Join(bin, "gooddaemon"), "start", "-pidfile", pidfile}
			if tc.fault != "" {
				start = []string{filepath.Join(bin, "brokendaemon"), "start", "-fault", tc.fault, "-pidfile", pidfile}
			}
			cmd := exec.Command(filepath.Join(bin, "dcheck"), append([]string{"verify", "--pidfile", pidfile, "--start-timeout", slow(time.Minute).String(), "--"}, start...)...)
			raw, _ := cmd.CombinedOutput()
			out := normalize(string(raw), dir)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				os.MkdirAll("testdata", 0o755)
				os.WriteFile(path, []byte(out), 0o644)
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (make docs writes it)", err)
			}
			if out != string(want) {
				t.Errorf("console output differs from %s (make docs rewrites it):\n--- got\n%s--- want\n%s", path, out, want)
			}
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			if last := lines[len(lines)-1]; !regexp.MustCompile(`^\d+ passed, \d+ failed`).MatchString(last) {
				t.Errorf("the last line is not dcheck's count: %q", last)
			}
		})
	}
}

// TestConsoleSaysEachFailureOnce: without -v, a failure is printed once,
// in dcheck's summary with how to fix it; Ginkgo's blocks and its
// "Summarizing N Failures" (each failure twice more) come with -v only.
// On a terminal a progress line counts the specs and is cleared.
func TestConsoleSaysEachFailureOnce(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "d.pid")
	args := []string{"verify", "--pidfile", pidfile, "--start-timeout", slow(time.Minute).String(), "--label-filter", "static",
		"--", filepath.Join(bin, "brokendaemon"), "start", "-fault", "single-fork", "-pidfile", pidfile}
	quiet, _ := exec.Command(filepath.Join(bin, "dcheck"), args...).CombinedOutput()
	if n := strings.Count(string(quiet), "DC103"); n != 2 || strings.Contains(string(quiet), "Summarizing") || strings.Contains(string(quiet), "[FAILED]") {
		t.Errorf("DC103 named %d times (want 2: its line, its fix), or Ginkgo's blocks shown:\n%s", n, quiet)
	}
	if !strings.Contains(string(quiet), "how to fix:\n  DC103  ") {
		t.Errorf("no fix for DC103:\n%s", quiet)
	}
	verbose, _ := exec.Command(filepath.Join(bin, "dcheck"), append([]string{"verify", "-v"}, args[1:]...)...).CombinedOutput()
	if !strings.Contains(string(verbose), "Summarizing 1 Failure") || !regexp.MustCompile(`Ran \d+ of \d+ Specs`).Match(verbose) {
		t.Errorf("-v does not show Ginkgo's report:\n%s", verbose)
	}
	ptm, pts, err := hostile.OpenPTY()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptm.Close()
	cmd := exec.Command(filepath.Join(bin, "dcheck"), args...)
	cmd.Stdout, cmd.Stderr = pts, pts
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	var tty strings.Builder
	io.Copy(&tty, ptm) // until the last writer closes (EIO)
	cmd.Wait()
	got := tty.String()
	if !regexp.MustCompile(`\r\x1b\[Kdcheck verify: \d+/\d+ specs, DC\d{3} `).MatchString(got) || !strings.Contains(got, "\r\x1b[Kdcheck verify: ") {
		t.Errorf("no progress line on the terminal:\n%q", got)
	}
	if i, j := strings.LastIndex(got, "\r\x1b[K"), strings.Index(got, "DC101  orphaned"); i < 0 || j < i {
		t.Errorf("the progress line is not cleared before the summary:\n%q", got)
	}
}

// TestLongStartOutputIsBrief: a start command that prints 689 KB and fails
// is quoted by its first and last lines and its size, not whole in every
// line of the summary (1.58 MB in all, once).
func TestLongStartOutputIsBrief(t *testing.T) {
	report := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(filepath.Join(bin, "dcheck"), "verify", "--json-report", report, "--", "sh", "-c", "seq 1 100000; exit 1")
	out, _ := cmd.CombinedOutput()
	lines := summaryLines(string(out))
	if len(out) > 20<<10 || !strings.HasSuffix(lines["SU101"], "the start command exited 1: 1 … 100000 (688895 bytes, 100000 lines)") {
		t.Errorf("%d bytes; SU101 %q", len(out), lines["SU101"])
	}
	data, _ := os.ReadFile(report)
	if !strings.Contains(string(data), "start command output") {
		t.Error("the JSON report does not carry the start command's output")
	}
}
