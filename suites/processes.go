package suites

import (
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

// The processes of the run, as the harness finds them: what it started
// or adopted (its process table, reaper.Table), what carries the run's
// marker or is in the daemon's session, and the quick looks at them.

// track remembers pid for the cleanup.
func (h *harness) track(pid int) { h.procs.Track(pid) }

// adopted lists the harness's live children that os/exec does not wait
// for, orphans adopted as subreaper, and reaps the zombies among them
// (reaper.Table.Adopted).
func (h *harness) adopted() []int { return h.procs.Adopted() }

// noteKilled records that pid, of the run, was killed by sig.
func (h *harness) noteKilled(pid int, sig unix.Signal) {
	st, _ := procStat(pid)
	h.procs.NoteKilled(pid, st.Comm, sig)
}

// ours lists the live processes of this run: adopted by the harness, or
// carrying the run's marker wherever they are.
func (h *harness) ours() []int {
	pids := h.adopted()
	for _, pid := range h.marked(0) {
		if !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// childrenOf lists pid's children (every thread's).
func childrenOf(pid int) []int {
	l := looks()
	if l == nil {
		return nil
	}
	children, _ := l.Children(pid)
	return children
}

// procStat is pid's stat, and whether it could be read: the quick look
// (state, session) the harness takes many times a second.
func procStat(pid int) (proc.ProcStat, bool) {
	l := looks()
	if l == nil {
		return proc.ProcStat{}, false
	}
	st, err := l.Stat(pid)
	return st, err == nil
}

func alive(pid int) bool {
	st, ok := procStat(pid)
	return ok && st.Alive()
}

// marked lists live processes carrying this run's marker, and those in
// session sid (when not 0), the harness excluded.
func (h *harness) marked(sid int) []int {
	me := os.Getpid()
	if own, err := unix.Getsid(0); err != nil || sid == own {
		sid = 0 // never the harness's own session: it holds the harness's callers
	}
	l := looks()
	if l == nil {
		return nil
	}
	var out []int
	pids, _ := l.PIDs()
	for _, pid := range pids {
		st, ok := procStat(pid)
		if pid == me || pid == h.leader || !ok || !st.Alive() {
			continue
		}
		if (sid != 0 && st.Session == sid) || h.guard.CarriesMarker(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// waitExit waits up to timeout for pid to exit, and reaps it when it is the
// harness's child. It returns whether it exited and, when reaped, how.
func (h *harness) waitExit(pid int, timeout time.Duration) (bool, string) {
	return h.procs.WaitExit(pid, timeout)
}
