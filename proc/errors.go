package proc

import (
	"errors"
	"fmt"
)

// Errors callers may branch on with errors.Is.
var (
	// ErrParse is wrapped by every parser error; the message names the
	// pid, file and field at fault.
	ErrParse = errors.New("parse error")

	// ErrNoProcess is returned by FS.Take when the pid does not exist (or
	// /proc hides it from this user, see ErrHidden).
	ErrNoProcess = errors.New("no such process")

	// ErrHidden is returned by FS.Take when the process exists (kill(pid, 0)
	// says so) but /proc does not show it, as with hidepid=2.
	ErrHidden = errors.New("process exists but /proc hides it (hidepid?)")

	// ErrExited is returned by FS.Take when the process exited, ran
	// another program (execve), or had its pid reused while it was being
	// read.
	ErrExited = errors.New("process exited or ran another program while being inspected")

	// ErrZombie is recorded in a Snapshot's *Err fields for the parts a
	// zombie no longer has: descriptors, current directory, environment.
	ErrZombie = errors.New("the process is a zombie (it exited and its parent has not reaped it)")

	// ErrEnvironOverwritten is recorded in Snapshot.EnvironErr when the
	// environment block holds bytes but no entry: the process wrote over
	// it (redis, and programs that set their process title the way
	// setproctitle does, reuse it for a longer title). What it was exec'd
	// with can no longer be read.
	ErrEnvironOverwritten = errors.New("the environment block was overwritten by the process (a process title?): its variables cannot be read")

	// ErrTruncated is wrapped by a TruncatedError: a process had more of
	// something (descriptors, threads, children) than dcheck reads.
	ErrTruncated = errors.New("more than dcheck reads")

	// ErrPidFile is wrapped by ReadPidFile for a pidfile that holds no
	// usable pid (empty, garbage, negative, too long).
	ErrPidFile = errors.New("bad pidfile")
)

// TruncatedError is recorded in a Snapshot's *Err field when a process had
// more of a part than is read (MaxFDs, MaxThreads, MaxChildren): the field
// holds the first Read of Total, lowest numbers first, and a rule that
// needs them all cannot judge. Any user can open half a million
// descriptors; a scan must not be theirs to stall.
type TruncatedError struct {
	Part  string // "descriptors", "threads", "children"
	Read  int
	Total int // at least; for children, as listed
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("%d %s, of which dcheck reads the first %d", e.Total, e.Part, e.Read)
}

func (e *TruncatedError) Unwrap() error { return ErrTruncated }
