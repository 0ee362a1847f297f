package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/pidtext"
)

// MaxPidFileBytes is as much of a pidfile as is ever read. The pid is on
// the first line; some daemons write more lines after it (a data
// directory, a start time, a port: PostgreSQL's postmaster.pid does), and
// those are the daemon's business. A larger file is not a pidfile.
const MaxPidFileBytes = 4096

// maxPidLine bounds the first line: a pid is at most 7 digits on Linux
// (pid_max <= 4194304), so a longer line, white space and all, holds none.
const maxPidLine = 64

// PidFile is what a look at a pidfile found. Reading it changes nothing on
// disk: it is opened read-only and non-blocking (it could be a FIFO), and
// never created, locked or written.
type PidFile struct {
	Path       string      // The path as given
	Symlink    bool        // The final path component is a symbolic link
	LinkTarget string      // Where that link points, when Symlink
	Exists     bool        // Something exists at Path (after following a final symlink)
	Mode       fs.FileMode // Type and permission bits of the file, following a final symlink
	UID        int         // Owner of the file
	Dev        uint64      // Device of the file (st_dev)
	Ino        uint64      // Inode of the file
	Size       int64       // Size in bytes
	DirPath    string      // Directory holding the pidfile
	DirMode    fs.FileMode // Its type and permission bits, including the sticky bit
	DirUID     int         // Its owner
	DirGID     int         // Its group
	DirErr     error       // Why the directory could not be examined, or nil
	Content    []byte      // Its first line, at most 64 bytes of it
	PID        int         // The pid it holds, when Err is nil
	Err        error       // Why it holds no usable pid: missing, not a regular file, unreadable, or ErrPidFile
	Locks      []Lock      // Entries of /proc/locks on the file's device and inode
	LocksErr   error       // Why /proc/locks could not be read, or nil
}

// ParsePidFile parses a pidfile's contents: a pid on the first line
// (internal/pidtext's grammar: decimal digits, no sign, no leading zero),
// surrounded by optional white space; later lines are ignored.
// The error wraps ErrPidFile and quotes at most a few dozen bytes of what
// was found.
func ParsePidFile(data []byte) (int, error) {
	if len(data) > MaxPidFileBytes {
		return 0, fmt.Errorf("%w: larger than %d bytes, not a pidfile", ErrPidFile, MaxPidFileBytes)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if len(line) > maxPidLine {
		return 0, fmt.Errorf("%w: first line %s is longer than %d bytes, too long to hold a pid", ErrPidFile, QuoteHead(line), maxPidLine)
	}
	s := bytes.TrimSpace(line)
	if len(s) == 0 {
		if len(bytes.TrimSpace(data)) == 0 {
			return 0, fmt.Errorf("%w: empty", ErrPidFile)
		}
		return 0, fmt.Errorf("%w: the first line is empty (the pid belongs there)", ErrPidFile)
	}
	pid, err := pidtext.Parse(s)
	switch {
	case errors.Is(err, pidtext.ErrRange): // digits, perhaps after a minus: safe to print
		return 0, fmt.Errorf("%w: %s is %v", ErrPidFile, s, err)
	case err != nil:
		return 0, fmt.Errorf("%w: %s is not a decimal pid (digits alone, no sign, no leading zero)", ErrPidFile, QuoteHead(s))
	}
	return pid, nil
}

// quoteBytes is how much of something a daemon wrote a message quotes.
const quoteBytes = 32

// QuoteHead quotes at most the first 32 bytes of data, Go-escaped, with
// the total size when it cut: what a daemon wrote may be anything, of any
// size, and a message must stay one short line.
func QuoteHead(data []byte) string {
	if len(data) <= quoteBytes {
		return strconv.Quote(string(data))
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(string(data[:quoteBytes])), len(data))
}

// ReadPid reads the pid from the pidfile at path the way a careful reader
// must read a file that another program controls: without following a
// final symlink, without blocking (it may be a FIFO), only from a regular
// file, and at most MaxPidFileBytes. The error names path; for contents
// that hold no pid it wraps ErrPidFile.
func ReadPid(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err == unix.ELOOP {
		return 0, fmt.Errorf("%s: %w: a symbolic link, not followed", path, ErrPidFile)
	}
	if err != nil {
		return 0, pidfileError(path, "open it", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, pidfileError(path, "stat it", err)
	}
	if m := fileMode(uint32(st.Mode)); !m.IsRegular() {
		return 0, fmt.Errorf("%s: %w: not a regular file but %s", path, ErrPidFile, DescribeMode(m))
	}
	if st.Size > MaxPidFileBytes {
		return 0, fmt.Errorf("%s: %w: %d bytes, larger than %d: not a pidfile", path, ErrPidFile, st.Size, MaxPidFileBytes)
	}
	var buf [MaxPidFileBytes + 1]byte
	n, err := readFull(fd, buf[:])
	if err != nil {
		return 0, pidfileError(path, "read it", err)
	}
	pid, err := ParsePidFile(buf[:n])
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return pid, nil
}

// pidfileError says what could not be done with the pidfile at path in
// the one style of every pidfile message, "PATH: what" ("/run/x.pid: no
// such file", "/run/x.pid: cannot open it: permission denied"), and
// wraps err: errors.Is(err, fs.ErrNotExist) still holds.
func pidfileError(path, action string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file%w", path, quiet{err})
	}
	return fmt.Errorf("%s: cannot %s: %w", path, action, err)
}

// quiet wraps an error for errors.Is and As without adding to the message.
type quiet struct{ err error }

func (q quiet) Error() string { return "" }
func (q quiet) Unwrap() error { return q.err }

// ReadPidFile looks at the pidfile at path (the package function).
func (f *FS) ReadPidFile(path string) (*PidFile, error) { return ReadPidFile(path) }

// ReadPidFile looks at the pidfile at path, without following a final
// symlink for the facts nor blocking on a FIFO. It returns an error only
// for an empty path; everything that can be wrong with the file itself is
// recorded in the PidFile.
func ReadPidFile(path string) (*PidFile, error) {
	if path == "" {
		return nil, errors.New("pidfile path is empty")
	}
	p := &PidFile{Path: path, DirPath: filepath.Dir(path)}
	var dst unix.Stat_t
	if err := unix.Stat(p.DirPath, &dst); err != nil {
		p.DirErr = &fs.PathError{Op: "stat", Path: p.DirPath, Err: err}
	} else {
		p.DirMode, p.DirUID, p.DirGID = fileMode(uint32(dst.Mode)), int(dst.Uid), int(dst.Gid)
	}
	var lst unix.Stat_t
	if err := unix.Lstat(path, &lst); err != nil {
		p.Err = pidfileError(path, "look at it", err)
		return p, nil
	}
	if lst.Mode&unix.S_IFMT == unix.S_IFLNK {
		p.Symlink = true
		p.LinkTarget, _ = os.Readlink(path)
	}
	// Open first and fstat the open file, so that the facts and the content
	// are of one file even if the path is being replaced.
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		p.Err = pidfileError(path, "open it", err)
		if st := (unix.Stat_t{}); unix.Stat(path, &st) == nil {
			p.fill(&st)
		}
		return p, nil
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		p.Err = pidfileError(path, "stat it", err)
		return p, nil
	}
	p.fill(&st)
	if !p.Mode.IsRegular() {
		p.Err = fmt.Errorf("%s: not a regular file (%s)", path, DescribeMode(p.Mode))
	} else {
		buf := make([]byte, MaxPidFileBytes+1)
		n, err := readFull(fd, buf)
		switch {
		case err != nil:
			p.Err = pidfileError(path, "read it", err)
		default:
			line, _, _ := bytes.Cut(buf[:n], []byte("\n"))
			p.Content = line[:min(len(line), maxPidLine)]
			p.PID, p.Err = ParsePidFile(buf[:n])
			if p.Err != nil {
				p.Err = fmt.Errorf("%s: %w", path, p.Err)
			}
		}
	}
	return p, nil
}

func (p *PidFile) fill(st *unix.Stat_t) {
	p.Exists = true
	p.Mode, p.UID = fileMode(uint32(st.Mode)), int(st.Uid)
	p.Dev, p.Ino, p.Size = uint64(st.Dev), uint64(st.Ino), st.Size
}

// fileMode converts a stat mode to an fs.FileMode.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	return mode
}

func DescribeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return m.String()
}

// LocksOn returns the entries of /proc/locks on the file with device dev
// and inode ino.
func (f *FS) LocksOn(dev, ino uint64) ([]Lock, error) {
	locks, err := f.readLocks()
	var out []Lock
	for _, l := range locks {
		if uint64(unix.Mkdev(l.Major, l.Minor)) == dev && l.Inode == ino {
			out = append(out, l)
		}
	}
	return out, err
}
