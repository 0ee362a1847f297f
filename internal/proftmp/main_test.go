package proftmp

import (
	"testing"

	"github.com/dcheck/dcheck/checks"
)

func BenchmarkScanLive(b *testing.B) {
	f, _ := checks.NewFS("")
	for b.Loop() {
		n := 0
		f.ScanFunc(checks.Policy{}, 0, func(checks.ScanResult) error { n++; return nil })
		b.ReportMetric(float64(n), "daemons")
	}
}
