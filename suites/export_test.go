package suites

import (
	"time"

	"golang.org/x/sys/unix"
)

// InjectKillingSpec adds, after SU103, a spec that kills the daemon with
// SIGKILL, as a careless new spec could (see injected).
func InjectKillingSpec() {
	injected = func(h *harness) {
		if h.daemon != 0 {
			h.signal(h.daemon, unix.SIGKILL)
			h.waitExit(h.daemon, 5*time.Second)
		}
	}
}
