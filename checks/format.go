package checks

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dcheck/dcheck/internal/safetext"
)

// ANSI colours for a terminal.
const (
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

// section is one group of the text report: its title, its colour, and
// which findings it holds.
type section struct {
	title string
	color string
	holds func(f Finding, strict bool) bool
}

// sections are the text report's groups, in order: what decides the
// verdict first. Each finding is in exactly one.
var sections = []section{
	{"FAILED", ansiRed, func(f Finding, strict bool) bool { return f.Status == Fail && f.Decides(strict) }},
	{"UNKNOWN", ansiYellow, func(f Finding, strict bool) bool { return f.Status == Unknown }},
	{"WARNINGS (they fail the verdict only with --strict)", ansiYellow, func(f Finding, strict bool) bool {
		return f.Status == Fail && !f.Decides(strict) && f.Severity == Warning
	}},
	{"NOTES (never fail the verdict)", ansiDim, func(f Finding, strict bool) bool {
		return f.Status == Fail && !f.Decides(strict) && f.Severity != Warning
	}},
	{"WAIVED", ansiDim, func(f Finding, strict bool) bool { return f.Status == Waived }},
	{"PASSED", ansiGreen, func(f Finding, strict bool) bool { return f.Status == Pass }},
	{"SKIPPED", ansiDim, func(f Finding, strict bool) bool { return f.Status == Skip }},
}

// WriteText writes the report for a person: a heading, the findings in
// sections by what they mean for the verdict (failed, unknown, warnings,
// notes, waived, passed, skipped), one line each with ID, name, severity
// and message, and the fix under each finding that is not a pass. color
// adds ANSI colours; set it only when w is a terminal.
func WriteText(w io.Writer, r *Report, color bool) error {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	var b strings.Builder
	judgedAs := fmt.Sprintf("judged as a %s daemon", r.Profile)
	if r.Profile == ProfileUndecided {
		judgedAs = "its profile undecided"
	}
	fmt.Fprintf(&b, "pid %d (%s), %s: %s\n", r.PID, printable(r.Process.Comm), judgedAs,
		paint(ansiBold+verdictColor(r.Verdict), strings.ToUpper(string(r.Verdict))))
	if r.Supervisor != nil {
		fmt.Fprintf(&b, "supervisor: %s\n", printable(r.Supervisor.Describe()))
	}
	if r.ProfileFrom != "" && r.ProfileFrom != ProfileFromSupervisor {
		fmt.Fprintf(&b, "profile: %s, from %s\n", r.Profile, r.ProfileFrom)
	}
	for _, sec := range sections {
		var group []Finding
		for _, f := range r.Findings {
			if sec.holds(f, r.Strict) {
				group = append(group, f)
			}
		}
		if len(group) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s\n", paint(sec.color, sec.title))
		for _, f := range group {
			sev := ""
			if f.Status == Fail || f.Status == Unknown || f.Status == Waived {
				sev = " [" + string(f.Severity) + "]"
			}
			fmt.Fprintf(&b, "  %s %-20s%s %s\n", paint(sec.color, f.ID), f.Name, sev, printable(f.Message))
			if f.Hint != "" {
				fmt.Fprintf(&b, "        %s\n", paint(ansiDim, "fix: "+f.Hint))
			}
			if w := f.Waiver; w != nil {
				fmt.Fprintf(&b, "        %s\n", paint(ansiDim, waiverLine(w)))
			}
		}
	}
	fmt.Fprintf(&b, "\nverdict: %s%s\n", paint(verdictColor(r.Verdict), string(r.Verdict)), summary(r))
	_, err := io.WriteString(w, b.String())
	return err
}

// waiverLine says what a waiver did, under its finding.
func waiverLine(w *WaiverView) string {
	until := ""
	if w.Expires != "" {
		until = " until " + w.Expires
	}
	switch {
	case w.Expired:
		return "a waiver expired after " + w.Expires + ", so this counts: " + printable(w.Reason)
	case w.Unused:
		return "waiver not needed (the rule did not fail)" + until + ": " + printable(w.Reason)
	}
	return "waived" + until + ": " + printable(w.Reason)
}

// summary counts what decided the verdict: "(2 errors failed, 1 warning)",
// and the waived findings apart.
func summary(r *Report) string {
	var errs, warns, unknowns, waived int
	for _, f := range r.Findings {
		switch {
		case f.Status == Waived:
			waived++
		case f.Status == Fail && f.Severity == Error:
			errs++
		case f.Status == Fail && f.Severity == Warning:
			warns++
		case f.Status == Unknown && f.Severity == Error:
			unknowns++
		}
	}
	var parts []string
	if errs > 0 {
		parts = append(parts, plural(errs, "error")+" failed")
	}
	if warns > 0 {
		w := plural(warns, "warning") + " failed"
		if !r.Strict {
			w += ", which fails the verdict only with --strict"
		}
		parts = append(parts, w)
	}
	if unknowns > 0 {
		parts = append(parts, plural(unknowns, "error rule")+" could not be judged")
	}
	if waived > 0 {
		parts = append(parts, plural(waived, "finding")+" waived")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func plural(n int, word string) string {
	switch {
	case n == 1:
		return "1 " + word
	case word == "child":
		return fmt.Sprintf("%d children", n)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func verdictColor(v Verdict) string {
	switch v {
	case VerdictFail:
		return ansiRed
	case VerdictUnknown:
		return ansiYellow
	}
	return ansiGreen
}

// printable escapes what must not reach a terminal (a process name may
// hold a newline, an escape sequence, a C1 control or a bidi override) so
// that one finding stays one line of what it says.
func printable(s string) string { return safetext.Terminal(s) }

// WriteJSON writes the report as one JSON document of schema dcheck/v2,
// indented when indent is true, followed by a newline.
func WriteJSON(w io.Writer, r *Report, indent bool) error {
	enc := json.NewEncoder(w)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(r)
}

// Explain writes a rule's full text: "dcheck explain" prints it.
func Explain(w io.Writer, r *Rule) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n\n%s\n\n", r.ID, r.Name, r.Title)
	fmt.Fprintf(&b, "Spec:       %s\n", r.Spec)
	fmt.Fprintf(&b, "Kind:       %s\n", r.Kind)
	fmt.Fprintf(&b, "Severity:   %s in sysv, %s in supervised\n", severityWords(r.SysV), severityWords(r.Supervised))
	if r.Mode != "" {
		fmt.Fprintf(&b, "Judged:     only in runs of dcheck verify %s\n", r.Mode)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "%s\n\nHow to fix: %s\n", r.Doc, r.Hint)
	_, err := io.WriteString(w, b.String())
	return err
}

// RulesMarkdown returns docs/rules.md: the catalogue table and each rule's
// full text, generated from the same Rule values as "dcheck explain".
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("<!-- Generated from the catalogue in checks/ by `make docs`. Do not edit. -->\n")
	b.WriteString("# dcheck rules\n\n")
	b.WriteString("Every rule has a stable ID that is never reused. `dcheck explain ID` prints the same text.\n\n")
	b.WriteString(RulesTable())
	for _, r := range rules {
		fmt.Fprintf(&b, "\n## %s %s\n\n%s\n\n", r.ID, r.Name, r.Title)
		fmt.Fprintf(&b, "- Spec: %s\n- Kind: %s\n- Severity: %s in sysv, %s in supervised\n", r.Spec, r.Kind, severityWords(r.SysV), severityWords(r.Supervised))
		if r.Mode != "" {
			fmt.Fprintf(&b, "- Judged only in runs of `dcheck verify %s`\n", r.Mode)
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "%s\n\n**How to fix:** %s\n", r.Doc, r.Hint)
	}
	return b.String()
}

// RulesTable returns the catalogue as a Markdown table, one row per rule.
func RulesTable() string {
	var b strings.Builder
	b.WriteString("| ID | name | sysv | supervised | passes when | spec |\n|---|---|---|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.ID, r.Name, r.SysV, r.Supervised,
			strings.ReplaceAll(r.Title, "|", `\|`), r.Spec)
	}
	return b.String()
}

func severityWords(s Severity) string {
	if s == Off {
		return "not judged"
	}
	return string(s)
}

// maxListed is how many items a message lists before it counts the rest:
// a process may hold thousands of descriptors, and a finding is one line.
const maxListed = 10

// listAtMost joins the first maxListed items and counts the others; the
// JSON report keeps the whole snapshot.
func listAtMost(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}

// fdRanges writes ascending descriptor numbers as ranges: "fd 0, 3-268
// (267 descriptors)".
func fdRanges(nums []int) string {
	var parts []string
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(nums[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", nums[i], nums[j]))
		}
		i = j + 1
	}
	return fmt.Sprintf("fd %s (%s)", listAtMost(parts), plural(len(nums), "descriptor"))
}
