package proc

import "errors"

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

	// ErrPidFile is wrapped by ReadPidFile for a pidfile that holds no
	// usable pid (empty, garbage, negative, too long).
	ErrPidFile = errors.New("bad pidfile")
)
