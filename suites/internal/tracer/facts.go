package tracer

import (
	"time"

	"golang.org/x/sys/unix"
)

// Facts is what a start command's run saw, traced (Run) or not (the
// harness's own wait, where there is no ptrace: FreezeErr says so).
type Facts struct {
	Code      int           // exit status; -1 when killed by a signal
	Signal    unix.Signal   // the signal that killed it, when one did
	TimedOut  bool          // killed after the start timeout
	Err       error         // the start command could not be started or waited for
	Frozen    int           // how many processes of the run were stopped for the look
	PID       int           // what the pidfile held at the exit (0: none)
	PIDErr    error         // why it held none
	Took      time.Duration // launch to exit
	FreezeErr error         // a process that would not stop in time

	Held       int   // processes forked during the start, held until the start command waited, then let go
	HeldAtExit []int // of them, those still held when it exited: they had not run at all
}
