package proc

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Socket is one row of a socket table of a network namespace
// (/proc/PID/net/tcp, tcp6 and unix).
type Socket struct {
	Inode uint64 // the socket's inode: a descriptor on it reads "socket:[INODE]"
	Proto string // "tcp", "tcp6" or "unix"
	Type  int    // unix.SOCK_STREAM, unix.SOCK_DGRAM, ...
	// Local is the address it is bound to: "127.0.0.1:80", "[::1]:80", or
	// a Unix socket's path ("@name" in the abstract namespace; "" when
	// unbound). A connection accepted on a Unix socket shows the
	// listener's path.
	Local string
	// Remote is a TCP socket's peer ("127.0.0.1:51234"); "" for a Unix
	// socket (the table does not say) and a listening one.
	Remote    string
	Listening bool // listen(2) was called on it: TCP state LISTEN, or __SO_ACCEPTCON
}

// Sockets reads the TCP and Unix socket tables of the network namespace
// pid is in, keyed by inode. A table the kernel does not have (no IPv6)
// is skipped; an unreadable or malformed one is an error naming it.
func (f *FS) Sockets(pid int) (map[uint64]Socket, error) {
	out := map[uint64]Socket{}
	for _, t := range []struct {
		name  string
		parse func([]byte) ([]Socket, error)
	}{
		{"tcp", func(b []byte) ([]Socket, error) { return parseNetTCP(b, "tcp") }},
		{"tcp6", func(b []byte) ([]Socket, error) { return parseNetTCP(b, "tcp6") }},
		{"unix", parseNetUnix},
	} {
		path := f.path(strconv.Itoa(pid), "net", t.name)
		data, err := readTable(path, maxLocks, nil)
		if err != nil {
			if os.IsNotExist(err) && t.name == "tcp6" {
				continue
			}
			return nil, err
		}
		socks, err := t.parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, s := range socks {
			out[s.Inode] = s
		}
	}
	return out, nil
}

// SocketFDs maps each of the process's descriptors that is a socket to
// the socket's inode.
func (f *FS) SocketFDs(pid int) (map[int]uint64, error) {
	nums, err := f.FDNums(pid)
	if err != nil {
		return nil, err
	}
	dir := f.path(strconv.Itoa(pid), "fd")
	out := map[int]uint64{}
	for _, n := range nums {
		target, err := os.Readlink(filepath.Join(dir, strconv.Itoa(n)))
		if err != nil {
			continue // closed meanwhile
		}
		if kind, ino, ok := ParseSpecialTarget(target); ok && kind == FDSocket {
			out[n] = ino
		}
	}
	return out, nil
}

// tcpListen is the TCP state LISTEN in /proc/net/tcp (include/net/tcp_states.h).
const tcpListen = 0x0A

// parseNetTCP reads /proc/net/tcp or tcp6 (proto): "sl local_address
// rem_address st ... uid timeout inode ...", addresses in hex, each 32-bit
// word of an address in the kernel's byte order, the port big-endian.
func parseNetTCP(data []byte, proto string) ([]Socket, error) {
	var out []Socket
	for i, line := range bytes.Split(data, []byte("\n")) {
		f := bytes.Fields(line)
		if i == 0 || len(f) == 0 {
			continue // the header, or a blank line
		}
		bad := fmt.Errorf("%w: net/%s: line %d: %q", ErrParse, proto, i+1, line)
		if len(f) < 10 {
			return out, bad
		}
		local, err1 := parseHexAddr(string(f[1]))
		remote, err2 := parseHexAddr(string(f[2]))
		st, err3 := strconv.ParseUint(string(f[3]), 16, 8)
		ino, err4 := strconv.ParseUint(string(f[9]), 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return out, bad
		}
		s := Socket{Inode: ino, Proto: proto, Type: unix.SOCK_STREAM, Local: local.String(), Listening: st == tcpListen}
		if !s.Listening {
			s.Remote = remote.String()
		}
		out = append(out, s)
	}
	return out, nil
}

// parseHexAddr reads "0100007F:1F90" (IPv4) or 32 hex digits and a port
// (IPv6).
func parseHexAddr(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(p, 16, 16)
	if !ok || err != nil || len(h) != 8 && len(h) != 32 {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	// Each word was printed as a native-endian number: put it back in
	// memory order, which is network order.
	for w := 0; w < len(raw); w += 4 {
		binary.NativeEndian.PutUint32(raw[w:], binary.BigEndian.Uint32(raw[w:]))
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// soAcceptCon is __SO_ACCEPTCON in /proc/net/unix's Flags: listen(2) was
// called on the socket.
const soAcceptCon = 1 << 16

// parseNetUnix reads /proc/net/unix: "Num RefCount Protocol Flags Type St
// Inode Path", the path absent for an unbound socket and "@name" in the
// abstract namespace.
func parseNetUnix(data []byte) ([]Socket, error) {
	var out []Socket
	for i, line := range bytes.Split(data, []byte("\n")) {
		f := bytes.Fields(line)
		if i == 0 || len(f) == 0 {
			continue // the header, or a blank line
		}
		bad := fmt.Errorf("%w: net/unix: line %d: %q", ErrParse, i+1, line)
		if len(f) < 7 {
			return out, bad
		}
		flags, err1 := strconv.ParseUint(string(f[3]), 16, 32)
		typ, err2 := strconv.ParseUint(string(f[4]), 16, 16)
		ino, err3 := strconv.ParseUint(string(f[6]), 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return out, bad
		}
		s := Socket{Inode: ino, Proto: "unix", Type: int(typ), Listening: flags&soAcceptCon != 0}
		if len(f) > 7 {
			// The path is the rest of the line after seven fields: it may
			// hold spaces.
			rest := line
			for range 7 {
				rest = bytes.TrimLeftFunc(rest, isBlank)
				if end := bytes.IndexFunc(rest, isBlank); end >= 0 {
					rest = rest[end:]
				}
			}
			s.Local = string(bytes.TrimFunc(rest, isBlank))
		}
		out = append(out, s)
	}
	return out, nil
}

// isBlank is what bytes.Fields splits on in these tables.
func isBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\v' || r == '\f' }
