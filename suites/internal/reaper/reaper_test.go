//go:build linux

package reaper

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/cleanstart"
	"github.com/dcheck/dcheck/internal/pidfd"
	"github.com/dcheck/dcheck/internal/testclock"
	"github.com/dcheck/dcheck/proc"
)

// The test binary is a child subreaper, as the harness is: the orphans the
// tests make become its children.
func TestMain(m *testing.M) {
	cleanstart.Main()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		os.Stderr.WriteString("PR_SET_CHILD_SUBREAPER: " + err.Error() + "\n")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func newTable(t *testing.T, learn bool) *Table {
	t.Helper()
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	return New(Config{Look: fsys, Subreaper: true, Learn: learn})
}

// start starts cmd through tab, as the harness starts every command.
func start(t *testing.T, tab *Table, cmd *exec.Cmd) {
	t.Helper()
	if err := tab.Start(func() (int, error) {
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// orphan starts a sleep whose parent exits at once, so that it is adopted
// by the test process, and returns its pid; the test kills it at its end.
// The parent is started through tab, as the harness starts every command:
// a child started around the table is an orphan to it, and Run would reap
// it from under os/exec (a loaded run saw os/exec's wait fail with ECHILD).
func orphan(t *testing.T, tab *Table) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", "sleep 1000 </dev/null >/dev/null 2>&1 & echo $!")
	var out strings.Builder
	cmd.Stdout = &out
	start(t, tab, cmd)
	err := cmd.Wait()
	tab.Waited(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("the orphan's pid: %q", out.String())
	}
	t.Cleanup(func() {
		unix.Kill(pid, unix.SIGKILL)
		reap(pid)
	})
	return pid
}

// exited waits until pid has exited, leaving it a zombie for its waiter.
func exited(t *testing.T, pid int) {
	t.Helper()
	if ok, err := pidfd.WaitPID(context.Background(), pid, testclock.Scale(30*time.Second)); err != nil || !ok {
		t.Fatalf("pid %d did not exit: %v", pid, err)
	}
}

// TestAdoptedOrphanIsListedReapedAndItsEndKept: an orphan of the run is
// listed while it lives; once a signal kills it, it is reaped (no zombie
// left for start-stop-daemon to take for a live process), and how it ended
// is kept, for WaitExit and for the run's report.
func TestAdoptedOrphanIsListedReapedAndItsEndKept(t *testing.T) {
	tab := newTable(t, true)
	pid := orphan(t, tab)
	if got := tab.Adopted(); !slices.Contains(got, pid) || !tab.Started(pid) {
		t.Fatalf("Adopted = %v, Started(%d) = %v; want the orphan %d listed and kept", got, pid, tab.Started(pid), pid)
	}
	unix.Kill(pid, unix.SIGTERM)
	exited(t, pid)
	if got := tab.Adopted(); slices.Contains(got, pid) {
		t.Errorf("Adopted = %v lists the dead orphan", got)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the orphan %d was not reaped: %v", pid, err)
	}
	if ok, how := tab.WaitExit(pid, time.Second); !ok || how != "killed by SIGTERM" {
		t.Errorf("WaitExit = %v, %q; want true, killed by SIGTERM", ok, how)
	}
	if got := tab.Killed(); len(got) != 1 || got[0] != "pid "+strconv.Itoa(pid)+" (sleep) was killed by SIGTERM" {
		t.Errorf("Killed = %q", got)
	}
}

// TestOSExecsChildrenAreNeverReaped: a child os/exec waits for is neither
// listed nor reaped, whatever state it is in: os/exec gets its exit status.
func TestOSExecsChildrenAreNeverReaped(t *testing.T) {
	tab := newTable(t, true)
	cmd := exec.Command("sh", "-c", "exit 3")
	start(t, tab, cmd)
	exited(t, cmd.Process.Pid)
	if got := tab.Adopted(); len(got) != 0 {
		t.Errorf("Adopted = %v; want none", got)
	}
	if ok, how := tab.WaitExit(cmd.Process.Pid, time.Second); !ok || how != "" {
		t.Errorf("WaitExit = %v, %q; want true and no status (os/exec's to take)", ok, how)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("os/exec's Wait = %v; want exit status 3", err)
	}
	tab.Waited(cmd.Process.Pid)
	if !tab.Started(cmd.Process.Pid) {
		t.Error("a started process is not kept for the cleanup")
	}
}

// TestWithoutLearningALiveOrphanIsNotListed: without the adopt facility
// the table learns nothing from a live orphan, and still reaps it once it
// exits.
func TestWithoutLearningALiveOrphanIsNotListed(t *testing.T) {
	tab := newTable(t, false)
	pid := orphan(t, tab)
	if got := tab.Adopted(); slices.Contains(got, pid) || tab.Started(pid) {
		t.Errorf("Adopted = %v; a live orphan was learnt from", got)
	}
	unix.Kill(pid, unix.SIGKILL)
	exited(t, pid)
	tab.Adopted()
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead orphan %d was not reaped: %v", pid, err)
	}
}

// TestRunReapsOnSIGCHLD: with Run, a dead orphan is reaped with no call
// from the harness; after Stop, nothing is.
func TestRunReapsOnSIGCHLD(t *testing.T) {
	tab := newTable(t, true)
	tab.Run()
	pid := orphan(t, tab)
	tab.Adopted() // learnt while it lives
	unix.Kill(pid, unix.SIGKILL)
	deadline := time.Now().Add(testclock.Scale(30 * time.Second))
	for len(tab.Killed()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the dead orphan was not reaped by Run")
		}
		time.Sleep(5 * time.Millisecond) // the reaper gives no event
	}
	tab.Stop()
	pid = orphan(t, tab)
	unix.Kill(pid, unix.SIGKILL)
	exited(t, pid)
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil); err != nil {
		t.Errorf("after Stop, the zombie %d was reaped: %v", pid, err)
	}
}

// TestClosedTableStartsNothing: once the cleanup began, Start runs
// nothing and says why.
func TestClosedTableStartsNothing(t *testing.T) {
	tab := newTable(t, true)
	tab.Close()
	ran := false
	if err := tab.Start(func() (int, error) { ran = true; return 1, nil }); !errors.Is(err, ErrClosed) || ran {
		t.Errorf("Start after Close: %v, ran %v; want ErrClosed and nothing run", err, ran)
	}
	tab.Run() // a closed table is not run: Stop has nothing to wait for
	tab.Stop()
}

// TestAwaitExitLeavesTheZombie: AwaitExit returns once the child has
// exited and leaves it in /proc, where its parent can still be read (the
// notify socket credits a message to the run that way), for os/exec to
// reap with its status.
func TestAwaitExitLeavesTheZombie(t *testing.T) {
	cmd := exec.Command("sh", "-c", "exit 4")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	AwaitExit(cmd.Process.Pid)
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	st, err := fsys.Stat(cmd.Process.Pid)
	if err != nil || st.Alive() || st.PPID != os.Getpid() {
		t.Errorf("after AwaitExit, pid %d is %+v (%v); want a zombie whose parent is the test", cmd.Process.Pid, st, err)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 4 {
		t.Errorf("os/exec's Wait = %v; want exit status 4", err)
	}
}

// TestChildrenOlderThanTheRunAreLeftAlone: a child the caller started
// before the run (a helper of a user's own Ginkgo suite, which Register
// makes a subreaper) is not the run's: it is neither listed nor reaped,
// and its own os/exec gets its exit status.
func TestChildrenOlderThanTheRunAreLeftAlone(t *testing.T) {
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	helper := exec.Command("sh", "-c", "read x; exit 5")
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	st, err := fsys.Stat(helper.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	tab := New(Config{Look: fsys, Subreaper: true, Learn: true, Since: st.StartTime + 100}) // the run began a second later
	if got := tab.Adopted(); slices.Contains(got, helper.Process.Pid) {
		t.Errorf("Adopted = %v lists the caller's helper", got)
	}
	stdin.Close()
	exited(t, helper.Process.Pid)
	tab.Adopted()
	var ee *exec.ExitError
	if err := helper.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 5 {
		t.Errorf("the helper's own Wait = %v; want exit status 5 (the table reaped it)", err)
	}
}
