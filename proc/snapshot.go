package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Snapshot is one process as /proc showed it, each file read once. A part
// that could not be read (permission denied, hidepid, a zombie's missing
// files) leaves its field empty and its *Err field set: rules that need it
// report unknown, with that error as the reason.
type Snapshot struct {
	PID    int        // The process ID asked for
	Stat   ProcStat   // /proc/PID/stat
	Status ProcStatus // /proc/PID/status (the thread group leader's signal mask)

	// Exe is the program the process runs: /proc/PID/exe, without the
	// kernel's " (deleted)" suffix (Deleted says whether it had one: the
	// binary was replaced, as by a package upgrade, after the exec).
	Exe    PathInfo
	ExeErr error
	// Cmdline is the argument vector: /proc/PID/cmdline, empty arguments
	// dropped. A process may rewrite it (setproctitle), so it names an
	// instance, never a program.
	Cmdline    []string
	CmdlineErr error

	Cwd     PathInfo // Current directory: /proc/PID/cwd
	CwdErr  error
	Root    PathInfo // Root directory, as chroot(2) set it: /proc/PID/root
	RootErr error

	Environ          []string // Environment at exec time: /proc/PID/environ
	EnvironTruncated bool     // Environ was longer than what is read
	EnvironErr       error

	FDs    []FD // Open descriptors, ascending: /proc/PID/fd and fdinfo
	FDsErr error

	Threads    []Thread // Every thread, with its own signal mask: /proc/PID/task
	ThreadsErr error

	// TermWindow is what further looks at every thread's mask saw, taken
	// only when the first found SIGTERM blocked in every thread; nil
	// otherwise, and for a fixture tree (nothing there changes).
	TermWindow *SignalWindow

	Children    []Child // Child processes of every thread: /proc/PID/task/TID/children
	ChildrenErr error

	// Parent is the parent process: nil when PPID is 0, or when it is 1 and
	// the process is in the initial pid namespace (init needs no reading).
	Parent    *Parent
	ParentErr error

	// UnixDgram holds the inodes of its Unix datagram sockets (the kind
	// syslog(3) and the journal use), from /proc/PID/net/unix. It is read
	// only when stdout and stderr both go to /dev/null and the process has
	// sockets: the one case where it decides whether the process logs.
	UnixDgram  map[uint64]bool
	SocketsErr error
	// Listening holds the inodes of the sockets of its network namespace
	// that listen (TCP state LISTEN, a Unix socket with __SO_ACCEPTCON),
	// from /proc/PID/net/{tcp,tcp6,unix}. It is read, with UnixDgram,
	// when a socket above 2 is not close-on-exec: then whether it listens
	// tells a server socket from one that could have been inherited.
	Listening map[uint64]bool
	// DgramPeers says, for each of those it holds a descriptor on, where
	// it is connected (the kernel's unix_diag, as ss -x reads it): read
	// with UnixDgram, on Linux, for a process in dcheck's own network
	// namespace. PeersErr says why it could not be read.
	DgramPeers map[uint64]UnixPeer
	PeersErr   error
	// OwnPeers says, for each pipe or socket above 2 that is neither
	// close-on-exec nor listening, which process holds its other end when
	// that is the process itself or one of its children (the pid): a
	// channel it made for its workers. Ends held elsewhere or nowhere are
	// not in it. Read on Linux from a live /proc (unix_diag for sockets);
	// OwnPeersErr says why it could not be.
	OwnPeers    map[uint64]int
	OwnPeersErr error

	// Gaps lists the facts without an error field of their own that the
	// reader could not get (see Fact), and why; nil when it got them all,
	// as the /proc reader does.
	Gaps map[Fact]error

	// SharedTID is the thread through which the descriptors, directories,
	// environment and umask were read when the leader had ended with
	// pthread_exit(3) while other threads ran (/proc/PID/task/TID); 0 when
	// they were read through the leader, as usual.
	SharedTID int
}

// PathInfo is a /proc symlink to a directory or file and what it points at.
type PathInfo struct {
	Path    string // Link text, without the " (deleted)" suffix
	Deleted bool   // The kernel marked the target "(deleted)"
	Dev     uint64 // Device of the target (st_dev)
	Ino     uint64 // Inode of the target
}

// SameAs reports whether p and o name one file (device and inode).
func (p PathInfo) SameAs(o PathInfo) bool { return p.Dev == o.Dev && p.Ino == o.Ino }

// FDKind classifies an open descriptor by what it refers to.
type FDKind string

// The kinds of descriptor.
const (
	FDFile    FDKind = "file"    // A regular file
	FDDir     FDKind = "dir"     // A directory
	FDChar    FDKind = "char"    // A character device (terminals, /dev/null)
	FDBlock   FDKind = "block"   // A block device
	FDPipe    FDKind = "pipe"    // An anonymous pipe, "pipe:[INODE]"
	FDFIFO    FDKind = "fifo"    // A named pipe
	FDSocket  FDKind = "socket"  // A socket, "socket:[INODE]"
	FDAnon    FDKind = "anon"    // An anonymous inode: eventfd, signalfd, epoll, timerfd, pidfd, ...
	FDUnknown FDKind = "unknown" // The target could not be examined
)

// FD is one open descriptor.
type FD struct {
	Num      int    // Descriptor number
	Target   string // What /proc/PID/fd/N links to, without " (deleted)"
	Deleted  bool   // A file that has been unlinked
	Kind     FDKind // What it refers to
	Dev      uint64 // Device of the open file (st_dev)
	Ino      uint64 // Inode of the open file
	Rdev     uint64 // Device number, for character and block devices
	Terminal bool   // A terminal device: /dev/pts/*, /dev/tty*, /dev/console (by device number)
	StatErr  error  // Why the open file could not be examined, or nil
	// Info is /proc/PID/fdinfo/N: open flags, locks, a signalfd's mask. It
	// is read for files, directories, anonymous inodes and descriptors that
	// could not be examined; for sockets, pipes and devices it stays zero.
	Info    FDInfo
	InfoErr error // Why fdinfo could not be read, or nil
}

// Is reports whether the descriptor is open on the file dev/ino: never when
// its open file could not be examined.
func (d FD) Is(dev, ino uint64) bool { return d.StatErr == nil && d.Dev == dev && d.Ino == ino }

// HasInfo reports whether Info was read.
func (d FD) HasInfo() bool { return d.InfoErr == nil && needsInfo(d) }

// needsInfo says which descriptors have their fdinfo read: files,
// directories and anonymous inodes, and any descriptor above 2 (whether it
// is close-on-exec tells an inherited one from the process's own, DC205).
func needsInfo(d FD) bool {
	switch d.Kind {
	case FDFile, FDDir, FDAnon, FDUnknown:
		return true
	}
	return d.Num > 2
}

// CloseOnExec reports whether the descriptor is close-on-exec: the process
// opened or marked it itself, as no exec passes one on. False when fdinfo
// was not read.
func (d FD) CloseOnExec() bool { return d.HasInfo() && d.Info.Flags&unix.O_CLOEXEC != 0 }

// Writable reports whether the descriptor was opened for writing.
func (d FD) Writable() bool { return d.Info.Flags&(unix.O_WRONLY|unix.O_RDWR) != 0 }

// IsDevNull reports whether the descriptor is /dev/null, by device number 1:3.
func (d FD) IsDevNull() bool {
	return d.Kind == FDChar && unix.Major(d.Rdev) == 1 && unix.Minor(d.Rdev) == 3
}

// Thread is one thread of the process.
type Thread struct {
	TID        int       // Thread ID
	SigBlocked SignalSet // Its blocked signals: task/TID/status SigBlk
	// Wchan is the kernel function the thread sleeps in (task/TID/wchan),
	// read only for threads that block SIGTERM, where "do_sigtimedwait"
	// tells that the thread takes signals with sigwait(3).
	Wchan string
}

// SignalWindow is a series of looks at every thread's blocked mask. A mask
// seen at one instant is not the daemon's policy: some block SIGTERM only
// around each wait and take it between. The series is longer than such a
// wait usually lasts; a gap of microseconds between waits still escapes it.
type SignalWindow struct {
	Looks     int           // how many looks, after the first
	Span      time.Duration // over how long
	Unblocked int           // a thread seen with SIGTERM unblocked; 0 when none was
	At        time.Duration // when, after the first look
}

// Window's timing: termLooks looks, termEvery apart.
const (
	termLooks = 60
	termEvery = 5 * time.Millisecond
)

// Child is a child process.
type Child struct {
	PID   int    // Its process ID
	Comm  string // Its name
	State byte   // Its state letter; 'Z' for a zombie not yet reaped
	// Its threads, stat field 20: a child shown as Z with more than one
	// thread has only lost its leader (pthread_exit) and still runs.
	Threads int64
}

// Zombie reports whether the child has exited and waits to be reaped.
func (c Child) Zombie() bool { return c.State == 'Z' && c.Threads <= 1 }

// Parent is the parent process.
type Parent struct {
	PID   int    // Its process ID
	Name  string // Its name, from its status
	NSPID []int  // Its pid in each pid namespace, outermost first

	SigIgnored SignalSet // Its ignored signals (SigIgn): under a supervisor, what the daemon was started with
}

// Take reads process pid. It returns ErrNoProcess (or ErrHidden) when there
// is no such process to read, and ErrExited when the process exited, ran
// another program or had its pid reused while it was being read (stat is
// read first and again last: its start time and environment address must
// not change, nor a running process become a zombie). Parts that cannot be
// read are recorded in the Snapshot, not returned as errors.
func (f *FS) Take(pid int) (*Snapshot, error) { return f.take(pid, nil) }

// TakeFrom is Take, starting from the stat the caller peeked at (listing
// candidates, say), and ending with a read through that same descriptor;
// nil is Take. The caller still closes first.
func (f *FS) TakeFrom(pid int, first *Peek) (*Snapshot, error) { return f.take(pid, first) }

// take is Take, starting from what the caller peeked at when first is not
// nil. The last look at stat proves that one process was read throughout:
// it goes through the peek's descriptor, or else through the same
// directory descriptor as every other read; either belongs to the process,
// not to its pid number.
func (f *FS) take(pid int, first *Peek) (*Snapshot, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	dirpath := f.path(strconv.Itoa(pid))
	dirfd, err := unix.Open(dirpath, oPath|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, f.missing(pid, err)
	}
	defer unix.Close(dirfd)

	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	s := &Snapshot{PID: pid}
	var data []byte
	if first != nil {
		s.Stat = first.Stat
	} else {
		data, err = readAtBounded(dirfd, dirpath, "stat", maxSmallFile, buf)
		if err != nil {
			return nil, f.missing(pid, err)
		}
		if s.Stat, err = parseStat(data); err != nil {
			return nil, fmt.Errorf("pid %d: %s/stat: %w", pid, dirpath, err)
		}
	}
	data, err = readAtBounded(dirfd, dirpath, "status", maxSmallFile, buf)
	if err != nil {
		return nil, f.vanished(pid, err)
	}
	if s.Status, err = parseStatus(data); err != nil {
		return nil, fmt.Errorf("pid %d: %s/status: %w", pid, dirpath, err)
	}

	// What the threads share (descriptors, directories, memory, umask) is
	// read through the leader, unless it ended with pthread_exit(3): then
	// the kernel shows it as a zombie with none of these, and a live
	// thread of the same process has them all.
	shared, sharedPath := dirfd, dirpath
	if s.Stat.LeaderExited() {
		tid, tfd, err := openLiveThread(dirfd, dirpath)
		if err != nil {
			return nil, f.vanished(pid, err)
		}
		defer unix.Close(tfd)
		s.SharedTID, shared, sharedPath = tid, tfd, dirpath+"/task/"+strconv.Itoa(tid)
		if data, err := readAtBounded(shared, sharedPath, "status", maxSmallFile, buf); err == nil {
			if st, err := parseStatus(data); err == nil {
				s.Status.Umask, s.Status.HasUmask = st.Umask, st.HasUmask
			}
		}
	}

	s.Exe, s.ExeErr = readLinkInfo(shared, sharedPath, "exe")
	if data, err := readAtBounded(shared, sharedPath, "cmdline", maxSmallFile, buf); err != nil {
		s.CmdlineErr = err
	} else {
		s.Cmdline = parseEnviron(data)
	}
	s.Cwd, s.CwdErr = readPathInfo(shared, sharedPath, "cwd")
	s.Root, s.RootErr = readPathInfo(shared, sharedPath, "root")
	if data, err := readAtBounded(shared, sharedPath, "environ", maxEnviron+1, buf); err != nil {
		s.EnvironErr = err
	} else {
		if len(data) > maxEnviron {
			data, s.EnvironTruncated = data[:maxEnviron], true
		}
		s.Environ = parseEnviron(data)
		if len(data) > 0 && len(s.Environ) == 0 {
			s.EnvironErr = fmt.Errorf("%s/environ: %d bytes, all NUL: %w", dirpath, len(data), ErrEnvironOverwritten)
		}
	}
	s.FDs, s.FDsErr = f.readFDs(shared, sharedPath, buf)
	if s.needsSockets() || s.needsListening() {
		s.UnixDgram, s.Listening, s.SocketsErr = readSocketTables(shared, sharedPath, buf)
		if held := s.heldDgram(); s.SocketsErr == nil && len(held) > 0 {
			s.DgramPeers, s.PeersErr = f.readDgramPeers(pid, held)
		}
	}
	s.readThreads(dirfd, dirpath, buf)
	if isProc(f.root+"/") && s.ThreadsErr == nil && s.BlockedEverywhere(unix.SIGTERM) {
		s.TermWindow = watchTermMask(dirfd, dirpath, buf)
	}
	s.Children, s.ChildrenErr = f.readChildren(dirfd, dirpath, s.Threads, buf)
	if ends := s.unexplainedEnds(); len(ends) > 0 {
		s.OwnPeers, s.OwnPeersErr = f.readOwnPeers(pid, s, ends)
	}
	// The parent is read when DC101 needs more than its pid: when it is
	// not pid 1, or the process lives in a nested pid namespace.
	if s.Stat.PPID > 1 || (s.Stat.PPID == 1 && len(s.Status.NSPID) > 1) {
		s.Parent, s.ParentErr = f.readParent(s.Stat.PPID, buf)
	}

	if s.Zombie() {
		s.MarkZombie()
	}

	// The same process from first read to last, and still running if it
	// ran at the first: else what was read after it exited is what the
	// kernel shows of a zombie (no descriptors, no directories), not what
	// the process had. And the same program: an execve(2) in between
	// moves the environment block (stat fields 50 and 51; zero where they
	// are hidden), and mixes two images' facts, or catches the new one
	// before the kernel has set its arguments and environment, so that
	// both read empty.
	if first != nil && first.fd >= 0 {
		data, err = first.read(buf)
		if err != nil {
			err = &fs.PathError{Op: "read", Path: dirpath + "/stat", Err: err}
		}
	} else {
		data, err = readAtBounded(dirfd, dirpath, "stat", maxSmallFile, buf)
	}
	if err != nil {
		return nil, f.vanished(pid, err)
	}
	if again, err := parseStat(data); err != nil || again.StartTime != s.Stat.StartTime || (s.Stat.Alive() && !again.Alive()) ||
		again.EnvStart != s.Stat.EnvStart || again.EnvEnd != s.Stat.EnvEnd {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrExited)
	}
	return s, nil
}

// missing explains why /proc/PID could not be opened at the start.
func (f *FS) missing(pid int, err error) error {
	if !isGone(err) {
		return fmt.Errorf("pid %d: %w", pid, err)
	}
	if f.live {
		// ESRCH means no such process; success or EPERM means it exists
		// and /proc hides it.
		if kerr := unix.Kill(pid, 0); kerr == nil || kerr == unix.EPERM {
			return fmt.Errorf("pid %d: %w", pid, ErrHidden)
		}
	}
	return fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
}

// vanished explains a read that failed after the first one succeeded.
func (f *FS) vanished(pid int, err error) error {
	if isGone(err) {
		return fmt.Errorf("pid %d: %w", pid, ErrExited)
	}
	return fmt.Errorf("pid %d: %w", pid, err)
}

func readPathInfo(dirfd int, dirpath, name string) (PathInfo, error) {
	p, err := readLinkInfo(dirfd, dirpath, name)
	if err != nil {
		return p, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, 0); err != nil {
		return p, &fs.PathError{Op: "stat", Path: dirpath + "/" + name, Err: err}
	}
	p.Dev, p.Ino = uint64(st.Dev), uint64(st.Ino)
	return p, nil
}

// readLinkInfo reads a /proc symlink without following it: enough for a
// path, and allowed where the target is out of reach.
func readLinkInfo(dirfd int, dirpath, name string) (PathInfo, error) {
	var p PathInfo
	target, err := readlinkat(dirfd, name)
	if err != nil {
		return p, &fs.PathError{Op: "readlink", Path: dirpath + "/" + name, Err: err}
	}
	p.Path, p.Deleted = strings.CutSuffix(target, " (deleted)")
	return p, nil
}

func readlinkat(dirfd int, name string) (string, error) {
	var small [256]byte // most targets: no allocation but the string
	buf := small[:]
	for {
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) || len(buf) >= 1<<16 {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

func (f *FS) readFDs(dirfd int, dirpath string, buf []byte) ([]FD, error) {
	fddir := dirpath + "/fd"
	dfd, err := unix.Openat(dirfd, "fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: fddir, Err: err}
	}
	defer unix.Close(dfd)
	nums, err := numericNames(dfd, fddir)
	if err != nil {
		return nil, err
	}
	var cut error
	if len(nums) > MaxFDs {
		slices.Sort(nums)
		cut, nums = &TruncatedError{Part: "descriptors", Read: MaxFDs, Total: len(nums)}, nums[:MaxFDs]
	}
	// fdinfo is opened on first need: many descriptors need none.
	infofd, infoErr := -1, error(nil)
	defer func() {
		if infofd >= 0 {
			unix.Close(infofd)
		}
	}()
	drivers := f.ttyDrivers()
	fds := make([]FD, 0, len(nums))
	for _, n := range nums {
		name := strconv.Itoa(n)
		target, err := readlinkat(dfd, name)
		if isGone(err) {
			continue // closed while we read
		}
		d := FD{Num: n, Kind: FDUnknown}
		if err != nil {
			d.StatErr = &fs.PathError{Op: "readlink", Path: fddir + "/" + name, Err: err}
		}
		d.Target, d.Deleted = strings.CutSuffix(target, " (deleted)")
		if kind, ino, ok := ParseSpecialTarget(d.Target); ok && err == nil {
			// "socket:[INODE]", "pipe:[INODE]", "anon_inode:NAME": the
			// link says all a stat(2) would.
			d.Kind, d.Ino = kind, ino
		} else {
			var st unix.Stat_t
			if err := unix.Fstatat(dfd, name, &st, 0); err != nil {
				if d.StatErr == nil {
					d.StatErr = &fs.PathError{Op: "stat", Path: fddir + "/" + name, Err: err}
				}
				d.Kind = KindFromTarget(d.Target)
			} else {
				d.Dev, d.Ino, d.Rdev = uint64(st.Dev), uint64(st.Ino), uint64(st.Rdev)
				d.Kind = KindFromStat(uint32(st.Mode), d.Target)
				if d.Kind == FDChar {
					d.Terminal = isTerminal(drivers, unix.Major(d.Rdev), unix.Minor(d.Rdev))
				}
			}
		}
		if needsInfo(d) && infofd < 0 && infoErr == nil {
			if infofd, infoErr = unix.Openat(dirfd, "fdinfo", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); infoErr != nil {
				infofd, infoErr = -1, &fs.PathError{Op: "open", Path: dirpath + "/fdinfo", Err: infoErr}
			}
		}
		if !needsInfo(d) {
			// Nothing a rule asks of standard input, output and error
			// that are sockets, pipes or devices is in fdinfo:
			// skipping it saves four system calls per descriptor.
		} else if infoErr != nil {
			d.InfoErr = infoErr
		} else if data, err := readAtBounded(infofd, dirpath+"/fdinfo", name, maxSmallFile, buf); err != nil {
			d.InfoErr = err
		} else if d.Info, err = parseFDInfo(trimPartialLine(data, maxSmallFile)); err != nil {
			d.InfoErr = fmt.Errorf("%s/fdinfo/%s: %w", dirpath, name, err)
		}
		fds = append(fds, d)
	}
	return fds, cut
}

// trimPartialLine drops a last, cut-off line from a read that hit its bound.
func trimPartialLine(data []byte, max int) []byte {
	if len(data) < max {
		return data
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		return data[:i+1]
	}
	return nil
}

// KindFromStat is the kind of a descriptor whose open file has mode (its
// st_mode) and link text target.
func KindFromStat(mode uint32, target string) FDKind {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		if strings.HasPrefix(target, "anon_inode:") {
			return FDAnon
		}
		return FDFile
	case unix.S_IFDIR:
		return FDDir
	case unix.S_IFCHR:
		return FDChar
	case unix.S_IFBLK:
		return FDBlock
	case unix.S_IFIFO:
		if strings.HasPrefix(target, "pipe:[") {
			return FDPipe
		}
		return FDFIFO
	case unix.S_IFSOCK:
		return FDSocket
	}
	return KindFromTarget(target)
}

// ParseSpecialTarget recognises the link text of descriptors that are not
// files: "socket:[INODE]", "pipe:[INODE]", "anon_inode:NAME".
func ParseSpecialTarget(target string) (FDKind, uint64, bool) {
	for _, k := range []struct {
		prefix string
		kind   FDKind
	}{{"socket:[", FDSocket}, {"pipe:[", FDPipe}} {
		if rest, ok := strings.CutPrefix(target, k.prefix); ok {
			ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
			return k.kind, ino, err == nil
		}
	}
	if strings.HasPrefix(target, "anon_inode:") {
		return FDAnon, 0, true
	}
	return "", 0, false
}

// KindFromTarget is the kind of a descriptor told by its link text alone,
// when its open file cannot be examined.
func KindFromTarget(target string) FDKind {
	switch {
	case strings.HasPrefix(target, "socket:["):
		return FDSocket
	case strings.HasPrefix(target, "pipe:["):
		return FDPipe
	case strings.HasPrefix(target, "anon_inode:"):
		return FDAnon
	}
	return FDUnknown
}

// readThreads lists the threads. A single-threaded process's one thread is
// described by its status, which was already read.
func (s *Snapshot) readThreads(dirfd int, dirpath string, buf []byte) {
	tdir := dirpath + "/task"
	if s.Stat.Threads == 1 {
		t := Thread{TID: s.PID, SigBlocked: s.Status.SigBlocked}
		if t.SigBlocked.Has(unix.SIGTERM) {
			if data, err := readAtBounded(dirfd, dirpath, "wchan", 256, buf); err == nil {
				t.Wchan = string(bytes.TrimSpace(data))
			}
		}
		s.Threads = []Thread{t}
		return
	}
	tfd, err := unix.Openat(dirfd, "task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		s.ThreadsErr = &fs.PathError{Op: "open", Path: tdir, Err: err}
		return
	}
	defer unix.Close(tfd)
	tids, err := numericNames(tfd, tdir)
	if err != nil {
		s.ThreadsErr = err
		return
	}
	if len(tids) > MaxThreads {
		slices.Sort(tids)
		s.ThreadsErr, tids = &TruncatedError{Part: "threads", Read: MaxThreads, Total: len(tids)}, tids[:MaxThreads]
	}
	for _, tid := range tids {
		t := Thread{TID: tid}
		if tid == s.PID {
			t.SigBlocked = s.Status.SigBlocked
		} else {
			data, err := readAtBounded(tfd, tdir, strconv.Itoa(tid)+"/status", maxSmallFile, buf)
			if isGone(err) {
				continue // the thread exited
			}
			if err != nil {
				s.ThreadsErr = err
				continue
			}
			st, err := parseStatus(data)
			if err != nil {
				s.ThreadsErr = fmt.Errorf("%s/%d/status: %w", tdir, tid, err)
				continue
			}
			t.SigBlocked = st.SigBlocked
		}
		if t.SigBlocked.Has(unix.SIGTERM) {
			if data, err := readAtBounded(tfd, tdir, strconv.Itoa(tid)+"/wchan", 256, buf); err == nil {
				t.Wchan = string(bytes.TrimSpace(data))
			}
		}
		s.Threads = append(s.Threads, t)
	}
}

// blockedEverywhere reports whether every thread blocks sig, so that the
// kernel can deliver it to none.
func (s *Snapshot) BlockedEverywhere(sig unix.Signal) bool {
	if len(s.Threads) == 0 {
		return s.Status.SigBlocked.Has(sig)
	}
	for _, t := range s.Threads {
		if !t.SigBlocked.Has(sig) {
			return false
		}
	}
	return true
}

// watchTermMask looks at every thread's mask termLooks times, until one
// thread has SIGTERM unblocked.
func watchTermMask(dirfd int, dirpath string, buf []byte) *SignalWindow {
	w := &SignalWindow{}
	tdir := dirpath + "/task"
	began := time.Now()
	for w.Looks < termLooks {
		time.Sleep(termEvery)
		w.Looks++
		tfd, err := unix.Openat(dirfd, "task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			break // gone
		}
		tids, _ := numericNames(tfd, tdir)
		for _, tid := range tids {
			data, err := readAtBounded(tfd, tdir, strconv.Itoa(tid)+"/status", maxSmallFile, buf)
			if err != nil {
				continue
			}
			if st, err := parseStatus(data); err == nil && !st.SigBlocked.Has(unix.SIGTERM) {
				w.Unblocked, w.At = tid, time.Since(began)
				break
			}
		}
		unix.Close(tfd)
		if w.Unblocked != 0 {
			break
		}
	}
	w.Span = time.Since(began)
	return w
}

// readChildren reads every thread's children file and the state of each
// child.
func (f *FS) readChildren(dirfd int, dirpath string, threads []Thread, buf []byte) ([]Child, error) {
	var pids []int
	for _, t := range threads {
		name := "task/" + strconv.Itoa(t.TID) + "/children"
		data, err := readAtBounded(dirfd, dirpath, name, 1<<20, buf)
		if isGone(err) {
			continue // the thread exited
		}
		if err != nil {
			return nil, err
		}
		for _, w := range bytes.Fields(data) {
			if pid, err := strconv.Atoi(string(w)); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	slices.Sort(pids)
	var cut error
	if len(pids) > MaxChildren {
		cut, pids = &TruncatedError{Part: "children", Read: MaxChildren, Total: len(pids)}, pids[:MaxChildren]
	}
	var out []Child
	for _, pid := range pids {
		st, err := f.statInto(pid, buf)
		if errors.Is(err, ErrNoProcess) {
			continue // exited and reaped meanwhile
		}
		if err != nil {
			return out, err
		}
		out = append(out, Child{PID: pid, Comm: st.Comm, State: st.State, Threads: st.Threads})
	}
	return out, cut
}

func (f *FS) readParent(ppid int, buf []byte) (*Parent, error) {
	data, err := readFileBounded(f.path(strconv.Itoa(ppid), "status"), maxSmallFile, buf)
	if err != nil {
		return nil, err
	}
	st, err := parseStatus(data)
	if err != nil {
		return nil, fmt.Errorf("pid %d: status: %w", ppid, err)
	}
	return &Parent{PID: ppid, Name: st.Name, NSPID: st.NSPID, SigIgnored: st.SigIgnored}, nil
}

// Zombie reports whether the process has exited and waits to be reaped: all
// of it, not only a leader that ended with pthread_exit(3) (SharedTID).
func (s *Snapshot) Zombie() bool { return !s.Stat.Alive() }

// openLiveThread opens the task directory of a thread of the process that
// has not exited, for a leader that has.
func openLiveThread(dirfd int, dirpath string) (int, int, error) {
	tfd, err := unix.Openat(dirfd, "task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, -1, &fs.PathError{Op: "open", Path: dirpath + "/task", Err: err}
	}
	defer unix.Close(tfd)
	tids, err := numericNames(tfd, dirpath+"/task")
	if err != nil {
		return 0, -1, err
	}
	var buf [maxSmallFile]byte
	for _, tid := range tids {
		name := strconv.Itoa(tid)
		data, err := readAtBounded(tfd, dirpath+"/task", name+"/stat", maxSmallFile, buf[:])
		if err != nil {
			continue
		}
		if st, err := parseStat(data); err != nil || st.State == 'Z' || st.State == 'X' {
			continue
		}
		fd, err := unix.Openat(tfd, name, oPath|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == nil {
			return tid, fd, nil
		}
	}
	return 0, -1, &fs.PathError{Op: "find a live thread", Path: dirpath + "/task", Err: unix.ESRCH}
}

// needsSockets reports whether stdout and stderr are both /dev/null (or
// closed) and the process holds sockets: then whether it logs depends on
// what those sockets are.
func (s *Snapshot) needsSockets() bool {
	for _, n := range []int{1, 2} {
		if d := s.Descriptor(n); d != nil && !d.IsDevNull() {
			return false
		}
	}
	return slices.ContainsFunc(s.FDs, func(d FD) bool { return d.Kind == FDSocket })
}

// unexplainedEnds lists the pipes and sockets above 2 that are neither
// close-on-exec nor (for a socket, once the tables are read) listening.
func (s *Snapshot) unexplainedEnds() []FD {
	var out []FD
	for _, d := range s.FDs {
		switch {
		case d.Num < 3 || d.CloseOnExec():
		case d.Kind == FDPipe:
			out = append(out, d)
		case d.Kind == FDSocket && s.Listening != nil && !s.Listening[d.Ino]:
			out = append(out, d)
		}
	}
	return out
}

// needsListening reports whether a socket above 2 is not known to be
// close-on-exec.
func (s *Snapshot) needsListening() bool {
	return slices.ContainsFunc(s.FDs, func(d FD) bool { return d.Num > 2 && d.Kind == FDSocket && !d.CloseOnExec() })
}

// readSocketTables reads the Unix, TCP and TCP6 socket tables of the
// process's network namespace (net/ under dirfd, a /proc/PID or its task):
// the inodes of the datagram sockets, and of the listening ones.
func readSocketTables(dirfd int, dirpath string, buf []byte) (dgram, listening map[uint64]bool, err error) {
	dgram, listening = map[uint64]bool{}, map[uint64]bool{}
	for _, t := range []struct {
		name  string
		parse func([]byte) ([]Socket, error)
	}{
		{"unix", parseNetUnix},
		{"tcp", func(b []byte) ([]Socket, error) { return parseNetTCP(b, "tcp") }},
		{"tcp6", func(b []byte) ([]Socket, error) { return parseNetTCP(b, "tcp6") }},
	} {
		data, err := readTableAt(dirfd, dirpath, "net/"+t.name, maxLocks, buf)
		if errors.Is(err, fs.ErrNotExist) && t.name == "tcp6" {
			continue // no IPv6
		}
		if err != nil {
			return nil, nil, err
		}
		socks, err := t.parse(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s/net/%s: %w", dirpath, t.name, err)
		}
		for _, s := range socks {
			if s.Type == unix.SOCK_DGRAM && s.Proto == "unix" {
				dgram[s.Inode] = true
			}
			if s.Listening {
				listening[s.Inode] = true
			}
		}
	}
	return dgram, listening, nil
}

// UnixPeer is where a Unix datagram socket is connected.
type UnixPeer struct {
	Bound     string // its own address ("@name" abstract); "" when unbound
	Connected bool   // connect(2) gave it a peer
	PeerPath  string // the peer's address; "" when not connected or the peer is unbound
}

// heldDgram lists the Unix datagram sockets it holds descriptors on.
func (s *Snapshot) heldDgram() []uint64 {
	var out []uint64
	for _, d := range s.FDs {
		if d.Kind == FDSocket && s.UnixDgram[d.Ino] && !slices.Contains(out, d.Ino) {
			out = append(out, d.Ino)
		}
	}
	return out
}

// MarkZombie replaces what a zombie no longer has with ErrZombie: its
// descriptors were closed and its cwd, root and memory released when it
// exited, so /proc shows them empty or not at all.
func (s *Snapshot) MarkZombie() {
	s.Exe, s.ExeErr = PathInfo{}, ErrZombie
	s.Cmdline, s.CmdlineErr = nil, ErrZombie
	s.Cwd, s.CwdErr = PathInfo{}, ErrZombie
	s.Root, s.RootErr = PathInfo{}, ErrZombie
	s.Environ, s.EnvironErr = nil, ErrZombie
	s.FDs, s.FDsErr = nil, ErrZombie
	s.UnixDgram, s.Listening, s.SocketsErr = nil, nil, nil
	s.DgramPeers, s.PeersErr = nil, nil
	s.OwnPeers, s.OwnPeersErr = nil, nil
}

// Descriptor returns descriptor n, or nil when it is not open.
func (s *Snapshot) Descriptor(n int) *FD {
	i, ok := slices.BinarySearchFunc(s.FDs, n, func(d FD, n int) int { return d.Num - n })
	if !ok {
		return nil
	}
	return &s.FDs[i]
}
