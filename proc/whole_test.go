//go:build linux

package proc

import (
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSocketTablesAreReadWhole: a read of a seq_file (net/unix, net/tcp,
// maps) returns at most a page, however large the buffer: a short read is
// no end of the file. With 300 sockets of its own, net/unix holds tens of
// kilobytes, and every one of them is in the table Sockets reads.
func TestSocketTablesAreReadWhole(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	dir := t.TempDir()
	var inodes []uint64
	for i := range 300 {
		l, err := net.Listen("unix", filepath.Join(dir, "s"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		f, err := l.(*net.UnixListener).File()
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		f.Close()
		inodes = append(inodes, st.Ino)
	}
	socks, err := fsys.Sockets(unix.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, ino := range inodes {
		if s, ok := socks[ino]; !ok || !s.Listening || !strings.HasPrefix(s.Local, dir) {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of the test's 300 listening sockets are not in the table read (%d entries)", missing, len(socks))
	}
}

// TestLockTableIsReadWhole: /proc/locks is a seq_file of many records:
// with 300 locks of the test's own, every one is read (DC302's lock check
// finds a pidfile's lock in it).
func TestLockTableIsReadWhole(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	dir := t.TempDir()
	var inodes []uint64
	for i := range 300 {
		fd, err := unix.Open(filepath.Join(dir, "l"+strconv.Itoa(i)), unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		unix.Fstat(fd, &st)
		inodes = append(inodes, st.Ino)
	}
	locks, err := fsys.readLocks()
	if err != nil {
		t.Fatal(err)
	}
	held := map[uint64]bool{}
	for _, l := range locks {
		held[l.Inode] = true
	}
	missing := 0
	for _, ino := range inodes {
		if !held[ino] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of the test's 300 locks are not in the table read (%d locks)", missing, len(locks))
	}
}

// TestTableLargerThanItsBoundIsNotReadInPart: a table over its bound
// fails with ErrTruncated, naming the file, rather than giving the first
// part as if it were all; within the bound it is read whole.
func TestTableLargerThanItsBoundIsNotReadInPart(t *testing.T) {
	if _, err := NewFS(""); err != nil {
		t.Skip("no /proc here")
	}
	whole, err := readTable("/proc/self/maps", 1<<20, nil)
	if err != nil || len(whole) < 200 {
		t.Fatalf("maps: %d bytes, %v", len(whole), err)
	}
	data, err := readTable("/proc/self/maps", 100, nil)
	if !errors.Is(err, ErrTruncated) || data != nil || !strings.Contains(err.Error(), "/proc/self/maps") {
		t.Errorf("a table over its bound: %d bytes, %v; want no data and ErrTruncated naming the file", len(data), err)
	}
}
