package suites

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/suites/internal/sdemu"
)

// socketActivationSpec is SU117: the daemon keeps the sockets it was
// passed, accepts connections on them, and opens no listening socket of
// its own.
func (h *harness) socketActivationSpec() {
	const id = "SU117"
	main := h.daemon
	if main == 0 || h.stopped.done || !alive(main) {
		h.conclude(id, Unknown, "no daemon running: %s", h.noDaemonReason())
	}
	tree := append([]int{main}, descendantsOf(main)...)
	held, own, err := h.daemonSockets(tree)
	if err != nil {
		h.conclude(id, Unknown, "%v", err)
	}
	var problems, seen []string
	for i, p := range h.sockets {
		what := fmt.Sprintf("fd %d (ListenStream=%s)", 3+i, p.Listen.Line)
		if held[p.Ino] == "" {
			problems = append(problems, what+" is open nowhere in the daemon: it closed the socket it was passed")
			continue
		}
		evidence, err := h.probeAccept(p, tree)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s, held as %s: %v", what, held[p.Ino], err))
			continue
		}
		seen = append(seen, fmt.Sprintf("%s, held as %s: %s", what, held[p.Ino], evidence))
	}
	if len(own) > 0 {
		note := "it listens on " + strings.Join(own, ", ") + " itself, which no socket unit passed"
		if len(problems) > 0 || slices.ContainsFunc(own, func(o string) bool { return strings.HasSuffix(o, clashNote) }) {
			problems = append(problems, note)
		} else {
			h.conclude(id, Warned, "%s; but %s", strings.Join(seen, "; "), note)
			return // a warning passes the spec unless Strict: one outcome only
		}
	}
	if len(problems) > 0 {
		h.conclude(id, Failed, "pid %d, given %s by %s: %s", main, plural(len(h.sockets), "socket", "sockets"), h.cfg.socket.Name, strings.Join(problems, "; "))
	}
	h.conclude(id, Passed, "pid %d: %s", main, strings.Join(seen, "; "))
}

// socketFileSpec is SU118: the daemon's exit leaves each file system
// socket it was passed in place, the very file the run bound.
func (h *harness) socketFileSpec() {
	const id = "SU118"
	var files []sdemu.ListeningSocket
	for _, p := range h.sockets {
		if p.Made != "" {
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		h.conclude(id, Skipped, "%s passes no file system socket", h.cfg.socket.Name)
	}
	f := h.cleanStop(id)
	var kept, problems []string
	for _, p := range files {
		var st unix.Stat_t
		err := unix.Lstat(p.Made, &st)
		switch {
		case errors.Is(err, unix.ENOENT):
			problems = append(problems, fmt.Sprintf("%s (ListenStream=%s) is gone", p.Made, p.Listen.Line))
		case err != nil:
			h.conclude(id, Unknown, "after pid %d exited, %s could not be examined: %v", f.pid, p.Made, err)
		case uint64(st.Dev) != p.MadeDev || uint64(st.Ino) != p.MadeIno:
			problems = append(problems, fmt.Sprintf("%s (ListenStream=%s) is another file, inode %d (the run bound inode %d)", p.Made, p.Listen.Line, st.Ino, p.MadeIno))
		default:
			kept = append(kept, fmt.Sprintf("%s, inode %d", p.Made, st.Ino))
		}
	}
	if len(problems) > 0 {
		h.conclude(id, Failed, "after pid %d exited (%s), %s: systemd keeps the socket it bound open for the next start, and clients that connect by path no longer reach it", f.pid, f.how, strings.Join(problems, "; "))
	}
	h.conclude(id, Passed, "after pid %d exited (%s), the socket files are those the run bound: %s", f.pid, f.how, strings.Join(kept, "; "))
}

// daemonSockets looks at the sockets the processes in tree hold: for each
// passed socket that one of them holds, where ("pid P fd N"); and each
// listening stream socket they hold that the run did not pass.
func (h *harness) daemonSockets(tree []int) (held map[uint64]string, own []string, err error) {
	table, err := h.fs.Sockets(tree[0])
	if err != nil {
		return nil, nil, fmt.Errorf("the socket tables of pid %d: %w", tree[0], err)
	}
	held = map[uint64]string{}
	for _, pid := range tree {
		fds, err := h.fs.SocketFDs(pid)
		if err != nil {
			if pid == tree[0] {
				return nil, nil, fmt.Errorf("the descriptors of pid %d: %w", pid, err)
			}
			continue // a child that exited meanwhile
		}
		nums := make([]int, 0, len(fds))
		for n := range fds {
			nums = append(nums, n)
		}
		slices.Sort(nums)
		for _, n := range nums {
			ino := fds[n]
			if h.passed(ino) {
				if held[ino] == "" {
					held[ino] = fmt.Sprintf("pid %d fd %d", pid, n)
				}
				continue
			}
			if s, ok := table[ino]; ok && s.Listening && s.Type == unix.SOCK_STREAM {
				o := fmt.Sprintf("%s %s (pid %d fd %d)", s.Proto, s.Local, pid, n)
				if h.clashes(s) {
					o += clashNote
				}
				own = append(own, o)
			}
		}
	}
	return held, own, nil
}

// clashNote marks a listening socket of the daemon's own at a passed
// socket's address: it took the address over (a socket file unlinked and
// bound again, or SO_REUSEPORT), and clients reach one or the other.
const clashNote = ", the address of a passed socket"

// clashes reports whether s listens at the address of a passed socket.
func (h *harness) clashes(s proc.Socket) bool {
	return slices.ContainsFunc(h.sockets, func(p sdemu.ListeningSocket) bool {
		if p.Listen.Network == "unix" {
			return s.Proto == "unix" && s.Local == p.Listen.Address
		}
		return s.Proto != "unix" && overlaps(s.Local, p.Listen.Address)
	})
}

// overlaps reports whether two listening "host:port" addresses take
// connections for one address: one port, and one host or a wildcard.
func overlaps(a, b string) bool {
	pa, err1 := netip.ParseAddrPort(a)
	pb, err2 := netip.ParseAddrPort(b)
	return err1 == nil && err2 == nil && pa.Port() == pb.Port() &&
		(pa.Addr() == pb.Addr() || pa.Addr().IsUnspecified() || pb.Addr().IsUnspecified())
}

// passed reports whether ino is one of the run's passed sockets.
func (h *harness) passed(ino uint64) bool {
	return slices.ContainsFunc(h.sockets, func(p sdemu.ListeningSocket) bool { return p.Ino == ino })
}

// probeAccept connects to a passed socket as a client would and waits, up
// to the start timeout, for the daemon to accept the connection: it then
// holds the accepted socket, or has answered or closed it (nothing else
// holds the listening socket but the harness, which never accepts). It
// returns what was seen.
func (h *harness) probeAccept(p sdemu.ListeningSocket, tree []int) (string, error) {
	network, addr := dialAddress(p.Listen.Network, p.Listen.Address)
	conn, err := net.DialTimeout(network, addr, h.cfg.StartTimeout)
	if err != nil {
		return "", fmt.Errorf("a client could not connect to %s: %v", addr, err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	began := time.Now()
	deadline := began.Add(h.cfg.StartTimeout)
	buf := make([]byte, 128)
	for {
		if where := h.acceptedBy(p, local, tree); where != "" {
			return fmt.Sprintf("accepted a connection from a client as %s (%v after it connected)", where, time.Since(began).Round(time.Millisecond)), nil
		}
		// The read's deadline paces the looks: it returns at once when
		// the daemon answers or closes the connection.
		conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, err := conn.Read(buf)
		switch {
		case n > 0:
			return fmt.Sprintf("accepted a connection and answered %q", strings.TrimSpace(string(buf[:n]))), nil
		case errors.Is(err, io.EOF):
			return "accepted a connection and closed it", nil
		case err != nil && !errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Sprintf("accepted a connection, which then failed (%v)", err), nil
		}
		if time.Now().After(deadline) {
			queued := ""
			if pending(p.File) {
				queued = " in its accept queue"
			}
			return "", fmt.Errorf("a connection to %s waited %v%s and nothing accepted it", addr, h.cfg.StartTimeout, queued)
		}
	}
}

// acceptedBy says which process of tree holds the accepted end of the
// client's connection to p (client is its local address), as "pid P fd
// N"; "" when none does. A Unix socket accepted on p shows p's path.
func (h *harness) acceptedBy(p sdemu.ListeningSocket, client string, tree []int) string {
	table, err := h.fs.Sockets(tree[0])
	if err != nil {
		return ""
	}
	match := func(s proc.Socket) bool {
		if s.Listening || s.Inode == p.Ino {
			return false
		}
		if p.Listen.Network == "unix" {
			return s.Proto == "unix" && s.Local == p.Listen.Address
		}
		return s.Proto != "unix" && s.Remote == client && samePort(s.Local, p.Listen.Address)
	}
	for _, pid := range tree {
		fds, err := h.fs.SocketFDs(pid)
		if err != nil {
			continue
		}
		for n, ino := range fds {
			if s, ok := table[ino]; ok && match(s) {
				return fmt.Sprintf("pid %d fd %d", pid, n)
			}
		}
	}
	return ""
}

// dialAddress is where a client connects to reach a listening address:
// the loopback address for a wildcard one.
func dialAddress(network, addr string) (string, string) {
	if network == "unix" {
		return "unix", addr
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsUnspecified() {
		return "tcp", addr
	}
	loop := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	if network == "tcp6" {
		loop = netip.IPv6Loopback()
	}
	return "tcp", netip.AddrPortFrom(loop, ap.Port()).String()
}

// samePort reports whether two "host:port" addresses have one port.
func samePort(a, b string) bool {
	pa, err1 := netip.ParseAddrPort(a)
	pb, err2 := netip.ParseAddrPort(b)
	return err1 == nil && err2 == nil && pa.Port() == pb.Port()
}

// pending reports whether a listening socket has a connection waiting to
// be accepted.
func pending(f *os.File) bool {
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&unix.POLLIN != 0
}
