//go:build linux

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
	if ready := os.NewFile(3, "ready"); ready != nil { // the test waits on this pipe
		ready.Write([]byte{'\n'})
		ready.Close()
	}
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
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "DCHECK_TEST_CANARY="+log)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: own}
	cmd.ExtraFiles = []*os.File{w} // fd 3: one byte once it listens for signals
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := &canary{cmd: cmd, log: log, done: make(chan struct{})}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-c.done }) // by pid
	// The byte is the event; the bound is only a safety net, for a canary
	// that neither writes nor exits (a loaded machine delays the first).
	r.SetReadDeadline(time.Now().Add(slow(2 * time.Minute)))
	if _, err := r.Read(make([]byte, 1)); err != nil {
		select {
		case <-c.done:
			t.Fatalf("canary %d exited before it was ready: %v", cmd.Process.Pid, cmd.ProcessState)
		default:
			t.Fatalf("canary %d never got ready: %v", cmd.Process.Pid, err)
		}
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
