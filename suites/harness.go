package suites

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/hostile"
	"github.com/dcheck/dcheck/internal/safepath"
	"github.com/dcheck/dcheck/internal/sessionenv"
	"github.com/dcheck/dcheck/internal/sigaction"
	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/suites/internal/guard"
	"github.com/dcheck/dcheck/suites/internal/reaper"
	"github.com/dcheck/dcheck/suites/internal/sdemu"
)

// markerEnv marks every process a run starts, and so every process they
// start in turn (unless it clears its environment): SU108 and the cleanup
// find leftovers by it, beside the daemon's session and the harness's
// adopted children.
const markerEnv = "DCHECK_SUITE_RUN"

// The hostile launch: signals the starter ignores and blocks.
var (
	starterIgnored = []unix.Signal{unix.SIGHUP}
	starterBlocked = []unix.Signal{unix.SIGUSR1}
)

// harness is one run of the suite against one daemon: it launches, tracks
// and cleans up every process, and remembers what the specs found.
type harness struct {
	cfg   Config
	runID string
	dir   string
	can   facilities // what this system lets the harness do
	look  looker     // how it reads processes (looks)
	fs    *proc.FS   // /proc, for the socket specs; nil without the procfs facility
	// subreaper: orphans of the run are re-parented to the harness (and
	// reaped by it), whatever the adopt facility lets it learn from them.
	subreaper bool
	sentinel  *os.File
	sentID    checks.FileID
	notify    *sdemu.NotifySocket // supervised: the harness plays the supervisor (notify.go); nil when it offers none

	startTicks  uint64 // when the run began, in clock ticks after boot: older processes are never of it
	cleanupOnce sync.Once

	procs *reaper.Table // every process the run started or adopted, reaped by pid
	guard *guard.Guard  // decides, and sends, every signal of the run (guard.go)

	mu      sync.Mutex
	before  string            // the pidfile as it was before the run started anything; "" when absent
	actions int               // init-script actions run so far, for their output files
	runtime sdemu.RuntimeDirs // --unit: what the run did to the RuntimeDirectory= paths
	// stopSurvivors, under --unit with KillMode=control-group, are the
	// processes ("pid (comm)") still running when the stop's timeout was
	// over, before they were killed as systemd kills them (SU108).
	stopSurvivors []string
	sched         []schedSample           // --unit with WatchdogSec=: how long the daemon had waited for a CPU, sampled while SU114 watches
	schedDone     chan struct{}           // closed when SU114 no longer needs samples; nil when none are taken
	sockets       []sdemu.ListeningSocket // --socket: the listening sockets passed to each start
	probes        []probeResult           // --probe: each address, at the unit's readiness
	probed        bool                    // the probes were made (once)
	gone          string                  // how the daemon ended before the stop step, when a spec saw it: "pid N died on SIGHUP (...)"
	startedAt     time.Time               // when the start command was launched
	readyAt       time.Time               // supervised: when READY=1 (or the pidfile) said it was ready

	// What the run has learnt (setup.go, lifecycle.go).
	start         startFacts      // how the start command went
	daemon        int             // the daemon's pid now, 0 when none was found
	daemonSeen    int             // the daemon setup found and settled on, 0 when none
	foreign       int             // a live pid the pidfile named that this run did not start, 0 when none
	daemonSID     int             // its session
	startOut      *headBuffer     // what the start command printed (on the pty), the first maxOutput bytes
	fg            *exec.Cmd       // supervised: the running daemon
	fgDone        chan string     // supervised: how it exited
	mainpidNote   string          // supervised: MAINPID named another process
	handedTo      int             // supervised: the process of the run MAINPID named instead of the started one; nothing is judged
	waivers       []checks.Waiver // the waivers Config.Tailor chose for the daemon
	tailored      bool            // Config.Tailor has run: waivers are its
	report        *checks.Report  // the judgement, taken once
	reportErr     error
	stopped       stopFacts       // the stop step, once
	reloaded      reloadFacts     // the reload step, once
	fresh         freshFacts      // the fresh start, when an earlier spec destroyed the state the next one needs (fresh.go)
	onFresh       map[string]bool // the specs judged on the fresh daemon
	readiness     readiness       // SU102's verdict, taken when the start command exited
	notifiedReady bool            // supervised: READY=1 arrived
	results       []result
	ptm, pts      *os.File
	leader        int      // job-control launch: the shell that leads the start's session, 0 when none
	hold          *os.File // job-control launch: the leader waits until this closes
	ptyDrained    sync.WaitGroup
}

func newHarness(cfg Config) (*harness, error) {
	keepInheritedFromChildren()
	fac := can()
	if err := needs(cfg, fac); err != nil {
		return nil, err
	}
	subreaper := false
	if err := becomeSubreaper(); err == nil {
		subreaper = true
	} else if fac.adopt {
		return nil, fmt.Errorf("PR_SET_CHILD_SUBREAPER: %w", err)
	}
	look := looks()
	if look == nil {
		return nil, errors.New("/proc cannot be read: mount it, or set " + harnessEnv + "=portable")
	}
	fsys, _ := look.(*proc.FS)
	var id [8]byte
	rand.Read(id[:])
	h := &harness{cfg: cfg, runID: hex.EncodeToString(id[:]), can: fac, look: look, fs: fsys, subreaper: subreaper,
		startTicks: bootTicks(fac),
		onFresh:    map[string]bool{},
	}
	h.guard = &guard.Guard{Look: look, Marker: markerEnv + "=" + h.runID, Environ: fac.environ, StartTicks: h.startTicks}
	// Adopted zombies are reaped once what they sent to the notify
	// socket is heard: until then they are in /proc, to be traced to the
	// run.
	h.procs = reaper.New(reaper.Config{Look: look, Subreaper: subreaper, Learn: fac.adopt, BeforeReap: h.syncNotify})
	var err error
	if h.dir, err = os.MkdirTemp("", "dcheck-suite-"); err != nil {
		return nil, err
	}
	running.Lock()
	if running.closed {
		running.Unlock()
		os.RemoveAll(h.dir)
		return nil, errInterrupted
	}
	running.set[h] = true
	running.Unlock()
	// A harness that fails half-made is cleaned up like any other.
	fail := func(err error) (*harness, error) {
		h.cleanup()
		return nil, err
	}
	if h.sentinel, err = os.Create(filepath.Join(h.dir, "sentinel")); err != nil {
		return fail(err)
	}
	if h.sentID, err = checks.StatFileID(h.sentinel.Name()); err != nil {
		return fail(err)
	}
	if err := h.openSockets(); err != nil {
		return fail(err)
	}
	if cfg.Profile == checks.ProfileSupervised && fac.notify {
		if err := h.listenNotify(); err != nil {
			return fail(err)
		}
	}
	if subreaper {
		h.procs.Run() // once h.notify is set: the reaper syncs with it
	}
	return h, nil
}

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

// track remembers pid for the cleanup.
func (h *harness) track(pid int) { h.procs.Track(pid) }

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

// adopted lists the harness's live children that os/exec does not wait
// for, orphans adopted as subreaper, and reaps the zombies among them
// (reaper.Table.Adopted).
func (h *harness) adopted() []int { return h.procs.Adopted() }

// noteKilled records that pid, of the run, was killed by sig.
func (h *harness) noteKilled(pid int, sig unix.Signal) {
	st, _ := procStat(pid)
	h.procs.NoteKilled(pid, st.Comm, sig)
}

// ours lists the live processes of this run: adopted by the harness, or
// carrying the run's marker wherever they are.
func (h *harness) ours() []int {
	pids := h.adopted()
	for _, pid := range h.marked(0) {
		if !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// childrenOf lists pid's children (every thread's).
func childrenOf(pid int) []int {
	l := looks()
	if l == nil {
		return nil
	}
	children, _ := l.Children(pid)
	return children
}

// procStat is pid's stat, and whether it could be read: the quick look
// (state, session) the harness takes many times a second.
func procStat(pid int) (proc.ProcStat, bool) {
	l := looks()
	if l == nil {
		return proc.ProcStat{}, false
	}
	st, err := l.Stat(pid)
	return st, err == nil
}

func alive(pid int) bool {
	st, ok := procStat(pid)
	return ok && st.Alive()
}

// marked lists live processes carrying this run's marker, and those in
// session sid (when not 0), the harness excluded.
func (h *harness) marked(sid int) []int {
	me := os.Getpid()
	if own, err := unix.Getsid(0); err != nil || sid == own {
		sid = 0 // never the harness's own session: it holds the harness's callers
	}
	l := looks()
	if l == nil {
		return nil
	}
	var out []int
	pids, _ := l.PIDs()
	for _, pid := range pids {
		st, ok := procStat(pid)
		if pid == me || pid == h.leader || !ok || !st.Alive() {
			continue
		}
		if (sid != 0 && st.Session == sid) || h.guard.CarriesMarker(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// waitExit waits up to timeout for pid to exit, and reaps it when it is the
// harness's child. It returns whether it exited and, when reaped, how.
func (h *harness) waitExit(pid int, timeout time.Duration) (bool, string) {
	return h.procs.WaitExit(pid, timeout)
}

// readPid reads the configured pidfile as proc.ReadPid does (no symlink,
// no FIFO, at most a few KiB, the pid on the first line); 0 when it holds
// no pid. The bytes are a short form of the pid, or of the error, for
// comparing two looks at the file.
func (h *harness) readPid() (int, []byte, error) {
	pid, err := proc.ReadPid(h.cfg.PidFile)
	if err != nil {
		return 0, []byte(err.Error()), err
	}
	return pid, []byte(strconv.Itoa(pid)), nil
}

// policy is what the judge knows: the configuration and the hostile
// launch's starter facts.
func (h *harness) policy() checks.Policy {
	pol := checks.Policy{Profile: h.cfg.Profile, Umask: h.cfg.Umask, Cwds: h.cfg.Cwds,
		PidFile: h.cfg.PidFile, Strict: h.cfg.Strict, Waivers: h.cfg.Waivers}
	if tailor := h.cfg.Tailor; tailor != nil {
		pol.Tailor = func(s *proc.Snapshot, p *checks.Policy) {
			profile, reaper := p.Profile, p.Reaper
			tailor(s, p)
			p.Profile, p.Reaper = profile, reaper
			h.mu.Lock()
			h.waivers, h.tailored = p.Waivers, true
			h.mu.Unlock()
		}
	}
	if h.unit() != nil {
		// systemd is the starter: no signal blocked or ignored, no
		// descriptor passed on. Its umask is the unit's, chosen on
		// purpose: keeping it is no fault, and DC202 says whose it is.
		u := h.unit().Umask()
		pol.Starter = &checks.StarterFacts{Umask: &u, UmaskSetter: "the unit's UMask="}
	} else if h.cfg.Profile != checks.ProfileSupervised {
		u := uint32(StarterUmask)
		var blk, ign proc.SignalSet
		for _, s := range starterBlocked {
			blk |= 1 << (uint(s) - 1)
		}
		for _, s := range starterIgnored {
			ign |= 1 << (uint(s) - 1)
		}
		if !h.can.sigmask {
			blk = 0 // not set: see startOnThisThread
		}
		pol.Starter = &checks.StarterFacts{Umask: &u, Blocked: blk, Ignored: ign}
		pol.Inherited = []checks.FileID{h.sentID}
	}
	if h.subreaper {
		pol.Reaper = os.Getpid()
	}
	return pol
}

// waiver returns the waiver for rule id: the tailored policy's once the
// daemon has been judged, the configuration's before.
func (h *harness) waiver(id string) (checks.WaiverView, bool) {
	h.mu.Lock()
	pol := checks.Policy{Waivers: h.cfg.Waivers}
	if h.tailored {
		pol.Waivers = h.waivers
	}
	h.mu.Unlock()
	return pol.WaiverFor(id)
}

// judge inspects the daemon once, during setup; the DC specs share the
// result. Without a daemon, the error says why there is none.
func (h *harness) judge() (*checks.Report, error) {
	if h.report == nil && h.reportErr == nil {
		if h.daemon == 0 || !h.start.launched {
			h.reportErr = errors.New("no daemon to judge: " + h.noDaemonReason())
		} else {
			h.daemonSeen = h.daemon
			h.report, h.reportErr = checks.Inspect(h.look, h.daemon, h.policy())
			h.writeDaemonReport()
		}
	}
	return h.report, h.reportErr
}

// writeDaemonReport writes the judged report to Config.DaemonReport; a
// failure is said, and judges nothing.
func (h *harness) writeDaemonReport() {
	if h.cfg.DaemonReport == "" || h.report == nil {
		return
	}
	var buf bytes.Buffer
	err := checks.WriteJSON(&buf, h.report, true)
	if err == nil {
		err = os.WriteFile(h.cfg.DaemonReport, buf.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(h.cfg.Out, "dcheck: --daemon-report: %v\n", err)
	}
}

// How long the cleanup waits: for SIGTERM to work, for a second empty look
// at the run, and in all. One empty look would do in theory: every process
// of the run descends from the harness (orphans are re-parented to it while
// their parent exits, before the parent shows as a zombie), and the look
// walks all of them; the second look is cheap insurance.
const (
	cleanupGrace  = 2 * time.Second
	cleanupQuiet  = 50 * time.Millisecond
	cleanupBudget = 30 * time.Second
)

// cleanup stops everything the run started, by pid, and only that (guard.go):
//
//  1. SIGTERM to every live process of the run, and up to cleanupGrace for
//     them to exit.
//  2. SIGKILL to whatever of the run is alive, again and again, until no
//     process of it has been seen for cleanupQuiet (cleanupBudget at most):
//     a helper started on SIGTERM, or a grandchild adopted once its parent
//     died, appears only after an earlier look.
//  3. Reap what was adopted, close the pty and the notify socket, remove
//     the temporary directory.
//
// It runs once; later calls (a signal handler and a DeferCleanup) return at
// once.
func (h *harness) cleanup() {
	h.cleanupOnce.Do(h.cleanupOnceOnly)
}

func (h *harness) cleanupOnceOnly() {
	h.procs.Close() // what starts from now on is refused: the sweep below sees every process
	live := h.runProcesses()
	for _, pid := range live {
		h.signal(pid, unix.SIGTERM)
	}
	deadline := time.Now().Add(cleanupGrace)
	for _, pid := range live {
		h.waitExit(pid, max(time.Until(deadline), time.Millisecond))
	}
	quietSince, end := time.Now(), time.Now().Add(cleanupBudget)
	for time.Now().Before(end) {
		left := h.runProcesses()
		if len(left) == 0 {
			if time.Since(quietSince) >= cleanupQuiet {
				break
			}
			time.Sleep(10 * time.Millisecond) // nothing announces a new process: look again
			continue
		}
		quietSince = time.Now()
		for _, pid := range left {
			h.signal(pid, unix.SIGKILL)
		}
		for _, pid := range left {
			h.waitExit(pid, 5*time.Second)
		}
	}
	if h.fg != nil {
		h.signal(h.fg.Process.Pid, unix.SIGKILL)
	}
	h.procs.Stop()
	h.adopted() // reap the last adopted zombies
	if h.pts != nil {
		h.pts.Close()
	}
	if h.ptm != nil {
		h.ptm.Close()
	}
	h.notify.Close()
	if h.sentinel != nil {
		h.sentinel.Close()
	}
	if h.hold != nil {
		h.hold.Close()
	}
	h.closeSockets()
	h.removeStalePidFile()
	h.removeRuntimeDirs()
	os.RemoveAll(h.dir)
	running.Lock()
	delete(running.set, h)
	running.Unlock()
}

// removeStalePidFile removes the pidfile when it names a process this run
// started and that no longer runs: the run caused it (SU106's kill -9, a
// daemon that leaves its pidfile), and the next run would otherwise start
// against it. A pidfile naming anything else is left alone.
func (h *harness) removeStalePidFile() {
	if h.cfg.PidFile == "" {
		return
	}
	pid, err := proc.ReadPid(h.cfg.PidFile)
	if err != nil || !h.procs.Started(pid) || alive(pid) {
		return
	}
	if err := safepath.Unlink(h.cfg.PidFile); err == nil {
		fmt.Fprintf(h.cfg.Out, "removed %s: it named pid %d, which this run started and which no longer runs\n", h.cfg.PidFile, pid)
	}
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
