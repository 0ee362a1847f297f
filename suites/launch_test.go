//go:build linux

package suites_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

// startFacts is what a start command records of itself (a /proc tree of
// its own stat and status: pid, process group, session, the terminal's
// foreground group, blocked and ignored signals) before it starts
// gooddaemon.
func startFacts(t *testing.T, launch ...string) (proc.ProcStat, proc.ProcStatus, string) {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	pidfile, facts := filepath.Join(dir, "g.pid"), filepath.Join(dir, "proc")
	// The first start only (mkdir is atomic): later ones are plain.
	script := `if mkdir "$1" 2>/dev/null; then mkdir -p "$1/$$/task/$$" && cat /proc/$$/stat >"$1/$$/stat" && cat /proc/$$/status >"$1/$$/task/$$/status" && echo $$ >"$1/pid"; fi; exec "$2" start -pidfile "$3"`
	args := append(append([]string{"--pidfile", pidfile}, launch...), startBudget()...)
	// bash, as dash clears its blocked mask once it has run a command.
	args = append(args, "--", "bash", "-c", script, "bash", facts, filepath.Join(bin, "gooddaemon"), pidfile)
	code, out, _ := verify(t, nil, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, summaryOf(out))
	}
	data, err := os.ReadFile(filepath.Join(facts, "pid"))
	if err != nil {
		t.Fatalf("the start command left no facts: %v\n%s", err, summaryOf(out))
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	fsys, err := proc.NewFS(facts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := fsys.Stat(pid)
	if err != nil {
		t.Fatal(err)
	}
	status, err := fsys.TaskStatus(pid, pid)
	if err != nil {
		t.Fatal(err)
	}
	return st, status, out
}

// TestLaunchSessionLeader: by default the start command leads a new
// session whose controlling terminal is the harness's pty, and the
// summary says which launch ran.
func TestLaunchSessionLeader(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed: the start command records its facts with it")
	}
	st, status, out := startFacts(t)
	if st.Session != st.PID || st.PGRP != st.PID || st.TTY == 0 || st.TPGID != st.PID {
		t.Errorf("start command pid %d: pgrp %d, session %d, tty %#x, tpgid %d; want it to lead its session, group and terminal", st.PID, st.PGRP, st.Session, st.TTY, st.TPGID)
	}
	wantStarter(t, status)
	if !strings.Contains(out, "(sysv, --launch session-leader)") {
		t.Errorf("the summary does not name the launch:\n%s", summaryOf(out))
	}
}

// TestLaunchJobControl: with --launch job-control, a shell leads the
// session and the start command is its foreground job, a process group of
// its own, with the same hostile starter (blocked and ignored signals); the
// shell is neither judged nor left behind.
func TestLaunchJobControl(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed: --launch job-control needs it")
	}
	st, status, out := startFacts(t, "--launch", "job-control")
	if st.Session == st.PID || st.PGRP != st.PID || st.TTY == 0 || st.TPGID != st.PID {
		t.Errorf("start command pid %d: pgrp %d, session %d, tty %#x, tpgid %d; want a foreground job of its own in another's session", st.PID, st.PGRP, st.Session, st.TTY, st.TPGID)
	}
	wantStarter(t, status)
	if !strings.Contains(out, "(sysv, --launch job-control)") {
		t.Errorf("the summary does not name the launch:\n%s", summaryOf(out))
	}
	lines := summaryLines(out)
	if !strings.HasPrefix(lines["SU108"], "PASS") {
		t.Errorf("SU108 %q: the session's shell is not the daemon's leftover", lines["SU108"])
	}
	// The leader was the session's: it is gone with the run.
	if err := unix.Kill(st.Session, 0); err == nil {
		if comm, _ := testProc.Comm(st.Session); comm == "sh" || comm == "bash" {
			t.Errorf("the job-control shell, pid %d, outlived the run", st.Session)
		}
	}
}

// wantStarter checks the hostile starter's signals: SIGUSR1 blocked, SIGHUP
// ignored.
func wantStarter(t *testing.T, status proc.ProcStatus) {
	t.Helper()
	if !status.SigBlocked.Has(unix.SIGUSR1) || !status.SigIgnored.Has(unix.SIGHUP) {
		t.Errorf("start command: blocked %v, ignored %v; want SIGUSR1 blocked and SIGHUP ignored", status.SigBlocked, status.SigIgnored)
	}
}

// TestLaunchUnknown: a launch that does not exist is a one-line usage
// error naming the flag.
func TestLaunchUnknown(t *testing.T) {
	out, err := exec.Command(filepath.Join(bin, "dcheck"), "verify", "--launch", "nohup", "--", "true").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "-launch") || !strings.Contains(string(out), `unknown launch "nohup"`) {
		t.Errorf("%v\n%s", err, out)
	}
}
