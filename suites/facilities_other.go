//go:build !linux

package suites

import (
	"errors"
	"fmt"
	"runtime"
)

// hostFacilities: none of Linux's. darwin's gopsutil reads another
// process's environment (the run's marker); FreeBSD's does not. FreeBSD's
// procctl(PROC_REAP_ACQUIRE) would make the harness a reaper; it is not
// used yet.
func hostFacilities() facilities {
	return facilities{environ: runtime.GOOS == "darwin"}
}

// becomeSubreaper: only Linux has child subreapers here.
func becomeSubreaper() error {
	return fmt.Errorf("a child subreaper on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// sinceBoot: no process start times are read here (bootTicks).
func sinceBoot(uint64) uint64 { return 0 }
