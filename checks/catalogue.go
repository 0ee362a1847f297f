package checks

// The catalogue: every rule in ID order, the lifecycle rules (judged by the
// suites) among them.

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
