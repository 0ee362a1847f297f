package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/buildinfo"
	"github.com/dcheck/dcheck/internal/safepath"
	"github.com/dcheck/dcheck/internal/safetext"
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

// Metrics returns the scan's metrics, all gauges, made fresh: a daemon
// that is gone has no series. No metric has a pid label (pids churn); a
// daemon is named as Names says, so no two series of a family share their
// labels.
//
//	dcheck_build_info{goversion,schema,version}          1
//	dcheck_daemon_verdict{daemon,profile,supervisor,unit,verdict}  1
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
// skipped rules have no series. The families come sorted by name, none
// empty, as a registry gives them.
func Metrics(scan Scan) []*Family {
	var reports []*checks.Report
	uninspectable := 0
	for _, res := range scan.Results {
		if res.Err != nil || res.Report == nil {
			uninspectable++
			continue
		}
		reports = append(reports, res.Report)
	}
	build := NewFamily("dcheck_build_info", "Which dcheck wrote these metrics; always 1.", "goversion", "schema", "version")
	verdict := NewFamily("dcheck_daemon_verdict", "The verdict on each daemon (pass, fail or unknown), the profile it was judged by, what supervises it and its systemd unit; always 1.", "daemon", "profile", "supervisor", "unit", "verdict")
	failed := NewFamily("dcheck_rule_failed", "1 if the daemon failed the rule (no waiver in force), 0 if it passed or the failure is waived.", "daemon", "rule", "severity")
	waived := NewFamily("dcheck_rule_waived", "1 for each finding a waiver in force accepts.", "daemon", "rule", "severity")
	unknown := NewFamily("dcheck_rule_unknown", "1 for each rule that could not be judged (what it needs could not be read).", "daemon", "rule", "severity")
	findings := 0
	for _, r := range reports {
		findings += len(r.Findings)
	}
	failed.grow(findings)
	verdict.grow(len(reports))
	daemons := NewFamily("dcheck_scan_daemons", "Daemons judged by the last scan, per verdict.", "verdict")

	build.Add(1, runtime.Version(), checks.Schema, escape(buildinfo.Version()))
	perVerdict := map[checks.Verdict]int{}
	waivedTotal := 0
	for i, name := range Names(reports) {
		r := reports[i]
		supervisor, unit := "", ""
		if sup := r.Supervisor; sup != nil {
			supervisor, unit = string(sup.Kind), sup.Unit
		}
		// A value that is not printable UTF-8 (a unit name read from a
		// container's cgroup may be anything) is written with %XX
		// escapes: one invalid label value makes node_exporter drop the
		// whole file. Names escapes the daemon's name already.
		verdict.Add(1, name, string(r.Profile), escape(supervisor), escape(unit), string(r.Verdict))
		perVerdict[r.Verdict]++
		for _, f := range r.Findings {
			sev := string(f.Severity)
			switch f.Status {
			case checks.Pass:
				failed.Add(0, name, f.ID, sev)
			case checks.Fail:
				failed.Add(1, name, f.ID, sev)
			case checks.Waived:
				failed.Add(0, name, f.ID, sev)
				waived.Add(1, name, f.ID, sev)
				waivedTotal++
			case checks.Unknown:
				unknown.Add(1, name, f.ID, sev)
			}
		}
	}
	for _, v := range []checks.Verdict{checks.VerdictFail, checks.VerdictPass, checks.VerdictUnknown} {
		daemons.Add(float64(perVerdict[v]), string(v))
	}
	single := func(name, help string, v float64) *Family {
		f := NewFamily(name, help)
		f.Add(v)
		return f
	}
	fams := []*Family{
		build, verdict, failed, waived, unknown, daemons,
		single("dcheck_scan_uninspectable", "Daemon-like processes the last scan could not read, so did not judge.", float64(uninspectable)),
		single("dcheck_scan_waived_findings", "Findings waived in the last scan, all daemons together.", float64(waivedTotal)),
		single("dcheck_scan_duration_seconds", "How long the last scan took.", scan.Duration.Seconds()),
		single("dcheck_last_scan_timestamp_seconds", "When the last scan started, in seconds since the Unix epoch.", float64(scan.Started.UnixNano())/1e9),
	}
	fams = slices.DeleteFunc(fams, func(f *Family) bool { return f.Len() == 0 })
	slices.SortFunc(fams, func(a, b *Family) int { return strings.Compare(a.Name, b.Name) })
	return fams
}

func escape(v string) string {
	if safetext.Unsafe(v) {
		return safetext.Percent(v, "")
	}
	return v
}

// WriteTextfile writes the metrics to dir/dcheck.prom for node_exporter's
// textfile collector, atomically: a temporary file in dir, renamed over
// the old one, so a scrape never reads half a file. dir must exist.
//
// dcheck runs as root, and the textfile directory often belongs to
// node_exporter's user: everything in it is done through the directory's
// descriptor (internal/safepath), so that user cannot turn the write, the
// mode or the rename onto another file. The families are checked first
// (Check): a file node_exporter would refuse (and with it every other
// series in the directory) is never published, and the error says why
// (ErrUnpublishable).
func WriteTextfile(dir string, fams []*Family) (string, error) {
	if err := Check(fams); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := WriteMetrics(&buf, fams); err != nil {
		return "", err
	}
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return "", fmt.Errorf("%s: not a directory", dir)
		}
		return "", err
	}
	defer f.Close()
	path := filepath.Join(dir, TextfileName)
	if err := safepath.WriteFile(f, TextfileName, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// ErrUnpublishable is returned by WriteTextfile when the metrics do not
// parse as node_exporter would parse them: nothing was written.
var ErrUnpublishable = errors.New("the metrics would not parse in node_exporter's textfile collector; nothing was published")

// Trim returns what Metrics, NagiosScan and Names use of a scan result,
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
