package checks

import "fmt"

// A systemd service: DC601.

var ruleUnitMainPID = &Rule{
	ID: "DC601", Name: "unit-main-pid", Kind: Static,
	Title: "under a systemd service, it is the process systemd tracks as the unit's main process (MainPID)",
	Spec:  "systemd.service(5) Type=, PIDFile=, GuessMainPID=; daemon(7) New-Style Daemons",
	SysV:  Error, Supervised: Error,
	Doc: `systemd stops, restarts, reloads and watches a service through its main
process, MainPID: the started process for Type=simple, exec, notify and dbus,
the one the pidfile names (or the one it guesses) for Type=forking. A daemon
whose unit says otherwise than it does escapes it: a program that forks into
the background under Type=simple leaves systemd tracking a process that has
exited (the unit reads as stopped, or is restarted beside the daemon, while
the real daemon lives on in the unit's control group); a Type=forking unit
whose PIDFile= names another process makes systemctl stop and the watchdog
act on that one.

dcheck judges each process of a service's control group that was adopted by
the service manager (its parent is systemd) against the unit's MainPID and
ControlPID, as systemd reports them over D-Bus. It passes the main process,
skips the unit's control process (an ExecStartPre=, ExecReload= or ExecStop=
command running), and fails any other. Skipped outside a systemd service;
unknown when systemd could not be asked (only the unit file was read).`,
	Hint: "make Type= say how the program starts: Type=forking with PIDFile= for one that detaches, Type=simple, exec or notify with its run-in-the-foreground option for one that does not",
	Check: func(ev *Evidence, pol *Policy) Result {
		sup := ev.Supervision
		if sup == nil || sup.Unit == "" || sup.Kind != SupervisorSystemd && sup.Kind != SupervisorSystemdUser {
			return skip("not run by a systemd service")
		}
		pid := ev.Process.PID
		if !sup.FromManager {
			return unknown(sup.Unit+"'s MainPID", fmt.Errorf("systemd could not be asked, only %s was read", sup.Source))
		}
		switch {
		case pid == sup.MainPID:
			return pass("systemd tracks it as %s's MainPID (Type=%s)", sup.Unit, sup.Type)
		case pid == sup.ControlPID:
			return skip("it is %s's control process (ControlPID %d), a command systemd runs, not the daemon", sup.Unit, pid)
		case sup.MainPID == 0:
			return fail("it lives in %s's control group, but systemd tracks no main process there (Type=%s): the unit reads as not running while this process does", sup.Unit, sup.Type)
		}
		return fail("it lives in %s's control group, adopted by systemd, but systemd tracks MainPID %d (Type=%s): stop, restart and the watchdog act on that one", sup.Unit, sup.MainPID, sup.Type)
	},
}
