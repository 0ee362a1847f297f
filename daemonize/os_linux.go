package daemonize

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/procdir"
	"github.com/dcheck/dcheck/internal/sigaction"
)

// resetSignals gives every signal the default disposition back where it
// was ignored, and empties this thread's mask: both survive fork and exec,
// and Go's os/signal can do neither.
func resetSignals() error {
	for s := unix.Signal(1); s <= 64; s++ {
		if s == unix.SIGKILL || s == unix.SIGSTOP {
			continue
		}
		ign, err := sigaction.IsIgnored(s)
		if err != nil {
			continue // signals the kernel refuses (32, 33 under glibc) stay as they are
		}
		if ign {
			if err := sigaction.Default(s); err != nil {
				return err
			}
		}
	}
	return sigaction.SetMask()
}

// closeOnExecAbove marks every descriptor above n close-on-exec, so that
// only those passed on purpose (os/exec's ExtraFiles) survive the next exec.
func closeOnExecAbove(n int) error {
	err := unix.CloseRange(uint(n+1), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	// Before Linux 5.11: one fcntl per open descriptor.
	fds, derr := procdir.Numeric(procdir.Mount + "/self/fd")
	if derr != nil {
		return fmt.Errorf("close_range: %v; %w", err, derr)
	}
	for _, fd := range fds {
		if fd > n {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

// dup2 makes newfd a copy of oldfd.
func dup2(oldfd, newfd int) error { return unix.Dup3(oldfd, newfd, 0) }

// setAllGIDs sets the real, effective and saved group IDs (every thread:
// Go applies it to each).
func setAllGIDs(gid int) error { return syscall.Setresgid(gid, gid, gid) }

// setAllUIDs sets the real, effective and saved user IDs.
func setAllUIDs(uid int) error { return syscall.Setresuid(uid, uid, uid) }
