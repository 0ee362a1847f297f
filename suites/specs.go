package suites

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/dcheck/dcheck/checks"
)

// Register adds the conformance specs for cfg to the caller's Ginkgo tree,
// as one Ordered, ContinueOnFailure container, and returns true (so that
// it can be called as var _ = suites.Register(cfg)). Every spec carries its
// rule ID as a label ("SU101", "DC103"), and "lifecycle" or "static".
//
// Before the first selected spec, whatever the label filter selects, the
// container validates cfg (an invalid one fails it), launches the daemon
// and records what it saw (setup.go); each spec judges those facts, or a
// lifecycle step it runs itself, never what another spec left behind.
// After the last: the stop (if no spec made it), the summary, the cleanup.
//
// On Linux the run makes the test process a child subreaper
// (PR_SET_CHILD_SUBREAPER), for good: the daemon is adopted by it.
// Elsewhere it runs without (see "Without Linux" in the package doc).
func Register(cfg Config) bool {
	// The tree depends on the profile, which a unit's Type= decides: a
	// configuration that validates is used as validated (an invalid one
	// fails the container, below).
	if probe := cfg; probe.Validate() == nil {
		cfg = probe
	}
	title := "dcheck conformance: " + strings.Join(cfg.Start, " ")
	Describe(title, Ordered, ContinueOnFailure, func() {
		var h *harness
		BeforeAll(func() {
			if err := cfg.Validate(); err != nil {
				Fail(err.Error())
			}
			var err error
			if h, err = newHarness(cfg); err != nil {
				Fail(err.Error())
			}
			DeferCleanup(func() { h.cleanup() })
			if cfg.Profile == checks.ProfileSupervised {
				h.setUpSupervised()
			} else {
				h.setUpSysV()
			}
		})
		AfterAll(func() {
			if h != nil {
				h.stopDaemon()
				h.printSummary()
			}
		})
		if cfg.Profile == checks.ProfileSupervised {
			supervisedSpecs(&h, cfg.service != nil, cfg.socket != nil)
		} else {
			sysvSpecs(&h, cfg.InitScript != "", cfg.service != nil, cfg.socket != nil)
		}
	})
	return true
}

func rule(id string) *checks.Rule {
	r, ok := checks.Lookup(id)
	if !ok {
		panic("no rule " + id)
	}
	return r
}

// spec registers one lifecycle spec named after its rule.
func spec(id string, body func()) {
	r := rule(id)
	It(r.ID+" "+r.Name+": "+r.Title, Label(r.ID, "lifecycle"), body)
}

// staticSpecs adds one spec per static rule, judged on the report setup
// took of the settled daemon.
func staticSpecs(hp **harness) {
	for _, r := range checks.Rules() {
		if r.Kind != checks.Static {
			continue
		}
		It(r.ID+" "+r.Name+": "+r.Title, Label(r.ID, "static"), func() {
			h := *hp
			if r.ID == "DC301" && h.foreign != 0 {
				h.conclude(r.ID, Failed, "%s", h.foreignMessage())
			}
			rep, err := h.judge()
			if err != nil {
				h.conclude(r.ID, Unknown, "%v", err)
			}
			for _, f := range rep.Findings {
				if f.ID == r.ID {
					msg := f.Message
					if f.Status == checks.Waived {
						msg += " (waived: " + f.Waiver.Reason + ")"
					}
					h.conclude(r.ID, staticOutcome(f), "%s", msg)
					return // passed, warned or noted: one outcome only
				}
			}
			h.conclude(r.ID, Unknown, "the judgement has no finding for %s", r.ID)
		})
	}
}

// sysvSpecs adds the specs of a classic daemon, those of its init script
// when lsb, of its unit when unit, and of its socket unit when socket.
func sysvSpecs(hp **harness, lsb, unit, socket bool) {
	spec("SU101", func() {
		h := *hp
		s := h.start
		switch {
		case !s.launched:
			h.conclude("SU101", Failed, "%s", h.noDaemonReason())
		case s.err != nil:
			h.conclude("SU101", Failed, "start command: %v", s.err)
		case s.timedOut:
			h.conclude("SU101", Failed, "the start command did not exit within %v (killed); it stays in the foreground", h.cfg.StartTimeout)
		case s.code != 0:
			AddReportEntry("start command output", h.startOut.Head(), entryVisibility())
			h.conclude("SU101", Failed, "the start command %s", strings.TrimPrefix(s.startSummary(), "it "))
		case h.daemonSeen == 0:
			h.conclude("SU101", Failed, "the start command exited 0 but no daemon is running (%s%s)%s", h.noneAdopted(), h.pidfileNote(), h.killedNote(true))
		case s.terminal != "":
			h.conclude("SU101", Failed, "the daemon (pid %d) still holds the start command's terminal: %s", h.daemonSeen, s.terminal)
		}
		h.conclude("SU101", Passed, "the start command exited 0 after %v; the daemon is pid %d%s", s.took.Round(1e6), h.daemonSeen, h.terminalNote())
	})
	spec("SU102", func() {
		h := *hp
		h.conclude("SU102", h.readiness.outcome, "%s", h.readinessMessage())
	})
	if unit {
		unitStartSpecs(hp, socket)
	}
	staticSpecs(hp)
	spec("SU103", func() { (*hp).secondStartSpec() })
	if injected != nil {
		It("a spec a test injected", func() { injected(*hp) })
	}
	if lsb {
		lsbSpecs(hp)
	}
	reloadAndStopSpecs(hp, unit)
	if unit {
		unitStopSpecs(hp, socket)
	}
	if lsb {
		lsbStoppedSpecs(hp)
	}
	spec("SU106", func() { (*hp).restartSpec() })
	spec("SU109", func() { (*hp).concurrentStartsSpec() })
}

// injected, when a test sets it (export_test.go), is a spec registered
// after SU103 in a classic daemon's tree, where a new lifecycle spec would
// go: the tests' proof that a spec that changes the daemon (kills it)
// changes no other spec's outcome. Nil outside the tests.
var injected func(h *harness)

// readinessMessage is SU102's message; its zero value says why nothing was
// recorded.
func (h *harness) readinessMessage() string {
	if h.readiness.message == "" {
		return "nothing was seen when the start command exited: " + h.noDaemonReason()
	}
	return h.readiness.message
}

func supervisedSpecs(hp **harness, unit, socket bool) {
	spec("SU111", func() {
		h := *hp
		s := h.start
		if h.mainpidNote != "" {
			AddReportEntry("MAINPID", h.mainpidNote, entryVisibility())
		}
		switch {
		case !s.launched:
			h.conclude("SU111", Failed, "%s", h.noDaemonReason())
		case s.exited != "":
			h.conclude("SU111", Failed, "the start command exited (%s): a supervised daemon must stay in the foreground: %s", s.exited, s.output)
		case h.handedTo != 0:
			// READY=1 came first, from a process it forked, with that
			// process's MAINPID: the exit that follows is only a matter of
			// time, and not one to wait for.
			h.conclude("SU111", Failed, "%s: the daemon is pid %d, which the started process forked; a supervisor watches the process it started", h.mainpidNote, h.handedTo)
		}
		h.conclude("SU111", Passed, "pid %d runs in the foreground %v after its start", h.daemon, s.took.Round(1e6))
	})
	spec("SU112", func() {
		h := *hp
		switch {
		case h.unit() != nil && !h.unit().Type.Notifies():
			h.conclude("SU112", Skipped, "Type=%s: systemd expects no READY=1", h.unit().Type)
		case !h.start.launched || h.start.exited != "" || h.handedTo != 0:
			h.conclude("SU112", Unknown, "%s", h.noDaemonReason())
		case h.notify == nil:
			h.conclude("SU112", Unknown, "no NOTIFY_SOCKET was offered: a message is evidence only when credited to its sender's pid, which needs Linux (SO_PASSCRED)")
		case !h.notifiedReady:
			h.conclude("SU112", Failed, "no READY=1 on NOTIFY_SOCKET (readiness was taken from the pidfile, or the start timeout %v)%s", h.cfg.StartTimeout, h.notify.RefusedNote("READY=1"))
			return // SU112 is a warning (the catalogue): it passes the spec unless Strict, one outcome only
		}
		from := ""
		if ready := h.notify.With("READY=1"); len(ready) > 0 && ready[0].PID != 0 {
			from = fmt.Sprintf(" from pid %d", ready[0].PID)
		}
		h.conclude("SU112", Passed, "READY=1 received on NOTIFY_SOCKET%s", from)
	})
	if unit {
		unitStartSpecs(hp, socket)
	}
	staticSpecs(hp)
	spec("SU103", func() {
		h := *hp
		if h.cfg.PidFile == "" {
			h.conclude("SU103", Skipped, "no pidfile given: nothing for a second foreground instance to see")
		}
		if h.cfg.socket != nil {
			h.conclude("SU103", Skipped, "%s", socketOneInstance)
		}
		if h.running("SU103") == 0 {
			h.conclude("SU103", Unknown, "no daemon running: %s", h.noDaemonReason())
		}
		_, pidData, _ := h.readPid()
		cmd, err := h.launchStart("second-start", nil)
		if err != nil {
			h.conclude("SU103", Failed, "%v", err)
		}
		code, timedOut, _ := h.waitCmd(cmd, h.cfg.StartTimeout)
		_, after, _ := h.readPid()
		switch {
		case timedOut:
			h.conclude("SU103", Failed, "a second instance kept running for %v (killed)", h.cfg.StartTimeout)
		case string(after) != string(pidData):
			h.conclude("SU103", Failed, "the second instance changed the pidfile from %q to %q", pidData, after)
		case code == 0:
			h.conclude("SU103", Warned, "the second instance exited 0 (want non-zero)")
			return // a warning passes the spec unless Strict: one outcome only
		}
		h.conclude("SU103", Passed, "while pid %d ran, the second instance refused with exit %d%s", h.daemon, code, h.printed("second-start"))
	})
	reloadAndStopSpecs(hp, unit)
	if unit {
		unitStopSpecs(hp, socket)
	}
	spec("SU106", func() {
		h := *hp
		h.conclude("SU106", Skipped, "a supervisor restarts a foreground daemon itself")
	})
	spec("SU109", func() { (*hp).concurrentStartsSpec() })
}
