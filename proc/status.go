package proc

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ProcStatus is /proc/PID/status (or /proc/PID/task/TID/status), see
// proc_pid_status(5). Lines the kernel does not print stay at their zero
// value and their Has* flag is false.
type ProcStatus struct {
	Name       string    // Executable name, escaped by the kernel ("\n" as `\n`), line Name
	Umask      uint32    // File mode creation mask, line Umask (Linux 4.7+, absent for zombies); see HasUmask
	HasUmask   bool      // Whether the Umask line was present
	State      byte      // State letter, line State
	TGID       int       // Thread group ID (the process ID), line Tgid
	PID        int       // Thread ID, line Pid
	PPID       int       // Parent process ID, line PPid
	TracerPID  int       // PID of the tracer, 0 when not traced, line TracerPid
	UIDs       [4]int    // Real, effective, saved set and filesystem user IDs, line Uid
	GIDs       [4]int    // Real, effective, saved set and filesystem group IDs, line Gid
	Groups     []int     // Supplementary group IDs, line Groups
	NSTGID     []int     // Thread group ID in each pid namespace, outermost first, line NStgid
	NSPID      []int     // Thread ID in each pid namespace, outermost first, line NSpid
	NSPGID     []int     // Process group ID in each pid namespace, line NSpgid
	NSSID      []int     // Session ID in each pid namespace, line NSsid
	Threads    int       // Number of threads, line Threads
	SigPending SignalSet // Signals pending for this thread, line SigPnd
	SigShared  SignalSet // Signals pending for the whole process, line ShdPnd
	SigBlocked SignalSet // Signals blocked by this thread, line SigBlk
	SigIgnored SignalSet // Signals ignored (SIG_IGN), process-wide, line SigIgn
	SigCaught  SignalSet // Signals with a handler, process-wide, line SigCgt
	CapInh     uint64    // Inheritable capabilities, line CapInh
	CapPrm     uint64    // Permitted capabilities, line CapPrm
	CapEff     uint64    // Effective capabilities, line CapEff
	CapBnd     uint64    // Capability bounding set, line CapBnd
	CapAmb     uint64    // Ambient capabilities, line CapAmb (Linux 4.3+)
	NoNewPrivs bool      // The no_new_privs bit, line NoNewPrivs

	VoluntarySwitches    uint64 // Times the thread gave up the CPU to wait, line voluntary_ctxt_switches
	NonvoluntarySwitches uint64 // Times it was preempted, line nonvoluntary_ctxt_switches
}

// SignalSet is a set of signals as the kernel prints it in status: bit n-1
// stands for signal n.
type SignalSet uint64

// Has reports whether sig is in the set.
func (s SignalSet) Has(sig unix.Signal) bool {
	return sig >= 1 && sig <= 64 && s&(1<<(uint(sig)-1)) != 0
}

// Signals lists the members of the set in ascending order.
func (s SignalSet) Signals() []unix.Signal {
	var out []unix.Signal
	for n := unix.Signal(1); n <= 64; n++ {
		if s.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

// String names the members, as "SIGHUP,SIGUSR1", or "none".
func (s SignalSet) String() string {
	sigs := s.Signals()
	if len(sigs) == 0 {
		return "none"
	}
	names := make([]string, len(sigs))
	for i, sig := range sigs {
		names[i] = SignalName(sig)
	}
	return strings.Join(names, ",")
}

// SignalName returns "SIGTERM" for unix.SIGTERM and "SIG34" for a
// real-time signal: numbers, since the C library decides what SIGRTMIN is
// (glibc reserves 32 and 33 for itself).
func SignalName(sig unix.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return "SIG" + strconv.Itoa(int(sig))
}

// parseStatus parses the contents of a status file.
func parseStatus(data []byte) (ProcStatus, error) {
	var s ProcStatus
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		colon := bytes.IndexByte(line, ':')
		if colon < 0 || !statusKeys[string(line[:colon])] {
			continue // a line no field models: skipped without a copy
		}
		key := string(line[:colon])
		val := string(bytes.TrimSpace(line[colon+1:]))
		if err := s.set(key, val); err != nil {
			return s, fmt.Errorf("%w: status: line %s: %q: %v", ErrParse, key, val, err)
		}
	}
	return s, nil
}

// statusKeys are the lines ProcStatus models.
var statusKeys = map[string]bool{
	"Name": true, "Umask": true, "State": true, "Tgid": true, "Pid": true, "PPid": true, "TracerPid": true,
	"Uid": true, "Gid": true, "Groups": true, "NStgid": true, "NSpid": true, "NSpgid": true, "NSsid": true,
	"Threads": true, "SigPnd": true, "ShdPnd": true, "SigBlk": true, "SigIgn": true, "SigCgt": true,
	"CapInh": true, "CapPrm": true, "CapEff": true, "CapBnd": true, "CapAmb": true, "NoNewPrivs": true,
	"voluntary_ctxt_switches": true, "nonvoluntary_ctxt_switches": true,
}

func (s *ProcStatus) set(key, val string) error {
	var err error
	switch key {
	case "Name":
		s.Name = val
	case "Umask":
		var u uint64
		if u, err = strconv.ParseUint(val, 8, 32); err == nil {
			s.Umask, s.HasUmask = uint32(u), true
		}
	case "State":
		if val == "" {
			return fmt.Errorf("empty")
		}
		s.State = val[0]
	case "Tgid":
		s.TGID, err = strconv.Atoi(val)
	case "Pid":
		s.PID, err = strconv.Atoi(val)
	case "PPid":
		s.PPID, err = strconv.Atoi(val)
	case "TracerPid":
		s.TracerPID, err = strconv.Atoi(val)
	case "Uid":
		err = parseIDQuad(val, &s.UIDs)
	case "Gid":
		err = parseIDQuad(val, &s.GIDs)
	case "Groups":
		s.Groups, err = parseInts(val)
	case "NStgid":
		s.NSTGID, err = parseInts(val)
	case "NSpid":
		s.NSPID, err = parseInts(val)
	case "NSpgid":
		s.NSPGID, err = parseInts(val)
	case "NSsid":
		s.NSSID, err = parseInts(val)
	case "Threads":
		s.Threads, err = strconv.Atoi(val)
	case "SigPnd":
		err = parseHexSet(val, (*uint64)(&s.SigPending))
	case "ShdPnd":
		err = parseHexSet(val, (*uint64)(&s.SigShared))
	case "SigBlk":
		err = parseHexSet(val, (*uint64)(&s.SigBlocked))
	case "SigIgn":
		err = parseHexSet(val, (*uint64)(&s.SigIgnored))
	case "SigCgt":
		err = parseHexSet(val, (*uint64)(&s.SigCaught))
	case "CapInh":
		err = parseHexSet(val, &s.CapInh)
	case "CapPrm":
		err = parseHexSet(val, &s.CapPrm)
	case "CapEff":
		err = parseHexSet(val, &s.CapEff)
	case "CapBnd":
		err = parseHexSet(val, &s.CapBnd)
	case "CapAmb":
		err = parseHexSet(val, &s.CapAmb)
	case "NoNewPrivs":
		s.NoNewPrivs = val == "1"
	case "voluntary_ctxt_switches":
		s.VoluntarySwitches, err = strconv.ParseUint(val, 10, 64)
	case "nonvoluntary_ctxt_switches":
		s.NonvoluntarySwitches, err = strconv.ParseUint(val, 10, 64)
	}
	return err
}

func parseIDQuad(val string, out *[4]int) error {
	f := strings.Fields(val)
	if len(f) != 4 {
		return fmt.Errorf("want 4 ids, got %d", len(f))
	}
	for i, v := range f {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		out[i] = n
	}
	return nil
}

func parseInts(val string) ([]int, error) {
	f := strings.Fields(val)
	if len(f) == 0 {
		return nil, nil
	}
	out := make([]int, len(f))
	for i, v := range f {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func parseHexSet(val string, out *uint64) error {
	n, err := strconv.ParseUint(val, 16, 64)
	*out = n
	return err
}
