package suites

import "golang.org/x/sys/unix"

// hostFacilities: Linux has them all.
func hostFacilities() facilities {
	return facilities{adopt: true, freeze: true, pty: true, notify: true, sigmask: true, environ: true, procfs: true}
}

// becomeSubreaper makes the process a child subreaper, for good.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// sinceBoot is the time since boot in units of 1/hz s, on the clock the
// kernel uses for a process's start time (CLOCK_BOOTTIME, since Linux
// 5.3); 0 when it cannot be read.
func sinceBoot(hz uint64) uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return uint64(ts.Sec)*hz + uint64(ts.Nsec)/(1e9/hz)
}
