//go:build linux

package suites

import (
	"testing"
	"time"
)

// TestWaitedForCPU: SU114 excuses a late watchdog ping only on what the
// samples show: the wait between the last sample at or before the gap's
// start and the first at or after its end (never less than the gap's own),
// and nothing when the samples do not cover the gap.
func TestWaitedForCPU(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	h := &harness{sched: []schedSample{
		{at(0), 0},
		{at(100), 10 * time.Millisecond},
		{at(200), 900 * time.Millisecond},
		{at(300), 1900 * time.Millisecond},
		{at(400), 1950 * time.Millisecond},
	}}
	for _, tt := range []struct {
		name     string
		from, to time.Time
		waited   time.Duration
		seen     bool
	}{
		{"samples on the gap's ends", at(100), at(300), 1890 * time.Millisecond, true},
		{"between samples: bounded outward", at(150), at(250), 1890 * time.Millisecond, true},
		{"before the first sample", at(-50), at(300), 0, false},
		{"after the last sample", at(100), at(450), 0, false},
	} {
		waited, seen := h.waitedForCPU(tt.from, tt.to)
		if waited != tt.waited || seen != tt.seen {
			t.Errorf("%s: waited %v, seen %v; want %v, %v", tt.name, waited, seen, tt.waited, tt.seen)
		}
	}
}
