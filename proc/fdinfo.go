package proc

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// FDInfo is /proc/PID/fdinfo/FD, see proc_pid_fdinfo(5). Lines specific to
// other kinds of descriptors (epoll, inotify, ...) are not modelled.
type FDInfo struct {
	Pos       int64     // File offset, line pos
	Flags     uint32    // Open flags and close-on-exec (O_CLOEXEC), octal, line flags
	MountID   int       // Mount ID, see /proc/PID/mountinfo, line mnt_id
	Locks     []Lock    // Locks on the file, in /proc/locks format, lines lock
	SigMask   SignalSet // Signals a signalfd accepts, line sigmask (signalfd only)
	HasSigMsk bool      // Whether a sigmask line was present: the descriptor is a signalfd
}

// parseFDInfo parses the contents of an fdinfo file.
func parseFDInfo(data []byte) (FDInfo, error) {
	var fi FDInfo
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		key, val := string(line[:colon]), bytes.TrimSpace(line[colon+1:])
		var err error
		switch key {
		case "pos":
			fi.Pos, err = strconv.ParseInt(string(val), 10, 64)
		case "flags":
			var f uint64
			f, err = strconv.ParseUint(string(val), 8, 32)
			fi.Flags = uint32(f)
		case "mnt_id":
			fi.MountID, err = strconv.Atoi(string(val))
		case "lock":
			var l Lock
			l, err = parseLockLine(val)
			fi.Locks = append(fi.Locks, l)
		case "sigmask":
			err = parseHexSet(string(val), (*uint64)(&fi.SigMask))
			fi.HasSigMsk = err == nil
		}
		if err != nil {
			return fi, fmt.Errorf("%w: fdinfo: line %s: %q", ErrParse, key, val)
		}
	}
	return fi, nil
}

// Lock is one entry of /proc/locks (or a lock line of fdinfo), see
// proc_locks(5).
type Lock struct {
	Ordinal int    // Position in the kernel's list, the "N:" column
	Blocked bool   // A waiter ("->"), not a holder
	Class   string // FLOCK, POSIX, OFDLCK, LEASE, DELEG, ...
	Mode    string // ADVISORY, MANDATORY, ACTIVE, BREAKING, BREAKER, ...
	Access  string // READ, WRITE, UNLCK, ...
	PID     int    // Process that took the lock, as this pid namespace sees it; -1 for OFD locks, 0 when invisible
	Major   uint32 // Major number of the file's device
	Minor   uint32 // Minor number of the file's device
	Inode   uint64 // Inode number of the locked file
	Start   string // First byte locked
	End     string // Last byte locked, or EOF
}

// parseLocks parses the contents of /proc/locks.
func parseLocks(data []byte) ([]Lock, error) {
	var out []Lock
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data = cutLine(data)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		l, err := parseLockLine(line)
		if err != nil {
			return out, fmt.Errorf("%w (line %d)", err, n)
		}
		out = append(out, l)
	}
	return out, nil
}

func parseLockLine(line []byte) (Lock, error) {
	var l Lock
	f := bytes.Fields(line)
	bad := func(what string) (Lock, error) {
		return l, fmt.Errorf("%w: locks: %s in %q", ErrParse, what, line)
	}
	if len(f) < 7 {
		return bad("too few fields")
	}
	ord, ok := bytes.CutSuffix(f[0], []byte(":"))
	if !ok {
		return bad("no ordinal")
	}
	var err error
	if l.Ordinal, err = strconv.Atoi(string(ord)); err != nil {
		return bad("ordinal")
	}
	f = f[1:]
	if string(f[0]) == "->" {
		l.Blocked = true
		f = f[1:]
	}
	if len(f) < 7 {
		return bad("too few fields")
	}
	l.Class, l.Mode, l.Access = string(f[0]), string(f[1]), string(f[2])
	if l.PID, err = strconv.Atoi(string(f[3])); err != nil {
		return bad("pid")
	}
	id := bytes.Split(f[4], []byte(":"))
	if len(id) != 3 {
		return bad("device:inode")
	}
	maj, err1 := strconv.ParseUint(string(id[0]), 16, 32)
	mnr, err2 := strconv.ParseUint(string(id[1]), 16, 32)
	ino, err3 := strconv.ParseUint(string(id[2]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return bad("device:inode")
	}
	l.Major, l.Minor, l.Inode = uint32(maj), uint32(mnr), ino
	l.Start, l.End = string(f[5]), string(f[6])
	return l, nil
}

// parseEnviron splits /proc/PID/environ into its NUL-terminated entries.
// A final entry without its NUL (a truncated read) is kept.
func parseEnviron(data []byte) []string {
	// One string for the whole block, and the entries slices of it: two
	// allocations, not one per variable.
	all := string(data)
	out := make([]string, 0, bytes.Count(data, []byte{0})+1)
	for len(all) > 0 {
		i := strings.IndexByte(all, 0)
		if i < 0 {
			out = append(out, all)
			break
		}
		if i > 0 {
			out = append(out, all[:i])
		}
		all = all[i+1:]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// TTYDriver is one line of /proc/tty/drivers: a range of device numbers that
// belong to one terminal driver.
type TTYDriver struct {
	Name     string // Driver name
	Node     string // Default device node, e.g. /dev/pts
	Major    uint32 // Major number
	MinorLow uint32 // First minor number of the range
	MinorHi  uint32 // Last minor number of the range
	Type     string // system, system:/dev/tty, console, serial, pty:slave, pty:master, ...
}

// parseTTYDrivers parses /proc/tty/drivers.
func parseTTYDrivers(data []byte) ([]TTYDriver, error) {
	var out []TTYDriver
	for _, line := range bytes.Split(data, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 5 {
			return out, fmt.Errorf("%w: tty/drivers: %q", ErrParse, line)
		}
		d := TTYDriver{Name: string(f[0]), Node: string(f[1]), Type: string(f[len(f)-1])}
		maj, err := strconv.ParseUint(string(f[2]), 10, 32)
		if err != nil {
			return out, fmt.Errorf("%w: tty/drivers: major in %q", ErrParse, line)
		}
		d.Major = uint32(maj)
		lo, hi, found := bytes.Cut(f[3], []byte("-"))
		l, err1 := strconv.ParseUint(string(lo), 10, 32)
		h, err2 := l, error(nil)
		if found {
			h, err2 = strconv.ParseUint(string(hi), 10, 32)
		}
		if err1 != nil || err2 != nil || h < l {
			return out, fmt.Errorf("%w: tty/drivers: minor range in %q", ErrParse, line)
		}
		d.MinorLow, d.MinorHi = uint32(l), uint32(h)
		out = append(out, d)
	}
	return out, nil
}

// defaultTTYDrivers stands in when /proc/tty/drivers cannot be read: the
// fixed device numbers of devices.txt (Documentation/admin-guide/devices.txt).
var defaultTTYDrivers = []TTYDriver{
	{Name: "/dev/tty", Node: "/dev/tty", Major: 5, MinorLow: 0, MinorHi: 0, Type: "system:/dev/tty"},
	{Name: "/dev/console", Node: "/dev/console", Major: 5, MinorLow: 1, MinorHi: 1, Type: "system:console"},
	{Name: "/dev/ptmx", Node: "/dev/ptmx", Major: 5, MinorLow: 2, MinorHi: 2, Type: "system"},
	{Name: "unknown", Node: "/dev/tty", Major: 4, MinorLow: 0, MinorHi: 63, Type: "console"},
	{Name: "serial", Node: "/dev/ttyS", Major: 4, MinorLow: 64, MinorHi: 255, Type: "serial"},
	{Name: "pty_slave", Node: "/dev/pts", Major: 136, MinorLow: 0, MinorHi: 1<<20 - 1, Type: "pty:slave"},
	{Name: "pty_master", Node: "/dev/ptm", Major: 128, MinorLow: 0, MinorHi: 1<<20 - 1, Type: "pty:master"},
	{Name: "usbserial", Node: "/dev/ttyUSB", Major: 188, MinorLow: 0, MinorHi: 511, Type: "serial"},
	{Name: "acm", Node: "/dev/ttyACM", Major: 166, MinorLow: 0, MinorHi: 255, Type: "serial"},
}

// isTerminal reports whether the character device major:minor is a terminal
// a process could read from or have as its controlling terminal. The
// multiplexer /dev/ptmx and pty masters are not: holding one makes a process
// a terminal emulator (sshd, tmux), not a process on a terminal.
func isTerminal(drivers []TTYDriver, major, minor uint32) bool {
	for _, d := range drivers {
		if d.Major != major || minor < d.MinorLow || minor > d.MinorHi {
			continue
		}
		if d.Type == "pty:master" || d.Node == "/dev/ptmx" {
			return false
		}
		return true
	}
	return false
}
