package suites

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/unitfile"
)

// Config says which daemon to verify and how. Get one from NewConfig; the
// zero value of each field is documented, but Start must be set.
type Config struct {
	// Start is the command that starts the daemon, as argv (no shell). In
	// the supervised profile it is the daemon itself, which must not exit.
	// Required.
	Start []string

	// InitScript is an LSB init script that drives the daemon (dcheck
	// verify --init-script). Empty means none. When set, Start and Stop
	// must be empty and PidFile set: Validate makes Start "SCRIPT start",
	// the daemon is stopped with "SCRIPT stop", and the specs SU120-SU124
	// run its other actions. The profile must be sysv.
	InitScript string

	// Unit is a systemd service unit that says how to run the daemon
	// (dcheck verify --unit), and DropIns are drop-ins applied over it in
	// order. Empty means none. When set, Start, Stop, Restart and
	// InitScript must be empty: Validate reads the unit, takes the start
	// command from ExecStart=, the profile from Type= (forking: sysv; the
	// others: supervised), the pidfile from PIDFile= unless PidFile is
	// set, and the timeouts from TimeoutStartSec= and TimeoutStopSec= when
	// the unit sets them; the daemon is started, reloaded and stopped as
	// systemd would (unit.go), and SU113 to SU116 judge it.
	Unit    string
	DropIns []string

	// Socket is a socket unit whose ListenStream= sockets the run opens and
	// passes to each start of the unit's ExecStart= (socket activation:
	// descriptors 3 and up, LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID), and
	// SocketDropIns are drop-ins applied over it. Empty means none; when
	// set, Unit must be set too and be the service the socket activates.
	// SU117 judges that the daemon accepts on the sockets.
	Socket        string
	SocketDropIns []string

	// Probe lists addresses the daemon serves once ready, "HOST:PORT" (TCP)
	// or a Unix socket's path ("@name" in the abstract namespace). Nil means
	// none. With Unit, SU113 connects to each when the unit says the daemon
	// is ready (READY=1 for Type=notify, the start command's exit for
	// Type=forking): each must take the connection.
	Probe []string

	// PidFile is the daemon's pidfile. Empty means the daemon has none: it
	// is found as the process the harness adopts (sysv) or the start
	// command itself (supervised), and SU102/SU105 only check what they can.
	PidFile string

	// Stop is a shell command (sh -c) that stops the daemon. Empty means
	// SIGTERM to the daemon's pid.
	Stop string

	// Restart is a shell command that starts the daemon again over a stale
	// pidfile (SU106). Empty means Start.
	Restart string

	// Profile is the kind of daemon. Empty means checks.ProfileSysV.
	Profile checks.Profile

	// Launch is how the sysv start command is launched on its terminal.
	// Empty means LaunchSessionLeader. The supervised profile ignores it:
	// a supervisor gives the daemon a session of its own, with no terminal.
	Launch Launch

	// Reload asks for SU107: the daemon must survive SIGHUP. False skips it.
	Reload bool

	// StartTimeout bounds the start command (sysv) or the wait for readiness
	// (supervised). Zero means 10 s.
	StartTimeout time.Duration

	// StopTimeout bounds the wait for the daemon to exit after SIGTERM or
	// the stop command. Zero means 10 s.
	StopTimeout time.Duration

	// Umask, when not nil, is the umask the daemon must have (DC202). Nil
	// means only that it must not keep the harness's unusual 0037.
	Umask *uint32

	// Cwds lists directories besides "/" the daemon may run in (DC201).
	Cwds []string

	// Strict fails the specs whose findings are warnings. False reports
	// warnings without failing.
	Strict bool

	// Waivers are accepted exceptions to rules, static or lifecycle: a
	// spec that would fail, warn or be unknown ends waived instead (a skip
	// that names the waiver's reason), until the waiver expires. Nil means
	// none.
	Waivers []checks.Waiver

	// Tailor, when not nil, adjusts the policy for the daemon once the
	// harness has found it (dcheck verify --config): its umask, cwds,
	// waivers and name apply to every spec. Profile and Reaper are the
	// harness's and are kept.
	Tailor func(s *proc.Snapshot, pol *checks.Policy)

	// Out receives the summary printed after the last spec. Nil means
	// os.Stdout.
	Out io.Writer

	// Dir is the caller's directory. The start command runs in a hostile
	// temporary directory, so Validate resolves against Dir the program
	// and every argument that names an existing file there (the summary
	// lists each); Stop and Restart run in Dir. Empty means the current
	// directory when Validate runs.
	Dir string

	// DaemonReport, when not empty, is a file the daemon's static report
	// (the dcheck/v2 JSON of "dcheck -o json PID", as the DC specs judged
	// it) is written to once it is judged: what the daemon was started
	// with, for comparing a run with another starter's (the real systemd,
	// in supervisor/systemdhost_test.go). Empty means none is written.
	DaemonReport string

	resolved []string // what Validate resolved: "ARG → /abs/ARG"
	scripted bool     // Validate made Start and Stop from InitScript
	service  *unitfile.Service
	socket   *unitfile.Socket
	// profileSet: --profile was given (with --unit, it must agree with
	// Type=).
	profileSet bool
}

// Launch is how the start command meets its terminal. Both are real:
// which one a daemon survives can differ, when a process of its start is
// still in the starter's session as the session's leader exits.
type Launch string

const (
	// LaunchSessionLeader runs the start command as the leader of a new
	// session whose controlling terminal is a new pty, as `ssh -t host CMD`
	// does. When it exits, the kernel hangs up (SIGHUP) the terminal's
	// foreground process group: a first child that calls setsid() only
	// after its parent exits, with SIGHUP at its default, dies there.
	LaunchSessionLeader Launch = "session-leader"
	// LaunchJobControl runs it as a command typed into an interactive
	// shell: bash, with job control, leads the session and stays; the
	// command is a foreground job in a process group of its own. Nothing
	// is hung up when it exits. It needs bash.
	LaunchJobControl Launch = "job-control"
)

// jobControlShell is the interactive shell LaunchJobControl plays.
const jobControlShell = "bash"

// ParseLaunch returns the Launch named s.
func ParseLaunch(s string) (Launch, error) {
	switch l := Launch(s); l {
	case LaunchSessionLeader, LaunchJobControl:
		return l, nil
	}
	return "", fmt.Errorf("unknown launch %q (want %s or %s)", s, LaunchSessionLeader, LaunchJobControl)
}

// Defaults.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultStopTimeout  = 10 * time.Second
	// StarterUmask is the umask the hostile launch gives the start command:
	// one no daemon would choose, so that keeping it shows.
	StarterUmask = 0o037
)

// NewConfig returns a Config with every default filled in and no Start.
func NewConfig() Config {
	return Config{
		Profile:      checks.ProfileSysV,
		Launch:       LaunchSessionLeader,
		StartTimeout: DefaultStartTimeout,
		StopTimeout:  DefaultStopTimeout,
		Out:          os.Stdout,
	}
}

// ErrConfig is wrapped by every error Validate returns.
var ErrConfig = errors.New("bad configuration")

// Validate checks the configuration and fills in zero values. The error
// wraps ErrConfig and names the field.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	if c.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return bad("current directory: %v", err)
		}
		c.Dir = wd
	}
	if err := c.validateInitScript(); err != nil {
		return bad("%v", err)
	}
	if err := c.validateUnit(); err != nil {
		return bad("%v", err)
	}
	if len(c.Start) == 0 || strings.TrimSpace(c.Start[0]) == "" {
		return bad("no start command")
	}
	// The start command runs in a temporary directory: resolve it here,
	// and each argument that names a file in the caller's directory.
	path, err := exec.LookPath(c.Start[0])
	if err != nil {
		return bad("start command: %v", err)
	}
	if abs, err := filepath.Abs(path); err == nil {
		c.Start = append([]string{abs}, c.Start[1:]...)
	}
	// (A second Validate finds everything absolute: the notes stay.)
	if path != c.Start[0] && strings.ContainsRune(path, '/') && !filepath.IsAbs(path) {
		c.resolved = append(c.resolved, path+" → "+c.Start[0])
	}
	for i, arg := range c.Start[1:] {
		// A unit's ExecStart= and an init script's command line are passed
		// as written, as systemd and the init system pass them: "run" in
		// "brokendaemon run" is a word, whatever file of that name is
		// where dcheck runs (dcheck verify --unit, run from /, once
		// reported it as /run).
		if c.Unit != "" || c.InitScript != "" {
			break
		}
		if arg == "" || filepath.IsAbs(arg) || strings.HasPrefix(arg, "-") {
			continue
		}
		abs := filepath.Join(c.Dir, arg)
		if _, err := os.Stat(abs); err == nil {
			c.Start[i+1] = abs
			c.resolved = append(c.resolved, arg+" → "+abs)
		}
	}
	if c.Profile == "" {
		c.Profile = checks.ProfileSysV
	}
	if _, err := checks.ParseProfile(string(c.Profile)); err != nil {
		return bad("profile: %v", err)
	}
	if c.Launch == "" {
		c.Launch = LaunchSessionLeader
	}
	if _, err := ParseLaunch(string(c.Launch)); err != nil {
		return bad("launch: %v", err)
	}
	if c.Launch == LaunchJobControl && c.Profile == checks.ProfileSysV {
		if _, err := exec.LookPath(jobControlShell); err != nil {
			return bad("launch %s needs %s: %v", c.Launch, jobControlShell, err)
		}
	}
	if c.StartTimeout < 0 || c.StopTimeout < 0 {
		return bad("negative timeout (start %v, stop %v)", c.StartTimeout, c.StopTimeout)
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.Umask != nil && *c.Umask > 0o777 {
		return bad("umask %#o out of range", *c.Umask)
	}
	if c.PidFile != "" {
		abs, err := filepath.Abs(c.PidFile)
		if err != nil {
			return bad("pidfile: %v", err)
		}
		c.PidFile = abs
		dir := filepath.Dir(abs)
		st, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist) && (c.InitScript != "" || c.service != nil):
			// An init script makes its runtime directory (/run/NAME) as it
			// starts; a unit has systemd make it (RuntimeDirectory=).
		case err != nil:
			return bad("pidfile directory: %v", err)
		case !st.IsDir():
			return bad("pidfile directory %s is not a directory", dir)
		default:
			if err := unix.Access(dir, unix.R_OK|unix.X_OK); err != nil {
				return bad("pidfile directory %s is not readable: %v", dir, err)
			}
		}
	}
	if err := needs(*c, can()); err != nil {
		return err
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	return nil
}

// abs resolves a path given to dcheck against the caller's directory.
func (c *Config) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// absAll is abs of each path.
func (c *Config) absAll(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = c.abs(p)
	}
	return out
}

// BindFlags binds the configuration to flags named prefix+NAME on fs:
// "dcheck." for go test, "" for dcheck verify. The start command is not a
// flag there (dcheck verify takes it after --); with a prefix it is
// prefix+"start", a shell command line.
func (c *Config) BindFlags(fs *flag.FlagSet, prefix string) {
	if prefix != "" {
		fs.Func(prefix+"start", "the start `command line` (run by sh -c); default: the built-in gooddaemon self-test", func(s string) error {
			c.Start = []string{"/bin/sh", "-c", s}
			return nil
		})
	}
	fs.StringVar(&c.InitScript, prefix+"init-script", c.InitScript, "an LSB init script `path`: start the daemon with its start action, stop it with stop, and judge its actions (SU120-SU124); needs --pidfile")
	fs.StringVar(&c.Unit, prefix+"unit", c.Unit, "a systemd service `unit` file: start, reload and stop the daemon as systemd would, and judge the unit (SU113-SU116)")
	fs.Func(prefix+"dropin", "a drop-in `file` applied over --unit, in order (repeatable): move ports and paths out of the way without editing the unit", func(s string) error {
		c.DropIns = append(c.DropIns, s)
		return nil
	})
	fs.StringVar(&c.Socket, prefix+"socket", c.Socket, "a systemd socket `unit` for --unit: pass its ListenStream= sockets to the daemon as systemd would (socket activation), and judge that it accepts on them (SU117)")
	fs.Func(prefix+"socket-dropin", "a drop-in `file` applied over --socket, in order (repeatable)", func(s string) error {
		c.SocketDropIns = append(c.SocketDropIns, s)
		return nil
	})
	fs.Func(prefix+"probe", "an `address` the daemon serves once ready, HOST:PORT or a Unix socket path (repeatable): with --unit, SU113 connects to it when the unit says the daemon is ready", func(s string) error {
		c.Probe = append(c.Probe, s)
		return nil
	})
	fs.StringVar(&c.PidFile, prefix+"pidfile", c.PidFile, "the daemon's pidfile `path`")
	fs.StringVar(&c.DaemonReport, prefix+"daemon-report", c.DaemonReport, "write the daemon's static report (JSON, schema dcheck/v2, as dcheck -o json PID prints it) to `file` once it is judged")
	fs.StringVar(&c.Stop, prefix+"stop", c.Stop, "shell `command` that stops the daemon (default: SIGTERM)")
	fs.StringVar(&c.Restart, prefix+"restart", c.Restart, "shell `command` that starts it over a stale pidfile (default: the start command)")
	fs.Func(prefix+"profile", "`kind` of daemon: sysv or supervised (default sysv)", func(s string) error {
		p, err := checks.ParseProfile(s)
		c.Profile, c.profileSet = p, true
		return err
	})
	fs.Func(prefix+"launch", "how the start command meets its terminal: session-leader (as ssh -t runs it) or job-control (as an interactive shell does) (default session-leader)", func(s string) error {
		l, err := ParseLaunch(s)
		c.Launch = l
		return err
	})
	fs.BoolVar(&c.Reload, prefix+"reload", c.Reload, "expect the daemon to survive SIGHUP (SU107)")
	fs.DurationVar(&c.StartTimeout, prefix+"start-timeout", c.StartTimeout, "how long the start may take")
	fs.DurationVar(&c.StopTimeout, prefix+"stop-timeout", c.StopTimeout, "how long the stop may take")
	fs.Func(prefix+"umask", "the `octal` umask the daemon must have", func(s string) error {
		u, err := strconv.ParseUint(s, 8, 32)
		if err != nil || u > 0o777 {
			return fmt.Errorf("want an octal mode from 0000 to 0777")
		}
		u32 := uint32(u)
		c.Umask = &u32
		return nil
	})
	fs.Func(prefix+"cwd", "also allow `dir` as the daemon's working directory (repeatable)", func(s string) error {
		c.Cwds = append(c.Cwds, s)
		return nil
	})
	fs.BoolVar(&c.Strict, prefix+"strict", c.Strict, "fail on warnings too")
}
