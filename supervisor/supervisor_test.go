package supervisor

import (
	"errors"
	"strings"
	"testing"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
)

// host is a made-up host: each pid's name and control groups.
type host struct {
	comm   map[int]string
	cgroup map[int]string // the unified hierarchy's path
}

func (h host) Comm(pid int) (string, error) {
	if c, ok := h.comm[pid]; ok {
		return c, nil
	}
	return "", proc.ErrNoProcess
}

func (h host) Cgroup(pid int) (proc.Cgroups, error) {
	if p, ok := h.cgroup[pid]; ok {
		return proc.Cgroups{{ID: 0, Path: p}}, nil
	}
	return nil, proc.ErrNoProcess
}

// units answers as systemd would for the units it knows.
type units map[string]string

func (u units) Unit(name string, user bool, uid int) UnitFacts {
	if t, ok := u[name]; ok {
		return UnitFacts{Type: t, Source: "test", MainPID: 0}
	}
	return UnitFacts{Err: errors.New("no such unit")}
}

func snapshot(pid, ppid int, parent string, env ...string) *proc.Snapshot {
	s := &proc.Snapshot{PID: pid, Environ: env}
	s.Stat.PPID = ppid
	s.Status.NSPID = []int{pid}
	if parent != "" {
		s.Parent = &proc.Parent{PID: ppid, Name: parent}
	}
	return s
}

func TestSupervision(t *testing.T) {
	h := host{
		comm: map[int]string{1: "systemd", 700: "systemd"},
		cgroup: map[int]string{
			10: "/system.slice/nginx.service",
			11: "/system.slice/cron.service",
			12: "/user.slice/user-1000.slice/session-3.scope",
			13: "/system.slice/gone.service",
			14: "/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service",
			15: "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
			16: "/",
		},
	}
	u := units{"nginx.service": "forking", "cron.service": "simple", "1000/syncthing.service": "simple", "syncthing.service": "simple"}
	container := snapshot(1, 0, "")
	container.Status.NSPID = []int{4242, 1}
	inContainer := snapshot(4300, 4242, "systemd")
	inContainer.Parent.NSPID = []int{4242, 1}
	inContainer.Status.NSPID = []int{4300, 40}
	for _, tc := range []struct {
		name    string
		s       *proc.Snapshot
		kind    checks.SupervisorKind
		unit    string
		profile checks.Profile
		says    string
	}{
		{"a Type=forking unit is a classic daemon", snapshot(10, 1, ""), checks.SupervisorSystemd, "nginx.service", checks.ProfileSysV, "control group /system.slice/nginx.service"},
		{"a Type=simple unit is supervised", snapshot(11, 1, ""), checks.SupervisorSystemd, "cron.service", checks.ProfileSupervised, "parent pid 1 (systemd)"},
		{"a daemon adopted out of a login session is a classic one", snapshot(12, 1, ""), checks.SupervisorInit, "", checks.ProfileSysV, "session-3.scope is a scope, not a service"},
		{"a unit systemd cannot say the type of is undecided", snapshot(13, 1, ""), checks.SupervisorSystemd, "gone.service", "", "the Type= of gone.service: no such unit"},
		{"a user's unit", snapshot(14, 700, "systemd"), checks.SupervisorSystemdUser, "syncthing.service", checks.ProfileSupervised, "parent pid 700 (systemd)"},
		{"a runit service", snapshot(20, 19, "runsv"), checks.SupervisorRunit, "", checks.ProfileSupervised, "parent pid 19 (runsv)"},
		{"an s6 service", snapshot(21, 19, "s6-supervise"), checks.SupervisorS6, "", checks.ProfileSupervised, "s6-supervise"},
		{"a supervisord program", snapshot(22, 19, "supervisord", "SUPERVISOR_PROCESS_NAME=web"), checks.SupervisorSupervisord, "", checks.ProfileSupervised, "supervisord"},
		{"under a container's shim", snapshot(15, 19, "containerd-shim"), checks.SupervisorContainerRuntime, "", checks.ProfileSupervised, "containerd-shim"},
		{"under tini", snapshot(23, 19, "tini"), checks.SupervisorContainerInit, "", checks.ProfileSupervised, "tini"},
		{"a container's pid 1 seen from the host", container, checks.SupervisorContainer, "", checks.ProfileSupervised, "pid 1 of its pid namespace"},
		{"a child of a shell", snapshot(24, 19, "bash"), checks.SupervisorInit, "", checks.ProfileSysV, "no supervisor dcheck knows"},
		{"a service of a container's systemd, seen from the host, is undecided", inContainer, checks.SupervisorContainer, "", "", "ask inside the container"},
	} {
		f := New(h, u, 0)
		got := f.Supervision(tc.s)
		if got.Kind != tc.kind || got.Unit != tc.unit || got.Profile != tc.profile || !strings.Contains(got.Describe(), tc.says) {
			t.Errorf("%s: %+v\n%s; want %s, unit %q, profile %q, saying %q", tc.name, got, got.Describe(), tc.kind, tc.unit, tc.profile, tc.says)
		}
		if tc.profile == "" && got.Err == "" {
			t.Errorf("%s: undecided without a reason", tc.name)
		}
	}
	f := New(h, u, 0)
	if sup := f.Supervision(snapshot(22, 19, "supervisord", "SUPERVISOR_PROCESS_NAME=web")); sup.Program != "web" || sup.Short() != "supervisord:web" {
		t.Errorf("supervisord's program: %+v", sup)
	}
	if sup := f.Supervision(snapshot(15, 19, "containerd-shim")); sup.Container != "0123456789ab" {
		t.Errorf("the container id from the control group: %+v", sup)
	}
}

func TestScannedTakesChildrenOfSupervisorsAndAContainersMain(t *testing.T) {
	h := host{comm: map[int]string{1: "nginx", 19: "runsv", 30: "bash"}}
	f := New(h, units{}, 0)
	for _, tc := range []struct {
		pid, ppid int
		want      bool
	}{{40, 19, true}, {41, 30, false}, {1, 0, true}} {
		if got := f.Scanned(tc.pid, tc.ppid); got != tc.want {
			t.Errorf("Scanned(%d, %d) = %v, want %v", tc.pid, tc.ppid, got, tc.want)
		}
	}
	h.comm[1] = "systemd"
	if New(h, units{}, 0).Scanned(1, 0) {
		t.Error("systemd as pid 1 is scanned: it is the service manager, not a daemon")
	}
}

func TestProfileOf(t *testing.T) {
	for typ, want := range map[string]checks.Profile{"forking": checks.ProfileSysV, "simple": checks.ProfileSupervised, "exec": checks.ProfileSupervised,
		"notify": checks.ProfileSupervised, "notify-reload": checks.ProfileSupervised, "dbus": checks.ProfileSupervised, "idle": checks.ProfileSupervised, "oneshot": checks.ProfileSupervised} {
		if got := ProfileOf(typ); got != want {
			t.Errorf("Type=%s: %s, want %s", typ, got, want)
		}
	}
}
