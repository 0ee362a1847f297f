package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

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
// skipped rules have no series.
//
// The families are built directly (client_model's types), not through a
// registry of metric vectors: with 2,000 daemons a registry spent more
// CPU hashing and checking 30,000 series than the scan spent reading
// /proc. The result is a prometheus.Gatherer, for WriteToTextfile and
// expfmt. Its series share their label pairs and gauge values: read them,
// do not change them.
func Metrics(scan Scan) prometheus.Gatherer {
	var reports []*checks.Report
	uninspectable := 0
	for _, res := range scan.Results {
		if res.Err != nil || res.Report == nil {
			uninspectable++
			continue
		}
		reports = append(reports, res.Report)
	}
	sl := newSlab()
	build := newFamily(sl, "dcheck_build_info", "Which dcheck wrote these metrics; always 1.", "goversion", "schema", "version")
	verdict := newFamily(sl, "dcheck_daemon_verdict", "The verdict on each daemon (pass, fail or unknown), the profile it was judged by, what supervises it and its systemd unit; always 1.", "daemon", "profile", "supervisor", "unit", "verdict")
	failed := newFamily(sl, "dcheck_rule_failed", "1 if the daemon failed the rule (no waiver in force), 0 if it passed or the failure is waived.", "daemon", "rule", "severity")
	waived := newFamily(sl, "dcheck_rule_waived", "1 for each finding a waiver in force accepts.", "daemon", "rule", "severity")
	unknown := newFamily(sl, "dcheck_rule_unknown", "1 for each rule that could not be judged (what it needs could not be read).", "daemon", "rule", "severity")
	findings := 0
	for _, r := range reports {
		findings += len(r.Findings)
	}
	failed.mf.Metric = make([]*dto.Metric, 0, findings)
	verdict.mf.Metric = make([]*dto.Metric, 0, len(reports))
	daemons := newFamily(sl, "dcheck_scan_daemons", "Daemons judged by the last scan, per verdict.", "verdict")

	build.add(1, runtime.Version(), checks.Schema, buildinfo.Version())
	perVerdict := map[checks.Verdict]int{}
	waivedTotal := 0
	for i, name := range Names(reports) {
		r := reports[i]
		supervisor, unit := "", ""
		if sup := r.Supervisor; sup != nil {
			supervisor, unit = string(sup.Kind), sup.Unit
		}
		verdict.add(1, name, string(r.Profile), supervisor, unit, string(r.Verdict))
		perVerdict[r.Verdict]++
		for _, f := range r.Findings {
			sev := string(f.Severity)
			switch f.Status {
			case checks.Pass:
				failed.add(0, name, f.ID, sev)
			case checks.Fail:
				failed.add(1, name, f.ID, sev)
			case checks.Waived:
				failed.add(0, name, f.ID, sev)
				waived.add(1, name, f.ID, sev)
				waivedTotal++
			case checks.Unknown:
				unknown.add(1, name, f.ID, sev)
			}
		}
	}
	for _, v := range []checks.Verdict{checks.VerdictFail, checks.VerdictPass, checks.VerdictUnknown} {
		daemons.add(float64(perVerdict[v]), string(v))
	}
	single := func(name, help string, v float64) *dto.MetricFamily {
		f := newFamily(sl, name, help)
		f.add(v)
		return f.mf
	}
	mfs := []*dto.MetricFamily{
		build.mf, verdict.mf, failed.mf, waived.mf, unknown.mf, daemons.mf,
		single("dcheck_scan_uninspectable", "Daemon-like processes the last scan could not read, so did not judge.", float64(uninspectable)),
		single("dcheck_scan_waived_findings", "Findings waived in the last scan, all daemons together.", float64(waivedTotal)),
		single("dcheck_scan_duration_seconds", "How long the last scan took.", scan.Duration.Seconds()),
		single("dcheck_last_scan_timestamp_seconds", "When the last scan started, in seconds since the Unix epoch.", float64(scan.Started.UnixNano())/1e9),
	}
	// As a registry would give them: families by name, none empty.
	mfs = slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool { return len(mf.Metric) == 0 })
	slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
}

// family builds one gauge family; its label names are given sorted.
type family struct {
	mf     *dto.MetricFamily
	labels []string
	slab   *slab
}

// slab makes series cheaply: 2,000 daemons are 34,000 series, and made
// one by one they were half a million allocations and 13 MB. A label pair
// and a gauge value are shared by every series that has them (expfmt only
// reads them), and the series themselves come in blocks.
type slab struct {
	metrics []dto.Metric
	ptrs    []*dto.LabelPair
	pairs   map[[2]string]*dto.LabelPair
	gauges  map[float64]*dto.Gauge
}

const slabBlock = 1024

func newSlab() *slab {
	return &slab{pairs: map[[2]string]*dto.LabelPair{}, gauges: map[float64]*dto.Gauge{}}
}

// pair is the label pair; a value that is not printable UTF-8 (a unit
// name read from a container's cgroup may be anything) is written with
// %XX escapes: one invalid label value makes node_exporter drop the whole
// file. Names are escaped already.
func (sl *slab) pair(name, value string) *dto.LabelPair {
	if safetext.Unsafe(value) {
		value = safetext.Percent(value, "")
	}
	k := [2]string{name, value}
	p, ok := sl.pairs[k]
	if !ok {
		p = &dto.LabelPair{Name: proto.String(name), Value: proto.String(value)}
		sl.pairs[k] = p
	}
	return p
}

func (sl *slab) gauge(v float64) *dto.Gauge {
	g, ok := sl.gauges[v]
	if !ok {
		g = &dto.Gauge{Value: proto.Float64(v)}
		sl.gauges[v] = g
	}
	return g
}

func (sl *slab) metric(nlabels int) *dto.Metric {
	if len(sl.metrics) == 0 {
		sl.metrics = make([]dto.Metric, slabBlock)
	}
	if len(sl.ptrs) < nlabels {
		sl.ptrs = make([]*dto.LabelPair, max(slabBlock, nlabels))
	}
	m := &sl.metrics[0]
	sl.metrics = sl.metrics[1:]
	m.Label, sl.ptrs = sl.ptrs[:nlabels:nlabels], sl.ptrs[nlabels:]
	return m
}

func newFamily(sl *slab, name, help string, labels ...string) *family {
	return &family{mf: &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum()}, labels: labels, slab: sl}
}

func (f *family) add(v float64, values ...string) {
	m := f.slab.metric(len(f.labels))
	m.Gauge = f.slab.gauge(v)
	for i, l := range f.labels {
		m.Label[i] = f.slab.pair(l, values[i])
	}
	f.mf.Metric = append(f.mf.Metric, m)
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
//
// dcheck runs as root, and the textfile directory often belongs to
// node_exporter's user: everything in it is done through the directory's
// descriptor (internal/safepath), so that user cannot turn the write, the
// mode or the rename onto another file. The text is parsed back with
// expfmt first: a file node_exporter would refuse (and with it every
// other series in the directory) is never published, and the error says
// why (ErrUnpublishable).
func WriteTextfile(dir string, g prometheus.Gatherer) (string, error) {
	var buf bytes.Buffer
	if err := WriteMetrics(&buf, g); err != nil {
		return "", err
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	if _, err := parser.TextToMetricFamilies(bytes.NewReader(buf.Bytes())); err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnpublishable, err)
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
