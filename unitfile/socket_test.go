package unitfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseListen(t *testing.T) {
	tests := []struct{ in, network, address string }{
		{"/run/dbus/system_bus_socket", "unix", "/run/dbus/system_bus_socket"},
		{"/run//x/../y.sock", "unix", "/run/y.sock"},
		{"@abstract", "unix", "@abstract"},
		{"127.0.0.1:8080", "tcp4", "127.0.0.1:8080"},
		{"[::1]:8080", "tcp6", "[::1]:8080"},
		{"[fe80::1]:80%lo", "tcp6", "[fe80::1%lo]:80"},
		{"22", "tcp6", "[::]:22"}, // "tcp" once ParseSocket knows BindIPv6Only=
	}
	for _, tt := range tests {
		l, err := parseListen(tt.in)
		if err != nil || l.Network != tt.network || l.Address != tt.address || l.Line != tt.in {
			t.Errorf("parseListen(%q) = %+v, %v; want %s %s", tt.in, l, err, tt.network, tt.address)
		}
	}
	for _, in := range []string{"", "@", "0", "127.0.0.1:0", "localhost:80", "vsock:2:80", "65536", "127.0.0.1"} {
		if l, err := parseListen(in); err == nil {
			t.Errorf("parseListen(%q) = %+v, want an error", in, l)
		}
	}
}

func TestParseSocket(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "echo.socket", `[Unit]
Description=an echo service's socket

[Socket]
ListenStream=7000
ListenStream=/run/%N/control.sock
SocketMode=0660
Backlog=16
FreeBind=yes

[Install]
WantedBy=sockets.target
`)
	drop := write(t, dir, "port.conf", "[Socket]\nListenStream=\nListenStream=127.0.0.1:7001\nListenStream=@%n\nBindIPv6Only=ipv6-only\nListenStream=[::]:7002\nFileDescriptorName=echo\n")
	s, err := ParseSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Listen) != 2 || s.Listen[0].Network != "tcp" || s.Listen[0].Address != "[::]:7000" || s.Listen[1].Address != "/run/echo/control.sock" {
		t.Errorf("Listen = %+v", s.Listen)
	}
	if s.Mode() != 0o660 || s.Backlog != 16 || s.DirectoryMode() != 0o755 || s.FDName() != "echo.socket" || s.ActivatedService() != "echo.service" {
		t.Errorf("mode %v, backlog %d, directory mode %v, name %s, service %s", s.Mode(), s.Backlog, s.DirectoryMode(), s.FDName(), s.ActivatedService())
	}
	if len(s.NotEmulated) != 1 || s.NotEmulated[0] != "Socket.FreeBind=yes" {
		t.Errorf("NotEmulated = %q", s.NotEmulated)
	}
	// Modes of 0 are modes, not "unset".
	closed, err := ParseSocket(write(t, dir, "closed.socket", "[Socket]\nListenStream=/run/closed/s\nSocketMode=0000\nDirectoryMode=0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if closed.Mode() != 0 || closed.DirectoryMode() != 0 {
		t.Errorf("SocketMode=0000, DirectoryMode=0: modes %v and %v, want 0 and 0", closed.Mode(), closed.DirectoryMode())
	}

	// A drop-in empties the list and moves the sockets, as systemd does.
	s, err = ParseSocket(path, drop)
	if err != nil {
		t.Fatal(err)
	}
	want := []Listen{{"127.0.0.1:7001", "tcp4", "127.0.0.1:7001"}, {"@echo.socket", "unix", "@echo.socket"}, {"[::]:7002", "tcp6", "[::]:7002"}}
	if len(s.Listen) != len(want) {
		t.Fatalf("Listen = %+v, want %+v", s.Listen, want)
	}
	for i := range want {
		if s.Listen[i] != want[i] {
			t.Errorf("Listen[%d] = %+v, want %+v", i, s.Listen[i], want[i])
		}
	}
	if s.FDName() != "echo" || len(s.DropIns) != 1 {
		t.Errorf("name %s, drop-ins %q", s.FDName(), s.DropIns)
	}
}

func TestDebianSockets(t *testing.T) {
	for name, want := range map[string]Listen{
		"dbus.socket": {"/run/dbus/system_bus_socket", "unix", "/run/dbus/system_bus_socket"},
		"ssh.socket":  {"22", "tcp", "[::]:22"},
	} {
		path := "/lib/systemd/system/" + name
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s is not installed here (its Debian package is absent)", path)
			continue
		}
		s, err := ParseSocket(path)
		if err != nil {
			t.Fatalf("ParseSocket(%s): %v", path, err)
		}
		if len(s.Listen) != 1 || s.Listen[0] != want {
			t.Errorf("%s: Listen = %+v, want %+v", name, s.Listen, want)
		}
	}
}

func TestBadSockets(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, text, says string }{
		{"none.socket", "[Socket]\nBacklog=5\n", "no ListenStream="},
		{"dgram.socket", "[Socket]\nListenDatagram=514\n", "ListenStream= sockets only"},
		{"accept.socket", "[Socket]\nListenStream=7\nAccept=yes\n", "Accept=yes"},
		{"addr.socket", "[Socket]\nListenStream=localhost:80\n", "ListenStream=localhost:80"},
		{"name.socket", "[Socket]\nListenStream=7\nFileDescriptorName=a:b\n", "without \":\""},
		{"svc.socket", "[Socket]\nListenStream=7\nService=other.target\n", "want a .service"},
		{"mode.socket", "[Socket]\nListenStream=/run/x\nSocketMode=rw\n", "want an octal mode"},
		{"bool.socket", "[Socket]\nListenStream=7\nAccept=perhaps\n", "want a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, dir, tt.name, tt.text)
			_, err := ParseSocket(path)
			if !errors.Is(err, ErrUnit) || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), path) {
				t.Errorf("ParseSocket: %v; want ErrUnit naming %s and saying %q", err, path, tt.says)
			}
		})
	}
	if _, err := ParseSocket(write(t, dir, "x.service", "[Service]\nExecStart=/bin/true\n")); !errors.Is(err, ErrUnit) || !strings.Contains(err.Error(), "not a .socket") {
		t.Errorf("a service unit: %v", err)
	}
	if _, err := ParseSocket(filepath.Join(dir, "gone.socket")); !errors.Is(err, ErrUnit) || !strings.Contains(err.Error(), "gone.socket") {
		t.Errorf("a missing unit: %v", err)
	}
}
