package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel's unix_diag (NETLINK_SOCK_DIAG, what ss -x reads), asked
// about one socket at a time: /proc/PID/net/unix gives a socket's own
// address, never its peer's, and whether a daemon's datagram socket is
// connected to /dev/log or to something of its own only the peer tells.

// From linux/unix_diag.h.
const (
	udiagShowName = 0x1
	udiagShowPeer = 0x4
	unixDiagName  = 0
	unixDiagPeer  = 2
	sizeofDiagReq = 24 // struct unix_diag_req
	sizeofDiagMsg = 16 // struct unix_diag_msg
)

// diagConn is a netlink socket for unix_diag lookups in dcheck's own
// network namespace.
type diagConn struct {
	fd  int
	seq uint32
	buf []byte
}

func openDiag() (*diagConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("netlink sock_diag: %w", err)
	}
	// A kernel answers at once; a second bounds a reply that never comes.
	tv := unix.NsecToTimeval(time.Second.Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return &diagConn{fd: fd, buf: make([]byte, 8192)}, nil
}

func (c *diagConn) close() { unix.Close(c.fd) }

// lookup returns the bound address of the Unix socket ino ("" when
// unbound; "@name" in the abstract namespace) and its peer's inode (0
// when it is not connected).
func (c *diagConn) lookup(ino uint64) (name string, peer uint64, err error) {
	c.seq++
	req := make([]byte, unix.SizeofNlMsghdr+sizeofDiagReq)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(req[8:], c.seq)
	r := req[unix.SizeofNlMsghdr:]
	r[0] = unix.AF_UNIX
	ne.PutUint32(r[4:], ^uint32(0)) // every state
	ne.PutUint32(r[8:], uint32(ino))
	ne.PutUint32(r[12:], udiagShowName|udiagShowPeer)
	ne.PutUint32(r[16:], ^uint32(0)) // no cookie
	ne.PutUint32(r[20:], ^uint32(0))
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return "", 0, fmt.Errorf("netlink sock_diag: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(c.fd, c.buf, 0)
		if err != nil {
			return "", 0, fmt.Errorf("netlink sock_diag: %w", err)
		}
		for b := c.buf[:n]; len(b) >= unix.SizeofNlMsghdr; {
			l := int(ne.Uint32(b))
			if l < unix.SizeofNlMsghdr || l > len(b) {
				return "", 0, errors.New("netlink sock_diag: a malformed message")
			}
			typ, seq, data := ne.Uint16(b[4:]), ne.Uint32(b[8:]), b[unix.SizeofNlMsghdr:l]
			b = b[min((l+3)&^3, len(b)):]
			if seq != c.seq {
				continue // a late answer to an earlier lookup
			}
			switch typ {
			case unix.NLMSG_ERROR:
				if len(data) >= 4 {
					if e := int32(ne.Uint32(data)); e != 0 {
						return "", 0, fmt.Errorf("socket:[%d]: %w", ino, unix.Errno(-e))
					}
				}
				return "", 0, fmt.Errorf("socket:[%d]: no answer", ino)
			case unix.SOCK_DIAG_BY_FAMILY:
				return parseDiagMsg(data)
			}
		}
	}
}

// parseDiagMsg reads a struct unix_diag_msg and its attributes.
func parseDiagMsg(b []byte) (name string, peer uint64, err error) {
	if len(b) < sizeofDiagMsg {
		return "", 0, errors.New("netlink sock_diag: a short answer")
	}
	ne := binary.NativeEndian
	for a := b[sizeofDiagMsg:]; len(a) >= 4; {
		l, typ := int(ne.Uint16(a)), ne.Uint16(a[2:])
		if l < 4 || l > len(a) {
			return "", 0, errors.New("netlink sock_diag: a malformed attribute")
		}
		data := a[4:l]
		switch typ {
		case unixDiagName:
			// The address as bound: a path may carry its NUL (the
			// length given to bind(2) counted it); an abstract name
			// begins with one.
			name = string(data)
			if len(name) > 0 && name[0] == 0 {
				name = "@" + name[1:]
			} else {
				name = strings.TrimRight(name, "\x00")
			}
		case unixDiagPeer:
			if len(data) >= 4 {
				peer = uint64(ne.Uint32(data))
			}
		}
		a = a[min((l+3)&^3, len(a)):]
	}
	return name, peer, nil
}

// readDgramPeers looks up where each of the process's Unix datagram
// sockets (inodes) is connected. It needs a live /proc and the process in
// dcheck's own network namespace: a lookup by inode is made in the
// caller's.
func (f *FS) readDgramPeers(pid int, inodes []uint64) (map[uint64]UnixPeer, error) {
	if err := f.canDiag(pid); err != nil {
		return nil, err
	}
	c, err := openDiag()
	if err != nil {
		return nil, err
	}
	defer c.close()
	out := map[uint64]UnixPeer{}
	for _, ino := range inodes {
		name, peer, err := c.lookup(ino)
		if errors.Is(err, unix.ENOENT) {
			continue // closed meanwhile
		}
		if err != nil {
			return nil, err
		}
		p := UnixPeer{Bound: name, Connected: peer != 0}
		if peer != 0 {
			if p.PeerPath, _, err = c.lookup(peer); err != nil && !errors.Is(err, unix.ENOENT) {
				return nil, err
			}
		}
		out[ino] = p
	}
	return out, nil
}

// canDiag says why the kernel cannot be asked about pid's sockets: a
// lookup by inode is made in dcheck's own network namespace, of a live
// /proc.
func (f *FS) canDiag(pid int) error {
	if !isProc(f.root + "/") {
		return errors.New("not a live /proc: the kernel cannot be asked")
	}
	var self, its unix.Stat_t
	if err := unix.Stat(f.path("self", "ns", "net"), &self); err != nil {
		return err
	}
	if err := unix.Stat(f.path(strconv.Itoa(pid), "ns", "net"), &its); err != nil {
		return err
	}
	if self.Dev != its.Dev || self.Ino != its.Ino {
		return errors.New("it is in another network namespace, where dcheck cannot look its sockets up")
	}
	return nil
}

// maxPeerChildren bounds the children whose descriptors readOwnPeers reads.
const maxPeerChildren = 64

// readOwnPeers finds, for each pipe or socket above 2 in ends, the
// process holding its other end when that is the process itself (a
// socketpair) or one of its children: the holder's pid. A pipe's two ends
// are one inode; a Unix socket's peer is asked of the kernel (unix_diag).
// Ends whose other end is held elsewhere, or nowhere, are left out.
func (f *FS) readOwnPeers(pid int, s *Snapshot, ends []FD) (map[uint64]int, error) {
	other := map[uint64]uint64{} // an end's inode -> the inode of its other end
	var c *diagConn
	defer func() {
		if c != nil {
			c.close()
		}
	}()
	for _, d := range ends {
		if d.Kind == FDPipe {
			other[d.Ino] = d.Ino
			continue
		}
		if c == nil {
			if err := f.canDiag(pid); err != nil {
				return nil, err
			}
			var err error
			if c, err = openDiag(); err != nil {
				return nil, err
			}
		}
		_, peer, err := c.lookup(d.Ino)
		switch {
		case errors.Is(err, unix.ENOENT):
			// Not a Unix socket (or closed meanwhile): no peer to find.
		case err != nil:
			return nil, err
		case peer != 0:
			other[d.Ino] = peer
		}
	}
	out := map[uint64]int{}
	holds := func(holder int, inodes map[uint64]int) {
		for end, o := range other {
			if n := inodes[o]; n > 0 && (end != o || holder != pid || n > 1) {
				if _, done := out[end]; !done {
					out[end] = holder
				}
			}
		}
	}
	own := map[uint64]int{}
	for _, d := range s.FDs {
		if d.Kind == FDPipe || d.Kind == FDSocket {
			own[d.Ino]++
		}
	}
	holds(pid, own)
	for i, ch := range s.Children {
		if i == maxPeerChildren || len(out) == len(other) {
			break
		}
		holds(ch.PID, f.endInodes(ch.PID))
	}
	return out, nil
}

// endInodes counts the pipes and sockets pid holds descriptors on, by
// inode; empty when its descriptors cannot be read.
func (f *FS) endInodes(pid int) map[uint64]int {
	out := map[uint64]int{}
	nums, err := f.FDNums(pid)
	if err != nil {
		return out
	}
	dir := f.path(strconv.Itoa(pid), "fd")
	for _, n := range nums[:min(len(nums), MaxFDs)] {
		target, err := os.Readlink(dir + "/" + strconv.Itoa(n))
		if err != nil {
			continue
		}
		if kind, ino, ok := ParseSpecialTarget(target); ok && (kind == FDPipe || kind == FDSocket) {
			out[ino]++
		}
	}
	return out
}
