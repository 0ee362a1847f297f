//go:build darwin || freebsd

package daemonize

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// resetSignals does nothing here: x/sys offers neither sigaction(2) nor
// a thread's sigprocmask on this system, and Go's os/signal keeps a signal
// that was ignored at start ignored. A daemon started with signals ignored
// or blocked keeps them (see the package doc); SignalContext's Notify still
// takes SIGTERM, SIGINT and SIGHUP.
func resetSignals() error { return nil }

// maxCloseOnExec bounds the descriptors closeOnExecAbove walks where no
// system call marks a range and no directory lists them.
const maxCloseOnExec = 1 << 16

// closeOnExecAbove marks every descriptor above n close-on-exec, so that
// only those passed on purpose survive the next exec: one fcntl per
// possible descriptor, up to the soft RLIMIT_NOFILE (at most
// maxCloseOnExec; descriptors above that are left as they are).
func closeOnExecAbove(n int) error {
	var lim unix.Rlimit
	top := uint64(maxCloseOnExec)
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur > 0 && uint64(lim.Cur) < top {
		top = uint64(lim.Cur)
	}
	for fd := n + 1; uint64(fd) < top; fd++ {
		unix.CloseOnExec(fd) // EBADF for a descriptor that is not open
	}
	return nil
}

// dup2 makes newfd a copy of oldfd.
func dup2(oldfd, newfd int) error { return unix.Dup2(oldfd, newfd) }

// setAllGIDs sets the real, effective and saved group IDs: setgid(2) by a
// privileged process sets all three.
func setAllGIDs(gid int) error { return syscall.Setgid(gid) }

// setAllUIDs sets the real, effective and saved user IDs: setuid(2) by a
// privileged process sets all three.
func setAllUIDs(uid int) error { return syscall.Setuid(uid) }
