package suites

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dcheck/dcheck/suites/internal/sdemu"
	"github.com/dcheck/dcheck/unitfile"
)

// The specs a systemd unit adds (dcheck verify --unit): what its Type=
// and WatchdogSec= promise, and STOPPING=1 (SU116, with the stop specs).

// unitStartSpecs are judged while the first daemon runs; SU117 when a
// socket unit passes it its sockets.
func unitStartSpecs(hp **harness, socket bool) {
	spec("SU113", func() { (*hp).typeMatchesSpec() })
	spec("SU114", func() { (*hp).watchdogSpec() })
	if socket {
		spec("SU117", func() { (*hp).socketActivationSpec() })
	}
}

// unitStopSpecs are judged once the stop step has run.
func unitStopSpecs(hp **harness, socket bool) {
	spec("SU116", func() { (*hp).stoppingSpec() })
	if socket {
		spec("SU118", func() { (*hp).socketFileSpec() })
	}
}

func (h *harness) typeMatchesSpec() {
	const id = "SU113"
	svc, s := h.unit(), h.start
	if !s.launched {
		h.conclude(id, Failed, "Type=%s: %s", svc.Type, h.noDaemonReason())
	}
	if svc.Type == unitfile.Forking {
		switch {
		case s.err != nil || s.timedOut || s.code != 0:
			h.conclude(id, Failed, "Type=forking, but ExecStart= %s: systemd would fail the start", s.startSummary())
		case svc.PIDFile == "" && h.daemonSeen == 0:
			h.conclude(id, Failed, "Type=forking: ExecStart= exited 0 and left no daemon")
		case svc.PIDFile != "" && h.readiness.outcome != Passed:
			h.conclude(id, Failed, "Type=forking with PIDFile=%s: %s", svc.PIDFile, h.readinessMessage())
		}
		answered, refused := h.probeVerdict()
		if refused != "" {
			h.conclude(id, Failed, "Type=forking: ExecStart= exited 0 after %v, but a connection to %s then failed: systemd would start what is ordered after the service before it serves", s.took.Round(time.Millisecond), refused)
		}
		if svc.PIDFile == "" {
			h.conclude(id, Passed, "Type=forking: ExecStart= exited 0 after %v and left pid %d (no PIDFile=: systemd guesses the main pid)%s", s.took.Round(time.Millisecond), h.daemonSeen, answeredNote(answered))
			return
		}
		h.conclude(id, Passed, "Type=forking: ExecStart= exited 0 after %v, and PIDFile=%s named the live daemon, pid %d, at that instant%s", s.took.Round(time.Millisecond), svc.PIDFile, h.daemonSeen, answeredNote(answered))
		return
	}
	main := 0
	if h.fg != nil {
		main = h.fg.Process.Pid
	}
	if s.exited != "" {
		h.conclude(id, Failed, "Type=%s, but the started process %d exited (%s): systemd takes that as the service's end", svc.Type, main, s.exited)
	}
	if !svc.Type.Notifies() {
		note := ""
		if len(h.cfg.Probe) > 0 {
			note = "; --probe is not judged: systemd takes it as started at once, before anything can listen"
		}
		h.conclude(id, Passed, "Type=%s: the started process, pid %d, is the daemon and stays (%v after its start)%s", svc.Type, main, s.took.Round(time.Millisecond), note)
		return
	}
	ready := h.notify.With("READY=1")
	if len(ready) == 0 {
		h.conclude(id, Failed, "Type=%s, but no READY=1 arrived within the start timeout %v: systemd would fail the unit and stop it%s", svc.Type, h.cfg.StartTimeout, h.notify.RefusedNote("READY=1"))
	}
	// What NotifyAccess= refused is not in ready (sdemu.NotifySocket): a
	// READY=1 from another pid was heard with exec or all.
	first := ready[0]
	sender, pronoun := fmt.Sprintf("the main pid %d", main), "it"
	if first.PID != main && first.PID != 0 {
		sender = fmt.Sprintf("pid %d (heard with NotifyAccess=%s)", first.PID, svc.Access())
		pronoun = sender
	}
	at := first.At.Sub(h.startedAt).Round(time.Millisecond)
	answered, refused := h.probeVerdict()
	if refused != "" {
		h.conclude(id, Failed, "Type=%s: %s sent READY=1 %v after its start, but a connection to %s then failed: systemd would start what is ordered after the service before it serves", svc.Type, sender, at, refused)
	}
	h.conclude(id, Passed, "Type=%s: the main pid %d stays, and %s sent READY=1 %v after its start%s", svc.Type, main, pronoun, at, answeredNote(answered))
}

// answeredNote adds the --probe addresses that took a connection at the
// readiness to SU113's message.
func answeredNote(answered string) string {
	if answered == "" {
		return ""
	}
	return "; then " + answered + " took a connection"
}

func (h *harness) watchdogSpec() {
	const id = "SU114"
	svc := h.unit()
	switch {
	case svc.Watchdog == 0:
		h.conclude(id, Skipped, "the unit sets no WatchdogSec=")
	case h.notify == nil:
		h.conclude(id, Unknown, "Type=%s: the harness plays no notify socket for it, so a watchdog cannot be watched", svc.Type)
	case h.fg == nil || h.start.exited != "" || !alive(h.fg.Process.Pid):
		h.conclude(id, Unknown, "no daemon running: %s", h.noDaemonReason())
	}
	main := h.fg.Process.Pid
	period := svc.Watchdog
	from := h.readyAt
	if from.IsZero() {
		from = h.startedAt
	}
	until := from.Add(3 * period)
	// The pings are messages on the socket: wait for the three periods to
	// have passed, then judge what arrived. A period and a quarter without
	// a ping ends the watch at once: systemd would have killed the daemon
	// by then, and a stock unit's WatchdogSec=3min would otherwise hold
	// the run nine minutes to say so.
	for time.Now().Before(until) && alive(main) {
		last := from
		for _, m := range h.notify.With("WATCHDOG=1") {
			if (m.PID == main || m.PID == 0) && m.At.After(last) {
				last = m.At
			}
		}
		if time.Since(last) > period+period/4 {
			until = time.Now()
			break
		}
		time.Sleep(min(time.Until(until), 50*time.Millisecond))
	}
	if !alive(main) {
		h.conclude(id, Failed, "the daemon, pid %d, exited while its watchdog was watched", main)
	}
	h.syncNotify()           // every ping sent by now, logged
	h.sampleScheduling(main) // a sample after the watch, for waitedForCPU
	if h.schedDone != nil {
		close(h.schedDone) // no more samples needed
	}
	var pings []time.Time
	for _, m := range h.notify.With("WATCHDOG=1") {
		if (m.PID == main || m.PID == 0) && !m.At.After(until) && !m.At.Before(from) {
			pings = append(pings, m.At)
		}
	}
	// The longest wait decides what systemd would do; the usual one, the
	// median between pings, whether the daemon pings as often as
	// sd_watchdog_enabled(3) asks (every half period): one late tick on a
	// busy machine is not a slow cadence.
	gap, gapFrom, prev := time.Duration(0), from, from
	for _, at := range append(pings, until) {
		if at.Sub(prev) > gap {
			gap, gapFrom = at.Sub(prev), prev
		}
		prev = at
	}
	var between []time.Duration
	for i := 1; i < len(pings); i++ {
		between = append(between, pings[i].Sub(pings[i-1]))
	}
	slices.Sort(between)
	usual := gap
	if len(between) > 0 {
		usual = between[len(between)/2]
	}
	switch {
	case len(pings) == 0:
		h.conclude(id, Failed, "no WATCHDOG=1 from pid %d in %v (WatchdogSec=%v, WATCHDOG_USEC=%d): systemd would kill it after %v%s", main, until.Sub(from).Round(time.Millisecond), period, period.Microseconds(), period, h.notify.RefusedNote("WATCHDOG=1"))
	case gap > period:
		waited, seen := h.waitedForCPU(gapFrom, gapFrom.Add(gap))
		// The machine is to blame only if it kept the daemon from
		// running for a period: waits summed over threads grow with
		// every wake-up of every thread on a busy machine, whether or not
		// a ping was due. A daemon whose threads ran all through the
		// silence had its chances.
		if stalled, ran := h.longestStall(gapFrom, gapFrom.Add(gap)); ran > 0 && stalled < period/2 {
			h.conclude(id, Failed, "%d WATCHDOG=1 from pid %d in %v, but %v passed without one (WatchdogSec=%v), while its threads were run %d times, never more than %v apart: systemd would kill it", len(pings), main, until.Sub(from).Round(time.Millisecond), gap.Round(time.Millisecond), period, ran, stalled.Round(time.Millisecond))
		}
		if seen && gap-waited <= period {
			h.conclude(id, Unknown, "%v passed without WATCHDOG=1 from pid %d (WatchdogSec=%v), but meanwhile its threads waited %v in all for a CPU (schedstat): the machine was too busy for its cadence to be judged", gap.Round(time.Millisecond), main, period, waited.Round(time.Millisecond))
		}
		note := ""
		if seen {
			note = fmt.Sprintf("; its threads waited only %v for a CPU meanwhile", waited.Round(time.Millisecond))
		}
		h.conclude(id, Failed, "%d WATCHDOG=1 from pid %d in %v, but %v passed without one (WatchdogSec=%v): systemd would kill it%s", len(pings), main, until.Sub(from).Round(time.Millisecond), gap.Round(time.Millisecond), period, note)
	case usual > period*3/4: // half a period, with a quarter for scheduling: pings at exactly half arrive a little late
		h.conclude(id, Warned, "%d WATCHDOG=1 from pid %d in %v, usually %v apart: well over half of WatchdogSec=%v, which sd_watchdog_enabled(3) asks for", len(pings), main, 3*period, usual.Round(time.Millisecond), period)
		return // a warning passes the spec unless Strict: one outcome only
	}
	h.conclude(id, Passed, "%d WATCHDOG=1 from pid %d in %v, usually %v apart; the longest wait was %v (WatchdogSec=%v)", len(pings), main, 3*period, usual.Round(time.Millisecond), gap.Round(time.Millisecond), period)
}

func (h *harness) stoppingSpec() {
	const id = "SU116"
	svc := h.unit()
	if !svc.Type.Notifies() {
		h.conclude(id, Skipped, "Type=%s: the daemon does not speak sd_notify", svc.Type)
	}
	f := h.cleanStop(id)
	h.syncNotify() // what it sent before it exited, all of it
	for _, m := range h.notify.With("STOPPING=1") {
		if (m.PID == f.pid || m.PID == 0) && !m.At.Before(f.began) {
			h.conclude(id, Passed, "pid %d sent STOPPING=1 %v after %s, and exited within TimeoutStopSec (%s)", f.pid, m.At.Sub(f.began).Round(time.Millisecond), f.how, f.status)
			return
		}
	}
	h.conclude(id, Failed, "pid %d exited after %s (%s) without sending STOPPING=1%s", f.pid, f.how, f.status, h.notify.RefusedNote("STOPPING=1")) // a warning, as the catalogue says
}

// reloadNotifiedSpec is SU115: a notify daemon announces its reload with
// RELOADING=1 and MONOTONIC_USEC, then READY=1, as the same main pid.
// Required for Type=notify-reload (systemd waits for it); for Type=notify
// with ExecReload= a missing one is a warning (systemd cannot tell when the
// reload is over).
func (h *harness) reloadNotifiedSpec() {
	const id = "SU115"
	svc := h.unit()
	if !svc.Type.Notifies() {
		h.conclude(id, Skipped, "Type=%s: the daemon does not speak sd_notify", svc.Type)
	}
	if !h.reloaded.done && (h.stopped.done || h.daemon == 0 || !alive(h.daemon)) {
		h.conclude(id, Unknown, "no daemon running: %s", h.noDaemonReason())
	}
	r := h.reloadStep()
	switch {
	case errors.Is(r.err, sdemu.ErrNoReload):
		h.conclude(id, Skipped, "%v", r.err)
	case r.err != nil:
		h.conclude(id, Unknown, "the reload could not be asked for (SU107): %v", r.err)
	}
	bad := Failed
	if svc.Type == unitfile.Notify {
		bad = Warned
	}
	// Messages give no event the harness can wait on here: look until
	// READY=1 follows RELOADING=1, the daemon ends, or the start timeout.
	var reloading, ready *sdemu.Msg
	for deadline := time.Now().Add(h.cfg.StartTimeout); ; time.Sleep(20 * time.Millisecond) {
		reloading, ready = nil, nil
		log := h.notify.Log()
		for i := range log {
			m := &log[i]
			if m.At.Before(r.began) || m.PID != r.pid && m.PID != 0 {
				continue
			}
			if reloading == nil && m.Has("RELOADING=1") {
				reloading = m
			} else if reloading != nil && m.Has("READY=1") {
				ready = m
				break
			}
		}
		if ready != nil || !alive(r.pid) || time.Now().After(deadline) {
			break
		}
	}
	switch {
	case reloading == nil:
		h.conclude(id, bad, "no RELOADING=1 from pid %d after %s (Type=%s)%s", r.pid, r.how, svc.Type, h.notify.RefusedNote("RELOADING=1"))
		return // a warning passes the spec unless Strict: one outcome only
	case reloading.MonotonicUsec() == "" && svc.Type == unitfile.NotifyReload:
		h.conclude(id, Failed, "RELOADING=1 from pid %d came without MONOTONIC_USEC= (Type=notify-reload: systemd 253 and later require it)", r.pid)
	case ready == nil:
		h.conclude(id, bad, "RELOADING=1 from pid %d %v after %s, and no READY=1 after it within %v: systemd would wait for the reload to end%s", r.pid, reloading.At.Sub(r.began).Round(time.Millisecond), r.how, h.cfg.StartTimeout, h.notify.RefusedNote("READY=1"))
		return
	}
	usec := "MONOTONIC_USEC=" + reloading.MonotonicUsec()
	if reloading.MonotonicUsec() == "" {
		usec = "no MONOTONIC_USEC, which only Type=notify-reload needs"
	}
	h.conclude(id, Passed, "pid %d sent RELOADING=1 (%s) %v after %s, and READY=1 %v later", r.pid, usec,
		reloading.At.Sub(r.began).Round(time.Millisecond), r.how, ready.At.Sub(reloading.At).Round(time.Millisecond))
}

// schedSample is how long the daemon's threads had waited, in all, for a
// CPU (their schedstat) at one instant.
type schedSample struct {
	at     time.Time
	waited time.Duration // its threads' time runnable, waiting for a CPU, summed
	ran    uint64        // how many times its threads were run, summed
}

// watchScheduling samples, from the daemon's launch until SU114's three
// watchdog periods after its readiness have passed, how long it has waited
// for a CPU: a ping that a loaded machine kept from running is the
// machine's lateness, not the daemon's (waitedForCPU). Only a unit with
// WatchdogSec=, on /proc; it ends early when the daemon does.
func (h *harness) watchScheduling() {
	svc := h.unit()
	if svc == nil || svc.Watchdog == 0 || h.fs == nil || h.fg == nil {
		return
	}
	pid, until := h.fg.Process.Pid, time.Now().Add(h.cfg.StartTimeout+3*svc.Watchdog+time.Second)
	h.schedDone = make(chan struct{})
	go func() {
		for time.Now().Before(until) && h.sampleScheduling(pid) {
			select {
			case <-h.schedDone: // SU114 has judged
				return
			case <-time.After(20 * time.Millisecond): // the scheduler's counters give no event
			}
		}
	}()
}

// sampleScheduling records how long pid has waited for a CPU so far, and
// reports whether it could (false: gone, or no schedstat in this kernel).
func (h *harness) sampleScheduling(pid int) bool {
	if h.fs == nil {
		return false
	}
	st, err := h.fs.SchedStat(pid)
	if err != nil {
		return false
	}
	h.mu.Lock()
	h.sched = append(h.sched, schedSample{time.Now(), st.RunQueueWait, st.Timeslices})
	h.mu.Unlock()
	return true
}

// longestStall bounds from above, between from and to, the longest
// stretch in which none of the daemon's threads was run: a run counted at a
// sample happened after the sample before it, so two runs seen at samples
// s and t were at most t minus the sample before s apart (the samples are
// 20 ms apart). ran is how many times the threads were run in the span; 0
// when the samples do not cover it.
func (h *harness) longestStall(from, to time.Time) (stalled time.Duration, ran uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var prev, start *schedSample
	var runSince time.Time // the earliest the last run could have been
	for i := range h.sched {
		s := &h.sched[i]
		if s.at.Before(from) {
			prev = s
			continue
		}
		if prev == nil {
			return 0, 0 // no sample before from
		}
		if start == nil {
			start, runSince = prev, prev.at
		}
		if s.ran != prev.ran {
			stalled = max(stalled, s.at.Sub(runSince))
			runSince = prev.at
		}
		prev = s
		if !s.at.Before(to) {
			return max(stalled, s.at.Sub(runSince)), s.ran - start.ran
		}
	}
	return 0, 0 // the samples end before to
}

// waitedForCPU is how long the daemon's threads waited for a CPU, in all,
// between the last sample at or before from and the first at or after to
// (a little more than from..to: never less); seen is false when the
// samples do not cover the span.
func (h *harness) waitedForCPU(from, to time.Time) (waited time.Duration, seen bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var first, last *schedSample
	for i := range h.sched {
		s := &h.sched[i]
		if !s.at.After(from) {
			first = s
		}
		if last == nil && !s.at.Before(to) {
			last = s
		}
	}
	if first == nil || last == nil {
		return 0, false
	}
	return last.waited - first.waited, true
}
