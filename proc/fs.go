package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/procdir"
)

// DefaultMount is where the running system's proc filesystem is mounted.
const DefaultMount = "/proc"

// Bounds on what one read of a /proc file takes. The sizes /proc reports
// are lies (0 for most files), so every read is bounded.
const (
	maxSmallFile = 16 << 10  // stat, status, fdinfo, children, wchan, cmdline (cut there)
	maxEnviron   = 256 << 10 // environ: larger environments are truncated
	maxLocks     = 4 << 20   // /proc/locks and the socket tables: a larger one is not read (ErrTruncated)
)

// Bounds on how much of one process is read, so that no user's process
// can make a scan slow or large (a process may hold 524,288 descriptors
// under systemd's default limit). Beyond them, the part's *Err field is a
// TruncatedError. At the bounds, one process takes about 10 ms.
const (
	MaxFDs      = 4096
	MaxThreads  = 1024
	MaxChildren = 4096
)

// FS reads processes out of a proc filesystem. Its zero value is not usable;
// call NewFS. An FS is safe for concurrent use.
type FS struct {
	root string
	// live is true when root is a proc mount of the caller's pid namespace,
	// so that kill(2) may confirm a pid that /proc does not show (hidepid).
	live bool

	ttyOnce sync.Once
	tty     []TTYDriver
}

// NewFS returns an FS rooted at mount; "" means DefaultMount. It fails when
// mount is not a directory.
func NewFS(mount string) (*FS, error) {
	if mount == "" {
		mount = DefaultMount
	}
	var st unix.Stat_t
	if err := unix.Stat(mount, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: mount, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, fmt.Errorf("%s: not a directory", mount)
	}
	f := &FS{root: filepath.Clean(mount)}
	// A proc mount of this process's own pid namespace (its "self" is this
	// process) is live: kill(2) then speaks of the same pids.
	if isProcMount(mount) {
		self, err := os.Readlink(filepath.Join(mount, "self"))
		f.live = err == nil && self == strconv.Itoa(os.Getpid())
	}
	return f, nil
}

// Live reports whether the FS reads the caller's own pid namespace's proc
// mount: then its pids are the ones kill(2) and the caller's own pid
// speak of.
func (f *FS) Live() bool { return f.live }

// Root returns the mount point the FS reads.
func (f *FS) Root() string { return f.root }

// path joins elements under the root, for messages and path-based calls.
func (f *FS) path(elem ...string) string {
	return filepath.Join(append([]string{f.root}, elem...)...)
}

// ttyDrivers returns /proc/tty/drivers, or the fixed table from
// devices.txt when that file cannot be read.
func (f *FS) ttyDrivers() []TTYDriver {
	f.ttyOnce.Do(func() {
		data, err := readFileBounded(f.path("tty", "drivers"), maxSmallFile, nil)
		if err == nil {
			if d, err := parseTTYDrivers(data); err == nil && len(d) > 0 {
				f.tty = d
				return
			}
		}
		f.tty = defaultTTYDrivers
	})
	return f.tty
}

// readLocks reads and parses /proc/locks.
func (f *FS) readLocks() ([]Lock, error) {
	p := f.path("locks")
	data, err := readTable(p, maxLocks, nil)
	if err != nil {
		return nil, err
	}
	l, err := parseLocks(data)
	if err != nil {
		return l, fmt.Errorf("%s: %w", p, err)
	}
	return l, nil
}

// PIDs lists the numeric entries of the root: every process this proc mount
// shows, in no particular order.
func (f *FS) PIDs() ([]int, error) {
	fd, err := unix.Open(f.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: f.root, Err: err}
	}
	defer unix.Close(fd)
	return numericNames(fd, f.root)
}

// numericNames lists the names in the open directory fd (at path) that are
// numbers: pids, tids or descriptors, ascending (internal/procdir, which
// daemonize shares).
func numericNames(fd int, path string) ([]int, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	return procdir.NumericNames(fd, path, *bp)
}

// cutLine splits data after its first line, dropping the newline.
func cutLine(data []byte) (line, rest []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i], data[i+1:]
	}
	return data, nil
}

// readFileBounded reads at most max bytes of the file at path, into buf
// when it is large enough (the result may alias buf).
func readFileBounded(path string, max int, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	data, err := readAllBounded(fd, oneRecord(filepath.Dir(path), filepath.Base(path)), max, buf)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return data, nil
}

// readTable reads a proc table of many records (net/unix, net/tcp, locks)
// whole, or fails wrapping ErrTruncated: a rule that looks a socket or a
// lock up in a table cut short cannot tell "absent" from "cut off", so a
// table larger than max is not read in part.
func readTable(path string, max int, buf []byte) ([]byte, error) {
	data, err := readFileBounded(path, max+1, buf)
	return wholeTable(path, data, max, err)
}

// readTableAt is readTable for the file name relative to dirfd (at
// dirpath).
func readTableAt(dirfd int, dirpath, name string, max int, buf []byte) ([]byte, error) {
	data, err := readAtBounded(dirfd, dirpath, name, max+1, buf)
	return wholeTable(dirpath+"/"+name, data, max, err)
}

func wholeTable(path string, data []byte, max int, err error) ([]byte, error) {
	if err == nil && len(data) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes, and not read in part: %w", path, max, ErrTruncated)
	}
	return data, err
}

// readAtBounded reads at most max bytes of the file name relative to the
// directory dirfd, into buf when it is large enough (the result may alias
// buf); dirpath names that directory in errors.
func readAtBounded(dirfd int, dirpath, name string, max int, buf []byte) ([]byte, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dirpath + "/" + name, Err: err}
	}
	defer unix.Close(fd)
	data, err := readAllBounded(fd, oneRecord(dirpath, name), max, buf)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: dirpath + "/" + name, Err: err}
	}
	return data, nil
}

// bufPool holds read buffers, so that a snapshot's dozens of small reads
// allocate none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// oneRecord reports whether the file name in dirpath is a proc file that a
// read returns whole while the buffer has room: a single-record seq_file
// (stat, status, statm, comm, wchan, schedstat, cgroup, fdinfo/N) or a
// file whose read loops until the buffer is full (cmdline, environ). For
// it, a short read is the end, and the read that would return 0 is saved:
// a system call per file, which is most of what dcheck does. Any other
// seq_file (net/unix, net/tcp, locks, maps, children) returns at most a
// page per read, however large the buffer: it is read until a read
// returns 0 (taking a short read for its end lost 266 of 300 sockets).
func oneRecord(dirpath, name string) bool {
	if !isProc(dirpath) {
		return false
	}
	if strings.HasSuffix(dirpath, "/fdinfo") && !strings.Contains(name, "/") {
		return true
	}
	switch name[strings.LastIndexByte(name, '/')+1:] {
	case "stat", "status", "statm", "comm", "wchan", "schedstat", "cgroup", "cmdline", "environ":
		return true
	}
	return false
}

// readAllBounded reads fd to its end, or to max bytes; with oneRead (see
// oneRecord), a short read is the end.
func readAllBounded(fd int, oneRead bool, max int, buf []byte) ([]byte, error) {
	if len(buf) > max {
		buf = buf[:max]
	}
	if len(buf) == 0 {
		buf = make([]byte, min(max, 4096))
	}
	n := 0
	for {
		if n == len(buf) {
			if n >= max {
				return buf[:n], nil
			}
			nb := make([]byte, min(max, 2*len(buf)))
			copy(nb, buf[:n])
			buf = nb
		}
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return buf[:n], nil
		}
		n += m
		if n < len(buf) && oneRead {
			return buf[:n], nil
		}
	}
}

// isProc reports whether path is in a proc file system that dcheck reads:
// fixture trees are ordinary files, read to the end.
func isProc(path string) bool { return procdir.Under(path) }

// readFull reads into buf until it is full or the file ends.
func readFull(fd int, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// isGone reports whether err says a /proc entry has disappeared: the
// process (or the descriptor) no longer exists.
func isGone(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}
