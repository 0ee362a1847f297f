package sdemu

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/dcheck/dcheck/unitfile"
)

// Exec is what a command of a unit is run with besides the unit's own
// settings. The zero value runs an Exec*= command other than ExecStart=,
// offered no notify socket, with stdout and stderr closed.
type Exec struct {
	// Main says the command is ExecStart=: it gets WATCHDOG_USEC and
	// WATCHDOG_PID (with WatchdogSec=) and the sockets.
	Main bool
	// Notify is the notify socket's path; "" offers none. It is given to
	// the commands NotifyAccess= hears (unitfile.NotifyAccess.Hears).
	Notify string
	// Sockets are passed to the main process first, as descriptors 3,
	// 4, ..., with LISTEN_FDS, LISTEN_FDNAMES (each FDName) and LISTEN_PID.
	Sockets []ListeningSocket
	FDName  string
	// Env is more environment, after the unit's (MAINPID= for ExecStop=).
	Env []string
	// Prefix is a command the unit's is run through (a barrier that waits
	// before it execs the rest); nil runs it directly.
	Prefix []string
	// Files are more descriptors, after the sockets.
	Files []*os.File
	// Out is the command's stdout and stderr: the journal's stand-in.
	Out *os.File
}

// Command prepares (does not start) the unit's command c as systemd 252
// runs it: in a session of its own; stdin /dev/null; systemd's PATH, then
// Environment= and EnvironmentFile=, PIDFILE= with PIDFile=, NOTIFY_SOCKET
// to whom NotifyAccess= hears, WATCHDOG_USEC and WATCHDOG_PID with
// WatchdogSec=, the sockets with LISTEN_FDS, LISTEN_FDNAMES and
// LISTEN_PID; $VAR and ${VAR} in its words from that environment; User=
// and Group= (unless the command's "+" or "!" prefix keeps root);
// WorkingDirectory= ("~" the user's home, "-" optional), else /. Start it
// with the unit's UMask= (WithUmask). What systemd 252 gives is compared
// with this in supervisor/oracle_test.go.
func Command(svc *unitfile.Service, c unitfile.Command, x Exec) (*exec.Cmd, error) {
	var extra []string
	if x.Notify != "" && svc.Access().Hears(x.Main) {
		extra = append(extra, "NOTIFY_SOCKET="+x.Notify)
	}
	var pidVars []string
	if x.Main && svc.Watchdog > 0 {
		extra = append(extra, fmt.Sprintf("WATCHDOG_USEC=%d", svc.Watchdog.Microseconds()))
		pidVars = append(pidVars, "WATCHDOG_PID")
	}
	files := x.Files
	if x.Main && len(x.Sockets) > 0 {
		names := make([]string, len(x.Sockets))
		socks := make([]*os.File, len(x.Sockets))
		for i, s := range x.Sockets {
			names[i], socks[i] = x.FDName, s.File
		}
		extra = append(extra, "LISTEN_FDS="+strconv.Itoa(len(x.Sockets)), "LISTEN_FDNAMES="+strings.Join(names, ":"))
		files = append(socks, files...)
		pidVars = append(pidVars, "LISTEN_PID")
	}
	if svc.PIDFile != "" {
		extra = append(extra, "PIDFILE="+svc.PIDFile)
	}
	env, err := svc.Env(append(extra, x.Env...)...)
	if err != nil {
		return nil, err
	}
	prefix := x.Prefix[:len(x.Prefix):len(x.Prefix)]
	if len(pidVars) > 0 {
		keepPWD := slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "PWD=") })
		prefix = append(prefix, pidShim(pidVars, keepPWD)...)
	}
	path, argv, err := c.Expand(unitfile.EnvMap(env))
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Env: env, ExtraFiles: files}
	if x.Out != nil {
		cmd.Stdout, cmd.Stderr = x.Out, x.Out
	}
	if len(prefix) > 0 {
		cmd.Path, cmd.Args = prefix[0], append(append(prefix, path), argv[1:]...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	home := "/root"
	if (svc.User != "" || svc.Group != "") && !c.FullPrivileges && !c.KeepsRoot {
		cred, dir, err := Credential(svc.User, svc.Group)
		if err != nil {
			return nil, err
		}
		cmd.SysProcAttr.Credential, home = cred, dir
	}
	switch d := svc.WorkingDirectory; {
	case d == "":
		cmd.Dir = "/"
	case d == "~":
		cmd.Dir = home
	default:
		cmd.Dir = d
		if _, err := os.Stat(d); err != nil && svc.WorkingDirectoryOptional {
			cmd.Dir = "/"
		}
	}
	return cmd, nil
}

// pidShim sets each of vars (LISTEN_PID, WATCHDOG_PID) to the shell's own
// pid, which the exec gives the daemon: os/exec cannot set an environment
// variable after the fork, and sd_listen_fds(3) ignores the descriptors
// without LISTEN_PID. The shell would also export PWD, which systemd never
// sets: it is unset again unless the unit's environment has it.
func pidShim(vars []string, keepPWD bool) []string {
	var script strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&script, "%s=$$; export %s; ", v, v)
	}
	if !keepPWD {
		script.WriteString("unset PWD; ")
	}
	script.WriteString(`exec "$@"`)
	return []string{"/bin/sh", "-c", script.String(), "sh"}
}
