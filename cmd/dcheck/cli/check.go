package cli

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/config"
	"github.com/dcheck/dcheck/fleet"
	"github.com/dcheck/dcheck/internal/pidtext"
	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/proc/host"
	"github.com/dcheck/dcheck/supervisor"
)

// checkOptions are the flags of "dcheck [flags] PID".
type checkOptions struct {
	pid       int
	pidFile   string
	output    string
	profile   string
	reaper    int
	umask     string
	cwds      stringList
	inherited stringList
	strict    bool
	procRoot  string
	config    string // --config FILE
	showEnv   bool   // --show-env: JSON reports carry the environment's values
	textfile  string // scan --textfile DIR
}

// The output formats, and which command has which.
var (
	checkFormats = []string{"text", "json", "nagios"}
	scanFormats  = []string{"text", "json", "prometheus", "nagios"}
)

// judgeFlags binds the flags that shape a Policy, shared by check and scan.
func (o *checkOptions) judgeFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.output, "o", "text", "output `format`: text, json, nagios (the Nagios plugin API: its exit codes too); scan also: prometheus")
	fs.StringVar(&o.config, "config", "", "`file` of per-daemon expectations and waivers (YAML; see the README's \"Fleets\")")
	fs.StringVar(&o.profile, "profile", "", "judge as `kind` of daemon: sysv (classic double fork) or supervised (foreground under systemd & co.); default: the way its supervisor runs it (a systemd unit's Type=, supervisord, runit, s6, a container; sysv under plain init)")
	fs.IntVar(&o.reaper, "reaper", 0, "`pid` of the subreaper that adopts orphans (default: init of the process's pid namespace)")
	fs.BoolVar(&o.strict, "strict", false, "failed warnings fail the verdict too")
	fs.BoolVar(&o.showEnv, "show-env", false, "with -o json, print each process's whole environment (environ: NAME=value), not only its variable names (env_names): values may be secrets")
	fs.StringVar(&o.procRoot, "proc", "", "`dir` where the proc filesystem is mounted (default /proc; without one, as on darwin and FreeBSD, processes are read through gopsutil and what it cannot see is unknown)")
}

// reader is the process reader the flags ask for: the proc filesystem at
// --proc, or the running system's default reader.
func (o *checkOptions) reader() (proc.Reader, error) {
	if o.procRoot == "" {
		r, err := host.Reader()
		if err != nil {
			return nil, Usagef("%s: %v (give --proc DIR)", proc.DefaultMount, err)
		}
		return r, nil
	}
	fsys, err := proc.NewFS(o.procRoot)
	if err != nil {
		return nil, Usagef("--proc: %v", err)
	}
	return fsys, nil
}

// supervisors finds what supervises each process judged, through r; the
// systemd manager is asked over D-Bus for the live system, never for a
// recorded tree (--proc), whose units the bus does not know. done closes
// what it opened.
func (o *checkOptions) supervisors(r proc.Reader) (checks.Supervisors, func()) {
	look, ok := r.(supervisor.Looker)
	if !ok {
		return nil, func() {}
	}
	units := supervisor.NewSystemd()
	if o.procRoot != "" {
		units.NoBus = true
	}
	return supervisor.New(look, units, o.reaper), units.Close
}

func bindCheckFlags(fs *flag.FlagSet, o *checkOptions) {
	o.judgeFlags(fs)
	fs.StringVar(&o.pidFile, "pidfile", "", "the daemon's pidfile `path`: judge it too, and read the pid from it when no PID is given")
	fs.StringVar(&o.umask, "umask", "", "the `octal` umask the daemon must have, e.g. 0022")
	fs.Var(&o.cwds, "cwd", "also allow `dir` as the daemon's current directory (repeatable)")
	fs.Var(&o.inherited, "inherited", "`path` of a file the starter had open, which the daemon must not hold (repeatable)")
}

func runCheck(args []string, io IO) error {
	var o checkOptions
	fs := NewFlags("dcheck", io, Help{
		Usage: "dcheck [flags] PID\n       dcheck [flags] --pidfile FILE",
		About: `Judges one running process as a daemon against every static rule, and the
pidfile too when one is given. Flags may come before or after the pid.
Exit 0 pass, 1 fail, 2 usage error, 3 could not inspect (verdict unknown);
with -o nagios the Nagios plugin API's codes.`,
		Examples: []string{
			"dcheck 4242                          # judge pid 4242 as a classic (SysV) daemon",
			"dcheck --pidfile /run/nginx.pid      # read the pid from the pidfile, and judge the pidfile",
			"dcheck --profile supervised -o json 4242",
			"dcheck -o nagios --pidfile /run/sshd.pid",
		},
	})
	bindCheckFlags(fs.FlagSet, &o)
	pos, err := ParseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 1:
		return Usagef("one PID at a time, got %d arguments (%q)", len(pos), pos)
	case len(pos) == 0 && o.pidFile == "":
		return Usagef("no PID given (and no --pidfile to read one from)")
	case len(pos) == 1:
		pid, err := parsePID(pos[0])
		if err != nil {
			return err
		}
		o.pid = pid
	}
	return o.run(io)
}

// parsePID reads a pid argument by the grammar pidfiles are judged by
// (internal/pidtext): "+1" and "01" are not pid 1.
func parsePID(s string) (int, error) {
	pid, err := pidtext.Parse([]byte(s))
	if err != nil {
		return 0, Usagef("invalid pid %q: %v (want decimal digits alone, such as 4242)", s, err)
	}
	return pid, nil
}

// policy turns the flags into a Policy, checking each; formats are the
// command's output formats.
func (o *checkOptions) policy(formats []string) (checks.Policy, error) {
	var pol checks.Policy
	if o.profile != "" {
		prof, err := checks.ParseProfile(o.profile)
		if err != nil {
			return pol, Usagef("--profile: %v", err)
		}
		pol.Profile, pol.ProfileFrom = prof, checks.ProfileFromFlag
	}
	if !slices.Contains(formats, o.output) {
		return pol, Usagef("-o: unknown format %q (want %s)", o.output, strings.Join(formats, ", "))
	}
	if o.config != "" {
		f, err := config.Load(o.config)
		if err != nil {
			return pol, Usagef("--config: %v", err)
		}
		pol.Tailor = f.Tailor
	}
	if o.reaper < 0 {
		return pol, Usagef("--reaper %d: want a positive pid", o.reaper)
	}
	pol.Reaper = o.reaper
	if o.umask != "" {
		u, err := strconv.ParseUint(o.umask, 8, 32)
		if err != nil || u > 0o777 {
			return pol, Usagef("--umask %q: want an octal mode from 0000 to 0777", o.umask)
		}
		u32 := uint32(u)
		pol.Umask = &u32
	}
	pol.Cwds = o.cwds
	for _, p := range o.inherited {
		id, err := checks.StatFileID(p)
		if err != nil {
			return pol, Usagef("--inherited: %v", err)
		}
		pol.Inherited = append(pol.Inherited, id)
	}
	pol.PidFile = o.pidFile
	pol.Strict = o.strict
	return pol, nil
}

func (o *checkOptions) run(io IO) error {
	pol, err := o.policy(checkFormats)
	if err != nil {
		return err
	}
	fsys, err := o.reader()
	if err != nil {
		return err
	}
	sups, done := o.supervisors(fsys)
	defer done()
	pol.Supervisors = sups
	r, err := checks.Inspect(fsys, o.pid, pol)
	if err != nil {
		return &exitError{ExitUninspectable, err}
	}
	switch o.output {
	case "json":
		if !o.showEnv {
			r.WithoutEnvValues()
		}
		err = checks.WriteJSON(io.Out, r, true)
	case "nagios":
		name := r.Name
		if name == "" && r.Supervisor != nil {
			name = r.Supervisor.Unit
		}
		if name == "" {
			name = r.Process.Comm
		}
		st, out := fleet.NagiosReport(r, name)
		_, err = fmt.Fprint(io.Out, out)
		return withCode(ExitCode(st), err)
	default:
		err = checks.WriteText(io.Out, r, io.Color)
	}
	if err != nil {
		return err
	}
	return withCode(verdictCode(r.Verdict), nil)
}

func verdictCode(v checks.Verdict) ExitCode {
	switch v {
	case checks.VerdictPass:
		return ExitPass
	case checks.VerdictFail:
		return ExitFail
	}
	return ExitUninspectable
}
