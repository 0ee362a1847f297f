package suites

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
// the inactive unit (sdemu.StartPre).
func (h *harness) prepareUnit() error {
	return sdemu.StartPre(h.unit(), unitManager{h}, &h.runtime, h.cfg.StartTimeout)
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

// stopUnit stops pid as systemd stops the unit's main process
// (sdemu.Stop). (stopDaemon says how, in the words of the stop facts.)
func (h *harness) stopUnit(pid int, name string) error {
	return sdemu.Stop(h.unit(), unitManager{h}, pid, name, h.cfg.StopTimeout)
}

// afterUnitStop is what systemd does once the main process has exited
// (sdemu.AfterStop); the survivors it killed are recorded for SU108
// (unitManager.Survived).
func (h *harness) afterUnitStop(main int) {
	sdemu.AfterStop(h.unit(), unitManager{h}, main, h.cfg.StopTimeout)
}

// reloadUnit reloads as systemd does (sdemu.Reload); it says how, or why
// it cannot.
func (h *harness) reloadUnit(pid int) (string, error) {
	return sdemu.Reload(h.unit(), unitManager{h}, pid, h.cfg.StartTimeout)
}

// unitManager is the harness as the sequences of sdemu see it.
type unitManager struct{ h *harness }

func (m unitManager) Run(c unitfile.Command, name string, env []string, timeout time.Duration) error {
	code, timedOut, err := m.h.runUnitCmd(c, name, env, timeout)
	if err == nil && !timedOut && code == 0 {
		return nil
	}
	return errors.New(ended(code, timedOut, err, timeout) + m.h.printed(name))
}

func (m unitManager) Signal(pid int, sig unix.Signal) error { return m.h.signal(pid, sig) }
func (m unitManager) Group(main int) []int                  { return m.h.unitGroup(main) }
func (m unitManager) Alive(pid int) bool                    { return alive(pid) }

// Survived records the survivors by pid and name, while they still run.
func (m unitManager) Survived(pids []int) {
	desc := make([]string, len(pids))
	for i, p := range pids {
		desc[i] = fmt.Sprintf("%d (%s)", p, commOf(p))
	}
	m.h.mu.Lock()
	defer m.h.mu.Unlock()
	m.h.stopSurvivors = append(m.h.stopSurvivors, desc...)
}
func (m unitManager) WaitExit(pid int, timeout time.Duration) bool {
	exited, _ := m.h.waitExit(pid, timeout)
	return exited
}

// removeRuntimeDirs removes the runtime directories the run created, as
// systemd does when the service stops, and gives those that were there
// their mode and owner back.
func (h *harness) removeRuntimeDirs() {
	for _, err := range h.runtime.Remove() {
		fmt.Fprintf(h.cfg.Out, "cleanup: RuntimeDirectory=: %v\n", err)
	}
}
