package suites_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcheck/dcheck/internal/testclock"
)

// slow scales a test's time budget by the one factor all tests share.
func slow(d time.Duration) time.Duration { return testclock.Scale(d) }

// runCanary is the canary process (this test binary, run with
// DCHECK_TEST_CANARY=LOG): it writes the name of every signal it receives to
// LOG, and never exits by itself. SIGKILL cannot be caught: the test sees
// it as the canary's death.
func runCanary(log string) {
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		os.Exit(111)
	}
	ch := make(chan os.Signal, 64)
	signal.Notify(ch)
	f.WriteString("ready\n")
	for sig := range ch {
		if sig == syscall.SIGURG || sig == syscall.SIGCHLD { // the Go runtime's preemption; children
			continue
		}
		fmt.Fprintf(f, "%v\n", sig)
	}
}

// canary is a process outside a run that must survive it untouched.
type canary struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startCanary starts a canary in a session of its own (own) or in this
// test's session, and waits until it listens for signals.
func startCanary(t *testing.T, own bool) *canary {
	t.Helper()
	log := filepath.Join(t.TempDir(), "canary.log")
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "DCHECK_TEST_CANARY="+log)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: own}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &canary{cmd: cmd, log: log, done: make(chan struct{})}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-c.done }) // by pid
	deadline := time.Now().Add(slow(10 * time.Second))
	for !strings.HasPrefix(c.read(), "ready\n") {
		if time.Now().After(deadline) {
			t.Fatalf("canary %d never got ready", cmd.Process.Pid)
		}
		time.Sleep(time.Millisecond) // the canary's log gives no event
	}
	return c
}

func (c *canary) pid() int { return c.cmd.Process.Pid }

func (c *canary) read() string {
	data, _ := os.ReadFile(c.log)
	return string(data)
}

// check fails the test if the canary died or received any signal.
func (c *canary) check(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
		t.Errorf("canary pid %d (outside the run) died: %v", c.pid(), c.cmd.ProcessState)
	default:
	}
	if got := strings.TrimPrefix(c.read(), "ready\n"); got != "" {
		t.Errorf("canary pid %d (outside the run) received: %s", c.pid(), strings.ReplaceAll(strings.TrimSpace(got), "\n", ", "))
	}
}
