package daemonize

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/pidtext"
)

// The pidfile protocol. A reader polling the pidfile never sees it empty or
// half-written, and exactly one daemon wins a race of concurrent starts:
//
//  1. The original process refuses a symlink at the path. If a pidfile
//     exists it opens it (O_NOFOLLOW) and tries flock(LOCK_EX|LOCK_NB):
//     locked means another instance runs, reported in the foreground before
//     anything forks; unlocked means stale, and the lock is kept.
//  2. It creates a temporary file beside the pidfile and locks it. Both
//     descriptors pass to the daemon, which so inherits the locks: a flock
//     belongs to the open file, not to the process that took it.
//  3. The daemon writes its pid to the temporary file and fsyncs it, then
//     makes it the pidfile: rename(2) over the stale pidfile it holds
//     locked, or link(2) where there was none (link fails if another start
//     got there first: that start's daemon runs, and this one reports
//     "already running" through the handshake and exits).
//  4. After publishing, the path's inode is checked against the open file.
//     The daemon keeps the file open and locked for its whole life, and
//     Close removes it while still holding the lock.

const pidFileMode = 0o644

// claim is a pidfile being taken over: the locked temporary file that will
// become the pidfile, and the stale pidfile it replaces, if any.
type claim struct {
	path  string
	tmp   *os.File // locked; becomes the pidfile
	stale *os.File // the stale pidfile at path, locked; nil when there was none
}

// claimPidFile is step 1 and 2, in the original process.
func claimPidFile(path string) (*claim, error) {
	c := &claim{path: path}
	// A pidfile another user could replace or write would name whatever
	// they like to whoever trusts it (DC302, by the same definition).
	if err := checkPidFileDir(path); err != nil {
		return nil, err
	}
	switch st, err := os.Lstat(path); {
	case err == nil && st.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return nil, fmt.Errorf("%s is a symbolic link (to %s): refusing to follow it", path, target)
	case err == nil:
		f, err := openPidFile(path, os.O_RDWR)
		if err != nil {
			return nil, err
		}
		if err := checkPidFile(path, f); err != nil {
			f.Close()
			return nil, err
		}
		if err := lockNB(f); err != nil {
			pid, _ := readPID(f)
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, &AlreadyRunningError{PidFile: path, PID: pid}
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		c.stale = f
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".new*")
	if err != nil {
		c.close()
		return nil, err
	}
	c.tmp = tmp
	if err := lockNB(tmp); err != nil {
		c.abandon()
		return nil, fmt.Errorf("lock %s: %w", tmp.Name(), err)
	}
	return c, nil
}

// publish is steps 3 and 4, in the daemon.
func (c *claim) publish(pid int) error {
	tmpName := c.tmp.Name()
	data := []byte(strconv.Itoa(pid) + "\n")
	if err := c.tmp.Chmod(pidFileMode); err != nil {
		return err
	}
	if err := c.tmp.Truncate(0); err != nil {
		return err
	}
	if _, err := c.tmp.WriteAt(data, 0); err != nil {
		return err
	}
	if err := c.tmp.Sync(); err != nil {
		return err
	}
	for range 3 {
		if c.stale != nil {
			if !samePath(c.path, c.stale) {
				// Removed (or replaced) by someone else since we locked it:
				// start over as if there had been none.
				c.stale.Close()
				c.stale = nil
				continue
			}
			if err := os.Rename(tmpName, c.path); err != nil {
				return err
			}
			c.stale.Close()
			c.stale = nil
		} else {
			err := os.Link(tmpName, c.path)
			if errors.Is(err, fs.ErrExist) {
				f, err := openPidFile(c.path, os.O_RDWR)
				if err != nil {
					os.Remove(tmpName)
					return err
				}
				if err := lockNB(f); err != nil {
					pid, _ := readPID(f)
					f.Close()
					os.Remove(tmpName)
					return &AlreadyRunningError{PidFile: c.path, PID: pid}
				}
				c.stale = f // appeared stale meanwhile: replace it
				continue
			}
			if err != nil {
				return err
			}
			os.Remove(tmpName)
		}
		if !samePath(c.path, c.tmp) {
			return fmt.Errorf("%s was replaced while it was being written", c.path)
		}
		return nil
	}
	os.Remove(tmpName)
	return fmt.Errorf("%s keeps changing under us", c.path)
}

// close releases the descriptors without touching the file system.
func (c *claim) close() {
	if c.stale != nil {
		c.stale.Close()
	}
	if c.tmp != nil {
		c.tmp.Close()
	}
}

// abandon removes the temporary file if it is still ours and closes all.
func (c *claim) abandon() {
	if c.tmp != nil {
		if samePath(c.tmp.Name(), c.tmp) {
			os.Remove(c.tmp.Name())
		}
	}
	c.close()
}

// openPidFile opens an existing pidfile without following a symlink and
// checks that it is a regular file.
func openPidFile(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("%s is a symbolic link: refusing to follow it", path)
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	return f, nil
}

func lockNB(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			return err
		}
	}
}

// samePath reports whether path names the open file f (by device and
// inode, without following a final symlink).
func samePath(path string, f *os.File) bool {
	var a, b unix.Stat_t
	if unix.Lstat(path, &a) != nil || unix.Fstat(int(f.Fd()), &b) != nil {
		return false
	}
	return sameFile(&a, &b)
}

// sameFile reports whether two stats are of one file (device and inode).
func sameFile(a, b *unix.Stat_t) bool { return a.Dev == b.Dev && a.Ino == b.Ino }

// readPID reads the pid a pidfile holds: at most 64 bytes, a pid
// (internal/pidtext's grammar, the one dcheck judges by) surrounded by
// optional white space.
func readPID(f *os.File) (int, error) {
	buf := make([]byte, 65)
	n, err := f.ReadAt(buf, 0)
	if n == 0 && err != nil {
		return 0, err
	}
	s := bytes.TrimSpace(buf[:n])
	pid, err := pidtext.Parse(s)
	if err != nil || n > 64 {
		return 0, fmt.Errorf("%s holds %q, not a pid", f.Name(), s)
	}
	return pid, nil
}

// removePidFile unlinks path if it still names f, then closes f: the lock
// is held until the name is gone, so no other instance can see a pidfile
// that names an exiting daemon as running.
func removePidFile(path string, f *os.File) error {
	var err error
	if samePath(path, f) {
		err = os.Remove(path)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
