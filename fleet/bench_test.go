package fleet

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/dcheck/dcheck/checks"
)

// BenchmarkMetrics2000 turns a scan of 2,000 judged daemons (every static
// rule each) into the text format: the part of a fleet scan that is not
// reading /proc. ci/bench.sh measures the whole.
func BenchmarkMetrics2000(b *testing.B) {
	var scan Scan
	for i := range 2000 {
		r := report(1000+i, uint64(i), fmt.Sprintf("/usr/sbin/d%d", i))
		for _, rule := range checks.Rules() {
			if rule.Kind == checks.Static {
				r.Findings = append(r.Findings, checks.Finding{ID: rule.ID, Severity: rule.SysV, Status: checks.Pass})
			}
		}
		scan.Results = append(scan.Results, checks.ScanResult{PID: r.PID, Report: r})
	}
	scan.Started, scan.Duration = time.Now(), time.Second
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteMetrics(io.Discard, Metrics(scan)); err != nil {
			b.Fatal(err)
		}
	}
}
