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
		{at(0), 0, 0},
		{at(100), 10 * time.Millisecond, 0},
		{at(200), 900 * time.Millisecond, 0},
		{at(300), 1900 * time.Millisecond, 0},
		{at(400), 1950 * time.Millisecond, 0},
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

// TestLongestStall: the machine is blamed for a silent watchdog only when
// the samples show the daemon kept from running (no timeslice) for long
// stretches; a daemon whose threads kept being run had its chances, however
// long they waited in all.
func TestLongestStall(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ran := []uint64{0, 3, 3, 3, 3, 9, 12, 12, 20}
	var samples []schedSample
	for i, r := range ran {
		samples = append(samples, schedSample{at: at(100 * i), ran: r})
	}
	h := &harness{sched: samples}
	for _, tt := range []struct {
		name     string
		from, to time.Time
		stalled  time.Duration
		ran      uint64
	}{
		// Runs seen at 100 and next at 500: at most 500 ms apart.
		{"a stall, then runs", at(50), at(800), 500 * time.Millisecond, 20},
		// Runs seen at 500 and 600: at most 200 ms apart, at this resolution.
		{"running all through", at(500), at(600), 200 * time.Millisecond, 9},
		{"a stall at the end", at(550), at(700), 200 * time.Millisecond, 3},
		{"before the first sample", at(-10), at(300), 0, 0},
		{"past the last sample", at(100), at(900), 0, 0},
	} {
		stalled, n := h.longestStall(tt.from, tt.to)
		if stalled != tt.stalled || n != tt.ran {
			t.Errorf("%s: stalled %v, ran %d; want %v, %d", tt.name, stalled, n, tt.stalled, tt.ran)
		}
	}
}
