// Package pidfd is the one way dcheck holds on to a process: a Handle that
// names it for its whole life, signals it and waits for its exit. On Linux
// it is a pidfd (pidfd_open(2)): readable once the process has exited,
// reaped or not, and never naming a process that reused the pid. On darwin
// and FreeBSD it is a kqueue watching the process's exit (EVFILT_PROC,
// NOTE_EXIT): the pid is checked when the handle is opened, but a signal is
// sent by pid, so a process that exits and whose pid is reused between the
// two could, in principle, receive it.
package pidfd

import (
	"context"
	"time"
)

// Open returns a handle on process pid. The error is ESRCH (unix.ESRCH)
// when there is no such process.
func Open(pid int) (*Handle, error) { return open(pid) }

// Wait waits until the process has exited (true), timeout has passed
// (false), or ctx is done (ctx's error). It wakes at least every 100 ms to
// notice ctx.
func (h *Handle) Wait(ctx context.Context, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		exited, err := h.poll(min(left, 100*time.Millisecond))
		if err != nil || exited {
			return exited, err
		}
	}
}

// Exited reports whether the process has exited, without waiting.
func (h *Handle) Exited() bool {
	exited, err := h.poll(0)
	return exited || err != nil
}

// WaitPID is Wait for pid, through a handle it opens. A pid that is not
// there has exited (true); any other error opening it is returned.
func WaitPID(ctx context.Context, pid int, timeout time.Duration) (bool, error) {
	h, err := Open(pid)
	if isESRCH(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer h.Close()
	return h.Wait(ctx, timeout)
}

// Exited reports whether pid has exited, zombies included; a pid that
// cannot be opened counts as exited.
func Exited(pid int) bool {
	h, err := Open(pid)
	if err != nil {
		return true
	}
	defer h.Close()
	return h.Exited()
}
