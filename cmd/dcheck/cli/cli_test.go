package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/proctree"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// run runs the command line in-process and returns its exit code and output.
func run(args ...string) (ExitCode, string, string) {
	var out, errb bytes.Buffer
	code := Main(args, IO{Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// tree builds the recorded process trees named into one fake /proc.
func tree(t *testing.T, names ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("../../../checks/testdata/proc", n+".txtar"))
		if err != nil {
			t.Fatal(err)
		}
		if err := proctree.Parse(data).Write(root); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestParseArgsTakesFlagsAnywhere(t *testing.T) {
	var o checkOptions
	fs := NewFlags("x", IO{Out: io.Discard, Err: io.Discard}, Help{})
	bindCheckFlags(fs.FlagSet, &o)
	pos, err := ParseArgs(fs, []string{"-o", "json", "4242", "--strict", "--inherited", "/a", "--inherited=/b", "--", "-5"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"4242", "-5"}; fmt.Sprint(pos) != fmt.Sprint(want) {
		t.Errorf("positional %q, want %q", pos, want)
	}
	if o.output != "json" || !o.strict || fmt.Sprint(o.inherited) != "[/a /b]" {
		t.Errorf("options %+v", o)
	}
}

func TestPolicyFromFlags(t *testing.T) {
	sentinel := filepath.Join(t.TempDir(), "sentinel")
	os.WriteFile(sentinel, nil, 0o644)
	o := checkOptions{output: "text", profile: "supervised", reaper: 77, umask: "027", cwds: stringList{"/srv"},
		inherited: stringList{sentinel}, pidFile: "/run/x.pid", strict: true}
	pol, err := o.policy(checkFormats)
	if err != nil {
		t.Fatal(err)
	}
	if pol.Profile != checks.ProfileSupervised || pol.Reaper != 77 || *pol.Umask != 0o027 || pol.Cwds[0] != "/srv" ||
		pol.Inherited[0].Path != sentinel || pol.Inherited[0].Ino == 0 || pol.PidFile != "/run/x.pid" || !pol.Strict {
		t.Errorf("policy %+v", pol)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"no pid and no pidfile", nil, "no PID given"},
		{"a pid that is not a number", []string{"abc"}, `invalid pid "abc"`},
		{"pid zero", []string{"0"}, `invalid pid "0"`},
		{"a negative pid", []string{"--", "-5"}, `invalid pid "-5"`},
		{"a signed pid", []string{"+1"}, `invalid pid "+1": not a decimal pid`},
		{"a pid with a leading zero", []string{"01"}, `invalid pid "01": not a decimal pid`},
		{"two pids", []string{"1", "2"}, "one PID at a time"},
		{"an unknown flag", []string{"--frobnicate", "1"}, "-frobnicate"},
		{"an unknown profile", []string{"--profile", "systemd", "1"}, `--profile: unknown profile "systemd"`},
		{"an unknown output format", []string{"-o", "yaml", "1"}, `-o: unknown format "yaml"`},
		{"a umask that is not octal", []string{"--umask", "0999", "1"}, `--umask "0999"`},
		{"a umask out of range", []string{"--umask", "01777", "1"}, `--umask "01777"`},
		{"an inherited file that does not exist", []string{"--inherited", "/nonexistent/x", "1"}, "--inherited: stat /nonexistent/x"},
		{"a negative reaper", []string{"--reaper", "-3", "1"}, "--reaper -3"},
		{"a proc mount that is not a directory", []string{"--proc", "/dev/null", "1"}, "--proc: /dev/null: not a directory"},
		{"explain with no ID", []string{"explain"}, "explain which rule?"},
		{"explain an unknown ID", []string{"explain", "DC999"}, `unknown rule "DC999"`},
		{"rules with an argument", []string{"rules", "DC103"}, "dcheck explain DC103"},
		{"scan with an argument", []string{"scan", "1"}, "scan takes no arguments"},
		{"a textfile directory that does not exist", []string{"scan", "--textfile", "/nonexistent/textfile"}, "--textfile /nonexistent/textfile: no such directory"},
		{"a textfile directory that is a file", []string{"scan", "--textfile", "/dev/null"}, "--textfile /dev/null: not a directory"},
		{"verify with no start command", []string{"verify", "--pidfile", "/tmp/x.pid"}, "verify: no start command"},
		{"verify with a bad timeout", []string{"verify", "--stop-timeout", "soon", "--", "true"}, "-stop-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(tt.args...)
			if code != ExitUsage || !strings.Contains(errs, tt.says) || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 2 saying %q", code, errs, out, tt.says)
			}
		})
	}
}

func TestCouldNotInspect(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"empty.pid": "", "garbage.pid": "hello\n", "negative.pid": "-4\n",
		"huge.pid": strings.Repeat("9", 1<<20), "dead.pid": "4194305\n"}
	for name, data := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "dir.pid"), 0o755)
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"a pid that does not exist", []string{"4194305"}, "pid 4194305: no such process"},
		{"a missing pidfile", []string{"--pidfile", filepath.Join(dir, "missing.pid")}, "dcheck: " + filepath.Join(dir, "missing.pid") + ": no such file\n"},
		{"an empty pidfile", []string{"--pidfile", filepath.Join(dir, "empty.pid")}, "empty.pid: bad pidfile: empty"},
		{"a garbage pidfile", []string{"--pidfile", filepath.Join(dir, "garbage.pid")}, `garbage.pid: bad pidfile: "hello"`},
		{"a negative pid in the pidfile", []string{"--pidfile", filepath.Join(dir, "negative.pid")}, "negative.pid: bad pidfile: -4 is not a valid pid"},
		{"a huge pidfile", []string{"--pidfile", filepath.Join(dir, "huge.pid")}, "huge.pid: bad pidfile: larger than 4096 bytes"},
		{"a directory as pidfile", []string{"--pidfile", filepath.Join(dir, "dir.pid")}, "dir.pid: not a regular file (a directory)"},
		{"a pidfile naming a dead pid", []string{"--pidfile", filepath.Join(dir, "dead.pid")}, "dead.pid names pid 4194305, which is not running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshotDir(t, dir)
			code, out, errs := run(tt.args...)
			if code != ExitUninspectable || !strings.Contains(errs, tt.says) || strings.Count(errs, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 3 and one line saying %q", code, errs, out, tt.says)
			}
			if after := snapshotDir(t, dir); after != before {
				t.Errorf("the directory changed:\n%s\n%s", before, after)
			}
		})
	}
}

// snapshotDir describes every file in dir: name, mode, size, mtime, content.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s %v %d %v %x\n", e.Name(), info.Mode(), info.Size(), info.ModTime().UnixNano(), data[:min(len(data), 64)])
	}
	return b.String()
}

// TestGoldenOutput pins the text and JSON reports of recorded processes.
// go test ./cmd/dcheck/cli -update rewrites the golden files.
func TestGoldenOutput(t *testing.T) {
	for _, c := range []struct{ fixture, pid string }{{"double-fork", "3463"}, {"on-terminal", "3756"}, {"zombie", "3527"}} {
		for _, format := range []string{"text", "json"} {
			t.Run(c.fixture+"/"+format, func(t *testing.T) {
				root := tree(t, c.fixture)
				args := []string{"--proc", root, "-o", format, c.pid}
				if c.fixture == "double-fork" {
					args = append(args, "--pidfile", filepath.Join(root, "rec.pid"))
				}
				code, out, errs := run(args...)
				if errs != "" {
					t.Fatalf("stderr: %s", errs)
				}
				out = strings.ReplaceAll(out, root, "$TREE")
				golden := filepath.Join("testdata", c.fixture+"."+format)
				if *update {
					os.WriteFile(golden, []byte(out), 0o644)
				}
				want, _ := os.ReadFile(golden)
				if out != string(want) {
					t.Errorf("output differs from %s (make docs rewrites it):\n%s", golden, out)
				}
				wantCode := map[string]ExitCode{"double-fork": ExitPass, "on-terminal": ExitFail, "zombie": ExitFail}[c.fixture]
				if code != wantCode {
					t.Errorf("exit %d, want %d", code, wantCode)
				}
			})
		}
	}
}

func TestJSONSchema(t *testing.T) {
	root := tree(t, "double-fork")
	_, out, _ := run("--proc", root, "-o", "json", "3463")
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "pid", "profile", "verdict", "process", "findings"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q key", k)
		}
	}
	var r checks.Report
	json.Unmarshal([]byte(out), &r)
	if r.Schema != "dcheck/v2" || r.PID != 3463 || r.Profile != "sysv" {
		t.Errorf("schema %q pid %d profile %q", r.Schema, r.PID, r.Profile)
	}
	var rules []*checks.Rule
	for _, rule := range checks.Rules() {
		if rule.Kind == checks.Static {
			rules = append(rules, rule)
		}
	}
	if len(r.Findings) != len(rules) {
		t.Fatalf("%d findings for %d rules", len(r.Findings), len(rules))
	}
	for i, f := range r.Findings {
		if f.ID != rules[i].ID {
			t.Errorf("finding %d is %s, want %s: every rule once, in catalogue order", i, f.ID, rules[i].ID)
		}
	}
	if r.Process.Umask == nil || *r.Process.Umask != "0022" || r.Process.TPGID != -1 || r.Process.FDs[0].Target != "/dev/null" {
		t.Errorf("process %+v", r.Process)
	}
}

func TestNastyNamesStayOnOneLine(t *testing.T) {
	root := tree(t, "nasty-name")
	code, out, _ := run("--proc", root, "--pidfile", filepath.Join(root, "rec.pid"))
	if code != ExitPass || !strings.HasPrefix(out, `pid 3463 (a) b (c\nd), judged as a sysv daemon: PASS`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	_, out, _ = run("scan", "--proc", root)
	if !strings.Contains(out, `3463  "a) b (c\nd"  init        sysv     pass`) {
		t.Errorf("scan:\n%s", out)
	}
}

func TestRulesAndExplain(t *testing.T) {
	code, out, _ := run("rules")
	if code != ExitPass {
		t.Fatalf("exit %d", code)
	}
	for _, r := range checks.Rules() {
		if !strings.Contains(out, r.ID+"  ") || !strings.Contains(out, r.Name) {
			t.Errorf("rules does not list %s %s", r.ID, r.Name)
		}
	}
	code, out, _ = run("explain", "dc103", "orphaned")
	r, _ := checks.Lookup("DC103")
	if code != ExitPass || !strings.Contains(out, r.Doc) || !strings.Contains(out, "DC101 orphaned") {
		t.Errorf("explain: exit %d\n%s", code, out)
	}
	code, out, _ = run("help")
	if code != ExitPass || !strings.Contains(out, "dcheck scan") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

func TestScanRecordedHost(t *testing.T) {
	// double-fork is an orphan; on-terminal and zombie have live parents;
	// kthreadd is a kernel thread.
	root := tree(t, "double-fork", "on-terminal", "zombie", "kthread")
	code, out, errs := run("scan", "--proc", root)
	if errs != "" {
		t.Errorf("stderr: %s", errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "3463  sleep  init        sysv     pass") || code != ExitPass {
		t.Errorf("exit %d:\n%s", code, out)
	}
	// Its ignored SIGINT and SIGQUIT (a shell's &) are a note, not a
	// warning, without the starter's facts: --strict does not fail it.
	code, out, _ = run("scan", "--proc", root, "--strict", "-o", "json")
	var r checks.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.PID != 3463 || r.Verdict != checks.VerdictPass || code != ExitPass {
		t.Errorf("json scan with --strict: exit %d, %v\n%s", code, err, out)
	}
}

// TestScanLiveHostWhileProcessesComeAndGo starts and reaps processes
// while scanning the real /proc: vanished processes are dropped silently.
func TestScanLiveHostWhileProcessesComeAndGo(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			cmd := exec.Command("sh", "-c", "true & true & wait")
			if cmd.Start() == nil {
				cmd.Wait()
			}
		}
	}()
	for i := 0; i < 5; i++ {
		code, out, errs := run("scan", "-o", "json")
		if errs != "" || (code != ExitPass && code != ExitFail && code != ExitUninspectable) {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r checks.Report
			if line != "" && json.Unmarshal([]byte(line), &r) != nil {
				t.Errorf("not a JSON report: %q", line)
			}
		}
		// The metrics parse, and every daemon with a verdict has its rules.
		code, out, errs = run("scan", "-o", "prometheus")
		parser := expfmt.NewTextParser(model.LegacyValidation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(out))
		if errs != "" || err != nil || (code != ExitPass && code != ExitFail && code != ExitUninspectable) {
			t.Fatalf("prometheus: exit %d, stderr %q, %v\n%s", code, errs, err, out)
		}
		judged := map[string]bool{}
		for _, m := range families["dcheck_rule_failed"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "daemon" {
					judged[l.GetValue()] = true
				}
			}
		}
		for _, m := range families["dcheck_daemon_verdict"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "daemon" && !judged[l.GetValue()] {
					t.Errorf("a verdict for %s, which has no rule series", l.GetValue())
				}
			}
		}
	}
	close(stop)
	<-done
}

func TestExitCodesFollowTheVerdict(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	// The test binary is no daemon: its parent is go test, its cwd the package.
	code, out, _ := run(pid)
	if code != ExitFail || !strings.Contains(out, "FAIL") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	root := tree(t, "zombie")
	if code, _, _ := run("--proc", root, "--profile", "supervised", "3527"); code != ExitUninspectable {
		// Supervised: DC101 is off, DC102 only a warning; the cwd and fds
		// of a zombie cannot be seen, so the verdict is unknown.
		t.Errorf("zombie, supervised: exit %d, want 3", code)
	}
}

func TestColourOnlyWhenAsked(t *testing.T) {
	root := tree(t, "on-terminal")
	var plain, colour bytes.Buffer
	Main([]string{"--proc", root, "3756"}, IO{Out: &plain, Err: &plain})
	Main([]string{"--proc", root, "3756"}, IO{Out: &colour, Err: &colour, Color: true})
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("escape sequences without a terminal")
	}
	if !strings.Contains(colour.String(), "\x1b[31mDC104") {
		t.Errorf("no red DC104 on a terminal:\n%q", colour.String())
	}
	colour.Reset()
	Main([]string{"--proc", root, "-o", "json", "3756"}, IO{Out: &colour, Err: &colour, Color: true})
	if strings.Contains(colour.String(), "\x1b[") {
		t.Error("escape sequences in JSON")
	}
}

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (make docs writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// writeConfig writes a --config file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dcheck.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNagiosOutput holds one golden file per plugin status, for one process
// and for a scan; the exit code is the plugin API's in this mode only.
func TestNagiosOutput(t *testing.T) {
	root := tree(t, "double-fork", "on-terminal", "zombie", "kthread")
	empty := tree(t, "kthread")
	waiveAll := writeConfig(t, `daemons:
  - match: {comm: sleep}
    waive:
      - {rule: DC102, reason: "a test: started from a shell"}
      - {rule: DC103, reason: "a test"}
      - {rule: DC104, reason: "a test"}
      - {rule: DC201, reason: "a test"}
      - {rule: DC203, reason: "a test"}
      - {rule: DC204, reason: "a test"}
      - {rule: DC101, reason: "a test"}
      - {rule: DC205, reason: "a test: the recording shell left fds 10 and 251 open"}
`)
	umask0077 := writeConfig(t, "daemons:\n  - match: {comm: sleep}\n    umask: \"0077\"\n")
	for _, tc := range []struct {
		name string
		args []string
		want ExitCode
	}{
		{"ok", []string{"--proc", root, "--pidfile", filepath.Join(root, "rec.pid")}, 0},
		{"warning", []string{"--proc", root, "--umask", "0077", "3463"}, 1},
		{"critical", []string{"--proc", root, "3756"}, 2},
		{"unknown", []string{"--proc", root, "--profile", "supervised", "3527"}, 3},
		{"unknown-no-process", []string{"--proc", root, "4"}, 3},
		{"unknown-usage", []string{"--proc", root, "--bogus", "3756"}, 3},
		{"unknown-bad-config", []string{"--proc", root, "--config", "/nonexistent.yaml", "3756"}, 3},
		{"ok-waived", []string{"--proc", root, "--config", waiveAll, "3756"}, 0},
		{"scan-ok", []string{"scan", "--proc", root}, 0},
		{"scan-warning", []string{"scan", "--proc", root, "--config", umask0077}, 1},
		{"scan-critical", []string{"scan", "--proc", root, "--config", umask0077, "--strict"}, 2},
		{"scan-unknown-nothing", []string{"scan", "--proc", empty}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(append(tc.args, "-o", "nagios")...)
			if code != tc.want {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.want, out, errs)
			}
			if first, _, _ := strings.Cut(out, "\n"); !strings.HasPrefix(first, "DCHECK "+fleetStatus(tc.want)+" - ") {
				t.Errorf("first line %q does not start with the status", first)
			}
			golden(t, "nagios/"+tc.name+".txt", strings.ReplaceAll(out, root, "ROOT"))
		})
	}
}

func fleetStatus(c ExitCode) string {
	return [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[c]
}

// TestWaiversThroughTheCommandLine judges a process on a terminal (it
// fails six error rules) with waivers in force (with and without an
// expiry date), expired and unused, in text and JSON, and a config that
// matches nothing.
func TestWaiversThroughTheCommandLine(t *testing.T) {
	root := tree(t, "on-terminal")
	cfg := writeConfig(t, `daemons:
  - match: {exe: /usr/bin/sleep, comm: sleep}
    name: recorded-sleep
    waive:
      - {rule: DC201, reason: "runs in its work directory on purpose"}
      - {rule: DC103, reason: "in force until a day far off", expires: 2999-12-31}
      - {rule: DC104, reason: "this one has expired", expires: 2020-01-31}
      - {rule: DC202, reason: "not needed: it passes"}
`)
	code, out, _ := run("--proc", root, "--config", cfg, "3756")
	if code != ExitFail {
		t.Errorf("exit %d: the expired waiver and the unwaived failures still fail", code)
	}
	golden(t, "waivers.text", strings.ReplaceAll(out, root, "ROOT"))
	_, out, _ = run("--proc", root, "--config", cfg, "-o", "json", "3756")
	var r checks.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DC201": "waived", "DC103": "waived", "DC104": "fail", "DC202": "pass"}
	for _, f := range r.Findings {
		if st, ok := want[f.ID]; ok {
			if string(f.Status) != st || f.Waiver == nil {
				t.Errorf("%s: status %s, waiver %+v; want %s", f.ID, f.Status, f.Waiver, st)
			}
			delete(want, f.ID)
		}
	}
	if len(want) > 0 || r.Name != "recorded-sleep" {
		t.Errorf("missing findings %v, name %q", want, r.Name)
	}
	// An entry that matches nothing changes nothing.
	other := writeConfig(t, "daemons:\n  - match: {exe: /usr/sbin/nginx}\n    waive: [{rule: DC102, reason: x}]\n")
	_, plain, _ := run("--proc", root, "3756")
	if _, out, _ := run("--proc", root, "--config", other, "3756"); out != plain {
		t.Errorf("a config for another program changed the report:\n%s", out)
	}
}

// TestBadConfigIsAUsageError: exit 2, the file, line and field named, and
// nothing judged.
func TestBadConfigIsAUsageError(t *testing.T) {
	root := tree(t, "on-terminal")
	cfg := writeConfig(t, "daemons:\n  - match: {comm: sleep}\n    waive:\n      - {rule: DC102, reason: x, expires: tomorrow}\n")
	for _, args := range [][]string{
		{"--proc", root, "--config", cfg, "3756"},
		{"scan", "--proc", root, "--config", cfg},
		{"verify", "--config", cfg, "--", "true"},
	} {
		code, out, errs := run(args...)
		if code != ExitUsage || out != "" || !strings.Contains(errs, cfg+":4: daemons[0].waive[0].expires: want a date YYYY-MM-DD, got \"tomorrow\"") {
			t.Errorf("%v: exit %d, out %q, stderr %q", args, code, out, errs)
		}
	}
}

// TestVersion: dcheck version and --version say which dcheck this is, in
// text and JSON, with the schema and a digest of the catalogue that
// changes when a rule does.
func TestVersion(t *testing.T) {
	code, text, _ := run("version")
	_, flag, _ := run("--version")
	if code != ExitPass || !strings.HasPrefix(text, "dcheck ") || text != flag ||
		!strings.Contains(text, "schema    dcheck/v2") || !strings.Contains(text, "catalogue "+checks.CatalogueDigest()) {
		t.Errorf("exit %d:\n%s\n--version:\n%s", code, text, flag)
	}
	code, out, _ := run("version", "-o", "json")
	var v struct {
		Version, Module, Schema, Catalogue string
		GoVersion                          string `json:"go_version"`
		Rules                              int
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != ExitPass || v.Version == "" || v.Module != "github.com/dcheck/dcheck" ||
		v.Schema != checks.Schema || v.Rules != len(checks.Rules()) || len(v.Catalogue) != 12 || !strings.HasPrefix(v.GoVersion, "go") {
		t.Errorf("json: exit %d, %v: %+v\n%s", code, err, v, out)
	}
	if code, _, errs := run("version", "now"); code != ExitUsage || !strings.Contains(errs, "version takes no arguments") {
		t.Errorf("version now: exit %d, %q", code, errs)
	}
	if code, _, _ := run("version", "-o", "yaml"); code != ExitUsage {
		t.Errorf("version -o yaml: exit %d", code)
	}
}

// TestScanColumns: the table says what supervises each daemon
// (SUPERVISOR: a recorded orphan of init here), the profile it was judged
// by, and which failed rules decide the verdict (FAILED), which are
// warnings (WARNED), notes (NOTED) and waived (WAIVED).
func TestScanColumns(t *testing.T) {
	root := tree(t, "double-fork")
	cfg := writeConfig(t, "daemons:\n  - match: {comm: sleep}\n    umask: \"0077\"\n    waive: [{rule: DC501, reason: a test}]\n")
	for _, tc := range []struct {
		args []string
		want []string // the row's fields
	}{
		{[]string{"--config", cfg}, []string{"3463", "sleep", "init", "sysv", "pass", "-", "DC202", "DC401", "DC501"}},
		{[]string{"--config", cfg, "--strict"}, []string{"3463", "sleep", "init", "sysv", "fail", "DC202", "-", "DC401", "DC501"}},
	} {
		_, out, _ := run(append([]string{"scan", "--proc", root}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "PID COMM SUPERVISOR PROFILE VERDICT FAILED WARNED NOTED WAIVED" ||
			strings.Join(strings.Fields(lines[1]), " ") != strings.Join(tc.want, " ") {
			t.Errorf("%v:\n%s\nwant row %v", tc.args, out, tc.want)
		}
	}
}

// TestTextSectionsSayWhatTheyHold: a passing daemon's report has no
// section that reads as a failure; its info findings are notes.
func TestTextSectionsSayWhatTheyHold(t *testing.T) {
	root := tree(t, "double-fork")
	code, out, _ := run("--proc", root, "3463")
	if code != ExitPass || strings.Contains(out, "\nFAIL") || !strings.Contains(out, "\nNOTES (never fail the verdict)\n  DC401") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	_, out, _ = run("--proc", root, "--umask", "0077", "3463")
	if !strings.Contains(out, "\nWARNINGS (they fail the verdict only with --strict)\n  DC202") {
		t.Errorf("a failed warning is not under WARNINGS:\n%s", out)
	}
	_, out, _ = run("--proc", root, "--umask", "0077", "--strict", "3463")
	if !strings.Contains(out, "\nFAILED\n  DC202") {
		t.Errorf("with --strict a failed warning is not under FAILED:\n%s", out)
	}
}

// TestHelpStyle: every command's help goes to stdout when asked for, in one
// style (usage, what it does, flags, examples); a usage error is one line
// and a pointer to the help, on stderr, whatever the mistake.
func TestHelpStyle(t *testing.T) {
	code, out, errs := run("--help")
	if code != ExitPass || errs != "" || !strings.Contains(out, "Commands:") || !strings.Contains(out, "dcheck help COMMAND") {
		t.Errorf("--help: exit %d, stderr %q\n%s", code, errs, out)
	}
	for _, cmd := range []string{"check", "scan", "verify", "rules", "explain", "version"} {
		args := []string{cmd, "--help"}
		usage := "Usage: dcheck " + cmd
		if cmd == "check" {
			args, usage = []string{"--proc", "/proc", "-h"}, "Usage: dcheck [flags] PID"
		}
		code, out, errs := run(args...)
		_, viaHelp, _ := run("help", cmd)
		if code != ExitPass || errs != "" || !strings.HasPrefix(out, usage) || !strings.Contains(out, "\nExamples:\n  dcheck ") || out != viaHelp {
			t.Errorf("%v: exit %d, stderr %q\n%s\n(help %s:\n%s)", args, code, errs, out, cmd, viaHelp)
		}
	}
	if code, _, errs := run("help", "frobnicate"); code != ExitUsage || !strings.Contains(errs, `no command "frobnicate"`) {
		t.Errorf("help frobnicate: exit %d, %q", code, errs)
	}
	for args, help := range map[string]string{"-5": "dcheck help", "--reaper abc 1": "dcheck help", "--pidfile": "dcheck help",
		"scan --bogus": "dcheck help scan", "verify --frob -- true": "dcheck help verify", "verify --start-timeout soon -- true": "dcheck help verify"} {
		code, out, errs := run(strings.Fields(args)...)
		lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
		if code != ExitUsage || out != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], "dcheck: ") || lines[1] != "Run '"+help+"' for usage." {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line plus the pointer to help", args, code, out, errs)
		}
	}
}
