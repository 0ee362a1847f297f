// Package fleet turns dcheck's judgements into what fleet tools read:
// Prometheus metrics for node_exporter's textfile collector, and the
// Nagios plugin format (Icinga, Sensu, Checkmk). It judges nothing itself.
package fleet

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dcheck/dcheck/checks"
)

// maxArgsInName bounds the arguments a name carries to tell instances of
// one program apart.
const maxArgsInName = 120

// Names returns a name for each report, in order, that stays the same while
// the daemon restarts (pids churn; these do not). It is, first that
// applies:
//
//  1. the name its owner gave it (Report.Name, from --config's name:);
//  2. its systemd unit ("nginx.service"), or its supervisor's name for
//     it ("supervisord:web"), when it has one;
//  3. its pidfile's path, when one was given or configured;
//  4. the program's path (/proc/PID/exe, without " (deleted)");
//  5. "comm:NAME" when the program's path cannot be read.
//
// Two reports with the same name are two instances of one program: each
// then gets its arguments appended ("/usr/sbin/nginx -c /etc/a.conf"),
// and, if that does not tell them apart either, " #1", " #2"... in order
// of start time. An owner's name gets no arguments, only the number, when
// two running processes match its entry. So no two names are the same.
//
// Only the unit, the program's path, the pidfile and the owner's name say
// which daemon it is across restarts; the arguments and the number are there
// only to keep instances apart, and change with them.
func Names(reports []*checks.Report) []string {
	names := make([]string, len(reports))
	owned := make([]bool, len(reports))
	for i, r := range reports {
		switch {
		case r.Name != "":
			names[i], owned[i] = r.Name, true
		case r.Supervisor != nil && r.Supervisor.Unit != "":
			names[i] = r.Supervisor.Unit
		case r.Supervisor != nil && r.Supervisor.Program != "":
			names[i] = string(r.Supervisor.Kind) + ":" + r.Supervisor.Program
		case r.PidFile != nil && r.PidFile.Path != "":
			names[i] = r.PidFile.Path
		case r.Process.Exe != nil && *r.Process.Exe != "":
			names[i] = *r.Process.Exe
		default:
			names[i] = "comm:" + r.Process.Comm
		}
	}
	for _, group := range duplicates(names, owned) {
		for _, i := range group {
			if args := argsOf(reports[i]); args != "" {
				names[i] += " " + args
			}
		}
	}
	for _, group := range duplicates(names, nil) {
		slices.SortFunc(group, func(a, b int) int {
			ra, rb := reports[a], reports[b]
			return cmp.Or(cmp.Compare(ra.Process.StartTime, rb.Process.StartTime), cmp.Compare(ra.PID, rb.PID))
		})
		for n, i := range group {
			names[i] += fmt.Sprintf(" #%d", n+1)
		}
	}
	return names
}

// duplicates returns the indexes of each name given more than once, not
// counting owned ones (nil: none is).
func duplicates(names []string, owned []bool) [][]int {
	at := map[string][]int{}
	var order []string
	for i, n := range names {
		if owned != nil && owned[i] {
			continue
		}
		if _, ok := at[n]; !ok {
			order = append(order, n)
		}
		at[n] = append(at[n], i)
	}
	var out [][]int
	for _, n := range order {
		if len(at[n]) > 1 {
			out = append(out, at[n])
		}
	}
	return out
}

// argsOf is the command line after the program, cut to maxArgsInName bytes
// on a rune boundary.
func argsOf(r *checks.Report) string {
	if len(r.Process.Cmdline) < 2 {
		return ""
	}
	s := strings.Join(r.Process.Cmdline[1:], " ")
	if len(s) <= maxArgsInName {
		return s
	}
	cut := maxArgsInName
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
