package checks

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

// Signals and children: DC401-DC402.

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
	Hint:  "reset every signal to SIG_DFL and the mask to empty (sigprocmask(SIG_SETMASK, &empty)) before anything else",
	Needs: []proc.Fact{proc.FactSignals},
	Check: func(ev *Evidence, pol *Policy) Result {
		s := ev.Process
		ign, blk := s.Status.SigIgnored, s.Status.SigBlocked
		if ign.Has(unix.SIGTERM) {
			return fail("SIGTERM is ignored: the daemon cannot be stopped cleanly")
		}
		if s.ThreadsErr != nil && blk != 0 {
			// A signal the threads read all block may be open in one not read.
			return unknown("every thread's signal mask", s.ThreadsErr)
		}
		if s.BlockedEverywhere(unix.SIGTERM) && !takesAnyway(s, unix.SIGTERM) {
			w := s.TermWindow
			switch {
			case w != nil && w.Unblocked != 0:
				// Blocked at one instant, not as a policy: thread Unblocked
				// had it open at At.
			case s.Status.SigCaught.Has(unix.SIGTERM):
				return Result{Status: Fail, Severity: Info, Message: fmt.Sprintf("SIGTERM is blocked in every thread%s, but it has a handler: a daemon that unblocks it between waits (around epoll_wait or pselect) takes it there, which /proc cannot show; dcheck verify sends it (SU104)", windowText(w))}
			default:
				return fail("SIGTERM is blocked in every thread%s, and no handler, signalfd or sigwait takes it", windowText(w))
			}
		}
		if pol.Starter != nil {
			var kept []string
			var b proc.SignalSet
			for _, sig := range pol.Starter.Blocked.Signals() {
				if s.BlockedEverywhere(sig) {
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
			if pol.Starter.Blocked == 0 && pol.Starter.Ignored == 0 {
				return pass("SIGTERM reaches it%s; its starter blocked and ignored no signal, so none is inherited", windowOpen(s.TermWindow))
			}
			return pass("SIGTERM reaches it%s; none of the starter's blocked (%s) or ignored (%s) signals remain", windowOpen(s.TermWindow), pol.Starter.Blocked, pol.Starter.Ignored)
		}
		// Supervised, the parent is the starter: what it ignores and the
		// daemon still ignores was inherited (SIGPIPE is exempt).
		if pol.Profile == ProfileSupervised && s.Parent != nil {
			// The standard signals only: 32 and up are glibc's own and
			// real-time signals, which a starter's runtime may leave ignored.
			const standard = proc.SignalSet(1)<<31 - 1
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
		var everywhere proc.SignalSet
		for _, sig := range blk.Signals() {
			if s.BlockedEverywhere(sig) {
				everywhere |= sigBit(sig)
			}
		}
		return pass("SIGTERM reaches it%s (blocked in every thread: %s; ignored: %s)", windowOpen(s.TermWindow), everywhere, ign)
	},
}

// text says what a window of looks saw, for a message.
func windowText(w *proc.SignalWindow) string {
	if w == nil {
		return ""
	}
	return fmt.Sprintf(" at each of %d looks over %v", w.Looks+1, w.Span.Round(time.Millisecond))
}

// open says when a window saw SIGTERM unblocked, for a pass message.
func windowOpen(w *proc.SignalWindow) string {
	if w == nil || w.Unblocked == 0 {
		return ""
	}
	return fmt.Sprintf(" (blocked in every thread at the first look, unblocked in thread %d %v later)", w.Unblocked, w.At.Round(time.Millisecond))
}

func sigBit(sig unix.Signal) proc.SignalSet { return 1 << (uint(sig) - 1) }

// takesAnyway reports whether a blocked sig is still taken: by a signalfd
// or a thread sleeping in sigwait/sigtimedwait.
func takesAnyway(s *proc.Snapshot, sig unix.Signal) bool {
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
