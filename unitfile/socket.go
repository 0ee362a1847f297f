package unitfile

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// Socket is a socket unit with its drop-ins applied: the listening sockets
// systemd would open and pass to the service (socket activation,
// Accept=no). The zero value of each field is systemd's default, as its
// comment says.
type Socket struct {
	Name    string   // the unit's name, "nginx.socket"
	Path    string   // the unit file
	DropIns []string // the drop-ins applied, in order

	// Listen is each ListenStream=, in order: the service receives them as
	// descriptors 3, 4, ...
	Listen []Listen

	// Service is the service it activates (Service=); "" means the unit's
	// own name with .service for .socket.
	Service string

	// FileDescriptorName is FileDescriptorName=, the name LISTEN_FDNAMES
	// gives each descriptor; "" means the unit's name, "nginx.socket".
	FileDescriptorName string

	Backlog    int     // Backlog=; 0 means as many as net.core.somaxconn allows
	IPv6Only   *bool   // BindIPv6Only=: nil is default (both), true ipv6-only
	ReusePort  bool    // ReusePort=
	socketMode *uint32 // SocketMode=; nil means 0666 (see Mode)
	directory  *uint32 // DirectoryMode=; nil means 0755 (see DirectoryMode)

	// NotEmulated lists the directives set in the unit that dcheck does
	// not apply, as "Section.Name=value".
	NotEmulated []string
}

// Listen is one address a socket unit listens on.
type Listen struct {
	Line string // as written in ListenStream=, specifiers expanded
	// Network is what net.Listen takes: "unix" for a file system
	// ("/run/x.sock") or abstract ("@name") socket, "tcp4" for an IPv4
	// address, "tcp6" for an IPv6 one, and "tcp" for the IPv6 wildcard
	// (a bare port is "[::]:PORT"), which takes IPv4 too unless
	// BindIPv6Only=ipv6-only.
	Network string
	// Address is what net.Listen takes: the path ("@" for the abstract
	// namespace), or "host:port".
	Address string
}

// ActivatedService is the name of the service the socket activates.
func (s *Socket) ActivatedService() string {
	if s.Service != "" {
		return s.Service
	}
	return strings.TrimSuffix(s.Name, ".socket") + ".service"
}

// FDName is the name LISTEN_FDNAMES gives each of the socket's
// descriptors.
func (s *Socket) FDName() string {
	if s.FileDescriptorName != "" {
		return s.FileDescriptorName
	}
	return s.Name
}

// Mode is the mode a file system socket is created with: SocketMode=,
// 0666 when unset (an explicit 0000 is kept).
func (s *Socket) Mode() os.FileMode {
	if s.socketMode == nil {
		return 0o666
	}
	return os.FileMode(*s.socketMode)
}

// DirectoryMode is the mode of the directories made for a file system
// socket.
func (s *Socket) DirectoryMode() os.FileMode {
	if s.directory == nil {
		return 0o755
	}
	return os.FileMode(*s.directory)
}

// ParseSocket reads the socket unit at path and applies the drop-ins in
// order, as Parse does for a service. Only what socket activation of a
// long-running daemon needs is accepted: ListenStream= sockets, passed
// with Accept=no. The other socket kinds (ListenDatagram=, ListenFIFO=,
// ...) and Accept=yes (a service instance per connection, inetd style)
// are refused with an error naming the directive, for the service would
// receive other descriptors than the harness could give it.
func ParseSocket(path string, dropIns ...string) (*Socket, error) {
	s := &Socket{Name: filepath.Base(path), Path: path}
	if !strings.HasSuffix(s.Name, ".socket") {
		return nil, fmt.Errorf("%w: %s: not a .socket unit", ErrUnit, path)
	}
	if err := applyFiles(path, dropIns, s.set); err != nil {
		return nil, err
	}
	s.DropIns = slices.Clone(dropIns)
	if len(s.Listen) == 0 {
		return nil, fmt.Errorf("%w: %s: no ListenStream=", ErrUnit, path)
	}
	// The IPv6 wildcard takes IPv4 too, unless BindIPv6Only=ipv6-only
	// (wherever in the files it was set).
	for i, l := range s.Listen {
		if l.Network == "tcp6" && strings.HasPrefix(l.Address, "[::]:") && (s.IPv6Only == nil || !*s.IPv6Only) {
			s.Listen[i].Network = "tcp"
		}
	}
	return s, nil
}

// set applies one directive.
func (s *Socket) set(o *unit.UnitOption) error {
	key := o.Section + "." + o.Name
	v := strings.TrimSpace(o.Value)
	spec := func(c byte) (string, error) { return specifier(s.Name, c) }
	octal := func(max uint64) (uint32, error) {
		m, err := strconv.ParseUint(v, 8, 32)
		if err != nil || m > max {
			return 0, fmt.Errorf("want an octal mode")
		}
		return uint32(m), nil
	}
	switch key {
	case "Socket.ListenStream":
		if v == "" {
			s.Listen = nil
			return nil
		}
		line, err := expandSpecifiersWith(v, spec)
		if err != nil {
			return err
		}
		l, err := parseListen(line)
		if err != nil {
			return err
		}
		s.Listen = append(s.Listen, l)
	case "Socket.ListenDatagram", "Socket.ListenSequentialPacket", "Socket.ListenFIFO", "Socket.ListenSpecial",
		"Socket.ListenNetlink", "Socket.ListenMessageQueue", "Socket.ListenUSBFunction":
		if v == "" {
			return nil
		}
		return fmt.Errorf("dcheck passes ListenStream= sockets only: the service would expect a descriptor it cannot give")
	case "Socket.Accept":
		yes, err := parseBool(v)
		if err != nil {
			return err
		}
		if yes {
			return fmt.Errorf("dcheck verifies a daemon that accepts its own connections (Accept=no); Accept=yes starts one service instance per connection")
		}
	case "Socket.Service":
		if !strings.HasSuffix(v, ".service") {
			return fmt.Errorf("want a .service unit name")
		}
		s.Service = v
	case "Socket.FileDescriptorName":
		if strings.ContainsRune(v, ':') || len(v) > 255 || strings.IndexFunc(v, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
			return fmt.Errorf("want at most 255 printable ASCII characters, without \":\"")
		}
		s.FileDescriptorName = v
	case "Socket.Backlog":
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fmt.Errorf("want an unsigned 32-bit integer")
		}
		s.Backlog = int(min(n, 1<<31-1))
	case "Socket.SocketMode":
		m, err := octal(0o7777)
		s.socketMode = &m
		return err
	case "Socket.DirectoryMode":
		m, err := octal(0o7777)
		s.directory = &m
		return err
	case "Socket.BindIPv6Only":
		switch v {
		case "default", "both":
			s.IPv6Only = nil
		case "ipv6-only":
			t := true
			s.IPv6Only = &t
		default:
			return fmt.Errorf("want default, both or ipv6-only")
		}
	case "Socket.ReusePort":
		yes, err := parseBool(v)
		s.ReusePort = yes
		return err
	default:
		if !slices.Contains(noEffect, key) {
			s.NotEmulated = append(s.NotEmulated, key+"="+v)
		}
	}
	return nil
}

// parseListen reads a ListenStream= address (systemd.socket(5)): a path,
// "@name", a port, "v.w.x.y:port" or "[ipv6]:port" (with "%dev").
func parseListen(v string) (Listen, error) {
	l := Listen{Line: v}
	switch {
	case strings.HasPrefix(v, "/"):
		l.Network, l.Address = "unix", filepath.Clean(v)
		return l, nil
	case strings.HasPrefix(v, "@"):
		if len(v) == 1 {
			return l, fmt.Errorf("an abstract socket needs a name after @")
		}
		l.Network, l.Address = "unix", v
		return l, nil
	case strings.HasPrefix(v, "vsock:"):
		return l, fmt.Errorf("AF_VSOCK sockets are not supported")
	}
	if port, err := strconv.ParseUint(v, 10, 16); err == nil {
		if port == 0 {
			return l, fmt.Errorf("port 0")
		}
		l.Network, l.Address = "tcp6", fmt.Sprintf("[::]:%d", port)
		return l, nil
	}
	// systemd writes a scope after the port, "[fe80::1]:80%eth0"; netip
	// wants it in the address, "[fe80::1%eth0]:80".
	if i, j := strings.LastIndex(v, "]:"), strings.LastIndex(v, "%"); i > 0 && j > i {
		v = v[:i] + v[j:] + v[i:j]
	}
	ap, err := netip.ParseAddrPort(v)
	if err != nil {
		return l, fmt.Errorf("want an absolute path, @name, a port, ADDRESS:PORT or [ADDRESS]:PORT")
	}
	if ap.Port() == 0 {
		return l, fmt.Errorf("port 0")
	}
	l.Network, l.Address = "tcp4", ap.String()
	if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		l.Network = "tcp6"
	}
	return l, nil
}

// parseBool reads a systemd boolean (systemd.syntax(7)).
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("want a boolean (yes or no)")
}
