package daemonize

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/pidfd"
	"github.com/dcheck/dcheck/internal/pidsafety"
	"github.com/dcheck/dcheck/internal/procdir"
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
	// PID is the pid the pidfile names (Running, and Stale when readable);
	// 0 otherwise. For Running, it is the daemon only if Holds.
	PID int
	// Holds reports that process PID has the pidfile open: the very file
	// StatusOf opened, compared by device and inode through that
	// descriptor, not through the path (which can be swapped meanwhile).
	// A locked pidfile whose pid does not hold it names a process that is
	// not its daemon: a start still writing it, or a pidfile not to trust.
	Holds bool
}

// StatusOf reports whether the daemon of pidfile runs. "Running" means
// that some process holds the pidfile's lock, never that the pid it names
// exists: a pid is reused, a lock dies with its holder; Holds says whether
// the named process has the file open. Testing the lock takes a shared
// lock for an instant when nobody holds one.
//
// The pidfile is opened without following a symlink, must be a regular
// file, and must sit in a directory that no user other than the caller and
// root can write (or a sticky one, such as /tmp, with the pidfile owned by
// the caller or root): otherwise another user could make it name any
// process, and the error wraps ErrUnsafePidFile.
func StatusOf(pidfile string) (Status, error) {
	st, f, err := statusOf(pidfile)
	if f != nil {
		f.Close()
	}
	return st, err
}

// statusOf is StatusOf, and the open pidfile (nil when there is none) for
// Stop to check identities against.
func statusOf(pidfile string) (Status, *os.File, error) {
	// The directory first: what an unsafe one holds at the path is not to
	// be trusted, be it a file, a symlink or nothing.
	if err := checkPidFileDir(pidfile); err != nil {
		return Status{}, nil, err
	}
	f, err := openPidFile(pidfile, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{State: NotRunning}, nil, nil
	}
	if err != nil {
		return Status{}, nil, err
	}
	if err := checkPidFile(pidfile, f); err != nil {
		f.Close()
		return Status{}, nil, err
	}
	pid, _ := readPID(f)
	switch err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); {
	case err == nil:
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return Status{State: Stale, PID: pid}, f, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		holds := false
		if pid > 0 {
			holds, _ = holdsFile(pid, f)
		}
		return Status{State: Running, PID: pid, Holds: holds}, f, nil
	default:
		f.Close()
		return Status{}, nil, fmt.Errorf("lock %s: %w", pidfile, err)
	}
}

// checkPidFileDir refuses a pidfile that another user could replace, by
// the definition dcheck's DC302 judges with (internal/pidsafety): a
// directory owned by another user, or writable by group or others without
// the sticky bit.
func checkPidFileDir(path string) error {
	dir := filepath.Dir(path)
	var d unix.Stat_t
	if err := unix.Stat(dir, &d); errors.Is(err, unix.ENOENT) {
		return nil // no directory, no pidfile: the open says so
	} else if err != nil {
		return &fs.PathError{Op: "stat", Path: dir, Err: err}
	}
	if p := pidsafety.DirProblems(pidsafety.Stat{UID: uint32(d.Uid), GID: uint32(d.Gid), Mode: uint32(d.Mode)}, dir, uint32(os.Geteuid())); len(p) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrUnsafePidFile, path, strings.Join(p, "; "))
	}
	return nil
}

// checkPidFile refuses, through its descriptor, a pidfile another user
// can write: owned by another user (in a sticky directory they made it),
// or writable by group or others.
func checkPidFile(path string, f *os.File) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if p := pidsafety.FileProblems(pidsafety.Stat{UID: uint32(st.Uid), GID: uint32(st.Gid), Mode: uint32(st.Mode)}, path, uint32(os.Geteuid())); len(p) > 0 {
		return fmt.Errorf("%w: %s", ErrUnsafePidFile, strings.Join(p, "; "))
	}
	return nil
}

// Stopped is what Stop did.
type Stopped struct {
	PID    int  // The daemon that was stopped
	Killed bool // It outlived the timeout and was sent SIGKILL
}

// Stop stops the daemon of pidfile: SIGTERM, then SIGKILL after timeout.
// It signals only a process that holds the pidfile open while its lock is
// held, checked through the descriptor StatusOf opened (never the path
// again) after taking a pidfd of the process, and signals through that
// pidfd, so that neither a swapped pidfile nor a reused pid can be hit. It
// returns only when that process has exited, so that a restart never races
// the old instance. It returns ErrNotRunning when nothing holds the lock
// (a stale pidfile is left alone), and an error wrapping ErrUnsafePidFile
// for a pidfile another user could control.
func Stop(ctx context.Context, pidfile string, timeout time.Duration) (Stopped, error) {
	st, f, err := statusOf(pidfile)
	if err != nil {
		return Stopped{}, err
	}
	if f != nil {
		defer f.Close()
	}
	if st.State != Running {
		return Stopped{}, fmt.Errorf("%s: %w (%s)", pidfile, ErrNotRunning, st.State)
	}
	if st.PID == 0 {
		return Stopped{}, fmt.Errorf("%s is locked but holds no pid: a start is in progress", pidfile)
	}
	h, err := pidfd.Open(st.PID)
	if err != nil {
		return Stopped{}, fmt.Errorf("pid %d from %s: %w", st.PID, pidfile, err)
	}
	defer h.Close()
	// The pid in the file is the daemon only if it holds the pidfile: a
	// crashed daemon's pid may have gone to an unrelated process. Checked
	// after the handle is open, so the handle is the process checked.
	holds, err := holdsFile(st.PID, f)
	if err != nil {
		return Stopped{}, err
	}
	if !holds {
		return Stopped{}, fmt.Errorf("pid %d named by %s does not hold the pidfile open: not signalling it", st.PID, pidfile)
	}
	res := Stopped{PID: st.PID}
	if err := h.Signal(unix.SIGTERM); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return res, nil
		}
		return res, fmt.Errorf("SIGTERM to pid %d: %w", st.PID, err)
	}
	if exited, err := h.Wait(ctx, timeout); err != nil || exited {
		return res, err
	}
	res.Killed = true
	if err := h.Signal(unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return res, fmt.Errorf("SIGKILL to pid %d: %w", st.PID, err)
	}
	if exited, err := h.Wait(ctx, 10*time.Second); err != nil || !exited {
		return res, fmt.Errorf("pid %d did not exit after SIGKILL: %v", st.PID, err)
	}
	return res, nil
}

// holdsFile reports whether process pid has f's file open: the file
// itself, by device and inode through f, never its path again.
func holdsFile(pid int, f *os.File) (bool, error) {
	var want unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &want); err != nil {
		return false, err
	}
	return procdir.Holds(procdir.Mount+"/"+strconv.Itoa(pid)+"/fd", uint64(want.Dev), uint64(want.Ino))
}
