package checks

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/dcheck/dcheck/proc"
)

// Severity says how much a failed rule matters.
type Severity string

// The severities, most severe first.
const (
	Error   Severity = "error"   // A failure fails the verdict
	Warning Severity = "warning" // A failure fails the verdict only with Policy.Strict
	Info    Severity = "info"    // Reported, never fails the verdict
	Off     Severity = "off"     // The rule does not apply to the profile: skipped
)

// Status is the outcome of one rule for one process.
type Status string

// The statuses. Unknown is never pass and never fail.
const (
	Pass    Status = "pass"    // The process does what the rule asks
	Fail    Status = "fail"    // It does not
	Unknown Status = "unknown" // What the rule needs could not be read; the message says why
	Skip    Status = "skip"    // The rule does not apply: profile, or no pidfile given
	// Waived is a failed or unknown finding that a waiver (Policy.Waivers)
	// accepts: never pass, and it does not decide the verdict.
	Waived Status = "waived"
)

// Kind says what a rule is judged from.
type Kind string

// The kinds of rule.
const (
	// Static rules are judged from one look at a running process (and its
	// pidfile): FS.Take, then Judge.
	Static Kind = "static"
	// Lifecycle rules are judged by the suites from what happens when the
	// daemon is started, started again and stopped. They have no Check.
	Lifecycle Kind = "lifecycle"
)

// The verify modes a lifecycle rule may be judged in only (Rule.Mode).
const (
	// ModeInitScript: an LSB init script drives the daemon (dcheck verify
	// --init-script), and its actions are judged.
	ModeInitScript = "--init-script"
	// ModeUnit: a systemd service unit says how to run the daemon (dcheck
	// verify --unit), and what it promises is judged.
	ModeUnit = "--unit"
	// ModeSocket: a systemd socket unit passes the daemon its listening
	// sockets (dcheck verify --unit --socket).
	ModeSocket = "--socket"
)

// Rule is one thing a correct daemon does. IDs are stable and never
// reused; a withdrawn rule keeps its ID out of the catalogue for good.
type Rule struct {
	ID    string // Stable identifier, e.g. "DC103"
	Name  string // Kebab-case slug, e.g. "not-session-leader"
	Title string // What passes, in one line
	Spec  string // The step of daemon(7), APUE or another text it comes from
	Kind  Kind   // Static or Lifecycle

	SysV       Severity // Severity in ProfileSysV; Off skips the rule there
	Supervised Severity // Severity in ProfileSupervised; Off skips the rule there

	// Mode, for a lifecycle rule, is the dcheck verify flag whose runs
	// alone judge it (ModeInitScript); empty means every run of a profile
	// in which it is not Off.
	Mode string

	// Doc explains why the rule exists, how it is checked and how to fix a
	// failure. It is Markdown-light text: paragraphs separated by blank
	// lines. "dcheck explain", "dcheck rules" and docs/rules.md print it.
	Doc string

	// Hint says in one line how to fix a failure.
	Hint string

	// Needs lists the facts without error fields of their own that Check
	// reads (see proc.Fact): where the reader could not get one, Judge
	// makes the finding unknown, naming the fact and why, and Check does
	// not run.
	Needs []proc.Fact

	// Check judges a process. It is nil for lifecycle rules. It returns
	// Skip, never Off: the profile's Off is applied by Judge.
	Check func(ev *Evidence, pol *Policy) Result
}

// Severity returns the rule's severity in profile p.
func (r *Rule) Severity(p Profile) Severity {
	if p == ProfileSupervised {
		return r.Supervised
	}
	return r.SysV
}

// Result is what a rule's Check found.
type Result struct {
	Status  Status
	Message string
	// Severity, when not empty, overrides the rule's severity for this
	// finding: DC202 is an error when the starter's umask is known, DC401
	// reports an ignored SIGHUP as a warning.
	Severity Severity
}

func pass(format string, a ...any) Result {
	return Result{Status: Pass, Message: fmt.Sprintf(format, a...)}
}

func fail(format string, a ...any) Result {
	return Result{Status: Fail, Message: fmt.Sprintf(format, a...)}
}

func skip(format string, a ...any) Result {
	return Result{Status: Skip, Message: fmt.Sprintf(format, a...)}
}

// errNotVisible is a reason for an unknown finding built from a read error.
func errNotVisible(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("permission denied: %w", err)
	}
	return err
}

// unknown reports what could not be read and why.
func unknown(what string, err error) Result {
	return Result{Status: Unknown, Message: fmt.Sprintf("cannot see %s: %v", what, errNotVisible(err))}
}

// Evidence is what one judgement looks at.
type Evidence struct {
	Process *proc.Snapshot // The process, from FS.Take; required
	PidFile *proc.PidFile  // Its pidfile, from FS.ReadPidFile; nil when none is known
	// Supervision is what supervises it, from Policy.Supervisors; nil
	// when none was asked (NewReport asks then, if the policy says whom).
	Supervision *Supervision
}

// Finding is the outcome of one rule for one process.
type Finding struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"` // How to fix: only on fail and unknown
	Spec     string   `json:"spec"`
	// Waiver is the waiver for this rule, if the policy had one: it says
	// whether it applied (Status is Waived), had expired, or was unused.
	Waiver *WaiverView `json:"waiver,omitempty"`
}

// Decides says whether the finding's severity decides the verdict: an
// error, or a warning with strict (Policy.Strict). Its status is another
// matter: only a failed or unknown finding that decides changes it.
func (f Finding) Decides(strict bool) bool {
	return f.Severity == Error || (strict && f.Severity == Warning)
}

// Verdict is the overall outcome for one process.
type Verdict string

// The verdicts.
const (
	VerdictPass    Verdict = "pass"
	VerdictFail    Verdict = "fail"
	VerdictUnknown Verdict = "unknown"
)

// Judge runs every static rule of the catalogue over the evidence, in
// catalogue order. Every static rule appears exactly once in the findings.
// The verdict is fail if a finding of severity error failed (or of severity
// warning, with pol.Strict), else unknown if a finding of severity error is
// unknown, else pass. A waived finding decides nothing.
func Judge(ev *Evidence, pol Policy) ([]Finding, Verdict) {
	pol.Profile = pol.profile()
	findings := make([]Finding, 0, staticRules)
	for _, r := range rules {
		if r.Kind != Static {
			continue
		}
		findings = append(findings, judgeRule(r, ev, &pol))
	}
	return findings, VerdictOf(findings, pol.Strict)
}

// staticRules is how many rules Judge runs: the size of its findings.
var staticRules = func() int {
	n := 0
	for _, r := range rules {
		if r.Kind == Static {
			n++
		}
	}
	return n
}()

func judgeRule(r *Rule, ev *Evidence, pol *Policy) Finding {
	f := Finding{ID: r.ID, Name: r.Name, Severity: r.Severity(pol.Profile), Spec: r.Spec}
	if f.Severity == Off {
		f.Status = Skip
		f.Message = fmt.Sprintf("not judged in the %s profile", pol.Profile)
		applyWaiver(&f, pol)
		return f
	}
	res := checkWithFacts(r, ev, pol)
	f.Status, f.Message = res.Status, res.Message
	if res.Severity != "" {
		f.Severity = res.Severity
	}
	applyWaiver(&f, pol)
	if f.Status == Fail || f.Status == Unknown {
		f.Hint = r.Hint
	}
	return f
}

// checkWithFacts runs r's Check, unless the reader could not get a fact r
// needs: then the result is unknown, naming the fact and why.
func checkWithFacts(r *Rule, ev *Evidence, pol *Policy) Result {
	for _, fact := range r.Needs {
		if err := ev.Process.Gap(fact); err != nil {
			return unknown("its "+string(fact), err)
		}
	}
	return r.Check(ev, pol)
}

// VerdictOf folds findings into a verdict; see Judge.
func VerdictOf(findings []Finding, strict bool) Verdict {
	v := VerdictPass
	for _, f := range findings {
		counts := f.Decides(strict)
		switch {
		case counts && f.Status == Fail:
			return VerdictFail
		case counts && f.Status == Unknown:
			v = VerdictUnknown
		}
	}
	return v
}

// Rules returns the catalogue, in ID order. The slice is a copy; the rules
// are shared and must not be modified.
func Rules() []*Rule { return append([]*Rule(nil), rules...) }

// Lookup returns the rule with the given ID (case-insensitive) or name.
func Lookup(idOrName string) (*Rule, bool) {
	for _, r := range rules {
		if strings.EqualFold(r.ID, idOrName) || r.Name == idOrName {
			return r, true
		}
	}
	return nil, false
}

// CatalogueDigest is a short hash of what the catalogue judges: every
// rule's ID, name, kind, title and severities. Two builds with the same
// digest judge with the same rules; docs and hints do not change it.
func CatalogueDigest() string {
	h := sha256.New()
	for _, r := range rules {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\n", r.ID, r.Name, r.Kind, r.Title, r.SysV, r.Supervised)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
