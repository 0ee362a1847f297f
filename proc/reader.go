package proc

// Reader is what judging needs from a process reader: FS on Linux,
// portable.Portable (gopsutil) everywhere.
type Reader interface {
	// PIDs lists the processes, ascending.
	PIDs() ([]int, error)
	// Peek is the cheap look at a process: enough to pick daemons. The
	// caller closes it.
	Peek(pid int) (*Peek, error)
	// TakeFrom reads the whole process, after the caller's Peek when
	// first is not nil.
	TakeFrom(pid int, first *Peek) (*Snapshot, error)
	// ReadPidFile looks at a pidfile.
	ReadPidFile(path string) (*PidFile, error)
	// LocksOn lists the locks the system shows on a file.
	LocksOn(dev, ino uint64) ([]Lock, error)
	// Live reports whether the pids are those of the caller's own pid
	// namespace (kill(2) and the caller's pid speak of the same).
	Live() bool
}

var _ Reader = (*FS)(nil)
