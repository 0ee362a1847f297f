package portable

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

// Portable reads processes through gopsutil v4 (and x/sys/unix for the
// process group and session, and on darwin the controlling terminal, which
// gopsutil does not give): the reader on systems without /proc, and on
// Linux a second, independent reader that the tests compare with proc.FS fact
// by fact.
//
// What it cannot get on this system is recorded, never guessed: in the
// proc.Snapshot's error fields (proc.ErrNotAvailable, "not available on darwin") or
// as a Gap for facts without one. It has no umask, no signal masks, no
// threads, no root directory, no descriptor flags or locks, no pid
// namespaces and no Unix socket table anywhere; no supplementary groups or
// open files on darwin; no environment or open files on FreeBSD. Its
// ProcStat holds the fields gopsutil, getpgid(2) and getsid(2) give (PID,
// Comm, State, PPID, PGRP, Session, TTY, TPGID as -1 without a terminal,
// Threads); the others are zero. The zero value is ready to use.
type Portable struct{}

var _ proc.Reader = (*Portable)(nil)

// PIDs lists every process gopsutil sees, ascending.
func (Portable) PIDs() ([]int, error) {
	pids, err := process.Pids()
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(pids))
	for _, p := range pids {
		out = append(out, int(p))
	}
	slices.Sort(out)
	return out, nil
}

// Live is true: gopsutil reads the caller's own system.
func (Portable) Live() bool { return true }

// ReadPidFile looks at the pidfile at path (see the package function).
func (Portable) ReadPidFile(path string) (*proc.PidFile, error) { return proc.ReadPidFile(path) }

// LocksOn is not available: only Linux lists every lock (/proc/locks).
func (Portable) LocksOn(dev, ino uint64) ([]proc.Lock, error) {
	return nil, proc.NotAvailable("(only Linux lists the locks on a file, in /proc/locks)")
}

// open returns gopsutil's handle on pid, or proc.ErrNoProcess.
func (Portable) open(pid int) (*process.Process, error) {
	if pid <= 0 || pid > 1<<31-1 {
		return nil, fmt.Errorf("pid %d: %w", pid, proc.ErrNoProcess)
	}
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		if errors.Is(err, process.ErrorProcessNotRunning) {
			return nil, fmt.Errorf("pid %d: %w", pid, proc.ErrNoProcess)
		}
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	return p, nil
}

// Stat reads what Portable's proc.ProcStat holds.
func (r Portable) Stat(pid int) (proc.ProcStat, error) {
	p, err := r.open(pid)
	if err != nil {
		return proc.ProcStat{}, err
	}
	st, _, err := r.stat(p)
	return st, err
}

// stat fills a proc.ProcStat, and says why the terminal is unknown when it is.
func (Portable) stat(p *process.Process) (proc.ProcStat, error, error) {
	ctx := context.Background()
	st := proc.ProcStat{PID: int(p.Pid), TPGID: -1}
	var err error
	if st.Comm, err = p.NameWithContext(ctx); err != nil {
		return st, nil, gone(st.PID, err)
	}
	if ppid, err := p.PpidWithContext(ctx); err == nil {
		st.PPID = int(ppid)
	} else {
		return st, nil, gone(st.PID, err)
	}
	if states, err := p.StatusWithContext(ctx); err == nil && len(states) > 0 {
		st.State = stateLetter(states[0])
	}
	if n, err := p.NumThreadsWithContext(ctx); err == nil {
		st.Threads = int64(n)
	}
	if st.PGRP, err = unix.Getpgid(st.PID); err != nil {
		return st, nil, gone(st.PID, err)
	}
	if st.Session, err = unix.Getsid(st.PID); err != nil {
		return st, nil, gone(st.PID, err)
	}
	if rdev, tpgid, ok, err := kinfoTerminal(st.PID); ok {
		// darwin: the kernel's process record (sysctl kern.proc.pid) has
		// the terminal and its foreground group; gopsutil has neither.
		if err != nil {
			return st, fmt.Errorf("sysctl kern.proc.pid.%d: %w", st.PID, err), nil
		}
		if rdev != noTerminal {
			st.TTY, st.TPGID = ttyNr(rdev), tpgid
		}
		return st, nil, nil
	}
	name, err := p.TerminalWithContext(ctx)
	switch {
	case err != nil:
		return st, proc.NotAvailable("(gopsutil: " + err.Error() + ")"), nil
	case name != "":
		var dev unix.Stat_t
		if err := unix.Stat("/dev/"+name, &dev); err != nil {
			return st, fmt.Errorf("terminal %s: %w", name, err), nil
		}
		st.TTY = ttyNr(uint64(dev.Rdev))
		st.TPGID = 0 // a terminal, whose foreground group gopsutil does not say
	}
	return st, nil, nil
}

// ttyNr encodes a device number as stat's tty_nr does (minor bits 31..20
// and 7..0, major 15..8), the form proc.ProcStat.TTY holds on every system.
func ttyNr(rdev uint64) int {
	maj, mnr := unix.Major(rdev), unix.Minor(rdev)
	return int(mnr&0xff | maj<<8 | (mnr&^0xff)<<12)
}

// gone is proc.ErrNoProcess when pid no longer exists, else err.
func gone(pid int, err error) error {
	if unix.Kill(pid, 0) == unix.ESRCH {
		return fmt.Errorf("pid %d: %w", pid, proc.ErrNoProcess)
	}
	return fmt.Errorf("pid %d: %w", pid, err)
}

// stateLetter turns gopsutil's state name back into ps's letter.
func stateLetter(s string) byte {
	switch s {
	case process.Running:
		return 'R'
	case process.Sleep:
		return 'S'
	case process.Stop:
		return 'T'
	case process.Idle:
		return 'I'
	case process.Zombie:
		return 'Z'
	case process.Blocked:
		return 'D'
	case process.Wait:
		return 'W'
	case process.Lock:
		return 'L'
	}
	return '?'
}

// Take reads process pid.
func (r Portable) Take(pid int) (*proc.Snapshot, error) { return r.TakeFrom(pid, nil) }

// Peek is Stat: gopsutil keeps no descriptor open.
func (r Portable) Peek(pid int) (*proc.Peek, error) {
	st, err := r.Stat(pid)
	if err != nil {
		return nil, err
	}
	return proc.NewPeek(pid, st), nil
}

// TakeFrom reads process pid through gopsutil; first is ignored (gopsutil
// reads its own). proc.ErrExited when the process is another one at the end
// (its creation time changed).
func (r Portable) TakeFrom(pid int, _ *proc.Peek) (*proc.Snapshot, error) {
	ctx := context.Background()
	p, err := r.open(pid)
	if err != nil {
		return nil, err
	}
	created, err := p.CreateTimeWithContext(ctx)
	if err != nil {
		return nil, gone(pid, err)
	}
	s := &proc.Snapshot{PID: pid}
	st, ttyErr, err := r.stat(p)
	if err != nil {
		return nil, err
	}
	s.Stat = st
	if ttyErr != nil {
		s.SetGap(proc.FactTerminal, ttyErr)
	}
	s.SetGap(proc.FactStartTime, proc.NotAvailable("(gopsutil gives the creation time, not ticks since boot)"))
	s.SetGap(proc.FactSignals, proc.NotAvailable("(gopsutil gives no signal masks)"))
	s.SetGap(proc.FactUmask, proc.NotAvailable("(gopsutil gives no umask)"))
	if runtime.GOOS == "linux" {
		s.SetGap(proc.FactNamespaces, proc.NotAvailable("(gopsutil gives no pid namespaces)"))
		s.SetGap(proc.FactCapabilities, proc.NotAvailable("(gopsutil gives no capabilities)"))
	}
	r.credentials(ctx, p, s)

	if exe, err := p.ExeWithContext(ctx); err != nil {
		s.ExeErr = unavailableOr(err)
	} else {
		s.Exe = pathInfo(exe)
	}
	if args, err := p.CmdlineSliceWithContext(ctx); err != nil {
		s.CmdlineErr = unavailableOr(err)
	} else {
		s.Cmdline = slices.DeleteFunc(args, func(a string) bool { return a == "" })
	}
	if cwd, err := p.CwdWithContext(ctx); err != nil {
		s.CwdErr = unavailableOr(err)
	} else {
		s.Cwd = pathInfo(cwd)
	}
	s.RootErr = proc.NotAvailable("(gopsutil gives no root directory)")
	if env, err := p.EnvironWithContext(ctx); err != nil {
		s.EnvironErr = unavailableOr(err)
	} else {
		s.Environ = slices.DeleteFunc(env, func(e string) bool { return e == "" }) // gopsutil keeps the block's final NUL as an empty entry
		// NULs only (as proc.Snapshot reads it): the process wrote over the block.
		if len(env) > 1 && len(s.Environ) == 0 {
			s.EnvironErr = fmt.Errorf("pid %d: %d empty entries: %w", pid, len(env), proc.ErrEnvironOverwritten)
		}
	}
	s.FDs, s.FDsErr = r.fds(ctx, p)
	s.ThreadsErr = proc.NotAvailable("(gopsutil gives no per-thread signal masks)")
	s.Children, s.ChildrenErr = r.children(ctx, p)
	if st.PPID > 1 {
		if pp, err := r.open(st.PPID); err != nil {
			s.ParentErr = err
		} else {
			s.Parent = &proc.Parent{PID: st.PPID}
			s.Parent.Name, s.ParentErr = pp.NameWithContext(ctx)
		}
	}
	s.SocketsErr = proc.NotAvailable("(gopsutil gives no Unix socket table)")
	if s.Zombie() {
		s.MarkZombie()
	}
	if again, err := p.CreateTimeWithContext(ctx); err != nil || again != created {
		return nil, fmt.Errorf("pid %d: %w", pid, proc.ErrExited)
	}
	return s, nil
}

// credentials fills the user and group IDs where gopsutil gives all four
// of each (Linux: real, effective, saved, file system). On darwin it gives
// the effective uid alone; on FreeBSD its effective gid is the number of
// groups: neither is the evidence DC502 needs.
func (Portable) credentials(ctx context.Context, p *process.Process, s *proc.Snapshot) {
	uids, err1 := p.UidsWithContext(ctx)
	gids, err2 := p.GidsWithContext(ctx)
	groups, err3 := p.GroupsWithContext(ctx)
	switch {
	case runtime.GOOS != "linux":
		s.SetGap(proc.FactCredentials, proc.NotAvailable("(gopsutil gives no saved user and group IDs here)"))
		return
	case err1 != nil || err2 != nil || err3 != nil:
		s.SetGap(proc.FactCredentials, unavailableOr(errors.Join(err1, err2, err3)))
		return
	case len(uids) < 4 || len(gids) < 4:
		s.SetGap(proc.FactCredentials, proc.NotAvailable(fmt.Sprintf("(gopsutil gave %d uids and %d gids)", len(uids), len(gids))))
		return
	}
	for i := range 4 {
		s.Status.UIDs[i], s.Status.GIDs[i] = int(uids[i]), int(gids[i])
	}
	for _, g := range groups {
		s.Status.Groups = append(s.Status.Groups, int(g))
	}
}

// fds lists the open descriptors gopsutil gives, each examined by its
// path: the kind, device and inode of what the path names now (gopsutil
// has no descriptor to stat). It has no descriptor flags or locks.
func (Portable) fds(ctx context.Context, p *process.Process) ([]proc.FD, error) {
	files, err := p.OpenFilesWithContext(ctx)
	if err != nil {
		return nil, unavailableOr(err)
	}
	var out []proc.FD
	for _, f := range files {
		d := proc.FD{Num: int(f.Fd), Target: f.Path}
		d.Target, d.Deleted = strings.CutSuffix(f.Path, " (deleted)")
		d.Kind = proc.KindFromTarget(d.Target)
		d.InfoErr = proc.NotAvailable("(gopsutil gives no descriptor flags or locks)")
		switch kind, ino, special := proc.ParseSpecialTarget(d.Target); {
		case special:
			d.Kind, d.Ino = kind, ino
		case d.Deleted:
			d.Kind, d.StatErr = proc.FDUnknown, proc.NotAvailable("(a deleted file: gopsutil has no descriptor to examine it through)")
		case strings.HasPrefix(d.Target, "/"):
			var st unix.Stat_t
			if err := unix.Stat(d.Target, &st); err != nil {
				d.Kind, d.StatErr = proc.FDUnknown, err
			} else {
				d.Kind = proc.KindFromStat(uint32(st.Mode), d.Target)
				d.Dev, d.Ino, d.Rdev = uint64(st.Dev), uint64(st.Ino), uint64(st.Rdev)
				d.Terminal = d.Kind == proc.FDChar && looksLikeTerminal(d.Target)
			}
		default:
			d.Kind, d.StatErr = proc.FDUnknown, proc.NotAvailable("(gopsutil names it "+d.Target+")")
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b proc.FD) int { return a.Num - b.Num })
	return out, nil
}

// looksLikeTerminal is the portable reader's terminal test, by name: it
// has no tty driver table.
func looksLikeTerminal(path string) bool {
	return strings.HasPrefix(path, "/dev/tty") || strings.HasPrefix(path, "/dev/pts/") || path == "/dev/console"
}

// children lists the process's children, each with its state.
func (r Portable) children(ctx context.Context, p *process.Process) ([]proc.Child, error) {
	kids, err := p.ChildrenWithContext(ctx)
	if err != nil {
		return nil, unavailableOr(err)
	}
	var out []proc.Child
	for _, k := range kids {
		c := proc.Child{PID: int(k.Pid)}
		c.Comm, _ = k.NameWithContext(ctx)
		if states, err := k.StatusWithContext(ctx); err == nil && len(states) > 0 {
			c.State = stateLetter(states[0])
		}
		if n, err := k.NumThreadsWithContext(ctx); err == nil {
			c.Threads = int64(n)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b proc.Child) int { return a.PID - b.PID })
	return out, nil
}

// pathInfo is what Portable knows of a path: the path, and the device and
// inode it names now.
func pathInfo(path string) proc.PathInfo {
	pi := proc.PathInfo{Path: path}
	if p, ok := strings.CutSuffix(path, " (deleted)"); ok {
		pi.Path, pi.Deleted = p, true
	}
	var st unix.Stat_t
	if unix.Stat(pi.Path, &st) == nil {
		pi.Dev, pi.Ino = uint64(st.Dev), uint64(st.Ino)
	}
	return pi
}

// unavailableOr turns gopsutil's "not implemented yet" into
// proc.ErrNotAvailable, and keeps any other error. gopsutil's sentinel lives in
// its internal/common package, out of reach: the text is matched.
func unavailableOr(err error) error {
	if err != nil && strings.Contains(err.Error(), "not implemented") {
		return proc.NotAvailable("(gopsutil: not implemented)")
	}
	return err
}

// The lookups of lookup.go, through gopsutil: what the conformance harness
// takes between snapshots on systems without /proc.

// Comm is the process's name.
func (r Portable) Comm(pid int) (string, error) { return fact(r, pid, (*process.Process).Name) }

// Exe is the path of the process's executable.
func (r Portable) Exe(pid int) (string, error) { return fact(r, pid, (*process.Process).Exe) }

// Children lists the process's children, ascending; none is no error.
func (r Portable) Children(pid int) ([]int, error) {
	kids, err := fact(r, pid, (*process.Process).Children)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(kids))
	for _, k := range kids {
		out = append(out, int(k.Pid))
	}
	slices.Sort(out)
	return out, nil
}

// HasEnv reports whether the process's exec environment holds the entry
// kv ("NAME=value") exactly. gopsutil reads the whole environment: max is
// not a bound here.
func (r Portable) HasEnv(pid int, kv string, _ int) (bool, error) {
	env, err := fact(r, pid, (*process.Process).Environ)
	return err == nil && slices.Contains(env, kv), err
}

// fact opens pid and reads one fact of it with read: proc.ErrNoProcess when it
// is gone, proc.ErrNotAvailable where gopsutil does not implement read.
func fact[T any](r Portable, pid int, read func(*process.Process) (T, error)) (T, error) {
	var zero T
	p, err := r.open(pid)
	if err != nil {
		return zero, err
	}
	v, err := read(p)
	if err != nil {
		return zero, unavailableOr(gone(pid, err))
	}
	return v, nil
}

// Cgroup is not read here: control groups are Linux's, and the Linux
// reader is proc.FS.
func (Portable) Cgroup(pid int) (proc.Cgroups, error) {
	return nil, fmt.Errorf("pid %d: control groups: %w", pid, proc.NotAvailable(""))
}
