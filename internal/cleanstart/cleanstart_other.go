//go:build !linux

// Package cleanstart gives a test binary the start its tests assume (see
// the Linux implementation). Here it sets the umask and unsets a
// supervisor's variables; signals cannot be reset (internal/sigaction).
package cleanstart

import (
	"os"
	"syscall"
	"testing"
)

// Umask is the umask the tests run with.
const Umask = 0o022

var supervisorVars = []string{"NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"}

// Main sets the umask and unsets the supervisor's variables.
func Main() {
	syscall.Umask(Umask)
	for _, v := range supervisorVars {
		os.Unsetenv(v)
	}
}

// Run is a TestMain of its own: Main, then the tests.
func Run(m *testing.M) {
	Main()
	os.Exit(m.Run())
}
