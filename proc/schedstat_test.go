package proc_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcheck/dcheck/internal/proctree"
	"github.com/dcheck/dcheck/proc"
)

// TestSchedStat: a process's schedstat is the sum of its threads', a
// thread that exited meanwhile is left out, and garbage is an error naming
// the thread.
func TestSchedStat(t *testing.T) {
	root := t.TempDir()
	archive := proctree.Parse([]byte(`two threads of pid 42; pid 43's thread wrote garbage; pid 44 has no thread left
-- 42/task/42/schedstat --
1000000000 250000000 10
-- 42/task/45/schedstat --
500000000 1250000000 7
-- 42/task/46/ --
-- 43/task/43/schedstat --
12 x 3
-- 44/task/ --
`))
	if err := archive.Write(root); err != nil {
		t.Fatal(err)
	}
	fsys, err := proc.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fsys.SchedStat(42)
	want := proc.SchedStat{OnCPU: 1500 * time.Millisecond, RunQueueWait: 1500 * time.Millisecond, Timeslices: 17}
	if err != nil || got != want {
		t.Errorf("SchedStat(42) = %+v, %v; want %+v", got, err, want)
	}
	if _, err := fsys.SchedStat(43); err == nil || !strings.Contains(err.Error(), "task 43") {
		t.Errorf("SchedStat(43) = %v, want an error naming task 43", err)
	}
	if _, err := fsys.SchedStat(44); !errors.Is(err, proc.ErrNoProcess) {
		t.Errorf("SchedStat(44) = %v, want ErrNoProcess", err)
	}
	if _, err := fsys.SchedStat(99); !errors.Is(err, proc.ErrNoProcess) {
		t.Errorf("SchedStat(99) = %v, want ErrNoProcess", err)
	}
}

// TestSchedStatLive: this test process has run.
func TestSchedStatLive(t *testing.T) {
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(os.Getpid()) + "/schedstat"); err != nil {
		t.Skip("this kernel has no schedstat (CONFIG_SCHED_INFO)")
	}
	st, err := fsys.SchedStat(os.Getpid())
	if err != nil || st.OnCPU <= 0 || st.Timeslices == 0 {
		t.Errorf("SchedStat(self) = %+v, %v; want time on a CPU", st, err)
	}
}
