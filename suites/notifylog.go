package suites

import (
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dcheck/dcheck/suites/internal/sdemu"
)

// notifyMsg is one sd_notify message the harness received as the
// supervisor: when it arrived (SCM_TIMESTAMPNS, the kernel's time; the
// reader's when not sent), from which pid (SCM_CREDENTIALS; 0 when not
// sent), and its NAME=value lines.
type notifyMsg struct {
	at     time.Time
	pid    int
	fields []string
}

// has reports whether the message carries the line kv ("READY=1").
func (m notifyMsg) has(kv string) bool { return slices.Contains(m.fields, kv) }

// listenNotify opens the run's notify socket, where the harness plays
// the supervisor, and starts its reader. The socket is in a directory of
// its own in the run's directory (which others can search, not list).
// When the unit's User= names the user the daemon runs as, that directory
// is that user's, mode 0700: no other user reaches the socket. A daemon
// started as root may drop its privileges itself, to a user nobody can
// name in advance (dbus-daemon becomes messagebus, then sends READY=1):
// then, as systemd's /run/systemd/notify, the socket is reachable by any
// user, and only crediting guards it (logNotify). syncNotify's markers go
// through a connection made before the directory is handed over: the
// harness never follows a path the daemon could have replaced.
func (h *harness) listenNotify() error {
	dir := filepath.Join(h.dir, "notify")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	sock := filepath.Join(dir, "notify.sock")
	var err error
	if h.notify, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"}); err != nil {
		return err
	}
	// The directory decides who reaches the socket; the socket itself
	// takes any user that does (a unit's ExecStart= may switch users).
	if err := os.Chmod(sock, 0o666); err != nil {
		return err
	}
	if h.notifyMark, err = net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"}); err != nil {
		return err
	}
	if uid := h.daemonUID(); uid != os.Geteuid() {
		if err := os.Chown(dir, uid, -1); err != nil {
			return fmt.Errorf("handing the notify socket's directory to uid %d (the unit's User=): %w", uid, err)
		}
	} else if err := os.Chmod(dir, 0o711); err != nil {
		return err
	}
	if err := os.Chmod(h.dir, 0o711); err != nil {
		return err
	}
	// The sender's pid, as systemd reads it; and when each message
	// arrived, by the kernel's clock: a reader that a loaded machine
	// schedules late must not make a daemon's watchdog look late.
	if rc, err := h.notify.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { sdemu.CreditSender(int(fd)) })
	}
	go func() {
		buf := make([]byte, 4096)
		oob := make([]byte, sdemu.NotifyOOBSize)
		for {
			n, oobn, _, _, err := h.notify.ReadMsgUnix(buf, oob)
			if err != nil {
				h.hearUpTo(math.MaxInt) // nothing more will be heard: syncNotify waits no longer
				return
			}
			if !h.logNotify(string(buf[:n]), oob[:oobn]) {
				continue
			}
			select {
			case h.notified <- string(buf[:n]):
			default:
			}
		}
	}()
	return nil
}

// logNotify logs one message, and reports whether the run heard it: false
// for one of syncNotify's markers, a message from outside the run (kept
// in h.strangers), and one NotifyAccess= refuses (kept in h.unheard, as
// systemd logs it).
func (h *harness) logNotify(msg string, oob []byte) bool {
	m := notifyMsg{at: time.Now(), fields: strings.Split(strings.TrimRight(msg, "\n"), "\n")}
	var uid int
	m.pid, uid, m.at = sdemu.NotifySender(oob, m.at)
	if seq, ok := strings.CutPrefix(msg, syncMarker+"="); ok && m.pid == os.Getpid() {
		if n, err := strconv.Atoi(seq); err == nil {
			h.hearUpTo(n)
		}
		return false
	}
	h.mu.Lock()
	known := h.mains[m.pid] || h.controls[m.pid]
	h.mu.Unlock()
	if m.pid != 0 && !known && !fromRun(m.pid) {
		// Anyone the daemon runs as may send: only the run's processes
		// are heard, as systemd hears only its units'.
		h.mu.Lock()
		if len(h.strangers) < 8 {
			h.strangers = append(h.strangers, fmt.Sprintf("pid %d (%s): %q", m.pid, commOf(m.pid), truncate(msg, 40)))
		}
		h.mu.Unlock()
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if why := h.refusedBy(m.pid); why != "" {
		if len(h.unheard) < maxUnheard {
			h.unheard = append(h.unheard, unheardMsg{notifyMsg: m, why: why, comm: commOf(m.pid)})
		}
		return false
	}
	h.followMainPID(m, uid)
	h.notifyLog = append(h.notifyLog, m)
	return true
}

// syncMarker is the harness's own message to its notify socket: syncNotify.
const syncMarker = "X_DCHECK_SYNC"

// syncNotify returns once every message sent to the notify socket before
// the call has been logged. A datagram is in the socket's queue once its
// send returns, so a process that has exited has nothing in flight: the
// harness sends a marker of its own, queued behind the rest, and waits
// until the reader reaches it (the start timeout at most). Any number of
// goroutines may wait at once.
func (h *harness) syncNotify() {
	if h.notify == nil {
		return
	}
	h.mu.Lock()
	h.syncSeq++
	seq := h.syncSeq
	h.mu.Unlock()
	if _, err := fmt.Fprintf(h.notifyMark, "%s=%d", syncMarker, seq); err != nil {
		return
	}
	timeout := time.NewTimer(h.cfg.StartTimeout)
	defer timeout.Stop()
	for {
		h.mu.Lock()
		heard, next := h.heard, h.heardCh
		h.mu.Unlock()
		if heard >= seq {
			return
		}
		select {
		case <-next:
		case <-timeout.C:
			return
		}
	}
}

// hearUpTo records that the reader has reached marker n, waking every
// syncNotify waiting for it or an earlier one.
func (h *harness) hearUpTo(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n > h.heard {
		h.heard = n
		close(h.heardCh)
		h.heardCh = make(chan struct{})
	}
}

// hearBeforeReap waits until pid, a child that os/exec will reap, has
// exited, and until what it sent to the notify socket has been heard: a
// message is credited to the run by its sender's parents in /proc, which a
// reaped sender no longer has (a daemon sends STOPPING=1 and exits at
// once; the reader must not come second to the reaper).
func (h *harness) hearBeforeReap(pid int) {
	if h.notify == nil {
		return
	}
	awaitExitUnreaped(pid)
	h.syncNotify()
}

// notifications returns the messages received so far that carry kv.
func (h *harness) notifications(kv string) []notifyMsg {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []notifyMsg
	for _, m := range h.notifyLog {
		if m.has(kv) {
			out = append(out, m)
		}
	}
	return out
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

// truncate cuts s to n bytes, saying so.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
