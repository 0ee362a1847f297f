package suites

import (
	"context"
	"fmt"
	"os"

	"github.com/dcheck/dcheck/checks"
)

// A spec that needs the daemon running, as the start left it, judges a
// fresh one when an earlier spec destroyed that state: SU103's second
// start removed the running daemon's pidfile, or SU107's reload killed it.
// Otherwise each spec would inherit the damage of the one before it and
// say "unknown" of what the daemon does right (the truth issue: three real
// daemons whose second start unlinks the pidfile got SU105 unknown,
// although each removes it on SIGTERM when started fresh).

// freshFacts is the fresh start, made at most once per run.
type freshFacts struct {
	done bool   // it was tried
	pid  int    // the fresh daemon; 0 when the start failed
	why  string // what an earlier spec left of the first daemon
	err  error  // the fresh start failed
}

// damage says what an earlier spec left of the first daemon that a spec
// needing it running cannot judge: it is gone, or the pidfile the start
// wrote (SU102) is gone or names another process. "" when it runs as the
// start left it, when none ever ran (nothing was destroyed: the start's
// specs say why), or after the stop step.
func (h *harness) damage() string {
	if h.daemonSeen == 0 || h.stopped.done || h.handedTo != 0 {
		return ""
	}
	if pid, ok := h.fromPidFile(); ok && pid != h.daemon {
		h.findDaemon(pid) // it re-executed itself (sshd on SIGHUP): follow it
	}
	if h.daemon == 0 || !alive(h.daemon) {
		if h.gone != "" {
			return h.gone
		}
		return fmt.Sprintf("the daemon, pid %d, no longer ran", h.daemonSeen)
	}
	if h.cfg.PidFile == "" || h.readiness.outcome != Passed {
		return ""
	}
	switch pid, _, err := h.readPid(); {
	case err != nil && !alive(pid):
		if _, serr := os.Lstat(h.cfg.PidFile); serr != nil {
			return fmt.Sprintf("%s, which the start wrote, was gone while pid %d ran", h.cfg.PidFile, h.daemon)
		}
		return fmt.Sprintf("%s, which the start wrote, no longer named pid %d, which ran: %v", h.cfg.PidFile, h.daemon, err)
	case pid != h.daemon:
		return fmt.Sprintf("%s, which the start wrote, named pid %d instead of pid %d, which ran", h.cfg.PidFile, pid, h.daemon)
	}
	return ""
}

// canStartFresh says whether a fresh daemon can be started and found: a
// classic daemon's start command exits and its pidfile names the daemon;
// a supervised daemon is the process started, in the foreground, as the
// first one was.
func (h *harness) canStartFresh() bool {
	if h.cfg.Profile == checks.ProfileSupervised {
		return h.fg != nil && h.handedTo == 0
	}
	return h.cfg.PidFile != "" && h.foreign == 0
}

// startFresh starts the fresh daemon as the first one was started.
func (h *harness) startFresh() (int, error) {
	if h.cfg.Profile != checks.ProfileSupervised {
		return h.startPlain("fresh-start")
	}
	if h.unit() != nil {
		if err := h.prepareUnit(); err != nil {
			return 0, err
		}
	}
	for drained := false; !drained; { // the first daemon's, heard before it died
		select {
		case <-h.notify.Heard():
		default:
			drained = true
		}
	}
	cmd, err := h.launchStart("fresh-start", nil)
	if err != nil {
		return 0, fmt.Errorf("cannot run the start command: %w", err)
	}
	h.watchForeground(cmd)
	_, mainpid, exited := h.waitReady(context.Background(), h.readyWait())
	pid := cmd.Process.Pid
	switch {
	case exited:
		how := <-h.fgDone
		h.fgDone <- how
		return 0, fmt.Errorf("the fresh daemon, pid %d, exited during its start (%s)%s", pid, how, h.printed("fresh-start"))
	case mainpid != 0 && mainpid != pid && h.ofRun(mainpid):
		return 0, fmt.Errorf("the fresh daemon, pid %d, handed the service to pid %d, which it forked (SU111)", pid, mainpid)
	}
	h.track(pid)
	return pid, nil
}

// running returns the daemon spec id, which needs one running, judges:
// the first, or, when an earlier spec destroyed the state it needs
// (damage), a fresh one, started once for all the specs after it; id's
// verdict then says so. 0 when none runs; noDaemonReason then says why.
func (h *harness) running(id string) int {
	pid := h.runningDaemon()
	if pid != 0 && pid == h.fresh.pid {
		h.onFresh[id] = true
	}
	return pid
}

// judgedStop is the stop step for spec id, which judges the stop or what
// it left (SU104, SU105, SU108, SU116, SU118, SU121): of the daemon
// running would give id, so that a stop is never blamed for what an
// earlier spec did to the daemon.
func (h *harness) judgedStop(id string) stopFacts {
	if !h.stopped.done {
		h.running(id)
	}
	f := h.stopDaemon()
	if f.pid != 0 && f.pid == h.fresh.pid {
		h.onFresh[id] = true
	}
	return f
}

// runningDaemon is running's answer, for every spec alike: the first
// daemon when it is as the start left it, else the fresh one, started on
// the first call that finds the damage.
func (h *harness) runningDaemon() int {
	live := func() int {
		if h.stopped.done || h.daemon == 0 || !alive(h.daemon) {
			return 0
		}
		return h.daemon
	}
	why := h.damage()
	if why == "" || h.fresh.done || !h.canStartFresh() {
		// Nothing to repair, or no repair to make: the daemon as it is.
		if why != "" && h.gone == "" && live() == 0 {
			h.gone = why
		}
		return live()
	}
	h.fresh = freshFacts{done: true, why: why}
	// Clear what is left of the first daemon, as a crash would: the stop
	// command may need the very pidfile that is gone, and the stop is
	// judged on the fresh daemon. The pidfile a killed daemon leaves names
	// a process of this run that no longer runs: removed, so that the
	// fresh start begins from the slate the first one had.
	var spare []int // the job-control launch's shell leads the terminal's session
	if h.leader != 0 {
		spare = append(spare, h.leader)
	}
	if err := h.killStart(h.daemon, spare); err != nil {
		h.fresh.err = fmt.Errorf("what was left of the first daemon would not end: %w", err)
		h.gone = why + ", and " + h.fresh.err.Error()
		return 0
	}
	h.removeStalePidFile()
	pid, err := h.startFresh()
	if err != nil {
		h.fresh.err = err
		h.gone = fmt.Sprintf("%s, and a fresh start to judge failed: %v", why, err)
		return 0
	}
	h.fresh.pid = pid
	h.findDaemon(pid)
	return h.daemon
}

// freshNote, appended to id's verdict, says that it was judged on the
// fresh daemon, and why: "" when it was judged on the first.
func (h *harness) freshNote(id string) string {
	if h.fresh.pid == 0 || !h.onFresh[id] {
		return ""
	}
	return fmt.Sprintf(" (judged on a fresh daemon, pid %d, started because %s)", h.fresh.pid, h.fresh.why)
}
