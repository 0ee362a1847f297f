package proc

import (
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const statTail = " S 1 3461 3461 0 -1 4194304 95 0 1 0 0 0 0 0 20 0 1 0 71342 2990080 389 18446744073709551615 93838221455360 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0\n"

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		comm    string
		check   func(t *testing.T, s ProcStat)
		wantErr bool
	}{
		{name: "an ordinary daemon", in: "3463 (sleep)" + statTail, comm: "sleep", check: func(t *testing.T, s ProcStat) {
			want := ProcStat{PID: 3463, Comm: "sleep", State: 'S', PPID: 1, PGRP: 3461, Session: 3461, TTY: 0, TPGID: -1,
				Flags: 4194304, MinFlt: 95, MajFlt: 1, Priority: 20, Threads: 1, StartTime: 71342, VSize: 2990080, RSS: 389}
			if s != want {
				t.Errorf("got %+v\nwant %+v", s, want)
			}
		}},
		{name: "a name with spaces and parentheses", in: "7 (a) b (c)" + statTail, comm: "a) b (c"},
		{name: "a name that looks like more fields", in: "7 (x) S 99 99 99 0 1 (y)" + statTail, comm: "x) S 99 99 99 0 1 (y"},
		{name: "a name with a newline", in: "7 (two\nlines)" + statTail, comm: "two\nlines"},
		{name: "an empty name", in: "7 ()" + statTail, comm: ""},
		{name: "a session leader on a pty", in: "3756 (sleep) S 3754 3756 3756 34816 3756 4194304 225 0 0 0 0 0 0 0 20 0 1 0 75421 2990080 379 0\n", comm: "sleep",
			check: func(t *testing.T, s ProcStat) {
				if maj, mnr := s.TTYDevice(); maj != 136 || mnr != 0 {
					t.Errorf("TTYDevice() = %d:%d, want 136:0 (/dev/pts/0)", maj, mnr)
				}
				if s.TPGID != 3756 {
					t.Errorf("TPGID = %d", s.TPGID)
				}
			}},
		{name: "a pty above 255 keeps the high minor bits", in: "1 (x) S 0 1 1 1081600 1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0\n", comm: "x",
			check: func(t *testing.T, s ProcStat) {
				// 1081600 = 0x108100: minor (0x1 << 8) | 0x00, major 0x81 = 129.
				if maj, mnr := s.TTYDevice(); maj != 129 || mnr != 256 {
					t.Errorf("TTYDevice() = %d:%d, want 129:256", maj, mnr)
				}
			}},
		{name: "a kernel thread", in: "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 18446744073709551615\n", comm: "kthreadd",
			check: func(t *testing.T, s ProcStat) {
				if !s.KernelThread() {
					t.Error("KernelThread() = false for flags 2129984 (PF_KTHREAD set)")
				}
			}},
		{name: "a zombie", in: "3527 (sleep) Z 3525 3522 1051 0 -1 4227084 96 0 0 0 0 0 0 0 20 0 1 0 73050 0 0 18446744073709551615 0\n", comm: "sleep",
			check: func(t *testing.T, s ProcStat) {
				if s.State != 'Z' || s.KernelThread() {
					t.Errorf("State = %c, KernelThread = %v", s.State, s.KernelThread())
				}
			}},
		{name: "no name at all", in: "7 sleep S 1", wantErr: true},
		{name: "a closing parenthesis before the opening one", in: "7 )x( S 1 2 3", wantErr: true},
		{name: "cut off after the name", in: "7 (sleep) S 1 2", wantErr: true},
		{name: "a pid that is not a number", in: "x7 (sleep)" + statTail, wantErr: true},
		{name: "a state of two letters", in: "7 (sleep) SS 1 3461 3461 0 -1 4194304 95 0 1 0 0 0 0 0 20 0 1 0 71342 2990080 389 0\n", wantErr: true},
		{name: "a field that is not a number", in: "7 (sleep) S one 3461 3461 0 -1 4194304 95 0 1 0 0 0 0 0 20 0 1 0 71342 2990080 389 0\n", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseStat([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrParse) {
					t.Fatalf("err = %v, want ErrParse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Comm != tt.comm {
				t.Errorf("Comm = %q, want %q", s.Comm, tt.comm)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	full := "Name:\ta) b (c\\nd\nUmask:\t0027\nState:\tS (sleeping)\nTgid:\t42\nPid:\t42\nPPid:\t1\nTracerPid:\t0\n" +
		"Uid:\t1000\t1000\t0\t1000\nGid:\t100\t100\t100\t100\nGroups:\t4 24 27 \nNStgid:\t42\t7\nNSpid:\t42\t7\nNSpgid:\t40\t5\nNSsid:\t40\t5\n" +
		"Threads:\t3\nSigQ:\t0/96364\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000100\nSigBlk:\t0000000000000200\n" +
		"SigIgn:\t0000000000001001\nSigCgt:\t0000000180004002\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000400\n" +
		"CapEff:\t0000000000000400\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"
	s, err := parseStatus([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want := ProcStatus{
		Name: `a) b (c\nd`, Umask: 0o027, HasUmask: true, State: 'S', TGID: 42, PID: 42, PPID: 1,
		UIDs: [4]int{1000, 1000, 0, 1000}, GIDs: [4]int{100, 100, 100, 100}, Groups: []int{4, 24, 27},
		NSTGID: []int{42, 7}, NSPID: []int{42, 7}, NSPGID: []int{40, 5}, NSSID: []int{40, 5}, Threads: 3,
		SigShared: 0x100, SigBlocked: 0x200, SigIgnored: 0x1001, SigCaught: 0x180004002,
		CapPrm: 0x400, CapEff: 0x400, CapBnd: 0x1ffffffffff, NoNewPrivs: true,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	if !s.SigBlocked.Has(unix.SIGUSR1) || s.SigBlocked.Has(unix.SIGTERM) {
		t.Errorf("SigBlk 0x200 should be exactly SIGUSR1 (10): %s", s.SigBlocked)
	}
	if got := s.SigIgnored.String(); got != "SIGHUP,SIGPIPE" {
		t.Errorf("SigIgn 0x1001 = %s, want SIGHUP,SIGPIPE", got)
	}
	if got := s.SigCaught.String(); got != "SIGINT,SIGTERM,SIG32,SIG33" {
		t.Errorf("SigCgt = %s", got)
	}

	t.Run("a kernel before 4.7 prints no Umask", func(t *testing.T) {
		s, err := parseStatus([]byte("Name:\tsleep\nState:\tS (sleeping)\nPid:\t7\n"))
		if err != nil || s.HasUmask || s.Umask != 0 {
			t.Errorf("HasUmask = %v, Umask = %o, err = %v", s.HasUmask, s.Umask, err)
		}
	})
	t.Run("umask 0000 is a value, not an absence", func(t *testing.T) {
		s, err := parseStatus([]byte("Umask:\t0000\n"))
		if err != nil || !s.HasUmask || s.Umask != 0 {
			t.Errorf("HasUmask = %v, Umask = %o, err = %v", s.HasUmask, s.Umask, err)
		}
	})
	for name, in := range map[string]string{
		"a Uid line with three ids":  "Uid:\t0\t0\t0\n",
		"a signal mask that is text": "SigBlk:\tnope\n",
		"an NSpid that is not a pid": "NSpid:\t42\tx\n",
		"an umask that is not octal": "Umask:\t0999\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseStatus([]byte(in)); !errors.Is(err, ErrParse) {
				t.Errorf("err = %v, want ErrParse", err)
			}
		})
	}
}

func TestParseFDInfo(t *testing.T) {
	t.Run("a flocked pidfile", func(t *testing.T) {
		fi, err := parseFDInfo([]byte("pos:\t5\nflags:\t0100001\nmnt_id:\t26\nino:\t9978395\nlock:\t1: FLOCK  ADVISORY  WRITE 3462 fe:00:9978395 0 EOF\n"))
		if err != nil {
			t.Fatal(err)
		}
		want := FDInfo{Pos: 5, Flags: 0o100001, MountID: 26, Locks: []Lock{{Ordinal: 1, Class: "FLOCK", Mode: "ADVISORY",
			Access: "WRITE", PID: 3462, Major: 0xfe, Minor: 0, Inode: 9978395, Start: "0", End: "EOF"}}}
		if !reflect.DeepEqual(fi, want) {
			t.Errorf("got  %+v\nwant %+v", fi, want)
		}
	})
	t.Run("a signalfd for SIGTERM", func(t *testing.T) {
		fi, err := parseFDInfo([]byte("pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1057\nsigmask:\t0000000000004000\n"))
		if err != nil || !fi.HasSigMsk || !fi.SigMask.Has(unix.SIGTERM) {
			t.Errorf("got %+v, %v", fi, err)
		}
	})
	t.Run("flags that are not octal", func(t *testing.T) {
		if _, err := parseFDInfo([]byte("flags:\t0100009\n")); !errors.Is(err, ErrParse) {
			t.Errorf("err = %v, want ErrParse", err)
		}
	})
}

func TestParseLocks(t *testing.T) {
	in := "1: POSIX  ADVISORY  WRITE 812 00:19:1204 0 EOF\n" +
		"2: FLOCK  ADVISORY  WRITE 3462 fe:00:9978395 0 EOF\n" +
		"2: -> FLOCK  ADVISORY  WRITE 3500 fe:00:9978395 0 EOF\n" +
		"3: OFDLCK ADVISORY  READ -1 08:01:77 100 199\n\n"
	locks, err := parseLocks([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Lock{
		{Ordinal: 1, Class: "POSIX", Mode: "ADVISORY", Access: "WRITE", PID: 812, Major: 0, Minor: 0x19, Inode: 1204, Start: "0", End: "EOF"},
		{Ordinal: 2, Class: "FLOCK", Mode: "ADVISORY", Access: "WRITE", PID: 3462, Major: 0xfe, Minor: 0, Inode: 9978395, Start: "0", End: "EOF"},
		{Ordinal: 2, Blocked: true, Class: "FLOCK", Mode: "ADVISORY", Access: "WRITE", PID: 3500, Major: 0xfe, Minor: 0, Inode: 9978395, Start: "0", End: "EOF"},
		{Ordinal: 3, Class: "OFDLCK", Mode: "ADVISORY", Access: "READ", PID: -1, Major: 8, Minor: 1, Inode: 77, Start: "100", End: "199"},
	}
	if !reflect.DeepEqual(locks, want) {
		t.Errorf("got  %+v\nwant %+v", locks, want)
	}
	for name, in := range map[string]string{
		"no ordinal":           "FLOCK ADVISORY WRITE 1 00:01:2 0 EOF\n",
		"a device without ino": "1: FLOCK ADVISORY WRITE 1 00:01 0 EOF\n",
		"a pid that is text":   "1: FLOCK ADVISORY WRITE me 00:01:2 0 EOF\n",
		"too short":            "1: FLOCK\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseLocks([]byte(in)); !errors.Is(err, ErrParse) {
				t.Errorf("err = %v, want ErrParse", err)
			}
		})
	}
}

func TestParseEnviron(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"NUL-terminated entries", "TERM=xterm\x00HOME=/\x00", []string{"TERM=xterm", "HOME=/"}},
		{"a truncated last entry is kept", "A=1\x00B=2", []string{"A=1", "B=2"}},
		{"empty entries are dropped", "\x00\x00A=1\x00", []string{"A=1"}},
		{"a value with a newline stays one entry", "X=a\nb\x00", []string{"X=a\nb"}},
		{"nothing (a kernel thread)", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseEnviron([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePidFile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{name: "a pid and a newline", in: "4242\n", want: 4242},
		{name: "a pid without a newline", in: "4242", want: 4242},
		{name: "white space around the pid", in: "  4242 \r\n\n", want: 4242},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "only white space", in: " \n", wantErr: "empty"},
		{name: "garbage", in: "hello\n", wantErr: "not a decimal pid"},
		{name: "two pids", in: "42 43\n", wantErr: "not a decimal pid"},
		{name: "a negative pid", in: "-5\n", wantErr: "not a valid pid"},
		{name: "pid zero", in: "0\n", wantErr: "not a valid pid"},
		{name: "a plus sign", in: "+5\n", wantErr: "not a decimal pid"},
		{name: "leading zeros", in: "0042\n", wantErr: "not a decimal pid"},
		{name: "beyond pid_t", in: "2147483648\n", wantErr: "not a valid pid"},
		{name: "hexadecimal", in: "0x10\n", wantErr: "not a decimal pid"},
		{name: "a NUL after the pid", in: "42\x00", wantErr: "not a decimal pid"},
		{name: "larger than any pid", in: "99999999999\n", wantErr: "not a decimal pid"},
		{name: "a first line longer than 64 bytes", in: strings.Repeat("1", 65), wantErr: "too long"},
		{name: "more lines after the pid: a data directory, a start time, a port", in: "4242\n/var/lib/db\n1700000000\n5432\n", want: 4242},
		{name: "an empty first line before the pid", in: "\n4242\n", wantErr: "first line is empty"},
		{name: "larger than 4096 bytes", in: "4242\n" + strings.Repeat("x", 4096), wantErr: "larger than 4096 bytes"},
		{name: "a long garbage line is quoted short", in: strings.Repeat("x", 60), wantErr: `"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... (60 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePidFile([]byte(tt.in))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrPidFile) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrPidFile saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestTerminalsByDeviceNumber(t *testing.T) {
	drivers, err := parseTTYDrivers([]byte(`/dev/tty             /dev/tty        5       0 system:/dev/tty
/dev/console         /dev/console    5       1 system:console
/dev/ptmx            /dev/ptmx       5       2 system
/dev/vc/0            /dev/vc/0       4       0 system:vtmaster
serial               /dev/ttyS       4      64 serial
pty_slave            /dev/pts      136 0-1048575 pty:slave
pty_master           /dev/ptm      128 0-1048575 pty:master
unknown              /dev/tty        4 1-63 console
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []struct {
		name    string
		drivers []TTYDriver
	}{{"from /proc/tty/drivers", drivers}, {"from the built-in table", defaultTTYDrivers}} {
		t.Run(table.name, func(t *testing.T) {
			for _, c := range []struct {
				dev          string
				major, minor uint32
				want         bool
			}{
				{"/dev/pts/0", 136, 0, true}, {"/dev/pts/300", 137, 44, false}, {"/dev/tty", 5, 0, true},
				{"/dev/console", 5, 1, true}, {"/dev/ptmx", 5, 2, false}, {"/dev/tty1", 4, 1, true},
				{"/dev/ttyS0", 4, 64, true}, {"/dev/null", 1, 3, false}, {"a pty master", 128, 5, false},
			} {
				if c.dev == "/dev/pts/300" {
					// Minors above 255 stay on major 136: the kernel's pty
					// slave driver owns 136:0-1048575.
					c.major, c.minor, c.want = 136, 300, true
				}
				if got := isTerminal(table.drivers, c.major, c.minor); got != c.want {
					t.Errorf("isTerminal(%s %d:%d) = %v, want %v", c.dev, c.major, c.minor, got, c.want)
				}
			}
		})
	}
	if _, err := parseTTYDrivers([]byte("serial /dev/ttyS four 64 serial\n")); !errors.Is(err, ErrParse) {
		t.Errorf("a major that is not a number: err = %v, want ErrParse", err)
	}
	if _, err := parseTTYDrivers([]byte("x /dev/x 4 9-3 serial\n")); !errors.Is(err, ErrParse) {
		t.Errorf("a minor range that runs backwards: err = %v, want ErrParse", err)
	}
}

func TestParseNetUnixDatagrams(t *testing.T) {
	in := "Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000000000000: 00000002 00000000 00000000 0002 03 30815\n" +
		"0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/foo.sock\n" +
		"0000000000000000: 00000002 00000000 00000000 0002 01 444 /dev/log\n"
	got, err := parseNetUnix([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{Inode: 30815, Proto: "unix", Type: unix.SOCK_DGRAM},
		{Inode: 12345, Proto: "unix", Type: unix.SOCK_STREAM, Local: "/run/foo.sock", Listening: true},
		{Inode: 444, Proto: "unix", Type: unix.SOCK_DGRAM, Local: "/dev/log"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseNetUnix([]byte("header\n0: 2 0 0 zz 01 1\n")); !errors.Is(err, ErrParse) {
		t.Errorf("a type that is not hex: err = %v, want ErrParse", err)
	}
}

func TestParseNetTCP(t *testing.T) {
	// Lines as a little- or big-endian kernel prints 127.0.0.1:8080
	// listening and ::1:8080 connected from port 51234.
	v4 := "0100007F"
	v6 := "00000000000000000000000001000000"
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 { // big-endian
		v4, v6 = "7F000001", "00000000000000000000000000000001"
	}
	in := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: " + v4 + ":1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n"
	got, err := parseNetTCP([]byte(in), "tcp")
	if want := (Socket{Inode: 4242, Proto: "tcp", Type: unix.SOCK_STREAM, Local: "127.0.0.1:8080", Listening: true}); err != nil || len(got) != 1 || got[0] != want {
		t.Errorf("tcp: %+v, %v; want %+v", got, err, want)
	}
	in = "header\n   1: " + v6 + ":1F90 " + v6 + ":C822 01 00000000:00000000 00:00000000 00000000 0 0 77 1\n"
	got, err = parseNetTCP([]byte(in), "tcp6")
	if want := (Socket{Inode: 77, Proto: "tcp6", Type: unix.SOCK_STREAM, Local: "[::1]:8080", Remote: "[::1]:51234"}); err != nil || len(got) != 1 || got[0] != want {
		t.Errorf("tcp6: %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"h\n0: zz:1 0:0 0A 0 0 0 0 0 1\n", "h\n0: 0100007F:1F90 0:0 0A\n", "h\n0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 x\n"} {
		if _, err := parseNetTCP([]byte(bad), "tcp"); !errors.Is(err, ErrParse) {
			t.Errorf("%q: err = %v, want ErrParse", bad, err)
		}
	}
}

func TestParseNetUnix(t *testing.T) {
	in := "Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/a dir/x.sock\n" +
		"0000000000000000: 00000003 00000000 00000000 0001 03 12346 /run/a dir/x.sock\n" +
		"0000000000000000: 00000002 00000000 00000000 0001 03 12347\n" +
		"0000000000000000: 00000002 00000000 00010000 0005 01 12348 @abstract\n"
	got, err := parseNetUnix([]byte(in))
	want := []Socket{
		{Inode: 12345, Proto: "unix", Type: unix.SOCK_STREAM, Local: "/run/a dir/x.sock", Listening: true},
		{Inode: 12346, Proto: "unix", Type: unix.SOCK_STREAM, Local: "/run/a dir/x.sock"},
		{Inode: 12347, Proto: "unix", Type: unix.SOCK_STREAM},
		{Inode: 12348, Proto: "unix", Type: unix.SOCK_SEQPACKET, Local: "@abstract", Listening: true},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v\nwant %+v", got, err, want)
	}
}

// TestParsersOnThisKernel feeds the running kernel's own files to the
// parsers, so that a format change in a new kernel shows up here first.
func TestParsersOnThisKernel(t *testing.T) {
	for _, c := range []struct {
		path  string
		parse func([]byte) error
	}{
		{"/proc/self/stat", func(b []byte) error { _, err := parseStat(b); return err }},
		{"/proc/self/status", func(b []byte) error { _, err := parseStatus(b); return err }},
		{"/proc/self/fdinfo/0", func(b []byte) error { _, err := parseFDInfo(b); return err }},
		{"/proc/locks", func(b []byte) error { _, err := parseLocks(b); return err }},
		{"/proc/tty/drivers", func(b []byte) error { _, err := parseTTYDrivers(b); return err }},
		{"/proc/self/net/unix", func(b []byte) error { _, err := parseNetUnix(b); return err }},
		{"/proc/self/net/tcp", func(b []byte) error { _, err := parseNetTCP(b, "tcp"); return err }},
		{"/proc/self/net/tcp6", func(b []byte) error { _, err := parseNetTCP(b, "tcp6"); return err }},
	} {
		data, err := os.ReadFile(c.path)
		if err != nil {
			t.Logf("%s: %v (skipped)", c.path, err)
			continue
		}
		if err := c.parse(data); err != nil {
			t.Errorf("%s: %v", c.path, err)
		}
	}
}

// TestStatNumbersAsStrconv: the stat parser's own number reader takes and
// refuses what strconv does, at the edges of int64 and uint64.
func TestStatNumbersAsStrconv(t *testing.T) {
	for _, v := range []string{
		"0", "+5", "-0", "-1", "007", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"-9223372036854775809", "18446744073709551615", "18446744073709551616", "99999999999999999999", "1a", "-", "+", "--1", "0x10", "1_000",
	} {
		var p fieldParser
		rest := [][]byte{[]byte(v)}
		got := p.int64(rest, 3)
		want, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			want = 0
		}
		if got != want || (p.err == nil) != (err == nil) {
			t.Errorf("int64(%q) = %d, %v; strconv: %d, %v", v, got, p.err, want, err)
		}
		p = fieldParser{}
		gotU := p.uint(rest, 3)
		wantU, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			wantU = 0
		}
		if gotU != wantU || (p.err == nil) != (err == nil) {
			t.Errorf("uint(%q) = %d, %v; strconv: %d, %v", v, gotU, p.err, wantU, err)
		}
	}
}
