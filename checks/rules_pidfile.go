package checks

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/dcheck/dcheck/internal/pidsafety"
	"github.com/dcheck/dcheck/proc"
)

// The pidfile: DC301-DC303.

var rulePidFileMatches = &Rule{
	ID: "DC301", Name: "pidfile-matches", Kind: Static,
	Title: "the pidfile exists, holds a decimal pid, and that pid is this process",
	Spec:  "daemon(7) SysV step 12",
	SysV:  Error, Supervised: Error,
	Doc: `Init scripts, start-stop-daemon, systemd's PIDFile= and monitoring tools find a
SysV daemon through its pidfile. daemon(7) has the daemon write its own pid
there after the second fork: a pidfile written by the parent before forking
names a process that has already exited.

dcheck reads at most 4096 bytes of the pidfile given with --pidfile. Its first
line must hold a positive decimal pid, optionally surrounded by white space
(one trailing newline is usual), and that pid must be the process judged. Lines
after the first are the daemon's own (some write a data directory, a start
time or a port there) and are not judged. Skipped when no pidfile is given.`,
	Hint: "write getpid() + \"\\n\" to the pidfile from the daemon itself, after the last fork",
	Check: func(ev *Evidence, pol *Policy) Result {
		if ev.PidFile == nil {
			return skip("no pidfile given")
		}
		pf := ev.PidFile
		if pf.Err != nil {
			return fail("%v", pf.Err)
		}
		if pf.PID != ev.Process.PID {
			return fail("%s holds pid %d, but the daemon is pid %d", pf.Path, pf.PID, ev.Process.PID)
		}
		return pass("%s holds pid %d", pf.Path, pf.PID)
	},
}

var rulePidFileSafe = &Rule{
	ID: "DC302", Name: "pidfile-safe", Kind: Static,
	Title: "the pidfile is a regular file reached without a symlink, owned by root or the daemon, writable only by its owner, in a directory of root or the daemon that no other user can write (unless sticky)",
	Spec:  "daemon(7) SysV step 12; systemd.service(5) PIDFile=",
	SysV:  Error, Supervised: Error,
	Doc: `Whatever reads the pidfile trusts it: an init script or systemd sends signals
to the pid it names, as root. If another user can write the pidfile, or
replace it (a writable directory, a symlink planted at its path), they can
make root kill any process. systemd refuses pidfiles owned by another
unprivileged user for this reason.

dcheck checks that the path's last component is not a symbolic link, that the
file is a regular file owned by root or by the daemon's user, that neither
group nor others may write it, and that its directory belongs to root or the
daemon's user and is not writable by others, nor by a group other than root's,
unless it has the sticky bit. The daemonize library refuses a pidfile by the
same definition (internal/pidsafety). Skipped when no pidfile is given or none
exists (DC301 says why).`,
	Hint: "create the pidfile with O_NOFOLLOW and mode 0644 in a directory only the daemon's user can write, such as /run/NAME/",
	Check: func(ev *Evidence, pol *Policy) Result {
		if ev.PidFile == nil {
			return skip("no pidfile given")
		}
		pf := ev.PidFile
		if !pf.Exists {
			return skip("no pidfile at %s to judge", pf.Path)
		}
		var problems []string
		if pf.Symlink {
			problems = append(problems, fmt.Sprintf("%s is a symlink to %s", pf.Path, pf.LinkTarget))
		}
		if !pf.Mode.IsRegular() {
			problems = append(problems, fmt.Sprintf("not a regular file but %s", proc.DescribeMode(pf.Mode)))
		}
		// internal/pidsafety is the one definition, daemonize's too.
		uids := ev.Process.Status.UIDs
		owners := []uint32{uint32(uids[0]), uint32(uids[1])}
		problems = append(problems, pidsafety.FileProblems(pidsafety.Stat{UID: uint32(pf.UID), Mode: unixMode(pf.Mode)}, pf.Path, owners...)...)
		if pf.DirErr != nil {
			problems = append(problems, fmt.Sprintf("cannot examine its directory: %v", pf.DirErr))
		} else {
			problems = append(problems, pidsafety.DirProblems(pidsafety.Stat{UID: uint32(pf.DirUID), GID: uint32(pf.DirGID), Mode: unixMode(pf.DirMode)}, pf.DirPath, owners...)...)
		}
		if len(problems) > 0 {
			return fail("%s", strings.Join(problems, "; "))
		}
		return pass("%s: regular file, mode %04o, uid %d, in %s (mode %04o, uid %d)", pf.Path, pf.Mode.Perm(), pf.UID, pf.DirPath, unixMode(pf.DirMode), pf.DirUID)
	},
}

var rulePidFileLocked = &Rule{
	ID: "DC303", Name: "pidfile-locked", Kind: Static,
	Title: "the daemon holds the pidfile open and locked",
	Spec:  "APUE 13.5 (single-instance daemons)",
	SysV:  Warning, Supervised: Warning,
	Doc: `A pidfile by itself cannot say whether its daemon still runs: after a crash
the pid it names may belong to another process, and "kill -0 PID" is fooled.
A daemon that keeps its pidfile open with a lock (flock(2), or an fcntl or OFD
lock) answers the question exactly: the lock lives as long as the daemon, and
a second instance that cannot take it knows the first is running (APUE 13.5).

dcheck looks for a descriptor of the daemon on the pidfile's device and inode,
and for a lock held through it (the lock lines of /proc/PID/fdinfo/N, or an
entry in /proc/locks on that inode). Skipped when no pidfile is given.`,
	Hint: "keep the pidfile open for the daemon's whole life with an exclusive flock(2) (or OFD lock) on it",
	Check: func(ev *Evidence, pol *Policy) Result {
		if ev.PidFile == nil {
			return skip("no pidfile given")
		}
		pf, s := ev.PidFile, ev.Process
		if !pf.Exists || !pf.Mode.IsRegular() {
			return skip("no regular pidfile at %s to judge", pf.Path)
		}
		if s.FDsErr != nil {
			return unknown("the descriptors", s.FDsErr)
		}
		var open []proc.FD
		for _, d := range s.FDs {
			if d.Is(pf.Dev, pf.Ino) {
				open = append(open, d)
			}
		}
		if len(open) == 0 {
			if r, ok := unreadableFDs(s); ok {
				return r // one of those may be the pidfile
			}
			return fail("the daemon holds no descriptor on %s, so it holds no lock on it", pf.Path)
		}
		for _, d := range open {
			for _, l := range d.Info.Locks {
				if !l.Blocked {
					return pass("fd %d holds a %s %s lock on %s", d.Num, l.Class, l.Access, pf.Path)
				}
			}
		}
		for _, l := range pf.Locks {
			if !l.Blocked {
				return pass("fd %d is %s, locked (%s %s in /proc/locks)", open[0].Num, pf.Path, l.Class, l.Access)
			}
		}
		if pf.LocksErr != nil && open[0].InfoErr != nil {
			return unknown("the locks", pf.LocksErr)
		}
		return fail("fd %d is %s, but no lock is held on it", open[0].Num, pf.Path)
	},
}

// unixMode is m's permission and sticky bits as st_mode has them.
func unixMode(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
