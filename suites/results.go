package suites

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/safetext"
)

// judgements counts the judgements of this process's runs, for Run and
// RunStandalone to tell a run that judged nothing.
var judgements atomic.Int64

// result is one line of the summary.
type result struct {
	id, name string
	outcome  Outcome
	message  string
}

func (h *harness) record(id, name string, o Outcome, message string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.results = append(h.results, result{id, name, o, message})
	if o.judged() {
		judgements.Add(1)
	}
}

// conclude records a spec's outcome and ends the spec as Ginkgo should
// show it: failed, passed (a warning unless Strict), or skipped with the
// reason (Skipped, and Unknown: not judged is not passed). Every spec,
// static or lifecycle, ends here. Failed, Skipped and Unknown end the spec;
// after Passed, Warned and Noted it returns, and the caller must too.
func (h *harness) conclude(id string, o Outcome, format string, a ...any) {
	GinkgoHelper()
	r := rule(id)
	msg := fmt.Sprintf(format, a...) + h.freshNote(r.ID)
	o = severityDecides(r, h.cfg.Profile, o)
	if o == Failed || o == Warned || o == Unknown {
		if w, ok := h.waiver(r.ID); ok {
			if w.Expired {
				msg += fmt.Sprintf(" (a waiver expired after %s: %s)", w.Expires, w.Reason)
			} else {
				o, msg = Waived, msg+" (waived: "+w.Reason+")"
			}
		}
	}
	h.record(r.ID, r.Name, o, msg)
	switch o {
	case Failed:
		h.attachSnapshot(r)
		Fail(fmt.Sprintf("%s %s: %s\nfix: %s", r.ID, r.Name, msg, r.Hint))
	case Warned:
		AddReportEntry("warning", r.ID+" "+r.Name+": "+msg, entryVisibility())
		if h.cfg.Strict {
			Fail(fmt.Sprintf("%s %s (warning, --strict): %s", r.ID, r.Name, msg))
		}
	case Noted:
		AddReportEntry("info", r.ID+" "+r.Name+": "+msg, entryVisibility())
	case Skipped:
		Skip(r.ID + " " + r.Name + ": " + msg)
	case Unknown:
		Skip(r.ID + " " + r.Name + ": could not judge: " + msg)
	case Waived:
		Skip(r.ID + " " + r.Name + ": " + msg)
	}
}

// severityDecides is the one place that decides whether a defect fails
// the spec or warns: the catalogue's severity of the rule in the run's
// profile. A spec concludes Failed for the defect its rule names; a
// warning-level rule (SU112 and SU116 for a supervised daemon) turns that
// into Warned. A spec concludes Warned itself only for a lesser defect of
// an error-level rule (SU103's second start that refused but exited 0).
//
// A static rule's outcome comes from its finding, whose severity the
// judgement decides (DC202 is an error when the daemon kept the very umask
// its known starter gave it): staticOutcome, not this.
func severityDecides(r *checks.Rule, p checks.Profile, o Outcome) Outcome {
	if o == Failed && r.Kind == checks.Lifecycle && r.Severity(p) == checks.Warning {
		return Warned
	}
	return o
}

// entryVisibility keeps report entries (snapshots, exit statuses, notes)
// in the JSON and JUnit reports, and off the console unless Ginkgo is
// verbose (-v): a failed static rule's snapshot is hundreds of lines.
func entryVisibility() types.ReportEntryVisibility {
	_, rc := GinkgoConfiguration()
	if rc.Verbose || rc.VeryVerbose {
		return types.ReportEntryVisibilityAlways
	}
	return types.ReportEntryVisibilityNever
}

// attachSnapshot adds the daemon's /proc snapshot to a failed spec's
// report, so that a JUnit file alone says why: for a static rule the
// report it was judged on, for a lifecycle spec a look now.
func (h *harness) attachSnapshot(rl *checks.Rule) {
	if rl.Kind == checks.Static && h.report != nil {
		js, _ := json.MarshalIndent(h.report, "", "  ")
		AddReportEntry("snapshot", string(js), entryVisibility())
		return
	}
	if h.daemon == 0 || !alive(h.daemon) {
		return
	}
	r, err := checks.Inspect(h.look, h.daemon, h.policy())
	if err != nil {
		AddReportEntry("snapshot", fmt.Sprintf("pid %d: %v", h.daemon, err), entryVisibility())
		return
	}
	js, _ := json.MarshalIndent(r, "", "  ")
	AddReportEntry("snapshot", string(js), entryVisibility())
}

// minUnknownGroup is how many specs unknown for one and the same reason
// (a start that failed leaves every later spec so) share one line.
const minUnknownGroup = 3

// sameUnknowns maps each message that at least minUnknownGroup unknown
// specs share to their IDs, in order.
func sameUnknowns(results []result) map[string][]string {
	by := map[string][]string{}
	for _, r := range results {
		if r.outcome == Unknown {
			by[r.message] = append(by[r.message], r.id)
		}
	}
	for m, ids := range by {
		if len(ids) < minUnknownGroup {
			delete(by, m)
		}
	}
	return by
}

// printFixes says, once per rule that failed or warned, how to fix it.
func (h *harness) printFixes(results []result) {
	seen := map[string]bool{}
	var lines []string
	for _, r := range results {
		if (r.outcome == Failed || r.outcome == Warned) && !seen[r.id] {
			seen[r.id] = true
			if rl, ok := checks.Lookup(r.id); ok && rl.Hint != "" {
				lines = append(lines, fmt.Sprintf("  %s  %s", r.id, rl.Hint))
			}
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(h.cfg.Out, "how to fix:\n%s\n", strings.Join(lines, "\n"))
	}
}

// printSummary writes one line per spec: ID, name, outcome, message; the
// signals the guard refused; the counts.
func (h *harness) printSummary() {
	tw := tabwriter.NewWriter(h.cfg.Out, 0, 4, 2, ' ', 0)
	how := string(h.cfg.Profile)
	if h.cfg.Profile != checks.ProfileSupervised {
		how += ", --launch " + string(h.cfg.Launch)
	}
	what := strings.Join(h.cfg.Start, " ")
	if svc := h.unit(); svc != nil {
		how = fmt.Sprintf("Type=%s, %s", svc.Type, h.cfg.Profile)
		what = svc.Name + ": " + what
	}
	fmt.Fprintf(tw, "\ndcheck verify: %s (%s)\n", what, how)
	counts := map[Outcome]int{}
	h.mu.Lock()
	results := slices.Clone(h.results)
	refused := slices.Compact(h.guard.Refused())
	h.mu.Unlock()
	also := sameUnknowns(results)
	for _, r := range results {
		counts[r.outcome]++
		ids, grouped := also[r.message]
		switch {
		case grouped && r.outcome == Unknown && ids[0] != r.id:
			continue // said on the group's first line
		case grouped && r.outcome == Unknown:
			r.message += fmt.Sprintf(" (also %s: %d specs in all)", strings.Join(ids[1:], ", "), len(ids))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.id, r.name, strings.ToUpper(r.outcome.String()), safetext.Terminal(strings.ReplaceAll(r.message, "\n", " ")))
	}
	tw.Flush()
	h.printFixes(results)
	for _, r := range refused {
		fmt.Fprintf(h.cfg.Out, "not signalled: %s\n", r)
	}
	for _, r := range h.cfg.resolved {
		fmt.Fprintf(h.cfg.Out, "note: resolved %s (relative to %s, where dcheck ran; the start command runs in a temporary directory)\n", r, h.cfg.Dir)
	}
	if (h.cfg.Stop != "" || h.cfg.Restart != "") && h.cfg.Dir != "" {
		fmt.Fprintf(h.cfg.Out, "note: --stop and --restart ran in %s\n", h.cfg.Dir)
	}
	if h.before != "" {
		fmt.Fprintf(h.cfg.Out, "note: %s\n", h.before)
	}
	if lack := h.can.lacking(); lack != "" {
		found := ""
		if !h.can.adopt && h.cfg.Profile != checks.ProfileSupervised {
			found = " the daemon was found through its pidfile, and"
		}
		fmt.Fprintf(h.cfg.Out, "note: this run had %s:%s the specs that needed them say so\n", lack, found)
	}
	if svc := h.unit(); svc != nil {
		for _, d := range svc.DropIns {
			fmt.Fprintf(h.cfg.Out, "note: drop-in %s applied\n", d)
		}
		if n := svc.NotEmulated; len(n) > 0 {
			fmt.Fprintf(h.cfg.Out, "note: not emulated (they need systemd itself): %s\n", strings.Join(n, ", "))
		}
	}
	if len(h.start.killed) > 0 {
		fmt.Fprintf(h.cfg.Out, "note: during the start, %s%s\n", strings.Join(h.start.killed, ", "), h.hangupHint())
	}
	if strangers := h.notify.Strangers(); len(strangers) > 0 {
		fmt.Fprintf(h.cfg.Out, "note: ignored sd_notify messages from processes outside the run: %s\n", strings.Join(strangers, "; "))
	}
	if unheard := h.notify.RefusedSummary(); unheard != "" {
		fmt.Fprintf(h.cfg.Out, "note: sd_notify messages of the run not heard, as systemd would not hear them: %s\n", unheard)
	}
	waived := ""
	if counts[Waived] > 0 {
		waived = fmt.Sprintf(", %d waived", counts[Waived])
	}
	fmt.Fprintf(h.cfg.Out, "%d passed, %d failed, %s, %d unknown, %d skipped%s\n",
		counts[Passed]+counts[Noted], counts[Failed], plural(counts[Warned], "warning", "warnings"), counts[Unknown], counts[Skipped], waived)
	if counts[Passed]+counts[Noted]+counts[Failed]+counts[Warned] == 0 {
		fmt.Fprintln(h.cfg.Out, "nothing was judged: this run is not a pass")
	}
}

// staticOutcome turns a static rule's finding into the spec's outcome.
func staticOutcome(f checks.Finding) Outcome {
	switch {
	case f.Status == checks.Pass:
		return Passed
	case f.Status == checks.Skip:
		return Skipped
	case f.Status == checks.Waived:
		return Waived
	case f.Status != checks.Fail:
		return Unknown
	case f.Severity == checks.Error:
		return Failed
	case f.Severity == checks.Warning:
		return Warned
	}
	return Noted
}
