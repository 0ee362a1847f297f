package checks

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dcheck/dcheck/proc"
)

// Schema identifies the JSON report format. It changes only when a field is
// removed or changes meaning; fields may be added within a schema.
const Schema = "dcheck/v2"

// Report is the judgement of one process: what was seen and every finding.
type Report struct {
	Schema  string  `json:"schema"`         // Always Schema
	PID     int     `json:"pid"`            // The process judged
	Name    string  `json:"name,omitempty"` // What its owner calls it (Policy.Name)
	Profile Profile `json:"profile"`        // The profile it was judged against
	// ProfileFrom says what chose the profile: "--profile", "config",
	// "supervisor" or "default".
	ProfileFrom string       `json:"profile_from,omitempty"`
	Supervisor  *Supervision `json:"supervisor,omitempty"` // What supervises it, when Policy.Supervisors was asked
	Strict      bool         `json:"strict"`               // Whether failed warnings fail the verdict
	Verdict     Verdict      `json:"verdict"`              // pass, fail or unknown
	Process     ProcessView  `json:"process"`              // What /proc showed
	PidFile     *PidFileView `json:"pidfile,omitempty"`    // What the pidfile showed, when one was given
	Findings    []Finding    `json:"findings"`             // One per static rule, in catalogue order
}

// ProcessView is the JSON form of a Snapshot. A part that could not be read
// is null, and its reason is in Unreadable.
type ProcessView struct {
	Comm       string      `json:"comm"`
	Exe        *string     `json:"exe"`     // null when unreadable; without " (deleted)"
	Cmdline    []string    `json:"cmdline"` // empty arguments dropped
	State      string      `json:"state"`
	PPID       int         `json:"ppid"`
	PGID       int         `json:"pgid"`
	SID        int         `json:"sid"`
	TTYNr      int         `json:"tty_nr"`
	TPGID      int         `json:"tpgid"`
	StartTime  uint64      `json:"start_time"` // clock ticks after boot
	NSPID      []int       `json:"nspid"`
	UIDs       [4]int      `json:"uids"` // real, effective, saved, filesystem
	GIDs       [4]int      `json:"gids"`
	Groups     []int       `json:"groups"`
	Umask      *string     `json:"umask"` // octal, "0022"; null when the kernel shows none
	Cwd        *string     `json:"cwd"`
	Root       *string     `json:"root"`
	SigBlocked string      `json:"sig_blocked"`
	SigIgnored string      `json:"sig_ignored"`
	SigCaught  string      `json:"sig_caught"`
	Threads    int         `json:"threads"`
	FDs        []FDView    `json:"fds"`
	Children   []ChildView `json:"children"`
	Parent     *ParentView `json:"parent"`
	// EnvNames are the environment's variable names, in order; Environ
	// is the whole environment ("NAME=value"), which the command line
	// prints only when asked (--show-env): /proc/PID/environ is its
	// owner's to read, and may hold a token given to the daemon.
	EnvNames   []string          `json:"env_names"`
	Environ    []string          `json:"environ,omitempty"`
	SharedTID  int               `json:"shared_tid,omitempty"` // the thread read for fds, cwd, environ and umask when the leader had exited (pthread_exit)
	Unreadable map[string]string `json:"unreadable,omitempty"` // part -> why it could not be read
}

// FDView is the JSON form of an FD.
type FDView struct {
	FD       int         `json:"fd"`
	Target   string      `json:"target"`
	Kind     proc.FDKind `json:"kind"`
	Deleted  bool        `json:"deleted,omitempty"`
	Terminal bool        `json:"terminal,omitempty"`
	Flags    string      `json:"flags,omitempty"` // octal open flags from fdinfo; files, directories and anonymous inodes only
	Locked   bool        `json:"locked,omitempty"`
}

// ChildView is the JSON form of a Child.
type ChildView struct {
	PID   int    `json:"pid"`
	Comm  string `json:"comm"`
	State string `json:"state"`
}

// ParentView is the JSON form of a Parent.
type ParentView struct {
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
}

// PidFileView is the JSON form of a PidFile.
type PidFileView struct {
	Path    string `json:"path"`
	PID     int    `json:"pid,omitempty"`
	Symlink bool   `json:"symlink,omitempty"`
	Mode    string `json:"mode,omitempty"`
	UID     int    `json:"uid"`
	Error   string `json:"error,omitempty"`
}

// NewReport judges the evidence under pol and assembles the report.
func NewReport(ev *Evidence, pol Policy) *Report {
	sup := chooseProfile(ev, &pol)
	var (
		findings []Finding
		verdict  Verdict
	)
	if pol.Profile == ProfileUndecided {
		findings, verdict = judgeUndecided(ev, pol, sup.Err)
	} else {
		findings, verdict = Judge(ev, pol)
	}
	r := &Report{
		Schema: Schema, PID: ev.Process.PID, Name: pol.Name, Profile: pol.Profile, ProfileFrom: pol.ProfileFrom,
		Supervisor: sup, Strict: pol.Strict, Verdict: verdict, Process: viewProcess(ev.Process), Findings: findings,
	}
	if pf := ev.PidFile; pf != nil {
		v := &PidFileView{Path: pf.Path, PID: pf.PID, Symlink: pf.Symlink, UID: pf.UID}
		if pf.Exists {
			v.Mode = fmt.Sprintf("%04o", pf.Mode.Perm())
		}
		if pf.Err != nil {
			v.Error = pf.Err.Error()
		}
		r.PidFile = v
	}
	return r
}

func viewProcess(s *proc.Snapshot) ProcessView {
	v := ProcessView{
		Comm: s.Stat.Comm, State: string(s.Stat.State), PPID: s.Stat.PPID, PGID: s.Stat.PGRP,
		SID: s.Stat.Session, TTYNr: s.Stat.TTY, TPGID: s.Stat.TPGID, StartTime: s.Stat.StartTime,
		NSPID: s.Status.NSPID, UIDs: s.Status.UIDs, GIDs: s.Status.GIDs, Groups: s.Status.Groups,
		SigBlocked: s.Status.SigBlocked.String(), SigIgnored: s.Status.SigIgnored.String(),
		SigCaught: s.Status.SigCaught.String(), Threads: int(s.Stat.Threads),
		FDs: []FDView{}, Children: []ChildView{}, Environ: s.Environ, Cmdline: s.Cmdline, SharedTID: s.SharedTID,
	}
	if v.Groups == nil {
		v.Groups = []int{}
	}
	unreadable := map[string]string{}
	note := func(part string, err error) {
		if err != nil {
			unreadable[part] = err.Error()
		}
	}
	if s.Status.HasUmask {
		u := fmt.Sprintf("%04o", s.Status.Umask)
		v.Umask = &u
	}
	if s.ExeErr == nil {
		v.Exe = &s.Exe.Path
	}
	if s.CwdErr == nil {
		v.Cwd = &s.Cwd.Path
	}
	if s.RootErr == nil {
		v.Root = &s.Root.Path
	}
	for fact, err := range s.Gaps {
		note(string(fact), err)
	}
	note("exe", s.ExeErr)
	note("cmdline", s.CmdlineErr)
	note("cwd", s.CwdErr)
	note("root", s.RootErr)
	note("environ", s.EnvironErr)
	note("fds", s.FDsErr)
	note("threads", s.ThreadsErr)
	note("children", s.ChildrenErr)
	note("parent", s.ParentErr)
	note("sockets", s.SocketsErr)
	for _, d := range s.FDs {
		note("fd/"+strconv.Itoa(d.Num), d.StatErr)
		fv := FDView{FD: d.Num, Target: d.Target, Kind: d.Kind, Deleted: d.Deleted, Terminal: d.Terminal}
		if d.HasInfo() {
			fv.Flags = "0" + strconv.FormatUint(uint64(d.Info.Flags), 8)
			fv.Locked = len(d.Info.Locks) > 0
		}
		v.FDs = append(v.FDs, fv)
	}
	for _, c := range s.Children {
		v.Children = append(v.Children, ChildView{PID: c.PID, Comm: c.Comm, State: string(c.State)})
	}
	if s.Parent != nil {
		v.Parent = &ParentView{PID: s.Parent.PID, Comm: s.Parent.Name}
	}
	if v.Cmdline == nil {
		v.Cmdline = []string{}
	}
	v.EnvNames = make([]string, 0, len(v.Environ))
	for _, kv := range v.Environ {
		name, _, _ := strings.Cut(kv, "=")
		v.EnvNames = append(v.EnvNames, name)
	}
	if len(unreadable) > 0 {
		v.Unreadable = unreadable
	}
	return v
}

// Inspect takes process pid through f, reads the pidfile pol names (if any) and
// judges them. With pid 0 the pid is read from pol.PidFile.
//
// A process that exits, runs another program, or whose pid is reused
// while being read is read once more, re-reading the pidfile; when that
// fails too the error wraps ErrExited. Other errors wrap ErrNoProcess,
// ErrHidden or, for an unusable pidfile when pid is 0, ErrPidFile or the
// file system error.
func Inspect(f proc.Reader, pid int, pol Policy) (*Report, error) {
	r, err := inspectOnce(f, pid, pol, nil)
	if errors.Is(err, proc.ErrExited) {
		r, err = inspectOnce(f, pid, pol, nil)
		if errors.Is(err, proc.ErrNoProcess) {
			err = fmt.Errorf("pid %d: %w", pid, proc.ErrExited)
		}
	}
	return r, err
}

// inspectOnce is one try of Inspect, starting from what the caller peeked
// at (Scan peeks to pick daemons) when first is not nil.
func inspectOnce(f proc.Reader, pid int, pol Policy, first *proc.Peek) (*Report, error) {
	ev := &Evidence{}
	if pol.PidFile != "" {
		pf, err := f.ReadPidFile(pol.PidFile)
		if err != nil {
			return nil, err
		}
		ev.PidFile = pf
		if pid == 0 {
			if pf.Err != nil {
				return nil, pf.Err
			}
			pid = pf.PID
		}
	}
	if pid == 0 {
		return nil, errors.New("no pid and no pidfile given")
	}
	s, err := f.TakeFrom(pid, first)
	if err != nil {
		if ev.PidFile != nil && pid == ev.PidFile.PID && errors.Is(err, proc.ErrNoProcess) {
			return nil, fmt.Errorf("pidfile %s names pid %d, which is not running: %w", pol.PidFile, pid, proc.ErrNoProcess)
		}
		return nil, err
	}
	ev.Process = s
	if tailor := pol.Tailor; tailor != nil {
		pol.Tailor = nil
		given := pol.PidFile
		tailor(s, &pol)
		if given == "" && pol.PidFile != "" {
			pf, err := f.ReadPidFile(pol.PidFile)
			if err != nil {
				return nil, err
			}
			ev.PidFile = pf
		}
	}
	// The unit's PIDFile= is the pidfile systemd reads: judged as one
	// given with --pidfile (DC301-DC303), unless one was.
	if sup := supervise(s, pol); sup != nil {
		ev.Supervision = sup
		if ev.PidFile == nil && sup.PIDFile != "" {
			pf, err := f.ReadPidFile(sup.PIDFile)
			if err != nil {
				return nil, err
			}
			ev.PidFile = pf
		}
	}
	if pf := ev.PidFile; pf != nil && needsLockTable(s, pf) {
		pf.Locks, pf.LocksErr = f.LocksOn(pf.Dev, pf.Ino)
	}
	return NewReport(ev, pol), nil
}

// needsLockTable reports whether the process holds the pidfile open but no
// fdinfo shows a lock on it: only /proc/locks can tell then.
func needsLockTable(s *proc.Snapshot, pf *proc.PidFile) bool {
	if !pf.Exists {
		return false
	}
	held := false
	for _, d := range s.FDs {
		if d.Is(pf.Dev, pf.Ino) {
			if len(d.Info.Locks) > 0 {
				return false
			}
			held = true
		}
	}
	return held
}

// WithoutEnvValues drops the environment's values from the report, keeping
// the names (Process.EnvNames): what a report shows to whoever reads
// dcheck's output, unless --show-env.
func (r *Report) WithoutEnvValues() *Report {
	r.Process.Environ = nil
	return r
}
