package proc

import (
	"errors"
	"fmt"
	"runtime"
)

// Fact is a part of a Snapshot that has no error field of its own, and that
// a reader may be unable to get: the portable reader on a system without
// /proc, or gopsutil where it has no call for it. A rule that needs the
// fact is unknown when the Snapshot records a gap for it; never a pass.
type Fact string

// The facts a reader may lack.
const (
	FactTerminal     Fact = "controlling terminal"           // Stat.TTY, Stat.TPGID
	FactSignals      Fact = "signal masks"                   // Status.SigBlocked, SigIgnored, SigCaught; Parent.SigIgnored
	FactCredentials  Fact = "user and group IDs"             // Status.UIDs, GIDs, Groups
	FactCapabilities Fact = "capabilities"                   // Status.CapEff
	FactNamespaces   Fact = "pid namespaces"                 // Status.NSPID, Parent.NSPID
	FactUmask        Fact = "umask"                          // Status.Umask
	FactStartTime    Fact = "start time in ticks since boot" // Stat.StartTime
)

// ErrNotAvailable is wrapped by the reason a reader gives for a fact it
// cannot get on this system.
var ErrNotAvailable = errors.New("not available")

// NotAvailable is the gap error for what a reader cannot get here: "not
// available on darwin", with how the reader tried when it says more.
func NotAvailable(how string) error {
	if how == "" {
		return fmt.Errorf("%w on %s", ErrNotAvailable, runtime.GOOS)
	}
	return fmt.Errorf("%w on %s %s", ErrNotAvailable, runtime.GOOS, how)
}

// Gap is why the Snapshot lacks fact f, or nil when it has it.
func (s *Snapshot) Gap(f Fact) error { return s.Gaps[f] }

// SetGap records that the Snapshot lacks fact f, and why (a reader's
// call).
func (s *Snapshot) SetGap(f Fact, err error) {
	if s.Gaps == nil {
		s.Gaps = map[Fact]error{}
	}
	s.Gaps[f] = err
}
