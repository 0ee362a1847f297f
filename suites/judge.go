package suites

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
)

// The judgement of the daemon by the static rules: the policy the run
// knows (the configuration and the hostile launch's starter facts), the
// waivers, and the daemon report.

// policy is what the judge knows: the configuration and the hostile
// launch's starter facts.
func (h *harness) policy() checks.Policy {
	pol := checks.Policy{Profile: h.cfg.Profile, Umask: h.cfg.Umask, Cwds: h.cfg.Cwds,
		PidFile: h.cfg.PidFile, Strict: h.cfg.Strict, Waivers: h.cfg.Waivers}
	if tailor := h.cfg.Tailor; tailor != nil {
		pol.Tailor = func(s *proc.Snapshot, p *checks.Policy) {
			profile, reaper := p.Profile, p.Reaper
			tailor(s, p)
			p.Profile, p.Reaper = profile, reaper
			h.mu.Lock()
			h.waivers, h.tailored = p.Waivers, true
			h.mu.Unlock()
		}
	}
	if h.unit() != nil {
		// systemd is the starter: no signal blocked or ignored, no
		// descriptor passed on. Its umask is the unit's, chosen on
		// purpose: keeping it is no fault, and DC202 says whose it is.
		u := h.unit().Umask()
		pol.Starter = &checks.StarterFacts{Umask: &u, UmaskSetter: "the unit's UMask="}
	} else if h.cfg.Profile != checks.ProfileSupervised {
		u := uint32(StarterUmask)
		var blk, ign proc.SignalSet
		for _, s := range starterBlocked {
			blk |= 1 << (uint(s) - 1)
		}
		for _, s := range starterIgnored {
			ign |= 1 << (uint(s) - 1)
		}
		if !h.can.sigmask {
			blk = 0 // not set: see startOnThisThread
		}
		pol.Starter = &checks.StarterFacts{Umask: &u, Blocked: blk, Ignored: ign}
		pol.Inherited = []checks.FileID{h.sentID}
	}
	if h.subreaper {
		pol.Reaper = os.Getpid()
	}
	return pol
}

// waiver returns the waiver for rule id: the tailored policy's once the
// daemon has been judged, the configuration's before.
func (h *harness) waiver(id string) (checks.WaiverView, bool) {
	h.mu.Lock()
	pol := checks.Policy{Waivers: h.cfg.Waivers}
	if h.tailored {
		pol.Waivers = h.waivers
	}
	h.mu.Unlock()
	return pol.WaiverFor(id)
}

// judge inspects the daemon once, during setup; the DC specs share the
// result. Without a daemon, the error says why there is none.
func (h *harness) judge() (*checks.Report, error) {
	if h.report == nil && h.reportErr == nil {
		if h.daemon == 0 || !h.start.launched {
			h.reportErr = errors.New("no daemon to judge: " + h.noDaemonReason())
		} else {
			h.daemonSeen = h.daemon
			h.report, h.reportErr = checks.Inspect(h.look, h.daemon, h.policy())
			h.writeDaemonReport()
		}
	}
	return h.report, h.reportErr
}

// writeDaemonReport writes the judged report to Config.DaemonReport; a
// failure is said, and judges nothing.
func (h *harness) writeDaemonReport() {
	if h.cfg.DaemonReport == "" || h.report == nil {
		return
	}
	var buf bytes.Buffer
	err := checks.WriteJSON(&buf, h.report, true)
	if err == nil {
		err = os.WriteFile(h.cfg.DaemonReport, buf.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(h.cfg.Out, "dcheck: --daemon-report: %v\n", err)
	}
}
