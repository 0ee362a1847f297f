//go:build darwin || freebsd

package pidfd

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// Handle is a kqueue watching one process's exit.
type Handle struct{ pid, kq int } // pid is 0 once the exit was seen

func open(pid int) (*Handle, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	var ev unix.Kevent_t
	unix.SetKevent(&ev, pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ENABLE|unix.EV_ONESHOT)
	ev.Fflags = unix.NOTE_EXIT
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return &Handle{pid: pid, kq: kq}, nil
}

// Signal sends sig to the process, by pid; ESRCH when it has exited.
func (h *Handle) Signal(sig unix.Signal) error {
	if h.Exited() {
		return unix.ESRCH
	}
	return unix.Kill(h.pid, sig)
}

// Close releases the handle.
func (h *Handle) Close() error { return unix.Close(h.kq) }

// poll waits up to d for the exit event; EINTR is retried. Once seen, the
// exit is remembered (the one-shot event is gone).
func (h *Handle) poll(d time.Duration) (bool, error) {
	if h.pid == 0 {
		return true, nil
	}
	ts := unix.NsecToTimespec(d.Nanoseconds())
	events := make([]unix.Kevent_t, 1)
	for {
		n, err := unix.Kevent(h.kq, nil, events, &ts)
		if err == unix.EINTR {
			continue
		}
		if n > 0 {
			h.pid = 0
		}
		return n > 0, err
	}
}

func isESRCH(err error) bool { return errors.Is(err, unix.ESRCH) }
