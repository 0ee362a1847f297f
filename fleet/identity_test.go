package fleet

import (
	"strings"
	"testing"

	"github.com/dcheck/dcheck/checks"
)

// report is a judged process as Names sees it.
func report(pid int, start uint64, exe string, cmdline ...string) *checks.Report {
	r := &checks.Report{PID: pid, Verdict: checks.VerdictPass, Profile: checks.ProfileSysV}
	if exe != "" {
		r.Process.Exe = &exe
	}
	r.Process.Comm = "comm" + strings.Repeat("x", pid%3)
	r.Process.StartTime = start
	r.Process.Cmdline = cmdline
	return r
}

func TestNames(t *testing.T) {
	named := report(1, 1, "/usr/sbin/a")
	named.Name = "owner's name"
	named2 := report(5, 2, "/usr/sbin/a", "a", "-x")
	named2.Name = "owner's name"
	withPidfile := report(2, 1, "/usr/sbin/b")
	withPidfile.PidFile = &checks.PidFileView{Path: "/run/b.pid"}
	long := strings.Repeat("é", 100) // 200 bytes: cut on a rune boundary
	for _, tc := range []struct {
		name    string
		reports []*checks.Report
		want    []string
	}{
		{"precedence", []*checks.Report{named, withPidfile, report(3, 1, "/usr/sbin/c"), report(4, 1, "")},
			[]string{"owner's name", "/run/b.pid", "/usr/sbin/c", "comm:commx"}},
		{"instances told apart by their arguments",
			[]*checks.Report{report(10, 5, "/usr/sbin/nginx", "nginx", "-c", "/etc/a.conf"), report(11, 3, "/usr/sbin/nginx", "nginx", "-c", "/etc/b.conf"), report(12, 1, "/usr/sbin/redis")},
			[]string{"/usr/sbin/nginx -c /etc/a.conf", "/usr/sbin/nginx -c /etc/b.conf", "/usr/sbin/redis"}},
		{"then by start time, not pid",
			[]*checks.Report{report(20, 9, "/usr/bin/sleep", "sleep", "9"), report(21, 2, "/usr/bin/sleep", "sleep", "9"), report(22, 5, "/usr/bin/sleep", "sleep", "9")},
			[]string{"/usr/bin/sleep 9 #3", "/usr/bin/sleep 9 #1", "/usr/bin/sleep 9 #2"}},
		{"long arguments are cut",
			[]*checks.Report{report(30, 1, "/x", "x", long), report(31, 2, "/x", "x", "short")},
			[]string{"/x " + strings.Repeat("é", 60) + "…", "/x short"}},
		{"an owner's name matched twice is numbered, without arguments",
			[]*checks.Report{named, named2},
			[]string{"owner's name #1", "owner's name #2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Names(tc.reports)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
