//go:build linux

package suites_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcheck/dcheck/checks"
)

// Tests of the issue "Evidence": no spec passes without having looked.

// summaryLines returns the summary's result lines: ID -> "OUTCOME  message".
func summaryLines(out string) map[string]string {
	lines := map[string]string{}
	re := regexp.MustCompile(`(?m)^((?:SU|DC)\d{3})\s+\S+\s+(PASS|FAIL|WARN|INFO|SKIP|UNKNOWN|WAIVED)\s*(.*)$`)
	also := regexp.MustCompile(` \(also ((?:(?:SU|DC)\d{3}(?:, )?)+): \d+ specs in all\)$`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		lines[m[1]] = m[2] + "  " + m[3]
		// Specs unknown for one reason share their first one's line.
		if a := also.FindStringSubmatch(m[3]); a != nil {
			for _, id := range strings.Split(a[1], ", ") {
				lines[id] = m[2] + "  " + strings.TrimSuffix(m[3], a[0])
			}
			lines[m[1]] = m[2] + "  " + strings.TrimSuffix(m[3], a[0])
		}
	}
	return lines
}

// TestEverySpecAloneJudgesWithEvidence: a label filter that selects one
// spec once left the harness empty (the launch lived inside SU101) and
// passed SU102 with an empty message. Each spec of the sysv profile, alone,
// must run the setup and pass gooddaemon with a message naming what it saw.
func TestEverySpecAloneJudgesWithEvidence(t *testing.T) {
	for _, r := range checks.Rules() {
		if r.SysV == checks.Off || r.Mode != "" || r.ID == "SU111" || r.ID == "SU112" {
			continue // the supervised profile's, the init script's (lsb_test.go) and the unit's (unit_test.go)
		}
		if r.ID == "DC601" {
			continue // judged where systemd runs the daemon: supervisor/systemdhost_test.go
		}
		t.Run(r.ID, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pidfile := filepath.Join(dir, "g.pid")
			// Twenty-odd traced starts at once: gooddaemon's own wait for
			// its daemon gets the test's budget too.
			start := []string{filepath.Join(bin, "gooddaemon"), "start", "-pidfile", pidfile, "-log", filepath.Join(dir, "g.log"), "-start-timeout", slow(time.Minute).String()}
			if r.ID == "DC502" { // as root there is no privilege to regain: drop to nobody
				os.Chmod(dir, 0o755)
				start = append(start, "-user", "nobody")
			}
			args := append(append(startBudget(), "--label-filter", r.ID, "--reload", "--strict", "--pidfile", pidfile, "--"), start...)
			code, out, failed := verify(t, nil, args...)
			lines := summaryLines(out)
			line, ok := lines[r.ID]
			if code != 0 || len(failed) > 0 || len(lines) != 1 || !ok || !strings.HasPrefix(line, "PASS  ") {
				t.Fatalf("exit %d, failed %v, summary %v; want exit 0 and exactly %s PASS\n%s", code, failed, lines, r.ID, summaryOf(out))
			}
			if evidence := strings.TrimPrefix(line, "PASS  "); !regexp.MustCompile(`\d|/`).MatchString(evidence) {
				t.Errorf("%s passed saying %q: no pid, path or value seen", r.ID, evidence)
			}
		})
	}
}

// TestModeSpecsAloneJudgeWithEvidence: each spec that only an init script,
// a unit or a socket unit asks for, alone, sets the run up, drives the script or the
// unit and passes the good fixture naming what it saw.
func TestModeSpecsAloneJudgeWithEvidence(t *testing.T) {
	for _, r := range checks.Rules() {
		if r.Mode == "" {
			continue
		}
		t.Run(r.ID, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			os.Chmod(dir, 0o755)
			args := append(startBudget(), "--label-filter", r.ID, "--strict")
			evidence := regexp.MustCompile(`pid \d+`)
			switch r.Mode {
			case checks.ModeInitScript:
				script, pidfile := goodInitScript(t, dir)
				args = append(args, "--init-script", script, "--pidfile", pidfile)
				evidence = regexp.MustCompile(`exited \d`)
			case checks.ModeUnit:
				unit, _ := goodUnit(t, dir, "gooddaemon.service")
				args = append(args, "--unit", unit)
			case checks.ModeSocket:
				// The fixture's socket unit: a file system socket, so that
				// SU118 has a file to find after the stop.
				unit, _ := goodUnit(t, dir, "gooddaemon.service")
				socket, _ := goodUnit(t, dir, "gooddaemon.socket")
				args = append(args, "--unit", unit, "--socket", socket)
			default:
				t.Fatalf("no fixture for mode %s", r.Mode)
			}
			code, out, failed := verify(t, nil, args...)
			lines := summaryLines(out)
			line, ok := lines[r.ID]
			if code != 0 || len(failed) > 0 || len(lines) != 1 || !ok || !strings.HasPrefix(line, "PASS  ") {
				t.Fatalf("exit %d, failed %v, summary %v; want exit 0 and exactly %s PASS\n%s", code, failed, lines, r.ID, summaryOf(out))
			}
			if !evidence.MatchString(line) {
				t.Errorf("%s passed saying %q: no %s seen", r.ID, line, evidence)
			}
		})
	}
}

// TestNothingJudgedIsNotGreen: a filter that selects nothing, or only
// specs that cannot judge, is not a pass: exit 3. A malformed filter is a
// usage error, one plain line.
func TestNothingJudgedIsNotGreen(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "g.pid")
	good := []string{"--pidfile", pidfile, "--", filepath.Join(bin, "gooddaemon"), "start", "-pidfile", pidfile}
	code, out, _ := verify(t, nil, append([]string{"--label-filter", "NOPE"}, good...)...)
	if code != 3 || !strings.Contains(out, "nothing was judged") {
		t.Errorf("--label-filter NOPE: exit %d, want 3 saying nothing was judged\n%s", code, out)
	}
	// SU107 without --reload is skipped: the only selected spec.
	code, out, _ = verify(t, nil, append([]string{"--label-filter", "SU107"}, good...)...)
	if code != 3 || !strings.Contains(out, "nothing was judged") {
		t.Errorf("--label-filter SU107 without --reload: exit %d, want 3\n%s", code, out)
	}
	code, out, _ = verify(t, nil, append([]string{"--label-filter", "(("}, good...)...)
	if code != 2 || !strings.Contains(out, "label filter") || strings.Contains(out, "{{") || strings.Contains(out, "\x1b[") {
		t.Errorf("a malformed filter: exit %d, want 2 with a plain message\n%s", code, out)
	}
}

// A daemon that writes its pidfile and dies with its starter: at the
// instant the start command exits the pidfile names a live process, but
// nothing runs once the run settles. It stays in the starter's session
// with SIGHUP at its default, so the kernel hangs it up as the starter,
// the session's leader, exits: the signal is pending before the exit is
// seen, and a process woken to die is never "at rest" (settle waits for
// state S), however long a busy machine takes to run it. (Polling for the
// starter, as this daemon once did, left it at rest in its sleep on a
// loaded machine, and the run judged it alive.)
const leavesAtOnce = `env --default-signal=HUP sh -c 'echo $$ >"$0"; while kill -0 $1 2>/dev/null; do sleep 0.01; done' "$0" $$ </dev/null >/dev/null 2>&1 &
while [ ! -s "$0" ]; do sleep 0.01; done`

// A daemon that runs but never writes its pidfile.
const neverWritesPidfile = `cd / && setsid sh -c 'exec sleep 1000' </dev/null >/dev/null 2>&1 &`

func TestLifecycleSpecsPassOnlyOnEvidence(t *testing.T) {
	t.Run("a daemon gone by the time the run settles was not ready, and its restart proves nothing", func(t *testing.T) {
		pidfile := filepath.Join(t.TempDir(), "gone.pid")
		_, out, _ := verify(t, nil, "--pidfile", pidfile, "--", "sh", "-c", leavesAtOnce, pidfile)
		lines := summaryLines(out)
		for id, want := range map[string]string{"SU102": "FAIL", "SU105": "UNKNOWN", "SU106": "UNKNOWN", "SU104": "UNKNOWN"} {
			if !strings.HasPrefix(lines[id], want) {
				t.Errorf("%s = %q, want %s\n%s", id, lines[id], want, summaryOf(out))
			}
		}
	})
	t.Run("a pidfile that never existed was not removed", func(t *testing.T) {
		pidfile := filepath.Join(t.TempDir(), "never.pid")
		_, out, failed := verify(t, nil, "--pidfile", pidfile, "--", "sh", "-c", neverWritesPidfile)
		lines := summaryLines(out)
		if !strings.HasPrefix(lines["SU105"], "UNKNOWN") || !strings.HasPrefix(lines["SU102"], "FAIL") {
			t.Errorf("SU105 = %q, SU102 = %q; want UNKNOWN (nothing to remove) and FAIL; failed %v\n%s", lines["SU105"], lines["SU102"], failed, summaryOf(out))
		}
	})
}

// TestAWarningIsOneOutcome: a spec that warns passes (without --strict),
// and once said so twice: WARN, then PASS for the same spec. daemon3's
// second start exits 0 although it refused (SU103 warns); verify() fails
// the test on any spec with two summary lines.
func TestAWarningIsOneOutcome(t *testing.T) {
	d3 := filepath.Join(bin, "daemon3")
	if _, err := os.Stat(d3); err != nil {
		t.Skip("no C compiler (cc): fixtures/c/daemon3.c was not built")
	}
	pidfile := filepath.Join(t.TempDir(), "d3.pid")
	_, out, _ := verify(t, nil, "--label-filter", "SU103", "--pidfile", pidfile, "--", d3, pidfile)
	if line := summaryLines(out)["SU103"]; !strings.HasPrefix(line, "WARN") {
		t.Errorf("SU103 = %q, want WARN\n%s", line, summaryOf(out))
	}
}

// TestSU102IsDecidedByEvidence: whether the pidfile exists when the start
// command exits is decided by what the start command waits for, not by
// scheduling. gooddaemon waits for its daemon's readiness and passes every
// time; the classic Python recipe and glibc's daemon(3) exit without
// waiting and fail every time, on an idle machine or a busy one, however
// fast the child would have been.
func TestSU102IsDecidedByEvidence(t *testing.T) {
	runs := 50
	if testing.Short() {
		runs = 10
	}
	python := ""
	if out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output(); err == nil {
		python = strings.TrimSpace(string(out)) // the interpreter itself, not a shim script
	}
	type fixture struct {
		name, want, needs string
		start             func(pidfile string) []string
	}
	fixtures := []fixture{
		{"gooddaemon", "PASS", "", func(p string) []string {
			return []string{filepath.Join(bin, "gooddaemon"), "start", "-pidfile", p, "-log", p + ".log", "-start-timeout", slow(time.Minute).String()}
		}},
		{"python recipe", "FAIL", python, func(p string) []string {
			recipe, _ := filepath.Abs("../fixtures/python/doublefork.py")
			return []string{python, recipe, p}
		}},
		{"daemon(3)", "FAIL", filepath.Join(bin, "daemon3"), func(p string) []string {
			return []string{filepath.Join(bin, "daemon3"), p}
		}},
	}
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			if f.needs != "" {
				if _, err := os.Stat(f.needs); err != nil {
					t.Skipf("%s is not available (python3 or cc missing): %v", f.needs, err)
				}
			}
			got := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			sem := make(chan struct{}, 1) // one at a time: three fixtures run beside each other already
			for i := range runs {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					pidfile := filepath.Join(t.TempDir(), fmt.Sprintf("r%d.pid", i))
					args := append(append(startBudget(), "--label-filter", "SU102", "--pidfile", pidfile, "--"), f.start(pidfile)...)
					_, out, _ := verifyAlone(t, nil, args...)
					status, _, _ := strings.Cut(summaryLines(out)["SU102"], "  ")
					mu.Lock()
					got[status]++
					if status != f.want && got[status] == 1 {
						t.Errorf("run %d: SU102 %s, want %s:\n%s", i, status, f.want, summaryOf(out))
					}
					mu.Unlock()
				}()
			}
			wg.Wait()
			if got[f.want] != runs {
				t.Errorf("SU102 over %d runs: %v; want %s every time", runs, got, f.want)
			}
		})
	}
}

// TestStopSpecsJudgeAFreshDaemonWhenAnEarlierSpecDestroyedTheFirst: three
// real daemons' second start unlinked the running daemon's pidfile (SU103
// rightly fails), and SU105 then said unknown ("no pidfile before the
// stop"), although each removes its pidfile when started fresh; a daemon
// that dies on SIGHUP (SU107 rightly fails) left SU104, SU105 and SU108
// unknown. The specs after the damage now judge a fresh daemon of their
// own, and say so and why.
func TestStopSpecsJudgeAFreshDaemonWhenAnEarlierSpecDestroyedTheFirst(t *testing.T) {
	for _, c := range []struct {
		name, mode, fault, breaks, why string
	}{
		{"unlink-running-pidfile", "start", "unlink-running-pidfile", "SU103", "which the start wrote, was gone while pid "},
		{"die-on-reload", "start", "die-on-reload", "SU107", " died on SIGHUP (exit status 2)"},
		{"die-on-reload, supervised", "run", "die-on-reload", "SU107", " died on SIGHUP (exit status 2)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pidfile := filepath.Join(dir, "u.pid")
			args := append(startBudget(), "--pidfile", pidfile, "--reload", "--label-filter", "SU103 || SU107 || SU104 || SU105 || SU108")
			if c.mode == "run" {
				args = append(args, "--profile", "supervised")
			}
			_, out, _ := verify(t, nil, append(args, "--",
				filepath.Join(bin, "brokendaemon"), c.mode, "-fault", c.fault, "-pidfile", pidfile, "-log", filepath.Join(dir, "u.log"))...)
			lines := summaryLines(out)
			if !strings.HasPrefix(lines[c.breaks], "FAIL") {
				t.Errorf("%s %q, want failed\n%s", c.breaks, lines[c.breaks], summaryOf(out))
			}
			var fresh string
			for _, id := range []string{"SU104", "SU105", "SU108"} {
				l := lines[id]
				_, note, ok := strings.Cut(l, " (judged on a fresh daemon, pid ")
				if !strings.HasPrefix(l, "PASS") || !ok || !strings.Contains(note, c.why) {
					t.Errorf("%s %q; want passed on a fresh daemon, saying that%s\n%s", id, l, c.why, summaryOf(out))
				}
				if fresh == "" {
					fresh = note
				} else if note != fresh {
					t.Errorf("%s judged %q, SU104 %q: want one fresh daemon for all", id, note, fresh)
				}
			}
		})
	}
}
