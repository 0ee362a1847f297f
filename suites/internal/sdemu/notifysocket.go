package sdemu

import (
	"fmt"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dcheck/dcheck/unitfile"
)

// Msg is one sd_notify message the supervisor received: when it arrived
// (SCM_TIMESTAMPNS, the kernel's time; the reader's when not sent), from
// which pid (SCM_CREDENTIALS; 0 when not sent), and its NAME=value lines.
type Msg struct {
	At     time.Time
	PID    int
	Fields []string
}

// Has reports whether the message carries the line kv ("READY=1").
func (m Msg) Has(kv string) bool { return slices.Contains(m.Fields, kv) }

// MonotonicUsec is the message's MONOTONIC_USEC=, "" when absent or not a
// number.
func (m Msg) MonotonicUsec() string {
	for _, f := range m.Fields {
		if v, ok := strings.CutPrefix(f, "MONOTONIC_USEC="); ok {
			if _, err := strconv.ParseUint(v, 10, 64); err == nil {
				return v
			}
		}
	}
	return ""
}

// Refused is a message from a process of the run that NotifyAccess=
// refused, and why.
type Refused struct {
	Msg
	Why  string // "NotifyAccess=main: pid 12 is not the main pid 10"
	Comm string // the sender's name, read when it arrived
}

// Role is what a process started by the run is to the notify socket.
type Role int

const (
	// Other is a process NotifyAccess= gives no standing (it may still
	// be heard under NotifyAccess=all).
	Other Role = iota
	// Main is a start's main process (ExecStart=).
	Main
	// Control is an Exec*= command other than ExecStart=, heard under
	// NotifyAccess=exec while it runs.
	Control
)

// maxRefused and maxStrangers are how many refused messages and messages
// from outside the run are kept.
const (
	maxRefused   = 16
	maxStrangers = 8
)

// NotifyConfig says where a notify socket is made and whom it hears. The
// zero value of each field is documented with it.
type NotifyConfig struct {
	// Dir is made, mode 0700, to hold the socket. When UID is not the
	// caller's effective uid, it is handed to UID; otherwise it is made
	// searchable (0711) by any user. Dir's parent must be the caller's.
	Dir string
	// UID is the user the daemon is started as (the unit's User=).
	UID int
	// Access is the NotifyAccess= applied; "" is NotifyAll, as without a
	// unit any process of the run is heard.
	Access unitfile.NotifyAccess
	// OfRun reports whether pid is a process of the run (systemd: of the
	// unit's control group). It is required.
	OfRun func(pid int) bool
	// Comm names a process for the reports; nil names none.
	Comm func(pid int) string
}

// NotifySocket is the supervisor's notify socket, as systemd 252 keeps
// one for its services: it credits each datagram to its sender, hears the
// run's processes alone, and of those the ones NotifyAccess= lets speak
// (service_notify_message_authorized): with main, the main process's
// alone (each start's ExecStart= process, or one an accepted MAINPID=
// names); with exec, those and the Exec*= command running now; with all,
// any process of the run; with none, nothing. A refused message of the
// run is kept, as systemd logs it, so that a spec that waited in vain can
// name it. Its methods may be called on a nil *NotifySocket: there is no
// socket, and nothing was heard.
type NotifySocket struct {
	cfg   NotifyConfig
	conn  *net.UnixConn
	mark  *net.UnixConn // connected at the socket's creation: Sync's markers
	heard chan string

	mu              sync.Mutex
	log             []Msg
	strangers       []string
	refused         []Refused
	mains, controls map[int]bool
	seq, reached    int           // the last Sync marker sent, and the last one the reader reached
	reachedCh       chan struct{} // closed, and replaced, each time reached grows
}

// ListenNotify makes the notify socket in cfg.Dir and starts its reader.
// A daemon started as root may drop its privileges itself, to a user
// nobody can name in advance (dbus-daemon becomes messagebus, then sends
// READY=1): then, as systemd's /run/systemd/notify, the socket is
// reachable by any user, and only crediting guards it. Sync's markers go
// through a connection made before the directory is handed over: the
// supervisor never follows a path the daemon could have replaced.
func ListenNotify(cfg NotifyConfig) (_ *NotifySocket, err error) {
	if cfg.Access == "" {
		cfg.Access = unitfile.NotifyAll
	}
	if cfg.Comm == nil {
		cfg.Comm = func(int) string { return "" }
	}
	if err := os.Mkdir(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	s := &NotifySocket{cfg: cfg, heard: make(chan string, 64), mains: map[int]bool{}, controls: map[int]bool{}, reachedCh: make(chan struct{})}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	addr := &net.UnixAddr{Name: filepath.Join(cfg.Dir, "notify.sock"), Net: "unixgram"}
	if s.conn, err = net.ListenUnixgram("unixgram", addr); err != nil {
		return nil, err
	}
	// The directory decides who reaches the socket; the socket itself
	// takes any user that does (a unit's ExecStart= may switch users).
	if err := os.Chmod(addr.Name, 0o666); err != nil {
		return nil, err
	}
	if s.mark, err = net.DialUnix("unixgram", nil, addr); err != nil {
		return nil, err
	}
	if cfg.UID != os.Geteuid() {
		if err := os.Chown(cfg.Dir, cfg.UID, -1); err != nil {
			return nil, fmt.Errorf("handing the notify socket's directory to uid %d (the unit's User=): %w", cfg.UID, err)
		}
	} else if err := os.Chmod(cfg.Dir, 0o711); err != nil {
		return nil, err
	}
	// The sender's pid, as systemd reads it; and when each message
	// arrived, by the kernel's clock: a reader that a loaded machine
	// schedules late must not make a daemon's watchdog look late.
	if rc, err := s.conn.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { CreditSender(int(fd)) })
	}
	go s.read()
	return s, nil
}

// Addr is the socket's path, for NOTIFY_SOCKET.
func (s *NotifySocket) Addr() string {
	if s == nil {
		return ""
	}
	return s.conn.LocalAddr().String()
}

// Heard receives the text of each heard message, as it is heard; a
// message is dropped from it (never from the log) when 64 wait. Without a
// socket it is nil: a receive waits forever.
func (s *NotifySocket) Heard() <-chan string {
	if s == nil {
		return nil
	}
	return s.heard
}

// Close closes the socket; its reader ends.
func (s *NotifySocket) Close() {
	if s == nil {
		return
	}
	if s.mark != nil {
		s.mark.Close()
	}
	if s.conn != nil {
		s.conn.Close()
	}
}

func (s *NotifySocket) read() {
	buf := make([]byte, 4096)
	oob := make([]byte, NotifyOOBSize)
	for {
		n, oobn, _, _, err := s.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			s.reach(math.MaxInt) // nothing more will be heard: Sync waits no longer
			return
		}
		if !s.take(string(buf[:n]), oob[:oobn]) {
			continue
		}
		select {
		case s.heard <- string(buf[:n]):
		default:
		}
	}
}

// syncMarker is the supervisor's own message to its socket: Sync.
const syncMarker = "X_DCHECK_SYNC"

// take logs one message, and reports whether the run heard it: false for
// one of Sync's markers, a message from outside the run (kept among the
// strangers), and one NotifyAccess= refuses (kept among the refused).
func (s *NotifySocket) take(msg string, oob []byte) bool {
	m := Msg{At: time.Now(), Fields: strings.Split(strings.TrimRight(msg, "\n"), "\n")}
	var uid int
	m.PID, uid, m.At = NotifySender(oob, m.At)
	if seq, ok := strings.CutPrefix(msg, syncMarker+"="); ok && m.PID == os.Getpid() {
		if n, err := strconv.Atoi(seq); err == nil {
			s.reach(n)
		}
		return false
	}
	s.mu.Lock()
	known := s.mains[m.PID] || s.controls[m.PID]
	s.mu.Unlock()
	if m.PID != 0 && !known && !s.cfg.OfRun(m.PID) {
		// Anyone the daemon runs as may send: only the run's processes
		// are heard, as systemd hears only its units'.
		stranger := fmt.Sprintf("pid %d (%s): %q", m.PID, s.cfg.Comm(m.PID), truncate(msg, 40))
		s.mu.Lock()
		if len(s.strangers) < maxStrangers {
			s.strangers = append(s.strangers, stranger)
		}
		s.mu.Unlock()
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if why := s.refusedBy(m.PID); why != "" {
		if len(s.refused) < maxRefused {
			s.refused = append(s.refused, Refused{Msg: m, Why: why, Comm: s.cfg.Comm(m.PID)})
		}
		return false
	}
	s.followMainPID(m, uid)
	s.log = append(s.log, m)
	return true
}

// refusedBy says why NotifyAccess= refuses a message of the run from pid,
// or "" when the run hears it. The caller holds s.mu.
func (s *NotifySocket) refusedBy(pid int) string {
	a := s.cfg.Access
	switch {
	case a == unitfile.NotifyAll || pid == 0:
		return ""
	case a == unitfile.NotifyNone:
		return "NotifyAccess=none: no message is heard"
	case s.mains[pid]:
		return ""
	case a == unitfile.NotifyExec && s.controls[pid]:
		return ""
	case a == unitfile.NotifyExec:
		running := ""
		if len(s.controls) > 0 {
			running = " (running: " + joinPids(s.controls, ", ", "") + ")"
		}
		return fmt.Sprintf("NotifyAccess=exec: pid %d is neither the main pid %s nor a running Exec*= command%s", pid, joinPids(s.mains, " or ", "(none yet)"), running)
	}
	return fmt.Sprintf("NotifyAccess=main: pid %d is not the main pid %s", pid, joinPids(s.mains, " or ", "(none yet)"))
}

// followMainPID takes a heard message's MAINPID= as systemd does: the
// named process becomes a main process when it is of the run (systemd:
// of the unit's control group) or when root sent the message. The caller
// holds s.mu.
func (s *NotifySocket) followMainPID(m Msg, uid int) {
	for _, f := range m.Fields {
		v, ok := strings.CutPrefix(f, "MAINPID=")
		if !ok {
			continue
		}
		if pid, err := strconv.Atoi(v); err == nil && pid > 1 && (uid == 0 || s.cfg.OfRun(pid)) {
			s.mains[pid] = true
		}
	}
}

// Start runs start, which starts a process and returns its pid, and gives
// that process role, with the reader held: a message the process sends
// at once is judged knowing who sent it.
func (s *NotifySocket) Start(role Role, start func() (pid int, err error)) error {
	if s == nil || role == Other {
		_, err := start()
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pid, err := start()
	if err != nil {
		return err
	}
	if role == Main {
		s.mains[pid] = true
	} else {
		s.controls[pid] = true
	}
	return nil
}

// Ended says that the Exec*= command pid has ended: NotifyAccess=exec no
// longer hears it.
func (s *NotifySocket) Ended(pid int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	delete(s.controls, pid)
	s.mu.Unlock()
}

// Sync returns once every message sent to the socket before the call has
// been taken, or after timeout. A datagram is in the socket's queue once
// its send returns, so a process that has exited has nothing in flight:
// Sync sends a marker of its own, queued behind the rest, and waits until
// the reader reaches it. Any number of goroutines may wait at once.
func (s *NotifySocket) Sync(timeout time.Duration) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	if _, err := fmt.Fprintf(s.mark, "%s=%d", syncMarker, seq); err != nil {
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		reached, next := s.reached, s.reachedCh
		s.mu.Unlock()
		if reached >= seq {
			return
		}
		select {
		case <-next:
		case <-t.C:
			return
		}
	}
}

// reach records that the reader has reached marker n, waking every Sync
// waiting for it or an earlier one.
func (s *NotifySocket) reach(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.reached {
		s.reached = n
		close(s.reachedCh)
		s.reachedCh = make(chan struct{})
	}
}

// With returns the heard messages that carry kv, in the order they came.
func (s *NotifySocket) With(kv string) []Msg {
	return slices.DeleteFunc(s.Log(), func(m Msg) bool { return !m.Has(kv) })
}

// Log returns every heard message, in the order they came.
func (s *NotifySocket) Log() []Msg {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Strangers lists the messages from processes outside the run, ignored:
// `pid 12 (evil): "READY=1"`, the first few.
func (s *NotifySocket) Strangers() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.strangers)
}

// RefusedNote says that kv came and was refused, for a spec that waited
// for it in vain: "; READY=1 came from pid 12 (worker) and was not heard:
// NotifyAccess=main: ...". "" when none came.
func (s *NotifySocket) RefusedNote(kv string) string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	i := slices.IndexFunc(s.refused, func(m Refused) bool { return m.Has(kv) })
	var u Refused
	if i >= 0 {
		u = s.refused[i]
	}
	s.mu.Unlock()
	if i < 0 {
		return ""
	}
	return fmt.Sprintf("; %s came from pid %d (%s) and was not heard: %s (systemd ignores it too; send it from the main process, or set NotifyAccess=all)", kv, u.PID, u.Comm, u.Why)
}

// RefusedSummary lists the refused messages for the run's summary:
// `pid 12 (worker): "READY=1" (NotifyAccess=main: ...)`; "" when none.
func (s *NotifySocket) RefusedSummary() string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.refused {
		out = append(out, fmt.Sprintf("pid %d (%s): %q (%s)", m.PID, m.Comm, truncate(strings.Join(m.Fields, "\n"), 40), m.Why))
	}
	return strings.Join(out, "; ")
}

// joinPids lists the pids of set in order, joined by sep; none when empty.
func joinPids(set map[int]bool, sep, none string) string {
	if len(set) == 0 {
		return none
	}
	pids := make([]string, 0, len(set))
	for _, p := range slices.Sorted(maps.Keys(set)) {
		pids = append(pids, strconv.Itoa(p))
	}
	return strings.Join(pids, sep)
}

// truncate cuts s to n bytes, saying so.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
