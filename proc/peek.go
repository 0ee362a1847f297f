package proc

import (
	"fmt"
	"io/fs"
	"strconv"

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
	path := f.path(strconv.Itoa(pid), "stat")
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if isGone(err) {
			return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	p := &Peek{PID: pid, fd: fd}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	data, err := p.read(*bp)
	if err == nil {
		p.Stat, err = parseStat(data)
		if err != nil {
			err = fmt.Errorf("pid %d: %s: %w", pid, path, err)
		}
	} else if isGone(err) {
		err = fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	} else {
		err = &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// read reads the whole of stat again, from its start: a proc file shows
// the process as it is at the read (seq_file starts over at offset 0).
func (p *Peek) read(buf []byte) ([]byte, error) {
	buf = buf[:min(len(buf), maxSmallFile)]
	for {
		n, err := unix.Pread(p.fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}
