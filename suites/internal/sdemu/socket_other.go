//go:build !linux

package sdemu

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// streamSocket is a new stream socket of family, close-on-exec (set under
// the fork lock: no SOCK_CLOEXEC here).
func streamSocket(family int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}
