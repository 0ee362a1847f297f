// Package cleanstart gives a test binary the start its tests assume,
// whatever started it: nohup(1) (SIGHUP ignored), a shell that ignores
// SIGINT, a blocked signal mask, umask 077, a descriptor left open, a
// supervisor's NOTIFY_SOCKET. dcheck's tests start daemons and judge what
// those inherited; a test binary that passes its own start on makes a good
// daemon look broken (DC401 failed on SIGHUP under nohup).
//
// Go cannot hand a signal ignored at start back to SIG_DFL, nor empty the
// mask its threads fork with, so Main re-executes the binary once with
// them reset (internal/sigaction, right before the exec).
package cleanstart

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/sigaction"
)

// marker is set in the environment of the re-executed binary.
const marker = "DCHECK_CLEAN_START"

// Umask is the umask the tests run with.
const Umask = 0o022

// supervisorVars are variables a supervisor hands its service: a test
// binary that inherits them must not pass them on.
var supervisorVars = []string{"NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"}

// Main sets the start up; call it first in TestMain. Descriptors above 2
// become close-on-exec, the umask is Umask and the supervisor's variables
// are unset, in place; when a signal is ignored or blocked, the binary is
// executed again with every signal at SIG_DFL and an empty mask. It
// returns only in a clean process; when it cannot make one it says why and
// exits 2.
func Main() {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fail("close_range: %v", err)
	}
	unix.Umask(Umask)
	for _, v := range supervisorVars {
		os.Unsetenv(v)
	}
	ignored, blocked, err := inherited()
	if err != nil {
		fail("%v", err)
	}
	if len(ignored) == 0 && blocked == 0 {
		os.Unsetenv(marker)
		return
	}
	if os.Getenv(marker) != "" {
		fail("signals %v still ignored, mask %#x, after a re-execution", ignored, blocked)
	}
	runtime.LockOSThread()
	if err := sigaction.Default(ignored...); err != nil {
		fail("%v", err)
	}
	if err := sigaction.SetMask(); err != nil {
		fail("%v", err)
	}
	err = syscall.Exec("/proc/self/exe", os.Args, append(os.Environ(), marker+"=1"))
	fail("re-executing the test binary with its signals reset: %v", err)
}

// inherited reads the ignored signals and the blocked mask from
// /proc/self/status (this thread's: the main one at TestMain).
func inherited() (ignored []unix.Signal, blocked uint64, err error) {
	f, err := os.Open("/proc/thread-self/status")
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		switch k {
		case "SigIgn":
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("SigIgn %q: %w", v, err)
			}
			for s := 1; s <= 64; s++ {
				if mask&(1<<(s-1)) != 0 {
					ignored = append(ignored, unix.Signal(s))
				}
			}
		case "SigBlk":
			if blocked, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil {
				return nil, 0, fmt.Errorf("SigBlk %q: %w", v, err)
			}
		}
	}
	return ignored, blocked, sc.Err()
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "cleanstart: "+format+"\n", a...)
	os.Exit(2)
}

// Run is a TestMain of its own: Main, then the tests.
func Run(m *testing.M) {
	Main()
	os.Exit(m.Run())
}
