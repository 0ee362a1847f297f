// Package pidfd is the one wait for a process's exit through a pidfd: the
// descriptor becomes readable once the process has exited, reaped or not,
// and a pidfd never names a process that reused the pid.
package pidfd

import (
	"context"
	"time"

	"golang.org/x/sys/unix"
)

// Wait waits until the process of pidfd fd has exited (true), timeout has
// passed (false), or ctx is done (ctx's error). It wakes at least every
// 100 ms to notice ctx; EINTR is retried.
func Wait(ctx context.Context, fd int, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		ms := int(min(left, 100*time.Millisecond) / time.Millisecond)
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, max(ms, 1))
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

// WaitPID is Wait for pid, through a pidfd it opens. A pid that cannot be
// opened has exited (true) when the error is ESRCH; any other error (no
// pidfd before Linux 5.3, EPERM) is returned.
func WaitPID(ctx context.Context, pid int, timeout time.Duration) (bool, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err == unix.ESRCH {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	return Wait(ctx, fd, timeout)
}

// Exited reports whether pid has exited, zombies included; a pid that
// cannot be opened counts as exited.
func Exited(pid int) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return true
	}
	defer unix.Close(fd)
	n, _ := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0)
	return n > 0
}
