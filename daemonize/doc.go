// Package daemonize turns a Go program into a classic SysV daemon, the way
// daemon(7) describes one, and proves nothing was skipped: the daemon it
// makes passes every rule of dcheck.
//
// Go cannot fork(2) without exec, so the program re-executes itself, twice.
// Call Daemon.Start early in main; code before it runs in all three
// processes.
//
//	original  (your command)  checks the config; refuses a symlinked pidfile; takes the
//	                          pidfile's lock or reports "already running (pid N)" here, in
//	                          the foreground; makes the readiness pipe; starts stage 1 with
//	                          setsid; waits for the daemon's word; exits 0, or 1 and why
//	stage 1   (session leader) resets ignored signals to SIG_DFL and empties the signal
//	                          mask; marks every inherited descriptor close-on-exec; starts
//	                          stage 2 in "/"; exits, orphaning it
//	stage 2   (the daemon)    removes the stage marker from its environment; sets the umask;
//	                          points stdout and stderr at the log; writes its pid and makes
//	                          it the pidfile; drops privileges; returns to main, which calls
//	                          Ready when it serves
//
// Each step, and the step of daemon(7) "SysV Daemons" it fulfils (and the
// dcheck rule that checks it):
//
//	 1  close all open descriptors but 0-2      stage 1, close_range CLOEXEC         DC205
//	 2  reset all signal handlers to default    stage 1, rt_sigaction on SIG_IGN      DC401
//	 3  reset the signal mask                   stage 1, on the thread that forks     DC401
//	 4  sanitize the environment                Daemon.Env, SanitizedEnv              DC501
//	 5  fork                                    original -> stage 1 (re-exec)         DC101
//	 6  setsid()                                stage 1 (SysProcAttr.Setsid)          DC102
//	 7  fork again, exit the first child        stage 1 -> stage 2; stage 1 exits     DC103, DC104
//	 8  exit in the original process            after READY (step 15)                 DC101
//	 9  connect 0, 1, 2 to /dev/null            stage 1 gives /dev/null; logs in 2    DC203, DC204
//	10  reset the umask                         stage 2, Daemon.Umask (0022 default)  DC202
//	11  chdir("/")                              stage 2 starts in Daemon.Dir or "/"   DC201
//	12  write the pidfile                       stage 2, locked, never empty          DC301-DC303
//	13  drop privileges                         stage 2, Daemon.Credential            DC502
//	14  notify the original process             Ready: READY over the pipe            (SU102)
//	15  exit the original process               after READY, or 1 with the error
//
// In foreground mode (Daemon.Foreground, or NOTIFY_SOCKET set by a
// supervisor) there is no fork: Start takes the pidfile if one is named and
// applies what is configured; Ready sends READY=1 and MAINPID, SIGHUP
// (through SignalContext) sends RELOADING=1 and READY=1 around a reload,
// and Close sends STOPPING=1. With WATCHDOG_USEC set for this process
// (systemd's WatchdogSec=; go-systemd's SdWatchdogEnabled reads it), the
// daemon sends WATCHDOG=1 every half interval from Ready until Close.
// NOTIFY_SOCKET and the WATCHDOG_ variables are removed from the
// environment at Start, so that children never speak in the daemon's name.
//
// StatusOf and Stop serve a daemon's own status and stop commands: a daemon
// runs when its pidfile is locked, never merely when the pid in it exists.
//
// # On darwin and FreeBSD
//
// The same stages run there (re-exec, setsid, "/", umask, stdio, the locked
// pidfile, the readiness pipe, sd_notify where a supervisor asks), with
// these differences:
//
//   - Steps 2 and 3 are not done. Neither system offers, through x/sys, a
//     way to set a signal's disposition or a thread's mask, and Go's runtime
//     keeps a signal that was ignored at start ignored: a daemon started
//     with signals ignored or blocked keeps them. SignalContext still takes
//     SIGTERM, SIGINT and SIGHUP (os/signal installs handlers for them).
//   - Step 1 marks descriptors close-on-exec one fcntl(2) at a time up to
//     the soft RLIMIT_NOFILE, at most 65536 (there is no close_range(2) in
//     x/sys there, nor a /proc to list them).
//   - Stop signals the daemon by pid after a kqueue has seen it alive (there
//     are no pidfds): a pid reused in between could receive the signal.
//   - The exec environment block is not scrubbed of the stage marker
//     (that needs /proc/self/mem); the daemon's own environment is.
package daemonize
