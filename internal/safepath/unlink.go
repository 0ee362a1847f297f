package safepath

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Unlink removes the file at the absolute path as root must where another
// user may own a directory on the way (a pidfile in a daemon's runtime
// directory): each component is opened without following a symbolic link
// (ErrSymlink), and the file is removed by unlinkat(2) in the directory
// so opened, never by its path. Whoever owns a directory on the way can
// move it elsewhere meanwhile, but not make it another directory: the
// file removed is the one of that name in a directory reached without a
// link. The last component itself, a link or not, is removed, not
// followed. A file that is not there is no error.
func Unlink(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%q: not an absolute path: %w", path, ErrComponent)
	}
	dir, name := filepath.Split(filepath.Clean(path))
	if name == "" {
		return fmt.Errorf("%q: %w", path, ErrComponent)
	}
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/", Err: err}
	}
	parent := os.NewFile(uintptr(fd), "/")
	if rel := strings.Trim(dir, "/"); rel != "" {
		parts, err := Components(rel)
		if err != nil {
			parent.Close()
			return err
		}
		for _, part := range parts {
			next, err := unix.Openat(int(parent.Fd()), part, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
			if err != nil {
				err = describe(parent, part, err)
				parent.Close()
				return err
			}
			p := filepath.Join(parent.Name(), part)
			parent.Close()
			parent = os.NewFile(uintptr(next), p)
		}
	}
	defer parent.Close()
	if err := unix.Unlinkat(int(parent.Fd()), name, 0); err != nil && err != unix.ENOENT {
		return &os.PathError{Op: "unlinkat", Path: filepath.Join(parent.Name(), name), Err: err}
	}
	return nil
}
