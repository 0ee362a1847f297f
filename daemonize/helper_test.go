//go:build linux

package daemonize_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/dcheck/dcheck/daemonize"
	"github.com/dcheck/dcheck/internal/testclock"
)

// slow scales a test's time budget by the one factor all tests share.
func slow(d time.Duration) time.Duration { return testclock.Scale(d) }

// helperDaemon runs this test binary as a daemon that misbehaves as mode
// says ("never-ready": it never calls Ready; "exit-early": it exits before
// Ready, saying nothing), with the given start timeout and pidfile ("" for
// none), and returns what its starter did. env is added to the daemon's
// environment (a token to find its processes by).
func helperDaemon(t *testing.T, mode string, timeout time.Duration, pidfile string, env ...string) result {
	t.Helper()
	self, _ := os.Executable()
	cmd := exec.Command(self, "-test.run=^TestNeverReadyHelper$")
	cmd.Env = append(append(os.Environ(), "DCHECK_TEST_NEVER_READY="+mode,
		"DCHECK_TEST_START_TIMEOUT="+timeout.String(), "DCHECK_TEST_PIDFILE="+pidfile), env...)
	return run(t, cmd)
}

// TestNeverReadyHelper is the daemon of the start-failure tests.
func TestNeverReadyHelper(t *testing.T) {
	if os.Getenv("DCHECK_TEST_NEVER_READY") == "" {
		t.Skip("run by TestStartTimeoutKillsTheDaemon")
	}
	timeout, _ := time.ParseDuration(os.Getenv("DCHECK_TEST_START_TIMEOUT"))
	d := &daemonize.Daemon{StartTimeout: timeout, PidFile: os.Getenv("DCHECK_TEST_PIDFILE")}
	child, err := d.Start()
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	if child != nil {
		os.Exit(0)
	}
	if os.Getenv("DCHECK_TEST_NEVER_READY") == "exit-early" {
		os.Exit(3)
	}
	time.Sleep(time.Hour) // never Ready: the starter kills it
}
