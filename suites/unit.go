package suites

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/suites/internal/sdemu"
	"github.com/dcheck/dcheck/unitfile"
)

// Running a service unit as systemd would (dcheck verify --unit): each
// command prepared by sdemu.Command (a session of its own, systemd's
// environment, User=, Group=, WorkingDirectory=) with its output in a
// file of the run (the journal's stand-in), started with UMask=; before
// ExecStart=, RuntimeDirectory= and ExecStartPre=; the stop by ExecStop=
// then KillSignal= and KillMode=, the reload by ExecReload=.

// unit is the service unit the run follows, or nil.
func (h *harness) unit() *unitfile.Service { return h.cfg.service }

// unitCmd prepares (does not start) one of the unit's commands, after
// prefix (a barrier), with extra environment (sdemu.Command): its output
// goes to the run's file name.out.
func (h *harness) unitCmd(c unitfile.Command, name string, main bool, prefix []string, extra []string, files ...*os.File) (*exec.Cmd, error) {
	// Closed by startUnitCmd once the command has started: a file closed
	// before would leave the command's stdout and stderr closed.
	out, err := os.OpenFile(filepath.Join(h.dir, name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	x := sdemu.Exec{Main: main, Notify: h.notify.Addr(), Sockets: h.sockets, Env: append(extra, markerEnv+"="+h.runID),
		Prefix: prefix, Files: files, Out: out}
	if h.cfg.socket != nil {
		x.FDName = h.cfg.socket.FDName()
	}
	cmd, err := sdemu.Command(h.unit(), c, x)
	if err != nil {
		out.Close()
		return nil, err
	}
	return cmd, nil
}

// startUnitCmd starts a prepared unit command with the unit's umask, and
// closes the harness's copy of its output file. role is what the command
// is to NotifyAccess=.
func (h *harness) startUnitCmd(cmd *exec.Cmd, role sdemu.Role) error {
	if f, ok := cmd.Stdout.(*os.File); ok {
		defer f.Close()
	}
	return sdemu.WithUmask(uint32(h.unit().Umask()), func() error { return h.startCmdAs(cmd, role) })
}

// prepareUnit is what systemd does before ExecStart=, on every start of
// the inactive unit: the runtime directories, then each ExecStartPre= in
// order. A failing one (without the "-" prefix) fails the start.
func (h *harness) prepareUnit() error {
	svc := h.unit()
	if err := h.runtime.Prepare(svc); err != nil {
		return err
	}
	for i, c := range svc.ExecStartPre {
		name := fmt.Sprintf("exec-start-pre-%d", i+1)
		code, timedOut, err := h.runUnitCmd(c, name, nil, h.cfg.StartTimeout)
		if err == nil && !timedOut && code == 0 || c.IgnoreFailure {
			continue
		}
		return fmt.Errorf("ExecStartPre=%s %s%s", c.Line, ended(code, timedOut, err, h.cfg.StartTimeout), h.printed(name))
	}
	return nil
}

// runUnitCmd runs one of the unit's commands to its end, up to timeout.
func (h *harness) runUnitCmd(c unitfile.Command, name string, extra []string, timeout time.Duration) (int, bool, error) {
	cmd, err := h.unitCmd(c, name, false, nil, extra)
	if err != nil {
		return -1, false, err
	}
	if err := h.startUnitCmd(cmd, sdemu.Control); err != nil {
		return -1, false, err
	}
	defer h.notify.Ended(cmd.Process.Pid)
	return h.waitCmd(cmd, timeout)
}

// launchStart starts the daemon's start command (after prefix, a barrier)
// as the run's configuration says: the unit's ExecStart=, or Start as a
// supervisor would.
func (h *harness) launchStart(name string, prefix []string, files ...*os.File) (*exec.Cmd, error) {
	if h.unit() == nil {
		return h.launchPlain(append(prefix[:len(prefix):len(prefix)], h.cfg.Start...), name, files...)
	}
	cmd, err := h.unitCmd(h.unit().ExecStart[0], name, true, prefix, nil, files...)
	if err != nil {
		return nil, err
	}
	return cmd, h.startUnitCmd(cmd, sdemu.Main)
}

// unitGroup lists what systemd's control group for the service would hold
// besides main: main's descendants, the daemon's session, what the harness
// adopted, and what carries the run's marker there.
func (h *harness) unitGroup(main int) []int {
	var out []int
	add := func(pids []int) {
		for _, p := range pids {
			if p != main && !slices.Contains(out, p) && alive(p) {
				out = append(out, p)
			}
		}
	}
	add(descendantsOf(main))
	add(h.sessionMembers(h.daemonSID))
	add(h.adopted())
	add(h.marked(h.daemonSID))
	slices.Sort(out)
	return out
}

// stopUnit stops pid as systemd stops the unit's main process: each
// ExecStop= with $MAINPID, then KillSignal= if it still runs, and to the
// rest of the group with KillMode=control-group. (stopDaemon says how, in
// the words of the stop facts.)
func (h *harness) stopUnit(pid int, name string) error {
	svc := h.unit()
	for i, c := range svc.ExecStop {
		n := fmt.Sprintf("%s-exec-stop-%d", name, i+1)
		code, timedOut, err := h.runUnitCmd(c, n, []string{"MAINPID=" + strconv.Itoa(pid)}, h.cfg.StopTimeout)
		if (err != nil || timedOut || code != 0) && !c.IgnoreFailure {
			return fmt.Errorf("ExecStop=%s %s%s", c.Line, ended(code, timedOut, err, h.cfg.StopTimeout), h.printed(n))
		}
	}
	if svc.Mode() == "control-group" {
		for _, p := range h.unitGroup(pid) {
			h.signal(p, svc.Signal())
		}
	}
	if alive(pid) && svc.Mode() != "none" {
		if err := h.signal(pid, svc.Signal()); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("%s to pid %d: %w", unix.SignalName(svc.Signal()), pid, err)
		}
	}
	return nil
}

// afterUnitStop is what systemd does once the main process has exited:
// with KillMode=mixed, SIGKILL to the rest of the group; with
// control-group, wait up to the stop timeout for the rest to end, then
// SIGKILL what survived (recorded for SU108 to report).
func (h *harness) afterUnitStop(main int) {
	switch h.unit().Mode() {
	case "mixed":
		for round := 0; round < 10; round++ {
			group := h.unitGroup(main)
			if len(group) == 0 {
				return
			}
			for _, p := range group {
				h.signal(p, unix.SIGKILL)
			}
			for _, p := range group {
				h.waitExit(p, 5*time.Second)
			}
		}
	case "control-group":
		for _, p := range h.unitGroup(main) {
			h.waitExit(p, h.cfg.StopTimeout)
		}
		// What is still there, systemd kills with SIGKILL once
		// TimeoutStopSec= is over (unless SendSIGKILL=no): SU108 is told
		// of it first, and nothing else is sent (a SIGTERM from the
		// run's cleanup reached a KillSignal=SIGINT unit's survivor,
		// which systemd 252 never sends it: supervisor/oracle_test.go).
		survivors := h.unitGroup(main)
		h.mu.Lock()
		for _, p := range survivors {
			h.stopSurvivors = append(h.stopSurvivors, fmt.Sprintf("%d (%s)", p, commOf(p)))
		}
		h.mu.Unlock()
		if !h.unit().NoSIGKILL {
			for _, p := range survivors {
				h.signal(p, unix.SIGKILL)
			}
			for _, p := range survivors {
				h.waitExit(p, 5*time.Second)
			}
		}
	}
}

// reloadUnit reloads as systemd does: each ExecReload= with $MAINPID, or
// SIGHUP for Type=notify-reload without one. It says how, or why it
// cannot.
func (h *harness) reloadUnit(pid int) (string, error) {
	svc := h.unit()
	if len(svc.ExecReload) == 0 {
		if svc.Type == unitfile.NotifyReload {
			return "SIGHUP (Type=notify-reload)", h.signal(pid, unix.SIGHUP)
		}
		return "", errNoReload
	}
	var lines []string
	for i, c := range svc.ExecReload {
		n := fmt.Sprintf("exec-reload-%d", i+1)
		code, timedOut, err := h.runUnitCmd(c, n, []string{"MAINPID=" + strconv.Itoa(pid)}, h.cfg.StartTimeout)
		if (err != nil || timedOut || code != 0) && !c.IgnoreFailure {
			return "", fmt.Errorf("ExecReload=%s %s%s", c.Line, ended(code, timedOut, err, h.cfg.StartTimeout), h.printed(n))
		}
		lines = append(lines, c.Line)
	}
	return "ExecReload=" + strings.Join(lines, "; "), nil
}

var errNoReload = errors.New("the unit has no ExecReload= and is not Type=notify-reload")

// removeRuntimeDirs removes the runtime directories the run created, as
// systemd does when the service stops, and gives those that were there
// their mode and owner back.
func (h *harness) removeRuntimeDirs() {
	for _, err := range h.runtime.Remove() {
		fmt.Fprintf(h.cfg.Out, "cleanup: RuntimeDirectory=: %v\n", err)
	}
}
