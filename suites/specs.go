package suites

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
)

// Register adds the conformance specs for cfg to the caller's Ginkgo tree,
// as one Ordered, ContinueOnFailure container, and returns true (so that
// it can be called as var _ = suites.Register(cfg)). cfg is validated when
// the container starts; an invalid one fails it. Every spec carries its
// rule ID as a label ("SU101", "DC103"), and "lifecycle" or "static".
//
// The run makes the test process a child subreaper
// (PR_SET_CHILD_SUBREAPER), for good: the daemon is adopted by it.
func Register(cfg Config) bool {
	title := "dcheck conformance: " + strings.Join(cfg.Start, " ")
	Describe(title, Ordered, ContinueOnFailure, func() {
		var h *harness
		BeforeAll(func() {
			if err := cfg.Validate(); err != nil {
				Fail(err.Error())
			}
			var err error
			if h, err = newHarness(cfg); err != nil {
				Fail(err.Error())
			}
			DeferCleanup(func() { h.cleanup() })
		})
		AfterAll(func() {
			if h != nil {
				h.printSummary()
			}
		})
		if cfg.Profile == checks.ProfileSupervised {
			supervisedSpecs(&h)
		} else {
			sysvSpecs(&h)
		}
	})
	return true
}

func rule(id string) *checks.Rule {
	r, ok := checks.Lookup(id)
	if !ok {
		panic("no rule " + id)
	}
	return r
}

// spec registers one lifecycle spec named after its rule.
func spec(id string, body func()) {
	r := rule(id)
	It(r.ID+" "+r.Name+": "+r.Title, Label(r.ID, "lifecycle"), body)
}

// outcome records a lifecycle result and fails, warns or skips the spec.
// severity Warning passes the spec unless Strict.
func (h *harness) outcome(id, status, format string, a ...any) {
	GinkgoHelper()
	r := rule(id)
	msg := fmt.Sprintf(format, a...)
	h.record(r.ID, r.Name, status, msg)
	switch status {
	case "fail":
		if h.daemon != 0 && alive(h.daemon) {
			h.attachSnapshot()
		}
		Fail(fmt.Sprintf("%s %s: %s\nfix: %s", r.ID, r.Name, msg, r.Hint))
	case "warn":
		AddReportEntry("warning", r.ID+" "+r.Name+": "+msg)
		if h.cfg.Strict {
			Fail(fmt.Sprintf("%s %s (warning, --strict): %s", r.ID, r.Name, msg))
		}
	case "skip":
		Skip(r.ID + " " + r.Name + ": " + msg)
	}
}

// attachSnapshot adds the daemon's /proc snapshot to the spec's report,
// so that a JUnit file alone says why a spec failed.
func (h *harness) attachSnapshot() {
	r, err := h.fs.Inspect(h.daemon, h.policy())
	if err != nil {
		AddReportEntry("snapshot", fmt.Sprintf("pid %d: %v", h.daemon, err))
		return
	}
	js, _ := json.MarshalIndent(r, "", "  ")
	AddReportEntry("snapshot", string(js))
}

// staticSpecs adds one spec per static rule, judged on the daemon.
func staticSpecs(hp **harness) {
	for _, r := range checks.Rules() {
		if r.Kind != checks.Static {
			continue
		}
		It(r.ID+" "+r.Name+": "+r.Title, Label(r.ID, "static"), func() {
			h := *hp
			if r.ID == "DC301" && h.foreign != 0 {
				h.record(r.ID, r.Name, "fail", h.foreignMessage())
				Fail(fmt.Sprintf("%s %s: %s\nfix: %s", r.ID, r.Name, h.foreignMessage(), r.Hint))
			}
			rep, err := h.judge()
			if err != nil {
				h.record(r.ID, r.Name, "skip", err.Error())
				Skip(err.Error())
			}
			var f checks.Finding
			for _, x := range rep.Findings {
				if x.ID == r.ID {
					f = x
				}
			}
			switch {
			case f.Status == checks.Pass:
				h.record(r.ID, r.Name, "pass", f.Message)
			case f.Status == checks.Skip:
				h.record(r.ID, r.Name, "skip", f.Message)
				Skip(f.Message)
			case f.Status == checks.Unknown:
				// Unknown is never pass and never fail.
				h.record(r.ID, r.Name, "unknown", f.Message)
				Skip("could not judge: " + f.Message)
			case f.Severity == checks.Error:
				h.record(r.ID, r.Name, "fail", f.Message)
				js, _ := json.MarshalIndent(rep, "", "  ")
				AddReportEntry("snapshot", string(js))
				Fail(fmt.Sprintf("%s %s: %s\nfix: %s", f.ID, f.Name, f.Message, f.Hint))
			case f.Severity == checks.Warning:
				h.record(r.ID, r.Name, "warn", f.Message)
				AddReportEntry("warning", f.ID+" "+f.Name+": "+f.Message)
				if h.cfg.Strict {
					Fail(fmt.Sprintf("%s %s (warning, --strict): %s", f.ID, f.Name, f.Message))
				}
			default:
				h.record(r.ID, r.Name, "info", f.Message)
				AddReportEntry("info", f.ID+" "+f.Name+": "+f.Message)
			}
		})
	}
}

func sysvSpecs(hp **harness) {
	spec("SU101", func() {
		h := *hp
		cmd, err := h.launchHostile(h.cfg.Start)
		if err != nil {
			h.outcome("SU101", "fail", "cannot run the start command: %v", err)
		}
		code, timedOut, err := h.waitCmd(cmd, h.cfg.StartTimeout)
		// SU102 is about this instant: read the pidfile before anything else.
		pidAtExit, pidErr := 0, error(nil)
		if h.cfg.PidFile != "" {
			pidAtExit, _, pidErr = h.readPid()
		}
		h.pts.Close()
		h.pts = nil
		h.findDaemon(pidAtExit)
		h.recordReadiness(pidAtExit, pidErr)
		if h.cfg.PidFile != "" && !timedOut && (pidAtExit == 0 || !alive(pidAtExit)) {
			// SU102 has its verdict; the other specs judge the daemon once it
			// has written its pidfile, however late.
			h.findDaemon(h.awaitPidFile(h.cfg.StartTimeout))
		}
		if !timedOut {
			h.settle()
		}
		switch {
		case err != nil:
			h.outcome("SU101", "fail", "start command: %v", err)
		case timedOut:
			h.outcome("SU101", "fail", "the start command did not exit within %v (killed); it stays in the foreground", h.cfg.StartTimeout)
		case code != 0:
			h.ptyDrained.Wait()
			h.outcome("SU101", "fail", "the start command exited %d: %s", code, strings.TrimSpace(h.startOut.String()))
		case h.daemon == 0:
			h.outcome("SU101", "fail", "the start command exited 0 but no daemon is running (none was adopted%s)", h.pidfileNote())
		}
		if tty := h.holdsTerminal(); tty != "" {
			h.outcome("SU101", "fail", "the daemon (pid %d) still holds the start command's terminal: %s", h.daemon, tty)
		}
		h.outcome("SU101", "pass", "exited 0; the daemon is pid %d", h.daemon)
	})
	spec("SU102", func() {
		h := *hp
		r := h.readiness
		h.outcome("SU102", r.status, "%s", r.message)
	})
	staticSpecs(hp)
	spec("SU103", func() {
		h := *hp
		if h.daemon == 0 || !alive(h.daemon) {
			h.outcome("SU103", "skip", "no daemon running")
		}
		before := h.ours()
		_, pidData, _ := h.readPidIf()
		cmd, err := h.launchPlain(h.cfg.Start, "second-start")
		if err != nil {
			h.outcome("SU103", "fail", "cannot run the start command: %v", err)
		}
		code, timedOut, _ := h.waitCmd(cmd, h.cfg.StartTimeout)
		// A second instance that notices the first (a lock, a busy port)
		// exits on its own a moment after its starter: give it two seconds.
		// Processes of this run (adopted, or carrying its marker) that were
		// not there before: a second instance, or one on its way out. The
		// set must stay empty for 200 ms: an intermediate fork hands over
		// to its child as it exits.
		// What the first daemon starts meanwhile (a supervisor's managed
		// program, a worker) is its own, not a second instance: only what
		// does not descend from it, nor share its session, counts.
		var extra []int
		emptySince := time.Now()
		for deadline := time.Now().Add(min(2*time.Second, h.cfg.StartTimeout)); ; time.Sleep(50 * time.Millisecond) { // ours() scans every process: not too often
			extra = extra[:0]
			for _, pid := range h.ours() {
				if !slices.Contains(before, pid) && !h.ofFirstDaemon(pid) {
					extra = append(extra, pid)
				}
			}
			if len(extra) > 0 {
				emptySince = time.Now()
			}
			if time.Since(emptySince) >= 200*time.Millisecond || time.Now().After(deadline) {
				break
			}
		}
		_, after, _ := h.readPidIf()
		switch {
		case len(extra) > 0:
			for _, pid := range extra {
				h.signal(pid, unix.SIGKILL)
				h.waitExit(pid, 5*time.Second)
			}
			h.outcome("SU103", "fail", "a second start ran a second daemon (pid %v, killed)", extra)
		case !alive(h.daemon):
			h.outcome("SU103", "fail", "the first daemon (pid %d) died during the second start", h.daemon)
		case string(after) != string(pidData):
			h.outcome("SU103", "fail", "the second start changed the pidfile from %q to %q", pidData, after)
		case timedOut:
			h.outcome("SU103", "fail", "the second start did not exit within %v", h.cfg.StartTimeout)
		case code == 0:
			h.outcome("SU103", "warn", "the second start exited 0 although nothing started (want non-zero): %s", h.output("second-start"))
		default:
			h.outcome("SU103", "pass", "refused with exit %d: %s", code, h.output("second-start"))
		}
	})
	reloadAndStopSpecs(hp)
	spec("SU106", func() {
		h := *hp
		if h.cfg.PidFile == "" {
			h.outcome("SU106", "skip", "no pidfile given")
		}
		first, err := h.startPlain("restart-1")
		if err != nil {
			h.outcome("SU106", "fail", "%v", err)
		}
		// A crash as a supervisor sees it: the daemon and everything it
		// started killed at once (workers must not keep its port).
		victims := append([]int{first}, descendantsOf(first)...)
		for _, pid := range victims {
			h.signal(pid, unix.SIGKILL)
		}
		for _, pid := range victims {
			if ok, _ := h.waitExit(pid, 5*time.Second); !ok {
				h.outcome("SU106", "fail", "pid %d survived SIGKILL", pid)
			}
		}
		var second int
		if h.cfg.Restart != "" {
			code, timedOut, err := h.shell(h.cfg.Restart, h.cfg.StartTimeout, "restart-2")
			if err != nil || timedOut || code != 0 {
				h.outcome("SU106", "fail", "after kill -9 the restart command failed (exit %d, timed out %v, %v): %s", code, timedOut, err, h.output("restart-2"))
			}
			second, _, _ = h.readPid()
		} else {
			second, err = h.startPlain("restart-2")
			if err != nil {
				h.outcome("SU106", "fail", "after kill -9 of pid %d: %v", first, err)
			}
		}
		if second == first || !alive(second) {
			h.outcome("SU106", "fail", "after kill -9 of pid %d the pidfile names %d, which does not run", first, second)
		}
		h.stopQuietly(second)
		h.outcome("SU106", "pass", "pid %d killed with SIGKILL; the next start ran pid %d", first, second)
	})
}

// ofFirstDaemon reports whether pid is the running daemon's: descended from
// it, or in its session.
func (h *harness) ofFirstDaemon(pid int) bool {
	if h.daemon == 0 {
		return false
	}
	if pid == h.daemon || descendsFrom(pid, h.daemon) {
		return true
	}
	st, ok := procStat(pid)
	return ok && h.daemonSID != 0 && st.Session == h.daemonSID
}

// reloadAndStopSpecs are the specs both profiles share, in order: reload,
// stop, pidfile removed, nothing left.
func reloadAndStopSpecs(hp **harness) {
	spec("SU107", func() { (*hp).reloadSpec() })
	spec("SU104", func() { (*hp).stopSpec() })
	spec("SU105", func() { (*hp).pidfileGoneSpec() })
	spec("SU108", func() { (*hp).leftoversSpec() })
}

func (h *harness) pidfileNote() string {
	switch {
	case h.cfg.PidFile == "":
		return ", and no --pidfile was given"
	case h.foreign != 0:
		return fmt.Sprintf(" and %s names pid %d, which this run did not start", h.cfg.PidFile, h.foreign)
	}
	return " and " + h.cfg.PidFile + " names none"
}

// fromPidFile reads the pidfile and says whether it names a live process of
// this run. A live process that the run did not start is never the daemon:
// it is remembered (DC301 and SU102 fail on it) and never signalled.
func (h *harness) fromPidFile() (int, bool) {
	pid, _, err := h.readPidIf()
	if err != nil || pid == 0 || !alive(pid) {
		return pid, false
	}
	if !h.ofRun(pid) {
		h.foreign = pid
		return pid, false
	}
	return pid, true
}

// foreignMessage is what DC301 and SU102 say of a pidfile that names a
// process this run did not start.
func (h *harness) foreignMessage() string {
	return fmt.Sprintf("%s names pid %d, which this run did not start: it is not the daemon, and the harness never signals it", h.cfg.PidFile, h.foreign)
}

// readiness is SU102's verdict, decided at the instant the start command
// exits and reported by its own spec.
type readiness struct{ status, message string }

func (h *harness) recordReadiness(pid int, err error) {
	switch {
	case h.cfg.PidFile == "" && h.daemon != 0:
		h.readiness = readiness{"pass", fmt.Sprintf("no pidfile given; the daemon (pid %d) was running when the start command exited", h.daemon)}
	case h.cfg.PidFile == "":
		h.readiness = readiness{"fail", "no pidfile given, and no daemon was running when the start command exited"}
	case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, checks.ErrPidFile):
		h.readiness = readiness{"fail", fmt.Sprintf("when the start command exited, %s could not be read: %v", h.cfg.PidFile, err)}
	case err != nil:
		h.readiness = readiness{"fail", fmt.Sprintf("when the start command exited, %s was not ready: %v", h.cfg.PidFile, err)}
	case alive(pid) && !h.ofRun(pid):
		h.foreign = pid
		h.readiness = readiness{"fail", "when the start command exited, " + h.foreignMessage()}
	case !alive(pid):
		h.readiness = readiness{"fail", fmt.Sprintf("when the start command exited, %s named pid %d, which does not run", h.cfg.PidFile, pid)}
	case pid != h.daemon:
		h.readiness = readiness{"fail", fmt.Sprintf("when the start command exited, %s named pid %d, not the daemon %d", h.cfg.PidFile, pid, h.daemon)}
	default:
		h.readiness = readiness{"pass", fmt.Sprintf("%s named the live daemon, pid %d, when the start command exited", h.cfg.PidFile, pid)}
	}
}

// findDaemon settles which process is the daemon: the pid in the pidfile
// when it runs and belongs to the run, else the oldest process the harness
// adopted.
func (h *harness) findDaemon(fromPidFile int) {
	h.daemon = 0
	adopted := h.adopted()
	if fromPidFile > 0 && alive(fromPidFile) && !h.ofRun(fromPidFile) {
		h.foreign = fromPidFile
	}
	switch {
	case fromPidFile > 0 && alive(fromPidFile) && h.ofRun(fromPidFile):
		h.daemon = fromPidFile
	case len(adopted) > 0:
		h.daemon = adopted[0] // the oldest pid: the first one started
	}
	if h.daemon != 0 {
		h.track(h.daemon)
		if st, ok := procStat(h.daemon); ok {
			h.daemonSID = st.Session
		}
	}
	h.report, h.reportErr = nil, nil
}

// settle waits, up to the start timeout, until the daemon is at rest: the
// pidfile (when there is one) names it, no other process the start left
// behind is still on its way out (an intermediate fork), and it sleeps
// with the same executable twice in a row (not between a fork and an
// exec). Judging earlier would judge a process in passing. The kernel
// announces none of this: it polls.
func (h *harness) settle() {
	if h.daemon == 0 {
		return
	}
	deadline := time.Now().Add(h.cfg.StartTimeout)
	prev, restSince := "", time.Now()
	for time.Now().Before(deadline) {
		if pid, ok := h.fromPidFile(); ok {
			h.daemon = pid
		}
		adopted := h.adopted()
		if !alive(h.daemon) {
			if len(adopted) == 0 {
				break
			}
			h.daemon = adopted[0]
		}
		others := len(adopted) > 0 && !(len(adopted) == 1 && adopted[0] == h.daemon)
		st, ok := procStat(h.daemon)
		if !ok {
			continue
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", h.daemon))
		state := st.State
		_, pidData, _ := h.readPidIf()
		now := fmt.Sprint(h.daemon, exe, string(state), string(pidData))
		// At rest for 100 ms: an intermediate may write the pidfile and the
		// daemon rewrite it a moment later (libslack's daemon does).
		if !others && (state == 'S' || state == 'I') && now == prev {
			if time.Since(restSince) >= 100*time.Millisecond {
				break
			}
		} else {
			restSince = time.Now()
		}
		prev = now
		time.Sleep(5 * time.Millisecond)
	}
	h.findDaemon(h.daemon)
	if !alive(h.daemon) {
		h.findDaemon(0)
	}
}

// awaitPidFile polls the pidfile (a file write gives no event) until it
// names a live process of the run or timeout passes, and returns that pid
// or 0. A pidfile naming a live process the run did not start ends the
// wait at once, with 0.
func (h *harness) awaitPidFile(timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		pid, ok := h.fromPidFile()
		if ok {
			return pid
		}
		if h.foreign != 0 && pid == h.foreign || time.Now().After(deadline) {
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// holdsTerminal says which terminal the daemon still has, or "".
func (h *harness) holdsTerminal() string {
	if h.daemon == 0 {
		return ""
	}
	s, err := h.fs.Take(h.daemon)
	if err != nil {
		return ""
	}
	if s.Stat.TTY != 0 {
		return "as its controlling terminal"
	}
	for _, d := range s.FDs {
		if d.Terminal {
			return fmt.Sprintf("fd %d %s", d.Num, d.Target)
		}
	}
	return ""
}

func (h *harness) readPidIf() (int, []byte, error) {
	if h.cfg.PidFile == "" {
		return 0, nil, nil
	}
	return h.readPid()
}

// startPlain runs the start command as an init script would and returns
// the daemon it started.
func (h *harness) startPlain(name string) (int, error) {
	cmd, err := h.launchPlain(h.cfg.Start, name)
	if err != nil {
		return 0, err
	}
	code, timedOut, err := h.waitCmd(cmd, h.cfg.StartTimeout)
	if err != nil || timedOut || code != 0 {
		return 0, fmt.Errorf("start exited %d (timed out: %v, %v): %s", code, timedOut, err, h.output(name))
	}
	// Daemons whose starter does not wait for them write the pidfile a
	// moment later: give it the start timeout.
	pid := h.awaitPidFile(h.cfg.StartTimeout)
	if pid == 0 {
		if h.foreign != 0 {
			return 0, fmt.Errorf("after the start, %s", h.foreignMessage())
		}
		_, _, err := h.readPid()
		return 0, fmt.Errorf("after the start, the pidfile names no live process: %v", err)
	}
	h.track(pid)
	return pid, nil
}

// stop stops pid with the stop command or SIGTERM and waits.
func (h *harness) stop(pid int, name string) (bool, string, error) {
	if h.cfg.Stop != "" {
		code, timedOut, err := h.shell(h.cfg.Stop, h.cfg.StopTimeout, name)
		if err != nil || timedOut || code != 0 {
			return false, "", fmt.Errorf("stop command: exit %d, timed out %v, %v: %s", code, timedOut, err, h.output(name))
		}
	} else if err := h.signal(pid, unix.SIGTERM); err != nil {
		return false, "", fmt.Errorf("SIGTERM to pid %d: %w", pid, err)
	}
	ok, how := h.waitExit(pid, h.cfg.StopTimeout)
	return ok, how, nil
}

func (h *harness) stopQuietly(pid int) {
	if ok, _, _ := h.stop(pid, "stop-quietly"); !ok {
		h.signal(pid, unix.SIGKILL)
		h.waitExit(pid, 5*time.Second)
	}
}

func (h *harness) reloadSpec() {
	if !h.cfg.Reload {
		h.outcome("SU107", "skip", "not asked for (--reload)")
	}
	if h.daemon == 0 || !alive(h.daemon) {
		h.outcome("SU107", "skip", "no daemon running")
	}
	pidBefore, _, _ := h.readPidIf()
	if err := h.signal(h.daemon, unix.SIGHUP); err != nil {
		h.outcome("SU107", "fail", "SIGHUP: %v", err)
	}
	// Nothing announces that a reload is over: watch for half a second.
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if !alive(h.daemon) {
			old := h.daemon
			_, how := h.waitExit(old, time.Second)
			// Some daemons reload by re-executing and daemonizing again
			// (sshd): a new pid in the pidfile. The later specs follow it.
			if h.cfg.PidFile != "" {
				if pid := h.awaitPidFile(min(2*time.Second, h.cfg.StartTimeout)); pid != 0 {
					h.findDaemon(pid)
					h.outcome("SU107", "fail", "pid %d exited on SIGHUP (%s); pid %d took its place in the pidfile", old, how, pid)
				}
			}
			h.outcome("SU107", "fail", "pid %d died on SIGHUP (%s)", old, how)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid, _, _ := h.readPidIf(); pid != pidBefore {
		h.outcome("SU107", "fail", "the pidfile changed across SIGHUP: %d -> %d", pidBefore, pid)
	}
	h.outcome("SU107", "pass", "pid %d survived SIGHUP", h.daemon)
}

func (h *harness) stopSpec() {
	// The pidfile has the last word on which process is the daemon.
	if pid, ok := h.fromPidFile(); ok && pid != h.daemon {
		AddReportEntry("daemon", fmt.Sprintf("the pidfile now names pid %d, not %d: stopping that one", pid, h.daemon))
		h.findDaemon(pid)
	}
	if h.daemon == 0 || !alive(h.daemon) {
		h.outcome("SU104", "skip", "no daemon running")
	}
	how := "SIGTERM"
	if h.cfg.Stop != "" {
		how = "the stop command"
	}
	ok, status, err := h.stop(h.daemon, "stop")
	if err != nil {
		h.outcome("SU104", "fail", "%v", err)
	}
	if !ok {
		h.signal(h.daemon, unix.SIGKILL)
		_, status = h.waitExit(h.daemon, 5*time.Second)
		h.outcome("SU104", "fail", "pid %d still ran %v after %s (killed: %s)", h.daemon, h.cfg.StopTimeout, how, status)
	}
	h.stoppedOK = true
	if h.fg != nil && status == "" {
		select { // the supervised daemon is os/exec's child: its Wait has the status
		case status = <-h.fgDone:
			h.fgDone <- status
		case <-time.After(time.Second):
		}
	}
	if status == "" {
		status = "exit status not visible"
	}
	AddReportEntry("exit status", status)
	h.outcome("SU104", "pass", "pid %d exited after %s: %s", h.daemon, how, status)
}

func (h *harness) pidfileGoneSpec() {
	switch {
	case h.cfg.PidFile == "":
		h.outcome("SU105", "skip", "no pidfile given")
	case !h.stoppedOK:
		h.outcome("SU105", "skip", "the daemon did not stop cleanly (SU104)")
	}
	if _, err := os.Lstat(h.cfg.PidFile); err == nil {
		_, holds, _ := h.readPid()
		h.outcome("SU105", "fail", "%s is still there after a clean stop (%s)", h.cfg.PidFile, holds)
	}
	h.outcome("SU105", "pass", "%s removed", h.cfg.PidFile)
}

func (h *harness) leftoversSpec() {
	if h.daemon == 0 {
		h.outcome("SU108", "skip", "no daemon was found")
	}
	if alive(h.daemon) {
		h.outcome("SU108", "skip", "the daemon still runs (SU104)")
	}
	left := map[int]bool{}
	for _, pid := range h.adopted() {
		left[pid] = true
	}
	for _, pid := range h.marked(h.daemonSID) {
		left[pid] = true
	}
	if h.fg != nil {
		delete(left, h.fg.Process.Pid)
	}
	if len(left) > 0 {
		var desc []string
		for pid := range left {
			desc = append(desc, fmt.Sprintf("%d (%s)", pid, commOf(pid)))
		}
		slices.Sort(desc)
		h.outcome("SU108", "fail", "still running after the daemon stopped: %s", strings.Join(desc, ", "))
	}
	h.outcome("SU108", "pass", "nothing left of session %d", h.daemonSID)
}

func commOf(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(data))
}

func supervisedSpecs(hp **harness) {
	spec("SU111", func() {
		h := *hp
		cmd, err := h.launchPlain(h.cfg.Start, "daemon")
		if err != nil {
			h.outcome("SU111", "fail", "cannot run the start command: %v", err)
		}
		h.fg, h.fgDone = cmd, make(chan string, 1)
		go func() {
			code, _, err := h.waitCmd(cmd, 24*time.Hour)
			switch {
			case err != nil:
				h.fgDone <- err.Error()
			case code < 0:
				h.fgDone <- "killed by a signal"
			default:
				h.fgDone <- fmt.Sprintf("exit status %d", code)
			}
		}()
		notified, mainpid, exited := h.waitReady(context.Background(), h.cfg.StartTimeout)
		h.notifiedReady = notified
		if exited {
			h.outcome("SU111", "fail", "the start command exited (%s): a supervised daemon must stay in the foreground", h.output("daemon"))
		}
		h.daemon = cmd.Process.Pid
		if mainpid != 0 && mainpid != h.daemon {
			AddReportEntry("MAINPID", fmt.Sprintf("MAINPID=%d, not the started pid %d", mainpid, h.daemon))
			h.daemon = mainpid
		}
		if st, ok := procStat(h.daemon); ok {
			h.daemonSID = st.Session
		}
		h.outcome("SU111", "pass", "pid %d runs in the foreground", h.daemon)
	})
	spec("SU112", func() {
		h := *hp
		if !h.notifiedReady {
			h.outcome("SU112", "warn", "no READY=1 on NOTIFY_SOCKET (readiness was taken from the pidfile, or the start timeout %v)", h.cfg.StartTimeout)
		} else {
			h.outcome("SU112", "pass", "READY=1 received")
		}
	})
	staticSpecs(hp)
	spec("SU103", func() {
		h := *hp
		if h.cfg.PidFile == "" {
			h.outcome("SU103", "skip", "no pidfile given: nothing for a second foreground instance to see")
		}
		if h.daemon == 0 || !alive(h.daemon) {
			h.outcome("SU103", "skip", "no daemon running")
		}
		_, pidData, _ := h.readPid()
		cmd, err := h.launchPlain(h.cfg.Start, "second-start")
		if err != nil {
			h.outcome("SU103", "fail", "%v", err)
		}
		code, timedOut, _ := h.waitCmd(cmd, h.cfg.StartTimeout)
		_, after, _ := h.readPid()
		switch {
		case timedOut:
			h.outcome("SU103", "fail", "a second instance kept running for %v (killed)", h.cfg.StartTimeout)
		case string(after) != string(pidData):
			h.outcome("SU103", "fail", "the second instance changed the pidfile from %q to %q", pidData, after)
		case code == 0:
			h.outcome("SU103", "warn", "the second instance exited 0 (want non-zero)")
		default:
			h.outcome("SU103", "pass", "the second instance refused with exit %d: %s", code, h.output("second-start"))
		}
	})
	reloadAndStopSpecs(hp)
	spec("SU106", func() {
		h := *hp
		h.outcome("SU106", "skip", "a supervisor restarts a foreground daemon itself")
	})
}

// printSummary writes one line per spec: ID, name, status, message.
func (h *harness) printSummary() {
	tw := tabwriter.NewWriter(h.cfg.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\ndcheck verify: %s (%s)\n", strings.Join(h.cfg.Start, " "), h.cfg.Profile)
	counts := map[string]int{}
	for _, r := range h.results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.id, r.name, strings.ToUpper(r.status), strings.ReplaceAll(r.message, "\n", " "))
		counts[r.status]++
	}
	tw.Flush()
	h.mu.Lock()
	refused := slices.Compact(slices.Clone(h.refused))
	h.mu.Unlock()
	for _, r := range refused {
		fmt.Fprintf(h.cfg.Out, "not signalled: %s\n", r)
	}
	fmt.Fprintf(h.cfg.Out, "%d passed, %d failed, %d warnings, %d unknown, %d skipped\n",
		counts["pass"]+counts["info"], counts["fail"], counts["warn"], counts["unknown"], counts["skip"])
}
