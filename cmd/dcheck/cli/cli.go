// Package cli implements the dcheck command: each subcommand is an options
// struct, a function that binds its flags, and a run function that takes the
// options and the writers. main only calls Main.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/fleet"
)

// ExitCode is what the dcheck process exits with.
//
//	0  pass: the verdict is pass (scan: every judged process passed)
//	1  fail: the verdict is fail (scan: some judged process failed)
//	2  usage: bad flags, arguments or --config; nothing was inspected
//	3  uninspectable: no such process, it exited while being read, or too
//	   little was visible to judge it (verdict unknown; scan: some process
//	   could not be judged and none failed, or none was found)
//
// With -o nagios the codes are the Nagios plugin API's instead (see
// fleet.NagiosStatus): 0 OK, 1 WARNING (a warning failed), 2 CRITICAL (an
// error failed), 3 UNKNOWN (could not judge, or a usage error).
type ExitCode int

// The exit codes.
const (
	ExitPass          ExitCode = 0
	ExitFail          ExitCode = 1
	ExitUsage         ExitCode = 2
	ExitUninspectable ExitCode = 3
)

// IO is where a command reads and writes.
type IO struct {
	Out io.Writer // Reports and listings
	Err io.Writer // Errors, one line each
	// Color says whether Out is a terminal that wants colour: main sets it
	// when stdout is a terminal and NO_COLOR is unset.
	Color bool
}

// StdIO returns the process's own standard output and error.
func StdIO() IO {
	_, err := unix.IoctlGetTermios(int(os.Stdout.Fd()), unix.TCGETS)
	return IO{Out: os.Stdout, Err: os.Stderr, Color: err == nil && os.Getenv("NO_COLOR") == ""}
}

// usageError is a mistake in the command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitError carries an exit code other than usage with its message.
type exitError struct {
	code ExitCode
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string, io IO) (ExitCode, error)
}

func commands() []command {
	return []command{
		{"scan", "judge every process on the host that looks like a daemon", runScan},
		{"verify", "start a daemon, judge it, drive its lifecycle, stop it (conformance suite)", runVerify},
		{"rules", "list the rule catalogue", runRules},
		{"explain", "explain one rule: why it exists, how it is checked, how to fix it", runExplain},
		{"version", "which dcheck this is (also --version)", runVersion},
		{"help", "show this help", runHelp},
	}
}

// Main runs the dcheck command line args (without the program name).
func Main(args []string, io IO) ExitCode {
	run := runCheck
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		run, args = runVersion, args[1:]
	} else if len(args) > 0 {
		for _, c := range commands() {
			if args[0] == c.name {
				run, args = c.run, args[1:]
				break
			}
		}
	}
	code, err := run(args, io)
	if err == nil {
		return code
	}
	var ue *usageError
	var ee *exitError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return ExitPass
	case nagiosMode(args):
		// A Nagios-compatible scheduler reads stdout and the exit code
		// only: whatever stopped the check is UNKNOWN, said there.
		msg := err.Error()
		if errors.As(err, &ue) {
			msg = "usage: " + ue.msg
		}
		fmt.Fprint(io.Out, fleet.NagiosLine(fleet.NagiosUnknown, msg))
		return ExitCode(fleet.NagiosUnknown)
	case errors.As(err, &ue):
		fmt.Fprintf(io.Err, "dcheck: %s\nRun 'dcheck help' for usage.\n", ue.msg)
		return ExitUsage
	case errors.As(err, &ee):
		fmt.Fprintf(io.Err, "dcheck: %v\n", ee.err)
		return ee.code
	}
	fmt.Fprintf(io.Err, "dcheck: %v\n", err)
	return ExitUninspectable
}

// nagiosMode says whether the command line asks for -o nagios, whatever
// else is wrong with it: then every exit code is the plugin API's.
func nagiosMode(args []string) bool {
	for i, a := range args {
		if a == "--" {
			return false
		}
		switch a {
		case "-o=nagios", "--o=nagios":
			return true
		case "-o", "--o":
			if i+1 < len(args) && args[i+1] == "nagios" {
				return true
			}
		}
	}
	return false
}

const helpText = `dcheck tells whether a Unix process is a correct daemon.

Usage:
  dcheck [flags] PID              judge process PID
  dcheck [flags] --pidfile FILE   judge the process FILE names, and FILE itself
  dcheck scan [flags]             judge every process that looks like a daemon
  dcheck verify [flags] -- CMD... start a daemon with CMD and verify it (conformance suite)
  dcheck rules                    list the rule catalogue
  dcheck explain ID               explain one rule
  dcheck version                  which dcheck this is (also --version)
  dcheck help                     show this help

Exit codes: 0 pass, 1 fail, 2 usage error, 3 could not inspect (no such
process, exited while being read, or too little visible to judge; scan:
nothing found). With -o nagios, the Nagios plugin API's: 0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN (usage errors included).

Run 'dcheck PID -h' or 'dcheck scan -h' for the flags.
`

func runHelp(args []string, io IO) (ExitCode, error) {
	fmt.Fprint(io.Out, helpText)
	fmt.Fprintln(io.Out, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(io.Out, "  %-8s %s\n", c.name, c.summary)
	}
	return ExitPass, nil
}

// newFlagSet returns a flag set that reports errors as usage errors rather
// than printing and exiting.
func newFlagSet(name string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments ("dcheck 4242 -o json"), and returns the positional
// ones. Everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
