package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"github.com/dcheck/dcheck/checks"
)

// sampleScan is a scan of three daemons, one of them failing and one with
// a waived finding, and one process that could not be read.
func sampleScan() Scan {
	good := report(100, 1, "/usr/sbin/good")
	good.Profile = checks.ProfileSupervised
	good.Supervisor = &checks.Supervision{Kind: checks.SupervisorSystemd, Unit: "good.service", Type: "notify", Profile: checks.ProfileSupervised}
	good.Findings = []checks.Finding{
		{ID: "DC103", Severity: checks.Error, Status: checks.Pass},
		{ID: "DC201", Severity: checks.Error, Status: checks.Waived},
		{ID: "DC301", Severity: checks.Error, Status: checks.Skip},
		{ID: "DC503", Severity: checks.Info, Status: checks.Unknown},
	}
	bad := report(200, 2, "/usr/sbin/bad")
	bad.Verdict = checks.VerdictFail
	bad.Findings = []checks.Finding{
		{ID: "DC103", Severity: checks.Error, Status: checks.Fail},
		{ID: "DC202", Severity: checks.Warning, Status: checks.Pass},
	}
	return Scan{
		Results: []checks.ScanResult{
			{PID: 100, Report: good}, {PID: 200, Report: bad},
			{PID: 300, Err: errors.New("pid 300: permission denied")},
		},
		Started:  time.Unix(1796000000, 500e6),
		Duration: 1500 * time.Millisecond,
	}
}

// toDTO is fams as client_model's families, for expfmt and promlint.
func toDTO(fams []*Family) []*dto.MetricFamily {
	var mfs []*dto.MetricFamily
	for _, f := range fams {
		mf := &dto.MetricFamily{Name: proto.String(f.Name), Type: dto.MetricType_GAUGE.Enum()}
		if f.Help != "" {
			mf.Help = proto.String(f.Help)
		}
		for i := range f.Len() {
			values, v := f.Series(i)
			m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
			for j, l := range f.Labels {
				m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(l), Value: proto.String(values[j])})
			}
			mf.Metric = append(mf.Metric, m)
		}
		mfs = append(mfs, mf)
	}
	return mfs
}

func TestMetricsLintClean(t *testing.T) {
	problems, err := promlint.NewWithMetricFamilies(toDTO(Metrics(sampleScan()))).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}

// TestMetricsRoundTrip writes the text format and reads it back with
// Prometheus's own parser: every series a user alerts on is there, with
// its value, and nothing with a pid label.
func TestMetricsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMetrics(&buf, Metrics(sampleScan())); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	want := map[string]float64{
		`dcheck_daemon_verdict{daemon="good.service",profile="supervised",supervisor="systemd",unit="good.service",verdict="pass"}`: 1,
		`dcheck_daemon_verdict{daemon="/usr/sbin/bad",profile="sysv",supervisor="",unit="",verdict="fail"}`:                         1,
		`dcheck_rule_failed{daemon="good.service",rule="DC103",severity="error"}`:                                                   0,
		`dcheck_rule_failed{daemon="good.service",rule="DC201",severity="error"}`:                                                   0,
		`dcheck_rule_waived{daemon="good.service",rule="DC201",severity="error"}`:                                                   1,
		`dcheck_rule_unknown{daemon="good.service",rule="DC503",severity="info"}`:                                                   1,
		`dcheck_rule_failed{daemon="/usr/sbin/bad",rule="DC103",severity="error"}`:                                                  1,
		`dcheck_rule_failed{daemon="/usr/sbin/bad",rule="DC202",severity="warning"}`:                                                0,
		`dcheck_scan_daemons{verdict="pass"}`:                                                                                       1,
		`dcheck_scan_daemons{verdict="fail"}`:                                                                                       1,
		`dcheck_scan_daemons{verdict="unknown"}`:                                                                                    0,
		`dcheck_scan_uninspectable`:                                                                                                 1,
		`dcheck_scan_waived_findings`:                                                                                               1,
		`dcheck_scan_duration_seconds`:                                                                                              1.5,
		`dcheck_last_scan_timestamp_seconds`:                                                                                        1796000000.5,
	}
	got := map[string]float64{}
	seen := map[string]bool{}
	for name, mf := range families {
		if mf.GetType() != dto.MetricType_GAUGE || mf.GetHelp() == "" {
			t.Errorf("%s: type %v, help %q: want a gauge with help", name, mf.GetType(), mf.GetHelp())
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if l.GetName() == "pid" {
					t.Errorf("%s has a pid label", name)
				}
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			if seen[key] {
				t.Errorf("%s twice: node_exporter would reject the file", key)
			}
			seen[key] = true
			got[key] = m.GetGauge().GetValue()
		}
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present: %v), want %v", k, g, ok, v)
		}
	}
	// Skipped rules have no series; nor does a process that was not judged.
	for k := range got {
		if strings.Contains(k, `rule="DC301"`) || strings.Contains(k, "300") {
			t.Errorf("unexpected series %s", k)
		}
	}
	if mf := families["dcheck_build_info"]; mf == nil || len(mf.GetMetric()) != 1 || mf.GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Errorf("dcheck_build_info: %v", mf)
	}
}

func TestWriteTextfile(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteTextfile(dir, Metrics(sampleScan()))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || path != filepath.Join(dir, "dcheck.prom") || st.Mode().Perm() != 0o644 {
		t.Fatalf("%s: %v %v (node_exporter, another user, must read it)", path, st, err)
	}
	// Nothing else is left in the directory: the temporary file was renamed.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %v", entries)
	}
	if _, err := WriteTextfile(filepath.Join(dir, "missing"), Metrics(sampleScan())); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing directory: %v", err)
	}
	if _, err := WriteTextfile(path, Metrics(sampleScan())); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file for a directory: %v", err)
	}
}

func TestNagiosScanLongOutputHoldsNoPerfdata(t *testing.T) {
	st, out := NagiosScan(sampleScan())
	if st != NagiosCritical {
		t.Errorf("status %v", st)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines[1:] {
		if strings.Contains(l, "|") {
			t.Errorf("long output line %q has a |: the plugin API would read perfdata there", l)
		}
	}
	if !strings.Contains(out, "uninspectable=1;;;0") || !strings.Contains(out, "UNKNOWN pid 300: permission denied") {
		t.Errorf("the unreadable process is not counted:\n%s", out)
	}
}

// TestWriteTextfileNeverPublishesWhatNodeExporterRefuses: node_exporter
// drops a whole textfile that does not parse (node_textfile_scrape_error
// 1), and with it the freshness series the alerts watch. A file that
// would not parse is never renamed into place: the old one stays, and
// the error says why.
func TestWriteTextfileNeverPublishesWhatNodeExporterRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteTextfile(dir, Metrics(sampleScan())); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, TextfileName))
	// Metrics escapes every label value; families of another writer may
	// not.
	bad := NewFamily("x_total", "", "daemon")
	bad.Add(1, "x\xffy")
	_, err := WriteTextfile(dir, []*Family{bad})
	if !errors.Is(err, ErrUnpublishable) {
		t.Fatalf("a label value that is not UTF-8: %v, want ErrUnpublishable", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, TextfileName))
	if !bytes.Equal(before, after) {
		t.Error("the published file changed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %v; want the published file alone", entries)
	}
}

// TestHostileNamesArePublished: a program whose path holds a byte that is
// not UTF-8, a C1 control or a bidi override (cp /bin/sleep to such a
// name) is still named, escaped, in a file node_exporter reads: once,
// the whole file was refused and the freshness alert went quiet.
func TestHostileNamesArePublished(t *testing.T) {
	var results []checks.ScanResult
	for i, exe := range []string{"/tmp/x\xffy", "/tmp/a\u009b31m", "/tmp/evil\u202ecod.sh", "/tmp/P 900 #1"} {
		r := report(500+i, uint64(i), exe)
		results = append(results, checks.ScanResult{PID: r.PID, Report: r})
	}
	dir := t.TempDir()
	if _, err := WriteTextfile(dir, Metrics(Scan{Results: results})); err != nil {
		t.Fatalf("hostile names made the file unpublishable: %v", err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, TextfileName))
	for _, want := range []string{`daemon="/tmp/x%FFy"`, `daemon="/tmp/a%C2%9B31m"`, `daemon="/tmp/evil%E2%80%AEcod.sh"`, `daemon="/tmp/P 900 %231"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("no series with %s in\n%s", want, data)
		}
	}
}

// TestWriterMatchesExpfmt: the text dcheck writes itself is, byte for
// byte, what Prometheus's own encoder (expfmt) writes for the same
// families: the scan's, hostile names, escapes in help and label values,
// and values that are not plain integers.
func TestWriterMatchesExpfmt(t *testing.T) {
	odd := NewFamily("dcheck_test_odd", "a help with a \\ backslash,\na newline and \"quotes\"", "a", "b")
	for i, v := range []float64{0, 1, -1, 0.5, -2.25, 1e-7, 1796000000.5, 1e21, math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN()} {
		odd.Add(v, fmt.Sprintf("v%d \\ \" \n é", i), "")
	}
	var hostile []checks.ScanResult
	for i, exe := range []string{"/tmp/x\xffy", "/tmp/a\u009b31m", "/tmp/evil\u202ecod.sh", `/tmp/q"uo\te`} {
		r := report(500+i, uint64(i), exe)
		hostile = append(hostile, checks.ScanResult{PID: r.PID, Report: r})
	}
	for name, fams := range map[string][]*Family{
		"sample": Metrics(sampleScan()), "hostile": Metrics(Scan{Results: hostile}), "odd": {odd},
		"empty scan": Metrics(Scan{}),
	} {
		var ours, theirs bytes.Buffer
		if err := WriteMetrics(&ours, fams); err != nil {
			t.Fatal(err)
		}
		enc := expfmt.NewEncoder(&theirs, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range toDTO(fams) {
			if err := enc.Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
		if ours.String() != theirs.String() {
			t.Errorf("%s: dcheck wrote\n%s\nexpfmt writes\n%s", name, ours.String(), theirs.String())
		}
		if ours.Len() == 0 {
			t.Errorf("%s: nothing written", name)
		}
	}
}

// TestCheckRefusesWhatNodeExporterRefuses: each fault that makes
// node_exporter drop a textfile is caught before it is published, and
// named.
func TestCheckRefusesWhatNodeExporterRefuses(t *testing.T) {
	fam := func(name string, labels []string, values ...[]string) *Family {
		f := NewFamily(name, "help", labels...)
		for _, v := range values {
			f.Add(1, v...)
		}
		return f
	}
	for _, c := range []struct {
		name string
		fams []*Family
		says string
	}{
		{"a metric name with a dash", []*Family{fam("dcheck-x", nil, nil)}, `metric name "dcheck-x"`},
		{"a metric name with a digit first", []*Family{fam("1x", nil, nil)}, `metric name "1x"`},
		{"a label name with a colon", []*Family{fam("x", []string{"a:b"}, []string{"v"})}, `label name "a:b"`},
		{"a reserved label name", []*Family{fam("x", []string{"__name"}, []string{"v"})}, `label name "__name"`},
		{"a label value that is not UTF-8", []*Family{fam("x", []string{"d"}, []string{"\xff"})}, "is not UTF-8"},
		{"one series twice", []*Family{fam("x", []string{"d"}, []string{"a"}, []string{"a"})}, "x{a} is given twice"},
		{"one family twice", []*Family{fam("x", nil, nil), fam("x", nil, nil)}, "metric x is given twice"},
	} {
		var buf bytes.Buffer
		WriteMetrics(&buf, c.fams)
		parser := expfmt.NewTextParser(model.LegacyValidation)
		_, parseErr := parser.TextToMetricFamilies(&buf)
		err := Check(c.fams)
		if !errors.Is(err, ErrUnpublishable) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: Check says %v; want ErrUnpublishable naming %s (expfmt's parser: %v)", c.name, err, c.says, parseErr)
		}
	}
	if err := Check(Metrics(sampleScan())); err != nil {
		t.Errorf("the scan's metrics: %v", err)
	}
}
