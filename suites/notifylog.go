package suites

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
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

// logNotify logs one message, and reports whether it was the daemon's
// (false: one of syncNotify's markers, or a message from outside the run).
func (h *harness) logNotify(msg string, oob []byte) bool {
	m := notifyMsg{at: time.Now(), fields: strings.Split(strings.TrimRight(msg, "\n"), "\n")}
	m.pid, m.at = notifySender(oob, m.at)
	if seq, ok := strings.CutPrefix(msg, syncMarker+"="); ok && m.pid == os.Getpid() {
		if n, err := strconv.Atoi(seq); err == nil {
			h.hearUpTo(n)
		}
		return false
	}
	if m.pid != 0 && !fromRun(m.pid) {
		// The socket's path is in a directory every user can search (a
		// unit's User= must reach it): anyone may send, and only the
		// run's processes are heard, as systemd hears only its units'.
		h.mu.Lock()
		if len(h.strangers) < 8 {
			h.strangers = append(h.strangers, fmt.Sprintf("pid %d (%s): %q", m.pid, commOf(m.pid), truncate(msg, 40)))
		}
		h.mu.Unlock()
		return false
	}
	h.mu.Lock()
	h.notifyLog = append(h.notifyLog, m)
	h.mu.Unlock()
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
	c, err := net.DialUnix("unixgram", nil, h.notify.LocalAddr().(*net.UnixAddr))
	if err != nil {
		return
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "%s=%d", syncMarker, seq); err != nil {
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
