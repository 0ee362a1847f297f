// Package fleet turns dcheck's judgements into what fleet tools read:
// Prometheus metrics for node_exporter's textfile collector, and the
// Nagios plugin format (Icinga, Sensu, Checkmk). It judges nothing itself.
package fleet

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/safetext"
)

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
// Anything in it that is not printable UTF-8 (a byte that is not UTF-8,
// a control, a bidi override), and every '%' and '#', is written as %XX
// (safetext.Percent): a name is a valid label value, safe on a terminal,
// and never holds a '#' of its own.
//
// Two reports with the same name are two instances of one program: each
// then gets " #" and a short hash of its arguments ("/usr/sbin/nginx
// #3f9a0c1e"), which tells instances apart across restarts without
// putting the arguments, which may hold secrets, in a label. Instances
// with the same arguments (or hash) get " #1", " #2"... after it, in
// order of start time. So no two names are the same, by construction: the
// text before the first '#' is the source, escaped, and the rest tells
// apart what shares it.
func Names(reports []*checks.Report) []string {
	names := make([]string, len(reports))
	for i, r := range reports {
		var base string
		switch {
		case r.Name != "":
			base = r.Name
		case r.Supervisor != nil && r.Supervisor.Unit != "":
			base = r.Supervisor.Unit
		case r.Supervisor != nil && r.Supervisor.Program != "":
			base = string(r.Supervisor.Kind) + ":" + r.Supervisor.Program
		case r.PidFile != nil && r.PidFile.Path != "":
			base = r.PidFile.Path
		case r.Process.Exe != nil && *r.Process.Exe != "":
			base = *r.Process.Exe
		default:
			base = "comm:" + r.Process.Comm
		}
		names[i] = safetext.Percent(base, "#")
	}
	for _, group := range duplicates(names) {
		for _, i := range group {
			names[i] += " #" + argsHash(reports[i])
		}
	}
	for _, group := range duplicates(names) {
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

// duplicates returns the indexes of each name given more than once.
func duplicates(names []string) [][]int {
	at := map[string][]int{}
	var order []string
	for i, n := range names {
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

// argsHash is the first 32 bits of the SHA-256 of the command line after
// the program (arguments NUL-separated), in hex: the same arguments give
// the same hash on every host and every restart, and the hash does not say
// what they were.
func argsHash(r *checks.Report) string {
	h := sha256.New()
	if len(r.Process.Cmdline) > 1 {
		for _, a := range r.Process.Cmdline[1:] {
			h.Write([]byte(a))
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}
