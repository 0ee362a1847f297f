package suites

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/hostile"
	"github.com/dcheck/dcheck/internal/sessionenv"
	"github.com/dcheck/dcheck/internal/sigaction"
	"github.com/dcheck/dcheck/suites/internal/sdemu"
)

// How the harness starts what the run runs: the hostile launch of the
// start command (on a pty, with the starter's umask, signals and
// descriptors), plain commands, their output, and the wait for readiness.

// The hostile launch: signals the starter ignores and blocks.
var (
	starterIgnored = []unix.Signal{unix.SIGHUP}
	starterBlocked = []unix.Signal{unix.SIGUSR1}
)

func (h *harness) env(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, markerEnv+"=") || strings.HasPrefix(kv, "NOTIFY_SOCKET=") ||
			strings.HasPrefix(kv, skipRedirectEnv+"=")
	})
	if h.cfg.InitScript != "" {
		// The script itself is under test: on a host booted with systemd,
		// Debian's init-functions would hand the action to systemctl.
		env = append(env, skipRedirectEnv+"=true")
	}
	return append(append(env, markerEnv+"="+h.runID), extra...)
}

// startCmd starts cmd, remembering that os/exec will wait for it.
func (h *harness) startCmd(cmd *exec.Cmd) error { return h.startCmdAs(cmd, sdemu.Other) }

// startCmdAs is startCmd giving the new process role at the notify
// socket too, with its reader held: a message the command sends at once
// is judged knowing who sent it.
func (h *harness) startCmdAs(cmd *exec.Cmd, role sdemu.Role) error {
	return h.procs.Start(func() (pid int, err error) {
		err = h.notify.Start(role, func() (int, error) {
			if err := cmd.Start(); err != nil {
				return 0, err
			}
			pid = cmd.Process.Pid
			return pid, nil
		})
		return pid, err
	})
}

// waitCmd waits for cmd up to timeout; on timeout it kills cmd (that one
// process: what it started is the cleanup's) and reports it.
func (h *harness) waitCmd(cmd *exec.Cmd, timeout time.Duration) (exitCode int, timedOut bool, err error) {
	done := make(chan error, 1)
	go func() {
		h.hearBeforeReap(cmd.Process.Pid)
		done <- cmd.Wait()
	}()
	select {
	case err = <-done:
	case <-time.After(timeout):
		h.signal(cmd.Process.Pid, unix.SIGKILL)
		err = <-done
		timedOut = true
	}
	h.procs.Waited(cmd.Process.Pid)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), timedOut, nil
	case err != nil:
		return -1, timedOut, err
	}
	return 0, timedOut, nil
}

// launchHostile prepares the start command for the hostile environment: a new
// pty as controlling terminal and stdio, a temporary working directory,
// umask 0037, SIGHUP ignored and SIGUSR1 blocked, the sentinel file on
// descriptor 9 without close-on-exec, TERM, SSH_TTY and the run's marker in
// the environment. A shell sets the umask and the ignored signal (both
// survive exec, and Go's os/exec can set neither); the blocked mask is set
// on the thread that forks.
//
// How the command meets the terminal is cfg.Launch. As the session leader
// (the default), /bin/sh execs it: the start command leads the session.
// With job control, bash leads the session and runs the command as a
// foreground job, its own process group, as typed at a prompt; bash keeps
// the blocked mask for its jobs (dash clears it). Once the job is done,
// bash gives up the terminal's descriptors and waits, still the session's
// leader, until the harness closes the hold pipe (or exits). It does not
// carry the run's marker: it is the harness's stand-in for a user's shell,
// never judged as part of the daemon's run; the cleanup stops it.
//
// Without the pty facility, stdin is /dev/null and stdout and stderr are a
// pipe, which stands in for the terminal: SU101 then asks whether the
// daemon let go of it.
func (h *harness) launchHostile(argv []string) (*exec.Cmd, error) {
	var ptm, pts *os.File
	var err error
	if h.can.pty {
		ptm, pts, err = hostile.OpenPTY()
	} else {
		ptm, pts, err = os.Pipe()
	}
	if err != nil {
		return nil, fmt.Errorf("pty: %w", err)
	}
	h.ptm, h.pts = ptm, pts
	h.startOut = &headBuffer{}
	h.ptyDrained.Go(func() { io.Copy(h.startOut, ptm) })
	work := filepath.Join(h.dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	var ign []string
	for _, s := range starterIgnored {
		ign = append(ign, strings.TrimPrefix(unix.SignalName(s), "SIG"))
	}
	prologue := fmt.Sprintf(`trap '' %s; umask %04o; `, strings.Join(ign, " "), StarterUmask)
	tty := pts.Name()
	if !h.can.pty {
		tty = "/dev/tty" // a login's value; the pipe has no name
	}
	env := h.env("TERM=xterm", "SSH_TTY="+tty, "SSH_CONNECTION=127.0.0.1 22 127.0.0.1 22")
	l := hostile.Launch{Dir: work, TTY: pts, Inherited: h.sentinel, Env: env}
	if !h.can.pty {
		l.TTY = nil
		cmd := l.Command("/bin/sh", append([]string{"-c", prologue + `exec "$@"`, "sh"}, argv...)...)
		cmd.Stdout, cmd.Stderr = pts, pts
		// A session of its own, as the pty launch gives it: never the
		// harness's.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		return cmd, nil
	}
	if h.cfg.Launch != LaunchJobControl {
		return l.Command("/bin/sh", append([]string{"-c", prologue + `exec "$@"`, "sh"}, argv...)...), nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	h.hold = w
	l.Env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, markerEnv+"=") })
	// Descriptor 9 is the sentinel; the hold pipe is 8, the job's never.
	script := prologue + fmt.Sprintf(`set -m; %s=%s "$@" 8<&-; set +m; exec /bin/sh -c 'read line' <&8 >/dev/null 2>&1 8<&-`, markerEnv, h.runID)
	cmd := l.Command(jobControlShell, append([]string{"-c", script, "bash"}, argv...)...)
	cmd.ExtraFiles[5] = r // descriptor 8
	return cmd, nil
}

// startOnThisThread starts cmd with the starter's blocked signals. The
// caller has locked its goroutine to its thread: the mask is the forking
// thread's, and so is a tracee (cmd.SysProcAttr.Ptrace).
func (h *harness) startOnThisThread(cmd *exec.Cmd) error {
	if h.unit() != nil { // systemd starts a service with no signal blocked
		return h.startUnitCmd(cmd, sdemu.Other)
	}
	if !h.can.sigmask {
		return h.startCmd(cmd)
	}
	restore, err := sigaction.BlockOnThread(starterBlocked...)
	if err != nil {
		return err
	}
	defer restore()
	return h.startCmd(cmd)
}

// launchPlain starts argv as a supervisor would: in a new session, in "/",
// stdin /dev/null, stdout and stderr to a file, the marker (and
// NOTIFY_SOCKET when playing systemd) in the environment; files are
// descriptors 3 onwards.
func (h *harness) launchPlain(argv []string, name string, files ...*os.File) (*exec.Cmd, error) {
	return h.launchPlainIn("/", argv, name, files...)
}

// launchPlainIn is launchPlain in directory dir.
func (h *harness) launchPlainIn(dir string, argv []string, name string, files ...*os.File) (*exec.Cmd, error) {
	out, err := os.OpenFile(filepath.Join(h.dir, name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	// A session of its own, as systemd gives each service: the harness's
	// session is never the daemon's.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Stdout, cmd.Stderr = out, out
	extra := []string{}
	if h.notify != nil {
		extra = append(extra, "NOTIFY_SOCKET="+h.notify.Addr())
	}
	// A supervisor's clean environment: no login-session variables.
	cmd.Env = slices.DeleteFunc(h.env(extra...), sessionenv.InEntry)
	cmd.ExtraFiles = files
	return cmd, h.startCmd(cmd)
}

// shell runs a shell command line (stop, restart) bounded by timeout.
func (h *harness) shell(line string, timeout time.Duration, name string) (int, bool, error) {
	// Run where the user ran dcheck, so that --stop './ctl stop' works.
	cmd, err := h.launchPlainIn(h.cfg.Dir, []string{"/bin/sh", "-c", line}, name)
	if err != nil {
		return -1, false, err
	}
	return h.waitCmd(cmd, timeout)
}

// maxOutput is as much of what a command printed as a message quotes: a
// daemon's output may be of any size.
const maxOutput = 4 << 10

// output returns what a launchPlain command printed, briefly
// (headBuffer.String).
func (h *harness) output(name string) string {
	f, err := os.Open(filepath.Join(h.dir, name+".out"))
	if err != nil {
		return ""
	}
	defer f.Close()
	var b headBuffer
	io.Copy(&b, f)
	return b.String()
}

// printed quotes what the command run as name printed, after ": "; ""
// when it printed nothing.
func (h *harness) printed(name string) string {
	if out := h.output(name); out != "" {
		return ": " + out
	}
	return ""
}

// ended says how a command the harness waited for (waitCmd) ended, in a
// user's words: "exited 1", "did not exit within 10s (killed)", "could not
// be waited for: ...".
func ended(code int, timedOut bool, err error, timeout time.Duration) string {
	switch {
	case timedOut:
		return fmt.Sprintf("did not exit within %v (killed)", timeout)
	case err != nil:
		return fmt.Sprintf("could not be waited for: %v", err)
	case code < 0:
		return "was killed by a signal"
	}
	return fmt.Sprintf("exited %d", code)
}

// headBuffer keeps what a command printed: the first maxOutput bytes, the
// last line, and how much there was. Messages quote it briefly (String);
// reports keep the head (Head).
type headBuffer struct {
	mu    sync.Mutex
	buf   []byte // the first maxOutput bytes
	tail  []byte // the last tailBytes bytes
	total int64
	lines int
}

// tailBytes is how much of the end of a command's output is kept.
const tailBytes = 256

func (b *headBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := min(len(p), maxOutput-len(b.buf))
	b.buf = append(b.buf, p[:keep]...)
	b.tail = append(b.tail, p[max(0, len(p)-tailBytes):]...)
	b.tail = b.tail[max(0, len(b.tail)-tailBytes):]
	b.total += int64(len(p))
	b.lines += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// briefLine bounds each line String quotes.
const briefLine = 120

// String is the output for a one-line message: as it is when short (two
// lines at most, 200 bytes at most); else its first and last lines and
// its size.
func (b *headBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	// A pty turns each newline into CR LF.
	all := strings.TrimSpace(strings.ReplaceAll(string(b.buf), "\r\n", "\n"))
	if int64(len(b.buf)) == b.total && len(all) <= 200 && strings.Count(all, "\n") <= 1 {
		return strings.ReplaceAll(all, "\n", " / ")
	}
	first, _, _ := strings.Cut(all, "\n")
	tail := strings.TrimSpace(strings.ReplaceAll(string(b.tail), "\r\n", "\n"))
	last := tail[strings.LastIndexByte(tail, '\n')+1:]
	cut := func(s string) string {
		if len(s) <= briefLine {
			return s
		}
		return strings.ToValidUTF8(s[:briefLine], "") + "…"
	}
	lines := b.lines
	if b.total > 0 && !bytes.HasSuffix(b.tail, []byte("\n")) {
		lines++
	}
	return fmt.Sprintf("%s … %s (%d bytes, %s)", cut(first), cut(last), b.total, plural(lines, "line", "lines"))
}

// Head is the first maxOutput bytes, with a note of what was left out.
func (b *headBuffer) Head() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if rest := b.total - int64(len(b.buf)); rest > 0 {
		return string(b.buf) + fmt.Sprintf("\n... (%d more bytes)", rest)
	}
	return string(b.buf)
}

// waitReady waits for the supervised daemon's READY=1, the pidfile, or
// its exit, up to timeout. Under a unit that notifies (Type=notify), as
// under systemd, READY=1 alone ends the start: the pidfile says nothing
// of it (a loaded machine put seconds between a daemon's pidfile and its
// READY=1, and a second's grace after the pidfile took it for none).
func (h *harness) waitReady(ctx context.Context, timeout time.Duration) (notified bool, mainpid int, exited bool) {
	deadline := time.After(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	byPidFile := h.cfg.PidFile != "" && (h.unit() == nil || !h.unit().Type.Notifies())
	var grace <-chan time.Time // READY=1 may follow the pidfile: wait a second for it
	for {
		select {
		case msg := <-h.notify.Heard():
			for _, line := range strings.Split(msg, "\n") {
				if k, v, _ := strings.Cut(line, "="); k == "MAINPID" {
					mainpid, _ = strconv.Atoi(v)
				}
			}
			if slices.Contains(strings.Split(msg, "\n"), "READY=1") {
				return true, mainpid, false
			}
		case how := <-h.fgDone:
			h.fgDone <- how
			return false, mainpid, true
		case <-tick.C: // the pidfile gives no event: poll it
			if byPidFile && grace == nil {
				if pid, _, err := h.readPid(); err == nil && alive(pid) {
					grace = time.After(time.Second)
				}
			}
		case <-grace:
			return false, mainpid, false
		case <-deadline:
			return false, mainpid, false
		case <-ctx.Done():
			return false, mainpid, false
		}
	}
}
