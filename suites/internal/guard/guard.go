// Package guard is the one place that decides whether the harness may
// signal a process, and the one place that sends a signal.
//
// The harness runs other people's daemons, often as root, and a daemon
// controls what the harness learns of it: its pidfile can name any pid.
// So the harness signals a process only when both hold:
//
//  1. It is not protected: never pid 1 (or 0 and below, which kill(2) takes
//     for groups), the harness itself, an ancestor of the harness, or a
//     member of the harness's session (its caller's shell and tools).
//  2. It belongs to this run: started after the run began, and either
//     descended from the harness (what the run launched, and every orphan
//     of it, which the harness adopts as child subreaper) or carrying the
//     run's marker in its environment.
//
// Signal opens a pidfd first, then checks, then signals through the
// pidfd, so a pid that is reused between the check and the signal cannot
// be hit.
package guard

import (
	"errors"
	"fmt"
	"iter"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/pidfd"
	"github.com/dcheck/dcheck/proc"
)

// ErrNotSignalled is wrapped by the error Signal returns when it refused
// to signal a process: it is protected, or this run did not start it.
var ErrNotSignalled = errors.New("not signalled")

// NotSignalledError says which process was not signalled, and why.
type NotSignalledError struct {
	PID    int
	Signal unix.Signal
	Why    string
}

func (e *NotSignalledError) Error() string {
	return fmt.Sprintf("%s to pid %d refused: %s", unix.SignalName(e.Signal), e.PID, e.Why)
}

// Unwrap returns ErrNotSignalled.
func (e *NotSignalledError) Unwrap() error { return ErrNotSignalled }

// Looker is what the guard reads of processes.
type Looker interface {
	Stat(pid int) (proc.ProcStat, error)
	HasEnv(pid int, kv string, max int) (bool, error)
}

// Guard guards one run. Set its fields before the first Signal; they are
// read, never changed, after that.
type Guard struct {
	Look Looker // the running system's reader; nil: nothing is of the run
	// Marker is the NAME=value every process the run starts carries in
	// its environment; "" when none is set.
	Marker string
	// Environ says whether another process's environment can be read
	// here (for the marker).
	Environ bool
	// StartTicks is when the run began, in clock ticks since boot, on
	// the clock of a process's start time; 0 when unknown (the portable
	// reader has no start times: nothing is then older than the run).
	StartTicks uint64

	mu      sync.Mutex
	refused []string
}

// Signal sends sig to pid if the rules allow it. A process that has
// already exited is no error; a refusal wraps ErrNotSignalled and is
// remembered (Refused).
func (g *Guard) Signal(pid int, sig unix.Signal) error {
	refuse := func(why string) error {
		err := &NotSignalledError{PID: pid, Signal: sig, Why: why}
		g.mu.Lock()
		g.refused = append(g.refused, err.Error())
		g.mu.Unlock()
		return err
	}
	if why := g.Protected(pid); why != "" {
		return refuse(why)
	}
	ph, err := pidfd.Open(pid)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd_open(%d): %w", pid, err)
	}
	defer ph.Close()
	// Checked after the pidfd is open: if the pid is the checked process
	// now, the pidfd is that process.
	if why := g.Protected(pid); why != "" {
		return refuse(why)
	}
	if !g.OfRun(pid) {
		return refuse("this run did not start it")
	}
	err = ph.Signal(sig)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// Refused lists the signals Signal refused to send, as their errors say,
// in order.
func (g *Guard) Refused() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.refused...)
}

// Protected says why pid may never be signalled (rule 1), or "".
func (g *Guard) Protected(pid int) string {
	me := os.Getpid()
	switch {
	case pid <= 0:
		return "not a single process"
	case pid == 1:
		return "pid 1 (init of this pid namespace)"
	case pid == me:
		return "the harness itself"
	}
	for a := range Ancestors(g.Look, me) {
		if a.PID == pid {
			return "an ancestor of the harness"
		}
	}
	own, err := unix.Getsid(0)
	if sid, serr := unix.Getsid(pid); err == nil && serr == nil && sid == own {
		return "in the harness's own session"
	}
	return ""
}

// OfRun reports whether pid belongs to this run (rule 2).
func (g *Guard) OfRun(pid int) bool {
	if g.Look == nil {
		return false
	}
	st, err := g.Look.Stat(pid)
	if err != nil || st.StartTime+1 < g.StartTicks {
		return false // gone, or older than the run
	}
	me := os.Getpid()
	for a := range Ancestors(g.Look, pid) {
		if a.PID == me {
			return true
		}
		if a.StartTime+1 < g.StartTicks {
			break // a parent older than the run is not of it
		}
	}
	return g.CarriesMarker(pid)
}

// CarriesMarker reports whether pid's environment holds the run's marker.
// The marker is set when a process is started, so it is never far from
// the start: the first 1 MiB is read.
func (g *Guard) CarriesMarker(pid int) bool {
	if g.Look == nil || !g.Environ || g.Marker == "" {
		return false
	}
	ok, err := g.Look.HasEnv(pid, g.Marker, 1<<20)
	return err == nil && ok
}

// Ancestors yields the stat of pid's parent, its parent, and so on, up to
// but not including pid 1 (or the first one that cannot be read): the one
// walk up the parent chain that the guard and the specs share.
func Ancestors(look Looker, pid int) iter.Seq[proc.ProcStat] {
	return func(yield func(proc.ProcStat) bool) {
		if look == nil {
			return
		}
		st, err := look.Stat(pid)
		for depth := 0; err == nil && st.PPID > 1 && depth < 1<<12; depth++ {
			if st, err = look.Stat(st.PPID); err != nil || !yield(st) {
				return
			}
		}
	}
}
