package checks

import (
	"fmt"

	"github.com/dcheck/dcheck/proc"
)

// Session and terminal: DC101-DC104.

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
		if err := s.Gap(proc.FactNamespaces); err != nil {
			return unknown("its pid namespaces, to tell init of its own", err)
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

func parentName(s *proc.Snapshot) string {
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
	Hint:  "call setsid() (which drops the controlling terminal), and open terminals only with O_NOCTTY",
	Needs: []proc.Fact{proc.FactTerminal},
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
