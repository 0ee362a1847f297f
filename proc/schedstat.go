package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// SchedStat is /proc/PID/task/TID/schedstat: what the scheduler counted
// for one thread (Documentation/scheduler/sched-stats.rst), or, summed by
// FS.SchedStat, for every thread of a process.
type SchedStat struct {
	OnCPU        time.Duration // time spent running
	RunQueueWait time.Duration // time spent runnable, waiting for a CPU
	Timeslices   uint64        // how many times it was run
}

// parseSchedStat parses schedstat's one line: three decimal numbers.
func parseSchedStat(data []byte) (SchedStat, error) {
	f := strings.Fields(string(data))
	if len(f) != 3 {
		return SchedStat{}, fmt.Errorf("schedstat: %d fields, want 3", len(f))
	}
	var n [3]uint64
	for i, s := range f {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return SchedStat{}, fmt.Errorf("schedstat: field %d: %w", i+1, err)
		}
		n[i] = v
	}
	return SchedStat{OnCPU: time.Duration(n[0]), RunQueueWait: time.Duration(n[1]), Timeslices: n[2]}, nil
}

// SchedStat sums the schedstat of every thread of process pid: how long
// its threads together ran and waited for a CPU. A thread that exits
// between the listing and its read is left out (its time with it). The
// error is ErrNoProcess when the process is gone.
func (f *FS) SchedStat(pid int) (SchedStat, error) {
	tids, err := f.Tasks(pid)
	if err != nil {
		return SchedStat{}, err
	}
	var sum SchedStat
	read := 0
	for _, tid := range tids {
		data, err := os.ReadFile(f.path(strconv.Itoa(pid), "task", strconv.Itoa(tid), "schedstat"))
		if isGone(err) {
			continue
		}
		if err != nil {
			return SchedStat{}, err
		}
		st, err := parseSchedStat(data)
		if err != nil {
			return SchedStat{}, fmt.Errorf("pid %d: task %d: %w", pid, tid, err)
		}
		sum.OnCPU += st.OnCPU
		sum.RunQueueWait += st.RunQueueWait
		sum.Timeslices += st.Timeslices
		read++
	}
	if read == 0 {
		return SchedStat{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	return sum, nil
}
