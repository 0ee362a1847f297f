package sdemu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/unitfile"
)

// The sequences systemd 252 runs for a service: what comes before
// ExecStart=, the stop and what follows the main process's exit, the
// reload. Each is compared with the real systemd in
// supervisor/oracle_test.go; where they disagree, the real one is right.

// Manager is what the sequences need of the supervisor that runs them
// (the harness): it runs the unit's commands, signals and waits for the
// unit's processes, and knows its control group.
type Manager interface {
	// Run runs one of the unit's commands other than ExecStart= to its
	// end, up to timeout, with more environment. Its output goes to a file
	// of the run called name. A nil error means it exited 0; otherwise the
	// error says how it ended and what it printed ("exited 1: no such
	// file").
	Run(c unitfile.Command, name string, env []string, timeout time.Duration) error
	// Signal signals a process of the unit.
	Signal(pid int, sig unix.Signal) error
	// Group lists the live processes of the unit's control group besides
	// main.
	Group(main int) []int
	// WaitExit waits up to timeout for pid to exit, and says whether it
	// did.
	WaitExit(pid int, timeout time.Duration) bool
	// Alive says whether pid runs.
	Alive(pid int) bool
	// Survived is told of the processes of the group still running when
	// TimeoutStopSec= is over, while they still run: SIGKILL follows
	// (unless SendSIGKILL=no), and SU108 reports them by name.
	Survived(pids []int)
}

// ErrNoReload is returned by Reload for a unit that cannot be reloaded.
var ErrNoReload = errors.New("the unit has no ExecReload= and is not Type=notify-reload")

// StartPre is what systemd does before ExecStart=, on every start of the
// inactive unit: the runtime directories (dirs), then each ExecStartPre=
// in order, each up to timeout. A failing one (without the "-" prefix)
// fails the start.
func StartPre(svc *unitfile.Service, m Manager, dirs *RuntimeDirs, timeout time.Duration) error {
	if err := dirs.Prepare(svc); err != nil {
		return err
	}
	for i, c := range svc.ExecStartPre {
		if err := m.Run(c, fmt.Sprintf("exec-start-pre-%d", i+1), nil, timeout); err != nil && !c.IgnoreFailure {
			return fmt.Errorf("ExecStartPre=%s %w", c.Line, err)
		}
	}
	return nil
}

// Stop stops pid as systemd stops the unit's main process: each ExecStop=
// with $MAINPID, up to timeout; then KillSignal= to pid if it still runs
// (unless KillMode=none), and to the rest of the group with
// KillMode=control-group, in that order (systemd's unit_kill_context).
// name tells its commands' output files apart.
func Stop(svc *unitfile.Service, m Manager, pid int, name string, timeout time.Duration) error {
	for i, c := range svc.ExecStop {
		n := fmt.Sprintf("%s-exec-stop-%d", name, i+1)
		if err := m.Run(c, n, []string{"MAINPID=" + strconv.Itoa(pid)}, timeout); err != nil && !c.IgnoreFailure {
			return fmt.Errorf("ExecStop=%s %w", c.Line, err)
		}
	}
	if m.Alive(pid) && svc.Mode() != "none" {
		if err := m.Signal(pid, svc.Signal()); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("%s to pid %d: %w", unix.SignalName(svc.Signal()), pid, err)
		}
	}
	if svc.Mode() == "control-group" {
		for _, p := range m.Group(pid) {
			m.Signal(p, svc.Signal())
		}
	}
	return nil
}

// AfterStop is what systemd does once the main process has exited
// (service_enter_stop_post, then the FINAL_SIGTERM and FINAL_SIGKILL
// states): with KillMode=mixed, SIGKILL to the rest of the group; with
// control-group, KillSignal= once more to the rest of the group (a process
// that survived the first gets it twice, as under systemd), up to timeout
// (TimeoutStopSec=) for them to end, then SIGKILL to what survived, unless
// SendSIGKILL=no. It returns the survivors, of which m was told
// (Survived) before the SIGKILL: SU108 reports them. Nothing else is sent (a SIGTERM from the
// run's cleanup reached a KillSignal=SIGINT unit's survivor, which systemd
// 252 never sends it).
func AfterStop(svc *unitfile.Service, m Manager, main int, timeout time.Duration) (survivors []int) {
	switch svc.Mode() {
	case "mixed":
		for range 10 {
			group := m.Group(main)
			if len(group) == 0 {
				return nil
			}
			for _, p := range group {
				m.Signal(p, unix.SIGKILL)
			}
			for _, p := range group {
				m.WaitExit(p, 5*time.Second)
			}
		}
	case "control-group":
		group := m.Group(main)
		for _, p := range group {
			m.Signal(p, svc.Signal())
		}
		deadline := time.Now().Add(timeout)
		for _, p := range group {
			m.WaitExit(p, max(time.Until(deadline), time.Millisecond))
		}
		survivors = m.Group(main)
		if len(survivors) > 0 {
			m.Survived(survivors)
		}
		if !svc.NoSIGKILL {
			for _, p := range survivors {
				m.Signal(p, unix.SIGKILL)
			}
			for _, p := range survivors {
				m.WaitExit(p, 5*time.Second)
			}
		}
	}
	return survivors
}

// Reload reloads as systemd does: each ExecReload= with $MAINPID, up to
// timeout, or SIGHUP for Type=notify-reload without one. It says how, or
// why it could not (ErrNoReload when the unit has no reload).
func Reload(svc *unitfile.Service, m Manager, pid int, timeout time.Duration) (string, error) {
	if len(svc.ExecReload) == 0 {
		if svc.Type == unitfile.NotifyReload {
			return "SIGHUP (Type=notify-reload)", m.Signal(pid, unix.SIGHUP)
		}
		return "", ErrNoReload
	}
	var lines []string
	for i, c := range svc.ExecReload {
		n := fmt.Sprintf("exec-reload-%d", i+1)
		if err := m.Run(c, n, []string{"MAINPID=" + strconv.Itoa(pid)}, timeout); err != nil && !c.IgnoreFailure {
			return "", fmt.Errorf("ExecReload=%s %w", c.Line, err)
		}
		lines = append(lines, c.Line)
	}
	return "ExecReload=" + strings.Join(lines, "; "), nil
}
