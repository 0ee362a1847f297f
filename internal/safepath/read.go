package safepath

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Errors of ReadRegular, wrapped with the path.
var (
	// ErrNotRegular is returned for a file that is not a regular file: a
	// FIFO (whose open or read would wait for a writer), a device
	// (/dev/zero never ends), a directory, a socket.
	ErrNotRegular = errors.New("is not a regular file")
	// ErrTooLarge is returned for a file larger than the bound.
	ErrTooLarge = errors.New("is larger than dcheck reads")
)

// ReadRegular reads the regular file at path, at most max bytes, without
// ever waiting: it is opened with O_NONBLOCK (a FIFO planted there cannot
// hold the open), checked through its descriptor to be a regular file, and
// read to max+1 bytes, so that a file that grows meanwhile is refused too.
// With nofollow, a symbolic link at the path's last component is refused
// (ErrSymlink) instead of followed.
func ReadRegular(path string, max int64, nofollow bool) ([]byte, error) {
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY
	if nofollow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		if nofollow && errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("%s %w", path, ErrSymlink)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s %w", path, ErrNotRegular)
	}
	if st.Size > max {
		return nil, fmt.Errorf("%s (%d bytes) %w: at most %d", path, st.Size, ErrTooLarge, max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s %w: at most %d bytes", path, ErrTooLarge, max)
	}
	return data, nil
}
