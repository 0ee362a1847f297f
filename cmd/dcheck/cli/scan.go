package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/dcheck/dcheck/checks"
)

func runScan(args []string, io IO) (ExitCode, error) {
	var o checkOptions
	fs := newFlagSet("dcheck scan", io)
	o.judgeFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(io.Err, "Usage: dcheck scan [flags]\n\nJudges every process whose parent is the reaper and that has no\ncontrolling terminal (kernel threads excluded), one line each.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return ExitUsage, err
	}
	if len(pos) > 0 {
		return ExitUsage, usagef("scan takes no arguments, got %q", pos)
	}
	pol, err := o.policy()
	if err != nil {
		return ExitUsage, err
	}
	fsys, err := checks.NewFS(o.procRoot)
	if err != nil {
		return ExitUsage, usagef("--proc: %v", err)
	}
	results, err := fsys.Scan(pol, 0)
	if err != nil {
		return ExitUninspectable, err
	}
	code := ExitPass
	var tw *tabwriter.Writer
	var enc *json.Encoder
	if o.output == "json" {
		enc = json.NewEncoder(io.Out)
	} else {
		tw = tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PID\tCOMM\tVERDICT\tFAILED")
	}
	for _, res := range results {
		if res.Err != nil {
			fmt.Fprintf(io.Err, "dcheck: pid %d: %v\n", res.PID, res.Err)
			continue
		}
		r := res.Report
		if r.Verdict == checks.VerdictFail {
			code = ExitFail
		}
		if enc != nil {
			if err := enc.Encode(r); err != nil {
				return ExitUninspectable, err
			}
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.PID, printableComm(r.Process.Comm), r.Verdict, failedIDs(r))
	}
	if tw != nil {
		if err := tw.Flush(); err != nil {
			return ExitUninspectable, err
		}
	}
	return code, nil
}

// failedIDs lists the IDs of failed findings, errors first as they decide
// the verdict; "-" when none failed.
func failedIDs(r *checks.Report) string {
	var ids []string
	for _, f := range r.Findings {
		if f.Status == checks.Fail && (f.Severity == checks.Error || (r.Strict && f.Severity == checks.Warning)) {
			ids = append(ids, f.ID)
		}
	}
	for _, f := range r.Findings {
		if f.Status == checks.Fail && !(f.Severity == checks.Error || (r.Strict && f.Severity == checks.Warning)) {
			ids = append(ids, strings.ToLower(f.ID))
		}
	}
	if len(ids) == 0 {
		return "-"
	}
	return strings.Join(ids, ",")
}

func printableComm(s string) string {
	q := fmt.Sprintf("%q", s)
	if q[1:len(q)-1] == s && !strings.ContainsAny(s, " \t") {
		return s
	}
	return q
}
