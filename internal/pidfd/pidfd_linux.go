package pidfd

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// Handle is a pidfd.
type Handle struct{ fd int }

func open(pid int) (*Handle, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, err
	}
	return &Handle{fd: fd}, nil
}

// Signal sends sig to the process; ESRCH when it has exited.
func (h *Handle) Signal(sig unix.Signal) error { return unix.PidfdSendSignal(h.fd, sig, nil, 0) }

// Close releases the handle.
func (h *Handle) Close() error { return unix.Close(h.fd) }

// poll waits up to d for the pidfd to become readable; EINTR is retried.
func (h *Handle) poll(d time.Duration) (bool, error) {
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN}}, int(d/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		return n > 0, err
	}
}

func isESRCH(err error) bool { return errors.Is(err, unix.ESRCH) }
