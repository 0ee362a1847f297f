package suites

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/safetext"
	"github.com/dcheck/dcheck/proc/host"
)

// BeDaemon succeeds when the process (a pid, or a *checks.Report already
// taken) is judged pass under pol. The failure message lists every failed
// and unknown finding with its message and fix.
//
//	Expect(pid).To(suites.BeDaemon(checks.Policy{PidFile: "/run/foo.pid"}))
//
// The reaper (DC101): when pol.Reaper is 0 and the test process is a child
// subreaper, as Register and Run make it, the test process is the reaper:
// a daemon it started was adopted by it. Otherwise 0 keeps its meaning,
// init of the daemon's pid namespace. When a subreaper above the test
// process adopts orphans (systemd --user, tini), set pol.Reaper to it.
func BeDaemon(pol checks.Policy) types.GomegaMatcher { return &daemonMatcher{pol: pol} }

// PassRule succeeds when the process (a pid or a *checks.Report) passes
// the static rule id (ID or name) under pol, or skips it as not applicable.
// It finds the reaper as BeDaemon does.
//
//	Expect(pid).To(suites.PassRule("DC103", checks.Policy{}))
func PassRule(id string, pol checks.Policy) types.GomegaMatcher {
	return &daemonMatcher{pol: pol, rule: id}
}

type daemonMatcher struct {
	pol    checks.Policy
	rule   string // "" judges the verdict
	report *checks.Report
	found  checks.Finding
}

func (m *daemonMatcher) Match(actual any) (bool, error) {
	switch a := actual.(type) {
	case *checks.Report:
		m.report = a
	case int:
		fsys, err := host.Reader()
		if err != nil {
			return false, err
		}
		if m.report, err = checks.Inspect(fsys, a, reaperFor(m.pol)); err != nil {
			return false, err
		}
	default:
		return false, fmt.Errorf("BeDaemon/PassRule want a pid (int) or a *checks.Report, got %T", actual)
	}
	if m.rule == "" {
		return m.report.Verdict == checks.VerdictPass, nil
	}
	for _, f := range m.report.Findings {
		if strings.EqualFold(f.ID, m.rule) || f.Name == m.rule {
			m.found = f
			return f.Status == checks.Pass || f.Status == checks.Skip, nil
		}
	}
	return false, fmt.Errorf("no static rule %q", m.rule)
}

func (m *daemonMatcher) FailureMessage(actual any) string {
	if m.rule != "" {
		f := m.found
		return fmt.Sprintf("Expected pid %d to pass %s %s, but it is %s (%s): %s\nfix: %s",
			m.report.PID, f.ID, f.Name, f.Status, f.Severity, safetext.Terminal(f.Message), f.Hint)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Expected pid %d (%s) to be a correct %s daemon; the verdict is %s:\n",
		m.report.PID, safetext.Terminal(m.report.Process.Comm), m.report.Profile, m.report.Verdict)
	for _, f := range m.report.Findings {
		if f.Status == checks.Fail || f.Status == checks.Unknown {
			fmt.Fprintf(&b, "  %s %s [%s %s] %s\n", f.ID, f.Name, f.Severity, f.Status, safetext.Terminal(f.Message))
		}
	}
	return b.String()
}

func (m *daemonMatcher) NegatedFailureMessage(actual any) string {
	if m.rule != "" {
		return fmt.Sprintf("Expected pid %d not to pass %s, but it does: %s", m.report.PID, m.found.ID, m.found.Message)
	}
	return fmt.Sprintf("Expected pid %d not to be a correct %s daemon, but every rule passes", m.report.PID, m.report.Profile)
}
