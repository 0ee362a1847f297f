package fleet

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Family is one gauge family of Prometheus's text exposition format
// (version 0.0.4, what node_exporter's textfile collector reads): a name,
// its help, its label names, and series of label values and a value.
//
// dcheck writes the format itself rather than through client_golang and
// expfmt: their initialisation (protobuf descriptors, a registry) cost
// every dcheck start, "dcheck PID" included, more CPU than ps's whole run,
// for gauges that take a hundred lines to write. The tests hold this
// writer to expfmt's output byte for byte, parse it back with expfmt, and
// run it through promtool and a real node_exporter.
type Family struct {
	Name   string
	Help   string
	Labels []string // the label names, in the order Add takes the values

	values []string  // len(Labels) per series, series after series
	gauges []float64 // one per series
}

// NewFamily returns an empty gauge family.
func NewFamily(name, help string, labels ...string) *Family {
	return &Family{Name: name, Help: help, Labels: labels}
}

// Add adds a series: its value, and one value per label name.
func (f *Family) Add(v float64, labelValues ...string) {
	if len(labelValues) != len(f.Labels) {
		panic(fmt.Sprintf("fleet: %s takes %d label values, got %d", f.Name, len(f.Labels), len(labelValues)))
	}
	f.values = append(f.values, labelValues...)
	f.gauges = append(f.gauges, v)
}

// Len is the number of series.
func (f *Family) Len() int { return len(f.gauges) }

// Series returns series i: its label values (read, do not change) and its
// value.
func (f *Family) Series(i int) ([]string, float64) {
	n := len(f.Labels)
	return f.values[i*n : (i+1)*n : (i+1)*n], f.gauges[i]
}

// grow makes room for n series.
func (f *Family) grow(n int) {
	f.values = make([]string, 0, n*len(f.Labels))
	f.gauges = make([]float64, 0, n)
}

// WriteMetrics writes the families in Prometheus's text exposition
// format, as expfmt writes them.
func WriteMetrics(w io.Writer, fams []*Family) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var num []byte
	for _, f := range fams {
		if f.Len() == 0 {
			continue
		}
		if f.Help != "" {
			bw.WriteString("# HELP ")
			bw.WriteString(f.Name)
			bw.WriteByte(' ')
			helpEscaper.WriteString(bw, f.Help)
			bw.WriteByte('\n')
		}
		bw.WriteString("# TYPE ")
		bw.WriteString(f.Name)
		bw.WriteString(" gauge\n")
		for i := range f.Len() {
			values, v := f.Series(i)
			bw.WriteString(f.Name)
			if len(values) > 0 {
				bw.WriteByte('{')
				for j, l := range f.Labels {
					if j > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(l)
					bw.WriteString(`="`)
					labelEscaper.WriteString(bw, values[j])
					bw.WriteByte('"')
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			num = appendValue(num[:0], v)
			bw.Write(num)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// The escapes of the text format: a label value escapes backslash, double
// quote and newline; a help text backslash and newline.
var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// appendValue writes v as the text format (and expfmt) does.
func appendValue(b []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(b, '1')
	case v == 0:
		return append(b, '0')
	case v == -1:
		return append(b, "-1"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// Check says whether node_exporter's textfile collector would read the
// families (ErrUnpublishable, naming the fault, when it would not): legal
// metric and label names (the classic character set, which node_exporter
// requires), UTF-8 label values and help, and no series given twice.
func Check(fams []*Family) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrUnpublishable, fmt.Sprintf(format, a...))
	}
	seen := map[string]bool{}
	for _, f := range fams {
		if !legalName(f.Name, true) {
			return bad("metric name %q is not legal", f.Name)
		}
		if seen[f.Name] {
			return bad("metric %s is given twice", f.Name)
		}
		seen[f.Name] = true
		if !utf8.ValidString(f.Help) {
			return bad("the help of %s is not UTF-8", f.Name)
		}
		for _, l := range f.Labels {
			if !legalName(l, false) || strings.HasPrefix(l, "__") {
				return bad("%s: label name %q is not legal", f.Name, l)
			}
		}
		series := make(map[string]bool, f.Len())
		for i := range f.Len() {
			values, _ := f.Series(i)
			for j, v := range values {
				if !utf8.ValidString(v) {
					return bad("%s: the value of label %s, %q, is not UTF-8", f.Name, f.Labels[j], v)
				}
			}
			key := strings.Join(values, "\xff") // not UTF-8: no value holds it
			if series[key] {
				return bad("%s{%s} is given twice", f.Name, strings.Join(values, ","))
			}
			series[key] = true
		}
	}
	return nil
}

// legalName says whether s is a legal metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
// or, without colons, label name.
func legalName(s string, metric bool) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' || metric && c == ':'
		if !ok {
			return false
		}
	}
	return true
}
