package suites

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// SU102 asks what the pidfile said at the instant the start command
// exited. Read after the exit, the answer depends on scheduling: the
// classic recipe's grandchild may write the pidfile in the microseconds
// before the harness looks, or not. So the harness decides it by evidence:
//
//  1. The start command runs traced (ptrace, PTRACE_O_TRACEEXIT): it stops
//     on its way out, before its exit is visible to anyone.
//  2. There, every other process of the run is stopped (SIGSTOP, and a wait
//     until /proc shows each stopped), again until no new one appears.
//  3. The pidfile is read: nothing of the run can write it meanwhile.
//  4. The processes are continued (SIGCONT), then the start command is let
//     go, and its exit status collected.
//
// The start command's children are not traced. A daemon that watches its
// children (SIGCHLD with CLD_STOPPED) may see them stop and continue once.

// exitFacts is what the traced start saw.
type exitFacts struct {
	code      int           // exit status; -1 when killed by a signal
	timedOut  bool          // killed after the start timeout
	err       error         // the start command could not be started or waited for
	frozen    int           // how many processes of the run were stopped for the look
	pid       int           // what the pidfile held at the exit (0: none)
	pidErr    error         // why it held none
	took      time.Duration // launch to exit
	freezeErr error         // a process that would not stop in time
}

// startTraced runs cmd as the traced start command, with the timeout, and
// reads the pidfile at its exit (steps 1 to 4). It needs a thread of its
// own for the whole run: a tracee belongs to the thread that started it.
func (h *harness) startTraced(cmd *exec.Cmd, timeout time.Duration) exitFacts {
	done := make(chan exitFacts, 1)
	go func() {
		// Never unlocked: the thread ends with the goroutine, and with it
		// the starter's signal mask set on it.
		runtime.LockOSThread()
		done <- h.traceStart(cmd, timeout)
	}()
	return <-done
}

func (h *harness) traceStart(cmd *exec.Cmd, timeout time.Duration) exitFacts {
	var f exitFacts
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	began := time.Now()
	if err := h.startOnThisThread(cmd); err != nil {
		f.err = err
		return f
	}
	pid := cmd.Process.Pid
	defer func() {
		h.mu.Lock()
		delete(h.waiting, pid)
		h.mu.Unlock()
		cmd.Wait() // releases what os/exec holds; the process was reaped here
	}()
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(timeout, func() {
		timedOut.Store(true)
		h.signal(pid, unix.SIGKILL)
	})
	defer watchdog.Stop()
	defer func() { f.timedOut = timedOut.Load() }()
	seenExit, optionsSet := false, false
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			f.err = fmt.Errorf("waiting for the start command: %w", err)
			return f
		}
		switch {
		case ws.Exited():
			f.code, f.took = ws.ExitStatus(), time.Since(began)
			if !seenExit { // killed before the exit event: look now, as before
				f.pid, f.pidErr = h.lookAtPidFile()
			}
			return f
		case ws.Signaled():
			f.code, f.took = -1, time.Since(began)
			if !seenExit {
				f.pid, f.pidErr = h.lookAtPidFile()
			}
			return f
		case !ws.Stopped():
			continue
		}
		sig, inject := ws.StopSignal(), 0
		switch {
		case sig == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_EXIT:
			seenExit = true
			if !timedOut.Load() {
				f.frozen, f.freezeErr, f.pid, f.pidErr = h.lookFrozen(pid)
			}
		case sig == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_EXEC:
		case sig == unix.SIGTRAP && ws.TrapCause() == 0 && !optionsSet:
			// The stop after the first execve (PTRACE_TRACEME).
			optionsSet = true
			if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACEEXIT|unix.PTRACE_O_TRACEEXEC|unix.PTRACE_O_EXITKILL); err != nil {
				f.err = fmt.Errorf("ptrace options: %w", err)
			}
		default:
			inject = int(sig) // a signal for the start command: deliver it
		}
		if err := unix.PtraceCont(pid, inject); err != nil && !errors.Is(err, unix.ESRCH) {
			f.err = fmt.Errorf("ptrace: %w", err)
		}
	}
}

// lookAtPidFile reads the pidfile, when one is configured.
func (h *harness) lookAtPidFile() (int, error) {
	if h.cfg.PidFile == "" {
		return 0, nil
	}
	pid, _, err := h.readPid()
	return pid, err
}

// lookFrozen is steps 2 to 4, while the start command (pid) sits in its
// exit stop.
func (h *harness) lookFrozen(pid int) (int, error, int, error) {
	var stopped []int
	var freezeErr error
	deadline := time.Now().Add(time.Second)
	for {
		var fresh []int
		for _, p := range h.runProcesses() {
			if p != pid && !slices.Contains(stopped, p) {
				fresh = append(fresh, p)
			}
		}
		if len(fresh) == 0 {
			break
		}
		for _, p := range fresh {
			if h.signal(p, unix.SIGSTOP) == nil {
				stopped = append(stopped, p)
			}
		}
		for _, p := range fresh {
			for !isStopped(p) {
				if time.Now().After(deadline) {
					freezeErr = fmt.Errorf("pid %d did not stop within a second", p)
					break
				}
				time.Sleep(100 * time.Microsecond) // a stop gives no event to a non-parent
			}
		}
		if freezeErr != nil {
			break
		}
	}
	pidAt, pidErr := h.lookAtPidFile()
	for _, p := range stopped {
		h.signal(p, unix.SIGCONT)
	}
	return len(stopped), freezeErr, pidAt, pidErr
}

// isStopped reports whether pid is stopped (T), or gone.
func isStopped(pid int) bool {
	st, ok := procStat(pid)
	return !ok || st.State == 'T' || st.State == 't' || !st.Alive()
}
