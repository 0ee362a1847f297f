package daemonize

import (
	"errors"
	"fmt"
)

// Errors callers may branch on with errors.Is and errors.As.
var (
	// ErrAlreadyRunning is matched (errors.Is) by an *AlreadyRunningError,
	// returned by Start when another instance holds the pidfile's lock.
	ErrAlreadyRunning = errors.New("already running")

	// ErrNotRunning is returned by Stop when no process holds the pidfile's
	// lock: there is no pidfile, or only a stale one.
	ErrNotRunning = errors.New("not running")

	// ErrStartTimeout is wrapped by the *StepError Start returns when the
	// daemon did not call Ready (or Fail) within Daemon.StartTimeout. The
	// daemon has been killed.
	ErrStartTimeout = errors.New("daemon not ready in time")

	// ErrUnsafePidFile is wrapped by the error Start, StatusOf and Stop
	// return for a pidfile that another user could replace or rewrite: in a
	// directory owned by another user, or writable by group or others
	// without the sticky bit; or itself owned by another user, or writable
	// by group or others (internal/pidsafety, the definition DC302 judges
	// by). Start creates none there; StatusOf and Stop trust no pid in it,
	// and signal none.
	ErrUnsafePidFile = errors.New("unsafe pidfile")

	// ErrExitedEarly is wrapped by the *StepError Start returns when the
	// daemon exited before it called Ready, without saying why.
	ErrExitedEarly = errors.New("daemon exited during start-up")
)

// AlreadyRunningError is returned by Start when the pidfile is locked by a
// running instance.
type AlreadyRunningError struct {
	PidFile string // The pidfile
	PID     int    // The pid it holds; 0 when another start is still writing it
}

func (e *AlreadyRunningError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("already running (%s is locked; another start is in progress)", e.PidFile)
	}
	return fmt.Sprintf("already running (pid %d)", e.PID)
}

// Is makes errors.Is(err, ErrAlreadyRunning) true.
func (e *AlreadyRunningError) Is(target error) bool { return target == ErrAlreadyRunning }

// StepError is returned when one step of becoming a daemon failed. Step
// names it: "config", "pidfile", "pipe", "fork", "setsid", "signals",
// "chdir", "stdio", "credential", "ready", "notify", or "start" for the
// program's own error, passed to Fail.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

func stepErr(step string, err error) error {
	if err == nil {
		return nil
	}
	var se *StepError
	var ar *AlreadyRunningError
	if errors.As(err, &se) || errors.As(err, &ar) {
		return err
	}
	return &StepError{Step: step, Err: err}
}
