package safepath

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteFile replaces name in the open directory dir with data, mode perm,
// atomically: a reader sees the old file or the new one, never half of
// one. The steps, each through a descriptor:
//
//  1. create a fresh ".name.RANDOM" in dir with O_EXCL|O_NOFOLLOW (a name
//     another user planted makes the create fail, and it is tried anew);
//  2. write data, fchmod perm (the umask aside), fsync;
//  3. renameat it over name within dir: a symbolic link planted at name is
//     replaced, never followed.
//
// On an error the temporary file is removed if it is still the one made.
func WriteFile(dir *os.File, name string, data []byte, perm os.FileMode) error {
	if _, err := Components(name); err != nil || filepath.Base(name) != name {
		return fmt.Errorf("%q: want a file name: %w", name, ErrComponent)
	}
	var (
		fd  int
		tmp string
		err error
	)
	for try := 0; ; try++ {
		tmp = "." + name + "." + randomSuffix()
		fd, err = unix.Openat(int(dir.Fd()), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EEXIST) || try == 9 {
			return &os.PathError{Op: "create", Path: filepath.Join(dir.Name(), tmp), Err: err}
		}
	}
	f := os.NewFile(uintptr(fd), filepath.Join(dir.Name(), tmp))
	fail := func(op string, err error) error {
		// Remove the temporary name only while it is still our file:
		// another user who can write dir may have put something there.
		var a, b unix.Stat_t
		if unix.Fstat(int(f.Fd()), &a) == nil && unix.Fstatat(int(dir.Fd()), tmp, &b, unix.AT_SYMLINK_NOFOLLOW) == nil && a.Dev == b.Dev && a.Ino == b.Ino {
			unix.Unlinkat(int(dir.Fd()), tmp, 0)
		}
		f.Close()
		return &os.PathError{Op: op, Path: f.Name(), Err: err}
	}
	if _, err := f.Write(data); err != nil {
		return fail("write", err)
	}
	if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
		return fail("chmod", err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync", err)
	}
	if err := unix.Renameat(int(dir.Fd()), tmp, int(dir.Fd()), name); err != nil {
		return fail("rename", err)
	}
	return f.Close()
}

func randomSuffix() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
