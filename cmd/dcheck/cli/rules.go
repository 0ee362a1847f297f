package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/dcheck/dcheck/checks"
)

func runRules(args []string, io IO) error {
	fs := NewFlags("dcheck rules", io, Help{
		Usage:    "dcheck rules",
		About:    "Lists the rule catalogue: ID, name, kind, severity in each profile, and the text it comes from.",
		Examples: []string{"dcheck rules", "dcheck explain DC103   # one rule in full"},
	})
	pos, err := ParseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("rules takes no arguments (did you mean 'dcheck explain %s'?)", pos[0])
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tSYSV\tSUPERVISED\tSPEC")
	for _, r := range checks.Rules() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Kind, r.SysV, r.Supervised, r.Spec)
	}
	return tw.Flush()
}

func runExplain(args []string, io IO) error {
	fs := NewFlags("dcheck explain", io, Help{
		Usage:    "dcheck explain ID|NAME...",
		About:    "Explains rules: why each exists, how it is checked, and how to fix a failure.",
		Examples: []string{"dcheck explain DC103", "dcheck explain not-session-leader SU102"},
	})
	pos, err := ParseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return Usagef("explain which rule? Give an ID such as DC103 ('dcheck rules' lists them)")
	}
	for i, id := range pos {
		r, ok := checks.Lookup(id)
		if !ok {
			return Usagef("unknown rule %q ('dcheck rules' lists them)", id)
		}
		if i > 0 {
			fmt.Fprintln(io.Out)
		}
		if err := checks.Explain(io.Out, r); err != nil {
			return err
		}
	}
	return nil
}
