package suites

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
)

// reaperFor is pol's reaper, the test process when it is a child
// subreaper and pol names none.
func reaperFor(pol checks.Policy) checks.Policy {
	if pol.Reaper != 0 {
		return pol
	}
	var on int32
	if err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&on)), 0, 0, 0); err == nil && on != 0 {
		pol.Reaper = os.Getpid()
	}
	return pol
}
