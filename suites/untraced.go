package suites

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dcheck/dcheck/suites/internal/tracer"
	"github.com/dcheck/dcheck/unitfile"
)

// errNotFrozen is why the pidfile was not read with the run held still:
// the freeze facility (ptrace) is Linux's.
var errNotFrozen = errors.New("the run could not be held still at the start command's exit (that needs ptrace, which is Linux's): a pidfile written just after the exit would look the same")

// startUntraced is startTraced without the freeze facility: it runs cmd,
// waits for it up to timeout, and reads the pidfile as soon as its exit is
// seen, while the rest of the run goes on (freezeErr says so).
func (h *harness) startUntraced(cmd *exec.Cmd, timeout time.Duration) exitFacts {
	done := make(chan exitFacts, 1)
	go func() {
		// The starter's blocked signals are set on the thread that forks;
		// it ends with the goroutine, never unlocked.
		runtime.LockOSThread()
		var f exitFacts
		began := time.Now()
		if err := h.startOnThisThread(cmd); err != nil {
			f.Err = err
			done <- f
			return
		}
		code, timedOut, err := h.waitCmd(cmd, timeout)
		f.Took = time.Since(began)
		f.PID, f.PIDErr = h.lookAtPidFile()
		f.Code, f.TimedOut, f.Err, f.FreezeErr = code, timedOut, err, errNotFrozen
		if ps := cmd.ProcessState; ps != nil {
			if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				f.Signal = ws.Signal()
			}
		}
		done <- f
	}()
	return <-done
}

// lookAtPidFile reads the pidfile, when one is configured.
//
// A forking unit's --probe addresses are tried in the same instant: systemd
// takes the exit as the daemon's readiness.
func (h *harness) lookAtPidFile() (int, error) {
	if svc := h.unit(); svc != nil && svc.Type == unitfile.Forking {
		h.probeReady()
	}
	if h.cfg.PidFile == "" {
		return 0, nil
	}
	pid, _, err := h.readPid()
	return pid, err
}

// exitFacts is what the start saw, traced (tracer.go) or not: one type,
// the tracer's.
type exitFacts = tracer.Facts

// howLooked says how the pidfile was looked at, for SU102's message.
func howLooked(f exitFacts) string {
	if errors.Is(f.FreezeErr, errNotFrozen) {
		return "looked at as soon as the start command's exit was seen, the rest of the run going on"
	}
	how := fmt.Sprintf("looked at in the start command's exit stop, %s of the run stopped", plural(f.Frozen, "other process", "other processes"))
	if f.FreezeErr != nil {
		how = fmt.Sprintf("looked at in the start command's exit stop, but %v", f.FreezeErr)
	}
	if f.Held > 0 {
		how += fmt.Sprintf("; %s it forked held until it waited", plural(f.Held, "process", "processes"))
	}
	if len(f.HeldAtExit) > 0 {
		how += fmt.Sprintf("; it exited before %s, which it forked, had run at all", pidList(f.HeldAtExit))
	}
	return how
}

// pidList is "pid 5" or "pids 5, 7".
func pidList(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	if len(pids) == 1 {
		return "pid " + s[0]
	}
	return "pids " + strings.Join(s, ", ")
}
