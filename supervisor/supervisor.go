// Package supervisor finds what runs each process dcheck judges, and so
// the profile to judge it by: a systemd unit (its Type= asked of systemd
// over D-Bus, or read from its unit file when the bus cannot be reached),
// a supervisord program, a runit, s6 or daemontools service, a container,
// or plain init. systemd makes every service process lead a session of
// its own, so judging all of them as classic SysV daemons fails every
// new-style service; judging all as supervised would judge a Type=forking
// daemon by the wrong rules. The profile follows the process.
//
// The decision, for a process P with parent Q (first that applies):
//
//  1. P is pid 1 of its pid namespace: a container's main process.
//  2. Q is a known supervisor, by its name: runsv, s6-supervise,
//     supervise, supervisord, a container runtime's shim (containerd-shim,
//     conmon) or a container's init (tini, dumb-init, catatonit,
//     docker-init). Supervised.
//  3. Q is a systemd manager (pid 1 named systemd, or a systemd --user):
//     P's control group names its unit. A service's Type= decides:
//     forking is a classic daemon, every other type is supervised. A
//     process in a scope (a login session's, say) was only adopted: a
//     classic daemon.
//  4. Q is init (not systemd) or the reaper: a classic daemon.
//  5. Otherwise no supervisor is known: judged as a classic daemon, as
//     dcheck always has, and the report says so.
//
// A unit whose Type= could not be had from the bus or its file leaves the
// profile undecided: the rules on which the two profiles differ are
// unknown, never a guess.
package supervisor

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
)

// Looker is what the Finder reads of processes besides the snapshot:
// proc.FS on Linux, portable.Portable elsewhere (it has no control groups:
// a systemd unit is then not found).
type Looker interface {
	Comm(pid int) (string, error)
	Cgroup(pid int) (proc.Cgroups, error)
}

// Units says how systemd runs a unit. UnitFacts.Err is set when it could
// not say.
type Units interface {
	Unit(name string, user bool, uid int) UnitFacts
}

// UnitFacts are what is known of one systemd unit.
type UnitFacts struct {
	Type       string  // Type=, as systemd runs it
	Manager    bool    // the service manager answered (MainPID and ControlPID are its)
	MainPID    int     // systemd's MainPID; 0 when none or not known
	ControlPID int     // systemd's ControlPID; 0 when none or not known
	PIDFile    string  // PIDFile=; empty when unset or not known
	UMask      *uint32 // UMask=; nil when not known
	Source     string  // "systemd over D-Bus", "unit file PATH"
	Err        error   // why the type is not known
}

// Finder finds the supervision of processes (checks.Supervisors). It is
// safe for concurrent use; what it learns of parents and units is kept
// for its life (one scan).
type Finder struct {
	r      Looker
	units  Units
	reaper int

	mu        sync.Mutex
	comms     map[int]string // parent pid -> name, for Scanned
	unitCache map[string]UnitFacts
}

// New returns a Finder reading r and asking units about systemd units.
// reaper is the subreaper that adopts orphans (0: init).
func New(r Looker, units Units, reaper int) *Finder {
	return &Finder{r: r, units: units, reaper: reaper, comms: map[int]string{}, unitCache: map[string]UnitFacts{}}
}

var _ checks.Supervisors = (*Finder)(nil)

// The supervisors known by the name of the parent they run a daemon
// under (its comm: at most 15 bytes, so "containerd-shim" stands for
// containerd-shim-runc-v2 too).
var byParent = map[string]checks.SupervisorKind{
	"runsv":           checks.SupervisorRunit,
	"s6-supervise":    checks.SupervisorS6,
	"supervise":       checks.SupervisorDaemontools,
	"supervisord":     checks.SupervisorSupervisord,
	"containerd-shim": checks.SupervisorContainerRuntime,
	"conmon":          checks.SupervisorContainerRuntime,
	"tini":            checks.SupervisorContainerInit,
	"dumb-init":       checks.SupervisorContainerInit,
	"catatonit":       checks.SupervisorContainerInit,
	"docker-init":     checks.SupervisorContainerInit,
}

// inits are the names of pid 1 that are an init or a service manager, not
// a daemon a container runs.
var inits = map[string]bool{
	"systemd": true, "init": true, "tini": true, "dumb-init": true, "catatonit": true,
	"docker-init": true, "runit": true, "runsvdir": true, "s6-svscan": true, "openrc-init": true,
}

// Scanned reports whether a scan judges the process pid, whose parent is
// ppid, besides the reaper's children: a child of a supervisor, or pid 1
// of the namespace when it is a daemon its container runs (not an init).
func (f *Finder) Scanned(pid, ppid int) bool {
	if ppid == 0 {
		name := f.comm(1)
		return pid == 1 && name != "" && !inits[name]
	}
	_, ok := byParent[f.comm(ppid)]
	return ok
}

// comm is pid's name, read once; "" when it cannot be read.
func (f *Finder) comm(pid int) string {
	f.mu.Lock()
	c, ok := f.comms[pid]
	f.mu.Unlock()
	if ok {
		return c
	}
	c, _ = f.r.Comm(pid)
	f.mu.Lock()
	f.comms[pid] = c
	f.mu.Unlock()
	return c
}

// Supervision finds what supervises the process s.
func (f *Finder) Supervision(s *proc.Snapshot) checks.Supervision {
	pid, ppid := s.PID, s.Stat.PPID
	nspid := s.Status.NSPID
	parent := ""
	switch {
	case s.Parent != nil:
		parent = s.Parent.Name
	case ppid > 0:
		parent = f.comm(ppid)
	}
	seenParent := fmt.Sprintf("parent pid %d", ppid)
	if parent != "" {
		seenParent += " (" + parent + ")"
	}
	switch {
	case ppid == 0 || len(nspid) > 1 && nspid[len(nspid)-1] == 1:
		sup := checks.Supervision{Kind: checks.SupervisorContainer, Profile: checks.ProfileSupervised,
			Source: "its pid namespace", Evidence: fmt.Sprintf("pid 1 of its pid namespace (pids %v)", nspid)}
		if len(nspid) == 0 {
			sup.Evidence = "pid 1 of the pid namespace dcheck runs in"
		}
		sup.Container = f.container(pid)
		return sup
	}
	if kind, ok := byParent[parent]; ok {
		sup := checks.Supervision{Kind: kind, Profile: checks.ProfileSupervised, Source: seenParent, Evidence: seenParent}
		if kind == checks.SupervisorSupervisord {
			sup.Program = envValue(s.Environ, "SUPERVISOR_PROCESS_NAME")
		}
		if kind == checks.SupervisorContainerRuntime || kind == checks.SupervisorContainerInit {
			sup.Container = f.container(pid)
		}
		return sup
	}
	if parent == "systemd" {
		if p := s.Parent; p != nil && len(p.NSPID) > 1 && p.NSPID[len(p.NSPID)-1] == 1 {
			// A container's own systemd, seen from the host: its units,
			// bus and files are the container's.
			return checks.Supervision{Kind: checks.SupervisorContainer, Source: seenParent, Container: f.container(s.PID),
				Evidence: seenParent + ", pid 1 of a container's pid namespace",
				Err:      "the container's systemd runs it: ask inside the container (its units and bus are not this host's)"}
		}
		return f.systemd(s, ppid, seenParent)
	}
	sup := checks.Supervision{Kind: checks.SupervisorInit, Profile: checks.ProfileSysV, Source: seenParent}
	switch {
	case ppid == 1:
		sup.Evidence = seenParent + ": adopted by init"
	case ppid == f.reaper:
		sup.Evidence = seenParent + ": adopted by the subreaper"
	default:
		sup.Evidence = seenParent + ": no supervisor dcheck knows; judged as a classic daemon"
	}
	return sup
}

// systemd finds the unit of a process whose parent is a systemd manager.
func (f *Finder) systemd(s *proc.Snapshot, ppid int, seenParent string) checks.Supervision {
	user := ppid != 1
	sup := checks.Supervision{Kind: checks.SupervisorSystemd, Source: seenParent}
	if user {
		sup.Kind = checks.SupervisorSystemdUser
	}
	cg, err := f.r.Cgroup(s.PID)
	if err != nil {
		sup.Evidence = seenParent
		sup.Err = fmt.Sprintf("its control group: %v", err)
		return sup
	}
	path := cg.SystemdPath()
	sup.Evidence = fmt.Sprintf("%s, control group %s", seenParent, path)
	unit := unitOf(path)
	switch {
	case strings.HasSuffix(unit, ".service"):
	case unit != "":
		// A scope holds processes systemd did not start (a login
		// session's); they were adopted, as by any init.
		sup.Kind, sup.Profile = checks.SupervisorInit, checks.ProfileSysV
		sup.Evidence += fmt.Sprintf(": %s is a %s, not a service: adopted by systemd as by init", unit, unit[strings.LastIndexByte(unit, '.')+1:])
		return sup
	default:
		sup.Err = fmt.Sprintf("control group %q names no unit", path)
		return sup
	}
	sup.Unit = unit
	facts := f.unit(unit, user, s.Status.UIDs[0])
	sup.Type, sup.Source, sup.PIDFile, sup.UMask = facts.Type, facts.Source, facts.PIDFile, facts.UMask
	sup.FromManager, sup.MainPID, sup.ControlPID = facts.Manager, facts.MainPID, facts.ControlPID
	if facts.Err != nil {
		sup.Err = fmt.Sprintf("the Type= of %s: %v", unit, facts.Err)
		return sup
	}
	sup.Profile = ProfileOf(facts.Type)
	return sup
}

// unit asks once per unit.
func (f *Finder) unit(name string, user bool, uid int) UnitFacts {
	key := name
	if user {
		key = fmt.Sprintf("%d/%s", uid, name)
	}
	f.mu.Lock()
	u, ok := f.unitCache[key]
	f.mu.Unlock()
	if ok {
		return u
	}
	u = f.units.Unit(name, user, uid)
	f.mu.Lock()
	f.unitCache[key] = u
	f.mu.Unlock()
	return u
}

// ProfileOf is the profile of a service of the given Type=: forking is a
// classic daemon (it forks, the parent exits once the child is ready);
// simple, exec, notify, notify-reload, dbus, idle and oneshot stay in the
// foreground, supervised.
func ProfileOf(typ string) checks.Profile {
	if typ == "forking" {
		return checks.ProfileSysV
	}
	return checks.ProfileSupervised
}

// unitOf is the unit a control group path names: its last component that
// is a unit (ends in .service or .scope), "" when none is.
// The innermost one counts: user@1000.service holds a user's manager and
// its units, and a unit below it is the process's.
func unitOf(path string) string {
	parts := strings.Split(path, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if p := parts[i]; strings.HasSuffix(p, ".service") || strings.HasSuffix(p, ".scope") {
			return p
		}
	}
	return ""
}

// containerID finds a container's id in a control group path: 64 hex
// digits, as Docker, containerd, CRI-O and Podman name theirs
// (/docker/ID, docker-ID.scope, cri-containerd-ID.scope, libpod-ID.scope).
var containerID = regexp.MustCompile(`[0-9a-f]{64}`)

func (f *Finder) container(pid int) string {
	cg, err := f.r.Cgroup(pid)
	if err != nil {
		return ""
	}
	for _, l := range cg {
		if id := containerID.FindString(l.Path); id != "" {
			return id[:12]
		}
	}
	return ""
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
