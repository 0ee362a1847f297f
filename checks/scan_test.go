package checks

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dcheck/dcheck/internal/proctree"
	"github.com/dcheck/dcheck/proc"
)

// manyDaemons writes a proc tree holding n copies of the recorded
// double-forked daemon (pids 10000, 10003, ...: gaps between them), plus
// a kernel thread, and returns its root and the daemons' pids.
func manyDaemons(t *testing.T, n int) (string, []int) {
	t.Helper()
	data, err := os.ReadFile("testdata/proc/double-fork.txtar")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	var pids []int
	for i := range n {
		pid := 10000 + 3*i
		pids = append(pids, pid)
		// Every "3463" in names and contents becomes the new pid (the
		// shared pidfile and /proc/locks end up naming the last one:
		// a scan judges no pidfile).
		a := proctree.Parse([]byte(strings.ReplaceAll(string(data), "3463", strconv.Itoa(pid))))
		if err := a.Write(root); err != nil {
			t.Fatal(err)
		}
	}
	kthread, _ := os.ReadFile("testdata/proc/kthread.txtar")
	if err := proctree.Parse(kthread).Write(root); err != nil {
		t.Fatal(err)
	}
	return root, pids
}

// TestScanFuncStreamsInPidOrder: with more processes than the window holds,
// every daemon is handed over once, in pid order, with its report; the
// kernel thread is passed by; Scan gives the same.
func TestScanFuncStreamsInPidOrder(t *testing.T) {
	root, pids := manyDaemons(t, 3*scanWindow*2+5)
	f, err := proc.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 7} {
		var got []int
		err := ScanFunc(f, Policy{}, workers, func(r ScanResult) error {
			if r.Err != nil || r.Report == nil || r.Report.PID != r.PID {
				t.Errorf("pid %d: %v %v", r.PID, r.Err, r.Report)
			}
			got = append(got, r.PID)
			return nil
		})
		if err != nil || !slices.Equal(got, pids) {
			t.Errorf("%d workers: %v, got %d pids in this order %v", workers, err, len(got), got)
		}
	}
	all, err := Scan(f, Policy{}, 0)
	if err != nil || len(all) != len(pids) {
		t.Errorf("Scan: %d results, %v", len(all), err)
	}
}

// TestScanFuncStopsOnError: fn's error ends the scan at once, is returned,
// and no worker is left behind (the race detector and the test's end
// would see one).
func TestScanFuncStopsOnError(t *testing.T) {
	root, _ := manyDaemons(t, 4*scanWindow)
	f, err := proc.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("enough")
	n := 0
	err = ScanFunc(f, Policy{}, 3, func(ScanResult) error {
		n++
		if n == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 5 {
		t.Errorf("got %v after %d results", err, n)
	}
}
