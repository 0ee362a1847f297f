package proc

import (
	"golang.org/x/sys/unix"
)

// Peek is the cheap look at a process that picks daemons out of a host:
// its stat, read through a descriptor that stays open until Close. That
// descriptor belongs to the process, not to its pid number: once the
// process is reaped it reads ESRCH, even if the pid has been reused. So
// TakeFrom, given a Peek, reads stat through it once more at the end, and
// that proves it read the process peeked at, without opening stat again.
type Peek struct {
	PID  int      // The process
	Stat ProcStat // Its stat, as first read
	fd   int      // /proc/PID/stat, open; -1 when there is none
}

// NewPeek is a Peek of a reader that keeps no descriptor open (gopsutil's):
// its stat as read.
func NewPeek(pid int, st ProcStat) *Peek { return &Peek{PID: pid, Stat: st, fd: -1} }

// Close releases the descriptor. It may be called more than once.
func (p *Peek) Close() {
	if p != nil && p.fd >= 0 {
		unix.Close(p.fd)
		p.fd = -1
	}
}

// Peek reads /proc/PID/stat and keeps it open. The error is ErrNoProcess
// when the process is gone (or hidden).
func (f *FS) Peek(pid int) (*Peek, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	fd, st, err := f.openStat(pid, *bp)
	if err != nil {
		return nil, err
	}
	return &Peek{PID: pid, Stat: st, fd: fd}, nil
}

// read reads stat again, through the peek's descriptor.
func (p *Peek) read(buf []byte) ([]byte, error) { return preadStat(p.fd, buf) }
