//go:build !linux

package suites

import (
	"os/exec"
	"time"
)

// startTraced runs the start command untraced: ptrace's freeze is Linux's.
func (h *harness) startTraced(cmd *exec.Cmd, timeout time.Duration) exitFacts {
	return h.startUntraced(cmd, timeout)
}
