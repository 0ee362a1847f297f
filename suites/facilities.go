package suites

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/proc/portable"
)

// facilities is what the harness can do beyond POSIX on this system.
// Linux gives it everything; on darwin and FreeBSD each is missing, and the
// run degrades as documented in the package doc: it finds the daemon
// through its pidfile, every spec that needed a missing facility is
// unknown, saying which, and what cannot run at all (a systemd unit) is
// refused before anything starts (needs).
type facilities struct {
	// adopt: orphans of the run become the harness's children
	// (PR_SET_CHILD_SUBREAPER), so it finds a daemon that has no pidfile,
	// and every process the run left.
	adopt bool
	// freeze: the start command is traced (ptrace), and the run is held
	// still while the pidfile is read at its exit (SU102).
	freeze bool
	// pty: the start command gets a new pty as its controlling terminal
	// and stdio (SU101's "no longer holds the terminal", DC104, DC204).
	pty bool
	// notify: a NOTIFY_SOCKET whose messages are credited to their
	// sender's pid (SO_PASSCRED), as systemd reads them; systemd units
	// and socket units need it, and /proc.
	notify bool
	// sigmask: the starter's blocked signals can be set on the thread
	// that forks (DC401's "inherited" half).
	sigmask bool
	// environ: another process's environment can be read, so the run's
	// marker finds its processes wherever they are.
	environ bool
	// procfs: quick looks and the judgement read /proc (proc.FS); without
	// it they go through gopsutil (portable.Portable).
	procfs bool
}

// harnessEnv, set to "portable", makes the harness on Linux use none of
// the facilities above, as on a system that has none: how the tests check
// the degraded run, and how a Linux user sees what a run on a Mac can
// judge. The marker (environ) stays: darwin has it.
const harnessEnv = "DCHECK_HARNESS"

// can is this process's facilities, decided once.
var can = sync.OnceValue(func() facilities {
	f := hostFacilities()
	if os.Getenv(harnessEnv) == "portable" {
		f = facilities{environ: true}
	}
	return f
})

// looker is what the harness reads processes through: proc's FS, or
// gopsutil's Portable reader.
type looker interface {
	proc.Reader
	Stat(pid int) (proc.ProcStat, error)
	Take(pid int) (*proc.Snapshot, error)
	Comm(pid int) (string, error)
	Exe(pid int) (string, error)
	Children(pid int) ([]int, error)
	HasEnv(pid int, kv string, max int) (bool, error)
}

var (
	_ looker = (*proc.FS)(nil)
	_ looker = portable.Portable{}
)

// looks is the reader of the running system the harness uses, chosen
// once: /proc with the procfs facility, else gopsutil; nil when /proc was
// wanted and cannot be read (every look then finds nothing).
var looks = sync.OnceValue(func() looker {
	if !can().procfs {
		return portable.Portable{}
	}
	fsys, err := proc.NewFS("")
	if err != nil {
		return nil
	}
	return fsys
})

// needs checks that this system can run cfg, whose profile is decided:
// systemd units and socket units need Linux's facilities (sd_notify
// credited by pid, /proc); the job-control launch needs a pty and ptrace;
// and a classic daemon is found through its pidfile when orphans are not
// adopted.
func needs(cfg Config, f facilities) error {
	unsupported := func(what string) error {
		return fmt.Errorf("%w: %s, which needs Linux (this run has %s): %w", ErrConfig, what, f.lacking(), errors.ErrUnsupported)
	}
	switch v := os.Getenv(harnessEnv); {
	case v != "" && v != "portable":
		return fmt.Errorf("%w: %s=%q: the one value it takes is \"portable\"", ErrConfig, harnessEnv, v)
	case (cfg.service != nil || cfg.socket != nil) && !(f.notify && f.procfs):
		return unsupported("--unit (Config.Unit) runs a systemd unit as systemd would (NOTIFY_SOCKET credited by pid, /proc)")
	case cfg.Launch == LaunchJobControl && !(f.pty && f.freeze):
		return unsupported("--launch job-control (Config.Launch) runs the start command as an interactive shell's job (a pty, ptrace)")
	case cfg.Profile != checks.ProfileSupervised && !f.adopt && !f.environ:
		return unsupported("a classic daemon is told from other processes by descent (a child subreaper) or by the run's marker in its environment (the profile supervised needs neither)")
	case cfg.Profile != checks.ProfileSupervised && cfg.PidFile == "" && !f.adopt:
		return fmt.Errorf("%w: --pidfile (Config.PidFile) is needed: without a child subreaper (Linux's) the harness finds the daemon through its pidfile (this run has %s)", ErrConfig, f.lacking())
	}
	return nil
}

// lacking lists the facilities missing, for a message: "no child
// subreaper, no ptrace, ..."; "" when none is.
func (f facilities) lacking() string {
	var lack []string
	for _, x := range []struct {
		ok   bool
		name string
	}{{f.adopt, "child subreaper"}, {f.freeze, "ptrace"}, {f.pty, "pty"}, {f.notify, "NOTIFY_SOCKET credentials"},
		{f.sigmask, "starter's signal mask"}, {f.environ, "reading of another process's environment"}, {f.procfs, "/proc"}} {
		if !x.ok {
			lack = append(lack, "no "+x.name)
		}
	}
	return strings.Join(lack, ", ")
}
