package sdemu

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CreditSender asks the kernel to attach each message's sender
// (SCM_CREDENTIALS) and arrival time (SCM_TIMESTAMPNS) to the datagrams
// the notify socket fd receives.
func CreditSender(fd int) {
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
}

// sizeofTimespec is the size of SCM_TIMESTAMPNS's data.
const sizeofTimespec = int(unsafe.Sizeof(unix.Timespec{}))

// NotifyOOBSize is room for both control messages.
var NotifyOOBSize = unix.CmsgSpace(unix.SizeofUcred) + unix.CmsgSpace(sizeofTimespec)

// NotifySender is the sender's pid and uid (0 and -1 when not sent) and
// the arrival time (at when not sent) in a datagram's control messages.
func NotifySender(oob []byte, at time.Time) (pid, uid int, _ time.Time) {
	uid = -1
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return pid, uid, at
	}
	for _, c := range cmsgs {
		if cred, err := unix.ParseUnixCredentials(&c); err == nil {
			pid, uid = int(cred.Pid), int(cred.Uid)
		}
		if c.Header.Level == unix.SOL_SOCKET && c.Header.Type == unix.SCM_TIMESTAMPNS && len(c.Data) >= sizeofTimespec {
			ts := (*unix.Timespec)(unsafe.Pointer(&c.Data[0]))
			at = time.Unix(ts.Unix())
		}
	}
	return pid, uid, at
}
