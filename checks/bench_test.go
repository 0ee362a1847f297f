//go:build linux

package checks_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
)

// BenchmarkInspect takes a snapshot of a real double-forked daemon and
// judges it, pidfile included: the whole cost of "dcheck PID" but process
// start-up and printing. The target is under 150 µs for 16 descriptors; the
// cost must grow linearly with descriptors (compare ns/op and allocs/op of
// the two sizes).
func BenchmarkInspect(b *testing.B) {
	for _, nfds := range []int{16, 1000} {
		b.Run(fmt.Sprintf("fds=%d", nfds), func(b *testing.B) {
			dir := b.TempDir()
			pidfile, log := filepath.Join(dir, "d.pid"), filepath.Join(dir, "d.log")
			// goodScript gives fds 0-3 to the daemon, and closes 3; the
			// extra files arrive as 3 and up.
			extra := mixedFiles(b, dir, nfds-3)
			script := `set -e
cd /
umask 022
$HELPER sleep 1000 </dev/null >>"$LOG" 2>&1 &
echo $! >"$PIDFILE"
echo $!`
			pid := start(b, launch{script: script, setsid: true, extra: extra,
				env: []string{"PIDFILE=" + pidfile, "LOG=" + log, "DCHECK_DFL=2,3"}})
			fsys, err := proc.NewFS("")
			if err != nil {
				b.Fatal(err)
			}
			pol := checks.Policy{PidFile: pidfile, Reaper: os.Getpid()}
			r, err := checks.Inspect(fsys, pid, pol)
			if err != nil {
				b.Fatal(err)
			}
			if got := len(r.Process.FDs); got != nfds {
				b.Fatalf("the daemon has %d descriptors, want %d", got, nfds)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := checks.Inspect(fsys, pid, pol); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJudge is the judgement alone, on a snapshot already taken.
func BenchmarkJudge(b *testing.B) {
	fsys, _ := proc.NewFS("")
	s, err := fsys.Take(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	ev := &checks.Evidence{Process: s}
	b.ReportAllocs()
	for b.Loop() {
		checks.Judge(ev, checks.Policy{})
	}
}

// mixedFiles opens n descriptors of the kinds daemons hold, in turn: a log
// file opened for appending, a pipe, a socket, /dev/null.
func mixedFiles(b *testing.B, dir string, n int) []*os.File {
	var out []*os.File
	add := func(f *os.File) {
		b.Cleanup(func() { f.Close() })
		out = append(out, f)
	}
	for i := 0; len(out) < n; i++ {
		switch i % 4 {
		case 0:
			f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("f%d.log", i)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			add(f)
		case 1:
			r, w, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			w.Close()
			add(r)
		case 2:
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			unix.Close(fds[1])
			add(os.NewFile(uintptr(fds[0]), "socket"))
		case 3:
			f, err := os.Open(os.DevNull)
			if err != nil {
				b.Fatal(err)
			}
			add(f)
		}
	}
	return out
}

// BenchmarkProcFileRead is the floor under every figure above: opening,
// reading and closing one small /proc file. A snapshot of a 16-descriptor
// process costs about 30 such reads' worth of system calls; compare the
// two when judging the Inspect figures on a new machine.
func BenchmarkProcFileRead(b *testing.B) {
	buf := make([]byte, 4096)
	for b.Loop() {
		fd, err := unix.Open("/proc/self/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		unix.Read(fd, buf)
		unix.Close(fd)
	}
}
