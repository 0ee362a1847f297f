// Package cli implements the dcheck command: each subcommand is an options
// struct, a function that binds its flags, and a run method that takes the
// writers and returns an error only. Main alone turns errors (a usage
// error, a verdict through withCode, a failure) into exit codes; main only
// calls Main.
//
// "dcheck verify" is the conformance suite's program, dcheck-verify, which
// dcheck runs (verify.go); its command lives in cli/verify and is written
// with what this package exports for it: Flags and Help (a command's
// flags and help), ParseArgs, Usagef and ExitWith (its errors), and
// RunCommand, which decides its exit code as Main does.
package cli

import (
	"errors"
	"flag"
	"fmt"
	stdio "io"
	"os"
	"regexp"
	"strings"

	"github.com/dcheck/dcheck/fleet"
	"github.com/dcheck/dcheck/internal/term"
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
	Out stdio.Writer // Reports and listings
	Err stdio.Writer // Errors, one line each
	// Color says whether Out is a terminal that wants colour: main sets it
	// when stdout is a terminal and NO_COLOR is unset.
	Color bool
}

// StdIO returns the process's own standard output and error.
func StdIO() IO {
	return IO{Out: os.Stdout, Err: os.Stderr, Color: term.IsTerminal(os.Stdout) && os.Getenv("NO_COLOR") == ""}
}

// usageError is a mistake in the command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func Usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitError carries an exit code other than usage with its message; with
// no message it is a verdict the command has reported already (see
// withCode).
type exitError struct {
	code ExitCode
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// withCode is how a command's outcome reaches Main, the one place that
// decides exit codes: err when there is one, else nothing for ExitPass and
// a silent exitError for any other code (a fail verdict, or a Nagios
// status).
func withCode(code ExitCode, err error) error {
	if err != nil {
		return err
	}
	if code == ExitPass {
		return nil
	}
	return &exitError{code: code}
}

// command is one subcommand: run parses args into the command's options,
// validates them once, and runs it; it returns an error only, and Main
// turns that into the exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, io IO) error
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
	all := args
	run := runCheck
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		run, args = runVersion, args[1:]
	} else if len(args) > 0 && (args[0] == "--help" || args[0] == "-help" || args[0] == "-h") {
		run, args = runHelp, args[1:]
	} else if len(args) > 0 {
		for _, c := range commands() {
			if args[0] == c.name {
				run, args = c.run, args[1:]
				break
			}
		}
	}
	return exitCode(all, run(args, io), io)
}

// RunCommand runs one command of dcheck's as Main runs it, and decides its
// exit code in the same place: dcheck-verify, the conformance suite's
// program, runs "dcheck verify" with it. name is the command's ("verify").
func RunCommand(name string, run func(args []string, io IO) error, args []string, io IO) ExitCode {
	return exitCode(append([]string{name}, args...), run(args, io), io)
}

// ExitWith is an error that Main turns into code, printing err on the
// error stream when it is not nil.
func ExitWith(code ExitCode, err error) error { return &exitError{code, err} }

// exitCode is the one place that turns what a command returned into the
// exit code, printing the error; all is the whole command line.
func exitCode(all []string, err error, io IO) ExitCode {
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitPass
	case errors.As(err, &ee) && ee.err == nil:
		return ee.code // a verdict, reported already
	case nagiosMode(all):
		// A Nagios-compatible scheduler reads stdout and the exit code
		// only: whatever stopped the check is UNKNOWN, said there.
		msg := err.Error()
		if errors.As(err, &ue) {
			msg = "usage: " + ue.msg
		}
		fmt.Fprint(io.Out, fleet.NagiosLine(fleet.NagiosUnknown, msg))
		return ExitCode(fleet.NagiosUnknown)
	case errors.As(err, &ue):
		fmt.Fprintf(io.Err, "dcheck: %s\nRun '%s' for usage.\n", ue.msg, helpFor(all))
		return ExitUsage
	case errors.As(err, &ee):
		fmt.Fprintf(io.Err, "dcheck: %v\n", ee.err)
		return ee.code
	}
	fmt.Fprintf(io.Err, "dcheck: %v\n", err)
	return ExitUninspectable
}

// helpFor is the help command for what args ran: "dcheck help verify"
// for a subcommand's mistake, "dcheck help" otherwise.
func helpFor(args []string) string {
	if len(args) > 0 {
		for _, c := range commands() {
			if args[0] == c.name && c.name != "help" && c.name != "version" {
				return "dcheck help " + c.name
			}
		}
	}
	return "dcheck help"
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

const overview = `dcheck tells whether a Unix process is a correct daemon.

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
2 CRITICAL, 3 UNKNOWN (usage errors included). verify ended by SIGINT,
SIGTERM or SIGHUP cleans up its run and exits 128 + the signal's number
(130, 143, 129).

Run 'dcheck help COMMAND' (or 'dcheck COMMAND --help') for a command's
flags and examples; 'dcheck help check' for those of 'dcheck PID'.
`

func runHelp(args []string, io IO) error {
	if len(args) > 0 {
		if args[0] == "check" || args[0] == "pid" {
			return runCheck([]string{"--help"}, io)
		}
		for _, c := range commands() {
			if c.name == args[0] && c.name != "help" {
				return c.run([]string{"--help"}, io)
			}
		}
		return Usagef("help: no command %q (the commands are listed by 'dcheck help')", args[0])
	}
	fmt.Fprint(io.Out, overview)
	fmt.Fprintln(io.Out, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(io.Out, "  %-8s %s\n", c.name, c.summary)
	}
	return nil
}

// Flags is a command's flag set and its help. Parse errors come back as
// values (Main prints them on one line); --help prints the help to Out.
type Flags struct {
	*flag.FlagSet
	io   IO
	help Help
}

// Help is what "dcheck help CMD" and "dcheck CMD --help" print: the
// usage line, a paragraph, the flags, and examples.
type Help struct {
	Usage    string   // "dcheck scan [flags]"
	About    string   // what it does, and its exit codes when they differ
	Examples []string // command lines, each with a comment
}

// NewFlags returns the flag set of command name, which prints nothing
// while parsing.
func NewFlags(name string, io IO, help Help) *Flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdio.Discard)
	fs.Usage = func() {}
	return &Flags{FlagSet: fs, io: io, help: help}
}

// longFlag is a flag of more than one letter as PrintDefaults begins its
// line.
var longFlag = regexp.MustCompile(`(?m)^  -([a-zA-Z][a-zA-Z0-9-]+)`)

// printHelp writes the help to Out.
func (f *Flags) printHelp() {
	w := f.io.Out
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", f.help.Usage, strings.TrimSpace(f.help.About))
	hasFlags := false
	f.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		var b strings.Builder
		f.SetOutput(&b)
		f.PrintDefaults()
		f.SetOutput(stdio.Discard)
		// The flag package writes -config; dcheck's documentation, and
		// its users, write --config (both parse). One-letter flags stay
		// -o, -v.
		fmt.Fprint(w, longFlag.ReplaceAllString(b.String(), "  --$1"))
	}
	if len(f.help.Examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range f.help.Examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// ParseArgs parses flags that may come before, between or after the
// positional arguments ("dcheck 4242 -o json"), and returns the positional
// ones. Everything after "--" is positional.
func ParseArgs(fs *Flags, args []string) ([]string, error) {
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
				fs.printHelp()
				return nil, err
			}
			return nil, Usagef("%s", err)
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
