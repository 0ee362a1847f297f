package checks

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/sessionenv"
)

// rules is the catalogue: one explicit list, in ID order. Add a rule with a
// new ID; never renumber or reuse one.
var rules = []*Rule{
	ruleOrphaned,
	ruleOwnSession,
	ruleNotSessionLeader,
	ruleNoControllingTTY,
	ruleCwdRoot,
	ruleUmaskReset,
	ruleStdioDetached,
	ruleNoTerminalFDs,
	ruleNoInheritedFDs,
	rulePidFileMatches,
	rulePidFileSafe,
	rulePidFileLocked,
	ruleSignalsReset,
	ruleChildrenReaped,
	ruleEnvClean,
	rulePrivilegesDropped,
	ruleLogsSomewhere,
	lifecycle("SU101", "detaches", "the start command exits 0 within the start timeout and no longer holds the terminal",
		"daemon(7) SysV steps 5, 15", Error, Off,
		`A SysV daemon's start command returns once the daemon runs in the background:
init scripts and systemd's Type=forking wait for it to exit. One that never
returns blocks them; one that exits non-zero says it failed.

The suite runs the start command on a fresh pty and waits up to the start
timeout for it to exit with status 0.`,
		"fork and exit the original process once the daemon is up"),
	lifecycle("SU102", "ready-before-exit", "at the instant the start command exits, the pidfile exists and names the live daemon",
		"daemon(7) SysV step 15; systemd.service(5) Type=forking, PIDFile=", Error, Off,
		`systemd and init scripts read the pidfile as soon as the start command exits.
A daemon whose original process exits before the daemon has written its
pidfile leaves them an empty or missing file, or the pid of a process that
has already exited: they report a failure, or worse, track the wrong process.

The suite decides it by cause, not by timing: it traces the start command
and everything it forks, holds each forked process before its first
instruction until the start command waits for something (every traced
process asleep, twice in a row, with no context switch between), and reads
the pidfile in the start command's exit stop with the rest of the run
stopped. A start command that exits without waiting for its daemon exits
while the daemon has not run, every time. Without a pidfile, it checks that
the daemon has been adopted by then.`,
		"exit the original process only after the daemon has written its pidfile (a readiness pipe)"),
	lifecycle("SU103", "single-instance", "a second start while it runs starts no second daemon and leaves the first and its pidfile alone",
		"APUE 13.5", Error, Error,
		`Two instances of a daemon fight over its port, its files and its pidfile. A
second start must fail, leaving the first running and its pidfile unchanged;
it should say so with a non-zero exit (exit 0 is reported as a warning).`,
		"lock the pidfile and refuse to start when the lock is held"),
	lifecycle("SU104", "stops-on-sigterm", "after SIGTERM (or the stop command) it exits within the stop timeout",
		"daemon(7) (SIGTERM); systemd.kill(5)", Error, Error,
		`Every service manager stops a daemon with SIGTERM and, after a timeout,
SIGKILL. A daemon that ignores SIGTERM is killed without cleaning up.

The suite sends SIGTERM (or runs the stop command) and waits up to the stop
timeout for the daemon to exit; it reports the exit status.`,
		"handle SIGTERM: stop serving, remove the pidfile, exit 0"),
	lifecycle("SU105", "removes-pidfile", "after a clean stop the pidfile is gone",
		"daemon(7) SysV step 12", Error, Error,
		`A pidfile left behind after a clean stop names a pid that will be reused:
the next "status" reports a running daemon that is not there, and a
careless "stop" signals an unrelated process.`,
		"unlink the pidfile on the way out, while still holding its lock"),
	lifecycle("SU106", "stale-pidfile-recovery", "after kill -9, the next start succeeds and the pidfile names the new daemon",
		"APUE 13.5", Error, Error,
		`A daemon killed with SIGKILL (or by the OOM killer, or a power cut) cannot
remove its pidfile. A daemon that refuses to start because a pidfile exists,
instead of checking whether its lock is held, needs a human to recover.`,
		"decide \"already running\" by the pidfile's lock, never by its existence"),
	lifecycle("SU107", "reload-on-sighup", "with --reload: it survives SIGHUP with the same pid",
		"daemon(7) (SIGHUP)", Error, Error,
		`By convention SIGHUP asks a daemon to reload its configuration and reopen its
logs. A daemon that dies on SIGHUP (the default action) cannot be reloaded,
and logrotate's postrotate kills it. Judged only with --reload.`,
		"handle SIGHUP: reload, reopen logs, keep running"),
	lifecycle("SU108", "no-leftovers", "after stop, no process it started remains",
		"daemon(7); systemd.kill(5) KillMode=", Error, Error,
		`A daemon that exits while its helpers keep running leaves orphans that hold
its ports and files, and that a restarted daemon then fights.

The suite marks every process it starts (an environment variable) and, after
the stop, looks for live processes that carry the mark or share the daemon's
session.`,
		"stop and wait for child processes before exiting"),
	lifecycle("SU109", "concurrent-starts", "eight starts at once run exactly one daemon, and the pidfile names it",
		"APUE 13.5; daemon(7) SysV step 12", Error, Error,
		`Boot scripts, configuration management and impatient people start a daemon
twice at the same moment. The pidfile's lock exists for that race: a daemon
that checks for a pidfile and creates it later (the classic recipe) lets two
starts both pass the check, and two daemons run with one pidfile between
them.

With a pidfile, after the stop, the suite releases eight start commands at
once (each waits on one shared pipe) and waits until they have all exited
and the run has settled. Exactly one daemon may remain, and the pidfile
must name it; the losing starts should exit non-zero (exit 0 is a warning,
as for SU103). The winner is then stopped.

The suite also reads the pidfile every 200 µs during the race and reports a
look that found it empty, unreadable or naming a dead pid: the sign of a pid
that is not published in one step. It does not judge by it: whether a look
lands in the microseconds between a pidfile's creation and its write
depends on the machine.`,
		"take the pidfile's lock before deciding to run, and publish the pid atomically (write a locked temporary file, then link(2) it into place)"),
	lifecycle("SU111", "stays-in-foreground", "supervised: the start command is the daemon and keeps running",
		"daemon(7) New-Style Daemons", Off, Error,
		`Under a supervisor (systemd Type=simple or notify, runit, a container
runtime) the process it starts is the daemon: it must not fork and exit, or
the supervisor believes it died and restarts it, or kills what it left.

The suite checks that the start command still runs once it is ready.`,
		"do not fork in supervised mode: run in the foreground"),
	lifecycle("SU112", "notifies-readiness", "supervised: it sends READY=1 over NOTIFY_SOCKET",
		"sd_notify(3); systemd.service(5) Type=notify", Off, Warning,
		`A supervised daemon tells the supervisor when it is ready with READY=1 on
the socket named by NOTIFY_SOCKET, so that units ordered after it start only
then. Without it the supervisor can only guess.`,
		"send READY=1 (and MAINPID=) once the daemon serves"),
}

// lifecycle makes a rule judged by the suites rather than from /proc.
func lifecycle(id, name, title, spec string, sysv, supervised Severity, doc, hint string) *Rule {
	return &Rule{ID: id, Name: name, Title: title, Spec: spec, Kind: Lifecycle,
		SysV: sysv, Supervised: supervised, Doc: doc, Hint: hint}
}

var ruleOrphaned = &Rule{
	ID: "DC101", Name: "orphaned", Kind: Static,
	Title: "its parent is the reaper: init of its pid namespace, or the given subreaper",
	Spec:  "daemon(7) SysV steps 5, 8",
	SysV:  Error, Supervised: Off,
	Doc: `A SysV daemon forks and lets its parent exit, twice, so that it is orphaned
and adopted by init: the shell or script that started it can finish, and the
daemon no longer depends on it. A process whose parent is still alive is a
child of whatever started it, and dies or is reaped with it.

dcheck compares the parent pid (stat field 4) with pid 1 of the process's own
pid namespace: it reads the parent's NSpid line and checks that the parent is
pid 1 at the same namespace depth, so daemons inside containers are judged
right. Under a subreaper (systemd --user, tini, a test harness using
PR_SET_CHILD_SUBREAPER) orphans are adopted by the subreaper instead: give its
pid with --reaper.

Not judged in the supervised profile, where the supervisor is the parent by
design.`,
	Hint: "fork, and exit the parent, after setsid() (a second time); or give --reaper PID when a subreaper adopts orphans",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		ppid := s.Stat.PPID
		if pol.Reaper != 0 {
			if ppid == pol.Reaper {
				return pass("parent is the reaper, pid %d", ppid)
			}
			return fail("parent is pid %d%s, not the reaper pid %d", ppid, parentName(s), pol.Reaper)
		}
		if ppid == 0 {
			return skip("pid %d has no parent: it is the init of its pid namespace", s.PID)
		}
		depth := len(s.Status.NSPID)
		if ppid == 1 && depth <= 1 {
			return pass("parent is init, pid 1")
		}
		if s.Parent == nil {
			return unknown(fmt.Sprintf("the parent, pid %d", ppid), s.ParentErr)
		}
		ns := s.Parent.NSPID
		if len(ns) == depth && depth > 0 && ns[len(ns)-1] == 1 {
			return pass("parent is pid %d%s, init of its pid namespace", ppid, parentName(s))
		}
		return fail("parent is pid %d%s, still alive: the process was not orphaned (if pid %d is a subreaper, pass --reaper %d)",
			ppid, parentName(s), ppid, ppid)
	},
}

func parentName(s *Snapshot) string {
	if s.Parent == nil || s.Parent.Name == "" {
		return ""
	}
	return " (" + s.Parent.Name + ")"
}

var ruleOwnSession = &Rule{
	ID: "DC102", Name: "own-session", Kind: Static,
	Title: "its process group is its session (pgid == sid): the group its own setsid() made",
	Spec:  "daemon(7) SysV step 6",
	SysV:  Error, Supervised: Warning,
	Doc: `A daemon calls setsid() to leave the session, and so the terminal and job
control, of whoever started it. setsid() makes a new session and a new process
group with the same ID; after the second fork the daemon stays in both, so
its process group ID equals its session ID.

A process started from an interactive shell gets a process group of its own
inside the shell's session (the shell's job control): its pgid differs from
its sid, and the shell's hang-up or Ctrl-C reaches it.

dcheck compares stat fields 5 (pgrp) and 6 (session).`,
	Hint: "call setsid() in the first child (after the first fork), and keep the process group it creates",
	Check: func(ev *Evidence, pol *Policy) Result {
		st := ev.Process.Stat
		if st.PGRP == st.Session {
			return pass("process group %d is its session", st.PGRP)
		}
		return fail("process group %d is inside session %d: it is a job of another session (no setsid())", st.PGRP, st.Session)
	},
}

var ruleNotSessionLeader = &Rule{
	ID: "DC103", Name: "not-session-leader", Kind: Static,
	Title: "it is not a session leader (sid != pid), so it can never acquire a controlling terminal",
	Spec:  "daemon(7) SysV step 7",
	SysV:  Error, Supervised: Off,
	Doc: `After setsid() the process is the leader of a new session. On System V
derived systems a session leader that opens a terminal without O_NOCTTY gets
it as its controlling terminal, and with it SIGHUP when the terminal goes away.
daemon(7) therefore forks once more after setsid() and exits the first child:
the grandchild is in the new session but is not its leader, and can never
reacquire a terminal. glibc's daemon(3) forks only once and fails this rule.

dcheck checks that stat field 6 (session) differs from the pid.`,
	Hint: "fork a second time after setsid() and let the first child exit, so the daemon is not the session leader",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if s.Stat.Session != s.PID {
			return pass("session %d is led by another process", s.Stat.Session)
		}
		return fail("sid %d == pid: it is a session leader and could acquire a controlling terminal", s.Stat.Session)
	},
}

var ruleNoControllingTTY = &Rule{
	ID: "DC104", Name: "no-controlling-tty", Kind: Static,
	Title: "it has no controlling terminal (tty_nr 0, tpgid -1)",
	Spec:  "daemon(7) SysV step 7",
	SysV:  Error, Supervised: Error,
	Doc: `A process with a controlling terminal gets SIGHUP when the terminal hangs up
and SIGTTIN/SIGTTOU when it touches the terminal from the background: a
daemon must have none.

dcheck reads stat fields 7 (tty_nr, the controlling terminal's device) and 8
(tpgid, the terminal's foreground process group): both must say "none", 0 and
-1.`,
	Hint: "call setsid() (which drops the controlling terminal), and open terminals only with O_NOCTTY",
	Check: func(ev *Evidence, pol *Policy) Result {
		st := ev.Process.Stat
		if st.TTY == 0 && st.TPGID == -1 {
			return pass("no controlling terminal (tty_nr 0, tpgid -1)")
		}
		if st.TTY == 0 {
			return fail("tpgid is %d although tty_nr is 0", st.TPGID)
		}
		maj, mnr := st.TTYDevice()
		return fail("controlling terminal is device %d:%d%s (foreground group %d)", maj, mnr, ttyName(maj, mnr), st.TPGID)
	},
}

func ttyName(major, minor uint32) string {
	switch {
	case major >= 136 && major <= 143:
		return fmt.Sprintf(" (/dev/pts/%d)", (major-136)*256+minor)
	case major == 4 && minor < 64:
		return fmt.Sprintf(" (/dev/tty%d)", minor)
	case major == 4:
		return fmt.Sprintf(" (/dev/ttyS%d)", minor-64)
	case major == 5 && minor == 1:
		return " (/dev/console)"
	}
	return ""
}

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
that kept it fails, as an error. Otherwise a value other than 0000, 0022,
0027 or 0077 is reported as probably inherited.`,
	Hint: "call umask() with a deliberate value during start-up",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if !s.Status.HasUmask {
			if s.Zombie() {
				return unknown("the umask", ErrZombie)
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
		return fail("umask %04o is unusual for a daemon: probably inherited from the starter", u)
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
		if s.FDsErr != nil {
			return unknown("the descriptors", s.FDsErr)
		}
		var problems []string
		for n := range 3 {
			d := s.fd(n)
			switch {
			case d == nil:
				problems = append(problems, fmt.Sprintf("fd %d is closed", n))
			case d.Terminal:
				problems = append(problems, fmt.Sprintf("fd %d is the terminal %s", n, d.Target))
			case d.StatErr != nil:
				return unknown(fmt.Sprintf("fd %d", n), d.StatErr)
			case n == 0 && !d.IsDevNull() && d.Kind != FDSocket:
				problems = append(problems, fmt.Sprintf("stdin is %s (%s), not /dev/null", d.Target, d.Kind))
			case n > 0 && !d.IsDevNull() && !slices.Contains([]FDKind{FDFile, FDPipe, FDFIFO, FDSocket}, d.Kind):
				problems = append(problems, fmt.Sprintf("fd %d is %s (%s)", n, d.Target, d.Kind))
			}
		}
		if len(problems) > 0 {
			return fail("%s", strings.Join(problems, "; "))
		}
		return pass("stdin %s, stdout %s, stderr %s", s.fd(0).Target, s.fd(1).Target, s.fd(2).Target)
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
Without it, dcheck cannot know what was inherited: it lists descriptors 3 and
up that are not sockets, pipes, anonymous inodes, /dev/null, the pidfile or a
file open for appending (a log), and passes.`,
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
		var suspects []string
		for _, d := range s.FDs {
			if d.Num < 3 || isOwnKind(d, ev.PidFile) {
				continue
			}
			suspects = append(suspects, fmt.Sprintf("fd %d %s (%s)", d.Num, d.Target, d.Kind))
		}
		if len(suspects) == 0 {
			return pass("no descriptor above 2 looks inherited (%d descriptors)", len(s.FDs))
		}
		return pass("no inherited file named (--inherited); these could be inherited: %s", listAtMost(suspects))
	},
}

// isOwnKind reports whether a descriptor is of a kind a daemon opens for
// itself: sockets, pipes, anonymous inodes, /dev/null, its pidfile, a log.
func isOwnKind(d FD, pf *PidFile) bool {
	switch {
	case d.Kind == FDSocket, d.Kind == FDPipe, d.Kind == FDAnon, d.IsDevNull():
		return true
	case pf != nil && pf.Exists && d.Is(pf.Dev, pf.Ino):
		return true
	case d.Kind == FDFile && d.InfoErr == nil && d.Info.Flags&unix.O_APPEND != 0 && d.Writable():
		return true
	}
	return false
}

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
	Title: "the pidfile is a regular file reached without a symlink, owned by root or the daemon, writable only by its owner, in a directory others cannot write (unless sticky)",
	Spec:  "daemon(7) SysV step 12; systemd.service(5) PIDFile=",
	SysV:  Error, Supervised: Error,
	Doc: `Whatever reads the pidfile trusts it: an init script or systemd sends signals
to the pid it names, as root. If another user can write the pidfile, or
replace it (a writable directory, a symlink planted at its path), they can
make root kill any process. systemd refuses pidfiles owned by another
unprivileged user for this reason.

dcheck checks that the path's last component is not a symbolic link, that the
file is a regular file owned by root or by the daemon's user, that neither
group nor others may write it, and that its directory is not writable by
others unless it has the sticky bit. Skipped when no pidfile is given or none
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
			problems = append(problems, fmt.Sprintf("not a regular file but %s", describeMode(pf.Mode)))
		}
		uids := ev.Process.Status.UIDs
		if pf.UID != 0 && pf.UID != uids[0] && pf.UID != uids[1] {
			problems = append(problems, fmt.Sprintf("owned by uid %d, neither root nor the daemon's uid %d", pf.UID, uids[1]))
		}
		if perm := pf.Mode.Perm(); perm&0o022 != 0 {
			problems = append(problems, fmt.Sprintf("mode %04o lets group or others write it", perm))
		}
		switch {
		case pf.DirErr != nil:
			problems = append(problems, fmt.Sprintf("cannot examine its directory: %v", pf.DirErr))
		case pf.DirMode.Perm()&0o002 != 0 && pf.DirMode&fs.ModeSticky == 0:
			problems = append(problems, fmt.Sprintf("directory %s is writable by others and not sticky (mode %04o)", pf.DirPath, pf.DirMode.Perm()))
		}
		if len(problems) > 0 {
			return fail("%s", strings.Join(problems, "; "))
		}
		return pass("%s: regular file, mode %04o, uid %d", pf.Path, pf.Mode.Perm(), pf.UID)
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
		var open []FD
		for _, d := range s.FDs {
			if d.Is(pf.Dev, pf.Ino) {
				open = append(open, d)
			}
		}
		if len(open) == 0 {
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

var ruleSignalsReset = &Rule{
	ID: "DC401", Name: "signals-reset", Kind: Static,
	Title: "SIGTERM can reach it, and it kept none of the starter's blocked or ignored signals",
	Spec:  "daemon(7) SysV steps 2, 3",
	SysV:  Error, Supervised: Error,
	Doc: `Signal dispositions set to "ignore" and the blocked-signal mask survive fork
and exec. A daemon started by nohup ignores SIGHUP; one started from a program
that blocked signals around fork inherits the block; either way it does not
hear what it is sent. daemon(7) resets every signal handler to its default and
the signal mask to empty, first thing.

dcheck reads SigIgn and SigBlk from /proc/PID/status and every thread's
task/TID/status. SIGTERM ignored fails. SIGTERM blocked in every thread is
looked at again, every 5 ms for 300 ms: a daemon may block it only around
each wait. Blocked at every look, it fails unless something takes it
anyway (a signalfd whose mask has it, or a thread waiting in sigwait); with
a handler installed it is a note (info): such a daemon unblocks it between
waits, for microseconds no look can catch, and SU104 tests the stop itself. When the starter's blocked and ignored signals are known
(the suites record them), one still blocked in every thread or still
ignored fails; SIGPIPE is exempt, as daemons ignore it on purpose. In the
supervised profile the parent is the starter: a standard signal (1-31) both
ignore fails the same way (CPython ignores SIGXFSZ, and supervisord's programs inherit it). (Every
thread, not the main one: the Go runtime blocks most signals in its idle
threads, the main thread included, and takes them on the others.) Otherwise
SIGHUP, SIGINT or SIGQUIT ignored is a note (info), never a failure: nohup(1)
leaves SIGHUP ignored and a non-interactive shell's & leaves SIGINT and
SIGQUIT ignored, but a daemon may ignore them by design, and without the
starter the two cannot be told apart.`,
	Hint: "reset every signal to SIG_DFL and the mask to empty (sigprocmask(SIG_SETMASK, &empty)) before anything else",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		ign, blk := s.Status.SigIgnored, s.Status.SigBlocked
		if ign.Has(unix.SIGTERM) {
			return fail("SIGTERM is ignored: the daemon cannot be stopped cleanly")
		}
		if s.blockedEverywhere(unix.SIGTERM) && !takesAnyway(s, unix.SIGTERM) {
			w := s.TermWindow
			switch {
			case w != nil && w.Unblocked != 0:
				// Blocked at one instant, not as a policy: thread Unblocked
				// had it open at At.
			case s.Status.SigCaught.Has(unix.SIGTERM):
				return Result{Status: Fail, Severity: Info, Message: fmt.Sprintf("SIGTERM is blocked in every thread%s, but it has a handler: a daemon that unblocks it between waits (around epoll_wait or pselect) takes it there, which /proc cannot show; dcheck verify sends it (SU104)", w.text())}
			default:
				return fail("SIGTERM is blocked in every thread%s, and no handler, signalfd or sigwait takes it", w.text())
			}
		}
		if pol.Starter != nil {
			var kept []string
			var b SignalSet
			for _, sig := range pol.Starter.Blocked.Signals() {
				if s.blockedEverywhere(sig) {
					b |= sigBit(sig)
				}
			}
			if b != 0 {
				kept = append(kept, "kept the starter's blocked signal mask: "+b.String())
			}
			if i := ign & pol.Starter.Ignored &^ sigBit(unix.SIGPIPE); i != 0 {
				kept = append(kept, "kept "+i.String()+" ignored")
			}
			if len(kept) > 0 {
				return fail("%s", strings.Join(kept, "; "))
			}
			return pass("SIGTERM reaches it%s; none of the starter's blocked (%s) or ignored (%s) signals remain", s.TermWindow.open(), pol.Starter.Blocked, pol.Starter.Ignored)
		}
		// Supervised, the parent is the starter: what it ignores and the
		// daemon still ignores was inherited (SIGPIPE is exempt).
		if pol.Profile == ProfileSupervised && s.Parent != nil {
			// The standard signals only: 32 and up are glibc's own and
			// real-time signals, which a starter's runtime may leave ignored.
			const standard = SignalSet(1)<<31 - 1
			if i := ign & s.Parent.SigIgnored & standard &^ sigBit(unix.SIGPIPE); i != 0 {
				return fail("kept %s ignored, as its supervisor %s (pid %d) has it: inherited, not reset", i, s.Parent.Name, s.Parent.PID)
			}
		}
		// Without the starter's facts, an ignored SIGHUP, SIGINT or SIGQUIT
		// may be inherited or chosen: say which starters leave which, as a
		// note, never as a failure.
		if i := ign & (sigBit(unix.SIGHUP) | sigBit(unix.SIGINT) | sigBit(unix.SIGQUIT)); i != 0 {
			var causes []string
			if i.Has(unix.SIGHUP) {
				causes = append(causes, "nohup(1) leaves SIGHUP ignored")
			}
			if i.Has(unix.SIGINT) || i.Has(unix.SIGQUIT) {
				causes = append(causes, "a non-interactive shell's & leaves SIGINT and SIGQUIT ignored")
			}
			return Result{Status: Fail, Severity: Info,
				Message: fmt.Sprintf("%s ignored: inherited or by design, which cannot be told without the starter (%s; dcheck verify knows its starter)", i, strings.Join(causes, "; "))}
		}
		var everywhere SignalSet
		for _, sig := range blk.Signals() {
			if s.blockedEverywhere(sig) {
				everywhere |= sigBit(sig)
			}
		}
		return pass("SIGTERM reaches it%s (blocked in every thread: %s; ignored: %s)", s.TermWindow.open(), everywhere, ign)
	},
}

// text says what a window of looks saw, for a message.
func (w *SignalWindow) text() string {
	if w == nil {
		return ""
	}
	return fmt.Sprintf(" at each of %d looks over %v", w.Looks+1, w.Span.Round(time.Millisecond))
}

// open says when a window saw SIGTERM unblocked, for a pass message.
func (w *SignalWindow) open() string {
	if w == nil || w.Unblocked == 0 {
		return ""
	}
	return fmt.Sprintf(" (blocked in every thread at the first look, unblocked in thread %d %v later)", w.Unblocked, w.At.Round(time.Millisecond))
}

func sigBit(sig unix.Signal) SignalSet { return 1 << (uint(sig) - 1) }

// takesAnyway reports whether a blocked sig is still taken: by a signalfd
// or a thread sleeping in sigwait/sigtimedwait.
func takesAnyway(s *Snapshot, sig unix.Signal) bool {
	for _, d := range s.FDs {
		if d.Info.HasSigMsk && d.Info.SigMask.Has(sig) {
			return true
		}
	}
	for _, t := range s.Threads {
		if strings.Contains(t.Wchan, "sigtimedwait") {
			return true
		}
	}
	return false
}

var ruleChildrenReaped = &Rule{
	ID: "DC402", Name: "children-reaped", Kind: Static,
	Title: "none of its children is a zombie",
	Spec:  "PEP 3143; daemon(7) (SIGCHLD handling)",
	SysV:  Warning, Supervised: Warning,
	Doc: `A child that has exited stays a zombie until its parent waits for it. A
daemon that starts helpers and never reaps them accumulates zombies until the
process table is full. A daemon handles SIGCHLD and calls waitpid().

dcheck reads task/TID/children of every thread and fails when any child is in
state Z. A zombie can exist for an instant between a child's exit and the
wait; one that persists across two runs is a real leak.`,
	Hint: "handle SIGCHLD and waitpid(-1, &status, WNOHANG) until it returns 0",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if s.ChildrenErr != nil {
			return unknown("the children", s.ChildrenErr)
		}
		var z []string
		for _, c := range s.Children {
			if c.Zombie() {
				z = append(z, fmt.Sprintf("%d (%s)", c.PID, c.Comm))
			}
		}
		if len(z) > 0 {
			return fail("zombie children not reaped: %s", listAtMost(z))
		}
		if len(s.Children) == 0 {
			return pass("no children (task/*/children read for %s)", plural(len(s.Threads), "thread"))
		}
		return pass("%s, none a zombie", plural(len(s.Children), "child"))
	},
}

var ruleEnvClean = &Rule{
	ID: "DC501", Name: "env-clean", Kind: Static,
	Title: "its environment holds no login-session residue (TERM, SSH_*, DISPLAY, ...)",
	Spec:  "daemon(7) SysV step 4",
	SysV:  Info, Supervised: Info,
	Doc: `A daemon started by hand from a login shell inherits that session's
environment: the terminal type, the SSH connection, the X display. Nothing a
daemon does should depend on them, and a daemon started at boot would not have
them, so behaviour differs between the two. daemon(7) has the daemon reset its
environment to a sane default.

dcheck reads /proc/PID/environ, the environment the process had at exec, and
lists TERM, SSH_*, DISPLAY, WINDOWID, XDG_SESSION_* and OLDPWD.`,
	Hint: "start the daemon with a clean environment (env -i, or the init system), or clear these variables before exec",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if s.EnvironErr != nil {
			return unknown("the environment", s.EnvironErr)
		}
		var found []string
		for _, kv := range s.Environ {
			if name, _, _ := strings.Cut(kv, "="); sessionenv.Is(name) {
				found = append(found, name)
			}
		}
		if len(found) > 0 {
			return fail("session variables in the environment: %s", strings.Join(found, ", "))
		}
		return pass("no session variables among %d", len(s.Environ))
	},
}

var rulePrivilegesDropped = &Rule{
	ID: "DC502", Name: "privileges-dropped", Kind: Static,
	Title: "a daemon that dropped root cannot regain it: no uid or gid 0 left, no effective capabilities",
	Spec:  "daemon(7) SysV step 13",
	SysV:  Warning, Supervised: Warning,
	Doc: `A daemon that starts as root and switches to an unprivileged user must drop
root completely. setuid() to another user from root changes every uid; seteuid()
changes only the effective one, and a daemon that keeps saved uid 0 can switch
back at any time, so an attacker who takes it over has root.

dcheck reads the Uid, Gid, Groups and CapEff lines of /proc/PID/status. A
process running entirely as root is skipped: it has dropped nothing. Any
other process fails if any of its real, effective, saved or file-system uids
or gids is 0, if root's group is among its supplementary groups, or if it has
effective capabilities.`,
	Hint: "drop with setgroups(0), setgid(gid), setuid(uid) in that order (all of real, effective and saved), after opening what needs root",
	Check: func(ev *Evidence, pol *Policy) Result {
		st := ev.Process.Status
		if st.UIDs == [4]int{} {
			return skip("runs as root: there is no privilege to regain")
		}
		var problems []string
		names := [4]string{"real", "effective", "saved", "filesystem"}
		for i, u := range st.UIDs {
			if u == 0 {
				problems = append(problems, names[i]+" uid is 0")
			}
		}
		for i, g := range st.GIDs {
			if g == 0 {
				problems = append(problems, names[i]+" gid is 0")
			}
		}
		if slices.Contains(st.Groups, 0) {
			problems = append(problems, "supplementary groups include 0")
		}
		if st.CapEff != 0 {
			problems = append(problems, fmt.Sprintf("effective capabilities %#x", st.CapEff))
		}
		if len(problems) > 0 {
			return fail("runs as uid %d but %s", st.UIDs[1], strings.Join(problems, ", "))
		}
		return pass("uids %v, gids %v: no way back to root", st.UIDs, st.GIDs)
	},
}

var ruleLogsSomewhere = &Rule{
	ID: "DC503", Name: "logs-somewhere", Kind: Static,
	Title: "its messages go somewhere: stdout/stderr, a log file, or syslog/the journal",
	Spec:  "daemon(7) (logging); syslog(3)",
	SysV:  Info, Supervised: Info,
	Doc: `A daemon has no terminal to complain on. If stdout and stderr go to /dev/null
and it opens no log file and no syslog socket, its errors vanish and nobody
can tell why it misbehaves.

dcheck passes a process whose stdout or stderr is anything but /dev/null, or
that holds a regular file open for writing (other than its pidfile and the
files named with --inherited), or a Unix datagram socket (syslog(3) and the
journal use one).`,
	Hint: "log to syslog(3), the journal, or a log file opened with O_APPEND",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if s.FDsErr != nil {
			return unknown("the descriptors", s.FDsErr)
		}
		for _, n := range []int{1, 2} {
			if d := s.fd(n); d != nil && d.StatErr == nil && !d.IsDevNull() {
				return pass("fd %d goes to %s", n, d.Target)
			}
		}
		for _, d := range s.FDs {
			if d.Num < 3 || d.StatErr != nil {
				continue
			}
			if d.Kind == FDFile && d.Writable() && !(ev.PidFile != nil && d.Is(ev.PidFile.Dev, ev.PidFile.Ino)) &&
				!slices.ContainsFunc(pol.Inherited, func(in FileID) bool { return d.Is(in.Dev, in.Ino) }) {
				return pass("logs to %s (fd %d)", d.Target, d.Num)
			}
			if d.Kind == FDSocket && s.UnixDgram[d.Ino] {
				return pass("holds a Unix datagram socket (fd %d): syslog or the journal", d.Num)
			}
		}
		if s.SocketsErr != nil {
			return unknown("its sockets", s.SocketsErr)
		}
		if r, ok := unreadableFDs(s); ok {
			return r
		}
		return fail("stdout and stderr are /dev/null or closed, and it holds no log file and no syslog or journal socket")
	},
}

// fd returns descriptor n, or nil when it is not open.
func (s *Snapshot) fd(n int) *FD {
	i, ok := slices.BinarySearchFunc(s.FDs, n, func(d FD, n int) int { return d.Num - n })
	if !ok {
		return nil
	}
	return &s.FDs[i]
}

// unreadableFDs is the unknown result for a rule that needs every
// descriptor when some could not be examined (permission denied, most
// often), with the descriptors as ranges: "fd 3-268 (266 descriptors):
// permission denied". ok is false when every descriptor was examined.
func unreadableFDs(s *Snapshot) (Result, bool) {
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
