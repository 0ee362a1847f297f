package suites

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/dcheck/dcheck/proc"
)

// Finding the daemon: which process it is, when it is at rest, and what
// its pidfile said when the start command exited (SU102).

// ofFirstDaemon reports whether pid is the running daemon's: descended from
// it, or in its session.
func (h *harness) ofFirstDaemon(pid int) bool {
	if h.daemon == 0 {
		return false
	}
	if pid == h.daemon || descendsFrom(pid, h.daemon) {
		return true
	}
	st, ok := procStat(pid)
	return ok && h.daemonSID != 0 && st.Session == h.daemonSID
}

func (h *harness) pidfileNote() string {
	switch {
	case h.cfg.PidFile == "":
		return ", and no --pidfile was given"
	case h.foreign != 0:
		return fmt.Sprintf(" and %s names pid %d, which this run did not start", h.cfg.PidFile, h.foreign)
	}
	return " and " + h.cfg.PidFile + " names none"
}

// fromPidFile reads the pidfile and says whether it names a live process of
// this run. A live process that the run did not start is never the daemon:
// it is remembered (DC301 and SU102 fail on it) and never signalled.
func (h *harness) fromPidFile() (int, bool) {
	pid, _, err := h.readPidIf()
	if err != nil || pid == 0 || !alive(pid) {
		return pid, false
	}
	if !h.ofRun(pid) {
		h.foreign = pid
		return pid, false
	}
	return pid, true
}

// foreignMessage is what DC301 and SU102 say of a pidfile that names a
// process this run did not start.
func (h *harness) foreignMessage() string {
	return fmt.Sprintf("%s names pid %d, which this run did not start: it is not the daemon, and the harness never signals it", h.cfg.PidFile, h.foreign)
}

// readiness is SU102's verdict, decided at the instant the start command
// exits and reported by its own spec.
type readiness struct {
	outcome Outcome
	message string
}

func (h *harness) recordReadiness(pid int, err error) {
	switch {
	case h.cfg.PidFile == "" && h.daemon != 0:
		h.readiness = readiness{Passed, fmt.Sprintf("no pidfile given; the daemon (pid %d) was running when the start command exited", h.daemon)}
	case h.cfg.PidFile == "":
		h.readiness = readiness{Failed, "no pidfile given, and no daemon was running when the start command exited"}
	case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, proc.ErrPidFile):
		h.readiness = readiness{Failed, fmt.Sprintf("when the start command exited, %s could not be read: %v", h.cfg.PidFile, err)}
	case err != nil:
		h.readiness = readiness{Failed, fmt.Sprintf("when the start command exited, %s was not ready: %v", h.cfg.PidFile, err)}
	case alive(pid) && !h.ofRun(pid):
		h.foreign = pid
		h.readiness = readiness{Failed, "when the start command exited, " + h.foreignMessage()}
	case !alive(pid):
		h.readiness = readiness{Failed, fmt.Sprintf("when the start command exited, %s named pid %d, which does not run", h.cfg.PidFile, pid)}
	case pid != h.daemon:
		h.readiness = readiness{Failed, fmt.Sprintf("when the start command exited, %s named pid %d, not the daemon %d", h.cfg.PidFile, pid, h.daemon)}
	default:
		h.readiness = readiness{Passed, fmt.Sprintf("%s named the live daemon, pid %d, when the start command exited", h.cfg.PidFile, pid)}
	}
}

// findDaemon settles which process is the daemon: the pid in the pidfile
// when it runs and belongs to the run, else the oldest process the harness
// adopted.
func (h *harness) findDaemon(fromPidFile int) {
	h.daemon = 0
	adopted := h.adopted()
	if fromPidFile > 0 && alive(fromPidFile) && !h.ofRun(fromPidFile) {
		h.foreign = fromPidFile
	}
	switch {
	case fromPidFile > 0 && alive(fromPidFile) && h.ofRun(fromPidFile):
		h.daemon = fromPidFile
	case len(adopted) > 0:
		h.daemon = adopted[0] // the oldest pid: the first one started
	}
	if h.daemon != 0 {
		h.track(h.daemon)
		if st, ok := procStat(h.daemon); ok {
			h.daemonSID = st.Session
		}
	}
	h.report, h.reportErr = nil, nil
}

// settle waits, up to the start timeout, until the daemon is at rest: the
// pidfile (when there is one) names it, no other process the start left
// behind is still on its way out (an intermediate fork), and it sleeps
// with the same executable twice in a row (not between a fork and an
// exec). Judging earlier would judge a process in passing. The kernel
// announces none of this: it polls.
func (h *harness) settle() {
	if h.daemon == 0 {
		return
	}
	deadline := time.Now().Add(h.cfg.StartTimeout)
	prev, restSince := "", time.Now()
	for time.Now().Before(deadline) {
		if pid, ok := h.fromPidFile(); ok {
			h.daemon = pid
		}
		adopted := h.adopted()
		if !alive(h.daemon) {
			if len(adopted) == 0 {
				break
			}
			h.daemon = adopted[0]
		}
		others := len(adopted) > 0 && !(len(adopted) == 1 && adopted[0] == h.daemon)
		st, ok := procStat(h.daemon)
		if !ok {
			continue
		}
		exe, _ := h.look.Exe(h.daemon)
		state := st.State
		_, pidData, _ := h.readPidIf()
		now := fmt.Sprint(h.daemon, exe, string(state), string(pidData))
		// At rest for 100 ms: an intermediate may write the pidfile and the
		// daemon rewrite it a moment later (libslack's daemon does).
		if !others && (state == 'S' || state == 'I') && now == prev {
			if time.Since(restSince) >= 100*time.Millisecond {
				break
			}
		} else {
			restSince = time.Now()
		}
		prev = now
		time.Sleep(5 * time.Millisecond)
	}
	h.findDaemon(h.daemon)
	if !alive(h.daemon) {
		h.findDaemon(0)
	}
}

// awaitPidFile polls the pidfile (a file write gives no event) until it
// names a live process of the run or timeout passes, and returns that pid
// or 0. A pidfile naming a live process the run did not start ends the
// wait at once, with 0; so does a run with no live process left, as
// nothing is left to write it (a daemon that died at start costs no wait).
func (h *harness) awaitPidFile(timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	empty := 0 // looks in a row that found no process of the run
	for i := 0; ; i++ {
		pid, ok := h.fromPidFile()
		if ok {
			return pid
		}
		if h.foreign != 0 && pid == h.foreign || time.Now().After(deadline) {
			return 0
		}
		// Listing the run walks /proc: every tenth look is enough. Two
		// empty lists in a row, 100 ms apart, as one can miss a process
		// that is being re-parented or exec'd just then.
		if i%10 == 0 {
			if slices.ContainsFunc(h.runProcesses(), func(p int) bool { return p != h.leader }) {
				empty = 0
			} else if empty++; empty == 2 {
				if pid, ok := h.fromPidFile(); ok { // written as the last of the run exited
					return pid
				}
				return 0
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noneAdopted begins the reason no daemon was found.
func (h *harness) noneAdopted() string {
	if !h.can.adopt {
		return "orphans are not adopted here, as a child subreaper is Linux's"
	}
	return "none was adopted"
}

// adoptedNote is ", adopted" where the harness adopts the run's orphans.
func (h *harness) adoptedNote() string {
	if !h.can.adopt {
		return ""
	}
	return ", adopted"
}

// holdsTerminal says which terminal the daemon still has, or "". Without
// a pty, it is the start command's output pipe that stood in for one.
func (h *harness) holdsTerminal() string {
	if h.daemon == 0 {
		return ""
	}
	if !h.can.pty {
		return h.holdsOutputPipe()
	}
	s, err := h.look.Take(h.daemon)
	if err != nil {
		return ""
	}
	if s.Stat.TTY != 0 {
		return "as its controlling terminal"
	}
	for _, d := range s.FDs {
		if d.Terminal {
			return fmt.Sprintf("fd %d %s", d.Num, d.Target)
		}
	}
	return ""
}

func (h *harness) readPidIf() (int, []byte, error) {
	if h.cfg.PidFile == "" {
		return 0, nil, nil
	}
	return h.readPid()
}

// startPlain runs the start command as an init script would and returns
// the daemon it started. Every caller starts from a stopped daemon, so a
// unit's ExecStartPre= runs first, as systemd runs it on each start of an
// inactive unit (a second start of a running one, SU103, runs nothing).
func (h *harness) startPlain(name string) (int, error) {
	killedBefore := len(h.procs.Killed())
	if h.unit() != nil {
		if err := h.prepareUnit(); err != nil {
			return 0, err
		}
	}
	cmd, err := h.launchStart(name, nil)
	if err != nil {
		return 0, err
	}
	pid, err := h.awaitPlainStart(cmd, name)
	if err != nil {
		if killed := h.procs.Killed()[killedBefore:]; len(killed) > 0 {
			err = fmt.Errorf("%w; meanwhile %s", err, strings.Join(killed, ", "))
		}
	}
	return pid, err
}

// awaitPlainStart waits for a plainly launched start command and the
// daemon it starts.
func (h *harness) awaitPlainStart(cmd *exec.Cmd, name string) (int, error) {
	code, timedOut, err := h.waitCmd(cmd, h.cfg.StartTimeout)
	if timedOut || err != nil || code != 0 {
		return 0, fmt.Errorf("the start command %s%s", ended(code, timedOut, err, h.cfg.StartTimeout), h.printed(name))
	}
	// Daemons whose starter does not wait for them write the pidfile a
	// moment later: give it the start timeout.
	began := time.Now()
	pid := h.awaitPidFile(h.cfg.StartTimeout)
	if pid == 0 {
		if h.foreign != 0 {
			return 0, fmt.Errorf("after the start, %s", h.foreignMessage())
		}
		waited := fmt.Sprintf("waited %v", h.cfg.StartTimeout)
		if time.Since(began) < h.cfg.StartTimeout {
			waited = "no process of the run was left to write it"
		}
		if out := h.output(name); out != "" {
			waited += "; it printed: " + out
		}
		named, _, err := h.readPid()
		if err != nil {
			return 0, fmt.Errorf("after the start, the pidfile names no live process (%s): %v", waited, err)
		}
		return 0, fmt.Errorf("after the start, %s names pid %d, which does not run (%s)", h.cfg.PidFile, named, waited)
	}
	h.track(pid)
	return pid, nil
}

// noDaemonReason says why no daemon is running, for the specs that need
// one: from the start command's facts, or what became of the daemon.
func (h *harness) noDaemonReason() string {
	switch {
	case !h.start.launched && h.start.err != nil:
		return h.start.err.Error()
	case !h.start.launched:
		return "the run was not set up"
	case h.start.err != nil || h.start.timedOut || h.start.code != 0 || h.start.exited != "":
		return "the start command failed: " + h.start.startSummary() + h.killedNote(false)
	case h.handedTo != 0:
		return fmt.Sprintf("the started process handed the service to pid %d, which it forked (%s, SU111): a supervisor watches the process it started", h.handedTo, h.mainpidNote)
	case h.daemonSeen == 0:
		return "the start command exited 0 but no daemon was found (" + h.noneAdopted() + h.pidfileNote() + ")" + h.killedNote(false)
	case h.stopped.done && h.stopped.pid != 0:
		return fmt.Sprintf("the daemon (pid %d) was stopped", h.stopped.pid)
	case h.gone != "":
		return h.gone
	}
	return fmt.Sprintf("the daemon (pid %d) is gone", h.daemonSeen)
}

// holdsOutputPipe says, without a pty, whether a process of the run still
// holds the start command's output pipe: "" once every writer has closed
// it (outputDrained), else what is held.
func (h *harness) holdsOutputPipe() string {
	if h.startOut == nil || h.outputDrained() {
		return ""
	}
	return "the start command's output pipe, which stood in for a terminal (no pty here), is still open for writing"
}

// terminalNote, for SU101's pass without a pty, says what stood in for
// the terminal.
func (h *harness) terminalNote() string {
	if h.can.pty || h.startOut == nil {
		return ""
	}
	return "; no pty here: the start command's output pipe, standing in for its terminal, was let go"
}
