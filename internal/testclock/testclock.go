// Package testclock holds the one factor by which every time budget of
// dcheck's tests is scaled, so that they hold on a busy or slow machine:
// DCHECK_TEST_SLOW=3 gives every wait three times as long. Tests never
// assert a duration; speed targets live in benchmarks (ci/bench.sh).
package testclock

import (
	"os"
	"strconv"
	"time"
)

// Scale returns d times DCHECK_TEST_SLOW (a number >= 1; unset or
// anything else means 1).
func Scale(d time.Duration) time.Duration {
	if f, err := strconv.ParseFloat(os.Getenv("DCHECK_TEST_SLOW"), 64); err == nil && f >= 1 {
		return time.Duration(float64(d) * f)
	}
	return d
}
