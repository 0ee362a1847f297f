package suites

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/dcheck/dcheck/suites/internal/sdemu"
	"github.com/dcheck/dcheck/unitfile"
)

// Whose sd_notify messages the run hears, as systemd 252 decides it by
// NotifyAccess= (service_notify_message_authorized): with main, the main
// process's alone (each start's ExecStart= process, or the one an
// accepted MAINPID= names); with exec, those and the Exec*= command
// running now; with all, any process of the run; with none, nothing.
// Without --unit, any process of the run is heard (all). A message from a
// process of the run that is refused is kept aside (h.unheard), as
// systemd logs it: the specs that waited for it name it.

// maxUnheard is how many refused messages are kept.
const maxUnheard = 16

// unheardMsg is a message from a process of the run that NotifyAccess=
// refused, and why.
type unheardMsg struct {
	notifyMsg
	why  string // "NotifyAccess=main: pid 12 is not the main pid 10"
	comm string // the sender's name, read when it arrived
}

// notifyAccess is the NotifyAccess= the run applies.
func (h *harness) notifyAccess() unitfile.NotifyAccess {
	if svc := h.unit(); svc != nil {
		return svc.Access()
	}
	return unitfile.NotifyAll
}

// refusedBy says why NotifyAccess= refuses a message of the run from pid,
// or "" when the run hears it. The caller holds h.mu.
func (h *harness) refusedBy(pid int) string {
	a := h.notifyAccess()
	switch {
	case a == unitfile.NotifyAll || pid == 0:
		return ""
	case a == unitfile.NotifyNone:
		return "NotifyAccess=none: no message is heard"
	case h.mains[pid]:
		return ""
	case a == unitfile.NotifyExec && h.controls[pid]:
		return ""
	case a == unitfile.NotifyExec:
		return fmt.Sprintf("NotifyAccess=exec: pid %d is neither the main pid %s nor a running Exec*= command%s", pid, h.mainList(), h.controlList())
	}
	return fmt.Sprintf("NotifyAccess=main: pid %d is not the main pid %s", pid, h.mainList())
}

// followMainPID takes a heard message's MAINPID= as systemd does: the
// named process becomes a main process when it is of the run (systemd:
// of the unit's control group) or when root sent the message. The caller
// holds h.mu.
func (h *harness) followMainPID(m notifyMsg, uid int) {
	for _, f := range m.fields {
		v, ok := strings.CutPrefix(f, "MAINPID=")
		if !ok {
			continue
		}
		if pid, err := strconv.Atoi(v); err == nil && pid > 1 && (uid == 0 || fromRun(pid)) {
			h.mains[pid] = true
		}
	}
}

// mainList names the main processes, "10" or "10 or 14"; "(none yet)".
func (h *harness) mainList() string { return joinPids(h.mains, " or ", "(none yet)") }

// controlList names the running Exec*= commands, " (running: 20)".
func (h *harness) controlList() string {
	if len(h.controls) == 0 {
		return ""
	}
	return " (running: " + joinPids(h.controls, ", ", "") + ")"
}

// joinPids lists the pids of set in order, joined by sep; none when empty.
func joinPids(set map[int]bool, sep, none string) string {
	var pids []int
	for p := range set {
		pids = append(pids, p)
	}
	if len(pids) == 0 {
		return none
	}
	slices.Sort(pids)
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, sep)
}

// unheardNote says that kv came and was refused, for a spec that waited
// for it in vain: "; READY=1 came from pid 12 (worker), which
// NotifyAccess=main: ...". "" when none came.
func (h *harness) unheardNote(kv string) string {
	h.mu.Lock()
	i := slices.IndexFunc(h.unheard, func(m unheardMsg) bool { return m.has(kv) })
	var u unheardMsg
	if i >= 0 {
		u = h.unheard[i]
	}
	h.mu.Unlock()
	if i < 0 {
		return ""
	}
	return fmt.Sprintf("; %s came from pid %d (%s) and was not heard: %s (systemd ignores it too; send it from the main process, or set NotifyAccess=all)", kv, u.pid, u.comm, u.why)
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

// unheardSummary lists the refused messages for the run's summary:
// `pid 12 (worker): "READY=1" (NotifyAccess=main: ...)`; "" when none.
func (h *harness) unheardSummary() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.unheard {
		out = append(out, fmt.Sprintf("pid %d (%s): %q (%s)", m.pid, m.comm, truncate(strings.Join(m.fields, "\n"), 40), m.why))
	}
	return strings.Join(out, "; ")
}
