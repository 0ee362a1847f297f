package checks

import (
	"fmt"
	"io/fs"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
)

// Profile names the kind of daemon a process is judged as.
type Profile string

// The profiles.
const (
	// ProfileSysV is the classic daemon of daemon(7) "SysV Daemons": forked
	// twice, detached from every terminal, orphaned to init.
	ProfileSysV Profile = "sysv"
	// ProfileSupervised is a "new-style" daemon of daemon(7): it stays in the
	// foreground under systemd, supervisord, runit or a container runtime,
	// which does the detaching for it.
	ProfileSupervised Profile = "supervised"
)

// Profiles lists every profile, the default first.
var Profiles = []Profile{ProfileSysV, ProfileSupervised}

// ParseProfile returns the profile named s, or an error naming the choices.
func ParseProfile(s string) (Profile, error) {
	for _, p := range Profiles {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown profile %q (want sysv or supervised)", s)
}

// Policy is what the judge knows beyond the snapshot: what to expect of
// this daemon, and what is known of the process that started it.
type Policy struct {
	// ProcessTimeout bounds the time Scan spends reading and judging one
	// process, and ScanTimeout the whole scan; zero means no bound. A
	// daemon-like process not judged in time is a ScanResult whose Err
	// wraps ErrDeadline: no user's process can hold a scan of the host's
	// other daemons (reading /proc/PID/cmdline can block while the process
	// holds its memory map's lock). Scan alone reads them.
	ProcessTimeout time.Duration
	ScanTimeout    time.Duration

	// Profile is the kind of daemon to judge against. The zero value means
	// the one Supervisors finds for the process, or ProfileSysV when
	// Supervisors is nil.
	Profile Profile

	// ProfileFrom says who set Profile, for the report (ProfileFromFlag,
	// ProfileFromConfig). Empty means ProfileFromFlag when Profile is set.
	ProfileFrom string

	// Supervisors, when not nil, is asked what supervises each process
	// judged: the report records it, and it decides the profile unless
	// Profile is set. Nil means nothing is asked.
	Supervisors Supervisors

	// Umask is the umask the daemon must have. Nil means no particular
	// value is expected: DC202 then looks for one inherited from the starter.
	Umask *uint32

	// Cwds lists directories, besides "/", the daemon may have as its
	// current directory. Nil allows only "/".
	Cwds []string

	// Reaper is the pid that an orphaned daemon's parent must be: a
	// subreaper such as "systemd --user", tini, or a test harness. Zero
	// means pid 1 of the daemon's own pid namespace.
	Reaper int

	// PidFile is the daemon's pidfile. Empty means none is known:
	// DC301-DC303 are skipped.
	PidFile string

	// Inherited lists files the starter had open and must not reach the
	// daemon (DC205). Nil means none is known, and DC205 only lists
	// descriptors that look inherited.
	Inherited []FileID

	// Starter holds what is known of the process that launched the
	// daemon. Nil means nothing is known.
	Starter *StarterFacts

	// Strict makes a failed warning fail the verdict. False means only
	// errors do.
	Strict bool

	// Waivers are accepted exceptions, at most one per rule (the first
	// wins). Nil means none.
	Waivers []Waiver

	// Now is the time waivers' expiry is judged at. The zero value means
	// the time of judging.
	Now time.Time

	// Name is what reports call the daemon (Report.Name), as its owner
	// named it. Empty means no name was given.
	Name string

	// Tailor, when not nil, is called with each process once it has been
	// read and before it is judged, with a copy of this policy to adjust
	// for that process (dcheck's --config matches entries this way). It
	// must not keep either pointer. When it sets PidFile and none was set,
	// that pidfile is read and judged as well.
	Tailor func(s *proc.Snapshot, pol *Policy)
}

// StarterFacts describe the process that ran the daemon's start command, as
// only a launcher can know them (the suites record them).
type StarterFacts struct {
	// Umask is the starter's umask. Nil means unknown.
	Umask *uint32
	// Blocked is the starter's blocked signal mask; the empty set means
	// none was blocked.
	Blocked proc.SignalSet
	// Ignored is the set of signals the starter ignored (SIG_IGN); the
	// empty set means none was ignored.
	Ignored proc.SignalSet
	// UmaskSetter, when not empty, says who chose Umask on purpose for
	// the daemon ("the unit's UMask="): keeping it is then no fault. Empty
	// means Umask is merely what the starter had, which a daemon resets.
	UmaskSetter string
}

// FileID names a file by device and inode, so that it is recognised behind
// any path or descriptor.
type FileID struct {
	Path string // The path it was found at, for messages
	Dev  uint64 // Device (st_dev)
	Ino  uint64 // Inode number
}

// StatFileID returns the FileID of the file at path, following symlinks.
func StatFileID(path string) (FileID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return FileID{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return FileID{Path: path, Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, nil
}

func (p Policy) profile() Profile {
	if p.Profile == "" {
		return ProfileSysV
	}
	return p.Profile
}
