package checks

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

var devNull = unix.Mkdev(1, 3)

// goodEvidence is a process every rule passes (DC502 skips: it is root).
func goodEvidence() *Evidence {
	return &Evidence{
		Process: &proc.Snapshot{
			PID:  100,
			Stat: proc.ProcStat{PID: 100, Comm: "d", State: 'S', PPID: 1, PGRP: 99, Session: 99, TPGID: -1},
			Status: proc.ProcStatus{Name: "d", HasUmask: true, Umask: 0o022, NSPID: []int{100}, PPID: 1,
				SigCaught: sigBit(unix.SIGTERM)},
			Cwd:  proc.PathInfo{Path: "/", Dev: 1, Ino: 2},
			Root: proc.PathInfo{Path: "/", Dev: 1, Ino: 2},
			FDs: []proc.FD{
				{Num: 0, Target: "/dev/null", Kind: proc.FDChar, Rdev: devNull, Dev: 5, Ino: 5},
				{Num: 1, Target: "/dev/null", Kind: proc.FDChar, Rdev: devNull, Dev: 5, Ino: 5},
				{Num: 2, Target: "/var/log/d.log", Kind: proc.FDFile, Dev: 1, Ino: 70, Info: proc.FDInfo{Flags: unix.O_WRONLY | unix.O_APPEND}},
				{Num: 3, Target: "/run/d.pid", Kind: proc.FDFile, Dev: 1, Ino: 80, Info: proc.FDInfo{Flags: unix.O_RDWR,
					Locks: []proc.Lock{{Class: "FLOCK", Access: "WRITE", PID: 100}}}},
				{Num: 4, Target: "socket:[9]", Kind: proc.FDSocket, Dev: 8, Ino: 9},
			},
			Threads:   []proc.Thread{{TID: 100}},
			Parent:    &proc.Parent{PID: 1, Name: "init", NSPID: []int{1}},
			Listening: map[uint64]bool{9: true},
		},
		Supervision: &Supervision{Kind: SupervisorSystemd, Unit: "d.service", Type: "forking", Source: "systemd over D-Bus",
			FromManager: true, MainPID: 100, Profile: ProfileSysV},
		PidFile: &proc.PidFile{Path: "/run/d.pid", Exists: true, Mode: 0o644, Dev: 1, Ino: 80, PID: 100,
			DirPath: "/run", DirMode: fs.ModeDir | 0o755},
	}
}

func TestRuleCatalogue(t *testing.T) {
	kebab := regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	id := regexp.MustCompile(`^(DC|SU)[1-9][0-9]{2}$`)
	lifecycleSeen := false
	seen := map[string]bool{}
	prev := ""
	for _, r := range Rules() {
		if !id.MatchString(r.ID) || seen[r.ID] || seen[r.Name] {
			t.Errorf("%s %s: ID must be unique and like DC101, name unique", r.ID, r.Name)
		}
		if r.Kind == Lifecycle {
			lifecycleSeen = true
		} else if lifecycleSeen {
			t.Errorf("%s: static rules come before lifecycle ones", r.ID)
		}
		if r.ID <= prev {
			t.Errorf("%s after %s: the catalogue is in ID order", r.ID, prev)
		}
		prev = r.ID
		seen[r.ID], seen[r.Name] = true, true
		if !kebab.MatchString(r.Name) {
			t.Errorf("%s: name %q is not kebab-case", r.ID, r.Name)
		}
		for _, sev := range []Severity{r.SysV, r.Supervised} {
			if sev != Error && sev != Warning && sev != Info && sev != Off {
				t.Errorf("%s: severity %q", r.ID, sev)
			}
		}
		if r.Title == "" || r.Spec == "" || len(r.Doc) < 150 || r.Hint == "" {
			t.Errorf("%s: title, spec, doc (a few paragraphs) and hint are all required", r.ID)
		}
		if (r.Kind == Static) != (r.Check != nil) {
			t.Errorf("%s: a static rule has a Check, a lifecycle rule none", r.ID)
		}
		if got, ok := Lookup(strings.ToLower(r.ID)); !ok || got != r {
			t.Errorf("Lookup(%q) failed", strings.ToLower(r.ID))
		}
		if got, ok := Lookup(r.Name); !ok || got != r {
			t.Errorf("Lookup(%q) failed", r.Name)
		}
	}
}

func TestGoodEvidencePassesEveryRule(t *testing.T) {
	findings, verdict := Judge(goodEvidence(), Policy{Strict: true})
	for _, f := range findings {
		want := Pass
		if f.ID == "DC502" {
			want = Skip
		}
		if f.Status != want {
			t.Errorf("%s = %s, want %s: %s", f.ID, f.Status, want, f.Message)
		}
	}
	if verdict != VerdictPass {
		t.Errorf("verdict %s", verdict)
	}
}

// TestRules gives each rule cases that pass and fail, next to each other:
// one change to the good process each.
// dgramPeer makes goodEvidence log nowhere but through its socket, fd 4,
// a Unix datagram socket connected as p says (its lookup failing with
// err when not nil).
func dgramPeer(p proc.UnixPeer, err error) func(*Evidence) {
	return func(e *Evidence) {
		e.Process.FDs[2] = e.Process.FDs[1]
		e.Process.FDs[2].Num = 2
		e.Process.UnixDgram = map[uint64]bool{9: true}
		if err != nil {
			e.Process.PeersErr = err
			return
		}
		e.Process.DgramPeers = map[uint64]proc.UnixPeer{9: p}
	}
}

func TestRules(t *testing.T) {
	u022 := uint32(0o022)
	tests := []struct {
		rule   string
		name   string
		change func(*Evidence)
		pol    Policy
		status Status
		sev    Severity // checked when not empty
		says   string
	}{
		{"DC101", "a parent that is init passes", nil, Policy{}, Pass, Error, "init"},
		{"DC101", "a live parent fails and suggests --reaper", func(e *Evidence) {
			e.Process.Stat.PPID = 812
			e.Process.Parent = &proc.Parent{PID: 812, Name: "bash", NSPID: []int{812}}
		}, Policy{}, Fail, Error, "--reaper 812"},
		{"DC101", "the init of its own pid namespace passes", func(e *Evidence) {
			e.Process.Status.NSPID = []int{100, 7}
			e.Process.Stat.PPID = 90
			e.Process.Parent = &proc.Parent{PID: 90, Name: "tini", NSPID: []int{90, 1}}
		}, Policy{}, Pass, Error, "init of its pid namespace"},
		{"DC101", "pid 1 of the host seen from a container is not its init", func(e *Evidence) {
			e.Process.Status.NSPID = []int{100, 7}
		}, Policy{}, Fail, Error, "not orphaned"},
		{"DC101", "the given subreaper passes", func(e *Evidence) { e.Process.Stat.PPID = 500 }, Policy{Reaper: 500}, Pass, Error, "reaper"},
		{"DC101", "a parent that could not be read is unknown", func(e *Evidence) {
			e.Process.Stat.PPID, e.Process.Parent, e.Process.ParentErr = 812, nil, fs.ErrPermission
		}, Policy{}, Unknown, Error, "permission denied"},
		{"DC101", "is not judged in the supervised profile", nil, Policy{Profile: ProfileSupervised}, Skip, Off, ""},

		{"DC601", "systemd's MainPID passes", nil, Policy{}, Pass, Error, "systemd tracks it as d.service's MainPID (Type=forking)"},
		{"DC601", "a daemon that forked away from Type=simple fails", func(e *Evidence) {
			e.Supervision.Type, e.Supervision.MainPID = "simple", 0
		}, Policy{Profile: ProfileSupervised}, Fail, Error, "systemd tracks no main process there (Type=simple)"},
		{"DC601", "a process PIDFile= does not name fails", func(e *Evidence) { e.Supervision.MainPID = 101 }, Policy{}, Fail, Error, "systemd tracks MainPID 101"},
		{"DC601", "the unit's control process is skipped", func(e *Evidence) { e.Supervision.MainPID, e.Supervision.ControlPID = 101, 100 }, Policy{}, Skip, Error, "control process"},
		{"DC601", "only the unit file read is unknown", func(e *Evidence) {
			e.Supervision.FromManager, e.Supervision.Source = false, "unit file /lib/systemd/system/d.service"
		}, Policy{}, Unknown, Error, "only unit file /lib/systemd/system/d.service was read"},
		{"DC601", "outside systemd it is skipped", func(e *Evidence) { e.Supervision = &Supervision{Kind: SupervisorRunit} }, Policy{}, Skip, Error, "not run by a systemd service"},
		{"DC601", "with nothing asked it is skipped", func(e *Evidence) { e.Supervision = nil }, Policy{}, Skip, Error, "not run by a systemd service"},

		{"DC102", "a job inside another session fails", func(e *Evidence) { e.Process.Stat.PGRP = 100 }, Policy{}, Fail, Error, "process group 100"},
		{"DC102", "is a warning when supervised", func(e *Evidence) { e.Process.Stat.PGRP = 100 }, Policy{Profile: ProfileSupervised}, Fail, Warning, ""},

		{"DC103", "a session leader fails", func(e *Evidence) { e.Process.Stat.Session, e.Process.Stat.PGRP = 100, 100 }, Policy{}, Fail, Error, "sid 100 == pid"},

		{"DC104", "a controlling terminal fails and is named", func(e *Evidence) {
			e.Process.Stat.TTY, e.Process.Stat.TPGID = 34817, 99
		}, Policy{}, Fail, Error, "/dev/pts/1"},
		{"DC104", "a foreground group without a terminal fails", func(e *Evidence) { e.Process.Stat.TPGID = 5 }, Policy{}, Fail, Error, "tpgid"},

		{"DC201", "a cwd other than / fails", func(e *Evidence) { e.Process.Cwd = proc.PathInfo{Path: "/home/x", Dev: 1, Ino: 3} }, Policy{}, Fail, Error, "/home/x"},
		{"DC201", "an allowed cwd passes", func(e *Evidence) { e.Process.Cwd = proc.PathInfo{Path: "/var/lib/d", Dev: 1, Ino: 3} }, Policy{Cwds: []string{"/var/lib/d/"}}, Pass, Error, ""},
		{"DC201", "a chroot's own root passes", func(e *Evidence) {
			e.Process.Cwd = proc.PathInfo{Path: "/", Dev: 4, Ino: 9}
			e.Process.Root = proc.PathInfo{Path: "/", Dev: 4, Ino: 9}
		}, Policy{}, Pass, Error, ""},
		{"DC201", "a cwd that could not be read is unknown", func(e *Evidence) { e.Process.CwdErr = fs.ErrPermission }, Policy{}, Unknown, Error, "permission denied"},

		{"DC202", "keeping the umask the unit's UMask= gave passes, naming it", func(e *Evidence) { e.Process.Status.Umask = 0o007 },
			Policy{Starter: &StarterFacts{Umask: ptr(uint32(0o007)), UmaskSetter: "the unit's UMask="}}, Pass, Warning, "umask is 0007, as the unit's UMask= sets it"},
		{"DC202", "a umask of the daemon's own under a unit passes", func(e *Evidence) { e.Process.Status.Umask = 0o077 },
			Policy{Starter: &StarterFacts{Umask: ptr(uint32(0o007)), UmaskSetter: "the unit's UMask="}}, Pass, Warning, "set by the daemon (the unit's UMask= gave it 0007)"},
		{"DC202", "the umask of the unit dcheck found is no inherited one", func(e *Evidence) {
			e.Process.Status.Umask = 0o007
			e.Supervision.UMask = ptr(uint32(0o007))
		}, Policy{}, Pass, Warning, "as d.service's UMask= sets it"},
		{"DC202", "a umask of the daemon's own beside the UMask= of the unit dcheck found passes", func(e *Evidence) {
			e.Process.Status.Umask = 0o007
			e.Supervision.UMask = ptr(uint32(0o022))
		}, Policy{}, Pass, Warning, "umask is 0007, set by the daemon (d.service's UMask= gave it 0022)"},
		{"DC202", "an unusual umask with no starter known is a note, never a failure", func(e *Evidence) {
			e.Process.Status.Umask = 0o037
			e.Supervision = nil
		}, Policy{}, Fail, Info, "umask 0037 is unusual for a daemon: set by the daemon or kept from its starter, which cannot be told"},
		{"DC202", "the expected umask passes", nil, Policy{Umask: &u022}, Pass, Warning, ""},
		{"DC202", "the starter's umask is an error", nil, Policy{Starter: &StarterFacts{Umask: &u022}}, Fail, Error, "kept the starter's umask 0022"},
		{"DC202", "no Umask line is unknown", func(e *Evidence) { e.Process.Status.HasUmask = false }, Policy{}, Unknown, Warning, "4.7"},

		{"DC203", "a closed stdin fails", func(e *Evidence) { e.Process.FDs = e.Process.FDs[1:] }, Policy{}, Fail, Error, "fd 0 is closed"},
		{"DC203", "a stdin that is a file fails", func(e *Evidence) {
			e.Process.FDs[0] = proc.FD{Num: 0, Target: "/etc/passwd", Kind: proc.FDFile}
		}, Policy{}, Fail, Error, "stdin is /etc/passwd"},
		{"DC203", "a socket as stdin passes (inetd)", func(e *Evidence) {
			e.Process.FDs[0] = proc.FD{Num: 0, Target: "socket:[1]", Kind: proc.FDSocket}
		}, Policy{}, Pass, Error, ""},
		{"DC203", "descriptors that could not be read are unknown", func(e *Evidence) {
			e.Process.FDs, e.Process.FDsErr = nil, fs.ErrPermission
		}, Policy{}, Unknown, Error, "permission denied"},

		{"DC204", "a terminal on fd 7 fails", func(e *Evidence) {
			e.Process.FDs = append(e.Process.FDs, proc.FD{Num: 7, Target: "/dev/pts/3", Kind: proc.FDChar, Terminal: true})
		}, Policy{}, Fail, Error, "fd 7 /dev/pts/3"},

		{"DC205", "a named inherited file fails", nil, Policy{Inherited: []FileID{{Path: "/tmp/s", Dev: 1, Ino: 70}}}, Fail, Error, "fd 2 is /tmp/s"},
		{"DC205", "each descriptor above 2 explained passes, naming why", nil, Policy{}, Pass, Error,
			"each descriptor above 2 is its own: fd 3 /run/d.pid (its pidfile), fd 4 socket:[9] (listening)"},
		{"DC205", "a read-only file above 2, not close-on-exec, is unknown", func(e *Evidence) {
			e.Process.FDs = append(e.Process.FDs, proc.FD{Num: 9, Target: "/etc/hosts", Kind: proc.FDFile})
		}, Policy{}, Unknown, Error, "could have been left open by its starter: fd 9 /etc/hosts (not close-on-exec)"},
		{"DC205", "a file open close-on-exec is the daemon's own", func(e *Evidence) {
			e.Process.FDs = append(e.Process.FDs, proc.FD{Num: 9, Target: "/sys/fs/cgroup/cpu.max", Kind: proc.FDFile, Info: proc.FDInfo{Flags: unix.O_CLOEXEC}})
		}, Policy{}, Pass, Error, "fd 9 /sys/fs/cgroup/cpu.max (close-on-exec)"},
		{"DC205", "/dev/null above 2, as a shell leaves it, is unknown", func(e *Evidence) {
			e.Process.FDs = append(e.Process.FDs, proc.FD{Num: 10, Target: "/dev/null", Kind: proc.FDChar, Rdev: devNull})
		}, Policy{}, Unknown, Error, "fd 10 /dev/null (/dev/null above 2, not close-on-exec)"},
		{"DC205", "a pipe it holds both ends of is its own", func(e *Evidence) {
			e.Process.FDs = append(e.Process.FDs, proc.FD{Num: 5, Target: "pipe:[77]", Kind: proc.FDPipe, Ino: 77},
				proc.FD{Num: 6, Target: "pipe:[77]", Kind: proc.FDPipe, Ino: 77})
		}, Policy{}, Pass, Error, "fd 5 pipe:[77] (a pipe it holds both ends of)"},
		{"DC205", "one end of a pipe, not close-on-exec, is unknown", func(e *Evidence) {
			e.Process.FDs = append(e.Process.FDs, proc.FD{Num: 251, Target: "pipe:[78]", Kind: proc.FDPipe, Ino: 78})
		}, Policy{}, Unknown, Error, "fd 251 pipe:[78] (not close-on-exec, its other end held neither by it nor by a child)"},
		{"DC205", "a pipe whose other end a child holds is its own", func(e *Evidence) {
			e.Process.FDs = append(e.Process.FDs, proc.FD{Num: 7, Target: "pipe:[79]", Kind: proc.FDPipe, Ino: 79})
			e.Process.OwnPeers = map[uint64]int{79: 4321}
		}, Policy{}, Pass, Error, "fd 7 pipe:[79] (its other end is held by its child, pid 4321)"},
		{"DC205", "a socketpair within itself is its own", func(e *Evidence) {
			e.Process.Listening, e.Process.OwnPeers = map[uint64]bool{}, map[uint64]int{9: 100}
		}, Policy{}, Pass, Error, "fd 4 socket:[9] (a socketpair it holds both ends of)"},
		{"DC205", "who holds the other end, unreadable, is said", func(e *Evidence) {
			e.Process.Listening, e.Process.OwnPeersErr = map[uint64]bool{}, errors.New("it is in another network namespace")
		}, Policy{}, Unknown, Error, "who holds its other end unreadable: it is in another network namespace"},
		{"DC205", "a socket that does not listen, not close-on-exec, is unknown", func(e *Evidence) { e.Process.Listening = nil },
			Policy{}, Unknown, Error, "fd 4 socket:[9] (not close-on-exec, not listening, its other end held neither by it nor by a child)"},
		{"DC205", "a socket whose state could not be read is unknown, saying so", func(e *Evidence) {
			e.Process.Listening, e.Process.SocketsErr = nil, fs.ErrPermission
		}, Policy{}, Unknown, Error, "whether it listens unreadable: permission denied"},
		{"DC205", "flags that could not be read are said", func(e *Evidence) {
			e.Process.FDs = append(e.Process.FDs, proc.FD{Num: 9, Target: "/etc/hosts", Kind: proc.FDFile, InfoErr: fs.ErrPermission})
		}, Policy{}, Unknown, Error, "fd 9 /etc/hosts (its flags unreadable: permission denied"},

		{"DC301", "no pidfile skips", func(e *Evidence) { e.PidFile = nil }, Policy{}, Skip, Error, "no pidfile"},
		{"DC301", "another pid fails", func(e *Evidence) { e.PidFile.PID = 99 }, Policy{}, Fail, Error, "holds pid 99, but the daemon is pid 100"},
		{"DC301", "garbage fails with the reason", func(e *Evidence) { e.PidFile.Err = proc.ErrPidFile }, Policy{}, Fail, Error, "bad pidfile"},

		{"DC302", "group-writable fails", func(e *Evidence) { e.PidFile.Mode = 0o664 }, Policy{}, Fail, Error, "0664"},
		{"DC302", "another user's pidfile fails", func(e *Evidence) { e.PidFile.UID = 1000 }, Policy{}, Fail, Error, "uid 1000"},
		{"DC302", "a pidfile in a sticky world-writable directory passes", func(e *Evidence) {
			e.PidFile.DirMode = fs.ModeDir | fs.ModeSticky | 0o777
		}, Policy{}, Pass, Error, ""},
		{"DC302", "a missing pidfile skips (DC301 says why)", func(e *Evidence) { e.PidFile.Exists = false }, Policy{}, Skip, Error, ""},

		{"DC303", "no descriptor on the pidfile fails", func(e *Evidence) { e.Process.FDs = e.Process.FDs[:3] }, Policy{}, Fail, Warning, "holds no descriptor"},
		{"DC303", "a descriptor that could not be examined may be the pidfile: unknown", func(e *Evidence) {
			e.Process.FDs[3] = proc.FD{Num: 3, Kind: proc.FDUnknown, StatErr: fs.ErrPermission}
		}, Policy{}, Unknown, Warning, "fd 3 (1 descriptor) of its"},
		{"DC303", "an unlocked descriptor fails", func(e *Evidence) { e.Process.FDs[3].Info.Locks = nil }, Policy{}, Fail, Warning, "no lock"},
		{"DC303", "a lock seen only in /proc/locks passes", func(e *Evidence) {
			e.Process.FDs[3].Info.Locks = nil
			e.PidFile.Locks = []proc.Lock{{Class: "POSIX", Access: "WRITE", PID: 100}}
		}, Policy{}, Pass, Warning, "/proc/locks"},
		{"DC303", "a waiter on the lock is not a holder", func(e *Evidence) {
			e.Process.FDs[3].Info.Locks = []proc.Lock{{Blocked: true, Class: "FLOCK"}}
		}, Policy{}, Fail, Warning, ""},

		{"DC401", "SIGTERM ignored fails", func(e *Evidence) { e.Process.Status.SigIgnored = sigBit(unix.SIGTERM) }, Policy{}, Fail, Error, "ignored"},
		{"DC401", "SIGTERM blocked in every thread, without a handler, fails", func(e *Evidence) {
			e.Process.Status.SigBlocked = sigBit(unix.SIGTERM)
			e.Process.Status.SigCaught = 0
			e.Process.Threads = []proc.Thread{{TID: 100, SigBlocked: sigBit(unix.SIGTERM)}, {TID: 101, SigBlocked: sigBit(unix.SIGTERM)}}
			e.Process.TermWindow = &proc.SignalWindow{Looks: 60, Span: 300 * time.Millisecond}
		}, Policy{}, Fail, Error, "blocked in every thread at each of 61 looks over 300ms, and no handler"},
		{"DC401", "supervised, the supervisor's ignored SIGXFSZ kept fails", func(e *Evidence) {
			e.Process.Status.SigIgnored = sigBit(unix.SIGXFSZ) | sigBit(unix.SIGPIPE)
			e.Process.Parent = &proc.Parent{PID: 40, Name: "supervisord", SigIgnored: sigBit(unix.SIGXFSZ) | sigBit(unix.SIGPIPE)}
		}, Policy{Profile: ProfileSupervised}, Fail, Error, "kept SIGXFSZ ignored, as its supervisor supervisord (pid 40) has it"},
		{"DC401", "supervised, glibc's signal 32 shared with the supervisor passes", func(e *Evidence) {
			e.Process.Status.SigIgnored = proc.SignalSet(1) << 31
			e.Process.Parent = &proc.Parent{PID: 40, Name: "dcheck", SigIgnored: proc.SignalSet(1) << 31}
		}, Policy{Profile: ProfileSupervised}, Pass, Error, ""},
		{"DC401", "supervised, only SIGPIPE shared with the supervisor passes", func(e *Evidence) {
			e.Process.Status.SigIgnored = sigBit(unix.SIGPIPE)
			e.Process.Parent = &proc.Parent{PID: 40, Name: "supervisord", SigIgnored: sigBit(unix.SIGXFSZ) | sigBit(unix.SIGPIPE)}
		}, Policy{Profile: ProfileSupervised}, Pass, Error, ""},
		{"DC401", "SIGTERM blocked in every thread at every look, with a handler, is a note", func(e *Evidence) {
			e.Process.Status.SigBlocked = sigBit(unix.SIGTERM)
			e.Process.Status.SigCaught = sigBit(unix.SIGTERM)
			e.Process.Threads = []proc.Thread{{TID: 100, SigBlocked: sigBit(unix.SIGTERM)}}
			e.Process.TermWindow = &proc.SignalWindow{Looks: 60, Span: 300 * time.Millisecond}
		}, Policy{}, Fail, Info, "but it has a handler"},
		{"DC401", "SIGTERM blocked at the first look, seen open later, passes saying when", func(e *Evidence) {
			e.Process.Status.SigBlocked = sigBit(unix.SIGTERM)
			e.Process.Threads = []proc.Thread{{TID: 100, SigBlocked: sigBit(unix.SIGTERM)}}
			e.Process.TermWindow = &proc.SignalWindow{Looks: 12, Span: 60 * time.Millisecond, Unblocked: 100, At: 60 * time.Millisecond}
		}, Policy{}, Pass, Error, "unblocked in thread 100 60ms later"},
		{"DC401", "SIGTERM blocked in one thread of two passes", func(e *Evidence) {
			e.Process.Threads = []proc.Thread{{TID: 100, SigBlocked: sigBit(unix.SIGTERM)}, {TID: 101}}
		}, Policy{}, Pass, Error, ""},
		{"DC401", "SIGTERM blocked but read from a signalfd passes", func(e *Evidence) {
			e.Process.Threads = []proc.Thread{{TID: 100, SigBlocked: sigBit(unix.SIGTERM)}}
			e.Process.FDs = append(e.Process.FDs, proc.FD{Num: 5, Kind: proc.FDAnon, Target: "anon_inode:[signalfd]",
				Info: proc.FDInfo{HasSigMsk: true, SigMask: sigBit(unix.SIGTERM)}})
		}, Policy{}, Pass, Error, ""},
		{"DC401", "SIGTERM blocked but awaited by sigwait passes", func(e *Evidence) {
			e.Process.Threads = []proc.Thread{{TID: 100, SigBlocked: sigBit(unix.SIGTERM), Wchan: "do_sigtimedwait"}}
		}, Policy{}, Pass, Error, ""},
		{"DC401", "SIGPIPE kept ignored from the starter is fine", func(e *Evidence) {
			e.Process.Status.SigIgnored = sigBit(unix.SIGPIPE)
		}, Policy{Starter: &StarterFacts{Ignored: sigBit(unix.SIGPIPE)}}, Pass, Error, ""},
		{"DC401", "a starter that blocked and ignored nothing (systemd): an ignored SIGHUP is the daemon's choice", func(e *Evidence) {
			e.Process.Status.SigIgnored = sigBit(unix.SIGHUP)
		}, Policy{Starter: &StarterFacts{}}, Pass, Error, "its starter blocked and ignored no signal"},

		{"DC402", "a zombie child is a warning", func(e *Evidence) {
			e.Process.Children = []proc.Child{{PID: 7, Comm: "helper", State: 'Z'}}
		}, Policy{}, Fail, Warning, "7 (helper)"},

		{"DC501", "TERM and SSH_TTY are listed", func(e *Evidence) {
			e.Process.Environ = []string{"PATH=/bin", "TERM=xterm", "SSH_TTY=/dev/pts/1", "TERMINFO=x"}
		}, Policy{}, Fail, Info, "TERM, SSH_TTY"},
		{"DC501", "an unreadable environment is unknown", func(e *Evidence) { e.Process.EnvironErr = fs.ErrPermission }, Policy{}, Unknown, Info, ""},

		{"DC502", "a saved uid 0 fails", func(e *Evidence) { e.Process.Status.UIDs = [4]int{33, 33, 0, 33} }, Policy{}, Fail, Warning, "saved uid is 0"},
		{"DC502", "effective capabilities fail", func(e *Evidence) {
			e.Process.Status.UIDs, e.Process.Status.GIDs, e.Process.Status.CapEff = [4]int{33, 33, 33, 33}, [4]int{33, 33, 33, 33}, 0x400
		}, Policy{}, Fail, Warning, "capabilities"},
		{"DC502", "a complete drop passes", func(e *Evidence) {
			e.Process.Status.UIDs, e.Process.Status.GIDs = [4]int{33, 33, 33, 33}, [4]int{33, 33, 33, 33}
		}, Policy{}, Pass, Warning, ""},
		{"DC502", "root's group among the supplementary groups fails", func(e *Evidence) {
			e.Process.Status.UIDs, e.Process.Status.GIDs = [4]int{33, 33, 33, 33}, [4]int{33, 33, 33, 33}
			e.Process.Status.Groups = []int{0}
		}, Policy{}, Fail, Warning, "supplementary"},

		{"DC503", "nowhere to log fails", func(e *Evidence) { e.Process.FDs[2] = e.Process.FDs[1]; e.Process.FDs[2].Num = 2 }, Policy{}, Fail, Info, "/dev/null"},
		{"DC503", "the pidfile is not a log", func(e *Evidence) {
			e.Process.FDs[2] = e.Process.FDs[1]
			e.Process.FDs[2].Num = 2
			e.Process.FDs = e.Process.FDs[:4]
		}, Policy{}, Fail, Info, ""},
		{"DC503", "a Unix datagram socket connected to /dev/log is syslog", dgramPeer(proc.UnixPeer{Connected: true, PeerPath: "/dev/log"}, nil),
			Policy{}, Pass, Info, "logs to /dev/log (fd 4, a Unix datagram socket connected to it)"},
		{"DC503", "one connected to the journal is the journal", dgramPeer(proc.UnixPeer{Connected: true, PeerPath: "/run/systemd/journal/socket"}, nil),
			Policy{}, Pass, Info, "/run/systemd/journal/socket"},
		{"DC503", "a chroot's dev/log is syslog", dgramPeer(proc.UnixPeer{Connected: true, PeerPath: "/var/lib/haproxy/dev/log"}, nil),
			Policy{}, Pass, Info, "/var/lib/haproxy/dev/log"},
		{"DC503", "a datagram socket of its own is no log", dgramPeer(proc.UnixPeer{Bound: "/run/d/control"}, nil),
			Policy{}, Fail, Info, "fd 4 is its own socket /run/d/control"},
		{"DC503", "one connected to another daemon's socket is no log", dgramPeer(proc.UnixPeer{Connected: true, PeerPath: "/run/other.sock"}, nil),
			Policy{}, Fail, Info, "fd 4 is connected to /run/other.sock"},
		{"DC503", "one connected nowhere may be the journal's client: unknown", dgramPeer(proc.UnixPeer{}, nil),
			Policy{}, Unknown, Info, "sd_journal_send(3)"},
		{"DC503", "peers that could not be looked up are unknown", dgramPeer(proc.UnixPeer{}, errors.New("it is in another network namespace")),
			Policy{}, Unknown, Info, "another network namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.rule+"/"+tt.name, func(t *testing.T) {
			ev := goodEvidence()
			if tt.change != nil {
				tt.change(ev)
			}
			findings, _ := Judge(ev, tt.pol)
			var f Finding
			for _, x := range findings {
				if x.ID == tt.rule {
					f = x
				}
			}
			if f.Status != tt.status || (tt.sev != "" && f.Severity != tt.sev) || !strings.Contains(f.Message, tt.says) {
				t.Errorf("%s = %s/%s %q; want %s/%s saying %q", tt.rule, f.Status, f.Severity, f.Message, tt.status, tt.sev, tt.says)
			}
			if (f.Status == Fail || f.Status == Unknown) != (f.Hint != "") {
				t.Errorf("hint %q on a %s finding", f.Hint, f.Status)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	f := func(sev Severity, st Status) Finding { return Finding{Severity: sev, Status: st} }
	tests := []struct {
		name     string
		findings []Finding
		strict   bool
		want     Verdict
	}{
		{"all pass", []Finding{f(Error, Pass), f(Warning, Pass)}, false, VerdictPass},
		{"a failed error fails", []Finding{f(Error, Fail), f(Error, Unknown)}, false, VerdictFail},
		{"an unknown error is unknown, not pass", []Finding{f(Error, Unknown), f(Error, Pass)}, false, VerdictUnknown},
		{"a failed warning passes without strict", []Finding{f(Warning, Fail)}, false, VerdictPass},
		{"a failed warning fails with strict", []Finding{f(Warning, Fail)}, true, VerdictFail},
		{"an unknown warning is unknown with strict", []Finding{f(Warning, Unknown)}, true, VerdictUnknown},
		{"info never fails", []Finding{f(Info, Fail)}, true, VerdictPass},
		{"skips do not count", []Finding{f(Off, Skip), f(Error, Skip)}, false, VerdictPass},
	}
	for _, tt := range tests {
		if got := VerdictOf(tt.findings, tt.strict); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestUnreadableDescriptorsAreNeverPass: dcheck 1 as root, where pid 1's
// descriptors could be listed but not read (permission denied), once
// passed DC204 "none of 270 descriptors is a terminal", DC503 "fd 1 goes
// to " and DC205 with a 268-item line. What was not seen is unknown, said
// in ranges on one short line, and every unreadable descriptor is in the
// JSON report's unreadable map.
func TestUnreadableDescriptorsAreNeverPass(t *testing.T) {
	denied := &fs.PathError{Op: "readlink", Path: "/proc/1/fd/N", Err: fs.ErrPermission}
	ev := goodEvidence()
	ev.Process.FDs = nil
	for n := range 270 {
		ev.Process.FDs = append(ev.Process.FDs, proc.FD{Num: n, Kind: proc.FDUnknown, StatErr: denied})
	}
	for _, pol := range []Policy{{}, {Inherited: []FileID{{Path: "/tmp/sentinel", Dev: 1, Ino: 99}}}} {
		findings, _ := Judge(ev, pol)
		for _, f := range findings {
			switch f.ID {
			case "DC204", "DC205", "DC503":
				if f.Status != Unknown || !strings.Contains(f.Message, "fd 0-269 (270 descriptors)") || !strings.Contains(f.Message, "permission denied") {
					t.Errorf("%s = %s %q; want unknown naming fd 0-269 and why", f.ID, f.Status, f.Message)
				}
				if len(f.Message) > 200 {
					t.Errorf("%s's message is %d bytes long", f.ID, len(f.Message))
				}
			}
		}
	}
	r := NewReport(ev, Policy{})
	if len(r.Process.Unreadable) < 270 || r.Process.Unreadable["fd/268"] == "" {
		t.Errorf("the JSON report lists %d unreadable parts, want every descriptor", len(r.Process.Unreadable))
	}
}

func TestListsInMessagesAreBounded(t *testing.T) {
	if got := fdRanges([]int{0, 3, 4, 5, 9, 11, 12}); got != "fd 0, 3-5, 9, 11-12 (7 descriptors)" {
		t.Errorf("fdRanges = %q", got)
	}
	var many []string
	for i := range 25 {
		many = append(many, fmt.Sprintf("fd %d", i))
	}
	if got := listAtMost(many); !strings.HasSuffix(got, "fd 9 and 15 more") {
		t.Errorf("listAtMost = %q", got)
	}
}

func ptr[T any](v T) *T { return &v }
