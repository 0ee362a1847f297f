package daemonize_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/dcheck/dcheck/daemonize"
)

// neverReady runs this test binary as a daemon that never calls Ready,
// with a short start timeout, and returns what its starter did.
func neverReady(t *testing.T) result {
	t.Helper()
	self, _ := os.Executable()
	cmd := exec.Command(self, "-test.run=^TestNeverReadyHelper$")
	cmd.Env = append(os.Environ(), "DCHECK_TEST_NEVER_READY=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}
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
	time.Sleep(time.Hour) // never Ready: the starter kills it
}
