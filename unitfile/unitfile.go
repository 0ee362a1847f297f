// Package unitfile reads a systemd service unit and its drop-ins as
// systemd applies them, into what dcheck verify --unit needs to start,
// reload and stop the service the way systemd would: its type, its
// command lines, its process settings and its timeouts.
//
// The file syntax (sections, continuation lines, comments) is
// go-systemd's unit package; the meaning of each directive follows
// systemd.service(5), systemd.exec(5) and systemd.kill(5). Directives
// that need systemd itself (sandboxing, cgroup limits, restarts,
// dependencies) are kept in Service.NotEmulated, never dropped silently.
package unitfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/dcheck/dcheck/internal/safepath"
	"golang.org/x/sys/unix"
)

// Type is a service's Type=.
type Type string

// The types dcheck can start. oneshot, dbus and idle are refused.
const (
	Simple       Type = "simple"
	Exec         Type = "exec"
	Forking      Type = "forking"
	Notify       Type = "notify"
	NotifyReload Type = "notify-reload"
)

// Notifies reports whether the type speaks sd_notify: READY=1 decides the
// start.
func (t Type) Notifies() bool { return t == Notify || t == NotifyReload }

// NotifyAccess is a service's NotifyAccess=: whose sd_notify messages
// systemd hears (systemd.service(5)).
type NotifyAccess string

// The values of NotifyAccess=.
const (
	NotifyNone NotifyAccess = "none" // no message is heard
	NotifyMain NotifyAccess = "main" // the main process's alone
	NotifyExec NotifyAccess = "exec" // the main process's and the running Exec*= command's
	NotifyAll  NotifyAccess = "all"  // any process of the service's control group
)

// Defaults systemd applies (systemd-system.conf(5)).
const (
	DefaultTimeout = 90 * time.Second
	DefaultUMask   = 0o022
)

// Service is a service unit with its drop-ins applied. The zero value of
// each field is systemd's default, as its comment says.
type Service struct {
	Name    string   // the unit's name, "nginx.service"
	Path    string   // the unit file
	DropIns []string // the drop-ins applied, in order

	Type Type // Type=; Simple when not set

	ExecStartPre []Command
	ExecStart    []Command // one, except for oneshot (refused)
	ExecReload   []Command // none: the service has no reload
	ExecStop     []Command // none: stop by KillSignal

	PIDFile string // PIDFile=; "" when none

	User, Group      string  // User=, Group=; "" runs as root
	UMask            *uint32 // UMask=; nil means DefaultUMask
	WorkingDirectory string  // WorkingDirectory=; "" means "/"
	// WorkingDirectoryOptional is the "-" prefix: a missing directory is
	// not an error.
	WorkingDirectoryOptional bool

	Environment      []string  // Environment= assignments, NAME=value, in order
	EnvironmentFiles []EnvFile // EnvironmentFile=, in order

	RuntimeDirectory     []string // RuntimeDirectory=, relative to /run
	RuntimeDirectoryMode uint32   // RuntimeDirectoryMode=; 0 means 0755

	KillMode   string      // KillMode=; "" means control-group
	KillSignal unix.Signal // KillSignal=; 0 means SIGTERM
	// NoSIGKILL is SendSIGKILL=no: what survives the stop's timeout is
	// left running instead of killed with SIGKILL.
	NoSIGKILL bool

	// TimeoutStartSec= and TimeoutStopSec= (or TimeoutSec=), as written:
	// 0 is "infinity" (or 0: no timeout) when set; unset, StartTimeout
	// and StopTimeout give DefaultTimeout.
	TimeoutStart, TimeoutStop       time.Duration
	timeoutStartSet, timeoutStopSet bool
	busName                         string        // BusName=: with no Type=, systemd's Type=dbus
	Watchdog                        time.Duration // WatchdogSec=; 0: no watchdog
	// NotifyAccess is NotifyAccess= as written; "" when not set. Access
	// gives the one systemd applies.
	NotifyAccess NotifyAccess

	// NotEmulated lists the directives set in the unit that dcheck does
	// not apply (they need systemd itself), as "Section.Name=value".
	NotEmulated []string
}

// EnvFile is one EnvironmentFile=.
type EnvFile struct {
	Path     string
	Optional bool // the "-" prefix: a missing file is ignored
}

// Command is one command line of an Exec*= directive.
type Command struct {
	Line string // as written, prefixes included, specifiers expanded

	// The prefixes (systemd.service(5), "Command lines").
	IgnoreFailure  bool // "-": a failure is recorded but ignored
	ArgvZero       bool // "@": the second word is argv[0]
	NoSubstitution bool // ":": no environment variable substitution
	FullPrivileges bool // "+": runs as root, User= and Group= not applied
	// KeepsRoot is the "!" prefix: User= and Group= are not applied, the
	// program drops privileges itself (the rest of the unit applies, as
	// systemd.service(5) says).
	KeepsRoot bool

	words []word // after the prefixes
}

// ErrUnit is wrapped by every error Parse returns; the message names the
// file and the directive at fault.
var ErrUnit = errors.New("bad unit")

// Parse reads the service unit at path and applies the drop-ins in order,
// as systemd does: a later assignment overrides an earlier one, and for
// the list directives (Exec*=, Environment=, EnvironmentFile=,
// RuntimeDirectory=) an empty assignment empties the list.
//
// An instance of a template ("dir/getty@tty1.service") is read from its
// own file when there is one, else from the template's
// ("dir/getty@.service"), with %i, %I, %n and %N the instance's, as
// systemd instantiates it. A template itself, without an instance, is an
// error naming the fix: systemd runs only instances.
func Parse(path string, dropIns ...string) (*Service, error) {
	s := &Service{Name: filepath.Base(path), Path: path}
	if !strings.HasSuffix(s.Name, ".service") {
		return nil, fmt.Errorf("%w: %s: not a .service unit", ErrUnit, path)
	}
	if strings.HasSuffix(s.Name, "@.service") {
		return nil, fmt.Errorf("%w: %s is a template: give an instance, %s, as systemd runs only instances (%%i would be empty)", ErrUnit, path, strings.TrimSuffix(path, ".service")+"INSTANCE.service")
	}
	if tmpl, ok := templateOf(s.Name); ok {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			s.Path = filepath.Join(filepath.Dir(path), tmpl)
		}
	}
	if err := applyFiles(s.Path, dropIns, s.set); err != nil {
		return nil, err
	}
	s.DropIns = slices.Clone(dropIns)
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// applyFiles applies the unit file at path, then each drop-in, in order,
// as systemd does: a later assignment overrides an earlier one.
func applyFiles(path string, dropIns []string, set func(*unit.UnitOption) error) error {
	for _, file := range append([]string{path}, dropIns...) {
		if err := applyFile(file, set); err != nil {
			return err
		}
	}
	return nil
}

// MaxUnitFile is the most of a unit file or drop-in dcheck reads: 1 MiB.
const MaxUnitFile = 1 << 20

// readOptions reads the directives of one unit file or drop-in with
// go-systemd's parser: a regular file only (a FIFO is never waited on), at
// most MaxUnitFile bytes. Its errors name the file.
func readOptions(file string) ([]*unit.UnitOption, error) {
	data, err := safepath.ReadRegular(file, MaxUnitFile, false)
	if err != nil {
		return nil, err
	}
	opts, err := unit.DeserializeOptions(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return opts, nil
}

// applyFile reads one unit file's directives (go-systemd's parser) and
// applies each with set, in order; an error names the file and the
// directive.
func applyFile(file string, set func(*unit.UnitOption) error) error {
	opts, err := readOptions(file)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnit, err)
	}
	for _, o := range opts {
		if err := set(o); err != nil {
			return fmt.Errorf("%w: %s: [%s] %s=%s: %v", ErrUnit, file, o.Section, o.Name, o.Value, err)
		}
	}
	return nil
}

// noEffect are the directives that change nothing in how one service's
// process is started, reloaded or stopped, or in the sockets a socket unit
// passes it: descriptions, ordering and installation.
var noEffect = []string{
	"Unit.Description", "Unit.Documentation", "Unit.After", "Unit.Before", "Unit.Wants",
	"Unit.Requires", "Unit.WantedBy", "Unit.PartOf", "Unit.Conflicts", "Unit.DefaultDependencies",
	"Install.WantedBy", "Install.RequiredBy", "Install.Alias", "Install.Also", "Install.DefaultInstance",
}

// set applies one directive.
func (s *Service) set(o *unit.UnitOption) error {
	key := o.Section + "." + o.Name
	v := strings.TrimSpace(o.Value)
	list := func(cmds *[]Command) error {
		if v == "" {
			*cmds = nil
			return nil
		}
		c, err := parseCommand(v, s.specifier)
		if err != nil {
			return err
		}
		*cmds = append(*cmds, c)
		return nil
	}
	switch key {
	case "Service.BusName":
		s.busName = v
	case "Service.Type":
		switch t := Type(v); t {
		case Simple, Exec, Forking, Notify, NotifyReload:
			s.Type = t
		case "oneshot", "dbus", "idle":
			return fmt.Errorf("dcheck does not support Type=%s (it verifies long-running daemons: simple, exec, forking, notify, notify-reload)", v)
		case "":
			s.Type = ""
		default:
			return fmt.Errorf("unknown type %q", v)
		}
	case "Service.ExecStartPre":
		return list(&s.ExecStartPre)
	case "Service.ExecStart":
		return list(&s.ExecStart)
	case "Service.ExecReload":
		return list(&s.ExecReload)
	case "Service.ExecStop":
		return list(&s.ExecStop)
	case "Service.PIDFile":
		p, err := s.expandPath(v, "/run")
		if err != nil {
			return err
		}
		s.PIDFile = p
	case "Service.User":
		s.User = v
	case "Service.Group":
		s.Group = v
	case "Service.UMask":
		if v == "" {
			s.UMask = nil
			return nil
		}
		u, err := strconv.ParseUint(v, 8, 32)
		if err != nil || u > 0o777 {
			return fmt.Errorf("want an octal mode from 0000 to 0777")
		}
		u32 := uint32(u)
		s.UMask = &u32
	case "Service.WorkingDirectory":
		s.WorkingDirectoryOptional = strings.HasPrefix(v, "-")
		s.WorkingDirectory = strings.TrimPrefix(v, "-")
		if d := s.WorkingDirectory; d != "" && d != "~" && !filepath.IsAbs(d) {
			return fmt.Errorf("want an absolute path or ~")
		}
	case "Service.Environment":
		if v == "" {
			s.Environment = nil
			return nil
		}
		expanded, err := expandSpecifiersWith(v, s.specifier)
		if err != nil {
			return err
		}
		assigns, err := splitWords(expanded)
		if err != nil {
			return err
		}
		for _, a := range assigns {
			if name, _, ok := strings.Cut(a, "="); !ok || name == "" {
				return fmt.Errorf("%q is not NAME=value", a)
			}
		}
		s.Environment = append(s.Environment, assigns...)
	case "Service.EnvironmentFile":
		if v == "" {
			s.EnvironmentFiles = nil
			return nil
		}
		path, err := expandSpecifiersWith(strings.TrimPrefix(v, "-"), s.specifier)
		if err != nil {
			return err
		}
		ef := EnvFile{Optional: strings.HasPrefix(v, "-"), Path: path}
		if !filepath.IsAbs(ef.Path) {
			return fmt.Errorf("want an absolute path")
		}
		s.EnvironmentFiles = append(s.EnvironmentFiles, ef)
	case "Service.RuntimeDirectory":
		if v == "" {
			s.RuntimeDirectory = nil
			return nil
		}
		for _, d := range strings.Fields(v) {
			// systemd 252 simplifies "./x", "x/", "x/." and "x//y" to x
			// and x/y, and ignores "." (the runtime root itself) and any
			// path with "..", saying "path is not normalized".
			clean := path.Clean(d)
			if filepath.IsAbs(d) || clean == "." || slices.Contains(strings.Split(d, "/"), "..") {
				return fmt.Errorf("%q: want a path below /run, not /run itself, without \"..\" (systemd ignores it: \"path is not normalized\")", d)
			}
			s.RuntimeDirectory = append(s.RuntimeDirectory, clean)
		}
	case "Service.RuntimeDirectoryMode":
		m, err := strconv.ParseUint(v, 8, 32)
		if err != nil || m > 0o7777 {
			return fmt.Errorf("want an octal mode")
		}
		s.RuntimeDirectoryMode = uint32(m)
	case "Service.KillMode":
		switch v {
		case "control-group", "mixed", "process", "none", "":
			s.KillMode = v
		default:
			return fmt.Errorf("want control-group, mixed, process or none")
		}
	case "Service.SendSIGKILL":
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		s.NoSIGKILL = !b
	case "Service.KillSignal":
		sig, err := parseSignal(v)
		if err != nil {
			return err
		}
		s.KillSignal = sig
	case "Service.NotifyAccess":
		switch a := NotifyAccess(v); a {
		case NotifyNone, NotifyMain, NotifyExec, NotifyAll:
			s.NotifyAccess = a
		case "":
			// systemd 252 ignores an empty assignment: an earlier
			// value stays (systemctl show).
		default:
			return fmt.Errorf("NotifyAccess=%s: not one of none, main, exec, all", v)
		}
	case "Service.TimeoutSec", "Service.TimeoutStartSec", "Service.TimeoutStopSec", "Service.WatchdogSec":
		d, err := ParseTimespan(v)
		if err != nil {
			return err
		}
		switch o.Name {
		case "TimeoutSec":
			s.TimeoutStart, s.TimeoutStop = d, d
			s.timeoutStartSet, s.timeoutStopSet = true, true
		case "TimeoutStartSec":
			s.TimeoutStart, s.timeoutStartSet = d, true
		case "TimeoutStopSec":
			s.TimeoutStop, s.timeoutStopSet = d, true
		case "WatchdogSec":
			s.Watchdog = d
		}
	default:
		if !slices.Contains(noEffect, key) {
			s.NotEmulated = append(s.NotEmulated, key+"="+v)
		}
	}
	return nil
}

// check verifies what the whole unit must satisfy once every file is read.
func (s *Service) check() error {
	if s.Type == "" && s.busName != "" {
		// systemd.service(5): BusName= without Type= is Type=dbus.
		return fmt.Errorf("%w: %s: BusName=%s without Type= is Type=dbus for systemd, which dcheck does not run: its readiness is the name appearing on the system bus, and dcheck verify has no bus of its own (set Type= in a drop-in to verify it as another type)", ErrUnit, s.Path, s.busName)
	}
	if s.Type == "" {
		s.Type = Simple
	}
	switch {
	case len(s.ExecStart) == 0:
		return fmt.Errorf("%w: %s: no ExecStart=", ErrUnit, s.Path)
	case len(s.ExecStart) > 1:
		return fmt.Errorf("%w: %s: %d ExecStart= lines: only Type=oneshot may have more than one", ErrUnit, s.Path, len(s.ExecStart))
	}
	return nil
}

// StartTimeout is TimeoutStartSec= with systemd's default; 0 means no
// timeout.
func (s *Service) StartTimeout() time.Duration {
	if !s.timeoutStartSet {
		return DefaultTimeout
	}
	return s.TimeoutStart
}

// StopTimeout is TimeoutStopSec= with systemd's default; 0 means no
// timeout.
func (s *Service) StopTimeout() time.Duration {
	if !s.timeoutStopSet {
		return DefaultTimeout
	}
	return s.TimeoutStop
}

// Access is the NotifyAccess= systemd 252 applies: as written, except
// that a service which must speak sd_notify (Type=notify or
// notify-reload, or WatchdogSec=) gets main when it says none or nothing
// (systemd's service_add_extras; compared with systemctl show in
// supervisor/oracle_test.go). The main process is given NOTIFY_SOCKET
// unless it is none; the other commands (ExecStartPre=, ExecReload=,
// ExecStop=) only with exec or all.
func (s *Service) Access() NotifyAccess {
	a := s.NotifyAccess
	if (a == "" || a == NotifyNone) && (s.Type.Notifies() || s.Watchdog > 0) {
		return NotifyMain
	}
	if a == "" {
		return NotifyNone
	}
	return a
}

// Hears reports whether a command of the unit is given NOTIFY_SOCKET:
// the main process (ExecStart=) or another (main false).
func (a NotifyAccess) Hears(main bool) bool {
	if main {
		return a != NotifyNone
	}
	return a == NotifyExec || a == NotifyAll
}

// Mode is KillMode= with systemd's default, control-group.
func (s *Service) Mode() string {
	if s.KillMode == "" {
		return "control-group"
	}
	return s.KillMode
}

// Signal is KillSignal= with systemd's default, SIGTERM.
func (s *Service) Signal() unix.Signal {
	if s.KillSignal == 0 {
		return unix.SIGTERM
	}
	return s.KillSignal
}

// Umask is UMask= with systemd's default.
func (s *Service) Umask() uint32 {
	if s.UMask == nil {
		return DefaultUMask
	}
	return *s.UMask
}

func parseSignal(v string) (unix.Signal, error) {
	if n, err := strconv.Atoi(v); err == nil && n > 0 && n < 65 {
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(v)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", v)
}

// ParseTimespan parses a systemd time span (systemd.time(7)): "90",
// "1min 30s", "500ms", "infinity" (returned as 0).
func ParseTimespan(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "infinity" {
		return 0, nil
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	units := []struct {
		names []string
		d     time.Duration
	}{
		{[]string{"usec", "us", "µs"}, time.Microsecond},
		{[]string{"msec", "ms"}, time.Millisecond},
		{[]string{"seconds", "second", "sec", "s"}, time.Second},
		{[]string{"minutes", "minute", "min", "m"}, time.Minute},
		{[]string{"hours", "hour", "hr", "h"}, time.Hour},
		{[]string{"days", "day", "d"}, 24 * time.Hour},
	}
	var total time.Duration
	rest := strings.ReplaceAll(v, " ", "")
	if rest == "" {
		return 0, fmt.Errorf("empty time span")
	}
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("time span %q: want a number at %q", v, rest)
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("time span %q: %v", v, err)
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9') {
			j++
		}
		name, matched := rest[:j], false
		for _, u := range units {
			if slices.Contains(u.names, name) {
				total += time.Duration(n * float64(u.d))
				matched = true
				break
			}
		}
		if !matched {
			return 0, fmt.Errorf("time span %q: unknown unit %q", v, name)
		}
		rest = rest[j:]
	}
	return total, nil
}
