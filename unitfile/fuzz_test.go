package unitfile

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: whatever a unit file holds, Parse returns a Service or an
// ErrUnit, never panics; every command line of a parsed unit expands.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"[Service]\nExecStart=/bin/true\n",
		"[Service]\nType=notify\nEnvironment=A=1 \"B=two words\"\nExecStart=@/bin/sh sh -c 'echo $A ${B}' \\\n  --x\nWatchdogSec=1min 30s\n",
		"[Service]\nExecStart=-:/usr/bin/x %n %i $$ \"\\t\"\nUMask=0077\nKillSignal=SIGQUIT\n",
		"[Service]\nExecStart=/bin/echo \"unterminated\n",
		"[Unit\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "fuzz@x.service")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Parse(path)
		if err != nil {
			if !errors.Is(err, ErrUnit) {
				t.Fatalf("Parse: %v, not an ErrUnit", err)
			}
			return
		}
		for _, c := range append(append(s.ExecStartPre, s.ExecStart...), s.ExecStop...) {
			c.Expand(map[string]string{"A": "1 2", "MAINPID": "7"}) // an error is fine; a panic is not
		}
	})
}

// FuzzParseSocket: whatever a socket unit holds, ParseSocket returns a
// Socket whose every address is one net.Listen takes, or an ErrUnit.
func FuzzParseSocket(f *testing.F) {
	for _, seed := range []string{
		"[Socket]\nListenStream=22\n",
		"[Socket]\nListenStream=/run/%N/x.sock\nListenStream=@abs\nListenStream=[::1]:80\nBindIPv6Only=ipv6-only\nFileDescriptorName=x\n",
		"[Socket]\nListenStream=127.0.0.1:8080\nAccept=no\nBacklog=16\nSocketMode=0600\n",
		"[Socket]\nListenStream=[fe80::1]:80%lo\n",
		"[Socket]\nListenDatagram=514\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "fuzz.socket")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := ParseSocket(path)
		if err != nil {
			if !errors.Is(err, ErrUnit) {
				t.Fatalf("ParseSocket: %v, not an ErrUnit", err)
			}
			return
		}
		for _, l := range s.Listen {
			switch l.Network {
			case "unix":
				if l.Address == "" || l.Address == "@" {
					t.Errorf("%q: an empty Unix address", l.Line)
				}
			case "tcp", "tcp4", "tcp6":
				if _, err := netip.ParseAddrPort(l.Address); err != nil {
					t.Errorf("%q: address %q: %v", l.Line, l.Address, err)
				}
			default:
				t.Errorf("%q: network %q", l.Line, l.Network)
			}
		}
	})
}
