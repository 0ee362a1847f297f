//go:build linux

package fleet

import (
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/attacker"
)

// TestTextfileDirectoryOwnerCannotTurnRootsWrite: node_exporter's textfile
// directory often belongs to its service user. That user (here nobody)
// watches the directory with inotify and swaps every temporary file dcheck
// makes there for a symbolic link to a root file of mode 0600, while root
// writes the textfile again and again. client_golang's WriteToTextfile
// chmods the temporary file by path before the rename: the victim became
// 0644 and dcheck.prom pointed at it, with every scan exiting 0. Through
// the directory's descriptor, the victim stays as it was.
func TestTextfileDirectoryOwnerCannotTurnRootsWrite(t *testing.T) {
	attacker.Need(t)
	top := t.TempDir()
	victim := attacker.Victim(t, top)
	dir := attacker.Dir(t, top, "textfile")
	attacker.Reachable(top)
	ready := make(chan error, 1)
	attacker.Go(t, func(stop <-chan struct{}) {
		in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
		if err == nil {
			_, err = unix.InotifyAddWatch(in, dir, unix.IN_CREATE)
		}
		ready <- err
		if err != nil {
			return
		}
		defer unix.Close(in)
		buf := make([]byte, 64<<10)
		for {
			select {
			case <-stop:
				return
			default:
			}
			n, err := unix.Read(in, buf)
			if err != nil {
				unix.Poll([]unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}}, 10)
				continue
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
				off += unix.SizeofInotifyEvent + int(ev.Len)
				if name == TextfileName || name == "taken" || !strings.Contains(name, TextfileName) {
					continue
				}
				p := filepath.Join(dir, name)
				var st unix.Stat_t
				if unix.Lstat(p, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
					continue // its own link, or gone
				}
				if unix.Rename(p, filepath.Join(dir, "taken")) == nil {
					unix.Symlink(victim, p)
				}
			}
		}
	})
	if err := <-ready; err != nil {
		t.Fatalf("the attacker's inotify watch: %v", err)
	}
	published := 0
	for range 300 {
		if _, err := WriteTextfile(dir, Metrics(sampleScan())); err == nil {
			published++
		}
	}
	attacker.Untouched(t, victim)
	t.Logf("%d of 300 writes published", published)
}
