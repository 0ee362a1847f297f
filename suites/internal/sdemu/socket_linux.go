package sdemu

import "golang.org/x/sys/unix"

// streamSocket is a new stream socket of family, close-on-exec.
func streamSocket(family int) (int, error) {
	return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}
