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
	ruleUnitMainPID,
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
it should say so with a non-zero exit (exit 0 is reported as a warning),
except under --init-script, where LSB asks "start" to exit 0 when the
daemon already runs (SU120).`,
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
careless "stop" signals an unrelated process. When the first daemon's
pidfile is gone before its stop (a second start, SU103, removed it), the spec
starts a daemon of its own, stops it, and judges that, saying so.`,
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
session. Under --unit, KillMode= decides as it does for systemd:
control-group sends KillSignal= to the whole group and mixed SIGKILLs the
rest once the main process has exited, and what survives fails; process and
none leave the rest running by the unit's choice, which is noted.`,
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
as for SU103, but under --init-script, where LSB asks for 0). The winner is then stopped.

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
	unitRule("SU113", "type-matches", "unit: the daemon does what its Type= tells systemd to expect",
		"systemd.service(5) Type=, PIDFile=, NotifyAccess=", Error, Error,
		`systemd decides from Type= when a service has started and which process is
its main one. A mismatch breaks the service in ways that look like flakiness:
Type=forking for a program that stays in the foreground times out and is
killed; Type=simple for one that forks loses it at once; Type=notify for one
that never sends READY=1 fails after TimeoutStartSec.

The suite starts ExecStart= as systemd would and checks, for forking: the
start command exits 0 and, at that instant, PIDFile= (when set) names the
live daemon (SU102's causal look); for simple and exec: the started process
is the daemon and stays; for notify and notify-reload: it stays, and READY=1
arrives within the start timeout from a process the unit's NotifyAccess= lets
systemd hear (with main, the default, the main pid alone; a READY=1 from
another process is not heard, and the failure names it). With --probe ADDR (the address the daemon serves), forking
and notify daemons must also take a connection there at the moment they say
they are ready (the start's exit, READY=1): one that says so before it
listens makes systemd start its dependents too early.`,
		"make Type= say what the program does: forking only if it detaches and writes PIDFile= first; notify only if it sends READY=1 itself"),
	unitRule("SU114", "watchdog", "unit: with WatchdogSec=, WATCHDOG=1 arrives at least every WatchdogSec/2 for three periods",
		"systemd.service(5) WatchdogSec=; sd_watchdog_enabled(3)", Off, Error,
		`With WatchdogSec= systemd expects WATCHDOG=1 more often than that and kills
the service (SIGABRT) when a period passes without one. sd_watchdog_enabled(3)
asks for one every half period, so that a late tick is not fatal.

The suite passes WATCHDOG_USEC as systemd does, and watches three periods
from readiness, timing each ping by its arrival in the socket: a gap longer
than WatchdogSec fails (systemd would have killed it); pings usually (the
median) more than three quarters of it apart are a warning (half, with a
quarter for scheduling: a daemon that pings at exactly half is on time, and
one late tick on a busy machine is not a slow cadence). A gap is unknown, not
a failure, when the daemon's threads spent enough of it waiting for a CPU
(their schedstat, sampled from the launch) that without the wait it would
have been within WatchdogSec: that lateness is the machine's.`,
		"send WATCHDOG=1 every WATCHDOG_USEC/2 from a loop that only runs while the daemon works (go-systemd's SdWatchdogEnabled tells the interval)"),
	unitRule("SU115", "reload-notified", "unit: a notify daemon announces a reload with RELOADING=1 and MONOTONIC_USEC, then READY=1, as the same main pid",
		"sd_notify(3) RELOADING=1; systemd.service(5) Type=notify-reload, ExecReload=", Off, Error,
		`A reload is over when the daemon says so. With Type=notify-reload systemd
sends SIGHUP and waits for RELOADING=1 (with MONOTONIC_USEC, the time the
reload began, since systemd 253) and then READY=1; without them "systemctl
reload" hangs until it times out. With Type=notify and ExecReload= systemd
does not wait, but cannot tell when the new configuration is in force.

The suite reloads as the unit says (ExecReload= with $MAINPID, or SIGHUP for
notify-reload) and waits, up to the start timeout, for RELOADING=1 then
READY=1 from the main pid. Missing ones fail under Type=notify-reload and
are a warning under Type=notify, where MONOTONIC_USEC is not asked for.`,
		"on SIGHUP: send RELOADING=1 and MONOTONIC_USEC=<CLOCK_MONOTONIC in µs>, reload, then READY=1"),
	unitRule("SU116", "stopping-notified", "unit: a notify daemon sends STOPPING=1 when told to stop, and exits within TimeoutStopSec=",
		"sd_notify(3) STOPPING=1; systemd.service(5) TimeoutStopSec=", Off, Warning,
		`A Type=notify daemon tells systemd it is shutting down with STOPPING=1, so
that the service shows as deactivating and nothing is sent to it meanwhile.
Without it, a slow shutdown looks like a hang.

The suite stops the daemon as systemd does (ExecStop=, then KillSignal=) and
looks for STOPPING=1 from the main pid between the stop and its exit. Only
for Type=notify and notify-reload; the exit itself is SU104's.`,
		"send STOPPING=1 as soon as the stop signal arrives, then shut down"),
	socketRule("SU117", "socket-activation", "socket unit: the daemon accepts on the sockets it is passed, and opens no listening socket of its own",
		"sd_listen_fds(3); systemd.socket(5) Accept=no; daemon(7) Socket-Based Activation", Error, Error,
		`With socket activation systemd opens the listening sockets itself, before
the daemon runs, and passes them as descriptors 3, 4, ... with LISTEN_FDS,
LISTEN_FDNAMES and LISTEN_PID. Clients can connect at once: their
connections wait in the socket's queue until the daemon accepts them, so
nothing needs to be ordered after the daemon and it can be restarted
without refusing a single connection. A daemon that ignores the variables
and binds its own socket either fails (the address is taken) or listens
somewhere else while clients queue on a socket nobody serves.

The suite opens the socket unit's ListenStream= sockets as systemd does,
once for the run, and passes them to every start of ExecStart=. With the
daemon running it checks that the daemon (its main pid or a descendant)
still holds each passed socket, connects to each as a client and waits up
to the start timeout for the connection to be accepted (the accepted socket
among the daemon's descriptors, or an answer, or the connection closed by
the daemon), and lists the listening sockets the daemon opened itself: with
the passed ones served that is a warning, else a failure.`,
		"call sd_listen_fds() (go-systemd's activation.Listeners) and serve the descriptors it returns; bind your own socket only when it returns none"),
	socketRule("SU118", "socket-file-kept", "socket unit: the daemon's exit leaves the socket files it was passed in place",
		"systemd.socket(5) ListenStream=, RemoveOnStop=; daemon(7) Socket-Based Activation", Error, Error,
		`A file system socket that systemd passes belongs to the socket unit, not
to the service: systemd made it, keeps the listening socket open while the
service stops and starts again, and removes the file only when the socket
unit itself stops (RemoveOnStop=). A daemon that unlinks the path on exit,
as its own socket code would (Go's net.UnixListener does on Close when it
made the socket), leaves systemd holding a socket nobody can reach: every
client that connects by path fails until the socket unit is restarted by
hand.

The suite records the device and inode of each file system socket it
binds for the run. After the daemon's stop (SU104) each must still be
there, the same file. Abstract and network sockets have no file: with none
of the others the spec is skipped.`,
		"leave a socket you were passed alone on exit, and unlink only the socket files you bound yourself (Go's listeners from activation.Listeners keep the file unless SetUnlinkOnClose(true) is called)"),
	lsb("SU120", "lsb-start", "init script: start exits 0, and exits 0 again while the daemon runs, starting nothing",
		`Init scripts are driven by tools that read their exit status: the boot, the
package's postinst, configuration management. LSB asks "start" to exit 0
when the service was started, and also when it was already running: a
second "start" is a success that changes nothing. A script that exits 1
there makes every "ensure running" step fail on a healthy host.

The suite's first start is the script's "start" on the hostile terminal
(SU101 judges it); this spec runs "start" again while the daemon runs: it
must exit 0 and leave the daemon, its pidfile and the process count as
they were.`,
		"treat \"already running\" as success in start (start-stop-daemon --start --oknodo, or status first)"),
	lsb("SU121", "lsb-stop", "init script: stop exits 0, and exits 0 again when the daemon is already stopped",
		`LSB asks "stop" to exit 0 when the service was stopped, and also when it was
not running. A script that exits 1 for "not running" fails package upgrades
and removals (the prerm stops the service) and every shutdown sequence that
stops it twice.

The suite stops the daemon with the script's "stop" (SU104 judges that the
daemon exits), then runs "stop" again with nothing running.`,
		"treat \"not running\" as success in stop (start-stop-daemon --stop --oknodo)"),
	lsb("SU122", "lsb-status", "init script: status exits 0 while running, 3 when stopped, 1 when dead with its pidfile left",
		`Monitoring, configuration management and the "restart only if running"
logic of package scripts read "status" by its exit code: 0 running, 1 dead
with a pidfile left, 3 not running (4 unknown). A status that says 0 for a
dead daemon hides a crash; one that cannot tell "crashed" from "stopped"
hides it too.

With the daemon stopped and no pidfile, the suite runs "status" (want 3);
after "start" (want 0); after kill -9 of the daemon, the pidfile left
behind (want 1). It then removes that pidfile.`,
		"exit 0 running, 1 dead with a pidfile, 3 stopped (status_of_proc -p PIDFILE, or pidofproc)"),
	lsb("SU123", "lsb-restart", "init script: restart and force-reload exit 0 and leave one running daemon; restart runs a new pid",
		`LSB requires "restart" (stop, then start, even when stopped) and
"force-reload" (reload if the daemon can, restart otherwise). A restart that
does not wait for the old daemon to exit either starts nothing (the old one
still holds the lock) or starts a second one.

With the daemon running, the suite runs "restart" (exit 0, the old pid gone,
a new pid in the pidfile, no second daemon), then "force-reload" (exit 0,
one daemon running, same pid or new), then "reload" when the script
implements it (exit 0, one daemon running, same pid or one it handed over
to; exit 3, or the exit of an unknown action, says it is not implemented).`,
		"restart: stop, wait until the old daemon has exited, start; implement force-reload"),
	lsb("SU124", "lsb-usage", "init script: an unknown action exits 2 or 3 and starts nothing",
		`LSB: an action the script does not know exits 2 (invalid argument) or 3
(unimplemented feature). A script that prints its usage and exits 0 makes a
mistyped action look like a success to every tool that runs it.

The suite runs the script with an action no script implements.`,
		"print the usage and exit 2 on an unknown action"),
}

// socketRule makes a lifecycle rule judged only when a socket unit passes
// the daemon its sockets (dcheck verify --unit --socket).
func socketRule(id, name, title, spec string, sysv, supervised Severity, doc, hint string) *Rule {
	r := lifecycle(id, name, title, spec, sysv, supervised, doc, hint)
	r.Mode = ModeSocket
	return r
}

// unitRule makes a lifecycle rule judged only when a systemd unit drives
// the daemon (dcheck verify --unit).
func unitRule(id, name, title, spec string, sysv, supervised Severity, doc, hint string) *Rule {
	r := lifecycle(id, name, title, spec, sysv, supervised, doc, hint)
	r.Mode = ModeUnit
	return r
}

// lsb makes a lifecycle rule judged only when an LSB init script drives
// the daemon (dcheck verify --init-script).
func lsb(id, name, title, doc, hint string) *Rule {
	r := lifecycle(id, name, title, "LSB Core 5.0, Init Script Actions", Error, Off, doc, hint)
	r.Mode = ModeInitScript
	return r
}

// lifecycle makes a rule judged by the suites rather than from /proc.
func lifecycle(id, name, title, spec string, sysv, supervised Severity, doc, hint string) *Rule {
	return &Rule{ID: id, Name: name, Title: title, Spec: spec, Kind: Lifecycle,
		SysV: sysv, Supervised: supervised, Doc: doc, Hint: hint}
}
