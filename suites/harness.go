package suites

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/safepath"
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
	h.procs = reaper.New(reaper.Config{Look: look, Subreaper: subreaper, Learn: fac.adopt, BeforeReap: h.syncNotify, Since: h.startTicks})
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
