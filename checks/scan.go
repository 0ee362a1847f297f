package checks

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dcheck/dcheck/proc"
)

// ScanResult is one process found by Scan: its report, or why it could not
// be judged.
type ScanResult struct {
	PID    int     // The process
	Report *Report // Its judgement; nil when Err is set
	Err    error   // Why it could not be inspected
}

// Scan judges every process of f that looks like a daemon: not a kernel thread,
// no controlling terminal, and a parent that is the reaper (pol.Reaper, or
// pid 1 when that is zero) or, when pol.Supervisors is set and pol.Reaper
// is not, one it says supervises its children (Supervisors.Scanned: a
// given reaper narrows the scan to its own children). The calling process is never one of them (a
// scan run from a job of the reaper would judge itself). pol.PidFile is
// ignored: each process is judged without one, unless pol.Tailor names
// it. Processes that exit while Scan reads them are dropped. The results
// are in pid order; workers <= 0 means one per CPU. Scan holds every
// report: ScanFunc hands them over one at a time.
func Scan(f proc.Reader, pol Policy, workers int) ([]ScanResult, error) {
	var out []ScanResult
	err := ScanFunc(f, pol, workers, func(r ScanResult) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// ErrDeadline is wrapped by a ScanResult's Err when a daemon-like process
// was not judged within Policy.ProcessTimeout, or the scan had used up
// Policy.ScanTimeout before its turn.
var ErrDeadline = errors.New("not judged in time")

// deadlineError says which bound a process was not judged within.
type deadlineError struct {
	what string // "its reading took longer than 5s", "the scan's 1m0s were used up"
}

func (e *deadlineError) Error() string { return ErrDeadline.Error() + ": " + e.what }
func (e *deadlineError) Unwrap() error { return ErrDeadline }

// scanWindow bounds, per worker, how far reading may run ahead of fn in
// ScanFunc: the most reports held at once is workers × scanWindow.
const scanWindow = 16

// ScanFunc is Scan for hosts of any size: it reads processes in parallel,
// and calls fn with each result in pid order, on the caller's goroutine,
// as soon as it and every one before it are done. At most a few dozen
// reports per worker exist at once. An error from fn stops the scan and
// is returned.
func ScanFunc(f proc.Reader, pol Policy, workers int, fn func(ScanResult) error) error {
	pids, err := f.PIDs()
	if err != nil {
		return err
	}
	slices.Sort(pids)
	if f.Live() {
		self := os.Getpid()
		pids = slices.DeleteFunc(pids, func(p int) bool { return p == self })
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pol.PidFile = ""
	var deadline time.Time
	if pol.ScanTimeout > 0 {
		deadline = time.Now().Add(pol.ScanTimeout)
	}
	reaper := pol.Reaper
	if reaper == 0 {
		reaper = 1
	}

	type done struct {
		i    int
		res  ScanResult
		keep bool
	}
	window := workers * scanWindow
	// A worker takes a ticket before it takes a pid, and fn's side gives
	// it back once that pid's result is handed over: no worker runs more
	// than window pids ahead of fn.
	tickets := make(chan struct{}, window)
	results := make(chan done, window)
	stop := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case tickets <- struct{}{}:
				case <-stop:
					return
				}
				i := int(next.Add(1) - 1)
				if i >= len(pids) {
					return
				}
				res, keep := scanOne(f, pids[i], reaper, pol, deadline)
				results <- done{i, res, keep}
			}
		})
	}
	// No send to results ever blocks: a result needs a ticket, and there
	// are no more tickets than room in results. So workers end once stop
	// is closed (or every pid is taken) whether fn's side reads or not.
	finish := func() {
		close(stop)
		wg.Wait()
	}
	pending := map[int]done{}
	for cursor := 0; cursor < len(pids); cursor++ {
		d, ok := pending[cursor]
		for !ok {
			got := <-results
			if got.i == cursor {
				d, ok = got, true
			} else {
				pending[got.i] = got
			}
		}
		delete(pending, cursor)
		<-tickets
		if d.keep {
			if err := fn(d.res); err != nil {
				finish()
				return err
			}
		}
	}
	finish()
	return nil
}

// scanOne judges pid if it looks like a daemon. A process that exits, or
// runs another program, while it is read is peeked at again and, if it
// still looks like a daemon, read once more: the retry judges only what
// the filter let through (a reused pid may now be anything).
func scanOne(f proc.Reader, pid, reaper int, pol Policy, deadline time.Time) (ScanResult, bool) {
	for range 2 {
		p, err := f.Peek(pid)
		if errors.Is(err, proc.ErrNoProcess) {
			return ScanResult{}, false // gone, or hidden
		}
		if err != nil {
			return ScanResult{PID: pid, Err: err}, true
		}
		if st := p.Stat; st.KernelThread() || st.TTY != 0 || st.PPID != reaper && (pol.Reaper != 0 || pol.Supervisors == nil || !pol.Supervisors.Scanned(pid, st.PPID)) {
			p.Close()
			return ScanResult{}, false
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			p.Close()
			return ScanResult{PID: pid, Err: &deadlineError{fmt.Sprintf("the scan's %v were used up", pol.ScanTimeout)}}, true
		}
		r, err := inspectWithin(f, pid, pol, p)
		switch {
		case errors.Is(err, proc.ErrExited):
			continue
		case errors.Is(err, proc.ErrNoProcess) || errors.Is(err, proc.ErrHidden):
			return ScanResult{}, false
		}
		return ScanResult{PID: pid, Report: r, Err: err}, true
	}
	return ScanResult{}, false // changed under both looks: churn, not a finding
}

// inspectWithin is inspectOnce bounded by pol.ProcessTimeout, and closes
// p. A read that overruns is left to finish on its own goroutine (a read
// of /proc can block in the kernel, where nothing can cancel it); the scan
// goes on without it.
func inspectWithin(f proc.Reader, pid int, pol Policy, p *proc.Peek) (*Report, error) {
	if pol.ProcessTimeout <= 0 {
		defer p.Close()
		return inspectOnce(f, pid, pol, p)
	}
	type result struct {
		r   *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer p.Close()
		r, err := inspectOnce(f, pid, pol, p)
		done <- result{r, err}
	}()
	timer := time.NewTimer(pol.ProcessTimeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.r, res.err
	case <-timer.C:
		return nil, &deadlineError{fmt.Sprintf("reading and judging pid %d took longer than %v", pid, pol.ProcessTimeout)}
	}
}
