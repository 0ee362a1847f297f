package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/fleet"
)

func runScan(args []string, io IO) error {
	var o checkOptions
	fs := NewFlags("dcheck scan", io, Help{
		Usage: "dcheck scan [flags]",
		About: `Judges every process whose parent is the reaper (pid 1, or --reaper), a
supervisor (supervisord, runsv, s6-supervise, supervise, a container
runtime's shim or a container's init), or that is a container's own pid 1,
and that has no controlling terminal, kernel threads excluded, one row
each, each by the profile its supervisor runs it with (a systemd unit's
Type=; --profile overrides): FAILED lists the failed rules that decide the verdict, WARNED the failed
warnings that do not, NOTED the failed info rules, WAIVED the waived ones.
Exit 0 if every one passed, 1 if any failed, 3 if any could not be judged or
none was found; with --textfile, 0 once the file is written; with -o nagios,
the plugin API's codes.`,
		Examples: []string{
			"dcheck scan                                              # the table",
			"dcheck scan -o json                                      # one report per line",
			"dcheck scan --textfile /var/lib/prometheus/node-exporter # for node_exporter",
			"dcheck scan --config /etc/dcheck.yaml -o nagios          # a Nagios-compatible check",
		},
	})
	o.judgeFlags(fs.FlagSet)
	fs.StringVar(&o.textfile, "textfile", "", "write the verdicts as Prometheus metrics to `dir`/dcheck.prom (node_exporter's textfile directory), atomically, instead of printing them; exit 0 once written")
	var processTimeout, scanTimeout time.Duration
	fs.DurationVar(&processTimeout, "process-timeout", 5*time.Second, "the most one process may take to read and judge (`duration`); one that takes longer is counted uninspectable (0: no bound)")
	fs.DurationVar(&scanTimeout, "timeout", time.Minute, "the most the scan may take (`duration`): daemons not reached by then are counted uninspectable (0: no bound)")
	pos, err := ParseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("scan takes no arguments, got %q", pos)
	}
	pol, err := o.policy(scanFormats)
	if err != nil {
		return err
	}
	if processTimeout < 0 || scanTimeout < 0 {
		return Usagef("--process-timeout and --timeout take a duration of 0 or more")
	}
	pol.ProcessTimeout, pol.ScanTimeout = processTimeout, scanTimeout
	if o.textfile != "" && o.output != "text" {
		return Usagef("--textfile writes metrics and prints nothing: it does not go with -o %s", o.output)
	}
	if o.textfile != "" {
		// A directory that is not there is the command line's mistake,
		// told before the scan (cron's alerting reads exit 2 as such);
		// one that cannot be written is found when it is written.
		if st, err := os.Stat(o.textfile); err != nil && errors.Is(err, os.ErrNotExist) {
			return Usagef("--textfile %s: no such directory (node_exporter's --collector.textfile.directory, which must exist)", o.textfile)
		} else if err == nil && !st.IsDir() {
			return Usagef("--textfile %s: not a directory", o.textfile)
		}
	}
	fsys, err := o.reader()
	if err != nil {
		return err
	}
	sups, done := o.supervisors(fsys)
	defer done()
	pol.Supervisors = sups
	// Text and JSON stream each result as it comes; the metrics and the
	// Nagios summary need all of them, so each is kept, trimmed.
	var emit func(checks.ScanResult) error
	var tw *tabwriter.Writer
	// Reports and rows go out 64 KiB at a time, not a write(2) per line
	// (or, through tabwriter, per cell): at 2,000 daemons that was a
	// tenth of the scan's time. Flushed once the scan ends, failed or not.
	out := bufio.NewWriterSize(io.Out, 64<<10)
	scan := fleet.Scan{Started: time.Now()}
	switch {
	case o.textfile != "" || o.output == "prometheus" || o.output == "nagios":
		emit = func(res checks.ScanResult) error {
			scan.Results = append(scan.Results, fleet.Trim(res))
			return nil
		}
	case o.output == "json":
		enc := json.NewEncoder(out)
		emit = func(res checks.ScanResult) error {
			if res.Err != nil {
				fmt.Fprintf(io.Err, "dcheck: pid %d: %v\n", res.PID, res.Err)
				return nil
			}
			if !o.showEnv {
				res.Report.WithoutEnvValues()
			}
			return enc.Encode(res.Report)
		}
	default:
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PID\tCOMM\tSUPERVISOR\tPROFILE\tVERDICT\tFAILED\tWARNED\tNOTED\tWAIVED")
		emit = func(res checks.ScanResult) error {
			if res.Err != nil {
				fmt.Fprintf(io.Err, "dcheck: pid %d: %v\n", res.PID, res.Err)
				return nil
			}
			r := res.Report
			c := columnsOf(r)
			_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.PID, printableComm(r.Process.Comm), printableComm(r.Supervisor.Short()), r.Profile, r.Verdict, c.failed, c.warned, c.noted, c.waived)
			return err
		}
	}
	var tally scanTally
	err = checks.ScanFunc(fsys, pol, 0, func(res checks.ScanResult) error {
		tally.add(res)
		return emit(res)
	})
	scan.Duration = time.Since(scan.Started)
	if tw != nil {
		if ferr := tw.Flush(); err == nil {
			err = ferr
		}
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	switch {
	case o.textfile != "":
		if _, err := fleet.WriteTextfile(o.textfile, fleet.Metrics(scan)); err != nil {
			return &exitError{ExitUninspectable, fmt.Errorf("--textfile: %w", err)}
		}
		return nil
	case o.output == "prometheus":
		if err := fleet.WriteMetrics(io.Out, fleet.Metrics(scan)); err != nil {
			return err
		}
		return withCode(tally.code(), nil)
	case o.output == "nagios":
		st, out := fleet.NagiosScan(scan)
		_, err := fmt.Fprint(io.Out, out)
		return withCode(ExitCode(st), err)
	}
	code := tally.code()
	if tally.n == 0 {
		return &exitError{code, fmt.Errorf("scan: no process looks like a daemon (parent pid %d, no terminal): nothing was judged", reaperOf(pol))}
	}
	return withCode(code, nil)
}

// scanTally counts a scan's results for its exit code.
type scanTally struct{ n, failed, unjudged int }

func (t *scanTally) add(res checks.ScanResult) {
	t.n++
	switch {
	case res.Err != nil || res.Report == nil || res.Report.Verdict == checks.VerdictUnknown:
		t.unjudged++
	case res.Report.Verdict == checks.VerdictFail:
		t.failed++
	}
}

// code is the exit code of a scan: fail if any process failed, else
// uninspectable if any could not be judged or read, or none was found.
func (t *scanTally) code() ExitCode {
	switch {
	case t.failed > 0:
		return ExitFail
	case t.unjudged > 0 || t.n == 0:
		return ExitUninspectable
	}
	return ExitPass
}

func reaperOf(pol checks.Policy) int {
	if pol.Reaper == 0 {
		return 1
	}
	return pol.Reaper
}

// scanColumns are a judged process's findings in the scan's table, as
// comma-separated rule IDs, "-" for none: failed findings that decide the
// verdict (errors; warnings too with --strict), failed warnings that do
// not, failed info rules (notes), and waived findings.
type scanColumns struct{ failed, warned, noted, waived string }

func columnsOf(r *checks.Report) scanColumns {
	var failed, warned, noted, waived []string
	for _, f := range r.Findings {
		switch {
		case f.Status == checks.Waived:
			waived = append(waived, f.ID)
		case f.Status != checks.Fail:
		case f.Decides(r.Strict):
			failed = append(failed, f.ID)
		case f.Severity == checks.Warning:
			warned = append(warned, f.ID)
		default:
			noted = append(noted, f.ID)
		}
	}
	list := func(ids []string) string {
		if len(ids) == 0 {
			return "-"
		}
		return strings.Join(ids, ",")
	}
	return scanColumns{list(failed), list(warned), list(noted), list(waived)}
}

func printableComm(s string) string {
	q := fmt.Sprintf("%q", s)
	if q[1:len(q)-1] == s && !strings.ContainsAny(s, " \t") {
		return s
	}
	return q
}
