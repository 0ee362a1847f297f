//go:build linux

package daemonize_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/daemonize"
	"github.com/dcheck/dcheck/internal/hostile"
	"github.com/dcheck/dcheck/internal/testclock"
	"github.com/dcheck/dcheck/proc"

	"github.com/dcheck/dcheck/internal/cleanstart"
)

// The tests build fixtures/good (gooddaemon) and drive it as a user would.
// The test binary is a child subreaper: every daemon it starts is adopted
// by it, so DC101 is judged with Reaper = os.Getpid(), and every process is
// killed and reaped by pid when a test ends.

var gooddaemon string

var procFS, _ = proc.NewFS("")

func TestMain(m *testing.M) {
	hostile.Trampoline()
	if os.Getenv("DCHECK_TEST_NEVER_READY") != "" {
		os.Exit(m.Run()) // a daemon of TestStartTimeoutKillsTheDaemon
	}
	cleanstart.Main() // whatever started the tests, the daemons they start inherit nothing of it
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	dir, err := os.MkdirTemp("", "gooddaemon")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755) // so that a daemon that dropped to nobody can still exec it
	gooddaemon = filepath.Join(dir, "gooddaemon")
	out, err := exec.Command("go", "build", "-o", gooddaemon, "github.com/dcheck/dcheck/fixtures/good").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building gooddaemon: %v\n%s", err, out)
		return 2
	}
	code := m.Run()
	reapAdopted()
	// No test may leave a process behind.
	if live := adopted(); len(live) > 0 {
		fmt.Fprintf(os.Stderr, "processes left running by the tests: %v\n", live)
		for pid := range live {
			killAndReap(pid)
		}
		return 1
	}
	return code
}

// result is what a gooddaemon command did.
type result struct {
	code           int
	stdout, stderr string
}

// gd runs gooddaemon with args, bounded to 60 s.
func gd(t testing.TB, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return run(t, exec.CommandContext(ctx, gooddaemon, args...))
}

// run runs cmd and returns its exit code and output; it fails the test
// only when cmd could not run at all.
func run(t testing.TB, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return result{code, out.String(), errb.String()}
}

// startedPID parses "started (pid N)".
func startedPID(t testing.TB, r result) int {
	t.Helper()
	var pid int
	if _, err := fmt.Sscanf(r.stdout, "started (pid %d)", &pid); err != nil || r.code != 0 {
		t.Fatalf("start: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	track(t, pid)
	return pid
}

// track kills and reaps pid when the test ends, whatever happened.
func track(t testing.TB, pid int) {
	t.Cleanup(func() { killAndReap(pid) })
}

func killAndReap(pid int) {
	unix.Kill(pid, unix.SIGKILL)
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
			return
		}
	}
}

// adopted lists the processes the test has adopted (or started) and not
// reaped, with their state letter.
func adopted() map[int]byte {
	out := map[int]byte{}
	children, _ := procFS.Children(os.Getpid())
	for _, pid := range children {
		if st, err := procFS.Stat(pid); err == nil {
			out[pid] = st.State
		}
	}
	return out
}

// reapAdopted reaps the zombies among the adopted processes, by pid.
func reapAdopted() {
	for pid, state := range adopted() {
		if state == 'Z' {
			killAndReap(pid)
		}
	}
}

// liveDaemons counts the adopted processes running gooddaemon.
func liveDaemons() []int {
	var pids []int
	for pid, state := range adopted() {
		if exe, err := procFS.Exe(pid); err == nil && exe == gooddaemon && state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

func readPidFile(t testing.TB, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := proc.ParsePidFile(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pid
}

// waitGone waits until pid has exited (and is reaped, or not our child).
func waitGone(t testing.TB, pid int) {
	t.Helper()
	reapAdopted()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := procFS.Stat(pid)
		if err != nil {
			return
		}
		if !st.Alive() {
			killAndReap(pid)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still runs", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHostileStartPassesEveryRule starts gooddaemon from the most hostile
// parent we can build and judges the daemon with every rule.
func TestHostileStartPassesEveryRule(t *testing.T) {
	dir := t.TempDir()
	pidfile, logfile := filepath.Join(dir, "good.pid"), filepath.Join(dir, "good.log")
	sentinel, err := os.Create(filepath.Join(dir, "sentinel"))
	if err != nil {
		t.Fatal(err)
	}
	defer sentinel.Close()
	ptm, pts, err := hostile.OpenPTY()
	if err != nil {
		t.Skipf("no ptys: %v", err)
	}
	defer ptm.Close()
	var tty bytes.Buffer
	var ttyDone sync.WaitGroup
	ttyDone.Go(func() { io.Copy(&tty, ptm) })

	umask := uint32(0o077)
	work := filepath.Join(dir, "work")
	os.Mkdir(work, 0o755)
	self, _ := os.Executable()
	l := hostile.Launch{
		Dir: work, Umask: &umask, TTY: pts, Inherited: sentinel,
		Ignore: []unix.Signal{unix.SIGHUP}, Block: []unix.Signal{unix.SIGUSR1},
		Env: append(os.Environ(), "TERM=xterm", "SSH_TTY=/dev/pts/9", "DCHECK_SENTINEL_VAR=1"),
	}
	cmd := l.Command(self, gooddaemon, "start", "-pidfile", pidfile, "-log", logfile)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	// At the instant the starter has exited, the pidfile names the daemon.
	pid := readPidFile(t, pidfile)
	track(t, pid)
	pts.Close()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if _, err := procFS.Stat(pid); err != nil {
		t.Fatalf("pidfile names pid %d, which does not run", pid)
	}

	fsys, _ := proc.NewFS("")
	id, _ := checks.StatFileID(sentinel.Name())
	r, err := checks.Inspect(fsys, pid, checks.Policy{
		PidFile: pidfile, Reaper: os.Getpid(), Inherited: []checks.FileID{id}, Strict: true,
		Starter: &checks.StarterFacts{Umask: &umask, Blocked: 1 << (unix.SIGUSR1 - 1), Ignored: 1 << (unix.SIGHUP - 1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		want := checks.Pass
		switch {
		case f.ID == "DC502" && os.Geteuid() == 0:
			want = checks.Skip // root, and asked to stay root
		case f.ID == "DC601":
			want = checks.Skip // no systemd unit runs it
		}
		if f.Status != want {
			t.Errorf("%s %s = %s, want %s: %s", f.ID, f.Name, f.Status, want, f.Message)
		}
	}
	env, _ := procFS.RawEnviron(pid, 1<<20)
	if bytes.Contains(env, []byte("DCHECK_DAEMONIZE_STAGE")) {
		t.Error("the stage marker is in the daemon's exec-time environment")
	}
	if !bytes.Contains(env, []byte("DCHECK_SENTINEL_VAR=1")) {
		t.Error("the daemon lost the rest of its environment")
	}
	if r := gd(t, "stop", "-pidfile", pidfile); r.code != 0 {
		t.Errorf("stop: %+v", r)
	}
	waitGone(t, pid)
	if _, err := os.Stat(pidfile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pidfile left after stop: %v", err)
	}
	ttyDone.Wait()
	if !strings.Contains(tty.String(), fmt.Sprintf("started (pid %d)", pid)) {
		t.Errorf("the terminal shows %q", tty.String())
	}
}

func TestConcurrentStartsRunOneDaemon(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "race.pid")
	logfile := filepath.Join(t.TempDir(), "race.log")
	const n = 50
	// A reader polls the pidfile throughout: it may be missing, never empty
	// or partial.
	stop := make(chan struct{})
	var seen []string
	var reader sync.WaitGroup
	reader.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(pidfile)
			if err == nil {
				if _, perr := proc.ParsePidFile(data); perr != nil {
					seen = append(seen, fmt.Sprintf("%q", data))
				}
			}
		}
	})
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = gd(t, "start", "-pidfile", pidfile, "-log", logfile) })
	}
	wg.Wait()
	close(stop)
	reader.Wait()
	reapAdopted()

	winner := readPidFile(t, pidfile)
	track(t, winner)
	started := 0
	for _, r := range results {
		switch {
		case r.code == 0:
			started++
			if startedPID(t, r) != winner {
				t.Errorf("%q, but the pidfile names %d", r.stdout, winner)
			}
		case r.code == 1 && strings.Contains(r.stderr, fmt.Sprintf("already running (pid %d)", winner)):
		default:
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	}
	if started != 1 {
		t.Errorf("%d starts succeeded, want exactly 1", started)
	}
	if live := liveDaemons(); len(live) != 1 || live[0] != winner {
		t.Errorf("live daemons %v, want only %d", live, winner)
	}
	if len(seen) > 0 {
		t.Errorf("a reader saw the pidfile empty or partial: %v", seen[:min(len(seen), 5)])
	}
	// A start that lost the race after its stdio went to the log says so
	// to its starter (above), never into the running daemon's log.
	if data, _ := os.ReadFile(logfile); bytes.Contains(data, []byte("already running")) {
		t.Errorf("the daemon's log holds the losers' errors:\n%s", data)
	}
	gd(t, "stop", "-pidfile", pidfile)
	waitGone(t, winner)
}

func TestStalePidFile(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "stale.pid")
	first := startedPID(t, gd(t, "start", "-pidfile", pidfile))
	killAndReap(first)
	waitGone(t, first)
	if r := gd(t, "status", "-pidfile", pidfile); r.code != 1 || !strings.Contains(r.stdout, fmt.Sprintf("stale pidfile %s names pid %d", pidfile, first)) {
		t.Errorf("status after kill -9: %+v", r)
	}
	if r := gd(t, "stop", "-pidfile", pidfile); r.code != 1 || !strings.Contains(r.stderr, "not running (stale)") {
		t.Errorf("stop of a stale pidfile: %+v", r)
	}
	second := startedPID(t, gd(t, "start", "-pidfile", pidfile))
	if second == first || readPidFile(t, pidfile) != second {
		t.Errorf("after a stale pidfile: started %d, pidfile %d (first was %d)", second, readPidFile(t, pidfile), first)
	}
	if r := gd(t, "status", "-pidfile", pidfile); r.code != 0 || r.stdout != fmt.Sprintf("running (pid %d)\n", second) {
		t.Errorf("status: %+v", r)
	}
	gd(t, "stop", "-pidfile", pidfile)
	waitGone(t, second)
	if r := gd(t, "status", "-pidfile", pidfile); r.code != 3 {
		t.Errorf("status after stop: %+v, want 3 (LSB: not running)", r)
	}
}

func TestStopNeverSignalsAnUnrelatedProcess(t *testing.T) {
	dir := t.TempDir()
	victim := exec.Command("sleep", "1000")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })
	vpid := victim.Process.Pid

	t.Run("an unlocked pidfile naming a live process", func(t *testing.T) {
		p := filepath.Join(dir, "unlocked.pid")
		os.WriteFile(p, []byte(fmt.Sprintf("%d\n", vpid)), 0o644)
		if r := gd(t, "stop", "-pidfile", p); r.code != 1 || !strings.Contains(r.stderr, "not running") {
			t.Errorf("stop: %+v", r)
		}
	})
	t.Run("a locked pidfile naming a process that does not hold it", func(t *testing.T) {
		p := filepath.Join(dir, "locked.pid")
		os.WriteFile(p, []byte(fmt.Sprintf("%d\n", vpid)), 0o644)
		holder := exec.Command("flock", "--no-fork", p, "sleep", "1000")
		if err := holder.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
		deadline := time.Now().Add(10 * time.Second)
		for st, _ := daemonize.StatusOf(p); st.State != daemonize.Running; st, _ = daemonize.StatusOf(p) {
			if time.Now().After(deadline) {
				t.Fatal("flock never took the lock")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if r := gd(t, "stop", "-pidfile", p); r.code != 1 || !strings.Contains(r.stderr, "does not hold the pidfile open") {
			t.Errorf("stop: %+v", r)
		}
	})
	if err := unix.Kill(vpid, 0); err != nil {
		t.Errorf("the unrelated process was hit: %v", err)
	}
	var ws unix.WaitStatus
	if pid, _ := unix.Wait4(vpid, &ws, unix.WNOHANG, nil); pid != 0 {
		t.Errorf("the unrelated process exited: %v", ws)
	}
}

// TestStopFollowsTheFileItOpenedNotThePath: the pidfile's path is swapped,
// again and again, between a file kept locked that names a victim and a
// symlink to /dev/null, which every daemon (the victim too) has open. Stop
// once checked "does the pid hold the pidfile" by the path again, followed
// the symlink, and killed the victim. It must check the file it opened.
func TestStopFollowsTheFileItOpenedNotThePath(t *testing.T) {
	dir := t.TempDir()
	victim := exec.Command("sleep", "1000") // stdin /dev/null: os/exec opens it
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })
	locked := filepath.Join(dir, "locked")
	if err := os.WriteFile(locked, []byte(strconv.Itoa(victim.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lf, err := os.Open(locked)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := unix.Flock(int(lf.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(dir, "victim.pid")
	stop := make(chan struct{})
	swapped := make(chan struct{})
	go func() { // the attacker: rename(2) makes each swap atomic
		defer close(swapped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tmp := filepath.Join(dir, "tmp")
			if i%2 == 0 {
				os.Symlink("/dev/null", tmp)
			} else {
				os.Link(locked, tmp)
			}
			os.Rename(tmp, pidfile)
		}
	}()
	for range 2000 {
		if _, err := daemonize.Stop(context.Background(), pidfile, time.Second); err == nil {
			t.Errorf("Stop succeeded: it signalled pid %d, which never held the pidfile", victim.Process.Pid)
			break
		}
	}
	close(stop)
	<-swapped
	if err := victim.Process.Signal(syscall.Signal(0)); err != nil || victim.ProcessState != nil {
		t.Errorf("the victim was hit: %v", err)
	}
	var ws unix.WaitStatus
	if pid, _ := unix.Wait4(victim.Process.Pid, &ws, unix.WNOHANG, nil); pid != 0 {
		t.Errorf("the victim exited: %v", ws)
	}
}

// TestStopRefusesAPidfileAnotherUserControls: a user who owns the pidfile's
// directory (here nobody, through setpriv) swaps the path between a file
// they keep locked, naming a root process, and a symlink to /dev/null.
// gooddaemon stop as root once SIGTERMed the victim in 3 of 3 runs. A
// pidfile in a directory another user can write is refused, unread, as
// systemd refuses an unsafe PIDFile=.
func TestStopRefusesAPidfileAnotherUserControls(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the attacker as nobody")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("no setpriv (util-linux)")
	}
	top := t.TempDir()
	dir := filepath.Join(top, "nobody")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := top; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // t.TempDir's levels are 0700: let nobody through
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	victim := exec.Command("sleep", "1000")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })
	attack := `cd "$1" || exit 1
echo "$2" >locked
exec 3<locked
flock 3
while :; do ln -s /dev/null t1 2>/dev/null; mv -T t1 victim.pid; ln locked t2 2>/dev/null; mv -T t2 victim.pid; done`
	attacker := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", attack, "sh", dir, strconv.Itoa(victim.Process.Pid))
	attacker.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := attacker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Kill(-attacker.Process.Pid, unix.SIGKILL) // its process group, by id
		attacker.Wait()
		reapAdopted()
	})
	pidfile := filepath.Join(dir, "victim.pid")
	deadline := time.Now().Add(slow(10 * time.Second))
	for {
		if _, err := os.Lstat(pidfile); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the attacker never made the pidfile")
		}
		time.Sleep(time.Millisecond) // a file gives no event
	}
	for range 3 {
		r := gd(t, "stop", "-pidfile", pidfile)
		if r.code == 0 || !strings.Contains(r.stderr, "unsafe pidfile") {
			t.Errorf("stop: exit %d, stderr %q; want a refusal naming the unsafe pidfile", r.code, r.stderr)
		}
	}
	_, err := daemonize.StatusOf(pidfile)
	if !errors.Is(err, daemonize.ErrUnsafePidFile) {
		t.Errorf("StatusOf: %v, want ErrUnsafePidFile", err)
	}
	var ws unix.WaitStatus
	if pid, _ := unix.Wait4(victim.Process.Pid, &ws, unix.WNOHANG, nil); pid != 0 {
		t.Errorf("the victim exited: %v", ws)
	}
}

func TestBadPidFilePaths(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("precious\n"), 0o644)
	link := filepath.Join(dir, "link.pid")
	os.Symlink(target, link)
	tests := []struct {
		name, pidfile, says string
	}{
		{"a symlink at the pidfile path", link, "symbolic link"},
		{"a missing directory", filepath.Join(dir, "missing", "x.pid"), "no such file or directory"},
		{"a directory that is a file", filepath.Join(target, "x.pid"), "not a directory"},
		{"a directory at the pidfile path", dir, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := liveDaemons()
			r := gd(t, "start", "-pidfile", tt.pidfile)
			if r.code != 1 || !strings.Contains(r.stderr, "pidfile: ") || !strings.Contains(r.stderr, tt.says) {
				t.Errorf("exit %d, stderr %q; want 1 saying pidfile: ... %s", r.code, r.stderr, tt.says)
			}
			reapAdopted()
			if after := liveDaemons(); len(after) != len(before) {
				t.Errorf("daemons left running: %v", after)
			}
		})
	}
	if data, _ := os.ReadFile(target); string(data) != "precious\n" {
		t.Errorf("the symlink's target was changed: %q", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("files left behind: %v", entries)
	}
}

func TestStartupFailureReachesTheForeground(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "d.pid")
	r := gd(t, "start", "-pidfile", pidfile, "-log", filepath.Join(dir, "no", "such", "dir", "d.log"))
	if r.code != 1 || !strings.Contains(r.stderr, "gooddaemon: stdio: open log") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	reapAdopted()
	if live := liveDaemons(); len(live) != 0 {
		t.Errorf("daemons left running: %v", live)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
}

func TestLogReopenOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	pidfile, logfile := filepath.Join(dir, "d.pid"), filepath.Join(dir, "d.log")
	pid := startedPID(t, gd(t, "start", "-pidfile", pidfile, "-log", logfile, "-interval", "20ms"))
	if err := os.Rename(logfile, logfile+".1"); err != nil {
		t.Fatal(err)
	}
	unix.Kill(pid, unix.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(logfile)
		if bytes.Contains(data, []byte("alive ")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing logged to the new %s after SIGHUP", logfile)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid2 := readPidFile(t, pidfile); pid2 != pid {
		t.Errorf("pid changed across SIGHUP: %d -> %d", pid, pid2)
	}
	old, _ := os.ReadFile(logfile + ".1")
	if !bytes.Contains(old, []byte("ready, pid")) {
		t.Errorf("the rotated log lost its start: %q", old)
	}
	gd(t, "stop", "-pidfile", pidfile)
	waitGone(t, pid)
}

func TestSupervisedModeNotifies(t *testing.T) {
	dir := t.TempDir()
	sock, next := supervisor(t)
	pidfile := filepath.Join(dir, "d.pid")
	cmd := exec.Command(gooddaemon, "run", "-pidfile", pidfile)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	if m := next(); m != fmt.Sprintf("READY=1\nMAINPID=%d", pid) {
		t.Errorf("first message %q", m)
	}
	if got := readPidFile(t, pidfile); got != pid {
		t.Errorf("pidfile %d, want the foreground process %d", got, pid)
	}
	if st, err := procFS.Stat(pid); err != nil || st.PPID != os.Getpid() {
		t.Error("supervised mode forked: the daemon is not the supervisor's child")
	}
	cmd.Process.Signal(syscall.SIGHUP)
	if m := next(); !strings.HasPrefix(m, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Errorf("on SIGHUP %q", m)
	}
	if m := next(); m != "READY=1" {
		t.Errorf("after reload %q", m)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if m := next(); m != "STOPPING=1" {
		t.Errorf("on SIGTERM %q", m)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
	if _, err := os.Stat(pidfile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pidfile left: %v", err)
	}
}

func TestPrivilegeDropCannotRegainRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop privileges")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	pidfile := filepath.Join(dir, "d.pid")
	pid := startedPID(t, gd(t, "start", "-pidfile", pidfile, "-log", filepath.Join(dir, "d.log"), "-user", "nobody"))
	fsys, _ := proc.NewFS("")
	r, err := checks.Inspect(fsys, pid, checks.Policy{PidFile: pidfile, Reaper: os.Getpid(), Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Status != checks.Pass && !(f.ID == "DC601" && f.Status == checks.Skip) { // DC601: no systemd unit runs it
			t.Errorf("%s %s = %s: %s", f.ID, f.Name, f.Status, f.Message)
		}
	}
	if uids := r.Process.UIDs; uids != [4]int{65534, 65534, 65534, 65534} || len(r.Process.Groups) != 0 {
		t.Errorf("uids %v groups %v", uids, r.Process.Groups)
	}
	if res := gd(t, "stop", "-pidfile", pidfile); res.code != 0 {
		t.Errorf("stop: %+v", res)
	}
	waitGone(t, pid)
}

// TestStartTimeoutKillsTheDaemon: whatever stage a timed-out start
// reached, Start returns ErrStartTimeout with nothing of the daemon left
// running and no pidfile left behind. With a budget too short for the
// daemon to say its pid, Start once returned while the daemon ran on; with
// one long enough to publish the pidfile, it once killed the daemon and
// left its pidfile.
func TestStartTimeoutKillsTheDaemon(t *testing.T) {
	for _, tt := range []struct {
		name    string
		timeout time.Duration
	}{
		{"the daemon has not said its pid yet", time.Nanosecond},
		{"the daemon has published its pidfile", slow(500 * time.Millisecond)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := "DCHECK_TEST_TOKEN=" + strconv.FormatInt(time.Now().UnixNano(), 10)
			pidfile := filepath.Join(t.TempDir(), "never.pid")
			r := helperDaemon(t, "never-ready", tt.timeout, pidfile, tok)
			if r.code != 1 || !strings.Contains(r.stderr, "ready: daemon not ready in time: killed") {
				t.Errorf("exit %d, stderr %q; want 1, the daemon killed", r.code, r.stderr)
			}
			if left := carrying(tok); len(left) > 0 {
				t.Errorf("processes of the failed start still run: %v", left)
			}
			if _, err := os.Lstat(pidfile); err == nil {
				t.Errorf("%s is left behind", pidfile)
			}
			if entries, _ := os.ReadDir(filepath.Dir(pidfile)); len(entries) > 0 {
				t.Errorf("left in the pidfile's directory: %s", entries[0].Name())
			}
			reapAdopted()
		})
	}
}

func TestExitDuringStartUpIsReported(t *testing.T) {
	// A budget the daemon never needs: it exits at once.
	r := helperDaemon(t, "exit-early", slow(30*time.Second), "")
	if r.code != 1 || r.stderr != "ready: daemon exited during start-up\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	reapAdopted()
}

// carrying lists the live processes whose environment holds kv.
func carrying(kv string) []int {
	var out []int
	pids, _ := procFS.PIDs()
	for _, pid := range pids {
		if pid == os.Getpid() {
			continue
		}
		if has, err := procFS.HasEnv(pid, kv, 1<<20); err != nil || !has {
			continue
		}
		if st, err := procFS.Stat(pid); err == nil && st.State != 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

func TestAnyUmaskIncludingZero(t *testing.T) {
	for _, u := range []string{"0000", "0027", "0777"} {
		t.Run(u, func(t *testing.T) {
			pidfile := filepath.Join(t.TempDir(), "d.pid")
			pid := startedPID(t, gd(t, "start", "-pidfile", pidfile, "-umask", u))
			want, _ := strconv.ParseUint(u, 8, 32)
			w := uint32(want)
			fsys, _ := proc.NewFS("")
			r, err := checks.Inspect(fsys, pid, checks.Policy{Umask: &w, Reaper: os.Getpid(), PidFile: pidfile})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Findings {
				if (f.ID == "DC202" || f.ID == "DC302") && f.Status != checks.Pass {
					t.Errorf("%s = %s: %s (the pidfile's mode must not depend on the umask)", f.ID, f.Status, f.Message)
				}
			}
			gd(t, "stop", "-pidfile", pidfile)
			waitGone(t, pid)
		})
	}
}

func TestErrorsCallersBranchOn(t *testing.T) {
	var err error = &daemonize.AlreadyRunningError{PidFile: "/run/x.pid", PID: 42}
	if !errors.Is(err, daemonize.ErrAlreadyRunning) || err.Error() != "already running (pid 42)" {
		t.Errorf("%v", err)
	}
	var se *daemonize.StepError
	wrapped := fmt.Errorf("start: %w", &daemonize.StepError{Step: "chdir", Err: os.ErrNotExist})
	if !errors.As(wrapped, &se) || se.Step != "chdir" || !errors.Is(wrapped, os.ErrNotExist) {
		t.Errorf("%v", wrapped)
	}
	env := daemonize.SanitizedEnv([]string{"PATH=/bin", "TERM=xterm", "SSH_TTY=/dev/pts/1", "XDG_SESSION_ID=3", "OLDPWD=/", "LANG=C"})
	if strings.Join(env, " ") != "PATH=/bin LANG=C" {
		t.Errorf("SanitizedEnv kept %v", env)
	}
	_, err = (&daemonize.Daemon{Umask: daemonize.UmaskOf(0o1000)}).Start()
	if !errors.As(err, &se) || se.Step != "config" {
		t.Errorf("umask out of range: %v", err)
	}
}

// supervisor is a notify socket that collects what a daemon sends.
func supervisor(t *testing.T) (sock string, next func() string) {
	t.Helper()
	sock = filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	messages := make(chan string, 1024)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			messages <- string(buf[:n])
		}
	}()
	return sock, func() string {
		select {
		case m := <-messages:
			return m
		case <-time.After(testclock.Scale(time.Minute)):
			t.Fatal("no notification within the safety net")
		}
		return ""
	}
}

// TestSupervisedWatchdog: with WATCHDOG_USEC, the daemon sends WATCHDOG=1
// once ready (every half interval, as sd_watchdog_enabled(3) asks), and
// not once it has sent STOPPING=1; with WATCHDOG_PID naming another
// process, it sends none.
func TestSupervisedWatchdog(t *testing.T) {
	run := func(t *testing.T, extra ...string) (pid int, next func() string, cmd *exec.Cmd) {
		sock, next := supervisor(t)
		pidfile := filepath.Join(t.TempDir(), "d.pid")
		cmd = exec.Command(gooddaemon, "run", "-pidfile", pidfile)
		cmd.Env = append(append(os.Environ(), "NOTIFY_SOCKET="+sock), extra...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if m := next(); m != fmt.Sprintf("READY=1\nMAINPID=%d", cmd.Process.Pid) {
			t.Fatalf("first message %q", m)
		}
		return cmd.Process.Pid, next, cmd
	}
	t.Run("pings", func(t *testing.T) {
		_, next, cmd := run(t, "WATCHDOG_USEC=20000")
		for i := 0; i < 3; i++ {
			if m := next(); m != "WATCHDOG=1" {
				t.Fatalf("message %d after READY=1: %q, want WATCHDOG=1", i+1, m)
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		for m := next(); m != "STOPPING=1"; m = next() {
			if m != "WATCHDOG=1" {
				t.Fatalf("before STOPPING=1: %q", m)
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit: %v", err)
		}
	})
	t.Run("another pid's watchdog", func(t *testing.T) {
		// Pings every half millisecond, were they for this process: a
		// reload's round trip takes longer than that.
		_, next, cmd := run(t, "WATCHDOG_USEC=1000", "WATCHDOG_PID=1")
		cmd.Process.Signal(syscall.SIGHUP)
		for _, want := range []string{"RELOADING=1", "READY=1"} {
			if m := next(); !strings.HasPrefix(m, want) {
				t.Fatalf("got %q, want %s: no WATCHDOG=1 is for this process", m, want)
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if m := next(); m != "STOPPING=1" {
			t.Fatalf("on SIGTERM %q", m)
		}
	})
}
