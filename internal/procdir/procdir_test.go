//go:build linux

package procdir

import (
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
)

// TestSplitStat: a comm may hold spaces and parentheses (a program named
// "a) (b"): it ends at the last ')', and what follows splits into fields.
func TestSplitStat(t *testing.T) {
	pid, comm, rest, err := SplitStat([]byte("42 (a) (b) S 1 42 42 0 -1\n"), nil)
	if err != nil || pid != 42 || string(comm) != "a) (b" || len(rest) != 6 || string(rest[0]) != "S" {
		t.Errorf("pid %d comm %q rest %q err %v", pid, comm, rest, err)
	}
	for _, bad := range []string{"", "42 no comm", "x (a) S"} {
		if _, _, _, err := SplitStat([]byte(bad), nil); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestLookupsOfThisProcess: the lookups daemonize makes, on this process.
func TestLookupsOfThisProcess(t *testing.T) {
	pids, err := Numeric(Mount)
	if err != nil || !slices.Contains(pids, os.Getpid()) {
		t.Errorf("pids: %v (own pid %d listed: %v)", err, os.Getpid(), slices.Contains(pids, os.Getpid()))
	}
	fds, err := Numeric(Mount + "/self/fd")
	if err != nil || !slices.Contains(fds, 0) {
		t.Errorf("fds %v: %v", fds, err)
	}
	start, end, err := EnvRange(os.Getpid())
	if err != nil || start == 0 || end <= start {
		t.Errorf("environment at %#x..%#x: %v", start, end, err)
	}
}

// TestListingIsWholeWhileSignalsArrive: getdents ends a read early when a
// signal is pending (the kernel's filldir64), and Go's runtime takes
// signals all the time (SIGURG preempts goroutines, SIGCHLD reports an
// exit). A short read is no end of the directory: a scan that took it for
// one missed 9 of 89 processes when a child exited during the listing.
// Here children exit and signals arrive while /proc is listed again and
// again: every one of fifty sleeping processes is listed every time.
func TestListingIsWholeWhileSignalsArrive(t *testing.T) {
	var stay []int
	for range 50 {
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer cmd.Process.Kill()
		stay = append(stay, cmd.Process.Pid)
	}
	stop := make(chan struct{})
	var storm sync.WaitGroup
	storm.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			exec.Command("true").Run() // a SIGCHLD
			syscall.Kill(os.Getpid(), syscall.SIGURG)
		}
	})
	defer storm.Wait()
	defer close(stop)
	for i := range 300 {
		pids, err := Numeric(Mount)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range stay {
			if !slices.Contains(pids, p) {
				t.Fatalf("listing %d of /proc: pid %d, which runs, is missing (%d pids listed)", i, p, len(pids))
			}
		}
	}
}
