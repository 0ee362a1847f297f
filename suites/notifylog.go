//go:build linux

package suites

import (
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// notifyMsg is one sd_notify message the harness received as the
// supervisor: when, from which pid (SCM_CREDENTIALS; 0 when not sent),
// and its NAME=value lines.
type notifyMsg struct {
	at     time.Time
	pid    int
	fields []string
}

// has reports whether the message carries the line kv ("READY=1").
func (m notifyMsg) has(kv string) bool { return slices.Contains(m.fields, kv) }

func (h *harness) logNotify(msg string, oob []byte) {
	m := notifyMsg{at: time.Now(), fields: strings.Split(strings.TrimRight(msg, "\n"), "\n")}
	if cmsgs, err := unix.ParseSocketControlMessage(oob); err == nil {
		for _, c := range cmsgs {
			if cred, err := unix.ParseUnixCredentials(&c); err == nil {
				m.pid = int(cred.Pid)
			}
		}
	}
	h.mu.Lock()
	h.notifyLog = append(h.notifyLog, m)
	h.mu.Unlock()
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
