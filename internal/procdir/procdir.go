// Package procdir is the few /proc lookups that both dcheck's reader
// (package proc) and the daemonize library need: the numeric entries of a
// /proc directory (pids, descriptors, threads), whether a process holds a
// file, and how /proc/PID/stat splits into fields. It is small on purpose:
// a daemon built with daemonize links this, and not the reader.
package procdir

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Mount is where the proc filesystem is mounted.
const Mount = "/proc"

// Under reports whether path is below /proc (not another tree: a recorded
// one, in the tests).
func Under(path string) bool { return strings.HasPrefix(path, Mount+"/") }

// ReadDirNames calls fn with every name in the open directory fd (at
// path) but "." and "..", reading through buf until a read returns
// nothing. A short read is no end: getdents stops early when a signal is
// pending (filldir64), and Go's runtime takes signals all the time
// (SIGURG to preempt, SIGCHLD). Taking a short read under /proc for the
// end, to save the last read, lost 9 of 89 processes of a listing.
func ReadDirNames(fd int, path string, buf []byte, fn func(name string)) error {
	var names []string
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		names = names[:0]
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
		for _, name := range names {
			fn(name)
		}
	}
}

// NumericNames lists the names in the open directory fd (at path) that
// are numbers: pids, tids or descriptors, ascending. buf is room for the
// directory's entries (16 KiB serves).
func NumericNames(fd int, path string, buf []byte) ([]int, error) {
	var nums []int
	err := ReadDirNames(fd, path, buf, func(name string) {
		if n, err := strconv.Atoi(name); err == nil && n >= 0 {
			nums = append(nums, n)
		}
	})
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: path, Err: err}
	}
	slices.Sort(nums)
	return nums, nil
}

// Numeric opens the directory at path and lists its numeric entries.
func Numeric(path string) ([]int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	return NumericNames(fd, path, make([]byte, 16<<10))
}

// Holds reports whether the process whose descriptor directory is fdDir
// (/proc/PID/fd) has a descriptor open on the file dev/ino: by the open
// file, never by its path.
func Holds(fdDir string, dev, ino uint64) (bool, error) {
	nums, err := Numeric(fdDir)
	if err != nil {
		return false, err
	}
	for _, n := range nums {
		var st unix.Stat_t
		if unix.Stat(fdDir+"/"+strconv.Itoa(n), &st) == nil && uint64(st.Dev) == dev && uint64(st.Ino) == ino {
			return true, nil
		}
	}
	return false, nil
}

// SplitStat splits /proc/PID/stat into the pid, the comm (which may hold
// spaces and parentheses: it ends at the last ')') and the fields after
// it, appended to rest (whose rest[0] is field 3, the state). The error
// says, in a few words, what is wrong.
func SplitStat(data []byte, rest [][]byte) (pid int, comm []byte, _ [][]byte, err error) {
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return 0, nil, rest, fmt.Errorf("no (comm) field")
	}
	pid, err = strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	if err != nil {
		return 0, nil, rest, fmt.Errorf("field 1 (pid): %q", bytes.TrimSpace(data[:open]))
	}
	return pid, data[open+1 : closing], AppendFields(rest, data[closing+1:]), nil
}

// AppendFields appends b's fields, split at white space, to dst.
func AppendFields(dst [][]byte, b []byte) [][]byte {
	start := -1
	for i, c := range b {
		space := c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
		switch {
		case space && start >= 0:
			dst, start = append(dst, b[start:i]), -1
		case !space && start < 0:
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, b[start:])
	}
	return dst
}

// EnvRange is where the process's exec environment lies in its memory:
// env_start and env_end, fields 50 and 51 of /proc/PID/stat (the block
// the kernel shows as /proc/PID/environ).
func EnvRange(pid int) (start, end uint64, err error) {
	path := Mount + "/" + strconv.Itoa(pid) + "/stat"
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	_, _, rest, err := SplitStat(data, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %v", path, err)
	}
	if len(rest) < 49 { // field 51 is rest[48]
		return 0, 0, fmt.Errorf("%s: %d fields after comm, want at least 49 (Linux 3.5)", path, len(rest))
	}
	if start, err = strconv.ParseUint(string(rest[47]), 10, 64); err == nil {
		end, err = strconv.ParseUint(string(rest[48]), 10, 64)
	}
	return start, end, err
}
