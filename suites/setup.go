package suites

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

// The run, in order. Setup runs before the first selected spec, whatever
// the label filter selects; every spec judges facts recorded here or by a
// step it asks for itself (lifecycle.go), never facts another spec left:
//
//  1. Launch the start command in the hostile environment (sysv) or as a
//     supervisor would (supervised), and wait for it to exit (sysv) or to
//     be ready (supervised).
//  2. At the instant the start command exits, read the pidfile: SU102.
//  3. Find the daemon (the pidfile's pid when it belongs to the run, else
//     the oldest process the harness adopted) and let it settle.
//  4. Judge it once with every static rule; the DC specs share the report.
//  5. Lifecycle steps, each run once by the first spec that needs it: a
//     second start (SU103), SIGHUP (SU107), the stop (SU104, SU105, SU108,
//     and teardown when none of them ran), kill -9 and restart (SU106).
//  6. Teardown: the stop if no spec made it, the summary, the cleanup.

// startFacts is what step 1 saw of the start command.
type startFacts struct {
	launched bool          // the start command ran at all
	err      error         // why it could not run, or how waiting for it failed
	code     int           // its exit status (sysv); -1 when a signal killed it
	signal   unix.Signal   // the signal that killed it (sysv), when one did
	killed   []string      // processes of the run a signal killed during the start: "pid N (comm) was killed by SIGX"
	timedOut bool          // it did not exit within the start timeout (sysv: killed)
	exited   string        // supervised: it exited, and how
	terminal string        // the daemon still holds the start command's terminal: which, and how
	output   string        // what it printed, bounded
	took     time.Duration // from launch to exit (sysv) or readiness (supervised)

	frozen    int   // sysv: processes of the run stopped while the pidfile was read at the exit
	freezeErr error // sysv: one would not stop: the look was not frozen
}

// setUpSysV is steps 1 to 4 for a classic daemon.
func (h *harness) setUpSysV() {
	h.lookBeforeStart()
	var cmd *exec.Cmd
	var err error
	if h.unit() != nil {
		if err := h.prepareUnit(); err != nil {
			h.start.err = err
			return
		}
		cmd, err = h.unitCmd(h.unit().ExecStart[0], "start", true, nil, nil)
	} else {
		cmd, err = h.launchHostile(h.cfg.Start)
	}
	if err != nil {
		h.start.err = fmt.Errorf("cannot run the start command: %v", err)
		return
	}
	// SU102 is about the instant the start command exits: the pidfile is
	// read there, with the rest of the run stopped (tracer.go).
	x := h.startTraced(cmd, h.cfg.StartTimeout)
	if cmd.Process == nil {
		h.start.err = fmt.Errorf("cannot run the start command: %v", x.Err)
		return
	}
	h.start.launched = true
	if h.hold != nil {
		h.leader = cmd.Process.Pid // job control: bash leads the session, and waits
		cmd.ExtraFiles[5].Close()  // the hold pipe's read end is the leader's alone
	}
	code, timedOut, pidAtExit, pidErr := x.Code, x.TimedOut, x.PID, x.PIDErr
	h.start.code, h.start.timedOut, h.start.err, h.start.took = code, timedOut, x.Err, x.Took
	h.start.signal = x.Signal
	h.start.frozen, h.start.freezeErr = x.Frozen, x.FreezeErr
	if h.pts != nil {
		h.pts.Close()
		h.pts = nil
	}
	h.findDaemon(pidAtExit)
	h.recordReadiness(pidAtExit, pidErr)
	if h.cfg.PidFile != "" && !timedOut {
		h.readiness.message += " (" + howLooked(x) + ")"
		if h.readiness.outcome == Passed && errors.Is(x.FreezeErr, errNotFrozen) {
			// A pidfile missing after the exit was missing at it; one
			// present may have been written just after.
			h.readiness = readiness{Unknown, h.readiness.message + ", but " + errNotFrozen.Error()}
		}
	}
	seen := h.daemon
	if h.cfg.PidFile != "" && !timedOut && code == 0 && (pidAtExit == 0 || !alive(pidAtExit)) {
		// SU102 has its verdict; the other specs judge the daemon once it
		// has written its pidfile, however late.
		h.findDaemon(h.awaitPidFile(h.cfg.StartTimeout))
	}
	if !timedOut {
		h.settle()
	}
	h.start.killed = h.procs.Killed()
	if h.readiness.outcome == Passed && (h.daemon == 0 || !alive(h.daemon)) {
		h.readiness = readiness{Failed, fmt.Sprintf("the daemon (pid %d) seen when the start command exited was gone by the time the run settled: it was not ready, it was leaving", seen)}
	}
	// Judged at rest, now: some daemons change later (rsyslogd closes the
	// starter's terminal a second or two after it settles). A start that
	// failed has no daemon to judge: the reasons quote what it printed, so
	// that is gathered first.
	h.start.terminal = h.holdsTerminal()
	failed := timedOut || code != 0 || x.Err != nil
	if failed {
		h.gatherOutput()
	}
	h.judge()
	if !failed {
		h.gatherOutput()
	}
}

// outputGrace is how long the harness waits, once the run is at rest, for
// the start command's terminal (or pipe) to have no writer left.
const outputGrace = time.Second

// gatherOutput keeps what the start command printed: everything, once the
// pty has no writer left; a daemon that keeps the pty open (a failure of
// its own, DC204) leaves the harness with what came in the first second.
func (h *harness) gatherOutput() {
	if h.startOut == nil { // --unit: no terminal, a file
		h.start.output = h.output("start")
		return
	}
	h.outputDrained()
	h.start.output = h.startOut.String()
}

// outputDrained waits up to outputGrace for the start command's terminal
// (or the pipe standing in for it) to have no writer left, as its reader
// sees end of file, and reports whether it has.
func (h *harness) outputDrained() bool {
	drained := make(chan struct{})
	go func() { h.ptyDrained.Wait(); close(drained) }()
	select {
	case <-drained:
		return true
	case <-time.After(outputGrace):
		return false
	}
}

// setUpSupervised is steps 1, 3 and 4 for a daemon a supervisor runs: the
// start command is the daemon, in the foreground.
func (h *harness) setUpSupervised() {
	h.lookBeforeStart()
	began := time.Now()
	if h.unit() != nil {
		if err := h.prepareUnit(); err != nil {
			h.start.err = err
			return
		}
	}
	cmd, err := h.launchStart("daemon", nil)
	if err != nil {
		h.start.err = fmt.Errorf("cannot run the start command: %v", err)
		return
	}
	h.start.launched = true
	h.watchForeground(cmd)
	h.watchScheduling()
	notified, mainpid, exited := h.waitReady(context.Background(), h.readyWait())
	if svc := h.unit(); notified && svc != nil && svc.Type.Notifies() {
		h.probeReady() // READY=1: what systemd takes as the start's end
	}
	h.start.took = time.Since(began)
	h.startedAt, h.readyAt = began, time.Now()
	h.notifiedReady = notified
	if exited {
		h.start.exited = <-h.fgDone
		h.fgDone <- h.start.exited
		h.start.output = h.output("daemon")
		return
	}
	h.daemon = cmd.Process.Pid
	if mainpid != 0 && mainpid != h.daemon {
		h.mainpidNote = fmt.Sprintf("MAINPID=%d, not the started pid %d", mainpid, h.daemon)
		if h.ofRun(mainpid) {
			// The started process handed the service to one it forked
			// (SU111 fails): a supervisor watches the process it started,
			// so nothing is judged, as when that process's exit is seen
			// before READY=1 (which comes first is a race).
			h.handedTo, h.daemon = mainpid, 0
			h.judge()
			return
		}
	}
	if st, ok := procStat(h.daemon); ok {
		h.daemonSID = st.Session
	}
	h.track(h.daemon)
	h.judge()
}

// watchForeground makes cmd, a supervised daemon's started process, the
// foreground daemon (h.fg), and says how it ends on h.fgDone.
func (h *harness) watchForeground(cmd *exec.Cmd) {
	h.fg, h.fgDone = cmd, make(chan string, 1)
	done := h.fgDone
	go func() {
		code, _, err := h.waitCmd(cmd, 24*time.Hour)
		switch {
		case err != nil:
			done <- err.Error()
		case code < 0:
			how := "killed by a signal"
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				how = "killed by " + unix.SignalName(ws.Signal())
			}
			done <- how
		default:
			done <- fmt.Sprintf("exit status %d", code)
		}
	}()
}

// readyWait is how long a supervised start waits to be ready.
func (h *harness) readyWait() time.Duration {
	wait := h.cfg.StartTimeout
	if svc := h.unit(); (svc != nil && !svc.Type.Notifies() || h.notify == nil) && h.cfg.PidFile == "" {
		// Type=simple or exec, or no NOTIFY_SOCKET to offer: started once
		// it runs; nothing will say more. A second shows one that forks
		// away and exits.
		wait = min(wait, time.Second)
	}
	return wait
}

// startSummary says how the start command ended, in a user's words.
func (f startFacts) startSummary() string {
	switch {
	case f.err != nil:
		return f.err.Error()
	case f.timedOut:
		return "it did not exit within the start timeout (killed)"
	case f.code < 0 && f.signal != 0:
		return "it was killed by " + unix.SignalName(f.signal)
	case f.code != 0 && strings.TrimSpace(f.output) == "":
		return fmt.Sprintf("it exited %d and printed nothing", f.code)
	case f.code != 0:
		return fmt.Sprintf("it exited %d: %s", f.code, strings.TrimSpace(f.output))
	}
	return "it exited 0"
}

// killedNote says which processes a signal killed during the start, for a
// message that explains a missing daemon; "" when none. With why, a SIGHUP
// under the session-leader launch gets its cause and the other launch to
// try (SU101 and the summary say it; the specs it leaves unknown do not
// repeat it).
func (h *harness) killedNote(why bool) string {
	if len(h.start.killed) == 0 {
		return ""
	}
	note := "; during the start, " + strings.Join(h.start.killed, ", ")
	if why {
		note += h.hangupHint()
	}
	return note
}

// hangupHint explains a SIGHUP during a session-leader start; "" otherwise.
func (h *harness) hangupHint() string {
	if h.cfg.Launch == LaunchJobControl || !slices.ContainsFunc(h.start.killed, func(k string) bool { return strings.HasSuffix(k, " SIGHUP") }) {
		return ""
	}
	return " (the start command led its terminal's session: when it exited, the kernel hung up its terminal's foreground process group; --launch job-control runs it as an interactive shell would, which hangs up nothing)"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// lookBeforeStart notes a pidfile that exists before the run starts
// anything: a daemon already running (the start will refuse, rightly), or
// one an earlier run or a crash left behind. The summary says which.
func (h *harness) lookBeforeStart() {
	if h.cfg.PidFile == "" {
		return
	}
	if _, err := os.Lstat(h.cfg.PidFile); err != nil {
		return
	}
	pid, err := proc.ReadPid(h.cfg.PidFile)
	switch {
	case err != nil:
		h.before = fmt.Sprintf("%v, before the run started anything", err)
	case alive(pid):
		h.before = fmt.Sprintf("%s already named pid %d, which runs, before the run started anything: another instance? A correct daemon refuses to start beside it", h.cfg.PidFile, pid)
	default:
		h.before = fmt.Sprintf("%s already named pid %d, which does not run, before the run started anything: a stale pidfile from an earlier run or a crash", h.cfg.PidFile, pid)
	}
}
