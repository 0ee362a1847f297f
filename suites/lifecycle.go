package suites

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/suites/internal/sdemu"
)

// stopFacts is what the stop step saw.
type stopFacts struct {
	done           bool      // the step ran
	pid            int       // the daemon it stopped; 0 when none ran
	how            string    // "SIGTERM" or "the stop command"
	err            error     // the stop command failed, or the signal could not be sent
	exited         bool      // the daemon exited within the stop timeout
	status         string    // how it ended, when visible
	pidfileExisted bool      // the pidfile was there just before the stop
	began, ended   time.Time // when the stop began, and when the daemon was seen gone
}

// stopDaemon is the stop step: once per run, by SU104, SU105, SU108, SU106
// or the teardown, whichever comes first. The pidfile has the last word on
// which process is the daemon (some re-daemonize on SIGHUP).
func (h *harness) stopDaemon() stopFacts {
	if h.stopped.done {
		return h.stopped
	}
	h.stopped.done = true
	if pid, ok := h.fromPidFile(); ok && pid != h.daemon {
		h.findDaemon(pid)
	}
	if h.daemon == 0 || !alive(h.daemon) {
		return h.stopped
	}
	f := stopFacts{done: true, pid: h.daemon, how: "SIGTERM"}
	switch {
	case h.unit() != nil && len(h.unit().ExecStop) > 0:
		f.how = "ExecStop= (then KillSignal=" + unix.SignalName(h.unit().Signal()) + ", if it still ran)"
	case h.unit() != nil:
		f.how = "KillSignal=" + unix.SignalName(h.unit().Signal())
	case h.cfg.InitScript != "":
		f.how = "the script's \"stop\""
	case h.cfg.Stop != "":
		f.how = "the stop command"
	}
	if h.cfg.PidFile != "" {
		_, err := os.Lstat(h.cfg.PidFile)
		f.pidfileExisted = err == nil
	}
	f.began = time.Now()
	f.exited, f.status, f.err = h.stop(h.daemon, "stop")
	f.ended = time.Now()
	if h.unit() != nil && f.exited {
		h.afterUnitStop(f.pid)
	}
	if f.err == nil && !f.exited {
		h.signal(h.daemon, unix.SIGKILL)
		_, f.status = h.waitExit(h.daemon, 5*time.Second)
	}
	if h.fg != nil && f.status == "" {
		select { // the supervised daemon is os/exec's child: its Wait has the status
		case f.status = <-h.fgDone:
			h.fgDone <- f.status
		case <-time.After(time.Second):
		}
	}
	if f.status == "" {
		f.status = "exit status not visible"
	}
	h.stopped = f
	return f
}

// reloadFacts is what the reload step did.
type reloadFacts struct {
	done      bool
	pid       int       // the daemon it reloaded
	pidBefore int       // what the pidfile named just before
	began     time.Time // when the reload was asked for
	how       string    // "SIGHUP", "ExecReload=..."
	err       error     // it could not be asked for; sdemu.ErrNoReload when the unit has no reload
}

// reloadStep asks the daemon to reload, once per run, by SU107 or SU115,
// whichever comes first: SIGHUP, or as the unit says (ExecReload=).
func (h *harness) reloadStep() reloadFacts {
	if h.reloaded.done {
		return h.reloaded
	}
	f := reloadFacts{done: true, pid: h.daemon, how: "SIGHUP"}
	f.pidBefore, _, _ = h.readPidIf()
	f.began = time.Now()
	if h.unit() != nil {
		f.how, f.err = h.reloadUnit(h.daemon)
	} else if err := h.signal(h.daemon, unix.SIGHUP); err != nil {
		f.err = fmt.Errorf("SIGHUP: %w", err)
	}
	h.reloaded = f
	return f
}

// exitStatus waits a second for pid to end and says how it did: os/exec's
// status for the supervised daemon (the harness's child through os/exec),
// wait4's for the others.
func (h *harness) exitStatus(pid int) string {
	if h.fg != nil && pid == h.fg.Process.Pid {
		select {
		case how := <-h.fgDone:
			h.fgDone <- how
			return how
		case <-time.After(time.Second):
			return "exit status not visible"
		}
	}
	if _, how := h.waitExit(pid, time.Second); how != "" {
		return how
	}
	return "exit status not visible"
}

// stop stops pid with the init script's stop, the stop command or SIGTERM,
// and waits.
func (h *harness) stop(pid int, name string) (bool, string, error) {
	if h.unit() != nil {
		if err := h.stopUnit(pid, name); err != nil {
			return false, "", err
		}
	} else if h.cfg.InitScript != "" {
		a, err := h.action("stop")
		if err != nil {
			return false, "", err
		}
		if a.timedOut || a.code != 0 {
			return false, "", fmt.Errorf("%s", a)
		}
	} else if h.cfg.Stop != "" {
		code, timedOut, err := h.shell(h.cfg.Stop, h.cfg.StopTimeout, name)
		if err != nil || timedOut || code != 0 {
			return false, "", fmt.Errorf("the stop command %s%s", ended(code, timedOut, err, h.cfg.StopTimeout), h.printed(name))
		}
	} else if err := h.signal(pid, unix.SIGTERM); err != nil {
		return false, "", fmt.Errorf("SIGTERM to pid %d: %w", pid, err)
	}
	ok, how := h.waitExit(pid, h.cfg.StopTimeout)
	return ok, how, nil
}

func (h *harness) stopQuietly(pid int) {
	if ok, _, _ := h.stop(pid, "stop-quietly"); !ok {
		h.signal(pid, unix.SIGKILL)
		h.waitExit(pid, 5*time.Second)
	}
}

// reloadAndStopSpecs are the specs both profiles share, in order: reload
// (and, for a unit, how it was announced), stop, pidfile removed, nothing
// left.
func reloadAndStopSpecs(hp **harness, unit bool) {
	spec("SU107", func() { (*hp).reloadSpec() })
	if unit {
		spec("SU115", func() { (*hp).reloadNotifiedSpec() })
	}
	spec("SU104", func() { (*hp).stopSpec() })
	spec("SU105", func() { (*hp).pidfileGoneSpec() })
	spec("SU108", func() { (*hp).leftoversSpec() })
}

func (h *harness) reloadSpec() {
	if !h.cfg.Reload {
		h.conclude("SU107", Skipped, "not asked for (--reload)")
	}
	if h.running("SU107") == 0 {
		h.conclude("SU107", Unknown, "no daemon running: %s", h.noDaemonReason())
	}
	r := h.reloadStep()
	pidBefore, reloadHow := r.pidBefore, r.how
	switch {
	case errors.Is(r.err, sdemu.ErrNoReload):
		h.conclude("SU107", Skipped, "%v", r.err)
	case r.err != nil:
		h.conclude("SU107", Failed, "%v", r.err)
	}
	// Nothing announces that a reload is over: watch for half a second.
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if !alive(h.daemon) {
			old := h.daemon
			exitHow := h.exitStatus(old)
			// Some daemons reload by re-executing and daemonizing again
			// (sshd): a new pid in the pidfile. The later specs follow it.
			if h.cfg.PidFile != "" {
				if pid := h.awaitPidFile(min(2*time.Second, h.cfg.StartTimeout)); pid != 0 {
					h.findDaemon(pid)
					h.conclude("SU107", Failed, "pid %d exited on %s (%s); pid %d took its place in the pidfile", old, reloadHow, exitHow, pid)
				}
			}
			h.gone = fmt.Sprintf("pid %d died on %s (%s)", old, reloadHow, exitHow)
			h.conclude("SU107", Failed, "%s", h.gone)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A change counts only from a pidfile that named the daemon: one an
	// earlier step left naming another process (SU103's second instance
	// overwrote it) is not the reload's doing.
	note := ""
	if pid, _, _ := h.readPidIf(); pid != pidBefore && pidBefore == h.daemon {
		h.conclude("SU107", Failed, "the pidfile changed across %s: %d -> %d", reloadHow, pidBefore, pid)
	} else if pidBefore != h.daemon && h.cfg.PidFile != "" {
		note = fmt.Sprintf(" (before it, %s named pid %d, not the daemon; after it, pid %d)", h.cfg.PidFile, pidBefore, pid)
	}
	h.conclude("SU107", Passed, "pid %d survived %s for 500 ms%s", h.daemon, reloadHow, note)
}

func (h *harness) stopSpec() {
	f := h.judgedStop("SU104")
	switch {
	case f.pid == 0:
		h.conclude("SU104", Unknown, "no daemon running: %s", h.noDaemonReason())
	case f.err != nil:
		h.conclude("SU104", Failed, "%v", f.err)
	case !f.exited:
		h.conclude("SU104", Failed, "pid %d still ran %v after %s (killed: %s)", f.pid, h.cfg.StopTimeout, f.how, f.status)
	}
	AddReportEntry("exit status", f.status, entryVisibility())
	h.conclude("SU104", Passed, "pid %d exited after %s: %s", f.pid, f.how, f.status)
}

// cleanStop is the stop step for a spec that judges what the stop left:
// it concludes id unknown when no daemon was stopped, or when the stop was
// not clean (SU104 judges that).
func (h *harness) cleanStop(id string) stopFacts {
	GinkgoHelper()
	f := h.judgedStop(id)
	switch {
	case f.pid == 0:
		h.conclude(id, Unknown, "no daemon was stopped: %s", h.noDaemonReason())
	case f.err != nil || !f.exited:
		h.conclude(id, Unknown, "the daemon did not stop cleanly (SU104)")
	}
	return f
}

// pidfileGoneSpec passes only on evidence: the pidfile was there before a
// clean stop, and is gone after it.
func (h *harness) pidfileGoneSpec() {
	if h.cfg.PidFile == "" {
		h.conclude("SU105", Skipped, "no pidfile given")
	}
	f := h.cleanStop("SU105")
	switch {
	case !f.pidfileExisted:
		h.conclude("SU105", Unknown, "there was no %s before the stop: nothing to remove", h.cfg.PidFile)
	}
	if _, err := os.Lstat(h.cfg.PidFile); err == nil {
		_, holds, _ := h.readPid()
		h.conclude("SU105", Failed, "%s is still there after a clean stop (%s)", h.cfg.PidFile, holds)
	}
	h.conclude("SU105", Passed, "%s was there before the stop of pid %d, and is gone after it", h.cfg.PidFile, f.pid)
}

func (h *harness) leftoversSpec() {
	f := h.judgedStop("SU108")
	if f.pid == 0 {
		h.conclude("SU108", Unknown, "no daemon was stopped: %s", h.noDaemonReason())
	}
	if alive(f.pid) {
		h.conclude("SU108", Unknown, "the daemon still runs (SU104)")
	}
	if !h.can.adopt && !h.can.environ {
		h.conclude("SU108", Unknown, "the processes of the run cannot be found here: orphans are not adopted (a child subreaper is Linux's) and another process's environment, which carries the run's marker, cannot be read on %s", runtime.GOOS)
	}
	left := map[int]bool{}
	for _, pid := range h.adopted() {
		left[pid] = true
	}
	for _, pid := range h.marked(h.daemonSID) {
		left[pid] = true
	}
	if h.fg != nil {
		delete(left, h.fg.Process.Pid)
	}
	var desc []string
	for pid := range left {
		desc = append(desc, fmt.Sprintf("%d (%s)", pid, commOf(pid)))
	}
	h.mu.Lock()
	for _, d := range h.stopSurvivors { // killed since, as systemd kills them
		if !slices.Contains(desc, d) {
			desc = append(desc, d)
		}
	}
	h.mu.Unlock()
	slices.Sort(desc)
	if svc := h.unit(); svc != nil {
		switch mode := svc.Mode(); {
		case len(desc) > 0 && (mode == "process" || mode == "none"):
			h.conclude("SU108", Noted, "KillMode=%s: systemd leaves the rest running, by the unit's choice: %s", mode, strings.Join(desc, ", "))
			return
		case len(desc) > 0:
			kill := "killed with SIGKILL then, as systemd kills them"
			if svc.NoSIGKILL {
				kill = "left running, as SendSIGKILL=no has systemd leave them"
			}
			h.conclude("SU108", Failed, "KillMode=%s: still running %v after %s reached them: %s (%s)", mode, h.cfg.StopTimeout, unix.SignalName(svc.Signal()), strings.Join(desc, ", "), kill)
		}
		h.conclude("SU108", Passed, "after pid %d stopped (KillMode=%s), nothing is left of session %d%s, or carrying the run's marker", f.pid, svc.Mode(), h.daemonSID, h.adoptedNote())
		return
	}
	if len(left) > 0 {
		h.conclude("SU108", Failed, "still running after the daemon stopped: %s", strings.Join(desc, ", "))
	}
	h.conclude("SU108", Passed, "after pid %d stopped, nothing is left of session %d%s, or carrying the run's marker", f.pid, h.daemonSID, h.adoptedNote())
}

func commOf(pid int) string {
	l := looks()
	if l == nil {
		return ""
	}
	comm, _ := l.Comm(pid)
	return comm
}

// secondStartSpec is SU103 for a classic daemon: a second start while the
// first runs must refuse, and start nothing.
func (h *harness) secondStartSpec() {
	if h.cfg.socket != nil {
		h.conclude("SU103", Skipped, "%s", socketOneInstance)
	}
	if h.running("SU103") == 0 {
		h.conclude("SU103", Unknown, "no daemon running: %s", h.noDaemonReason())
	}
	before := h.ours()
	_, pidData, _ := h.readPidIf()
	cmd, err := h.launchStart("second-start", nil)
	if err != nil {
		h.conclude("SU103", Failed, "cannot run the start command: %v", err)
	}
	code, timedOut, _ := h.waitCmd(cmd, h.cfg.StartTimeout)
	extra := h.newcomers(before)
	_, after, _ := h.readPidIf()
	switch {
	case len(extra) > 0:
		h.killAll(extra)
		h.conclude("SU103", Failed, "a second start ran a second daemon (%s, killed)", pidList(extra))
	case !alive(h.daemon):
		h.conclude("SU103", Failed, "the first daemon (pid %d) died during the second start", h.daemon)
	case string(after) != string(pidData):
		h.conclude("SU103", Failed, "the second start changed the pidfile from %q to %q", pidData, after)
	case timedOut:
		h.conclude("SU103", Failed, "the second start did not exit within %v", h.cfg.StartTimeout)
	case code == 0 && h.zeroWhenRunning():
		h.conclude("SU103", Passed, "while pid %d ran, a second start exited 0 (LSB: already running is success; SU120) and started nothing%s", h.daemon, h.printed("second-start"))
		return
	case code == 0:
		h.conclude("SU103", Warned, "the second start exited 0 although nothing started (want non-zero)%s", h.printed("second-start"))
		return // a warning passes the spec unless Strict: one outcome only
	}
	h.conclude("SU103", Passed, "while pid %d ran, a second start refused with exit %d and started nothing%s", h.daemon, code, h.printed("second-start"))
}

// restartSpec is SU106: after kill -9, a start over the stale pidfile
// must run a new daemon. It proves something only of a daemon that ran.
func (h *harness) restartSpec() {
	if h.cfg.PidFile == "" {
		h.conclude("SU106", Skipped, "no pidfile given")
	}
	if h.start.launched && h.daemonSeen == 0 {
		h.conclude("SU106", Unknown, "no daemon ran after the first start: a restart of it proves nothing (%s)", h.noDaemonReason())
	}
	if !h.start.launched {
		h.conclude("SU106", Unknown, "%s", h.noDaemonReason())
	}
	if f := h.stopDaemon(); f.pid != 0 && alive(f.pid) {
		h.conclude("SU106", Unknown, "the first daemon (pid %d) would not stop (SU104)", f.pid)
	}
	before := h.ours()
	first, err := h.startPlain("restart-1")
	if err != nil {
		h.conclude("SU106", Failed, "%v", err)
	}
	if err := h.killStart(first, before); err != nil {
		h.conclude("SU106", Failed, "%v", err)
	}
	var second int
	if h.cfg.Restart != "" {
		code, timedOut, err := h.shell(h.cfg.Restart, h.cfg.StartTimeout, "restart-2")
		if err != nil || timedOut || code != 0 {
			h.conclude("SU106", Failed, "after kill -9 the restart command %s%s", ended(code, timedOut, err, h.cfg.StartTimeout), h.printed("restart-2"))
		}
		second = h.awaitPidFile(h.cfg.StartTimeout)
	} else {
		second, err = h.startPlain("restart-2")
		if err != nil {
			h.conclude("SU106", Failed, "after kill -9 of pid %d: %v", first, err)
		}
	}
	if second == 0 || second == first || !alive(second) {
		h.conclude("SU106", Failed, "after kill -9 of pid %d the pidfile names %d, which does not run", first, second)
	}
	h.stopQuietly(second)
	h.conclude("SU106", Passed, "pid %d killed with SIGKILL; the next start, over its stale pidfile, ran pid %d", first, second)
}

// sessionMembers lists the live processes of session sid (none for 0, or
// for the harness's own session, which is never the run's).
func (h *harness) sessionMembers(sid int) []int {
	if own, err := unix.Getsid(0); sid == 0 || err != nil || sid == own {
		return nil
	}
	var out []int
	pids, _ := h.look.PIDs()
	for _, pid := range pids {
		if st, ok := procStat(pid); ok && st.Alive() && st.Session == sid {
			out = append(out, pid)
		}
	}
	return out
}

// killAll ends pids, daemons a spec's start ran that it must not have,
// with SIGKILL, and waits for each (5 s at most).
func (h *harness) killAll(pids []int) {
	for _, pid := range pids {
		h.signal(pid, unix.SIGKILL)
		h.waitExit(pid, 5*time.Second)
	}
}

// newcomers returns the processes of the run that were not in before and
// are not the running daemon's (descended from it, or in its session): a
// second instance, or one on its way out. A second instance that notices
// the first (a lock, a busy port) exits on its own a moment after its
// starter, and an intermediate fork hands over to its child as it exits:
// it looks until the set has stayed empty for 200 ms, two seconds at most.
// What the first daemon starts meanwhile (a supervisor's managed program,
// a worker) is its own, not a newcomer.
func (h *harness) newcomers(before []int) []int {
	var extra []int
	emptySince := time.Now()
	for deadline := time.Now().Add(min(2*time.Second, h.cfg.StartTimeout)); ; time.Sleep(50 * time.Millisecond) { // ours() scans every process: not too often
		extra = extra[:0]
		for _, pid := range h.ours() {
			if !slices.Contains(before, pid) && !h.ofFirstDaemon(pid) {
				extra = append(extra, pid)
			}
		}
		if len(extra) > 0 {
			emptySince = time.Now()
		}
		if time.Since(emptySince) >= 200*time.Millisecond || time.Now().After(deadline) {
			return extra
		}
	}
}

// killStart kills, as a crash does (a supervisor's SIGKILL, the OOM
// killer), the daemon first and everything its start left: workers must
// not keep its port. A worker forked while the tree was listed shows up in
// the next look: as a descendant, in a session seen in an earlier look, or
// as a process of the run that was not in before (orphaned, the harness
// adopts it; it carries the run's marker). The pidfile may name the daemon
// before it has called setsid(): its session then is not the one its
// workers end up in, so no single look at it is enough.
func (h *harness) killStart(first int, before []int) error {
	sids := map[int]bool{}
	for round := 0; ; round++ {
		var candidates []int
		if first > 0 { // 0 is no daemon: its "children" are pid 1 and kthreadd
			candidates = append([]int{first}, descendantsOf(first)...)
		}
		for sid := range sids {
			candidates = append(candidates, h.sessionMembers(sid)...)
		}
		for _, pid := range h.ours() {
			if !slices.Contains(before, pid) {
				candidates = append(candidates, pid)
			}
		}
		var victims []int
		for _, pid := range candidates {
			if st, ok := procStat(pid); ok && st.Alive() && !slices.Contains(victims, pid) {
				victims = append(victims, pid)
				sids[st.Session] = true
			}
		}
		if len(victims) == 0 {
			return nil
		}
		if round == 10 {
			return fmt.Errorf("the tree of pid %d kept growing under SIGKILL: %v", first, victims)
		}
		for _, pid := range victims {
			h.signal(pid, unix.SIGKILL)
		}
		for _, pid := range victims {
			if ok, _ := h.waitExit(pid, 5*time.Second); !ok {
				return fmt.Errorf("pid %d survived SIGKILL", pid)
			}
		}
	}
}
