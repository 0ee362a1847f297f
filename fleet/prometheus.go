package fleet

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/buildinfo"
)

// Scan is one run of "dcheck scan": every result, and when and how long.
type Scan struct {
	Results  []checks.ScanResult
	Started  time.Time
	Duration time.Duration
}

// TextfileName is the file WriteTextfile writes in node_exporter's
// textfile directory.
const TextfileName = "dcheck.prom"

// Registry returns a registry holding the scan's metrics, all gauges, made
// fresh: a daemon that is gone has no series. No metric has a pid label
// (pids churn); a daemon is named as Names says.
//
//	dcheck_build_info{version,goversion,schema}          1
//	dcheck_daemon_verdict{daemon,profile,verdict}        1
//	dcheck_rule_failed{daemon,rule,severity}             0 or 1, for each judged rule
//	dcheck_rule_waived{daemon,rule,severity}             1, for each waived finding
//	dcheck_rule_unknown{daemon,rule,severity}            1, for each rule that could not be judged
//	dcheck_scan_daemons{verdict}                         daemons judged, per verdict
//	dcheck_scan_uninspectable                            daemon-like processes that could not be read
//	dcheck_scan_waived_findings                          findings waived, all daemons
//	dcheck_scan_duration_seconds                         how long the scan took
//	dcheck_last_scan_timestamp_seconds                   when it started (Unix time)
//
// A judged rule is one that passed or failed. A failed finding under a
// waiver in force is 0 in dcheck_rule_failed and 1 in dcheck_rule_waived;
// skipped rules have no series.
func Registry(scan Scan) *prometheus.Registry {
	reg := prometheus.NewPedanticRegistry()
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		reg.MustRegister(g)
		return g
	}
	build := gauge("dcheck_build_info", "Which dcheck wrote these metrics; always 1.", "version", "goversion", "schema")
	verdict := gauge("dcheck_daemon_verdict", "The verdict on each daemon (pass, fail or unknown); always 1.", "daemon", "profile", "verdict")
	failed := gauge("dcheck_rule_failed", "1 if the daemon failed the rule (no waiver in force), 0 if it passed or the failure is waived.", "daemon", "rule", "severity")
	waived := gauge("dcheck_rule_waived", "1 for each finding a waiver in force accepts.", "daemon", "rule", "severity")
	unknown := gauge("dcheck_rule_unknown", "1 for each rule that could not be judged (what it needs could not be read).", "daemon", "rule", "severity")
	daemons := gauge("dcheck_scan_daemons", "Daemons judged by the last scan, per verdict.", "verdict")
	uninspectable := prometheus.NewGauge(prometheus.GaugeOpts{Name: "dcheck_scan_uninspectable", Help: "Daemon-like processes the last scan could not read, so did not judge."})
	waivedTotal := prometheus.NewGauge(prometheus.GaugeOpts{Name: "dcheck_scan_waived_findings", Help: "Findings waived in the last scan, all daemons together."})
	duration := prometheus.NewGauge(prometheus.GaugeOpts{Name: "dcheck_scan_duration_seconds", Help: "How long the last scan took."})
	last := prometheus.NewGauge(prometheus.GaugeOpts{Name: "dcheck_last_scan_timestamp_seconds", Help: "When the last scan started, in seconds since the Unix epoch."})
	reg.MustRegister(uninspectable, waivedTotal, duration, last)

	build.WithLabelValues(buildinfo.Version(), runtime.Version(), checks.Schema).Set(1)
	for _, v := range []checks.Verdict{checks.VerdictPass, checks.VerdictFail, checks.VerdictUnknown} {
		daemons.WithLabelValues(string(v))
	}
	var reports []*checks.Report
	for _, res := range scan.Results {
		if res.Err != nil || res.Report == nil {
			uninspectable.Inc()
			continue
		}
		reports = append(reports, res.Report)
	}
	for i, name := range Names(reports) {
		r := reports[i]
		verdict.WithLabelValues(name, string(r.Profile), string(r.Verdict)).Set(1)
		daemons.WithLabelValues(string(r.Verdict)).Inc()
		for _, f := range r.Findings {
			labels := []string{name, f.ID, string(f.Severity)}
			switch f.Status {
			case checks.Pass:
				failed.WithLabelValues(labels...).Set(0)
			case checks.Fail:
				failed.WithLabelValues(labels...).Set(1)
			case checks.Waived:
				failed.WithLabelValues(labels...).Set(0)
				waived.WithLabelValues(labels...).Set(1)
				waivedTotal.Inc()
			case checks.Unknown:
				unknown.WithLabelValues(labels...).Set(1)
			}
		}
	}
	duration.Set(scan.Duration.Seconds())
	last.Set(float64(scan.Started.UnixNano()) / 1e9)
	return reg
}

// WriteMetrics writes the registry's metrics in Prometheus's text
// exposition format.
func WriteMetrics(w io.Writer, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

// WriteTextfile writes the metrics to dir/dcheck.prom for node_exporter's
// textfile collector, atomically: a temporary file in dir, renamed over
// the old one, so a scrape never reads half a file. dir must exist.
func WriteTextfile(dir string, g prometheus.Gatherer) (string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%s: not a directory", dir)
	}
	path := filepath.Join(dir, TextfileName)
	if err := prometheus.WriteToTextfile(path, g); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// Trim returns what Registry, NagiosScan and Names use of a scan result,
// so that a scan of ten thousand daemons holds ten thousand small
// records: the report without the process's descriptors, environment,
// children and signal sets (its name, program, arguments and start time
// stay), and every finding.
func Trim(res checks.ScanResult) checks.ScanResult {
	if res.Report == nil {
		return res
	}
	r := *res.Report
	p := r.Process
	r.Process = checks.ProcessView{Comm: p.Comm, Exe: p.Exe, Cmdline: p.Cmdline, StartTime: p.StartTime}
	if r.PidFile != nil {
		r.PidFile = &checks.PidFileView{Path: r.PidFile.Path}
	}
	res.Report = &r
	return res
}
