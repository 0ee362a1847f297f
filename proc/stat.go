package proc

import (
	"fmt"
	"io/fs"
	"math"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/procdir"
)

// ProcStat is /proc/PID/stat, see proc_pid_stat(5). Field numbers are the
// man page's. Fields after rss (25 onwards) are not modelled.
type ProcStat struct {
	PID       int    // Process ID, field 1
	Comm      string // Executable name, field 2: what lies between the first '(' and the last ')'; may hold spaces, parentheses, newlines
	State     byte   // Process state letter (R, S, D, Z, T, t, X, I, ...), field 3
	PPID      int    // Parent process ID, field 4
	PGRP      int    // Process group ID, field 5
	Session   int    // Session ID, field 6
	TTY       int    // Controlling terminal as an encoded dev_t (minor bits 31..20 and 7..0, major 15..8), 0 for none, field 7
	TPGID     int    // Foreground process group of the controlling terminal, -1 for none, field 8
	Flags     uint   // Kernel PF_* flags, field 9
	MinFlt    uint64 // Minor faults, field 10
	CMinFlt   uint64 // Minor faults of waited-for children, field 11
	MajFlt    uint64 // Major faults, field 12
	CMajFlt   uint64 // Major faults of waited-for children, field 13
	UTime     uint64 // User time in clock ticks, field 14
	STime     uint64 // System time in clock ticks, field 15
	CUTime    int64  // User time of waited-for children in clock ticks, field 16
	CSTime    int64  // System time of waited-for children in clock ticks, field 17
	Priority  int64  // Scheduling priority as the kernel shows it, field 18
	Nice      int64  // Nice value, -20..19, field 19
	Threads   int64  // Number of threads, field 20
	ItRealVal int64  // Obsolete, always 0, field 21
	StartTime uint64 // Start time after boot in clock ticks, field 22; with PID it names one process for its whole life
	VSize     uint64 // Virtual memory size in bytes, field 23
	RSS       int64  // Resident set size in pages, field 24
	EnvStart  uint64 // Address of the exec environment block, field 50 (Linux 3.5+; 0 before, and when hidden)
	EnvEnd    uint64 // Address just past it, field 51
}

// pfKthread is PF_KTHREAD from include/linux/sched.h.
const pfKthread = 0x00200000

// KernelThread reports whether the PF_KTHREAD flag is set.
func (s ProcStat) KernelThread() bool { return s.Flags&pfKthread != 0 }

// TTYDevice returns the controlling terminal's major and minor numbers;
// both are 0 when there is none.
func (s ProcStat) TTYDevice() (major, minor uint32) {
	t := uint32(s.TTY)
	return (t >> 8) & 0xfff, (t & 0xff) | ((t >> 12) & 0xfff00)
}

// Stat reads /proc/PID/stat alone: the cheap look at a process (state,
// parent, session, terminal) that listings and waits need, without a full
// Snapshot. The error is ErrNoProcess when the process is gone (or hidden).
func (f *FS) Stat(pid int) (ProcStat, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	return f.statInto(pid, *bp)
}

func (f *FS) statInto(pid int, buf []byte) (ProcStat, error) {
	fd, st, err := f.openStat(pid, buf)
	if err == nil {
		unix.Close(fd)
	}
	return st, err
}

// openStat opens /proc/PID/stat, reads it into buf and parses it, and
// returns the descriptor open (Peek keeps it). The error is ErrNoProcess
// when the process is gone (or hidden); the descriptor is closed then, and
// on any other error.
func (f *FS) openStat(pid int, buf []byte) (int, ProcStat, error) {
	path := f.path(strconv.Itoa(pid), "stat")
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if isGone(err) {
			return -1, ProcStat{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return -1, ProcStat{}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	data, err := preadStat(fd, buf)
	var st ProcStat
	switch {
	case err == nil:
		if st, err = parseStat(data); err != nil {
			err = fmt.Errorf("pid %d: %s: %w", pid, path, err)
		}
	case isGone(err):
		err = fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	default:
		err = &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if err != nil {
		unix.Close(fd)
		return -1, st, err
	}
	return fd, st, nil
}

// preadStat reads the whole of an open stat file from its start: a proc
// file shows the process as it is at each read (seq_file starts over at
// offset 0), and stat is one short line, read in one call.
func preadStat(fd int, buf []byte) ([]byte, error) {
	buf = buf[:min(len(buf), maxSmallFile)]
	for {
		n, err := unix.Pread(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

// Alive reports whether the process exists and has not exited. A zombie
// has, unless it is a thread-group leader that ended with pthread_exit(3)
// while other threads run: the kernel shows the leader as Z until the last
// thread exits, and counts the live ones in field 20 (a plain zombie shows
// 1, itself). Such a process runs, holds its descriptors and locks, and
// answers signals.
func (s ProcStat) Alive() bool {
	switch s.State {
	case 0, 'X':
		return false
	case 'Z':
		return s.LeaderExited()
	}
	return true
}

// LeaderExited reports whether the thread-group leader has exited while
// other threads of the process still run (state Z, more than one thread).
func (s ProcStat) LeaderExited() bool { return s.State == 'Z' && s.Threads > 1 }

// parseStat parses the contents of /proc/PID/stat.
func parseStat(data []byte) (ProcStat, error) {
	var s ProcStat
	var fields [64][]byte // 52 today: no allocation per parse
	pid, comm, rest, err := procdir.SplitStat(data, fields[:0])
	if err != nil {
		return s, fmt.Errorf("%w: stat: %v", ErrParse, err)
	}
	s.PID = pid
	s.Comm = string(comm)
	// rest[0] is field 3.
	if len(rest) < 22 {
		return s, fmt.Errorf("%w: stat: %d fields after comm, want at least 22", ErrParse, len(rest))
	}
	if len(rest[0]) != 1 {
		return s, fmt.Errorf("%w: stat: field 3 (state): %q", ErrParse, rest[0])
	}
	s.State = rest[0][0]
	var p fieldParser
	s.PPID = p.int(rest, 4)
	s.PGRP = p.int(rest, 5)
	s.Session = p.int(rest, 6)
	s.TTY = p.int(rest, 7)
	s.TPGID = p.int(rest, 8)
	s.Flags = uint(p.uint(rest, 9))
	s.MinFlt = p.uint(rest, 10)
	s.CMinFlt = p.uint(rest, 11)
	s.MajFlt = p.uint(rest, 12)
	s.CMajFlt = p.uint(rest, 13)
	s.UTime = p.uint(rest, 14)
	s.STime = p.uint(rest, 15)
	s.CUTime = p.int64(rest, 16)
	s.CSTime = p.int64(rest, 17)
	s.Priority = p.int64(rest, 18)
	s.Nice = p.int64(rest, 19)
	s.Threads = p.int64(rest, 20)
	s.ItRealVal = p.int64(rest, 21)
	s.StartTime = p.uint(rest, 22)
	s.VSize = p.uint(rest, 23)
	s.RSS = p.int64(rest, 24)
	s.EnvStart = p.uint(rest, 50)
	s.EnvEnd = p.uint(rest, 51)
	return s, p.err
}

// fieldParser converts stat fields by their proc(5) number, remembering the
// first error so that a parse reads as a list of assignments.
type fieldParser struct{ err error }

func (p *fieldParser) field(rest [][]byte, n int) []byte {
	if i := n - 3; i < len(rest) {
		return rest[i]
	}
	return nil // optional trailing field (old kernels): zero
}

func (p *fieldParser) fail(n int, v []byte) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: stat: field %d: %q", ErrParse, n, v)
	}
}

func (p *fieldParser) int(rest [][]byte, n int) int {
	return int(p.int64(rest, n))
}

func (p *fieldParser) int64(rest [][]byte, n int) int64 {
	v := p.field(rest, n)
	if len(v) == 0 {
		return 0
	}
	digits, neg := v, false
	if digits[0] == '-' || digits[0] == '+' {
		digits, neg = digits[1:], digits[0] == '-'
	}
	u, ok := parseDecimal(digits)
	switch {
	case ok && !neg && u <= math.MaxInt64:
		return int64(u)
	case ok && neg && u <= -math.MinInt64:
		return -int64(u)
	}
	p.fail(n, v)
	return 0
}

func (p *fieldParser) uint(rest [][]byte, n int) uint64 {
	v := p.field(rest, n)
	if len(v) == 0 {
		return 0
	}
	u, ok := parseDecimal(v)
	if !ok {
		p.fail(n, v)
	}
	return u
}

// parseDecimal is strconv.ParseUint(string(b), 10, 64) without the string:
// stat is read twice per process, and its two dozen numbers were most of a
// scan's allocations.
func parseDecimal(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	return u, true
}

// Tasks lists the thread IDs of process pid (/proc/PID/task), ascending.
// The error is ErrNoProcess when the process is gone.
func (f *FS) Tasks(pid int) ([]int, error) {
	path := f.path(strconv.Itoa(pid), "task")
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if isGone(err) {
			return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	return numericNames(fd, path)
}

// TaskStatus reads /proc/PID/task/TID/status: one thread's state, masks and
// context switches. The error is ErrNoProcess when the thread is gone.
func (f *FS) TaskStatus(pid, tid int) (ProcStatus, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	data, err := readFileBounded(f.path(strconv.Itoa(pid), "task", strconv.Itoa(tid), "status"), maxSmallFile, *bp)
	if err != nil {
		if isGone(err) {
			return ProcStatus{}, fmt.Errorf("pid %d: task %d: %w", pid, tid, ErrNoProcess)
		}
		return ProcStatus{}, err
	}
	st, err := parseStatus(data)
	if err != nil {
		return st, fmt.Errorf("pid %d: task %d: %w", pid, tid, err)
	}
	return st, nil
}
