package checks

import (
	"fmt"
	"strings"

	"github.com/dcheck/dcheck/proc"
)

// Supervision is what runs a process and keeps it running, as a
// Supervisors found it: the systemd unit, the supervisord program, the
// runit or s6 service, the container. Its profile is the way that
// supervisor runs daemons: a systemd unit of Type=forking, and a process
// plain init adopted, are classic SysV daemons; everything a supervisor
// runs in the foreground is supervised.
type Supervision struct {
	// Kind is what supervises the process (the constants below).
	Kind SupervisorKind `json:"kind"`
	// Unit is the systemd unit ("nginx.service"); empty under other
	// supervisors.
	Unit string `json:"unit,omitempty"`
	// Type is the unit's Type= ("notify", "forking", ...) as systemd
	// runs it (BusName= without Type= is dbus); empty when not known.
	Type string `json:"type,omitempty"`
	// FromManager says that the service manager itself was asked (over
	// D-Bus): MainPID and ControlPID are its, 0 meaning none. False: only
	// files were read, and neither is known.
	FromManager bool `json:"from_manager,omitempty"`
	// MainPID is the process systemd tracks as the unit's main process.
	MainPID int `json:"main_pid,omitempty"`
	// ControlPID is the unit's control process (an ExecStartPre=,
	// ExecReload=, ExecStop= command) while one runs.
	ControlPID int `json:"control_pid,omitempty"`
	// UMask is the umask the unit starts its processes with (UMask=,
	// 0022 by default); nil when not known.
	UMask *uint32 `json:"umask,omitempty"`
	// PIDFile is the unit's PIDFile=, the pidfile systemd reads: judged
	// by DC301-DC303 when no other pidfile was given.
	PIDFile string `json:"pidfile,omitempty"`
	// Program is the supervisor's name for the process: supervisord's
	// program, the runit, s6 or daemontools service directory.
	Program string `json:"program,omitempty"`
	// Container is the container's id, from its control group, when the
	// process runs in one.
	Container string `json:"container,omitempty"`
	// Source says where the facts came from: "systemd over D-Bus", "unit
	// file /lib/systemd/system/nginx.service", "parent pid 812 (runsv)".
	Source string `json:"source"`
	// Evidence is what was seen: the parent, the control group.
	Evidence string `json:"evidence"`
	// Profile is the profile the supervision implies; empty when it could
	// not be decided (Err says why).
	Profile Profile `json:"profile,omitempty"`
	// Err is why the profile could not be decided; empty when it was.
	Err string `json:"error,omitempty"`
}

// SupervisorKind is what supervises a process.
type SupervisorKind string

// The supervisors dcheck knows.
const (
	SupervisorInit        SupervisorKind = "init"         // adopted by init or a subreaper: a classic daemon
	SupervisorSystemd     SupervisorKind = "systemd"      // the systemd system manager runs its unit
	SupervisorSystemdUser SupervisorKind = "systemd-user" // a user's systemd --user runs its unit
	SupervisorSupervisord SupervisorKind = "supervisord"  // a supervisord program
	SupervisorRunit       SupervisorKind = "runit"        // runsv
	SupervisorS6          SupervisorKind = "s6"           // s6-supervise
	SupervisorDaemontools SupervisorKind = "daemontools"  // supervise
	// SupervisorContainerRuntime: a container runtime's shim (containerd-shim,
	// conmon) is the parent.
	SupervisorContainerRuntime SupervisorKind = "container-runtime"
	// SupervisorContainerInit: a container's init (tini, dumb-init,
	// catatonit, docker-init) is the parent.
	SupervisorContainerInit SupervisorKind = "container-init"
	// SupervisorContainer: the process is pid 1 of its container's pid
	// namespace, run there by the container runtime.
	SupervisorContainer SupervisorKind = "container"
)

// Supervisors finds what supervises a process (package supervisor is
// dcheck's). Supervision must not block for long: it is asked once per
// process a scan judges.
type Supervisors interface {
	Supervision(s *proc.Snapshot) Supervision
	// Scanned reports whether a scan judges the process pid, whose
	// parent is ppid, besides the reaper's children: a child of a
	// supervisor, or pid 1 of the namespace (ppid 0) when it is a
	// daemon a container runs rather than an init.
	Scanned(pid, ppid int) bool
}

// Where the profile came from (Report.ProfileFrom).
const (
	ProfileFromFlag       = "--profile"
	ProfileFromConfig     = "config"
	ProfileFromSupervisor = "supervisor"
	ProfileFromDefault    = "default"
)

// ProfileUndecided is Report.Profile when neither the caller nor the
// supervision decided it: each rule whose finding differs between the
// profiles is unknown.
const ProfileUndecided Profile = "undecided"

// supervise asks pol's Supervisors what supervises s; nil when the policy
// names none.
func supervise(s *proc.Snapshot, pol Policy) *Supervision {
	if pol.Supervisors == nil {
		return nil
	}
	v := pol.Supervisors.Supervision(s)
	return &v
}

// chooseProfile fills in pol's profile for the evidence: the caller's
// (--profile, a config entry) when set, else its supervisor's. It returns
// the supervision, asking pol's Supervisors when ev holds none.
func chooseProfile(ev *Evidence, pol *Policy) *Supervision {
	sup := ev.Supervision
	if sup == nil {
		sup = supervise(ev.Process, *pol)
	}
	switch {
	case pol.Profile != "":
		if pol.ProfileFrom == "" {
			pol.ProfileFrom = ProfileFromFlag
		}
	case sup != nil && sup.Profile != "":
		pol.Profile, pol.ProfileFrom = sup.Profile, ProfileFromSupervisor
	case sup != nil:
		pol.Profile, pol.ProfileFrom = ProfileUndecided, ProfileFromSupervisor
	default:
		pol.Profile, pol.ProfileFrom = ProfileSysV, ProfileFromDefault
	}
	return sup
}

// judgeUndecided judges ev in both profiles: a finding the two agree on
// stands; one they differ on is unknown, saying both, since it depends on
// what the supervision could not tell.
func judgeUndecided(ev *Evidence, pol Policy, why string) ([]Finding, Verdict) {
	pol.Profile = ProfileSysV
	sysv, _ := Judge(ev, pol)
	pol.Profile = ProfileSupervised
	sup, _ := Judge(ev, pol)
	out := make([]Finding, len(sysv))
	for i, a := range sysv {
		b := sup[i]
		if a.Status == b.Status && a.Severity == b.Severity {
			out[i] = a
			continue
		}
		f := a
		if rank(b.Severity) < rank(a.Severity) {
			f = b
		}
		f.Status = Unknown
		f.Message = fmt.Sprintf("the profile could not be decided (%s): as a sysv daemon %s (%s), as a supervised one %s (%s)", why, a.Status, a.Message, b.Status, b.Message)
		f.Waiver = nil
		out[i] = f
	}
	return out, VerdictOf(out, pol.Strict)
}

// rank orders severities, most severe first.
func rank(s Severity) int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	case Info:
		return 2
	}
	return 3
}

// Short names the supervision in a word or two, for a table's cell:
// "systemd:nginx.service", "supervisord:web", "container:3f4e5a6b7c8d",
// "init".
func (s *Supervision) Short() string {
	if s == nil {
		return "-"
	}
	for _, name := range []string{s.Unit, s.Program, s.Container} {
		if name != "" {
			return string(s.Kind) + ":" + name
		}
	}
	return string(s.Kind)
}

// Describe says what supervises the process and how that was seen, in a
// line: "systemd unit nginx.service (Type=forking, MainPID 39), from
// systemd over D-Bus; seen: parent pid 1 (systemd), control group ...".
func (s *Supervision) Describe() string {
	var b strings.Builder
	b.WriteString(string(s.Kind))
	switch {
	case s.Unit != "":
		fmt.Fprintf(&b, " unit %s", s.Unit)
	case s.Program != "":
		fmt.Fprintf(&b, " program %s", s.Program)
	}
	if s.Container != "" {
		fmt.Fprintf(&b, " container %s", s.Container)
	}
	var facts []string
	if s.Type != "" {
		facts = append(facts, "Type="+s.Type)
	}
	if s.FromManager {
		facts = append(facts, fmt.Sprintf("MainPID %d", s.MainPID))
	}
	if s.ControlPID != 0 {
		facts = append(facts, fmt.Sprintf("ControlPID %d", s.ControlPID))
	}
	if s.PIDFile != "" {
		facts = append(facts, "PIDFile="+s.PIDFile)
	}
	if len(facts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(facts, ", "))
	}
	if s.Source != "" && !strings.HasPrefix(s.Evidence, s.Source) {
		fmt.Fprintf(&b, ", from %s", s.Source)
	}
	if s.Evidence != "" {
		fmt.Fprintf(&b, "; seen: %s", s.Evidence)
	}
	if s.Err != "" {
		fmt.Fprintf(&b, "; undecided: %s", s.Err)
	}
	return b.String()
}
