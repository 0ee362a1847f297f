//go:build linux

package tracer

import (
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

// Hooks are what the tracer asks of the harness that runs it. Every
// field is required.
type Hooks struct {
	FS            *proc.FS                             // /proc: the threads and their states
	Start         func(cmd *exec.Cmd) error            // starts cmd, on the calling thread, as the harness launches a start command
	Signal        func(pid int, sig unix.Signal) error // the harness's guarded kill: it refuses what the run did not start
	LookAtPidFile func() (int, error)                  // the look at the pidfile, while the run is frozen
	RunProcesses  func() []int                         // every live process of the run
	Killed        func(pid int, sig unix.Signal)       // a process of the start died by a signal
	Done          func(pid int)                        // the tracer has reaped pid: the harness's reaper may take it again
	JobControl    bool                                 // the start command is the first child of a shell that leads the session and lives on
}

func (hk Hooks) stat(pid int) (proc.ProcStat, bool) {
	st, err := hk.FS.Stat(pid)
	return st, err == nil
}

// pollEvery is how often the tracer looks for ptrace events and quiet.
const pollEvery = 500 * time.Microsecond

// tracee is one traced process of the start.
type tracee struct {
	vfork    bool      // made by vfork: never held
	started  bool      // its first stop was seen
	held     time.Time // when its hold began; zero when not held
	vforking bool      // it waits for its vfork child (until PTRACE_EVENT_VFORK_DONE)
	stuck    bool      // its traced thread, the leader, has exited (pthread_exit): it can neither stop for the tracer nor be detached
}

// startTrace follows the start command and its descendants.
type startTrace struct {
	hk         Hooks
	root       int
	tracees    map[int]*tracee
	optionsSet bool
	seenExit   bool
	timedOut   *atomic.Bool
	leader     int            // job-control launch: the shell whose first child is the start command; 0 otherwise
	rootNow    atomic.Int64   // root, for the watchdog's goroutine
	quiet      map[int]uint64 // tid → context switches at the last quiet look; nil when it was not quiet
	f          Facts
	began      time.Time
}

// Run runs cmd as the traced start command, with the timeout, and looks
// at the pidfile at its exit (Hooks.LookAtPidFile). It needs a thread of
// its own for the whole run, as a tracee belongs to the thread that
// attached it: it locks one, and returns when the start command is gone.
func Run(cmd *exec.Cmd, timeout time.Duration, hk Hooks) Facts {
	done := make(chan Facts, 1)
	go func() {
		// Never unlocked: the thread ends with the goroutine, and with it
		// the starter's signal mask set on it.
		runtime.LockOSThread()
		t := traceStart(cmd, timeout, hk)
		done <- t.f
		t.awaitStuck()
	}()
	return <-done
}

// awaitStuck waits, on the tracer's thread, for each tracee that could not
// be detached to end, and reaps it as its tracer: its real parent can reap
// it only then. Were the thread to exit first, PTRACE_O_EXITKILL would kill
// the daemon.
func (t *startTrace) awaitStuck() {
	for pid, tr := range t.tracees {
		if !tr.stuck {
			continue
		}
		for {
			var ws unix.WaitStatus
			_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
	}
}

func traceStart(cmd *exec.Cmd, timeout time.Duration, hk Hooks) *startTrace {
	t := &startTrace{hk: hk, tracees: map[int]*tracee{}, timedOut: new(atomic.Bool)}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	t.began = time.Now()
	if err := hk.Start(cmd); err != nil {
		t.f.Err = err
		return t
	}
	t.root = cmd.Process.Pid
	t.tracees[t.root] = &tracee{}
	t.rootNow.Store(int64(t.root))
	if hk.JobControl {
		// The shell leads the session and lives on; the start command is
		// the first process it forks (event).
		t.leader = t.root
		defer func() {
			// Reaped once the cleanup has stopped it; os/exec releases what
			// it holds then.
			go func() {
				cmd.Wait()
				hk.Done(t.leader)
			}()
		}()
	} else {
		defer func() {
			hk.Done(t.root)
			cmd.Wait() // releases what os/exec holds; the process was reaped here
		}()
	}
	defer t.releaseAll()
	watchdog := time.AfterFunc(timeout, func() {
		t.timedOut.Store(true)
		hk.Signal(int(t.rootNow.Load()), unix.SIGKILL)
	})
	defer watchdog.Stop()
	for {
		busy, done := t.step()
		if done {
			t.f.TimedOut = t.timedOut.Load()
			return t
		}
		t.maybeLetGo()
		if !busy {
			time.Sleep(pollEvery)
		}
	}
}

// step collects every pending ptrace event and acts on it. It reports
// whether there was any, and whether the start command is gone.
func (t *startTrace) step() (busy, done bool) {
	for _, pid := range t.pids() {
		for {
			var ws unix.WaitStatus
			got, err := unix.Wait4(pid, &ws, unix.WNOHANG|unix.WALL, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil { // ECHILD: gone without a word to us
				delete(t.tracees, pid)
				if pid == t.root {
					t.f.Err = fmt.Errorf("waiting for the start command: %w", err)
					return true, true
				}
				break
			}
			if got == 0 {
				break
			}
			busy = true
			if t.event(pid, ws) {
				return true, true
			}
			if t.tracees[pid] == nil {
				break
			}
		}
	}
	return busy, false
}

// pids lists the tracees, the start command first.
func (t *startTrace) pids() []int {
	var pids []int
	if t.tracees[t.root] != nil {
		pids = append(pids, t.root)
	}
	for pid := range t.tracees {
		if pid != t.root {
			pids = append(pids, pid)
		}
	}
	return pids
}

// event acts on one wait status of a tracee. It reports whether the start
// command is gone.
func (t *startTrace) event(pid int, ws unix.WaitStatus) bool {
	tr := t.tracees[pid]
	if ws.Exited() || ws.Signaled() {
		delete(t.tracees, pid)
		if pid != t.root {
			return false
		}
		t.f.Took = time.Since(t.began)
		t.f.Code = -1
		if ws.Exited() {
			t.f.Code = ws.ExitStatus()
		} else {
			t.f.Signal = ws.Signal()
		}
		if !t.seenExit { // killed before its exit stop: look now, as before
			t.f.PID, t.f.PIDErr = t.hk.LookAtPidFile()
		}
		return true
	}
	if !ws.Stopped() {
		return false
	}
	sig, inject := ws.StopSignal(), 0
	switch cause := ws.TrapCause(); {
	case pid == t.root && !t.optionsSet && sig == unix.SIGTRAP && cause == 0:
		// The stop after the first execve (PTRACE_TRACEME).
		t.optionsSet = true
		tr.started = true
		opts := unix.PTRACE_O_TRACEEXIT | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_EXITKILL |
			unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACEVFORKDONE
		if err := unix.PtraceSetOptions(pid, opts); err != nil {
			t.f.Err = fmt.Errorf("ptrace options: %w", err)
		}
	case !tr.started:
		// A new process in its first stop (the SIGSTOP of an auto-attach).
		tr.started = true
		if !tr.vfork {
			tr.held = time.Now()
			if len(t.holding()) == 1 {
				t.quiet = nil
			}
			return false // stays stopped until the run is quiet
		}
	case sig == unix.SIGTRAP && (cause == unix.PTRACE_EVENT_FORK || cause == unix.PTRACE_EVENT_VFORK):
		if msg, err := unix.PtraceGetEventMsg(pid); err == nil && msg > 0 {
			t.tracees[int(msg)] = &tracee{vfork: cause == unix.PTRACE_EVENT_VFORK}
			tr.vforking = cause == unix.PTRACE_EVENT_VFORK
			if pid == t.leader && t.root == t.leader {
				t.root = int(msg) // the job: the start command
				t.rootNow.Store(int64(t.root))
			}
		}
	case sig == unix.SIGTRAP && cause == unix.PTRACE_EVENT_VFORK_DONE:
		tr.vforking = false
	case sig == unix.SIGTRAP && cause == unix.PTRACE_EVENT_EXEC:
	case sig == unix.SIGTRAP && cause == unix.PTRACE_EVENT_EXIT:
		if msg, err := unix.PtraceGetEventMsg(pid); err == nil {
			if ws := unix.WaitStatus(msg); ws.Signaled() {
				t.hk.Killed(pid, ws.Signal())
			}
		}
		if pid == t.root {
			t.seenExit = true
			if t.timedOut.Load() {
				t.f.PID, t.f.PIDErr = t.hk.LookAtPidFile() // killed: nothing to decide
			} else {
				t.freezeAndLook()
			}
		}
	default:
		inject = int(sig) // a signal for the process: deliver it
	}
	if err := unix.PtraceCont(pid, inject); err != nil && !errors.Is(err, unix.ESRCH) && pid == t.root {
		t.f.Err = fmt.Errorf("ptrace: %w", err)
	}
	return false
}

// holding lists the processes held in their first stop.
func (t *startTrace) holding() []int {
	var held []int
	for pid, tr := range t.tracees {
		if !tr.held.IsZero() {
			held = append(held, pid)
		}
	}
	return held
}

// maybeLetGo continues the held processes once the run is quiet (two
// looks in a row).
func (t *startTrace) maybeLetGo() {
	held := t.holding()
	if len(held) == 0 {
		return
	}
	now, quiet := t.look()
	switch {
	case !quiet:
		t.quiet = nil
	case t.quiet != nil && maps.Equal(now, t.quiet):
		t.letGo(held)
	default:
		t.quiet = now
	}
}

func (t *startTrace) letGo(held []int) {
	t.f.Held += len(held)
	for _, pid := range held {
		t.tracees[pid].held = time.Time{}
		unix.PtraceCont(pid, 0) // the first stop's SIGSTOP is dropped
	}
	t.quiet = nil
}

// look reports whether every thread of every traced process not held is
// asleep waiting (S; D for a parent suspended in vfork), and each thread's
// context switches: unchanged between two quiet looks, none of them ran.
func (t *startTrace) look() (map[int]uint64, bool) {
	fsys := t.hk.FS
	switches := map[int]uint64{}
	for pid, tr := range t.tracees {
		if !tr.held.IsZero() {
			continue
		}
		tids, err := fsys.Tasks(pid)
		if err != nil {
			return nil, false
		}
		for _, tid := range tids {
			st, err := fsys.TaskStatus(pid, tid)
			if err == nil && st.State == 'Z' && tid == pid && len(tids) > 1 {
				continue // a leader that called pthread_exit: it runs no more
			}
			if err != nil || !(st.State == 'S' || st.State == 'D' && tr.vforking) {
				return nil, false
			}
			switches[tid] = st.VoluntarySwitches + st.NonvoluntarySwitches
		}
	}
	return switches, true
}

// freezeAndLook is step 3, while the start command sits in its exit stop.
func (t *startTrace) freezeAndLook() {
	var stopped []int
	deadline := time.Now().Add(5 * time.Second)
	// The tracees: each into a real stop, untraced. A parent suspended in
	// vfork cannot run until its child does, and is left as it is.
	for {
		var next []int
		for pid, tr := range t.tracees {
			if pid != t.root && !tr.vforking && !tr.stuck {
				next = append(next, pid)
			}
		}
		if len(next) == 0 {
			break
		}
		for _, pid := range next {
			if tr := t.tracees[pid]; !tr.held.IsZero() || !tr.started && !tr.vfork {
				t.f.HeldAtExit = append(t.f.HeldAtExit, pid) // forked, and not run yet
			}
			if err := t.stopAndDetach(pid, unix.SIGSTOP, deadline); err != nil {
				t.f.FreezeErr = err
				break
			}
			if t.tracees[pid] == nil || t.tracees[pid].stuck {
				stopped = append(stopped, pid)
			}
		}
		if t.f.FreezeErr != nil {
			break
		}
	}
	// Everything else of the run.
	for t.f.FreezeErr == nil {
		var fresh []int
		for _, p := range t.hk.RunProcesses() {
			if p != t.root && t.tracees[p] == nil && !slices.Contains(stopped, p) {
				fresh = append(fresh, p)
			}
		}
		if len(fresh) == 0 {
			break
		}
		for _, p := range fresh {
			if t.hk.Signal(p, unix.SIGSTOP) == nil {
				stopped = append(stopped, p)
			}
		}
		for _, p := range fresh {
			if err := awaitStopped(t.hk.FS, p, deadline); err != nil {
				t.f.FreezeErr = err
				break
			}
		}
	}
	t.f.Frozen = len(stopped)
	t.f.PID, t.f.PIDErr = t.hk.LookAtPidFile()
	for _, p := range stopped {
		t.hk.Signal(p, unix.SIGCONT)
	}
}

// stopAndDetach brings tracee pid to a ptrace stop (a held one is in one
// already), detaches it delivering sig (SIGSTOP: it stays stopped, untraced;
// 0: it runs on), and for SIGSTOP waits until /proc shows it stopped.
// Processes it forks meanwhile become tracees, for the caller's next round.
func (t *startTrace) stopAndDetach(pid int, sig unix.Signal, deadline time.Time) error {
	tr := t.tracees[pid]
	if st, ok := t.hk.stat(pid); ok && st.LeaderExited() {
		// Its traced thread has exited: no stop will be reported, and it
		// stays traced until it ends (awaitStuck). Its live threads take a
		// SIGSTOP as any process's do.
		tr.stuck = true
		if sig != unix.SIGSTOP {
			return nil
		}
		if err := t.hk.Signal(pid, unix.SIGSTOP); err != nil {
			return nil
		}
		return awaitThreadsStopped(t.hk.FS, pid, deadline)
	}
	if tr.held.IsZero() && tr.started {
		if err := t.hk.Signal(pid, unix.SIGSTOP); err != nil {
			delete(t.tracees, pid)
			return nil // gone, or not the run's: nothing to hold
		}
		for !t.inStop(pid) {
			if _, ok := t.tracees[pid]; !ok {
				return nil // it exited
			}
			if st, ok := t.hk.stat(pid); ok && st.LeaderExited() {
				tr.stuck = true // its leader exited meanwhile: see above
				return awaitThreadsStopped(t.hk.FS, pid, deadline)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("pid %d did not stop within 5 s", pid)
			}
			time.Sleep(pollEvery)
		}
	} else if !tr.started {
		// Forked but its first stop not yet collected.
		for {
			var ws unix.WaitStatus
			got, err := unix.Wait4(pid, &ws, unix.WNOHANG|unix.WALL, nil)
			if err != nil && !errors.Is(err, unix.EINTR) {
				delete(t.tracees, pid)
				return nil
			}
			if got == pid && ws.Stopped() {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("pid %d did not stop within 5 s", pid)
			}
			time.Sleep(pollEvery)
		}
	}
	delete(t.tracees, pid)
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(pid), 0, uintptr(sig), 0, 0)
	if errno != 0 && errno != unix.ESRCH {
		return fmt.Errorf("ptrace detach %d: %w", pid, errno)
	}
	if sig == unix.SIGSTOP {
		return awaitStopped(t.hk.FS, pid, deadline)
	}
	return nil
}

// inStop collects pid's pending events until it reports a signal stop for
// SIGSTOP (or a group-stop), continuing it past every other event. It
// reports whether pid is now in that stop.
func (t *startTrace) inStop(pid int) bool {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG|unix.WALL, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			delete(t.tracees, pid)
			return false
		}
		if got == 0 {
			return false
		}
		if ws.Exited() || ws.Signaled() {
			delete(t.tracees, pid)
			return false
		}
		if ws.Stopped() && ws.StopSignal() == unix.SIGSTOP {
			return true
		}
		if ws.Stopped() && ws.StopSignal() == unix.SIGTRAP && (ws.TrapCause() == unix.PTRACE_EVENT_FORK || ws.TrapCause() == unix.PTRACE_EVENT_VFORK) {
			if msg, err := unix.PtraceGetEventMsg(pid); err == nil && msg > 0 {
				t.tracees[int(msg)] = &tracee{vfork: ws.TrapCause() == unix.PTRACE_EVENT_VFORK}
			}
		}
		inject := 0
		if ws.Stopped() && ws.StopSignal() != unix.SIGTRAP {
			inject = int(ws.StopSignal())
		}
		unix.PtraceCont(pid, inject)
	}
}

// releaseAll detaches every tracee still traced, letting it run on: the
// tracer's thread is about to end. A process suspended in vfork is
// detached once its child has been.
func (t *startTrace) releaseAll() {
	deadline := time.Now().Add(5 * time.Second)
	for t.detachable() > 0 && time.Now().Before(deadline) {
		progress := false
		for _, pid := range t.pids() {
			tr := t.tracees[pid]
			if tr == nil || tr.vforking || tr.stuck {
				continue
			}
			if err := t.stopAndDetach(pid, 0, deadline); err == nil {
				progress = true
			}
		}
		if !progress {
			t.step() // a vfork done, perhaps
			time.Sleep(pollEvery)
		}
	}
}

// detachable counts the tracees that are not stuck.
func (t *startTrace) detachable() int {
	n := 0
	for _, tr := range t.tracees {
		if !tr.stuck {
			n++
		}
	}
	return n
}

// awaitThreadsStopped waits until every live thread of pid is stopped.
func awaitThreadsStopped(fsys *proc.FS, pid int, deadline time.Time) error {
	for {
		tids, err := fsys.Tasks(pid)
		if err != nil {
			return nil // gone
		}
		all := true
		for _, tid := range tids {
			if st, err := fsys.TaskStatus(pid, tid); err == nil && st.State != 'T' && st.State != 't' && st.State != 'Z' {
				all = false
			}
		}
		if all {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d did not stop within 5 s", pid)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// awaitStopped waits until /proc shows pid stopped (T or t), or gone. A
// stop gives no event to a process that is not the parent: it polls.
func awaitStopped(fsys *proc.FS, pid int, deadline time.Time) error {
	for !isStopped(fsys, pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d did not stop within 5 s", pid)
		}
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}

// isStopped reports whether pid is stopped (T), or gone.
func isStopped(fsys *proc.FS, pid int) bool {
	st, err := fsys.Stat(pid)
	return err != nil || st.State == 'T' || st.State == 't' || !st.Alive()
}
