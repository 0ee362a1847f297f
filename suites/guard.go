package suites

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/pidfd"
	"github.com/dcheck/dcheck/proc"
)

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
// signal below is the one place in this package that sends a signal. It
// opens a pidfd first, then checks, then signals through the pidfd, so a
// pid that is reused between the check and the signal cannot be hit.

// clockTicks is USER_HZ, the unit of stat field 22 (start time): 100 on
// every Linux architecture (include/asm-generic/param.h).
const clockTicks = 100

// bootTicks is the time since boot in clock ticks, on the clock the kernel
// uses for a process's start time, when f reads /proc; 0 otherwise: the
// portable reader has no start times, and nothing is then older than the
// run (rule 2 rests on descent and the marker alone).
func bootTicks(f facilities) uint64 {
	if !f.procfs {
		return 0
	}
	return sinceBoot(clockTicks)
}

// signal sends sig to pid if the rules above allow it. A process that has
// already exited is no error.
func (h *harness) signal(pid int, sig unix.Signal) error {
	refuse := func(why string) error {
		err := &notSignalledError{PID: pid, Signal: sig, Why: why}
		h.mu.Lock()
		h.refused = append(h.refused, err.Error())
		h.mu.Unlock()
		return err
	}
	if why := h.protected(pid); why != "" {
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
	if why := h.protected(pid); why != "" {
		return refuse(why)
	}
	if !h.ofRun(pid) {
		return refuse("this run did not start it")
	}
	err = ph.Signal(sig)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// protected says why pid may never be signalled, or "".
func (h *harness) protected(pid int) string {
	me := os.Getpid()
	switch {
	case pid <= 0:
		return "not a single process"
	case pid == 1:
		return "pid 1 (init of this pid namespace)"
	case pid == me:
		return "the harness itself"
	}
	for a := range ancestors(me) {
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

// ofRun reports whether pid belongs to this run (rule 2 above).
func (h *harness) ofRun(pid int) bool {
	st, ok := procStat(pid)
	if !ok || st.StartTime+1 < h.startTicks {
		return false // gone, or older than the run
	}
	me := os.Getpid()
	for a := range ancestors(pid) {
		if a.PID == me {
			return true
		}
		if a.StartTime+1 < h.startTicks {
			break // a parent older than the run is not of it
		}
	}
	return h.carriesMarker(pid)
}

// carriesMarker reports whether pid's environment holds the run's marker.
// The marker is set when a process is started, so it is never far from the
// start: the first 1 MiB is read.
func (h *harness) carriesMarker(pid int) bool {
	l := looks()
	if l == nil || !can().environ {
		return false
	}
	ok, err := l.HasEnv(pid, markerEnv+"="+h.runID, 1<<20)
	return err == nil && ok
}

// descendantsOf lists pid's children, their children, and so on.
func descendantsOf(pid int) []int {
	var out []int
	seen := map[int]bool{pid: true}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range childrenOf(p) {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// descendsFrom reports whether ancestor is pid's parent, grandparent, and
// so on (an orphan has lost that line: its parent is now the reaper).
func descendsFrom(pid, ancestor int) bool {
	for a := range ancestors(pid) {
		if a.PID == ancestor {
			return true
		}
	}
	return false
}

// ancestors yields the stat of pid's parent, its parent, and so on, up to
// but not including pid 1 (or the first one that cannot be read). The one
// walk up the parent chain that the guard and SU103 share.
func ancestors(pid int) iter.Seq[proc.ProcStat] {
	return func(yield func(proc.ProcStat) bool) {
		st, ok := procStat(pid)
		for depth := 0; ok && st.PPID > 1 && depth < 1<<12; depth++ {
			if st, ok = procStat(st.PPID); !ok || !yield(st) {
				return
			}
		}
	}
}

// runProcesses lists every live process of the run that the harness can
// find: those it started, those it adopted, those carrying its marker or in
// the daemon's session, and all of their descendants.
func (h *harness) runProcesses() []int {
	set := map[int]bool{}
	h.mu.Lock()
	for pid := range h.started {
		set[pid] = true
	}
	h.mu.Unlock()
	for _, pid := range h.adopted() {
		set[pid] = true
	}
	for _, pid := range h.marked(h.daemonSID) {
		set[pid] = true
	}
	for pid := range maps.Clone(set) {
		for _, d := range descendantsOf(pid) {
			set[d] = true
		}
	}
	var out []int
	for pid := range set {
		if pid != os.Getpid() && alive(pid) && h.protected(pid) == "" && h.ofRun(pid) {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}
