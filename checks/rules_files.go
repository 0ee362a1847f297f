package checks

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

// Files and descriptors: DC201-DC205.

var ruleCwdRoot = &Rule{
	ID: "DC201", Name: "cwd-root", Kind: Static,
	Title: "its current directory is / (or one allowed with --cwd), and not deleted",
	Spec:  "daemon(7) SysV step 11",
	SysV:  Error, Supervised: Warning,
	Doc: `A daemon runs for as long as the system does. If it keeps the directory it was
started from as its current directory, that file system can never be
unmounted, and a deleted directory stays allocated. daemon(7) has it change to
the root directory.

dcheck compares /proc/PID/cwd with /proc/PID/root by device and inode, so a
chrooted daemon whose current directory is its own root passes, and checks
that the kernel does not mark the directory deleted. Directories given with
--cwd are allowed too, compared by path.`,
	Hint: "chdir(\"/\") during start-up (or the daemon's own data directory, allowed with --cwd)",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if s.CwdErr != nil {
			return unknown("the current directory", s.CwdErr)
		}
		if s.Cwd.Deleted {
			return fail("current directory %s has been deleted", s.Cwd.Path)
		}
		for _, c := range pol.Cwds {
			if filepath.Clean(c) == s.Cwd.Path {
				return pass("current directory %s is allowed", s.Cwd.Path)
			}
		}
		if s.RootErr != nil {
			if s.Cwd.Path == "/" {
				return pass("current directory is /")
			}
			return unknown("the root directory", s.RootErr)
		}
		if s.Cwd.SameAs(s.Root) {
			return pass("current directory is the root directory %s", s.Root.Path)
		}
		return fail("current directory is %s, not /", s.Cwd.Path)
	},
}

// commonUmasks are the values a daemon sets on purpose.
var commonUmasks = []uint32{0o000, 0o022, 0o027, 0o077}

var ruleUmaskReset = &Rule{
	ID: "DC202", Name: "umask-reset", Kind: Static,
	Title: "its umask was set on purpose: the expected one, or at least not the starter's",
	Spec:  "daemon(7) SysV step 10",
	SysV:  Warning, Supervised: Off,
	Doc: `A daemon creates files (sockets, logs, pidfiles, data) whose permissions must
not depend on the umask of whoever happened to start it. daemon(7) resets the
umask to 0 (APUE) or to a chosen value.

dcheck reads the Umask line of /proc/PID/status (Linux 4.7 and later; a zombie
has none, so the finding is unknown). With --umask the value must match. When
the starter's umask is known (the suites launch with an unusual one) a daemon
that kept it fails, as an error. A umask a systemd unit sets (UMask=, 0022 by
default) is chosen on purpose: keeping it passes, under dcheck verify --unit
and when dcheck PID finds the unit, and so does another value (the daemon set
its own). Otherwise, with the starter unknown, whether the daemon set its
umask or kept its starter's cannot be told: 0000, 0022, 0027 and 0077 pass as
values daemons choose, and any other is a note (info), never a failure.`,
	Hint:  "call umask() with a deliberate value during start-up",
	Needs: []proc.Fact{proc.FactUmask},
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if !s.Status.HasUmask {
			if s.Zombie() {
				return unknown("the umask", proc.ErrZombie)
			}
			return Result{Status: Unknown, Message: "cannot see the umask: the kernel shows no Umask line (before Linux 4.7)"}
		}
		u := s.Status.Umask
		if pol.Umask != nil {
			if u == *pol.Umask {
				return pass("umask is %04o, as expected", u)
			}
			return fail("umask is %04o, expected %04o", u, *pol.Umask)
		}
		if st := pol.Starter; st != nil && st.Umask != nil && st.UmaskSetter != "" {
			if u == *st.Umask {
				return pass("umask is %04o, as %s sets it", u, st.UmaskSetter)
			}
			return pass("umask is %04o, set by the daemon (%s gave it %04o)", u, st.UmaskSetter, *st.Umask)
		}
		if sup := ev.Supervision; sup != nil && sup.UMask != nil && sup.Unit != "" {
			if u == *sup.UMask {
				return pass("umask is %04o, as %s's UMask= sets it", u, sup.Unit)
			}
			return pass("umask is %04o, set by the daemon (%s's UMask= gave it %04o)", u, sup.Unit, *sup.UMask)
		}
		if pol.Starter != nil && pol.Starter.Umask != nil {
			if u == *pol.Starter.Umask {
				return Result{Status: Fail, Severity: Error,
					Message: fmt.Sprintf("kept the starter's umask %04o", u)}
			}
			return Result{Status: Pass, Severity: Error,
				Message: fmt.Sprintf("umask is %04o, not the starter's %04o", u, *pol.Starter.Umask)}
		}
		if slices.Contains(commonUmasks, u) {
			return pass("umask is %04o", u)
		}
		return Result{Status: Fail, Severity: Info,
			Message: fmt.Sprintf("umask %04o is unusual for a daemon: set by the daemon or kept from its starter, which cannot be told without the starter (dcheck verify knows it; --umask checks a value)", u)}
	},
}

var ruleStdioDetached = &Rule{
	ID: "DC203", Name: "stdio-detached", Kind: Static,
	Title: "fds 0, 1, 2 are open and not a terminal: stdin /dev/null, stdout and stderr /dev/null, a file, a pipe or a socket",
	Spec:  "daemon(7) SysV step 9",
	SysV:  Error, Supervised: Error,
	Doc: `A daemon connects /dev/null to standard input, output and error. Left on the
starter's terminal, its reads and writes fail or block once the terminal is
gone. Closed instead of redirected, the next file it opens becomes fd 0, 1 or
2, and a stray printf or error message is written into that file.

dcheck checks that descriptors 0, 1 and 2 are open; that none is a terminal
(by device number); that stdin is /dev/null (device 1:3) or a socket (inetd
and socket activation); and that stdout and stderr are /dev/null, a regular
file, a pipe or a socket (a log file, a logger, the journal).`,
	Hint: "open /dev/null and dup2() it onto 0, 1 and 2 (stdout and stderr may go to a log file instead)",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if s.FDsErr != nil && !errors.Is(s.FDsErr, proc.ErrTruncated) { // the lowest are read: 0, 1 and 2 among them
			return unknown("the descriptors", s.FDsErr)
		}
		var problems []string
		for n := range 3 {
			d := s.Descriptor(n)
			switch {
			case d == nil:
				problems = append(problems, fmt.Sprintf("fd %d is closed", n))
			case d.Terminal:
				problems = append(problems, fmt.Sprintf("fd %d is the terminal %s", n, d.Target))
			case d.StatErr != nil:
				return unknown(fmt.Sprintf("fd %d", n), d.StatErr)
			case n == 0 && !d.IsDevNull() && d.Kind != proc.FDSocket:
				problems = append(problems, fmt.Sprintf("stdin is %s (%s), not /dev/null", d.Target, d.Kind))
			case n > 0 && !d.IsDevNull() && !slices.Contains([]proc.FDKind{proc.FDFile, proc.FDPipe, proc.FDFIFO, proc.FDSocket}, d.Kind):
				problems = append(problems, fmt.Sprintf("fd %d is %s (%s)", n, d.Target, d.Kind))
			}
		}
		if len(problems) > 0 {
			return fail("%s", strings.Join(problems, "; "))
		}
		return pass("stdin %s, stdout %s, stderr %s", s.Descriptor(0).Target, s.Descriptor(1).Target, s.Descriptor(2).Target)
	},
}

var ruleNoTerminalFDs = &Rule{
	ID: "DC204", Name: "no-terminal-fds", Kind: Static,
	Title: "no descriptor at all refers to a terminal",
	Spec:  "daemon(7) SysV steps 1, 7",
	SysV:  Error, Supervised: Error,
	Doc: `A descriptor on a terminal keeps that terminal open after the user logged out,
and lets the daemon read keystrokes or write onto someone's screen. It is
usually a descriptor inherited from the starter and never closed.

dcheck examines every open descriptor and tells terminals by device number,
using the kernel's own table in /proc/tty/drivers: pseudo-terminal slaves
(/dev/pts/*), virtual consoles and serial lines (/dev/tty*), /dev/tty and
/dev/console. A pty master (/dev/ptmx) is not a terminal in this sense: a
terminal emulator such as sshd or tmux holds one legitimately.`,
	Hint: "close every inherited descriptor at start-up, and redirect 0, 1, 2 to /dev/null",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if s.FDsErr != nil {
			return unknown("the descriptors", s.FDsErr)
		}
		var ttys []string
		for _, d := range s.FDs {
			if d.Terminal || (d.StatErr != nil && looksLikeTerminal(d.Target)) {
				ttys = append(ttys, fmt.Sprintf("fd %d %s", d.Num, d.Target))
			}
		}
		if len(ttys) > 0 {
			return fail("open on a terminal: %s", listAtMost(ttys))
		}
		if r, ok := unreadableFDs(s); ok {
			return r
		}
		return pass("none of %d descriptors is a terminal", len(s.FDs))
	},
}

func looksLikeTerminal(path string) bool {
	return strings.HasPrefix(path, "/dev/pts/") || strings.HasPrefix(path, "/dev/tty") || path == "/dev/console"
}

var ruleNoInheritedFDs = &Rule{
	ID: "DC205", Name: "no-inherited-fds", Kind: Static,
	Title: "no descriptor refers to a file the starter had open",
	Spec:  "daemon(7) SysV step 1",
	SysV:  Error, Supervised: Error,
	Doc: `Every descriptor the starter left open without close-on-exec reaches the
daemon, and stays open for its whole life: a lock that is never released, a
deleted file whose space is never freed, a pipe whose reader never sees
end-of-file and so waits for ever. daemon(7) begins by closing every
descriptor but 0, 1 and 2.

With --inherited PATH (repeatable; the suites pass their sentinel file), dcheck
fails a process holding any of those files, compared by device and inode.
Without it, dcheck cannot know what was inherited, and passes only when every
descriptor from 3 up is explained as the daemon's own: close-on-exec (no exec
passes one on: the daemon opened or marked it itself), its pidfile, a file
open for appending (a log), a file a lock is held through (a pidfile or a
lock file, as flock(1) passes one on), an anonymous inode (epoll, eventfd,
signalfd, timerfd, inotify, pidfd), a socket that listens, or a pipe or
socket whose other end it holds too or one of its children holds (the
kernel's unix_diag tells a Unix socket's peer). Any other (/dev/null above
2, a terminal, a pipe or a socket shared with anyone else) could have come
from its starter, as
descriptors an admin's shell left open do: the finding is unknown, naming
them.`,
	Hint: "close every descriptor above 2 at start-up (close_range(3, ~0U, 0)), keeping only those the daemon opened itself",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if s.FDsErr != nil {
			return unknown("the descriptors", s.FDsErr)
		}
		if len(pol.Inherited) > 0 {
			var held []string
			for _, d := range s.FDs {
				for _, in := range pol.Inherited {
					if d.Is(in.Dev, in.Ino) {
						held = append(held, fmt.Sprintf("fd %d is %s", d.Num, in.Path))
					}
				}
			}
			if len(held) > 0 {
				return fail("holds the starter's descriptor: %s", listAtMost(held))
			}
			if r, ok := unreadableFDs(s); ok {
				return r
			}
			return pass("holds none of the %d inherited files among its %d descriptors", len(pol.Inherited), len(s.FDs))
		}
		if r, ok := unreadableFDs(s); ok {
			return r
		}
		var own, open []string
		for _, d := range s.FDs {
			if d.Num < 3 {
				continue
			}
			if why := ownFD(s, d, ev.PidFile); why != "" {
				own = append(own, fmt.Sprintf("fd %d %s", d.Num, why))
			} else {
				open = append(open, fmt.Sprintf("fd %d %s", d.Num, notOwn(s, d)))
			}
		}
		switch {
		case len(open) > 0:
			return Result{Status: Unknown, Message: fmt.Sprintf("these could have been left open by its starter: %s (no --inherited file named; dcheck verify knows what it passed)", listAtMost(open))}
		case len(own) == 0:
			return pass("no descriptor above 2 (%d descriptors)", len(s.FDs))
		}
		return pass("each descriptor above 2 is its own: %s", listAtMost(own))
	},
}

// ownFD says why descriptor d (above 2) is the process's own, "" when
// nothing shows it: close-on-exec, its pidfile, a log, a lock, an
// anonymous inode, a listening socket, a pipe or socket whose other end
// it or a child holds.
func ownFD(s *proc.Snapshot, d proc.FD, pf *proc.PidFile) string {
	switch {
	case pf != nil && pf.Exists && d.Is(pf.Dev, pf.Ino):
		return d.Target + " (its pidfile)"
	case d.Kind == proc.FDFile && d.HasInfo() && d.Info.Flags&unix.O_APPEND != 0 && d.Writable():
		return d.Target + " (a log, open for appending)"
	case d.HasInfo() && len(d.Info.Locks) > 0:
		return d.Target + " (a lock is held through it: a pidfile or lock file)"
	case d.Kind == proc.FDAnon:
		return d.Target
	case d.CloseOnExec():
		return d.Target + " (close-on-exec)"
	case d.Kind == proc.FDSocket && s.Listening[d.Ino]:
		return d.Target + " (listening)"
	case d.Kind == proc.FDPipe && slices.ContainsFunc(s.FDs, func(o proc.FD) bool { return o.Num != d.Num && o.Kind == proc.FDPipe && o.Ino == d.Ino }):
		return d.Target + " (a pipe it holds both ends of)"
	case s.OwnPeers[d.Ino] == s.PID && d.Kind == proc.FDSocket:
		return d.Target + " (a socketpair it holds both ends of)"
	case s.OwnPeers[d.Ino] != 0:
		return fmt.Sprintf("%s (its other end is held by its child, pid %d)", d.Target, s.OwnPeers[d.Ino])
	}
	return ""
}

// notOwn describes a descriptor ownFD could not explain.
func notOwn(s *proc.Snapshot, d proc.FD) string {
	var why []string
	switch {
	case d.IsDevNull():
		why = append(why, "/dev/null above 2")
	case d.Terminal:
		why = append(why, "a terminal")
	}
	switch {
	case !d.HasInfo() && d.InfoErr != nil:
		why = append(why, fmt.Sprintf("its flags unreadable: %v", errNotVisible(d.InfoErr)))
	default:
		why = append(why, "not close-on-exec")
	}
	if d.Kind == proc.FDSocket {
		if s.SocketsErr != nil {
			why = append(why, fmt.Sprintf("whether it listens unreadable: %v", errNotVisible(s.SocketsErr)))
		} else {
			why = append(why, "not listening")
		}
	}
	if (d.Kind == proc.FDSocket || d.Kind == proc.FDPipe) && s.OwnPeersErr != nil {
		why = append(why, fmt.Sprintf("who holds its other end unreadable: %v", errNotVisible(s.OwnPeersErr)))
	} else if d.Kind == proc.FDSocket || d.Kind == proc.FDPipe {
		why = append(why, "its other end held neither by it nor by a child")
	}
	return fmt.Sprintf("%s (%s)", d.Target, strings.Join(why, ", "))
}

// unreadableFDs is the unknown result for a rule that needs every
// descriptor when some could not be examined (permission denied, most
// often), with the descriptors as ranges: "fd 3-268 (266 descriptors):
// permission denied". ok is false when every descriptor was examined.
func unreadableFDs(s *proc.Snapshot) (Result, bool) {
	var nums []int
	var first error
	for _, d := range s.FDs {
		if d.StatErr != nil {
			nums = append(nums, d.Num)
			if first == nil {
				first = d.StatErr
			}
		}
	}
	if len(nums) == 0 {
		return Result{}, false
	}
	if len(nums) == len(s.FDs) {
		return unknown("any of its descriptors, "+fdRanges(nums), first), true
	}
	return unknown(fmt.Sprintf("%s of its %d descriptors", fdRanges(nums), len(s.FDs)), first), true
}
