//go:build linux

package suites_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/suites"

	"github.com/dcheck/dcheck/internal/cleanstart"
)

// go test ./suites -args -dcheck.start='CMD' -dcheck.pidfile=PATH ... runs
// the suite against any daemon; without -dcheck.start it verifies
// gooddaemon (the self-test). The other tests run dcheck verify on broken
// daemons and check that exactly the expected specs fail.
var cfg = suites.NewConfig()

func init() { cfg.BindFlags(flag.CommandLine, "dcheck.") }

var bin string // where dcheck and gooddaemon are built

// testProc is the reader the tests' own lookups use (what the run left
// running, a session's leader): proc's, as everywhere in the module.
var testProc = func() *proc.FS {
	f, err := proc.NewFS("")
	if err != nil {
		panic(err)
	}
	return f
}()

func TestMain(m *testing.M) {
	if log := os.Getenv("DCHECK_TEST_CANARY"); log != "" {
		runCanary(log)
	}
	cleanstart.Main() // whatever started the tests, the daemons they start inherit nothing of it
	flag.Parse()
	// Daemons started here are adopted and reaped by this binary.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// A child run of this binary that runs the suite in-process, with a
	// spec injected (TestAKillingSpecChangesNoOtherOutcome).
	if start := os.Getenv("DCHECK_TEST_INJECTED_RUN"); start != "" {
		os.Exit(injectedRun(start))
	}
	// A child run of this binary (TestNoColourIntoAFile) uses the
	// parent's binaries.
	if dir := os.Getenv("DCHECK_TEST_BIN"); dir != "" {
		bin = dir
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "dcheck-suites-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bin = dir
	for pkg, name := range map[string]string{"./../cmd/dcheck": "dcheck", "./../cmd/dcheck-verify": "dcheck-verify", "./../fixtures/good": "gooddaemon", "./../fixtures/broken": "brokendaemon"} {
		if out, err := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, name), pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, out)
			os.Exit(2)
		}
	}
	// The pthread_exit daemon, when there is a C compiler (tests that need
	// it skip, saying so, when there is none).
	if cc, err := exec.LookPath("cc"); err == nil {
		for _, name := range []string{"leaderexit", "daemon3"} {
			if out, err := exec.Command(cc, "-O2", "-Wall", "-pthread", "-o", filepath.Join(dir, name), "../fixtures/c/"+name+".c").CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "building %s.c: %v\n%s", name, err, out)
				os.Exit(2)
			}
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	c := cfg
	if len(c.Start) == 0 {
		dir := t.TempDir()
		c.PidFile = filepath.Join(dir, "good.pid")
		c.Start = []string{filepath.Join(bin, "gooddaemon"), "start", "-pidfile", c.PidFile, "-log", filepath.Join(dir, "good.log")}
		c.Reload = true
		c.Strict = true
		c.StartTimeout = slow(time.Minute) // a user's 10 s is too little for a loaded test machine
	}
	suites.Run(t, c)
}

// verify runs dcheck verify and returns its exit code, output, and the
// IDs of the specs that failed, from the JSON report. Beside every run
// stand two canaries, processes outside it that the harness must never
// signal: one in a session of its own, one in the harness's session (a
// sibling, as the user's shell is). Their pids are in the start command's
// environment as CANARY_PID and CANARY_SIBLING_PID, for daemons that name
// them in their pidfiles; the test fails if either received a signal.
func verify(t *testing.T, env []string, args ...string) (int, string, []string) {
	t.Helper()
	outsider, sibling := startCanary(t, true), startCanary(t, false)
	defer outsider.check(t)
	defer sibling.check(t)
	env = append(env, fmt.Sprintf("CANARY_PID=%d", outsider.pid()), fmt.Sprintf("CANARY_SIBLING_PID=%d", sibling.pid()))
	return verifyAlone(t, env, args...)
}

// verifyAlone is verify without the canaries, for tests that repeat one
// run many times to measure a verdict, not the harness's safety.
func verifyAlone(t *testing.T, env []string, args ...string) (int, string, []string) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "reports", "report.json")
	cmd := exec.Command(filepath.Join(bin, "dcheck"), append([]string{"verify", "--json-report", report}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^((?:SU|DC)\d{3})\s+\S+\s+(?:PASS|FAIL|WARN|INFO|SKIP|UNKNOWN|WAIVED)`).FindAllStringSubmatch(string(out), -1) {
		if seen[m[1]] {
			t.Errorf("%s has two outcomes in the summary:\n%s", m[1], summaryOf(string(out)))
		}
		seen[m[1]] = true
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		return code, string(out), nil
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		t.Fatalf("%s: %v", report, err)
	}
	var failed []string
	for _, r := range reports {
		for _, s := range r.SpecReports {
			if s.State.Is(types.SpecStateFailureStates) && len(s.Labels()) > 0 {
				failed = append(failed, s.Labels()[0])
			}
		}
	}
	slices.Sort(failed)
	return code, string(out), failed
}

// A shell daemon that does everything right but for removing its pidfile:
// it detaches twice, and sleep (the daemon) holds the flocked pidfile. The
// shell cannot undo the starter's ignored SIGHUP (POSIX forbids it): DC401.
const keepsPidfile = `cd / && umask 022 && exec 9>&- && exec 3<>"$0" && flock -n 3 && : >"$0" &&
setsid sh -c 'unset TERM SSH_TTY SSH_CONNECTION OLDPWD; sleep 1000 </dev/null >>"$0.log" 2>&1 & echo $! >&3' "$0"`

func TestBrokenVariantsFailExactlyTheirSpecs(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "keeps.pid")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"setsid -f sleep: a single fork that keeps everything", []string{"--", "setsid", "-f", "sleep", "1000"},
			[]string{"DC103", "DC201", "DC202", "DC203", "DC204", "DC205", "DC401", "SU101", "SU103"}},
		{"nohup sleep &: detached by the shell's exit alone", []string{"--", "sh", "-c", "nohup sleep 1000 >/dev/null 2>&1 &"},
			[]string{"DC201", "DC202", "DC205", "DC401", "SU103"}},
		// It creates its pidfile empty (": >") and fills it a moment later:
		// SU109 sees that when a look lands in the moment, not always.
		{"a daemon that never removes its pidfile", []string{"--pidfile", pidfile, "--label-filter", "!SU109", "--", "sh", "-c", keepsPidfile, pidfile},
			[]string{"DC401", "SU105"}},
		{"a start command that never returns", []string{"--start-timeout", "1s", "--", "sleep", "1000"},
			[]string{"SU101", "SU102"}},
		{"supervised: a daemon that forks away from its supervisor", []string{"--profile", "supervised", "--", "setsid", "-f", "sleep", "1000"},
			[]string{"SU111"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, failed := verify(t, nil, tt.args...)
			if code != 1 || !slices.Equal(failed, tt.want) {
				t.Errorf("exit %d, failed %v, want exit 1 and exactly %v\n%s", code, failed, tt.want, summaryOf(out))
			}
		})
	}
}

// startBudget is the start timeout of a test whose start must succeed: the
// default (10 s) is a user's budget, and a traced Go daemon's start took
// longer on a loaded test machine. Tests that expect the start timeout to
// run out (a pidfile that never names the daemon) keep the default, or
// set a short one.
func startBudget() []string { return []string{"--start-timeout", slow(time.Minute).String()} }

func summaryOf(out string) string {
	if i := strings.Index(out, "dcheck verify:"); i >= 0 {
		out = out[i:]
	}
	if i := strings.Index(out, "\nSummarizing"); i >= 0 {
		out = out[:i]
	}
	return out
}

func TestSupervisedGoodDaemonPasses(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "s.pid")
	code, out, failed := verify(t, nil, "--profile", "supervised", "--reload", "--strict", "--pidfile", pidfile, "--",
		filepath.Join(bin, "gooddaemon"), "run", "-pidfile", pidfile)
	if code != 0 || len(failed) > 0 || !strings.Contains(out, "SU112  notifies-readiness      PASS") {
		t.Errorf("exit %d, failed %v\n%s", code, failed, summaryOf(out))
	}
}

func TestLabelFilterAndJUnitReport(t *testing.T) {
	junit := filepath.Join(t.TempDir(), "deep", "dir", "junit.xml")
	pidfile := filepath.Join(t.TempDir(), "g.pid")
	code, out, _ := verify(t, nil, "--label-filter", "SU101 || DC103", "--junit-report", junit, "--pidfile", pidfile, "--",
		filepath.Join(bin, "gooddaemon"), "start", "-pidfile", pidfile)
	lines := summaryLines(out)
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines["SU101"], "PASS") || !strings.HasPrefix(lines["DC103"], "PASS") {
		t.Errorf("exit %d: want SU101 and DC103 alone, passed:\n%s", code, out)
	}
	data, err := os.ReadFile(junit)
	if err != nil || !strings.Contains(string(data), "DC103 not-session-leader") {
		t.Errorf("junit report: %v\n%.500s", err, data)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"no start command", nil, "no start command"},
		{"a start command that does not exist", []string{"--", "/nonexistent/daemon"}, "start command"},
		{"a negative timeout", []string{"--start-timeout", "-1s", "--", "true"}, "negative timeout"},
		{"an unknown profile", []string{"--profile", "upstart", "--", "true"}, `unknown profile "upstart"`},
		{"a pidfile in a missing directory", []string{"--pidfile", "/nonexistent/dir/x.pid", "--", "true"}, "pidfile directory"},
		{"a bad umask", []string{"--umask", "9", "--", "true"}, "octal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := verify(t, nil, tt.args...)
			if code != 2 || !strings.Contains(out, tt.says) {
				t.Errorf("exit %d, want 2 saying %q:\n%s", code, tt.says, out)
			}
		})
	}
}

// TestCleanup runs a start command that leaves a tree of processes and a
// daemon that ignores SIGTERM: afterwards none of them may be alive.
func TestCleanup(t *testing.T) {
	var id [8]byte
	rand.Read(id[:])
	mark := "DCHECK_TEST_TREE=" + hex.EncodeToString(id[:])
	tree := `(sleep 1000 & sleep 1000 & wait) </dev/null >/dev/null 2>&1 &
setsid sh -c 'trap "" TERM; while :; do sleep 1; done' </dev/null >/dev/null 2>&1 &
sleep 1000 </dev/null >/dev/null 2>&1 &`
	code, out, _ := verify(t, []string{mark}, "--stop-timeout", "1s", "--", "sh", "-c", tree)
	if code != 1 {
		t.Errorf("exit %d, want 1 (SU104 fails on the TERM-proof daemon):\n%s", code, summaryOf(out))
	}
	var left []string
	pids, _ := testProc.PIDs()
	for _, pid := range pids {
		if has, err := testProc.HasEnv(pid, mark, 1<<20); err == nil && has && pid != os.Getpid() {
			st, _ := testProc.Stat(pid)
			left = append(left, fmt.Sprintf("%d: %s, state %c, parent %d", pid, st.Comm, st.State, st.PPID))
		}
	}
	if len(left) > 0 {
		t.Errorf("left running after dcheck verify:\n%s", strings.Join(left, "\n"))
	}
}

// startGood starts gooddaemon and returns its pid, stopped at the test's end.
func startGood(t *testing.T) (int, string) {
	t.Helper()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "m.pid")
	out, err := exec.Command(filepath.Join(bin, "gooddaemon"), "start", "-pidfile", pidfile, "-log", filepath.Join(dir, "m.log")).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	data, _ := os.ReadFile(pidfile)
	pid, err := proc.ParsePidFile(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command(filepath.Join(bin, "gooddaemon"), "stop", "-pidfile", pidfile).Run()
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil) // when adopted by this subreaper
	})
	return pid, pidfile
}

// TestMatchersFindTheReaper: BeDaemon with no reaper given passes a good
// daemon whether or not the test process is a child subreaper (Register
// makes it one, for good, when its first spec runs: in one Ginkgo tree
// with BeDaemon, that depends on the random order).
func TestMatchersFindTheReaper(t *testing.T) {
	subreaper := func(on int) {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, uintptr(on), 0, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { subreaper(1) }) // as the harness leaves it
	for _, on := range []int{1, 0} {
		t.Run(fmt.Sprintf("subreaper=%d", on), func(t *testing.T) {
			subreaper(on)
			pid, pidfile := startGood(t)
			fsys, _ := proc.NewFS("")
			st, err := fsys.Stat(pid)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case on == 1 && st.PPID != os.Getpid():
				t.Fatalf("gooddaemon's parent is %d, not this subreaper %d", st.PPID, os.Getpid())
			case on == 0 && st.PPID != 1:
				t.Skipf("gooddaemon was adopted by pid %d, a subreaper above this test: only init's case is tested here", st.PPID)
			}
			NewWithT(t).Expect(pid).To(suites.BeDaemon(checks.Policy{PidFile: pidfile}))
			NewWithT(t).Expect(pid).To(suites.PassRule("DC101", checks.Policy{}))
		})
	}
}

func TestMatchers(t *testing.T) {
	g := NewWithT(t)
	pid, pidfile := startGood(t)
	pol := checks.Policy{PidFile: pidfile}
	g.Expect(pid).To(suites.BeDaemon(pol))
	g.Expect(pid).To(suites.PassRule("DC103", pol))
	g.Expect(pid).To(suites.PassRule("not-session-leader", pol))

	me := os.Getpid() // the test binary: no daemon
	m := suites.BeDaemon(checks.Policy{})
	ok, err := m.Match(me)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeFalse())
	msg := m.FailureMessage(me)
	g.Expect(msg).To(ContainSubstring("DC101 orphaned [error fail]"))
	g.Expect(msg).To(ContainSubstring("DC201 cwd-root [error fail]"))
	g.Expect(me).NotTo(suites.PassRule("DC201", checks.Policy{}))
	_, err = suites.PassRule("DC999", checks.Policy{}).Match(me)
	g.Expect(err).To(MatchError(ContainSubstring("no static rule")))
	_, err = suites.BeDaemon(checks.Policy{}).Match("not a pid")
	g.Expect(err).To(HaveOccurred())
}

// handsOver stays in the foreground, but the READY=1 it sends names a
// child as the main pid: the start of a daemon that forks away, seen before
// the started process's exit (which, on a loaded machine, can come later).
const handsOver = `import os, socket, time
child = os.fork()
if child == 0:
    time.sleep(100000)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(("READY=1\nMAINPID=%d" % child).encode(), os.environ["NOTIFY_SOCKET"])
time.sleep(100000)
`

// TestSupervisedHandOverFails: SU111 fails a daemon whose READY=1 names
// another process as the main pid, whether or not the started process has
// exited by then; nothing else is judged (a supervisor watches the process
// it started), as when that exit is seen first.
func TestSupervisedHandOverFails(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the daemon that hands over is a Python script")
	}
	code, out, _ := verify(t, nil, "--profile", "supervised", "--label-filter", "SU111 || SU112 || DC201", "--", python, "-c", handsOver)
	lines := summaryLines(out)
	want := `^FAIL  MAINPID=(\d+), not the started pid \d+: the daemon is pid (\d+), which the started process forked`
	m := regexp.MustCompile(want).FindStringSubmatch(lines["SU111"])
	if code != 1 || m == nil || m[1] != m[2] {
		t.Fatalf("exit %d, SU111 %q, want %s\n%s", code, lines["SU111"], want, summaryOf(out))
	}
	for _, id := range []string{"SU112", "DC201"} {
		if l := lines[id]; !strings.HasPrefix(l, "UNKNOWN") || !strings.Contains(l, "handed the service to pid "+m[1]) {
			t.Errorf("%s %q, want it unknown: the started process handed the service to pid %s", id, l, m[1])
		}
	}
}
