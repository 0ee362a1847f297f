package fleet

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/safetext"
)

// NagiosStatus is a result in the Nagios plugin API; its value is the
// plugin's exit code.
type NagiosStatus int

// The plugin API's statuses.
const (
	NagiosOK       NagiosStatus = 0 // every error rule passed, no warning failed
	NagiosWarning  NagiosStatus = 1 // a warning failed (and the verdict is pass: not --strict)
	NagiosCritical NagiosStatus = 2 // the verdict is fail
	NagiosUnknown  NagiosStatus = 3 // could not judge: verdict unknown, nothing found, or a usage error
)

func (s NagiosStatus) String() string {
	switch s {
	case NagiosOK:
		return "OK"
	case NagiosWarning:
		return "WARNING"
	case NagiosCritical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// NagiosLine is the output for a check that could not run at all: a usage
// error, or a process that could not be read.
func NagiosLine(s NagiosStatus, msg string) string {
	return fmt.Sprintf("DCHECK %s - %s\n", s, oneLine(msg))
}

// tally counts one report's findings for the plugin output.
type tally struct {
	failed, warned, unknown, waived []checks.Finding
}

func count(r *checks.Report) tally {
	var t tally
	for _, f := range r.Findings {
		counts := f.Decides(r.Strict)
		switch {
		case f.Status == checks.Fail && counts:
			t.failed = append(t.failed, f)
		case f.Status == checks.Fail && f.Severity == checks.Warning:
			t.warned = append(t.warned, f)
		case f.Status == checks.Unknown && counts:
			t.unknown = append(t.unknown, f)
		case f.Status == checks.Waived:
			t.waived = append(t.waived, f)
		}
	}
	return t
}

func (t tally) status() NagiosStatus {
	switch {
	case len(t.failed) > 0:
		return NagiosCritical
	case len(t.unknown) > 0:
		return NagiosUnknown
	case len(t.warned) > 0:
		return NagiosWarning
	}
	return NagiosOK
}

func ruleList(fs []checks.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.ID+" "+f.Name)
	}
	return strings.Join(parts, ", ")
}

// NagiosReport returns the status and the plugin output for one judged
// process named name: a status line with perfdata, then one line for each
// failed, unknown or waived finding of an error or warning rule (the
// plugin API's long output; info notes are left to the text report).
//
//	DCHECK CRITICAL - nginx: DC103 not-session-leader, DC201 cwd-root | failed=2;;;0 warned=0;;;0 unknown=0;;;0 waived=0;;;0
func NagiosReport(r *checks.Report, name string) (NagiosStatus, string) {
	t := count(r)
	st, what := t.status(), t.what(r)
	var b strings.Builder
	fmt.Fprintf(&b, "DCHECK %s - %s: %s | failed=%d;;;0 warned=%d;;;0 unknown=%d;;;0 waived=%d;;;0\n",
		st, oneLine(name), what, len(t.failed), len(t.warned), len(t.unknown), len(t.waived))
	if r.Supervisor != nil {
		fmt.Fprintf(&b, "supervisor: %s; judged as a %s daemon\n", oneLine(r.Supervisor.Describe()), r.Profile)
	}
	for _, f := range r.Findings {
		if f.Severity != checks.Info && (f.Status == checks.Fail || f.Status == checks.Unknown || f.Status == checks.Waived) {
			fmt.Fprintf(&b, "%s %s %s [%s]: %s\n", strings.ToUpper(string(f.Status)), f.ID, f.Name, f.Severity, oneLine(f.Message))
		}
	}
	return st, b.String()
}

// what says in a few words why the report has its status.
func (t tally) what(r *checks.Report) string {
	var what string
	switch t.status() {
	case NagiosCritical:
		what = ruleList(t.failed)
	case NagiosUnknown:
		what = "could not judge " + ruleList(t.unknown)
	case NagiosWarning:
		what = "warnings " + ruleList(t.warned)
	default:
		passed := 0
		for _, f := range r.Findings {
			if f.Status == checks.Pass {
				passed++
			}
		}
		what = fmt.Sprintf("pid %d passed %d rules", r.PID, passed)
		if len(t.waived) > 0 {
			what += fmt.Sprintf(", %d waived", len(t.waived))
		}
	}
	return what
}

// NagiosScan returns the status and the plugin output for a whole scan:
// the worst daemon's status decides (CRITICAL, then UNKNOWN, then
// WARNING); a process that could not be read, or a scan that found no
// daemon at all, is UNKNOWN, never OK. The long output has one line per
// daemon that is not OK.
func NagiosScan(scan Scan) (NagiosStatus, string) {
	var reports []*checks.Report
	var unreadable []string
	for _, res := range scan.Results {
		if res.Err != nil || res.Report == nil {
			msg := fmt.Sprint(res.Err)
			if !strings.Contains(msg, strconv.Itoa(res.PID)) {
				msg = fmt.Sprintf("pid %d: %s", res.PID, msg)
			}
			unreadable = append(unreadable, msg)
			continue
		}
		reports = append(reports, res.Report)
	}
	names := Names(reports)
	n := map[NagiosStatus][]string{}
	var long []string
	waived := 0
	for i, r := range reports {
		t := count(r)
		st := t.status()
		waived += len(t.waived)
		switch st {
		case NagiosCritical:
			n[st] = append(n[st], fmt.Sprintf("%s (%s)", names[i], ids(t.failed)))
		case NagiosUnknown:
			n[st] = append(n[st], fmt.Sprintf("%s (could not judge %s)", names[i], ids(t.unknown)))
		case NagiosWarning:
			n[st] = append(n[st], fmt.Sprintf("%s (%s)", names[i], ids(t.warned)))
		default:
			n[st] = append(n[st], names[i])
			continue
		}
		// Long output holds no "|": the plugin API reads perfdata after one.
		long = append(long, fmt.Sprintf("%s %s (pid %d): %s", st, oneLine(names[i]), r.PID, oneLine(t.what(r))))
	}
	for _, u := range unreadable {
		long = append(long, "UNKNOWN "+oneLine(u))
	}
	st, what := NagiosOK, ""
	total := len(reports)
	switch {
	case len(n[NagiosCritical]) > 0:
		st, what = NagiosCritical, fmt.Sprintf("%d of %d daemons fail: %s", len(n[NagiosCritical]), total, strings.Join(n[NagiosCritical], ", "))
	case len(n[NagiosUnknown]) > 0 || len(unreadable) > 0:
		st = NagiosUnknown
		var parts []string
		if k := len(n[NagiosUnknown]); k > 0 {
			parts = append(parts, fmt.Sprintf("%d of %d daemons could not be judged: %s", k, total, strings.Join(n[NagiosUnknown], ", ")))
		}
		if len(unreadable) > 0 {
			parts = append(parts, fmt.Sprintf("%d daemon-like processes could not be read", len(unreadable)))
		}
		what = strings.Join(parts, "; ")
	case total == 0:
		st, what = NagiosUnknown, "no process looks like a daemon: nothing was judged"
	case len(n[NagiosWarning]) > 0:
		st, what = NagiosWarning, fmt.Sprintf("%d of %d daemons have failed warnings: %s", len(n[NagiosWarning]), total, strings.Join(n[NagiosWarning], ", "))
	default:
		what = fmt.Sprintf("%d daemons pass", total)
		if total == 1 {
			what = "1 daemon passes"
		}
		if waived > 0 {
			what += fmt.Sprintf(" (%d findings waived)", waived)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "DCHECK %s - %s | daemons=%d;;;0 failed=%d;;;0 warned=%d;;;0 unknown=%d;;;0 uninspectable=%d;;;0 waived=%d;;;0\n",
		st, oneLine(what), total, len(n[NagiosCritical]), len(n[NagiosWarning]), len(n[NagiosUnknown]), len(unreadable), waived)
	for _, l := range long {
		b.WriteString(l + "\n")
	}
	return st, b.String()
}

func ids(fs []checks.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.ID)
	}
	return strings.Join(parts, ", ")
}

// oneLine keeps a message on one line and out of the perfdata (the plugin
// API splits output at newlines and perfdata at "|"), and escapes what
// must not reach a terminal or a web page's text as it is.
func oneLine(s string) string {
	return safetext.Terminal(strings.NewReplacer("\n", " ", "\r", " ", "|", "/").Replace(s))
}
