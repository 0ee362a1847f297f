//go:build linux

package portable_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcheck/dcheck/internal/hostile"
	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/proc/portable"
)

// TestPortableAgreesWithProc: gopsutil's reader and the /proc reader, on
// the same live processes, agree on every fact both give. The processes
// differ where the facts do: sessions and process groups, a controlling
// terminal, working directories, environments, open files, children,
// another user's credentials.
func TestPortableAgreesWithProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the /proc reader is Linux's")
	}
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	pids := startVaried(t)
	if len(pids) < 20 {
		t.Fatalf("only %d processes started, want at least 20", len(pids))
	}
	var portable portable.Portable
	compared := 0
	for _, pid := range pids {
		a, err := fsys.Take(pid)
		if err != nil {
			t.Fatalf("/proc reader, pid %d: %v", pid, err)
		}
		b, err := portable.Take(pid)
		if err != nil {
			t.Fatalf("portable reader, pid %d: %v", pid, err)
		}
		for _, d := range diff(a, b) {
			t.Errorf("pid %d (%s): %s", pid, a.Stat.Comm, d)
		}
		for _, d := range diffLookups(fsys, portable, pid, a) {
			t.Errorf("pid %d (%s), lookups: %s", pid, a.Stat.Comm, d)
		}
		compared++
	}
	t.Logf("compared %d processes fact by fact", compared)
}

// diffLookups lists where the two readers' quick lookups (what the
// conformance harness uses between snapshots) disagree on pid, whose
// snapshot is s.
func diffLookups(fsys *proc.FS, portable portable.Portable, pid int, s *proc.Snapshot) []string {
	var out []string
	eq := func(what string, x, xerr, y, yerr any) {
		if fmt.Sprint(x, xerr) != fmt.Sprint(y, yerr) {
			out = append(out, fmt.Sprintf("%s: /proc %v (%v), portable %v (%v)", what, x, xerr, y, yerr))
		}
	}
	c1, e1 := fsys.Comm(pid)
	c2, e2 := portable.Comm(pid)
	eq("comm", c1, e1, c2, e2)
	x1, e1 := fsys.Exe(pid)
	x2, e2 := portable.Exe(pid)
	eq("exe", x1, e1 == nil, x2, e2 == nil)
	k1, e1 := fsys.Children(pid)
	k2, e2 := portable.Children(pid)
	eq("children", fmt.Sprint(k1), e1, fmt.Sprint(k2), e2)
	for _, kv := range append(s.Environ[:min(len(s.Environ), 2):min(len(s.Environ), 2)], "DCHECK_NOT_THERE=1") {
		h1, e1 := fsys.HasEnv(pid, kv, 1<<20)
		h2, e2 := portable.HasEnv(pid, kv, 1<<20)
		eq("has "+kv, h1, e1, h2, e2)
	}
	return out
}

// diff lists the facts on which the two readers disagree; a fact the
// portable reader does not have must be recorded as not available.
func diff(a, b *proc.Snapshot) []string {
	var out []string
	eq := func(what string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			out = append(out, fmt.Sprintf("%s: /proc %v, portable %v", what, x, y))
		}
	}
	eq("comm", a.Stat.Comm, b.Stat.Comm)
	eq("state", string(a.Stat.State), string(b.Stat.State))
	eq("ppid", a.Stat.PPID, b.Stat.PPID)
	eq("pgrp", a.Stat.PGRP, b.Stat.PGRP)
	eq("session", a.Stat.Session, b.Stat.Session)
	eq("tty", a.Stat.TTY, b.Stat.TTY)
	eq("threads", a.Stat.Threads, b.Stat.Threads)
	if a.Stat.TTY == 0 {
		eq("tpgid without a terminal", a.Stat.TPGID, b.Stat.TPGID)
	}
	eq("uids", a.Status.UIDs, b.Status.UIDs)
	eq("gids", a.Status.GIDs, b.Status.GIDs)
	eq("groups", a.Status.Groups, b.Status.Groups)
	eq("exe", a.Exe.Path, b.Exe.Path) // the /proc reader does not stat the executable
	eq("exe deleted", a.Exe.Deleted, b.Exe.Deleted)
	eq("cmdline", a.Cmdline, b.Cmdline)
	eq("cwd", a.Cwd, b.Cwd)
	if !slices.Equal(a.Environ, b.Environ) {
		out = append(out, fmt.Sprintf("environ: %d entries from /proc, %d from portable; first difference %q", len(a.Environ), len(b.Environ), firstDiff(a.Environ, b.Environ)))
	}
	eq("children", childList(a.Children), childList(b.Children))
	if (a.Parent == nil) != (b.Parent == nil) || a.Parent != nil && (a.Parent.PID != b.Parent.PID || a.Parent.Name != b.Parent.Name) {
		out = append(out, fmt.Sprintf("parent: /proc %+v, portable %+v", a.Parent, b.Parent))
	}
	out = append(out, fdDiff(a.FDs, b.FDs)...)
	for _, f := range []proc.Fact{proc.FactSignals, proc.FactUmask, proc.FactNamespaces, proc.FactCapabilities} {
		if err := b.Gap(f); !errors.Is(err, proc.ErrNotAvailable) {
			out = append(out, fmt.Sprintf("%s: the portable reader has no gap recorded (%v)", f, err))
		}
	}
	if !errors.Is(b.RootErr, proc.ErrNotAvailable) || !errors.Is(b.ThreadsErr, proc.ErrNotAvailable) {
		out = append(out, fmt.Sprintf("root and threads: want not available, got %v, %v", b.RootErr, b.ThreadsErr))
	}
	return out
}

func childList(cs []proc.Child) string {
	var s []string
	for _, c := range cs {
		s = append(s, fmt.Sprintf("%d %s %c", c.PID, c.Comm, c.State))
	}
	return strings.Join(s, ", ")
}

// fdDiff compares the descriptors: the same numbers, targets and
// deletion; the kind, device and inode wherever the portable reader could
// examine the file (else its reason must be ErrNotAvailable).
func fdDiff(a, b []proc.FD) []string {
	var out []string
	if len(a) != len(b) {
		return []string{fmt.Sprintf("fds: %d from /proc, %d from portable", len(a), len(b))}
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Num != y.Num || x.Target != y.Target || x.Deleted != y.Deleted {
			out = append(out, fmt.Sprintf("fd: /proc %d=%s (deleted %v), portable %d=%s (deleted %v)", x.Num, x.Target, x.Deleted, y.Num, y.Target, y.Deleted))
			continue
		}
		if y.StatErr != nil {
			if !errors.Is(y.StatErr, proc.ErrNotAvailable) {
				out = append(out, fmt.Sprintf("fd %d: portable could not examine it: %v", y.Num, y.StatErr))
			}
			continue
		}
		if x.Kind != y.Kind || x.Terminal != y.Terminal || (x.Kind == proc.FDFile || x.Kind == proc.FDDir || x.Kind == proc.FDChar || x.Kind == proc.FDPipe || x.Kind == proc.FDSocket) && x.Ino != y.Ino {
			out = append(out, fmt.Sprintf("fd %d (%s): /proc %s ino %d terminal %v, portable %s ino %d terminal %v", x.Num, x.Target, x.Kind, x.Ino, x.Terminal, y.Kind, y.Ino, y.Terminal))
		}
	}
	return out
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] + " / " + b[i]
		}
	}
	return "(one is longer)"
}

// startVaried starts 24 processes, each asleep in a known state, and
// returns their pids once every one is asleep.
func startVaried(t *testing.T) []int {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	var pids []int
	fsys, _ := proc.NewFS("")
	start := func(cmd *exec.Cmd) {
		t.Helper()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		t.Cleanup(func() {
			// Its children first, by pid: killed, a shell leaves them to init.
			kids, _ := fsys.Children(pid)
			for _, k := range kids {
				syscall.Kill(k, syscall.SIGKILL)
			}
			cmd.Process.Kill()
			cmd.Wait()
		})
		pids = append(pids, pid)
	}
	sleep := func(args ...string) *exec.Cmd {
		return exec.Command("sleep", append([]string{"600"}, args...)...)
	}
	for i := range 8 { // plain, in other directories and environments
		cmd := sleep()
		cmd.Dir = []string{"/", dir, os.TempDir(), "/usr"}[i%4]
		cmd.Env = []string{fmt.Sprintf("N=%d", i), "PATH=/usr/bin:/bin", "TERM=xterm"}
		start(cmd)
	}
	for range 4 { // own sessions, own process groups
		cmd := sleep()
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		start(cmd)
		cmd = sleep()
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		start(cmd)
	}
	for range 2 { // a controlling terminal
		ptm, pts, err := hostile.OpenPTY()
		if err != nil {
			t.Skipf("no ptys: %v", err)
		}
		t.Cleanup(func() { pts.Close(); ptm.Close() })
		cmd := sleep()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		start(cmd)
	}
	for i := range 4 { // open files: regular, a directory, a pipe, a deleted file
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("open%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		r, w, _ := os.Pipe()
		d, _ := os.Open(dir)
		cmd := sleep()
		cmd.ExtraFiles = []*os.File{f, r, d}
		start(cmd)
		f.Close()
		r.Close()
		w.Close()
		d.Close()
		if i%2 == 1 {
			os.Remove(f.Name())
		}
	}
	for range 2 { // children: a shell with two sleeps
		start(exec.Command("sh", "-c", "sleep 600 & sleep 600 & wait"))
	}
	if os.Geteuid() == 0 { // another user's credentials, and groups
		for _, ids := range [][2]uint32{{65534, 65534}, {1, 1}} {
			cmd := sleep()
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: ids[0], Gid: ids[1], Groups: []uint32{ids[1], 100}}}
			start(cmd)
		}
	}
	// Asleep, every one, and the shells' children started.
	deadline := time.Now().Add(time.Minute)
	for _, pid := range pids {
		for {
			st, err := fsys.Stat(pid)
			kids, _ := fsys.Children(pid)
			if err == nil && st.State == 'S' && (st.Comm != "sh" || len(kids) == 2) && (st.Comm != "sleep" || slices.Contains([]string{"sleep"}, st.Comm)) {
				exe, _ := fsys.Exe(pid)
				if !strings.HasSuffix(exe, "/sh") && !strings.HasSuffix(exe, "/dash") && !strings.HasSuffix(exe, "/sleep") {
					time.Sleep(time.Millisecond) // between fork and exec
					continue
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pid %d did not settle asleep: %+v, %v", pid, st, err)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return pids
}
