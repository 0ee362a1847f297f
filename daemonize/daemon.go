package daemonize

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/pidfd"
	"github.com/dcheck/dcheck/internal/procdir"
	"github.com/dcheck/dcheck/internal/sessionenv"
)

// DefaultUmask is the umask a SysV daemon gets when Daemon.Umask is nil:
// files it creates are writable by their owner only.
const DefaultUmask = 0o022

// DefaultStartTimeout is how long Start waits for Ready when
// Daemon.StartTimeout is zero.
const DefaultStartTimeout = 10 * time.Second

// stageEnv carries the stage and the descriptor layout from one re-exec to
// the next. The daemon removes it from its environment before anything else
// runs, so that os.Environ and its children never see it.
const stageEnv = "DCHECK_DAEMONIZE_STAGE"

// UmaskOf returns a pointer to m, for Daemon.Umask.
func UmaskOf(m uint32) *uint32 { return &m }

// Daemon describes how a program becomes a daemon. Configure it, call Start
// early in main, before anything with side effects: in SysV mode the
// program runs three times (the original process and two re-executions of
// the same binary with the same arguments), and only the last one, the
// daemon, goes past Start. A Daemon must not be copied after Start.
type Daemon struct {
	// PidFile is the path of the pidfile. Empty means none: nothing
	// prevents a second instance.
	PidFile string

	// Umask is the daemon's file mode creation mask, any value from 0 to
	// 0777 (UmaskOf(0) asks for 0). Nil means DefaultUmask in SysV mode, and
	// the inherited umask in foreground mode.
	Umask *uint32

	// Dir is the daemon's working directory. Empty means "/" in SysV mode
	// and the inherited directory in foreground mode.
	Dir string

	// Stdout and Stderr are log files for descriptors 1 and 2, opened for
	// appending and created with mode 0640 if missing; the same path for
	// both shares one open file. Empty means /dev/null in SysV mode, and
	// the inherited descriptor in foreground mode. They are reopened on
	// SIGHUP by SignalContext, for log rotation.
	Stdout, Stderr string

	// ExtraFiles are open files the daemon keeps, such as listening
	// sockets: ExtraFiles[i] becomes descriptor 3+i, as with os/exec, and
	// Files returns them in the daemon. Every other descriptor above 2 that
	// the original process had open is closed in the daemon, whether or not
	// it was close-on-exec. Nil means none.
	ExtraFiles []*os.File

	// Env is the daemon's environment. Nil means the original process's
	// environment; SanitizedEnv removes login-session variables from one.
	Env []string

	// StartTimeout bounds how long Start waits for the daemon's Ready.
	// Zero means DefaultStartTimeout. A daemon not ready in time is killed.
	StartTimeout time.Duration

	// Foreground runs the daemon in the calling process, for a supervisor
	// (systemd Type=notify, runit, a container runtime): no fork, no new
	// session; Ready notifies the supervisor. False still means foreground
	// when NOTIFY_SOCKET is set.
	Foreground bool

	// Credential, when not nil, is the user and group the daemon switches
	// to after its pidfile and logs are open: all of real, effective, saved
	// and file-system ids; supplementary groups become Credential.Groups
	// (nil clears them). Nil means no change.
	Credential *syscall.Credential

	// Reload is called on SIGHUP by the context from SignalContext, after
	// the log files are reopened. Nil means SIGHUP only reopens the logs.
	Reload func() error

	mu           sync.Mutex
	hs           *handshake    // the daemon's end of the readiness pipe (SysV)
	notify       *notifier     // the supervisor's socket (foreground, NOTIFY_SOCKET)
	watchdog     time.Duration // WATCHDOG_USEC: ping WATCHDOG=1 every half of it once ready; 0 when not asked
	stopWatchdog chan struct{} // closed by Close: the pings end
	watchdogDone chan struct{} // closed when they have
	pidFile      *os.File      // the open, locked pidfile
	pidPath      string        // its absolute path
	extra        []*os.File    // ExtraFiles, as the daemon sees them
	ready        bool
	closed       bool
	isDaemon     bool
}

// Child is the daemon as the original process knows it.
type Child struct {
	PID int // The daemon's pid
}

// stageSpec is what one stage tells the next, through stageEnv.
type stageSpec struct {
	Stage   int    `json:"stage"`
	Extra   int    `json:"extra"`             // ExtraFiles are descriptors 3 .. 3+Extra-1
	Ready   int    `json:"ready"`             // write end of the readiness pipe
	Tmp     int    `json:"tmp,omitempty"`     // the locked temporary pidfile, 0 when none
	TmpName string `json:"tmpname,omitempty"` // its path
	Stale   int    `json:"stale,omitempty"`   // the locked stale pidfile, 0 when none
}

// Start makes the process a daemon.
//
// In the original process it returns the daemon as a *Child once the daemon
// has written its pidfile and called Ready, or the error that stopped it:
// an *AlreadyRunningError, or a *StepError naming the step (possibly one
// the daemon reported through the handshake). The caller should then exit,
// 0 or 1, without further work.
//
// In the daemon it returns a nil *Child and nil after setting the daemon
// up; the caller then does its own start-up and calls Ready, or Fail. When
// the daemon cannot be made (its pidfile lost to another start, a step that
// failed), Start reports why to the original process, which returns it, and
// exits 1 without returning: nothing is written to the daemon's stderr,
// its log by then. In foreground mode it returns the error as it is.
func (d *Daemon) Start() (*Child, error) {
	if spec, ok := os.LookupEnv(stageEnv); ok {
		return nil, d.startStage(spec)
	}
	if err := d.validate(); err != nil {
		return nil, stepErr("config", err)
	}
	if d.Foreground || os.Getenv("NOTIFY_SOCKET") != "" {
		return nil, d.startForeground()
	}
	return d.startOriginal()
}

func (d *Daemon) validate() error {
	if d.Umask != nil && *d.Umask > 0o777 {
		return fmt.Errorf("umask %#o is out of range 0-0777", *d.Umask)
	}
	if d.StartTimeout < 0 {
		return fmt.Errorf("negative start timeout %v", d.StartTimeout)
	}
	if d.Dir != "" && !filepath.IsAbs(d.Dir) {
		return fmt.Errorf("working directory %q is not absolute", d.Dir)
	}
	return nil
}

func (d *Daemon) env() []string {
	env := d.Env
	if env == nil {
		env = os.Environ()
	}
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, stageEnv+"=") })
}

// startOriginal runs in the original process: take the pidfile, make the
// pipe, start stage 1 in a new session, wait for the daemon's word.
func (d *Daemon) startOriginal() (*Child, error) {
	var c *claim
	if d.PidFile != "" {
		abs, err := filepath.Abs(d.PidFile)
		if err != nil {
			return nil, stepErr("pidfile", err)
		}
		if c, err = claimPidFile(abs); err != nil {
			return nil, stepErr("pidfile", err)
		}
		defer c.abandon() // the daemon has renamed or linked what it publishes
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, stepErr("pipe", err)
	}
	defer r.Close()

	spec := stageSpec{Stage: 1, Extra: len(d.ExtraFiles)}
	files := append(slices.Clone(d.ExtraFiles), w)
	spec.Ready = 2 + len(files)
	if c != nil {
		files = append(files, c.tmp)
		spec.Tmp, spec.TmpName = 2+len(files), c.tmp.Name()
		if c.stale != nil {
			files = append(files, c.stale)
			spec.Stale = 2 + len(files)
		}
	}
	js, _ := json.Marshal(spec)
	exe, err := os.Executable()
	if err != nil {
		w.Close()
		return nil, stepErr("fork", err)
	}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        os.Args,
		Env:         append(d.env(), stageEnv+"="+string(js)),
		ExtraFiles:  files,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, stepErr("fork", err)
	}
	w.Close()
	timeout := d.StartTimeout
	if timeout == 0 {
		timeout = DefaultStartTimeout
	}
	pid, err := awaitReady(r, d.PidFile, time.Now().Add(timeout))
	if err == nil {
		cmd.Wait() // stage 1 exits as soon as it has started the daemon
		return &Child{PID: pid}, nil
	}
	// When Start fails, nothing it started is left, whatever stage it
	// reached: the daemon may not have said its pid yet, or may have
	// published the pidfile already. Everything it started is in the
	// session stage 1 made, whose id is stage 1's pid (stage 2 never calls
	// setsid; the kernel does not reuse the number while the session
	// lives). A daemon that reported its failure is on its way out and gets
	// a moment to go by itself; one that timed out gets SIGKILL at once.
	grace := 5 * time.Second
	if errors.Is(err, ErrStartTimeout) {
		grace = 0
		if pid > 0 {
			err = stepErr("ready", fmt.Errorf("%w: killed pid %d after %v", ErrStartTimeout, pid, timeout))
		} else {
			err = stepErr("ready", fmt.Errorf("%w: killed the daemon (it had not said its pid) after %v", ErrStartTimeout, timeout))
		}
	}
	if grace == 0 {
		cmd.Process.Kill() // stage 1, if it has not started stage 2 yet
	}
	cmd.Wait()
	killSession(cmd.Process.Pid, grace)
	if c != nil && samePath(c.path, c.tmp) {
		os.Remove(c.path) // the daemon had published it: it is ours to take back
	}
	return nil, err
}

// startStage runs in a re-executed process: stage 1 never returns.
func (d *Daemon) startStage(js string) error {
	var spec stageSpec
	if err := json.Unmarshal([]byte(js), &spec); err != nil {
		return stepErr("config", fmt.Errorf("bad %s: %v", stageEnv, err))
	}
	hs := &handshake{w: os.NewFile(uintptr(spec.Ready), "ready")}
	if spec.Stage == 1 {
		err := d.stage1(spec)
		hs.report(err)
		os.Exit(1)
	}
	os.Unsetenv(stageEnv)
	scrubExecEnv(stageEnv) // and from /proc/self/environ, where ps e shows it
	d.hs, d.isDaemon = hs, true
	if err := hs.send("PID %d", os.Getpid()); err != nil {
		// The original process has given up (its start timed out) and
		// reported the failure: a daemon it cannot account for must not run.
		os.Exit(1)
	}
	if err := d.stage2(spec); err != nil {
		// The daemon could not be made: the original process says why
		// and exits 1. Nothing goes to the daemon's own stderr, already
		// its log: "already running" from a start that lost the race
		// is the starter's to say, not the running daemon's log's.
		hs.report(err)
		d.Close()
		os.Exit(1)
	}
	return nil
}

// stage1 is the session leader made by setsid: it resets what survives
// exec (ignored signals, the blocked mask, descriptors without
// close-on-exec) and starts stage 2, which is not a session leader and so
// can never acquire a controlling terminal. Then it exits, and stage 2 is
// orphaned to the reaper. On success it does not return.
func (d *Daemon) stage1(spec stageSpec) error {
	if pid := os.Getpid(); !isSessionLeader(pid) {
		return stepErr("setsid", fmt.Errorf("stage 1 (pid %d) does not lead its session", pid))
	}
	// The fork below happens on this thread; its mask is the child's.
	runtime.LockOSThread()
	if err := resetSignals(); err != nil {
		return stepErr("signals", err)
	}
	if err := closeOnExecAbove(2); err != nil {
		return stepErr("stdio", err)
	}
	var files []*os.File
	for fd := 3; fd < 3+spec.Extra; fd++ {
		files = append(files, os.NewFile(uintptr(fd), fmt.Sprintf("extra-%d", fd)))
	}
	for _, fd := range []int{spec.Ready, spec.Tmp, spec.Stale} {
		if fd > 0 {
			files = append(files, os.NewFile(uintptr(fd), fmt.Sprint("fd-", fd)))
		}
	}
	spec.Stage = 2
	js, _ := json.Marshal(spec)
	dir := d.Dir
	if dir == "" {
		dir = "/"
	}
	if st, err := os.Stat(dir); err != nil {
		return stepErr("chdir", err)
	} else if !st.IsDir() {
		return stepErr("chdir", fmt.Errorf("%s is not a directory", dir))
	}
	env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, stageEnv+"=") }),
		stageEnv+"="+string(js))
	exe, err := os.Executable()
	if err != nil {
		return stepErr("fork", err)
	}
	cmd := &exec.Cmd{Path: exe, Args: os.Args, Env: env, Dir: dir, ExtraFiles: files}
	if err := cmd.Start(); err != nil {
		return stepErr("fork", err)
	}
	os.Exit(0)
	return nil
}

// stage2 is the daemon: umask, logs, pidfile, credentials.
func (d *Daemon) stage2(spec stageSpec) error {
	umask := uint32(DefaultUmask)
	if d.Umask != nil {
		umask = *d.Umask
	}
	unix.Umask(int(umask))
	for fd := 3; fd < 3+spec.Extra; fd++ {
		unix.CloseOnExec(fd)
		d.extra = append(d.extra, os.NewFile(uintptr(fd), fmt.Sprintf("extra-%d", fd)))
	}
	unix.CloseOnExec(spec.Ready)
	if err := d.openLogs(); err != nil {
		return stepErr("stdio", err)
	}
	if spec.Tmp > 0 {
		c := &claim{path: d.absPidFile(), tmp: os.NewFile(uintptr(spec.Tmp), spec.TmpName)}
		if spec.Stale > 0 {
			c.stale = os.NewFile(uintptr(spec.Stale), c.path)
		}
		unix.CloseOnExec(spec.Tmp)
		if err := c.publish(os.Getpid()); err != nil {
			c.close()
			return stepErr("pidfile", err)
		}
		d.setPidFile(c)
	}
	return d.dropPrivileges()
}

// startForeground sets up a daemon that stays in the calling process.
func (d *Daemon) startForeground() error {
	d.isDaemon = true
	d.notify = newNotifier()
	// WATCHDOG_USEC (and WATCHDOG_PID naming this process): the supervisor
	// wants WATCHDOG=1 within every interval once the daemon is ready. The
	// variables are removed, as NOTIFY_SOCKET is, for the children's sake.
	interval, err := sddaemon.SdWatchdogEnabled(true)
	if err != nil {
		return stepErr("notify", err)
	}
	if d.notify != nil {
		d.watchdog = interval
	}
	if d.Umask != nil {
		unix.Umask(int(*d.Umask))
	}
	if d.Dir != "" {
		if err := os.Chdir(d.Dir); err != nil {
			return stepErr("chdir", err)
		}
	}
	if err := d.openLogs(); err != nil {
		return stepErr("stdio", err)
	}
	d.extra = d.ExtraFiles
	if d.PidFile != "" {
		c, err := claimPidFile(d.absPidFile())
		if err != nil {
			return stepErr("pidfile", err)
		}
		if err := c.publish(os.Getpid()); err != nil {
			c.abandon()
			return stepErr("pidfile", err)
		}
		d.setPidFile(c)
	}
	return d.dropPrivileges()
}

func (d *Daemon) absPidFile() string {
	abs, err := filepath.Abs(d.PidFile)
	if err != nil {
		return d.PidFile
	}
	return abs
}

func (d *Daemon) setPidFile(c *claim) {
	d.mu.Lock()
	d.pidFile, d.pidPath = c.tmp, c.path
	d.mu.Unlock()
}

// Files returns ExtraFiles as the daemon sees them: descriptors 3 and up,
// close-on-exec. It is nil in the original process.
func (d *Daemon) Files() []*os.File { return d.extra }

// Ready tells whoever waits that the daemon is up: the original process,
// which then exits 0, or the supervisor (READY=1 and MAINPID over
// NOTIFY_SOCKET). Call it once the daemon serves; later calls do nothing.
func (d *Daemon) Ready() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ready || !d.isDaemon {
		return nil
	}
	d.ready = true
	if d.hs != nil {
		err := d.hs.send("READY")
		d.hs.close()
		return stepErr("ready", err)
	}
	if d.watchdog > 0 {
		d.stopWatchdog, d.watchdogDone = make(chan struct{}), make(chan struct{})
		go d.notify.watchdog(d.watchdog, d.stopWatchdog, d.watchdogDone)
	}
	return stepErr("notify", d.notify.send(fmt.Sprintf("%s\nMAINPID=%d", sddaemon.SdNotifyReady, os.Getpid())))
}

// Fail reports a start-up failure to the original process, which prints it
// and exits 1. The daemon should then Close and exit. After Ready, Fail
// does nothing.
func (d *Daemon) Fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ready || d.hs == nil {
		return
	}
	d.ready = true
	d.hs.report(stepErr("start", err))
	d.hs.close()
}

// Close ends the daemon's life as a daemon: it tells the supervisor
// STOPPING=1, and removes the pidfile while still holding its lock. Call it
// on the way out; later calls do nothing.
func (d *Daemon) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || !d.isDaemon {
		return nil
	}
	d.closed = true
	if d.stopWatchdog != nil {
		close(d.stopWatchdog)
		<-d.watchdogDone // no ping after STOPPING=1
	}
	d.notify.send(sddaemon.SdNotifyStopping)
	d.hs.close()
	if d.pidFile != nil {
		return removePidFile(d.pidPath, d.pidFile)
	}
	return nil
}

// openLogs points descriptors 1 and 2 at the log files, or at /dev/null
// when none is named (SysV mode: stage 1 already did that).
func (d *Daemon) openLogs() error {
	opened := map[string]int{}
	for _, l := range []struct {
		path string
		fd   int
	}{{d.Stdout, 1}, {d.Stderr, 2}} {
		if l.path == "" {
			continue
		}
		fd, ok := opened[l.path]
		if !ok {
			var err error
			fd, err = unix.Open(l.path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOCTTY, 0o640)
			if err != nil {
				return fmt.Errorf("open log %s: %w", l.path, err)
			}
			defer unix.Close(fd)
			opened[l.path] = fd
		}
		if err := dup2(fd, l.fd); err != nil {
			return fmt.Errorf("dup log %s onto %d: %w", l.path, l.fd, err)
		}
	}
	return nil
}

func (d *Daemon) dropPrivileges() error {
	c := d.Credential
	if c == nil {
		return nil
	}
	groups := make([]int, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = int(g)
	}
	// setgroups before setgid before setuid: each needs the privilege the
	// next one gives up. Go applies them to every thread.
	if err := syscall.Setgroups(groups); err != nil {
		return stepErr("credential", fmt.Errorf("setgroups: %w", err))
	}
	if err := setAllGIDs(int(c.Gid)); err != nil {
		return stepErr("credential", fmt.Errorf("set gid %d: %w", c.Gid, err))
	}
	if err := setAllUIDs(int(c.Uid)); err != nil {
		return stepErr("credential", fmt.Errorf("set uid %d: %w", c.Uid, err))
	}
	if c.Uid != 0 && syscall.Setuid(0) == nil {
		return stepErr("credential", errors.New("could regain root after dropping it"))
	}
	return nil
}

// SanitizedEnv returns env without the variables of a login session, which
// a daemon started at boot would not have: TERM, SSH_*, DISPLAY, WINDOWID,
// XDG_SESSION_*, OLDPWD (dcheck's DC501).
func SanitizedEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), sessionenv.InEntry)
}

func isSessionLeader(pid int) bool {
	sid, err := unix.Getsid(0)
	return err == nil && sid == pid
}

// scrubExecEnv removes the entry NAME=... from the environment block the
// kernel shows as /proc/self/environ (the one the process was exec'd with;
// Go copied it at start and no longer reads it). The following entries move
// up and the block ends in NULs. It does nothing if the entry is absent or
// the block cannot be written.
func scrubExecEnv(name string) {
	envStart, envEnd, err := procdir.EnvRange(os.Getpid())
	start, end := int64(envStart), int64(envEnd)
	if err != nil || end <= start || end-start > 1<<22 {
		return
	}
	mem, err := os.OpenFile(procdir.Mount+"/self/mem", os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer mem.Close()
	block := make([]byte, end-start)
	if _, err := mem.ReadAt(block, start); err != nil {
		return
	}
	prefix := []byte(name + "=")
	var out []byte
	found := false
	for _, e := range bytes.SplitAfter(block, []byte{0}) {
		if bytes.HasPrefix(e, prefix) {
			found = true
			continue
		}
		out = append(out, e...)
	}
	if !found {
		return
	}
	out = append(out, make([]byte, len(block)-len(out))...)
	mem.WriteAt(out, start)
}

// killSession ends every process of session sid: it waits up to grace for
// them to exit by themselves, then sends SIGKILL, each through a pidfd
// taken before its session is checked again, and returns when none is
// left (or after 10 s more). The members are found by getsid(2) on every
// pid in /proc: a session gives no list of its own.
func killSession(sid int, grace time.Duration) {
	members := func() []int {
		var out []int
		pids, _ := procdir.Numeric(procdir.Mount)
		for _, pid := range pids {
			if pid == os.Getpid() {
				continue
			}
			if s, err := unix.Getsid(pid); err == nil && s == sid && !pidfd.Exited(pid) {
				out = append(out, pid)
			}
		}
		return out
	}
	for deadline := time.Now().Add(grace); time.Now().Before(deadline) && len(members()) > 0; {
		time.Sleep(10 * time.Millisecond) // a session's end gives no event
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		pids := members()
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			h, err := pidfd.Open(pid)
			if err != nil {
				continue // gone
			}
			if s, err := unix.Getsid(pid); err == nil && s == sid {
				h.Signal(unix.SIGKILL)
				h.Wait(context.Background(), time.Second)
			}
			h.Close()
		}
	}
}
