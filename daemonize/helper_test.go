package daemonize_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/dcheck/dcheck/daemonize"
)

// helperDaemon runs this test binary as a daemon that misbehaves as mode
// says ("never-ready": it never calls Ready; "exit-early": it exits before
// Ready, saying nothing), and returns what its starter did.
func helperDaemon(t *testing.T, mode string) result {
	t.Helper()
	self, _ := os.Executable()
	cmd := exec.Command(self, "-test.run=^TestNeverReadyHelper$")
	cmd.Env = append(os.Environ(), "DCHECK_TEST_NEVER_READY="+mode)
	return run(t, cmd)
}

// TestNeverReadyHelper is the daemon of TestStartTimeoutKillsTheDaemon.
func TestNeverReadyHelper(t *testing.T) {
	if os.Getenv("DCHECK_TEST_NEVER_READY") == "" {
		t.Skip("run by TestStartTimeoutKillsTheDaemon")
	}
	d := &daemonize.Daemon{StartTimeout: 300 * time.Millisecond}
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
