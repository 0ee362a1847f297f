// Package reaper keeps the run's process table: every process the harness
// started or adopted, which of them os/exec waits for, how the adopted
// ones ended, and which of the run's processes a signal killed.
//
// The harness is a child subreaper (PR_SET_CHILD_SUBREAPER): the orphans
// of the run, a classic daemon first, become its children. A subreaper
// that does not reap them leaves zombies that tools polling /proc, such as
// start-stop-daemon --stop, take for live processes; one that reaps with
// wait4(-1) steals os/exec's statuses. So Table reaps each adopted child
// by pid, and never one that os/exec waits for. It has no Ginkgo and no
// spec in it; the harness (package suites) decides what is of the run.
package reaper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/pidfd"
	"github.com/dcheck/dcheck/proc"
)

// ErrClosed is returned by Start once Close was called: the cleanup has
// begun, and nothing more is started.
var ErrClosed = errors.New("the run is being cleaned up: nothing more is started")

// Looker is what the table reads of processes.
type Looker interface {
	Stat(pid int) (proc.ProcStat, error)
	Children(pid int) ([]int, error)
}

// Config says what the table may do. The zero value of each field is
// documented with it.
type Config struct {
	// Look reads processes; nil reads none (nothing is found alive, and
	// nothing adopted is listed).
	Look Looker
	// Subreaper says the process is a child subreaper: orphans of the run
	// are its children, to reap. Without it, Adopted lists none.
	Subreaper bool
	// Learn says what Adopted learns from a live adopted child: with it,
	// the child is listed and tracked; without it (no adopt facility),
	// it is only reaped once it exits.
	Learn bool
	// BeforeReap is called before adopted zombies are reaped, while they
	// are still in /proc (the notify socket credits a message to the run
	// by its sender's parents); nil calls nothing.
	BeforeReap func()
	// Since is when the run began, in clock ticks after boot (a process's
	// start time in /proc/PID/stat): a child older than that is not the
	// run's, and is neither listed nor reaped (a helper the caller's own
	// test started before the run, and waits for). 0 takes every child.
	Since uint64
}

// Table is the run's process table. Its methods may be called from any
// goroutine.
type Table struct {
	cfg Config

	mu        sync.Mutex
	closed    bool
	waiting   map[int]bool            // started through os/exec and not yet waited: never wait4 these
	started   map[int]bool            // every pid started or adopted
	exited    map[int]unix.WaitStatus // adopted processes reaped here, and how they ended
	killed    map[int]string          // processes killed by a signal, as "pid N (comm) was killed by SIGX"
	killOrder []int                   // the keys of killed, in the order they were seen
	stop      func()
}

// New returns an empty table.
func New(cfg Config) *Table {
	return &Table{cfg: cfg, waiting: map[int]bool{}, started: map[int]bool{}, exited: map[int]unix.WaitStatus{},
		killed: map[int]string{}, stop: func() {}}
}

// Start runs start, which starts a process that os/exec will wait for and
// returns its pid, and records it; once the table is closed it runs
// nothing and returns ErrClosed. The table is held meanwhile: the cleanup
// sees every process started before it began.
func (t *Table) Start(start func() (pid int, err error)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	pid, err := start()
	if err != nil {
		return err
	}
	t.waiting[pid] = true
	t.started[pid] = true
	return nil
}

// Waited says os/exec has reaped pid: the table may reap a process of that
// pid from now on.
func (t *Table) Waited(pid int) {
	t.mu.Lock()
	delete(t.waiting, pid)
	t.mu.Unlock()
}

// Track records pid, found rather than started (the daemon a pidfile
// named), as the run's.
func (t *Table) Track(pid int) {
	t.mu.Lock()
	t.started[pid] = true
	t.mu.Unlock()
}

// Started reports whether pid was started, adopted or tracked.
func (t *Table) Started(pid int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.started[pid]
}

// StartedPIDs lists every pid started, adopted or tracked, in order.
func (t *Table) StartedPIDs() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int
	for pid := range t.started {
		out = append(out, pid)
	}
	slices.Sort(out)
	return out
}

// Close refuses every Start from now on.
func (t *Table) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

// Adopted lists the live children that os/exec does not wait for: orphans
// adopted as subreaper. Zombies among them are reaped, once BeforeReap
// returned, and how each ended is kept for WaitExit. Without Learn it
// lists none; without a subreaper there is nothing to reap (os/exec waits
// for its own), and no look is taken.
func (t *Table) Adopted() []int {
	if !t.cfg.Subreaper || t.cfg.Look == nil {
		return nil
	}
	var zombies []int
	for _, pid := range t.children() {
		if st, err := t.cfg.Look.Stat(pid); err == nil && !st.Alive() && !t.older(st) {
			zombies = append(zombies, pid)
		}
	}
	if len(zombies) > 0 && t.cfg.BeforeReap != nil {
		t.cfg.BeforeReap()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var live []int
	for _, pid := range t.children() {
		if t.waiting[pid] {
			continue
		}
		st, err := t.cfg.Look.Stat(pid)
		ok := err == nil
		if ok && t.older(st) || !ok && t.cfg.Since != 0 {
			continue // not the run's, or gone and of unknown age
		}
		if !t.cfg.Learn && ok && st.Alive() {
			continue // reaped when it exits, but learnt nothing from
		}
		t.started[pid] = true
		if ok && !st.Alive() {
			if !slices.Contains(zombies, pid) {
				continue // exited since: reaped next time, once heard
			}
			if ws, ok := reap(pid); ok {
				t.exited[pid] = ws
				if ws.Signaled() {
					t.noteKilledLocked(pid, st.Comm, ws.Signal())
				}
			}
			continue
		}
		live = append(live, pid)
	}
	slices.Sort(live)
	return live
}

// older reports whether st's process began before the run (Since), with
// a tick's slack.
func (t *Table) older(st proc.ProcStat) bool {
	return t.cfg.Since != 0 && st.StartTime+1 < t.cfg.Since
}

// children lists this process's children (every thread's).
func (t *Table) children() []int {
	c, _ := t.cfg.Look.Children(os.Getpid())
	return c
}

// Run reaps adopted zombies as they appear (on SIGCHLD, and every 50 ms in
// case one was missed), until Stop. A closed table is not run.
func (t *Table) Run() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGCHLD)
	done := make(chan struct{})
	var wg sync.WaitGroup
	t.stop = func() { signal.Stop(ch); close(done); wg.Wait() }
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ch:
			case <-tick.C:
			}
			t.Adopted()
		}
	})
}

// Stop ends what Run started, and returns once it has.
func (t *Table) Stop() {
	t.mu.Lock()
	stop := t.stop
	t.stop = func() {}
	t.mu.Unlock()
	stop()
}

// NoteKilled records that pid, named comm ("" when unknown), was killed by
// sig. The first record of a pid stands.
func (t *Table) NoteKilled(pid int, comm string, sig unix.Signal) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noteKilledLocked(pid, comm, sig)
}

func (t *Table) noteKilledLocked(pid int, comm string, sig unix.Signal) {
	if _, ok := t.killed[pid]; ok {
		return
	}
	who := fmt.Sprintf("pid %d", pid)
	if comm != "" {
		who += fmt.Sprintf(" (%s)", comm)
	}
	t.killed[pid] = who + " was killed by " + unix.SignalName(sig)
	t.killOrder = append(t.killOrder, pid)
}

// Killed lists the processes killed by a signal so far, in the order they
// were seen: "pid 12 (worker) was killed by SIGSEGV".
func (t *Table) Killed() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.killOrder))
	for _, pid := range t.killOrder {
		out = append(out, t.killed[pid])
	}
	return out
}

// WaitExit waits up to timeout for pid to exit, and reaps it when it is a
// child that os/exec does not wait for. It returns whether it exited and,
// when reaped (here or by Adopted), how: "exit status 1", "killed by
// SIGTERM".
func (t *Table) WaitExit(pid int, timeout time.Duration) (bool, string) {
	if exited, err := pidfd.WaitPID(context.Background(), pid, timeout); err == nil {
		if !exited {
			return false, ""
		}
	} else {
		deadline := time.Now().Add(timeout)
		for t.alive(pid) {
			if time.Now().After(deadline) {
				return false, ""
			}
			time.Sleep(5 * time.Millisecond) // no pidfd (before Linux 5.3): poll /proc
		}
	}
	t.mu.Lock()
	ours := !t.waiting[pid]
	ws, reaped := t.exited[pid]
	t.mu.Unlock()
	if reaped {
		return true, DescribeStatus(ws)
	}
	if ours {
		if ws, ok := reap(pid); ok {
			return true, DescribeStatus(ws)
		}
		t.mu.Lock() // Adopted may have got there first
		ws, reaped = t.exited[pid]
		t.mu.Unlock()
		if reaped {
			return true, DescribeStatus(ws)
		}
	}
	return true, ""
}

func (t *Table) alive(pid int) bool {
	if t.cfg.Look == nil {
		return false
	}
	st, err := t.cfg.Look.Stat(pid)
	return err == nil && st.Alive()
}

// DescribeStatus says how a process ended: "exit status 1", "killed by
// SIGTERM".
func DescribeStatus(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprint(ws)
}

// reap waits for pid if it is this process's child (adopted or not); a pid
// that is not is left alone (ECHILD).
func reap(pid int) (unix.WaitStatus, bool) {
	var ws unix.WaitStatus
	for {
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		return ws, err == nil && got == pid
	}
}
