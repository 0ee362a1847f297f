package suites

import (
	"errors"

	"github.com/dcheck/dcheck/suites/internal/guard"
)

// ErrNotSignalled is wrapped by the error signal returns when it refused to
// signal a process: it is protected, or this run did not start it.
var ErrNotSignalled = guard.ErrNotSignalled

// errInterrupted is why nothing more is started once the run is being
// cleaned up after SIGINT, SIGTERM or SIGHUP (onInterrupt).
var errInterrupted = errors.New("the run was interrupted: it is being cleaned up")
