// Package safepath is how dcheck, running as root, makes and changes files
// at paths another user may be able to write: a daemon's runtime
// directory, a socket unit's directory, node_exporter's textfile
// directory. A check by path followed by a change by path (Lstat, then
// Chmod) lets that user swap a symbolic link in between and turn root's
// change onto any file (the class of moby#43723). Here instead:
//
//  1. Every component is opened relative to its parent's descriptor with
//     O_NOFOLLOW and O_DIRECTORY: no symbolic link is ever followed, and a
//     file planted where a directory is expected is refused.
//  2. Every change (mode, owner) is made through the descriptor of what
//     was opened (fchmod, fchown), never through its path again.
//  3. A new file is created with O_EXCL|O_NOFOLLOW under a fresh name and
//     renamed into place within the same directory descriptor.
//  4. A directory on the way must be one that only root and the trusted
//     users can change (Trust): owned by one of them, and writable by
//     nobody else, unless it is sticky (then only an entry owned by one of
//     them is entered).
//
// Components that are empty, "." or ".." are refused, as systemd refuses
// them in RuntimeDirectory= (they would name the parent, or climb out).
package safepath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Errors a caller may branch on; each is wrapped with the path at fault.
var (
	// ErrSymlink is returned when a component of a path is a symbolic
	// link: it is never followed.
	ErrSymlink = errors.New("is a symbolic link (not followed)")
	// ErrNotDir is returned when a component that must be a directory is
	// something else.
	ErrNotDir = errors.New("is not a directory")
	// ErrUntrusted is returned when a directory on the way, or an entry
	// of a sticky directory, could be changed by a user other than root
	// and the trusted ones.
	ErrUntrusted = errors.New("could be changed by another user")
	// ErrComponent is returned for a path with an empty, "." or ".."
	// component, or an absolute path where a relative one is needed.
	ErrComponent = errors.New("has an empty, \".\" or \"..\" component")
)

// Trust is the set of users, besides root, whose directories may be on
// the way. The zero value trusts root alone.
type Trust []uint32

func (t Trust) has(uid uint32) bool {
	if uid == 0 {
		return true
	}
	for _, u := range t {
		if u == uid {
			return true
		}
	}
	return false
}

// check says whether the directory st (at path) can be changed by nobody
// but root and the trusted users (CheckMode).
func (t Trust) check(path string, st *unix.Stat_t) error {
	return t.CheckMode(path, uint32(st.Uid), uint32(st.Gid), uint32(st.Mode))
}

// CheckMode says whether a directory at path, of owner uid, group gid and
// st_mode mode, can be changed by nobody but root and the trusted users:
// they own it, and neither group nor others may write it unless it is
// sticky. A group-writable directory of group 0 is root's. This is the
// one rule for a directory another user could change: the walks here, and
// the pidfile's directory (internal/pidsafety: daemonize and DC302).
func (t Trust) CheckMode(path string, uid, gid, mode uint32) error {
	if !t.has(uid) {
		return fmt.Errorf("%s (owned by uid %d): %w", path, uid, ErrUntrusted)
	}
	perm := mode & 0o7777
	sticky := perm&unix.S_ISVTX != 0
	if perm&0o002 != 0 && !sticky {
		return fmt.Errorf("%s (mode %04o, writable by others): %w", path, perm, ErrUntrusted)
	}
	if perm&0o020 != 0 && gid != 0 && !sticky {
		return fmt.Errorf("%s (mode %04o, writable by group %d): %w", path, perm, gid, ErrUntrusted)
	}
	return nil
}

// shared reports whether entries of the directory st may be made by
// users outside t: it is sticky and writable by group or others.
func (t Trust) shared(st *unix.Stat_t) bool {
	return st.Mode&unix.S_ISVTX != 0 && st.Mode&0o022 != 0
}

// Components splits a relative path into its components, refusing an
// absolute path and any empty, "." or ".." component.
func Components(rel string) ([]string, error) {
	if rel == "" || strings.HasPrefix(rel, "/") {
		return nil, fmt.Errorf("%q: %w", rel, ErrComponent)
	}
	parts := strings.Split(rel, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return nil, fmt.Errorf("%q: %w", rel, ErrComponent)
		}
	}
	return parts, nil
}

// OpenDir opens the absolute directory path from "/", component by
// component, without following a symbolic link, and checks that each
// directory on the way, the last included, is trusted (see Trust). The
// caller closes the result.
func OpenDir(path string, t Trust) (*os.File, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%q: not an absolute path: %w", path, ErrComponent)
	}
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: "/", Err: err}
	}
	if err := t.check("/", &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	dir := os.NewFile(uintptr(fd), "/")
	rel := strings.TrimPrefix(filepath.Clean(path), "/")
	if rel == "" {
		return dir, nil
	}
	parts, err := Components(rel)
	if err != nil {
		dir.Close()
		return nil, err
	}
	for _, name := range parts {
		next, _, err := enter(dir, name, t)
		dir.Close()
		if err != nil {
			return nil, err
		}
		if err := t.Check(next); err != nil {
			next.Close()
			return nil, err
		}
		dir = next
	}
	return dir, nil
}

// Check says whether the open directory f can be changed by nobody but
// root and the trusted users (ErrUntrusted otherwise).
func (t Trust) Check(f *os.File) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return t.check(f.Name(), &st)
}

// enter opens the directory name in parent without following a symbolic
// link. In a sticky directory that others may write, only an entry owned
// by root or a trusted user is entered: another user's could be theirs to
// replace. It returns the entry's status too.
func enter(parent *os.File, name string, t Trust) (*os.File, *unix.Stat_t, error) {
	path := filepath.Join(parent.Name(), name)
	fd, err := unix.Openat(int(parent.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, describe(parent, name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	var pst unix.Stat_t
	if err := unix.Fstat(int(parent.Fd()), &pst); err != nil {
		unix.Close(fd)
		return nil, nil, &os.PathError{Op: "fstat", Path: parent.Name(), Err: err}
	}
	if t.shared(&pst) && !t.has(st.Uid) {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("%s (owned by uid %d, in sticky %s): %w", path, st.Uid, parent.Name(), ErrUntrusted)
	}
	return os.NewFile(uintptr(fd), path), &st, nil
}

// describe turns the error of an open of name in parent with
// O_NOFOLLOW|O_DIRECTORY into the package's: a symbolic link fails with
// ELOOP, or with ENOTDIR as anything else that is not a directory does.
func describe(parent *os.File, name string, err error) error {
	path := filepath.Join(parent.Name(), name)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		var st unix.Stat_t
		if unix.Fstatat(int(parent.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK || errors.Is(err, unix.ELOOP) {
			return fmt.Errorf("%s %w", path, ErrSymlink)
		}
		return fmt.Errorf("%s %w", path, ErrNotDir)
	}
	return &os.PathError{Op: "open", Path: path, Err: err}
}

// Made is a directory MkdirAll made or found.
type Made struct {
	Path string // its path, for messages and for removal
	New  bool   // MkdirAll made it (false: it was there)
}

// MkdirAll makes the relative path rel below the open directory base, each
// missing component with mode perm (whatever the umask), and returns the
// last one open, with every component it walked, outermost first. An
// existing component must be a directory reached without a symbolic link;
// the base and every component but the last must be trusted (the last is
// the caller's to change, through its descriptor). On error nothing made
// is removed: the caller removes what is listed, innermost first.
func MkdirAll(base *os.File, rel string, perm uint32, t Trust) (*os.File, []Made, error) {
	return walk(base, rel, t, perm, true)
}

// Open opens the existing directory rel below the open directory base as
// MkdirAll walks to it, making nothing. The caller closes the result.
func Open(base *os.File, rel string, t Trust) (*os.File, error) {
	f, _, err := walk(base, rel, t, 0, false)
	return f, err
}

func walk(base *os.File, rel string, t Trust, perm uint32, create bool) (*os.File, []Made, error) {
	parts, err := Components(rel)
	if err != nil {
		return nil, nil, err
	}
	if err := t.Check(base); err != nil {
		return nil, nil, err
	}
	var walked []Made
	dir := base
	for i, name := range parts {
		path := filepath.Join(dir.Name(), name)
		made := false
		if create {
			// Made 0700 so that no one enters it before its mode is set
			// through the descriptor, the umask aside.
			err := unix.Mkdirat(int(dir.Fd()), name, 0o700)
			switch {
			case err == nil:
				made = true
			case !errors.Is(err, unix.EEXIST):
				closeUnlessBase(dir, base)
				return nil, walked, &os.PathError{Op: "mkdir", Path: path, Err: err}
			}
		}
		next, _, err := enter(dir, name, t)
		closeUnlessBase(dir, base)
		if err != nil {
			return nil, walked, err
		}
		walked = append(walked, Made{Path: path, New: made})
		if made {
			if err := unix.Fchmod(int(next.Fd()), perm&0o7777); err != nil {
				next.Close()
				return nil, walked, &os.PathError{Op: "chmod", Path: path, Err: err}
			}
		}
		if i < len(parts)-1 {
			if err := t.Check(next); err != nil {
				next.Close()
				return nil, walked, err
			}
		}
		dir = next
	}
	return dir, walked, nil
}

// RemoveAll removes rel below the open directory base and everything in
// it. The way to its parent is walked as Open walks it, and what lies
// below is removed without following a symbolic link (unlinkat, relative
// to descriptors): a link planted inside is removed, not what it names.
// A rel that is not there is no error.
func RemoveAll(base *os.File, rel string, t Trust) error {
	if _, err := Components(rel); err != nil {
		return err
	}
	parent := base
	if d := filepath.Dir(rel); d != "." {
		p, err := Open(base, d, t)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		defer p.Close()
		parent = p
	}
	return removeAllIn(parent, filepath.Base(rel))
}

func closeUnlessBase(dir, base *os.File) {
	if dir != base {
		dir.Close()
	}
}

// Stat is the status of an open file: its mode bits (permissions, setuid,
// setgid, sticky) and owner.
type Stat struct {
	Mode     uint32 // st_mode & 07777
	UID, GID uint32
}

// StatOf returns f's Stat, through its descriptor.
func StatOf(f *os.File) (Stat, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return Stat{}, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return Stat{Mode: uint32(st.Mode) & 0o7777, UID: st.Uid, GID: st.Gid}, nil
}

// Apply sets f's owner (when uid or gid is not -1) and then its mode,
// through its descriptor: the owner first, since fchown clears the setuid
// and setgid bits.
func Apply(f *os.File, mode uint32, uid, gid int) error {
	if uid != -1 || gid != -1 {
		if err := unix.Fchown(int(f.Fd()), uid, gid); err != nil {
			return &os.PathError{Op: "chown", Path: f.Name(), Err: err}
		}
	}
	if err := unix.Fchmod(int(f.Fd()), mode&0o7777); err != nil {
		return &os.PathError{Op: "chmod", Path: f.Name(), Err: err}
	}
	return nil
}
