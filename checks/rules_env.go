package checks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dcheck/dcheck/internal/sessionenv"
	"github.com/dcheck/dcheck/proc"
)

// Environment, privileges and logging: DC501-DC503.

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
	Hint:  "drop with setgroups(0), setgid(gid), setuid(uid) in that order (all of real, effective and saved), after opening what needs root",
	Needs: []proc.Fact{proc.FactCredentials, proc.FactCapabilities},
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
files named with --inherited), or a Unix datagram socket connected to syslog
or the journal: to /dev/log (or a dev/log inside a chroot) or one of
/run/systemd/journal/{dev-log,socket,syslog}, as the kernel's unix_diag
tells (what ss -x reads). A datagram socket of its own (bound: a control or
notify socket) or connected elsewhere is no log; one connected nowhere may be
sd_journal_send(3)'s, which names its destination per message, so the
finding is unknown. A process in another network namespace than dcheck's has
its sockets' peers unknown.`,
	Hint: "log to syslog(3), the journal, or a log file opened with O_APPEND",
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		if s.FDsErr != nil {
			return unknown("the descriptors", s.FDsErr)
		}
		for _, n := range []int{1, 2} {
			if d := s.Descriptor(n); d != nil && d.StatErr == nil && !d.IsDevNull() {
				return pass("fd %d goes to %s", n, d.Target)
			}
		}
		var dgram, loose []string // its datagram sockets that are no log; those connected nowhere
		peersUnknown := false
		for _, d := range s.FDs {
			if d.Num < 3 || d.StatErr != nil {
				continue
			}
			if d.Kind == proc.FDFile && d.Writable() && !(ev.PidFile != nil && d.Is(ev.PidFile.Dev, ev.PidFile.Ino)) &&
				!slices.ContainsFunc(pol.Inherited, func(in FileID) bool { return d.Is(in.Dev, in.Ino) }) {
				return pass("logs to %s (fd %d)", d.Target, d.Num)
			}
			if d.Kind != proc.FDSocket || !s.UnixDgram[d.Ino] {
				continue
			}
			p, ok := s.DgramPeers[d.Ino]
			switch {
			case !ok:
				peersUnknown = true
			case p.Connected && isLogSocket(p.PeerPath):
				return pass("logs to %s (fd %d, a Unix datagram socket connected to it)", p.PeerPath, d.Num)
			case p.Bound != "":
				dgram = append(dgram, fmt.Sprintf("fd %d is its own socket %s", d.Num, p.Bound))
			case p.Connected && p.PeerPath != "":
				dgram = append(dgram, fmt.Sprintf("fd %d is connected to %s", d.Num, p.PeerPath))
			case p.Connected:
				dgram = append(dgram, fmt.Sprintf("fd %d is connected to an unbound socket (a socketpair)", d.Num))
			default:
				loose = append(loose, fmt.Sprintf("fd %d", d.Num))
			}
		}
		if s.SocketsErr != nil {
			return unknown("its sockets", s.SocketsErr)
		}
		if peersUnknown {
			return unknown("where its Unix datagram sockets are connected", s.PeersErr)
		}
		if r, ok := unreadableFDs(s); ok {
			return r
		}
		if len(loose) > 0 {
			return Result{Status: Unknown, Message: fmt.Sprintf("stdout and stderr are /dev/null or closed, and no log file or syslog socket is held; %s: a Unix datagram socket connected nowhere, as sd_journal_send(3) uses to reach the journal, naming it per message: where it sends cannot be seen", listAtMost(loose))}
		}
		if len(dgram) > 0 {
			return fail("stdout and stderr are /dev/null or closed, and it holds no log file and no syslog or journal socket (%s)", listAtMost(dgram))
		}
		return fail("stdout and stderr are /dev/null or closed, and it holds no log file and no syslog or journal socket")
	},
}

// logSockets are the journal's sockets, and where syslog daemons listen
// under it.
var logSockets = []string{"/run/systemd/journal/dev-log", "/run/systemd/journal/socket", "/run/systemd/journal/syslog"}

// isLogSocket reports whether a datagram socket's peer is syslog or the
// journal: one of logSockets, /dev/log, or a dev/log inside a chroot (the
// extra sockets syslog daemons bind for chrooted daemons, as Debian's
// rsyslog does for haproxy at /var/lib/haproxy/dev/log).
func isLogSocket(peer string) bool {
	return slices.Contains(logSockets, peer) || peer == "/dev/log" || strings.HasSuffix(peer, "/dev/log")
}
