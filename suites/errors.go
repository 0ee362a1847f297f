package suites

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrNotSignalled is wrapped by the error signal returns when it refused to
// signal a process: it is protected, or this run did not start it.
var ErrNotSignalled = errors.New("not signalled")

// notSignalledError says which process was not signalled, and why.
type notSignalledError struct {
	PID    int
	Signal unix.Signal
	Why    string
}

func (e *notSignalledError) Error() string {
	return fmt.Sprintf("%s to pid %d refused: %s", unix.SignalName(e.Signal), e.PID, e.Why)
}

func (e *notSignalledError) Unwrap() error { return ErrNotSignalled }

// errInterrupted is why nothing more is started once the run is being
// cleaned up after SIGINT, SIGTERM or SIGHUP (onInterrupt).
var errInterrupted = errors.New("the run was interrupted: it is being cleaned up")
