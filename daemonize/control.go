package daemonize

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// State is what a pidfile says of its daemon.
type State int

// The states.
const (
	NotRunning State = iota // no pidfile
	Running                 // the pidfile is locked: its daemon runs
	Stale                   // a pidfile nobody locks: its daemon died without removing it
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Stale:
		return "stale"
	}
	return "not running"
}

// Status is a daemon's state according to its pidfile.
type Status struct {
	State State
	PID   int // The pid in the pidfile (Running, and Stale when readable); 0 otherwise
}

// StatusOf reports whether the daemon of pidfile runs. "Running" means
// that some process holds the pidfile's lock, never that the pid it names
// exists: a pid is reused, a lock dies with its holder. Testing the lock
// takes a shared lock for an instant when nobody holds one.
func StatusOf(pidfile string) (Status, error) {
	f, err := openPidFile(pidfile, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{State: NotRunning}, nil
	}
	if err != nil {
		return Status{}, err
	}
	defer f.Close()
	pid, _ := readPID(f)
	switch err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); {
	case err == nil:
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return Status{State: Stale, PID: pid}, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		return Status{State: Running, PID: pid}, nil
	default:
		return Status{}, fmt.Errorf("lock %s: %w", pidfile, err)
	}
}

// Stopped is what Stop did.
type Stopped struct {
	PID    int  // The daemon that was stopped
	Killed bool // It outlived the timeout and was sent SIGKILL
}

// Stop stops the daemon of pidfile: SIGTERM, then SIGKILL after timeout.
// It signals only a process that holds the pidfile open while its lock is
// held, through a pidfd so that a reused pid cannot be hit, and returns
// only when that process has exited, so that a restart never races the
// old instance. It returns ErrNotRunning when nothing holds the lock (a
// stale pidfile is left alone).
func Stop(ctx context.Context, pidfile string, timeout time.Duration) (Stopped, error) {
	st, err := StatusOf(pidfile)
	if err != nil {
		return Stopped{}, err
	}
	if st.State != Running {
		return Stopped{}, fmt.Errorf("%s: %w (%s)", pidfile, ErrNotRunning, st.State)
	}
	if st.PID == 0 {
		return Stopped{}, fmt.Errorf("%s is locked but holds no pid: a start is in progress", pidfile)
	}
	pidfd, err := unix.PidfdOpen(st.PID, 0)
	if err != nil {
		return Stopped{}, fmt.Errorf("pid %d from %s: %w", st.PID, pidfile, err)
	}
	defer unix.Close(pidfd)
	// The pid in the file is the daemon only if it holds the pidfile: a
	// crashed daemon's pid may have gone to an unrelated process.
	holds, err := holdsFile(st.PID, pidfile)
	if err != nil {
		return Stopped{}, err
	}
	if !holds {
		return Stopped{}, fmt.Errorf("pid %d named by %s does not hold the pidfile open: not signalling it", st.PID, pidfile)
	}
	res := Stopped{PID: st.PID}
	if err := unix.PidfdSendSignal(pidfd, unix.SIGTERM, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return res, nil
		}
		return res, fmt.Errorf("SIGTERM to pid %d: %w", st.PID, err)
	}
	if exited, err := waitPidfd(ctx, pidfd, timeout); err != nil || exited {
		return res, err
	}
	res.Killed = true
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return res, fmt.Errorf("SIGKILL to pid %d: %w", st.PID, err)
	}
	if exited, err := waitPidfd(ctx, pidfd, 10*time.Second); err != nil || !exited {
		return res, fmt.Errorf("pid %d did not exit after SIGKILL: %v", st.PID, err)
	}
	return res, nil
}

// waitPidfd waits until the process exits (the pidfd becomes readable) or
// timeout passes.
func waitPidfd(ctx context.Context, pidfd int, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		// Wake at least every 100 ms to notice ctx.
		ms := int(min(left, 100*time.Millisecond) / time.Millisecond)
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}, max(ms, 1))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, err
		}
		if n > 0 {
			return true, nil
		}
	}
}

// holdsFile reports whether process pid has the file at path open.
func holdsFile(pid int, path string) (bool, error) {
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return false, err
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		var st unix.Stat_t
		if unix.Stat(dir+"/"+e.Name(), &st) == nil && st.Dev == want.Dev && st.Ino == want.Ino {
			return true, nil
		}
	}
	return false, nil
}
