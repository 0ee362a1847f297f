//go:build !linux

package suites

import "github.com/dcheck/dcheck/checks"

// reaperFor is pol: only Linux has child subreapers that a test process
// may be (FreeBSD's procctl(PROC_REAP_ACQUIRE) is not used here), so an
// orphan's reaper is init unless pol names another.
func reaperFor(pol checks.Policy) checks.Policy { return pol }
