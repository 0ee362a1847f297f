package proc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/procdir"
)

// The small lookups other packages need between full snapshots: a name, an
// environment, an executable, children, whether a process holds a file.
// Each reads one /proc file (or directory) of one process.

// Comm is the process's name (/proc/PID/comm), without the newline.
func (f *FS) Comm(pid int) (string, error) {
	data, err := os.ReadFile(f.path(strconv.Itoa(pid), "comm"))
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(data), "\n"), nil
}

// Cmdline is the process's argument list (/proc/PID/cmdline), at most max
// bytes of it; empty for a kernel thread and a zombie.
func (f *FS) Cmdline(pid, max int) ([]string, error) {
	data, err := readFileBounded(f.path(strconv.Itoa(pid), "cmdline"), max, nil)
	if err != nil {
		return nil, err
	}
	return parseEnviron(data), nil
}

// RawEnviron is the environment the process was exec'd with
// (/proc/PID/environ), NUL-separated, at most max bytes of it.
func (f *FS) RawEnviron(pid, max int) ([]byte, error) {
	return readFileBounded(f.path(strconv.Itoa(pid), "environ"), max, nil)
}

// Exe is the path of the process's executable (/proc/PID/exe).
func (f *FS) Exe(pid int) (string, error) {
	return os.Readlink(f.path(strconv.Itoa(pid), "exe"))
}

// Children lists the process's children: the union of every thread's
// task/TID/children (Linux 3.5+), ascending. A child is listed under the
// thread that forked it, so one thread's list is not enough.
func (f *FS) Children(pid int) ([]int, error) {
	files, err := filepath.Glob(f.path(strconv.Itoa(pid), "task", "*", "children"))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue // that thread exited meanwhile
		}
		for _, w := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(w); err == nil {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// FDNums lists the process's open descriptor numbers (/proc/PID/fd),
// ascending.
func (f *FS) FDNums(pid int) ([]int, error) {
	path := f.path(strconv.Itoa(pid), "fd")
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	return numericNames(fd, path)
}

// Holds reports whether the process has a descriptor open on the file
// dev/ino (by the open file, never by its path).
func (f *FS) Holds(pid int, dev, ino uint64) (bool, error) {
	return procdir.Holds(f.path(strconv.Itoa(pid), "fd"), dev, ino)
}

// HasEnv reports whether the process's exec environment holds the entry
// kv ("NAME=value") exactly, within its first max bytes.
func (f *FS) HasEnv(pid int, kv string, max int) (bool, error) {
	env, err := f.RawEnviron(pid, max)
	if err != nil {
		return false, err
	}
	return bytes.HasPrefix(env, []byte(kv+"\x00")) || bytes.Contains(env, []byte("\x00"+kv+"\x00")), nil
}

// OpenMem opens the process's memory (/proc/PID/mem) with flag
// (os.O_RDONLY, os.O_RDWR): what daemonize needs to rewrite its own exec
// environment block.
func (f *FS) OpenMem(pid, flag int) (*os.File, error) {
	return os.OpenFile(f.path(strconv.Itoa(pid), "mem"), flag, 0)
}
