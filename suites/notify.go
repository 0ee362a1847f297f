package suites

import (
	"os"
	"path/filepath"

	"github.com/dcheck/dcheck/suites/internal/reaper"
	"github.com/dcheck/dcheck/suites/internal/sdemu"
	"github.com/dcheck/dcheck/unitfile"
)

// listenNotify opens the run's notify socket, where the harness plays
// the supervisor (sdemu.NotifySocket), in a directory of its own in the
// run's directory, which others can search, not list. When the unit's
// User= names the user the daemon runs as, that directory is that user's,
// mode 0700: no other user reaches the socket. Otherwise any user
// reaches it, as systemd's /run/systemd/notify, and only crediting each
// message to its sender guards it.
func (h *harness) listenNotify() error {
	access := unitfile.NotifyAll // without a unit, any process of the run is heard
	if svc := h.unit(); svc != nil {
		access = svc.Access()
	}
	var err error
	h.notify, err = sdemu.ListenNotify(sdemu.NotifyConfig{
		Dir: filepath.Join(h.dir, "notify"), UID: h.daemonUID(), Access: access,
		OfRun: fromRun, Comm: commOf,
	})
	if err != nil {
		return err
	}
	return os.Chmod(h.dir, 0o711)
}

// syncNotify returns once every message sent to the notify socket before
// the call has been taken (the start timeout at most).
func (h *harness) syncNotify() { h.notify.Sync(h.cfg.StartTimeout) }

// hearBeforeReap waits until pid, a child that os/exec will reap, has
// exited, and until what it sent to the notify socket has been heard: a
// message is credited to the run by its sender's parents in /proc, which a
// reaped sender no longer has (a daemon sends STOPPING=1 and exits at
// once; the reader must not come second to the reaper).
func (h *harness) hearBeforeReap(pid int) {
	if h.notify == nil {
		return
	}
	reaper.AwaitExit(pid)
	h.syncNotify()
}

// fromRun reports whether pid is a process of the run: a descendant of
// the harness, which adopts every orphan of the run (a child subreaper).
// Its parents are followed through /proc, at most 64 of them; a process
// that cannot be read is not of the run.
func fromRun(pid int) bool {
	self := os.Getpid()
	for range 64 {
		if pid == self {
			return true
		}
		if pid <= 1 {
			return false
		}
		st, ok := procStat(pid)
		if !ok {
			return false
		}
		pid = st.PPID
	}
	return false
}

// daemonUID is the user the daemon is started as: the unit's User=, or
// the harness's own (also when User= cannot be resolved: the start says
// so).
func (h *harness) daemonUID() int {
	if svc := h.unit(); svc != nil && svc.User != "" {
		if cred, _, err := sdemu.Credential(svc.User, ""); err == nil {
			return int(cred.Uid)
		}
	}
	return os.Geteuid()
}
