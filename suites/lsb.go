package suites

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/safepath"
)

// The LSB init-script specs (SU120-SU124): the script's actions, each run
// as init runs it (launchPlain: a session of its own, "/", stdin
// /dev/null, a clean environment), judged by exit code and by what runs
// afterwards. LSB Core 5.0, "Init Script Actions".

// LSB exit codes of status.
const (
	lsbRunning    = 0
	lsbDeadPid    = 1 // program is dead and the pidfile exists
	lsbNotRunning = 3
)

// lsbUnimplemented is the LSB exit code of an action the script does not
// implement.
const lsbUnimplemented = 3

// unknownAction is an action no init script implements (SU124).
const unknownAction = "dcheck-no-such-action"

// lsbSpecs adds the init-script specs, in the order they run: SU120 while
// the first daemon runs; the others after the stop, each from a stopped
// daemon and leaving one.
func lsbSpecs(hp **harness) {
	spec("SU120", func() { (*hp).lsbStartSpec() })
}

func lsbStoppedSpecs(hp **harness) {
	spec("SU121", func() { (*hp).lsbStopSpec() })
	spec("SU122", func() { (*hp).lsbStatusSpec() })
	spec("SU123", func() { (*hp).lsbRestartSpec() })
	spec("SU124", func() { (*hp).lsbUsageSpec() })
}

// zeroWhenRunning reports whether a start that finds the daemon already
// running must exit 0, as LSB asks of an init script's start (SU120):
// then SU103 and SU109 take a second start's exit 0 for success, where
// they otherwise warn that it hides the refusal.
func (h *harness) zeroWhenRunning() bool { return h.cfg.InitScript != "" }

// actionRun is one run of an init-script action.
type actionRun struct {
	action   string
	code     int
	timedOut bool
	out      string // what it printed, briefly (headBuffer.String: one line)
}

// String is the run as messages quote it: `"status" exited 3 ("not running")`.
func (a actionRun) String() string {
	s := fmt.Sprintf("%q exited %d", a.action, a.code)
	if a.timedOut {
		s = fmt.Sprintf("%q did not exit in time (killed)", a.action)
	}
	if a.out != "" {
		s += fmt.Sprintf(" (%q)", a.out)
	}
	return s
}

// action runs the init script's action and waits for it, up to the stop
// timeout for "stop" and the start timeout otherwise.
func (h *harness) action(action string) (actionRun, error) {
	h.mu.Lock()
	h.actions++
	name := fmt.Sprintf("lsb-%d-%s", h.actions, action)
	h.mu.Unlock()
	timeout := h.cfg.StartTimeout
	if action == "stop" {
		timeout = h.cfg.StopTimeout
	}
	cmd, err := h.launchPlain([]string{h.cfg.InitScript, action}, name)
	if err != nil {
		return actionRun{action: action}, fmt.Errorf("cannot run %s %s: %w", h.cfg.InitScript, action, err)
	}
	code, timedOut, err := h.waitCmd(cmd, timeout)
	if err != nil {
		return actionRun{action: action}, fmt.Errorf("%s %s: %w", h.cfg.InitScript, action, err)
	}
	return actionRun{action: action, code: code, timedOut: timedOut, out: h.output(name)}, nil
}

// mustAction is action for a spec: a script that cannot be run leaves the
// spec unknown.
func (h *harness) mustAction(id, action string) actionRun {
	GinkgoHelper()
	a, err := h.action(action)
	if err != nil {
		h.conclude(id, Unknown, "%v", err)
	}
	return a
}

// stoppedSlate brings the run to a stopped daemon and no pidfile, for the
// specs that drive the script from there: the first daemon stopped (the
// stop step), and a pidfile it left removed (SU105's finding). It returns
// a note for the message, or concludes id unknown.
func (h *harness) stoppedSlate(id string) string {
	GinkgoHelper()
	if !h.start.launched || h.daemonSeen == 0 {
		h.conclude(id, Unknown, "no daemon ran after the first start: the script's actions on it prove nothing (%s)", h.noDaemonReason())
	}
	if f := h.stopDaemon(); f.pid != 0 && alive(f.pid) {
		h.conclude(id, Unknown, "the first daemon (pid %d) would not stop (SU104)", f.pid)
	}
	pid, _, err := h.readPid()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ""
	case err == nil && alive(pid):
		h.conclude(id, Unknown, "%s names pid %d, which still runs: no stopped daemon to start from", h.cfg.PidFile, pid)
	}
	if err := safepath.Unlink(h.cfg.PidFile); err != nil {
		h.conclude(id, Unknown, "cannot remove the stale pidfile the stop left: %v", err)
	}
	return fmt.Sprintf("; the stale %s the stop left was removed first (SU105)", h.cfg.PidFile)
}

// startForSpec runs the script's start from a stopped daemon and returns
// the daemon it started, or concludes id unknown.
func (h *harness) startForSpec(id, name string) int {
	GinkgoHelper()
	pid, err := h.startPlain(name)
	if err != nil {
		h.conclude(id, Unknown, "the script's start did not run a daemon (SU101): %v", err)
	}
	return pid
}

// stopForSpec stops what a spec started: the script's stop, and SIGKILL
// for whatever of the run it left.
func (h *harness) stopForSpec(before []int) {
	h.action("stop")
	if pid, ok := h.fromPidFile(); ok {
		h.stopQuietly(pid)
	}
	for _, pid := range h.ours() {
		if !slices.Contains(before, pid) {
			h.signal(pid, unix.SIGKILL)
			h.waitExit(pid, 5*time.Second)
		}
	}
	h.removeStalePidFile()
}

// lsbStartSpec is SU120: start exited 0 (the first start, on the terminal),
// and exits 0 again while the daemon runs, starting nothing.
func (h *harness) lsbStartSpec() {
	const id = "SU120"
	s := h.start
	switch {
	case !s.launched || s.err != nil || s.timedOut:
		h.conclude(id, Unknown, "%s", h.noDaemonReason())
	case s.code != 0:
		h.conclude(id, Failed, "the first %q %s", "start", strings.TrimPrefix(s.startSummary(), "it "))
	case h.running(id) == 0:
		h.conclude(id, Unknown, "no daemon running: %s", h.noDaemonReason())
	}
	before := h.ours()
	_, pidData, _ := h.readPid()
	a := h.mustAction(id, "start")
	extra := h.newcomers(before)
	_, after, _ := h.readPid()
	switch {
	case len(extra) > 0:
		h.killAll(extra)
		h.conclude(id, Failed, "while pid %d ran, %s and ran a second daemon (%s, killed)", h.daemon, a, pidList(extra))
	case !alive(h.daemon):
		h.conclude(id, Failed, "pid %d died as %s", h.daemon, a)
	case string(after) != string(pidData):
		h.conclude(id, Failed, "while pid %d ran, %s and changed %s from %q to %q", h.daemon, a, h.cfg.PidFile, pidData, after)
	case a.timedOut || a.code != 0:
		h.conclude(id, Failed, "while pid %d ran, %s (LSB: start when already running exits 0)", h.daemon, a)
	}
	h.conclude(id, Passed, "the first start exited 0 and ran pid %d; while pid %d ran, %s, started nothing and left %s naming it", h.daemonSeen, h.daemon, a, h.cfg.PidFile)
}

// lsbStopSpec is SU121: the stop step (the script's stop) exited 0, and
// stop exits 0 again with nothing running.
func (h *harness) lsbStopSpec() {
	const id = "SU121"
	f := h.judgedStop(id)
	switch {
	case f.pid == 0:
		h.conclude(id, Unknown, "no daemon was stopped: %s", h.noDaemonReason())
	case f.err != nil:
		h.conclude(id, Failed, "stopping pid %d: %v", f.pid, f.err)
	case alive(f.pid):
		h.conclude(id, Unknown, "pid %d still runs after the stop (SU104)", f.pid)
	}
	a := h.mustAction(id, "stop")
	if a.timedOut || a.code != 0 {
		h.conclude(id, Failed, "after pid %d stopped, %s with nothing running (LSB: stop when already stopped exits 0)", f.pid, a)
	}
	h.conclude(id, Passed, "\"stop\" exited 0 and pid %d exited (%s); with nothing running, %s", f.pid, f.status, a)
}

// lsbStatusSpec is SU122: status says 3 stopped, 0 running, 1 dead with
// its pidfile left (after kill -9).
func (h *harness) lsbStatusSpec() {
	const id = "SU122"
	note := h.stoppedSlate(id)
	var looks []string
	wrong := false
	look := func(when string, want int) {
		a := h.mustAction(id, "status")
		line := fmt.Sprintf("%s, %s", when, a)
		if a.timedOut || a.code != want {
			line += fmt.Sprintf(" (want %d)", want)
			wrong = true
		}
		looks = append(looks, line)
	}
	look("stopped", lsbNotRunning)
	before := h.ours()
	pid := h.startForSpec(id, "lsb-status-start")
	look(fmt.Sprintf("while pid %d ran", pid), lsbRunning)
	if err := h.killStart(pid, before); err != nil {
		h.conclude(id, Unknown, "kill -9 of the daemon: %v", err)
	}
	if _, err := os.Lstat(h.cfg.PidFile); err != nil {
		h.conclude(id, Unknown, "after kill -9 of pid %d, %s is gone (%v): nothing can have removed it but the script", pid, h.cfg.PidFile, err)
	}
	look(fmt.Sprintf("after kill -9 of pid %d, %s left", pid, h.cfg.PidFile), lsbDeadPid)
	h.removeStalePidFile()
	if wrong {
		h.conclude(id, Failed, "%s%s", strings.Join(looks, "; "), note)
	}
	h.conclude(id, Passed, "%s%s", strings.Join(looks, "; "), note)
}

// lsbRestartSpec is SU123: restart runs a new daemon in place of the old
// one, force-reload leaves one running, and reload, when the script has
// it, keeps the daemon.
func (h *harness) lsbRestartSpec() {
	const id = "SU123"
	note := h.stoppedSlate(id)
	before := h.ours()
	defer h.stopForSpec(before)
	old := h.startForSpec(id, "lsb-restart-start")

	// one checks that, after a, one daemon runs, named by the pidfile, and
	// nothing else of the run is left; it returns that daemon.
	one := func(a actionRun, prev int) int {
		if a.timedOut || a.code != 0 {
			h.conclude(id, Failed, "with pid %d running, %s (want 0)", prev, a)
		}
		pid := h.awaitPidFile(h.cfg.StartTimeout)
		if pid == 0 {
			h.conclude(id, Failed, "after %s, %s names no running daemon", a, h.cfg.PidFile)
		}
		h.findDaemon(pid)
		if others := h.newcomers(before); len(others) > 0 {
			h.conclude(id, Failed, "after %s, pid %d runs and so do %s, besides it", a, pid, describePids(others))
		}
		return pid
	}
	restart := h.mustAction(id, "restart")
	pid := one(restart, old)
	if pid == old {
		h.conclude(id, Failed, "%s, but pid %d still runs: nothing was restarted", restart, old)
	}
	if alive(old) {
		h.conclude(id, Failed, "after %s, the old daemon pid %d still runs beside pid %d", restart, old, pid)
	}
	said := []string{fmt.Sprintf("%s: pid %d replaced pid %d", restart, pid, old)}
	fr := h.mustAction(id, "force-reload")
	next := one(fr, pid)
	how := "the same pid"
	if next != pid {
		how = fmt.Sprintf("pid %d replaced pid %d", next, pid)
	}
	said = append(said, fmt.Sprintf("%s: one daemon, %s", fr, how))
	// LSB: reload is optional, and an unimplemented one exits 3. One that
	// exits as an unknown action does is not implemented either: that
	// exit is SU124's to judge.
	rl := h.mustAction(id, "reload")
	unknown := actionRun{code: -1}
	if rl.code != 0 && rl.code != lsbUnimplemented {
		unknown = h.mustAction(id, unknownAction)
	}
	switch {
	case rl.code == lsbUnimplemented:
		said = append(said, fmt.Sprintf("%s: not implemented", rl))
	case rl.code != 0 && !rl.timedOut && rl.code == unknown.code:
		said = append(said, fmt.Sprintf("%s, as for an unknown action: not implemented (SU124 judges that exit)", rl))
	default:
		// A reload may hand over to a new process (haproxy -sf, sshd's
		// re-exec): the service goes on, and the pidfile names the new one.
		after := one(rl, next)
		how := fmt.Sprintf("pid %d kept running", after)
		if after != next {
			how = fmt.Sprintf("pid %d took over from pid %d", after, next)
		}
		said = append(said, fmt.Sprintf("%s: %s", rl, how))
	}
	h.conclude(id, Passed, "%s%s", strings.Join(said, "; "), note)
}

// lsbUsageSpec is SU124: an unknown action exits 2 or 3 and starts nothing.
func (h *harness) lsbUsageSpec() {
	const id = "SU124"
	if f := h.stopDaemon(); f.pid != 0 && alive(f.pid) {
		h.conclude(id, Unknown, "the first daemon (pid %d) would not stop (SU104)", f.pid)
	}
	before := h.ours()
	a := h.mustAction(id, unknownAction)
	extra := h.newcomers(before)
	if len(extra) > 0 {
		h.killAll(extra)
		h.conclude(id, Failed, "%s and started %s (killed)", a, pidList(extra))
	}
	if a.timedOut || a.code != 2 && a.code != 3 {
		h.conclude(id, Failed, "%s (want 2, invalid argument, or 3, unimplemented)", a)
	}
	h.conclude(id, Passed, "%s and started nothing", a)
}
