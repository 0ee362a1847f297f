package suites

import (
	"iter"
	"maps"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/suites/internal/guard"
)

// The run's guard (suites/internal/guard) decides whether the harness may
// signal a process, and sends every signal: never pid 1, the harness, its
// ancestors or its session; only what this run started.

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

// signal sends sig to pid if the guard allows it. A process that has
// already exited is no error.
func (h *harness) signal(pid int, sig unix.Signal) error { return h.guard.Signal(pid, sig) }

// protected says why pid may never be signalled, or "".
func (h *harness) protected(pid int) string { return h.guard.Protected(pid) }

// ofRun reports whether pid belongs to this run.
func (h *harness) ofRun(pid int) bool { return h.guard.OfRun(pid) }

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

// ancestors yields the stat of pid's parent, its parent, and so on, up
// to but not including pid 1 (guard.Ancestors, on the running system).
func ancestors(pid int) iter.Seq[proc.ProcStat] { return guard.Ancestors(looks(), pid) }

// runProcesses lists every live process of the run that the harness can
// find: those it started, those it adopted, those carrying its marker or in
// the daemon's session, and all of their descendants.
func (h *harness) runProcesses() []int {
	set := map[int]bool{}
	for _, pid := range h.procs.StartedPIDs() {
		set[pid] = true
	}
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
