package checks

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"sync"
)

// ScanResult is one process found by Scan: its report, or why it could not
// be judged.
type ScanResult struct {
	PID    int     // The process
	Report *Report // Its judgement; nil when Err is set
	Err    error   // Why it could not be inspected
}

// Scan judges every process that looks like a daemon: not a kernel thread,
// no controlling terminal, and a parent that is the reaper (pol.Reaper, or
// pid 1 when that is zero). The calling process is never one of them (a
// scan run from a job of the reaper would judge itself). pol.PidFile is
// ignored: each process is judged without one, unless pol.Tailor names it. Processes that exit while Scan reads them are dropped. The
// results are in pid order; workers <= 0 means one per CPU.
func (f *FS) Scan(pol Policy, workers int) ([]ScanResult, error) {
	pids, err := f.PIDs()
	if err != nil {
		return nil, err
	}
	slices.Sort(pids)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pol.PidFile = ""
	if f.live {
		pids = slices.DeleteFunc(pids, func(p int) bool { return p == os.Getpid() })
	}
	reaper := pol.Reaper
	if reaper == 0 {
		reaper = 1
	}
	results := make([]ScanResult, len(pids))
	keep := make([]bool, len(pids))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(pids) {
					return
				}
				results[i], keep[i] = f.scanOne(pids[i], reaper, pol)
			}
		})
	}
	wg.Wait()
	out := results[:0]
	for i, r := range results {
		if keep[i] {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *FS) scanOne(pid, reaper int, pol Policy) (ScanResult, bool) {
	st, err := f.Stat(pid)
	if errors.Is(err, ErrNoProcess) {
		return ScanResult{}, false // gone, or hidden
	}
	if err != nil {
		return ScanResult{PID: pid, Err: err}, true
	}
	if st.KernelThread() || st.PPID != reaper || st.TTY != 0 {
		return ScanResult{}, false
	}
	r, err := f.Inspect(pid, pol)
	if errors.Is(err, ErrNoProcess) || errors.Is(err, ErrExited) || errors.Is(err, ErrHidden) {
		return ScanResult{}, false
	}
	return ScanResult{PID: pid, Report: r, Err: err}, true
}
