//go:build linux

package sdemu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/pidfd"
	"github.com/dcheck/dcheck/internal/testclock"
	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/unitfile"
)

// procManager runs a unit's sequences on real processes: its group is
// the main process's session, as systemd's control group holds what the
// service's session does here; it records every signal it sends.
type procManager struct {
	t    *testing.T
	fs   *proc.FS
	svc  *unitfile.Service
	sent []string // "SIGTERM to 12"
	// survived is what Survived was told, each pid with whether it ran
	// then.
	survived map[int]bool
}

func (m *procManager) Run(c unitfile.Command, name string, env []string, timeout time.Duration) error {
	cmd, err := Command(m.svc, c, Exec{Env: env})
	if err != nil {
		return err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return errors.New(err.Error() + ": " + strings.TrimSpace(string(out)))
	}
	return nil
}

func (m *procManager) Signal(pid int, sig unix.Signal) error {
	m.sent = append(m.sent, unix.SignalName(sig)+" to "+strconv.Itoa(pid))
	return unix.Kill(pid, sig)
}

func (m *procManager) Group(main int) []int {
	pids, _ := m.fs.PIDs()
	var out []int
	for _, p := range pids {
		if st, err := m.fs.Stat(p); err == nil && p != main && st.Session == main && st.Alive() {
			out = append(out, p)
		}
	}
	return out
}

func (m *procManager) Survived(pids []int) {
	if m.survived == nil {
		m.survived = map[int]bool{}
	}
	for _, p := range pids {
		m.survived[p] = m.Alive(p)
	}
}

func (m *procManager) WaitExit(pid int, timeout time.Duration) bool {
	exited, err := pidfd.WaitPID(context.Background(), pid, timeout)
	return err == nil && exited
}

func (m *procManager) Alive(pid int) bool {
	st, err := m.fs.Stat(pid)
	return err == nil && st.Alive()
}

// startService starts the unit's ExecStart= (a sleep that keeps a child
// ignoring SIGTERM in its session) and returns its pid and its child's,
// once the child runs; both are killed at the test's end.
func startService(t *testing.T, m *procManager) (main, child int) {
	t.Helper()
	cmd, err := Command(m.svc, m.svc.ExecStart[0], Exec{Main: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	main = cmd.Process.Pid
	t.Cleanup(func() {
		for _, p := range append(m.Group(main), main) {
			unix.Kill(p, unix.SIGKILL)
		}
		cmd.Wait()
	})
	deadline := time.Now().Add(testclock.Scale(30 * time.Second))
	for {
		if g := m.Group(main); len(g) == 1 {
			if exe, _ := os.Readlink("/proc/" + strconv.Itoa(main) + "/exe"); strings.HasSuffix(exe, "sleep") {
				return main, g[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the service's processes never ran")
		}
		time.Sleep(5 * time.Millisecond) // a new process gives no event
	}
}

// TestStopAndAfterStopFollowKillMode: on real processes, the stop sends
// KillSignal= to whom KillMode= says and, once the main process has
// exited, systemd's SIGKILL reaches the survivors unless SendSIGKILL=no
// (compared with systemd 252 in supervisor/oracle_test.go). The survivor
// ignores SIGTERM: it survives however the machine is loaded.
func TestStopAndAfterStopFollowKillMode(t *testing.T) {
	fs, err := proc.NewFS("")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, tc := range []struct {
		settings     string
		groupTERM    int  // how often the child got KillSignal=: at the stop, and once more after the main process exited
		survivor     bool // AfterStop returned the child
		childOutlive bool // the child still runs after AfterStop
	}{
		{"KillMode=control-group", 2, true, false},
		{"KillMode=control-group\nSendSIGKILL=no", 2, true, true},
		{"KillMode=mixed", 0, false, false},
		{"KillMode=process", 0, false, true},
	} {
		t.Run(strings.ReplaceAll(tc.settings, "\n", ","), func(t *testing.T) {
			svc := unit(t, "[Service]\n"+tc.settings+"\nExecStart=/bin/sh -c '(trap \"\" TERM; exec sleep 1000) & exec sleep 1000'\n")
			m := &procManager{t: t, fs: fs, svc: svc}
			main, child := startService(t, m)
			if err := Stop(svc, m, main, "stop", testclock.Scale(30*time.Second)); err != nil {
				t.Fatal(err)
			}
			if !m.WaitExit(main, testclock.Scale(30*time.Second)) {
				t.Fatal("the main process did not exit on SIGTERM")
			}
			if len(m.sent) == 0 || m.sent[0] != "SIGTERM to "+strconv.Itoa(main) {
				t.Errorf("sent %q; want KillSignal= to the main process %d first, as systemd's unit_kill_context", m.sent, main)
			}
			survivors := AfterStop(svc, m, main, testclock.Scale(100*time.Millisecond)) // TimeoutStopSec=: the child outlives any
			if got := countOf(m.sent, "SIGTERM to "+strconv.Itoa(child)); got != tc.groupTERM {
				t.Errorf("the child was sent SIGTERM %d times; want %d (sent %q)", got, tc.groupTERM, m.sent)
			}
			if got := slices.Equal(survivors, []int{child}); got != tc.survivor {
				t.Errorf("AfterStop returned %v; want the child %d among survivors: %v", survivors, child, tc.survivor)
			}
			if running, told := m.survived[child]; told != tc.survivor || told && !running {
				t.Errorf("Survived was told of the child: %v, while it ran: %v; want told %v, while it ran (SU108 names it)", told, running, tc.survivor)
			}
			if !tc.childOutlive && !m.WaitExit(child, testclock.Scale(30*time.Second)) {
				t.Errorf("the child %d still runs after the stop", child)
			}
			if tc.childOutlive && !m.Alive(child) {
				t.Errorf("the child %d was killed; %s leaves it running", child, tc.settings)
			}
		})
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, l := range list {
		if l == s {
			n++
		}
	}
	return n
}

// TestStopRunsExecStopWithMainPID: ExecStop= gets $MAINPID; a failing
// one stops the sequence with its error, unless its "-" prefix says to go
// on.
func TestStopRunsExecStopWithMainPID(t *testing.T) {
	fs, err := proc.NewFS("")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	dir := t.TempDir()
	got := filepath.Join(dir, "mainpid")
	svc := unit(t, "[Service]\nExecStart=/bin/sh -c '(trap \"\" TERM; exec sleep 1000) & exec sleep 1000'\n"+
		"ExecStop=-/bin/false\nExecStop=/bin/sh -c 'echo $MAINPID >"+got+"'\nExecStop=/bin/sh -c 'echo broken; exit 3'\n")
	m := &procManager{t: t, fs: fs, svc: svc}
	main, _ := startService(t, m)
	err = Stop(svc, m, main, "stop", testclock.Scale(30*time.Second))
	if err == nil || !strings.HasPrefix(err.Error(), "ExecStop=/bin/sh -c 'echo broken; exit 3' ") || !strings.Contains(err.Error(), "broken") {
		t.Errorf("Stop = %v; want the third ExecStop='s failure, with what it printed", err)
	}
	if b, _ := os.ReadFile(got); strings.TrimSpace(string(b)) != strconv.Itoa(main) {
		t.Errorf("ExecStop= got MAINPID=%q; want %d", b, main)
	}
	if len(m.sent) != 0 {
		t.Errorf("a failed ExecStop= went on to signal: %q", m.sent)
	}
}

// TestReloadIsExecReloadOrSIGHUP: ExecReload= runs with $MAINPID and says
// so; Type=notify-reload without it is SIGHUP to the main process; a unit
// with neither has no reload.
func TestReloadIsExecReloadOrSIGHUP(t *testing.T) {
	daemon := exec.Command("sleep", "1000") // the main process, which the SIGHUP ends
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer daemon.Wait()
	defer daemon.Process.Kill()
	pid := daemon.Process.Pid
	m := &procManager{t: t}
	for text, want := range map[string]string{
		"ExecReload=/bin/sh -c 'test $MAINPID = " + strconv.Itoa(pid) + "'\nExecReload=-/bin/false": "ExecReload=/bin/sh -c 'test $MAINPID = " + strconv.Itoa(pid) + "'; -/bin/false",
		"Type=notify-reload": "SIGHUP (Type=notify-reload)",
		"Type=simple":        "",
	} {
		m.svc = unit(t, "[Service]\n"+text+"\nExecStart=/bin/true\n")
		m.sent = nil
		how, err := Reload(m.svc, m, pid, testclock.Scale(30*time.Second))
		if how != want || want == "" && !errors.Is(err, ErrNoReload) || want != "" && err != nil {
			t.Errorf("%q: Reload = %q, %v; want %q", text, how, err, want)
		}
		if sighup := slices.Equal(m.sent, []string{"SIGHUP to " + strconv.Itoa(pid)}); sighup != (want == "SIGHUP (Type=notify-reload)") {
			t.Errorf("%q: sent %q", text, m.sent)
		}
	}
}
