package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
)

const example = `# the issue's example, with every field
daemons:
  - match: {exe: /usr/sbin/nginx}
    name: nginx
    profile: sysv
    umask: "0027"
    cwd: [/var/lib/nginx]
    reaper: 1
    waive:
      - rule: DC201
        reason: "runs from its data directory by design"
        expires: 2027-06-30
      - rule: logs-somewhere
        reason: logs through its own pipe
  - match: {comm: sshd}
    profile: supervised
    umask: 0077
`

func TestParseExample(t *testing.T) {
	f, err := Parse("dcheck.yaml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Daemons) != 2 {
		t.Fatalf("got %d entries, want 2", len(f.Daemons))
	}
	d := f.Daemons[0]
	if d.Line != 3 || d.Match.Exe != "/usr/sbin/nginx" || d.Name != "nginx" || d.Profile != checks.ProfileSysV ||
		d.Umask == nil || *d.Umask != 0o027 || len(d.Cwds) != 1 || d.Cwds[0] != "/var/lib/nginx" || d.Reaper != 1 {
		t.Errorf("first entry: %+v", d)
	}
	if len(d.Waivers) != 2 || d.Waivers[0].Rule != "DC201" || d.Waivers[0].Expires.Format(time.DateOnly) != "2027-06-30" ||
		d.Waivers[1].Rule != "DC503" || !d.Waivers[1].Expires.IsZero() {
		t.Errorf("waivers: %+v (a rule's name is turned into its ID; no expires is never)", d.Waivers)
	}
	// An unquoted 0077 is read as the text it is, not as the integer 77.
	if u := f.Daemons[1].Umask; u == nil || *u != 0o077 {
		t.Errorf("unquoted umask 0077: got %v", u)
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"syntax", "daemons:\n  - match: {exe: /a\n", "c.yaml:2: did not find expected ',' or '}'"},
		// yaml.v3 names the line where what it was reading began: 3 and 1.
		{"a mapping left open", "daemons:\n  - match: {comm: a}\n    umask: \"0022\"\n  - match: {comm: b\n    umask: \"0077\"\n", "c.yaml:4: did not find expected ',' or '}'"},
		{"a wrong indentation", "daemons:\n  - match: {comm: a}\n   umask: \"0022\"\n", "c.yaml:3: did not find expected '-' indicator"},
		{"a tab", "daemons:\n  - match: {comm: a}\n\tumask: \"0022\"\n", "c.yaml:3: found character that cannot start any token"},
		{"after a list open over three lines", "daemons:\n  - match: {comm: a}\n    waive: [\n      {rule: DC201, reason: x}\n    ]\n  - match: {comm: b\n", "c.yaml:6: did not find expected ',' or '}'"},
		{"top not a mapping", "- a\n", "c.yaml:1: want a mapping of daemons, got a list"},
		{"unknown top key", "daemon:\n  - match: {comm: a}\n", "c.yaml:1: daemon: unknown key (want one of daemons)"},
		{"daemons not a list", "daemons: {comm: a}\n", "c.yaml:1: daemons: want a list, got a mapping"},
		{"entry unknown key", "daemons:\n  - match: {comm: a}\n    umsk: \"0022\"\n", "c.yaml:3: daemons[0].umsk: unknown key (want one of cwd, match, name, profile, reaper, umask, waive)"},
		{"no match", "daemons:\n  - profile: sysv\n", "c.yaml:2: daemons[0]: no match"},
		{"empty match", "daemons:\n  - match: {}\n", "c.yaml:2: daemons[0].match: names no process"},
		{"match unknown key", "daemons:\n  - match: {path: /a}\n", "c.yaml:2: daemons[0].match.path: unknown key (want one of comm, exe, pidfile, user)"},
		{"relative exe", "daemons:\n  - match: {exe: nginx}\n", "c.yaml:2: daemons[0].match.exe: want an absolute path, got \"nginx\""},
		{"long comm", "daemons:\n  - match: {comm: a-very-long-process-name}\n", "longer than 15 bytes"},
		{"bad profile", "daemons:\n  - match: {comm: a}\n    profile: systemd\n", "c.yaml:3: daemons[0].profile: unknown profile \"systemd\""},
		{"bad umask", "daemons:\n  - match: {comm: a}\n    umask: \"0999\"\n", "c.yaml:3: daemons[0].umask: want an octal mode"},
		{"relative cwd", "daemons:\n  - match: {comm: a}\n    cwd: [/ok, data]\n", "c.yaml:3: daemons[0].cwd[1]: want an absolute path"},
		{"bad reaper", "daemons:\n  - match: {comm: a}\n    reaper: -1\n", "c.yaml:3: daemons[0].reaper: want a positive pid"},
		{"waive not a list", "daemons:\n  - match: {comm: a}\n    waive: {rule: DC201}\n", "c.yaml:3: daemons[0].waive: want a list"},
		{"unknown rule", "daemons:\n  - match: {comm: a}\n    waive:\n      - {rule: DC999, reason: x}\n", "c.yaml:4: daemons[0].waive[0].rule: no rule \"DC999\""},
		{"no reason", "daemons:\n  - match: {comm: a}\n    waive:\n      - rule: DC201\n", "c.yaml:4: daemons[0].waive[0].reason: missing"},
		{"empty reason", "daemons:\n  - match: {comm: a}\n    waive:\n      - {rule: DC201, reason: \"\"}\n", "c.yaml:4: daemons[0].waive[0].reason: want a non-empty string"},
		{"no rule", "daemons:\n  - match: {comm: a}\n    waive:\n      - reason: because\n", "c.yaml:4: daemons[0].waive[0].rule: missing"},
		{"bad date", "daemons:\n  - match: {comm: a}\n    waive:\n      - {rule: DC201, reason: x, expires: 30/06/2027}\n", "c.yaml:4: daemons[0].waive[0].expires: want a date YYYY-MM-DD, got \"30/06/2027\""},
		{"waiver unknown key", "daemons:\n  - match: {comm: a}\n    waive:\n      - {rule: DC201, reason: x, until: 2027-01-01}\n", "daemons[0].waive[0].until: unknown key (want one of expires, reason, rule)"},
		{"twice", "daemons:\n  - match: {comm: a}\n    waive:\n      - {rule: DC201, reason: x}\n      - {rule: cwd-root, reason: y}\n", "c.yaml:5: daemons[0].waive[1].rule: DC201 is waived twice"},
		{"duplicate key", "daemons:\n  - match: {comm: a}\n    umask: \"0022\"\n    umask: \"0027\"\n", "c.yaml:4: daemons[0].umask: given twice (first on line 3)"},
		{"unknown user", "daemons:\n  - match: {comm: a, user: no-such-user-here}\n", "c.yaml:2: daemons[0].match.user: no user \"no-such-user-here\""},
		{"user alone", "daemons:\n  - match: {user: root}\n", "c.yaml:2: daemons[0].match: names no process"},
		{"second entry", "daemons:\n  - match: {comm: a}\n  - match: {comm: b}\n    reaper: one\n", "c.yaml:4: daemons[1].reaper: want a positive pid, got \"one\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("c.yaml", []byte(tc.yaml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, %v; want an *Error", f, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEmptyFileHasNoEntries(t *testing.T) {
	for _, s := range []string{"", "# nothing yet\n", "daemons: []\n"} {
		f, err := Parse("c.yaml", []byte(s))
		if err != nil || len(f.Daemons) != 0 {
			t.Errorf("%q: got %v, %v", s, f, err)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	_, err := Load("/nonexistent/dcheck.yaml")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/dcheck.yaml") {
		t.Errorf("got %v", err)
	}
}

// snapshot is a process as the matchers see it.
func snapshot(pid int, exe, comm string) *proc.Snapshot {
	s := &proc.Snapshot{PID: pid}
	s.Exe.Path, s.Stat.Comm = exe, comm
	return s
}

func TestMatch(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "d.pid")
	if err := os.WriteFile(pidfile, []byte("4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Parse("c.yaml", []byte(`daemons:
  - match: {exe: /usr/sbin/nginx, comm: nginx}
    name: both
  - match: {exe: /usr/sbin/nginx}
    name: exe
  - match: {comm: sshd}
    name: comm
  - match: {pidfile: `+pidfile+`}
    name: pidfile
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s       *proc.Snapshot
		pidfile string
		want    string // "" for no match
	}{
		{snapshot(10, "/usr/sbin/nginx", "nginx"), "", "both"},        // the first entry that matches
		{snapshot(10, "/usr/sbin/nginx", "nginx: master"), "", "exe"}, // every key must match
		{snapshot(10, "/usr/bin/nginx", "sshd"), "", "comm"},
		{snapshot(4242, "/usr/bin/x", "x"), "", "pidfile"},   // the pidfile names it
		{snapshot(4243, "/usr/bin/x", "x"), "", ""},          // the pidfile names another
		{snapshot(7, "/usr/bin/x", "x"), pidfile, "pidfile"}, // given with --pidfile
		{snapshot(10, "/usr/sbin/nginx2", "nginx2"), "", ""}, // nothing
	} {
		d, err := f.Lookup(tc.s, tc.pidfile)
		got := ""
		if err == nil {
			got = d.Name
		} else if !errors.Is(err, ErrNoMatch) {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("pid %d exe %s comm %q pidfile %q: matched %q, want %q", tc.s.PID, tc.s.Exe.Path, tc.s.Stat.Comm, tc.pidfile, got, tc.want)
		}
	}
	// An unreadable exe matches no exe key.
	s := snapshot(10, "/usr/sbin/nginx", "nginx")
	s.ExeErr = os.ErrPermission
	if d, err := f.Lookup(s, ""); err == nil {
		t.Errorf("unreadable exe matched %q", d.Name)
	}
}

func TestTailor(t *testing.T) {
	f, err := Parse("c.yaml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	u := uint32(0o022)
	pol := checks.Policy{Umask: &u, Cwds: []string{"/srv"}, Strict: true}
	f.Tailor(snapshot(10, "/usr/sbin/nginx", "nginx"), &pol)
	if pol.Name != "nginx" || *pol.Umask != 0o027 || pol.Cwds[0] != "/var/lib/nginx" || pol.Reaper != 1 ||
		len(pol.Waivers) != 2 || !pol.Strict {
		t.Errorf("matched: %+v", pol)
	}
	pol = checks.Policy{Umask: &u, Strict: true}
	f.Tailor(snapshot(11, "/usr/sbin/cron", "cron"), &pol)
	if pol.Name != "" || *pol.Umask != 0o022 || pol.Waivers != nil {
		t.Errorf("unmatched process changed the policy: %+v", pol)
	}
}

// TestWaiverWhenJudged judges a process whose cwd is not "/" (DC201
// fails) under waivers: in force, expired, and not needed.
func TestWaiverWhenJudged(t *testing.T) {
	day := func(s string) time.Time {
		d, _ := time.ParseInLocation(time.DateOnly, s, time.Local)
		return d
	}
	waive := []checks.Waiver{{Rule: "DC201", Reason: "by design", Expires: day("2027-06-30")}}
	for _, tc := range []struct {
		now        string
		wantStatus checks.Status
		expired    bool
	}{
		{"2027-06-30T23:59:00", checks.Waived, false}, // the last day still applies
		{"2027-07-01T00:00:00", checks.Fail, true},    // from the next midnight, expired
	} {
		now, _ := time.ParseInLocation("2006-01-02T15:04:05", tc.now, time.Local)
		f := judgeDC201(t, checks.Policy{Waivers: waive, Now: now})
		if f.Status != tc.wantStatus || f.Waiver == nil || f.Waiver.Expired != tc.expired || f.Waiver.Expires != "2027-06-30" {
			t.Errorf("at %s: %+v %+v", tc.now, f, f.Waiver)
		}
	}
	// A rule that passes does not use its waiver, and says so.
	f := judgeRule(t, "DC103", checks.Policy{Waivers: []checks.Waiver{{Rule: "DC103", Reason: "r"}}})
	if f.Status != checks.Pass || f.Waiver == nil || !f.Waiver.Unused {
		t.Errorf("waiver on a passing rule: %+v %+v", f, f.Waiver)
	}
}

func judgeDC201(t *testing.T, pol checks.Policy) checks.Finding {
	return judgeRule(t, "DC201", pol)
}

// judgeRule judges this test process with its cwd moved away from "/".
func judgeRule(t *testing.T, id string, pol checks.Policy) checks.Finding {
	t.Helper()
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := fsys.Take(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	s.Cwd.Path = "/somewhere"
	s.Stat.Session = s.PID + 1 // not a session leader
	findings, _ := checks.Judge(&checks.Evidence{Process: s}, pol)
	for _, f := range findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no finding %s", id)
	return checks.Finding{}
}

// TestUserKeepsImpostorsOut: anyone can run a program named sshd (comm);
// with user, an entry (its name, its waivers) is the real daemon's, not
// nobody's copy. Names and uids both work.
func TestUserKeepsImpostorsOut(t *testing.T) {
	f, err := Parse("c.yaml", []byte(`daemons:
  - match: {comm: sshd, user: root}
    name: sshd
  - match: {comm: redis-server, user: "65534"}
    name: nobody's redis
`))
	if err != nil {
		t.Fatal(err)
	}
	as := func(s *proc.Snapshot, real, eff int) *proc.Snapshot {
		s.Status.UIDs = [4]int{real, eff, eff, eff}
		return s
	}
	for _, tc := range []struct {
		s    *proc.Snapshot
		want string
	}{
		{as(snapshot(10, "/usr/sbin/sshd", "sshd"), 0, 0), "sshd"},
		{as(snapshot(11, "/tmp/sshd", "sshd"), 65534, 65534), ""}, // nobody's impostor
		{as(snapshot(12, "/tmp/sshd", "sshd"), 65534, 0), ""},     // a setuid root program of nobody's: real uid nobody
		{as(snapshot(13, "/usr/bin/redis-server", "redis-server"), 65534, 65534), "nobody's redis"},
	} {
		got := ""
		if d, err := f.Lookup(tc.s, ""); err == nil {
			got = d.Name
		}
		if got != tc.want {
			t.Errorf("pid %d uids %v: matched %q, want %q", tc.s.PID, tc.s.Status.UIDs, got, tc.want)
		}
	}
}

// TestEveryMistakeIsReported: a file with a mistake in each of three
// entries and two in a fourth gets all five, each naming its line, in the
// file's order; one wrong value is one mistake.
func TestEveryMistakeIsReported(t *testing.T) {
	yaml := "daemons:\n" +
		"  - match: {comm: a}\n" +
		"    umask: \"0999\"\n" + // 3
		"  - match: {exe: nginx}\n" + // 4
		"  - match: {comm: c}\n" +
		"    profile: [sysv]\n" + // 6
		"  - match: {comm: d}\n" +
		"    reaper: one\n" + // 8
		"    waive:\n" +
		"      - {rule: DC999, reason: x}\n" // 10
	_, err := Parse("c.yaml", []byte(yaml))
	var all Errors
	if !errors.As(err, &all) {
		t.Fatalf("got %v; want Errors", err)
	}
	want := []string{
		`c.yaml:3: daemons[0].umask: want an octal mode`,
		`c.yaml:4: daemons[1].match.exe: want an absolute path, got "nginx"`,
		`c.yaml:6: daemons[2].profile: want a non-empty string, got a list`,
		`c.yaml:8: daemons[3].reaper: want a positive pid, got "one"`,
		`c.yaml:10: daemons[3].waive[0].rule: no rule "DC999"`,
	}
	if len(all) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(all), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(all[i].Error(), w) {
			t.Errorf("error %d: %q, want it to begin %q", i, all[i], w)
		}
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 3 {
		t.Errorf("errors.As gives the first *Error: %+v", one)
	}
	var many strings.Builder
	many.WriteString("daemons:\n")
	for i := range 30 {
		fmt.Fprintf(&many, "  - match: {exe: rel%d}\n", i)
	}
	_, err = Parse("c.yaml", []byte(many.String()))
	if !errors.As(err, &all) || len(all) != maxErrors+1 || !strings.Contains(all[maxErrors].Error(), "more mistakes after line 21") {
		t.Errorf("30 mistakes: %d reported, want %d and a last line saying there are more:\n%v", len(all), maxErrors+1, err)
	}
}
