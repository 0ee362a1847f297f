//go:build linux

package checks_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/hostile"
	"github.com/dcheck/dcheck/internal/sigaction"
	"github.com/dcheck/dcheck/internal/testclock"
	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/proc/portable"

	"github.com/dcheck/dcheck/internal/cleanstart"
)

// The live tests start real processes with known properties and judge them
// through the real /proc. The test binary makes itself a child subreaper,
// so every daemon it starts is adopted by it (Policy.Reaper = os.Getpid())
// and can be killed and reaped by pid, whatever fails first.

func TestMain(m *testing.M) {
	if mode := os.Getenv("DCHECK_TEST_HELPER"); mode != "" {
		os.Exit(helper(mode, os.Args[1:]))
	}
	// Whatever started the tests (a terminal, nohup, a CI runner), the
	// daemons they start inherit nothing of it: no descriptor, no ignored
	// or blocked signal, no umask.
	cleanstart.Main()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// helper runs the test binary as a small tool instead of the tests:
//
//	exec ARGV...   set signal dispositions and mask from DCHECK_DFL,
//	               DCHECK_IGN, DCHECK_BLK (comma-separated numbers), then exec
//	inspect        judge DCHECK_PID and print the JSON report
//	idle           wait forever: a multi-threaded Go process to look at
//	listen PATH    the same, listening on a Unix socket at PATH
func helper(mode string, args []string) int {
	switch mode {
	case "exec":
		runtime.LockOSThread()
		if err := sigaction.Default(signalList("DCHECK_DFL")...); err != nil {
			return fail(err)
		}
		if err := sigaction.Ignore(signalList("DCHECK_IGN")...); err != nil {
			return fail(err)
		}
		if err := sigaction.SetMask(signalList("DCHECK_BLK")...); err != nil {
			return fail(err)
		}
		path, err := exec.LookPath(args[0])
		if err != nil {
			return fail(err)
		}
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "DCHECK_") {
				env = append(env, kv)
			}
		}
		return fail(syscall.Exec(path, args, env))
	case "idle": // a Go process, its runtime's threads and all, that waits
		select {}
	case "retitle": // overwrites its exec environment block, as setproctitle does, then waits
		fsys, err := proc.NewFS("")
		if err != nil {
			return fail(err)
		}
		st, err := fsys.Stat(os.Getpid())
		if err != nil {
			return fail(err)
		}
		mem, err := fsys.OpenMem(os.Getpid(), os.O_RDWR)
		if err != nil {
			return fail(err)
		}
		if _, err := mem.WriteAt(make([]byte, st.EnvEnd-st.EnvStart), int64(st.EnvStart)); err != nil {
			return fail(err)
		}
		mem.Close()
		fmt.Println("ready")
		select {}
	case "listen": // the same, listening on the Unix socket args[0]
		l, err := net.Listen("unix", args[0])
		if err != nil {
			return fail(err)
		}
		defer l.Close()
		select {}
	case "inspect":
		pid, _ := strconv.Atoi(os.Getenv("DCHECK_PID"))
		fsys, err := proc.NewFS(os.Getenv("DCHECK_PROC"))
		if err != nil {
			return fail(err)
		}
		r, err := checks.Inspect(fsys, pid, checks.Policy{Reaper: os.Getppid()})
		if errors.Is(err, proc.ErrHidden) {
			fmt.Println("hidden")
			return 0
		}
		if err != nil {
			return fail(err)
		}
		if err := checks.WriteJSON(os.Stdout, r, false); err != nil {
			return fail(err)
		}
		return 0
	}
	return fail(fmt.Errorf("unknown helper mode %q", mode))
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "helper:", err)
	return 111
}

func signalList(env string) []unix.Signal {
	var out []unix.Signal
	for _, f := range strings.Split(os.Getenv(env), ",") {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, unix.Signal(n))
		}
	}
	return out
}

// self is the path of the test binary, for helper commands in scripts.
func self(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// launch describes how to start a daemon for a test.
type launch struct {
	// script runs under "sh -c". It starts the daemon in the background and
	// prints its pid ($!) as the last line of standard output.
	script string
	// setsid runs the script in a new session (via setsid(1)), so that the
	// background job is a double-forked daemon.
	setsid bool
	// env is added to a minimal environment (PATH, HOME; HELPER runs the
	// test binary's exec helper).
	env []string
	// extra are descriptors the script inherits as fd 3 and up.
	extra []*os.File
	// tty makes a new pty the script's controlling terminal and stdio.
	tty bool
	// setpgid puts the script in a process group of its own, as a shell's
	// job control does.
	setpgid bool
	// comm is the name the daemon has once it exec'd; "sleep" when empty.
	comm string
}

// start runs l and returns the daemon's pid once it has exec'd. The daemon
// is killed and reaped, by pid, when the test ends.
func start(t testing.TB, l launch) int {
	t.Helper()
	argv := []string{"sh", "-c", l.script}
	if l.setsid {
		argv = append([]string{"setsid"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=/",
		"HELPER=env DCHECK_TEST_HELPER=exec " + self(t)}, l.env...)
	cmd.ExtraFiles = l.extra
	cmd.Stderr = os.Stderr
	if l.setpgid {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if l.tty {
		ptm, pts := openPTY(t)
		_ = ptm
		cmd.Stdin, cmd.Stderr = pts, pts
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last := ""
	for sc := bufio.NewScanner(out); sc.Scan(); {
		last = sc.Text()
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%q: %v", l.script, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(last))
	if err != nil {
		t.Fatalf("%q printed %q, not a pid", l.script, last)
	}
	t.Cleanup(func() { stopByPID(pid) })
	comm := l.comm
	if comm == "" {
		comm = "sleep"
	}
	waitFor(t, fmt.Sprintf("pid %d to exec %s", pid, comm), func() bool { return commOf(pid) == comm })
	return pid
}

// stopByPID kills pid and every descendant, and reaps them: as subreaper
// the test becomes the parent of each as its own parent dies.
func stopByPID(pid int) {
	for _, p := range append([]int{pid}, descendants(pid)...) {
		_ = unix.Kill(p, unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(p, &ws, 0, nil)
			if err != unix.EINTR {
				break
			}
		}
	}
}

// liveProc is the reader the tests' own lookups use (finding a child,
// waiting for an exec): proc's, as everywhere in the module. What is
// judged is compared with other tools' reading (oracle_test.go).
var liveProc = func() *proc.FS {
	f, err := proc.NewFS("")
	if err != nil {
		panic(err)
	}
	return f
}()

// descendants lists pid's children, grandchildren and so on.
func descendants(pid int) []int {
	var out []int
	children, _ := liveProc.Children(pid)
	for _, c := range children {
		out = append(out, c)
		out = append(out, descendants(c)...)
	}
	return out
}

func commOf(pid int) string {
	comm, _ := liveProc.Comm(pid)
	return comm
}

// isZombie reports whether pid is a zombie.
func isZombie(pid int) bool {
	st, err := liveProc.Stat(pid)
	return err == nil && st.State == 'Z'
}

// waitFor polls cond until it holds. It is for what the kernel announces
// with no event (an exec, a child turning zombie); it fails after a
// minute (scaled by DCHECK_TEST_SLOW), a safety net, never an expectation.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testclock.Scale(time.Minute))
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// openPTY opens a new pseudo-terminal pair (internal/hostile, as the
// harness does).
func openPTY(t testing.TB) (ptm, pts *os.File) {
	t.Helper()
	ptm, pts, err := hostile.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { pts.Close(); ptm.Close() })
	go io.Copy(io.Discard, ptm) // keep the terminal drained
	return ptm, pts
}

func judge(t *testing.T, pid int, pol checks.Policy) *checks.Report {
	t.Helper()
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Fatal(err)
	}
	if pol.Reaper == 0 {
		pol.Reaper = os.Getpid()
	}
	r, err := checks.Inspect(fsys, pid, pol)
	if err != nil {
		t.Fatalf("Inspect(%d): %v", pid, err)
	}
	return r
}

// expect checks the status of the named rules and logs the whole report on
// a mismatch.
func expect(t *testing.T, r *checks.Report, want map[string]checks.Status) {
	t.Helper()
	bad := false
	for _, f := range r.Findings {
		if w, ok := want[f.ID]; ok && f.Status != w {
			t.Errorf("%s %s = %s, want %s: %s", f.ID, f.Name, f.Status, w, f.Message)
			bad = true
		}
	}
	if bad {
		var b strings.Builder
		checks.WriteText(&b, r, false)
		t.Log("\n" + b.String())
	}
}

// TestOverwrittenEnvironmentIsUnknown: redis (and every program that sets
// its process title as setproctitle does) writes over its exec
// environment block; /proc/PID/environ then reads as NULs only. That is
// not an environment without session variables: DC501 is unknown, through
// both readers.
func TestOverwrittenEnvironmentIsUnknown(t *testing.T) {
	cmd := exec.Command(self(t))
	cmd.Env = []string{"DCHECK_TEST_HELPER=retitle", "TERM=xterm", "SSH_TTY=/dev/pts/9"}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("the helper said %q, %v", line, err)
	}
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]proc.Reader{"/proc": fsys, "gopsutil": portable.Portable{}} {
		rep, err := checks.Inspect(r, cmd.Process.Pid, checks.Policy{Reaper: os.Getpid()})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := finding(rep, "DC501")
		if f.Status != checks.Unknown || !strings.Contains(f.Message, "overwritten") {
			t.Errorf("%s: DC501 %s %q; want unknown, saying the block was overwritten", name, f.Status, f.Message)
		}
	}
}

func finding(r *checks.Report, id string) checks.Finding {
	for _, f := range r.Findings {
		if f.ID == id {
			return f
		}
	}
	return checks.Finding{}
}

// goodScript is a correct SysV daemon in shell: a new session (setsid),
// a background job that is not its leader, cwd /, umask 022, stdio on
// /dev/null and a log, a flocked pidfile, default signal dispositions.
const goodScript = `set -e
cd /
unset OLDPWD
umask 022
exec 3>"$PIDFILE"
flock -n 3
$HELPER sleep 1000 </dev/null >>"$LOG" 2>&1 &
echo $! >&3
exec 3>&-
echo $!`

func TestLiveGoodDaemonPassesEveryRule(t *testing.T) {
	dir := t.TempDir()
	pidfile, log := filepath.Join(dir, "good.pid"), filepath.Join(dir, "good.log")
	pid := start(t, launch{script: goodScript, setsid: true,
		env: []string{"PIDFILE=" + pidfile, "LOG=" + log, "DCHECK_DFL=2,3"}})
	r := judge(t, pid, checks.Policy{PidFile: pidfile, Strict: true})
	for _, f := range r.Findings {
		want := checks.Pass
		switch f.ID {
		case "DC502":
			want = checks.Skip // root: nothing to drop
		case "DC601":
			want = checks.Skip // no systemd unit runs it
		}
		if f.Status != want {
			t.Errorf("%s %s = %s, want %s: %s", f.ID, f.Name, f.Status, want, f.Message)
		}
	}
	if r.Verdict != checks.VerdictPass {
		t.Errorf("verdict %s, want pass even with Strict", r.Verdict)
	}
}

func TestLiveSessions(t *testing.T) {
	t.Run("a job in a group of its own inside the starter's session fails own-session", func(t *testing.T) {
		pid := start(t, launch{setpgid: true, script: `sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`})
		expect(t, judge(t, pid, checks.Policy{}), map[string]checks.Status{
			"DC101": checks.Pass, "DC102": checks.Fail, "DC103": checks.Pass,
		})
	})
	t.Run("a single fork into setsid, as daemon(3) does, leaves a session leader", func(t *testing.T) {
		pid := start(t, launch{script: `setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`})
		r := judge(t, pid, checks.Policy{})
		expect(t, r, map[string]checks.Status{
			"DC101": checks.Pass, "DC102": checks.Pass, "DC103": checks.Fail, "DC104": checks.Pass,
		})
		if f := finding(r, "DC103"); !strings.Contains(f.Message, strconv.Itoa(pid)) {
			t.Errorf("DC103 message should name the sid: %q", f.Message)
		}
	})
	t.Run("a process that is not orphaned names its parent and suggests --reaper", func(t *testing.T) {
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		waitFor(t, "sleep to exec", func() bool { return commOf(cmd.Process.Pid) == "sleep" })
		fsys, _ := proc.NewFS("")
		r, err := checks.Inspect(fsys, cmd.Process.Pid, checks.Policy{})
		if err != nil {
			t.Fatal(err)
		}
		f := finding(r, "DC101")
		want := fmt.Sprintf("--reaper %d", os.Getpid())
		if f.Status != checks.Fail || !strings.Contains(f.Message, want) {
			t.Errorf("DC101 = %s %q, want fail suggesting %q", f.Status, f.Message, want)
		}
		if p := finding(r, "DC101"); p.Severity != checks.Error {
			t.Errorf("DC101 severity %s in sysv", p.Severity)
		}
		sup, _ := checks.Inspect(fsys, cmd.Process.Pid, checks.Policy{Profile: checks.ProfileSupervised})
		if f := finding(sup, "DC101"); f.Status != checks.Skip {
			t.Errorf("DC101 in supervised = %s, want skip", f.Status)
		}
	})
}

func TestLiveTerminals(t *testing.T) {
	t.Run("a session leader on a pty fails every terminal rule", func(t *testing.T) {
		_, pts := openPTY(t)
		cmd := exec.Command("sleep", "1000")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		pid := cmd.Process.Pid
		waitFor(t, "sleep to exec", func() bool { return commOf(pid) == "sleep" })
		r := judge(t, pid, checks.Policy{})
		expect(t, r, map[string]checks.Status{
			"DC102": checks.Pass, "DC103": checks.Fail, "DC104": checks.Fail,
			"DC203": checks.Fail, "DC204": checks.Fail,
		})
		if f := finding(r, "DC104"); !strings.Contains(f.Message, pts.Name()) {
			t.Errorf("DC104 should name %s: %q", pts.Name(), f.Message)
		}
		if r.Process.TTYNr == 0 || r.Process.TPGID != pid {
			t.Errorf("tty_nr %d, tpgid %d: want the pty and the process's own group", r.Process.TTYNr, r.Process.TPGID)
		}
	})
	t.Run("a detached daemon that kept the terminal as stdio fails stdio-detached and no-terminal-fds only", func(t *testing.T) {
		_, pts := openPTY(t)
		pid := start(t, launch{setsid: true, env: []string{"TTY=" + pts.Name()},
			script: `cd /; sleep 1000 <"$TTY" >"$TTY" 2>&1 & echo $!`})
		r := judge(t, pid, checks.Policy{})
		expect(t, r, map[string]checks.Status{
			"DC101": checks.Pass, "DC102": checks.Pass, "DC103": checks.Pass, "DC104": checks.Pass,
			"DC203": checks.Fail, "DC204": checks.Fail, "DC201": checks.Pass,
		})
	})
	t.Run("a terminal on a high descriptor fails no-terminal-fds, not stdio-detached", func(t *testing.T) {
		_, pts := openPTY(t)
		pid := start(t, launch{setsid: true, extra: []*os.File{pts},
			script: `sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`})
		expect(t, judge(t, pid, checks.Policy{}), map[string]checks.Status{
			"DC203": checks.Pass, "DC204": checks.Fail,
		})
	})
}

func TestLiveZombieChild(t *testing.T) {
	// sleep never waits: the child "sleep 0" stays a zombie of it.
	pid := start(t, launch{setsid: true, script: `cd /; sh -c 'sleep 0 & exec sleep 1000' </dev/null >/dev/null 2>&1 & echo $!`})
	waitFor(t, "a zombie child", func() bool {
		return slices.ContainsFunc(descendants(pid), isZombie)
	})
	r := judge(t, pid, checks.Policy{})
	expect(t, r, map[string]checks.Status{"DC402": checks.Fail})
	if f := finding(r, "DC402"); f.Severity != checks.Warning || !strings.Contains(f.Message, "(sleep)") {
		t.Errorf("DC402 = %+v, want a warning naming the zombie", f)
	}
	if r.Verdict != checks.VerdictPass && finding(r, "DC101").Status == checks.Pass {
		// Only warnings failed: without --strict the verdict stands.
		for _, f := range r.Findings {
			if f.Status == checks.Fail && f.Severity == checks.Error {
				t.Errorf("unexpected error: %s %s", f.ID, f.Message)
			}
		}
	}
}

func TestLiveCwd(t *testing.T) {
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	pid := start(t, launch{setsid: true, env: []string{"WORK=" + work},
		script: `cd "$WORK"; sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`})
	r := judge(t, pid, checks.Policy{})
	expect(t, r, map[string]checks.Status{"DC201": checks.Fail})
	if f := finding(r, "DC201"); !strings.Contains(f.Message, work) {
		t.Errorf("DC201 should name %s: %q", work, f.Message)
	}
	expect(t, judge(t, pid, checks.Policy{Cwds: []string{work}}), map[string]checks.Status{"DC201": checks.Pass})
	expect(t, judge(t, pid, checks.Policy{Profile: checks.ProfileSupervised}), map[string]checks.Status{"DC201": checks.Fail})
	if f := finding(judge(t, pid, checks.Policy{Profile: checks.ProfileSupervised}), "DC201"); f.Severity != checks.Warning {
		t.Errorf("DC201 in supervised is %s, want warning", f.Severity)
	}
	if err := os.Remove(work); err != nil {
		t.Fatal(err)
	}
	r = judge(t, pid, checks.Policy{Cwds: []string{work}})
	if f := finding(r, "DC201"); f.Status != checks.Fail || !strings.Contains(f.Message, "deleted") {
		t.Errorf("a deleted cwd, even an allowed one: DC201 = %s %q", f.Status, f.Message)
	}
}

func TestLiveUmask(t *testing.T) {
	pid := start(t, launch{setsid: true, script: `umask 0037; sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`})
	u037, u022 := uint32(0o037), uint32(0o022)
	tests := []struct {
		name     string
		pol      checks.Policy
		status   checks.Status
		severity checks.Severity
	}{
		{"an unusual umask is a note, not a failure, when the starter is unknown", checks.Policy{}, checks.Fail, checks.Info},
		{"the starter's umask, when known, is an error", checks.Policy{Starter: &checks.StarterFacts{Umask: &u037}}, checks.Fail, checks.Error},
		{"another starter umask passes", checks.Policy{Starter: &checks.StarterFacts{Umask: &u022}}, checks.Pass, checks.Error},
		{"the expected umask passes", checks.Policy{Umask: &u037}, checks.Pass, checks.Warning},
		{"a different expected umask fails", checks.Policy{Umask: &u022}, checks.Fail, checks.Warning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := finding(judge(t, pid, tt.pol), "DC202")
			if f.Status != tt.status || f.Severity != tt.severity {
				t.Errorf("DC202 = %s/%s, want %s/%s: %s", f.Status, f.Severity, tt.status, tt.severity, f.Message)
			}
			if !strings.Contains(f.Message, "0037") {
				t.Errorf("message should give the umask 0037: %q", f.Message)
			}
		})
	}
}

func TestLiveSignals(t *testing.T) {
	const usr1, term, hup, intr = "10", "15", "1", "2"
	tests := []struct {
		name    string
		dfl     string
		ign     string
		blk     string
		starter *checks.StarterFacts
		status  checks.Status
		sev     checks.Severity
		says    string
	}{
		{name: "default dispositions pass", dfl: "1,2,3", status: checks.Pass, sev: checks.Error},
		{name: "SIGTERM ignored fails", dfl: "2,3", ign: term, status: checks.Fail, sev: checks.Error, says: "SIGTERM is ignored"},
		{name: "SIGTERM blocked in its only thread fails", dfl: "2,3", blk: term, status: checks.Fail, sev: checks.Error, says: "blocked in every thread"},
		{name: "SIGHUP ignored is a note, not a failure, when the starter is unknown", dfl: "2,3", ign: hup, status: checks.Fail, sev: checks.Info, says: "SIGHUP ignored: inherited or by design, which cannot be told without the starter (nohup(1) leaves SIGHUP ignored"},
		{name: "the starter's blocked SIGUSR1 kept fails", dfl: "1,2,3", blk: usr1,
			starter: &checks.StarterFacts{Blocked: 1 << 9}, status: checks.Fail, sev: checks.Error, says: "kept the starter's blocked signal mask: SIGUSR1"},
		{name: "the starter's ignored SIGHUP kept fails", dfl: "2,3", ign: hup,
			starter: &checks.StarterFacts{Ignored: 1}, status: checks.Fail, sev: checks.Error, says: "kept SIGHUP ignored"},
		{name: "a reset of the starter's signals passes", dfl: "1,2,3",
			starter: &checks.StarterFacts{Ignored: 1, Blocked: 1 << 9}, status: checks.Pass, sev: checks.Error},
		{name: "SIGINT ignored by a background job of sh is a note naming the shell's &, not nohup", ign: intr, status: checks.Fail, sev: checks.Info, says: "a non-interactive shell's & leaves SIGINT and SIGQUIT ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid := start(t, launch{setsid: true,
				env:    []string{"DCHECK_DFL=" + tt.dfl, "DCHECK_IGN=" + tt.ign, "DCHECK_BLK=" + tt.blk},
				script: `$HELPER sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`})
			f := finding(judge(t, pid, checks.Policy{Starter: tt.starter}), "DC401")
			if f.Status != tt.status || f.Severity != tt.sev || !strings.Contains(f.Message, tt.says) {
				t.Errorf("DC401 = %s/%s %q, want %s/%s saying %q", f.Status, f.Severity, f.Message, tt.status, tt.sev, tt.says)
			}
		})
	}
}

func TestLiveInheritedDescriptor(t *testing.T) {
	dir := t.TempDir()
	sentinel, err := os.Create(filepath.Join(dir, "sentinel"))
	if err != nil {
		t.Fatal(err)
	}
	defer sentinel.Close()
	id, err := checks.StatFileID(sentinel.Name())
	if err != nil {
		t.Fatal(err)
	}
	leaky := start(t, launch{setsid: true, extra: []*os.File{sentinel},
		script: `cd /; sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`})
	closed := start(t, launch{setsid: true, extra: []*os.File{sentinel},
		script: `cd /; sleep 1000 </dev/null >/dev/null 2>&1 3>&- & echo $!`})

	f := finding(judge(t, leaky, checks.Policy{Inherited: []checks.FileID{id}}), "DC205")
	if f.Status != checks.Fail || !strings.Contains(f.Message, "fd 3 is "+sentinel.Name()) {
		t.Errorf("a daemon holding the sentinel: DC205 = %s %q", f.Status, f.Message)
	}
	f = finding(judge(t, leaky, checks.Policy{}), "DC205")
	if f.Status != checks.Unknown || !strings.Contains(f.Message, "fd 3 "+sentinel.Name()+" (not close-on-exec)") {
		t.Errorf("without --inherited the sentinel cannot pass, and is named: DC205 = %s %q", f.Status, f.Message)
	}
	f = finding(judge(t, closed, checks.Policy{Inherited: []checks.FileID{id}}), "DC205")
	if f.Status != checks.Pass {
		t.Errorf("a daemon that closed the sentinel: DC205 = %s %q", f.Status, f.Message)
	}
}

func TestLivePidFile(t *testing.T) {
	dir := t.TempDir()
	pidfile, log := filepath.Join(dir, "d.pid"), filepath.Join(dir, "d.log")
	pid := start(t, launch{script: goodScript, setsid: true, env: []string{"PIDFILE=" + pidfile, "LOG=" + log}})
	unlockedPid := start(t, launch{setsid: true, env: []string{"PIDFILE=" + filepath.Join(dir, "u.pid")},
		script: `sleep 1000 </dev/null >/dev/null 2>&1 & echo $! >"$PIDFILE"; echo $!`})
	other := filepath.Join(dir, "other.pid")
	writeFile(t, other, fmt.Sprintf("%d\n", unlockedPid), 0o644)

	t.Run("the daemon's own flocked pidfile passes", func(t *testing.T) {
		expect(t, judge(t, pid, checks.Policy{PidFile: pidfile}), map[string]checks.Status{
			"DC301": checks.Pass, "DC302": checks.Pass, "DC303": checks.Pass})
	})
	t.Run("a pidfile naming another process fails pidfile-matches", func(t *testing.T) {
		r := judge(t, pid, checks.Policy{PidFile: other})
		expect(t, r, map[string]checks.Status{"DC301": checks.Fail, "DC303": checks.Fail})
		if f := finding(r, "DC301"); !strings.Contains(f.Message, strconv.Itoa(unlockedPid)) {
			t.Errorf("DC301 should name the pid in the file: %q", f.Message)
		}
	})
	t.Run("a pidfile nobody locks fails pidfile-locked", func(t *testing.T) {
		r := judge(t, unlockedPid, checks.Policy{PidFile: filepath.Join(dir, "u.pid")})
		expect(t, r, map[string]checks.Status{"DC301": checks.Pass, "DC303": checks.Fail})
	})
	t.Run("a world-writable pidfile fails pidfile-safe", func(t *testing.T) {
		ww := filepath.Join(dir, "ww.pid")
		writeFile(t, ww, fmt.Sprintf("%d\n", pid), 0o666)
		r := judge(t, pid, checks.Policy{PidFile: ww})
		expect(t, r, map[string]checks.Status{"DC301": checks.Pass, "DC302": checks.Fail})
	})
	t.Run("a symlinked pidfile fails pidfile-safe and is still read", func(t *testing.T) {
		link := filepath.Join(dir, "link.pid")
		if err := os.Symlink(pidfile, link); err != nil {
			t.Fatal(err)
		}
		r := judge(t, pid, checks.Policy{PidFile: link})
		expect(t, r, map[string]checks.Status{"DC301": checks.Pass, "DC302": checks.Fail, "DC303": checks.Pass})
		if f := finding(r, "DC302"); !strings.Contains(f.Message, "symlink") {
			t.Errorf("DC302 should say symlink: %q", f.Message)
		}
	})
	t.Run("a pidfile in a world-writable directory without the sticky bit fails", func(t *testing.T) {
		open := filepath.Join(dir, "open")
		if err := os.Mkdir(open, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(open, 0o777)
		p := filepath.Join(open, "d.pid")
		writeFile(t, p, fmt.Sprintf("%d\n", pid), 0o644)
		expect(t, judge(t, pid, checks.Policy{PidFile: p}), map[string]checks.Status{"DC302": checks.Fail})
		os.Chmod(open, 0o777|os.ModeSticky)
		expect(t, judge(t, pid, checks.Policy{PidFile: p}), map[string]checks.Status{"DC302": checks.Pass})
	})
}

func writeFile(t *testing.T, path, data string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// TestLiveUnprivilegedInspector judges a root daemon as the user nobody:
// cwd, fds and environ are hidden from it, so the rules needing them are
// unknown (never pass or fail), the others are still judged, and the
// verdict is unknown.
func TestLiveUnprivilegedInspector(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a process as nobody")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "inspector")
	copyFile(t, self(t), bin)
	pid := start(t, launch{setsid: true, script: `cd /; sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`})
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin)
	cmd.Env = []string{"DCHECK_TEST_HELPER=inspect", "DCHECK_PID=" + strconv.Itoa(pid)}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("inspect as nobody: %v", err)
	}
	var r checks.Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for id, want := range map[string]checks.Status{
		"DC101": checks.Pass, // setpriv execs the helper: its parent, the test, is the reaper
		"DC102": checks.Pass, "DC103": checks.Pass, "DC104": checks.Pass, "DC202": checks.Pass,
		"DC201": checks.Unknown, "DC203": checks.Unknown, "DC204": checks.Unknown, "DC205": checks.Unknown,
		"DC402": checks.Pass, "DC501": checks.Unknown, "DC503": checks.Unknown,
	} {
		if f := finding(&r, id); f.Status != want {
			t.Errorf("%s = %s, want %s: %s", id, f.Status, want, f.Message)
		} else if want == checks.Unknown && !strings.Contains(f.Message, "permission denied") {
			t.Errorf("%s should say permission denied: %q", id, f.Message)
		}
	}
	if r.Process.Unreadable["cwd"] == "" || r.Process.Cwd != nil {
		t.Errorf("the JSON should show cwd as null and say why: cwd=%v unreadable=%v", r.Process.Cwd, r.Process.Unreadable)
	}
}

// TestLiveHidepid judges a root process as nobody through a proc mount with
// hidepid=2: the process exists but /proc hides it, which is ErrHidden,
// not ErrNoProcess.
func TestLiveHidepid(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount proc")
	}
	// Not t.TempDir: its parent is private to root, and nobody must reach it.
	mnt, err := os.MkdirTemp("", "dcheck-hidepid-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(mnt, 0o755)
	if err := unix.Mount("proc", mnt, "proc", 0, "hidepid=2"); err != nil {
		os.Remove(mnt)
		t.Skipf("cannot mount proc with hidepid=2 here: %v", err)
	}
	t.Cleanup(func() {
		unix.Unmount(mnt, unix.MNT_DETACH)
		os.Remove(mnt)
	})
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "inspector")
	copyFile(t, self(t), bin)
	pid := start(t, launch{setsid: true, script: `cd /; sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`})
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin)
	cmd.Env = []string{"DCHECK_TEST_HELPER=inspect", "DCHECK_PID=" + strconv.Itoa(pid), "DCHECK_PROC=" + mnt}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != "hidden" {
		t.Errorf("inspect through hidepid=2 as nobody: %q, %v; want ErrHidden", out, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestLiveMissingAndVanishingProcesses(t *testing.T) {
	fsys, _ := proc.NewFS("")
	t.Run("a pid that does not exist", func(t *testing.T) {
		// pid_max is at most 4194304: this pid cannot exist.
		_, err := checks.Inspect(fsys, 4194304+1, checks.Policy{})
		if !errors.Is(err, proc.ErrNoProcess) || !strings.Contains(err.Error(), "4194305") {
			t.Errorf("err = %v, want ErrNoProcess naming the pid", err)
		}
	})
	t.Run("processes exiting while they are read", func(t *testing.T) {
		// Start short-lived processes and inspect each as it exits: every
		// answer must be a report or ErrNoProcess/ErrExited, never another
		// error or a panic.
		for i := 0; i < 200; i++ {
			cmd := exec.Command("true")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			_, err := checks.Inspect(fsys, cmd.Process.Pid, checks.Policy{})
			if err != nil && !errors.Is(err, proc.ErrNoProcess) && !errors.Is(err, proc.ErrExited) {
				t.Errorf("pid %d: %v", cmd.Process.Pid, err)
			}
			cmd.Wait()
			_, err = checks.Inspect(fsys, cmd.Process.Pid, checks.Policy{})
			if !errors.Is(err, proc.ErrNoProcess) && !errors.Is(err, proc.ErrExited) && err != nil {
				t.Errorf("pid %d after exit: %v", cmd.Process.Pid, err)
			}
		}
	})
}

// TestLiveLeaderExitedIsAlive judges fixtures/c/leaderexit.c, a correct
// daemon whose main thread ends with pthread_exit: the kernel shows it as
// state Z, and dcheck once called it a zombie and judged nothing. Its
// descriptors, directory, umask and pidfile lock are read through its live
// thread, and every error rule passes.
func TestLiveLeaderExitedIsAlive(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc): the pthread_exit daemon cannot be built")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "leaderexit")
	if out, err := exec.Command(cc, "-O2", "-pthread", "-o", bin, "../fixtures/c/leaderexit.c").CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	pidfile := filepath.Join(dir, "le.pid")
	if out, err := exec.Command(bin, pidfile).CombinedOutput(); err != nil {
		t.Fatalf("leaderexit: %v\n%s", err, out)
	}
	pid, err := proc.ReadPid(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil) // adopted: this binary is a subreaper
	})
	fsys, _ := proc.NewFS("")
	waitFor(t, "the leader's pthread_exit", func() bool {
		st, err := fsys.Stat(pid)
		return err == nil && st.State == 'Z'
	})
	st, _ := fsys.Stat(pid)
	if !st.Alive() || !st.LeaderExited() {
		t.Fatalf("state %c with %d threads: Alive() = %v, want a live process whose leader exited", st.State, st.Threads, st.Alive())
	}
	r := judge(t, pid, checks.Policy{PidFile: pidfile})
	for _, f := range r.Findings {
		if f.Severity == checks.Error && f.Status != checks.Pass && f.Status != checks.Skip {
			t.Errorf("%s %s = %s: %s", f.ID, f.Name, f.Status, f.Message)
		}
	}
	if r.Verdict != checks.VerdictPass || r.Process.SharedTID == 0 || r.Process.Umask == nil || *r.Process.Umask != "0022" {
		var b strings.Builder
		checks.WriteText(&b, r, false)
		t.Errorf("verdict %s, shared tid %d, umask %v; want pass, read through a live thread, 0022\n%s",
			r.Verdict, r.Process.SharedTID, r.Process.Umask, b.String())
	}
}

// TestLiveSigtermBlockedAroundWaits: a mask seen at one instant is not a
// daemon's policy. A daemon that blocks SIGTERM around each 100 ms wait and
// catches it stops at once in practice: never a failure. One that blocks it
// half the time is seen unblocked within the window and passes.
func TestLiveSigtermBlockedAroundWaits(t *testing.T) {
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Skipf("python3 is not installed: %v", err)
	}
	python := strings.TrimSpace(string(out))
	comm := filepath.Base(python)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	const loop = `import signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
    time.sleep(%s)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    time.sleep(%s)
`
	tests := []struct {
		name, blocked, open string
		says                []string // one of
	}{
		// Its open gap lasts microseconds: a look lands in it rarely, and
		// then it passes; otherwise the handler makes it a note.
		{"blocked around each 100 ms wait, with a handler, is never a failure", "0.1", "0", []string{"but it has a handler", "SIGTERM reaches it"}},
		{"blocked half the time is seen open within the window, and passes", "0.2", "0.2", []string{"SIGTERM reaches it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := fmt.Sprintf(loop, tt.blocked, tt.open)
			pid := start(t, launch{setsid: true, comm: comm, env: []string{"SCRIPT=" + script, "PYTHON=" + python, "DCHECK_DFL=1,2,3"},
				script: `$HELPER "$PYTHON" -c "$SCRIPT" </dev/null >/dev/null 2>&1 & echo $!`})
			fsys, _ := proc.NewFS("")
			waitFor(t, "SIGTERM blocked", func() bool {
				st, err := fsys.TaskStatus(pid, pid)
				return err == nil && st.SigBlocked.Has(unix.SIGTERM)
			})
			f := finding(judge(t, pid, checks.Policy{}), "DC401")
			if f.Status == checks.Fail && f.Severity != checks.Info || !slices.ContainsFunc(tt.says, func(s string) bool { return strings.Contains(f.Message, s) }) {
				t.Errorf("DC401 = %s/%s %q, want a pass or a note saying one of %q", f.Status, f.Severity, f.Message, tt.says)
			}
		})
	}
}

// TestLiveUnderSupervisord runs two programs under Debian's real
// supervisord, a Python program: CPython ignores SIGXFSZ (and SIGPIPE),
// and supervisord forks and execs its programs without resetting them. A
// program that keeps SIGXFSZ ignored inherited it, and fails DC401 in the
// supervised profile, which compares with the parent; one started through
// env --default-signal=XFSZ passes. SIGPIPE, ignored by both, is exempt.
func TestLiveUnderSupervisord(t *testing.T) {
	supervisord, err := exec.LookPath("supervisord")
	if err != nil {
		t.Skip("supervisord is not installed (Debian package supervisor; .ci/run installs it)")
	}
	if err := exec.Command("env", "--default-signal=XFSZ", "true").Run(); err != nil {
		t.Skipf("env --default-signal is not available (coreutils 8.31 or later): %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "supervisord.conf")
	writeFile(t, conf, fmt.Sprintf(`[supervisord]
nodaemon=true
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
[program:keeps]
command=/bin/sleep 1000
[program:resets]
command=/usr/bin/env --default-signal=XFSZ /bin/sleep 1001
`, dir), 0o644)
	cmd := exec.Command(supervisord, "-n", "-c", conf)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sv := cmd.Process.Pid
	t.Cleanup(func() { stopByPID(sv) })

	children := map[string]int{} // sleep's argument -> pid
	waitFor(t, "supervisord to start both programs", func() bool {
		for _, c := range descendants(sv) {
			if commOf(c) != "sleep" {
				continue
			}
			if s, err := liveProc.Take(c); err == nil {
				children[strings.Join(s.Cmdline, " ")] = c
			}
		}
		return children["/bin/sleep 1000"] != 0 && children["/bin/sleep 1001"] != 0
	})
	pol := checks.Policy{Profile: checks.ProfileSupervised, Reaper: sv}

	keeps := finding(judge(t, children["/bin/sleep 1000"], pol), "DC401")
	if keeps.Status != checks.Fail || !strings.Contains(keeps.Message, "kept SIGXFSZ ignored, as its supervisor supervisord") ||
		strings.Contains(keeps.Message, "SIGPIPE") {
		t.Errorf("a program that inherited supervisord's ignored SIGXFSZ: %s %s", keeps.Status, keeps.Message)
	}
	resets := finding(judge(t, children["/bin/sleep 1001"], pol), "DC401")
	if resets.Status != checks.Pass {
		t.Errorf("a program that reset SIGXFSZ: %s %s", resets.Status, resets.Message)
	}
}

// TestLivePortableReaderNeverPassesWhatItCannotSee: the good daemon judged
// through the portable (gopsutil) reader: the rules whose facts it lacks
// are unknown, each saying "not available on linux", the verdict is not
// pass, and every rule it can see judges as through /proc.
func TestLivePortableReaderNeverPassesWhatItCannotSee(t *testing.T) {
	dir := t.TempDir()
	pidfile, log := filepath.Join(dir, "good.pid"), filepath.Join(dir, "good.log")
	pid := start(t, launch{script: goodScript, setsid: true,
		env: []string{"PIDFILE=" + pidfile, "LOG=" + log, "DCHECK_DFL=2,3"}})
	pol := checks.Policy{PidFile: pidfile, Reaper: os.Getpid()}
	viaProc := judge(t, pid, pol)
	r, err := checks.Inspect(portable.Portable{}, pid, pol)
	if err != nil {
		t.Fatal(err)
	}
	unknown := map[string]bool{"DC202": true, "DC401": true, "DC502": true, "DC303": true}
	for _, f := range r.Findings {
		switch {
		case unknown[f.ID]:
			if f.Status != checks.Unknown || !strings.Contains(f.Message, "not available on "+runtime.GOOS) {
				t.Errorf("%s %s = %s (%s); want unknown, not available on %s", f.ID, f.Name, f.Status, f.Message, runtime.GOOS)
			}
		case f.Status != finding(viaProc, f.ID).Status:
			t.Errorf("%s %s = %s (%s) through gopsutil, %s (%s) through /proc", f.ID, f.Name, f.Status, f.Message, finding(viaProc, f.ID).Status, finding(viaProc, f.ID).Message)
		}
	}
	if r.Verdict != checks.VerdictUnknown {
		t.Errorf("verdict %s through gopsutil, want unknown: it could not see everything", r.Verdict)
	}
}
