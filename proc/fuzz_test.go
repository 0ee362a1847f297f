package proc

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets check that no input can make a parser panic, and that
// what a parser accepts means what it says. Seeds live in testdata/fuzz
// (recorded from real kernels); make test runs each target for a few
// seconds: go test ./checks -run '^$' -fuzz '^FuzzParseStat$' -fuzztime 3s

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("3463 (a) b (c) S 1 3461 3461 0 -1 4194304 95 0 1 0 0 0 0 0 20 0 1 0 71342 2990080 389 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStat(data)
		if err != nil {
			return
		}
		// The name is exactly what lies between the first '(' and the last ')'.
		if want := data[bytes.IndexByte(data, '(')+1 : bytes.LastIndexByte(data, ')')]; s.Comm != string(want) {
			t.Errorf("Comm = %q, want %q", s.Comm, want)
		}
		// The numbers are what bytes.Fields and strconv make of them.
		if want := referenceStat(data); s != want {
			t.Errorf("parseStat = %+v\nstrconv:    %+v", s, want)
		}
		// The device numbers encode back to the field (for the 32 bits a
		// dev_t in tty_nr carries).
		if major, minor := s.TTYDevice(); int64(uint32(s.TTY)) == int64(s.TTY) {
			if back := minor&0xff | major<<8 | (minor&^0xff)<<12; back != uint32(s.TTY) {
				t.Errorf("TTYDevice of %#x = %d:%d, which encodes to %#x", s.TTY, major, minor, back)
			}
		}
	})
}

// referenceStat parses an accepted stat line the plain way: bytes.Fields
// and strconv, field by field (absent trailing fields are zero).
func referenceStat(data []byte) ProcStat {
	closing := bytes.LastIndexByte(data, ')')
	open := bytes.IndexByte(data, '(')
	rest := bytes.Fields(data[closing+1:])
	field := func(n int) string {
		if n-3 < len(rest) {
			return string(rest[n-3])
		}
		return "0"
	}
	i := func(n int) int64 { v, _ := strconv.ParseInt(field(n), 10, 64); return v }
	u := func(n int) uint64 { v, _ := strconv.ParseUint(field(n), 10, 64); return v }
	pid, _ := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	return ProcStat{
		PID: pid, Comm: string(data[open+1 : closing]), State: rest[0][0],
		PPID: int(i(4)), PGRP: int(i(5)), Session: int(i(6)), TTY: int(i(7)), TPGID: int(i(8)),
		Flags: uint(u(9)), MinFlt: u(10), CMinFlt: u(11), MajFlt: u(12), CMajFlt: u(13), UTime: u(14), STime: u(15),
		CUTime: i(16), CSTime: i(17), Priority: i(18), Nice: i(19), Threads: i(20), ItRealVal: i(21),
		StartTime: u(22), VSize: u(23), RSS: i(24), EnvStart: u(50), EnvEnd: u(51),
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Name:\tsleep\nUmask:\t0022\nUid:\t0\t0\t0\t0\nSigBlk:\t0000000000000200\nNSpid:\t42\t1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStatus(data)
		if err != nil {
			return
		}
		if !s.HasUmask && s.Umask != 0 {
			t.Errorf("Umask %o without a Umask line", s.Umask)
		}
		_ = s.SigBlocked.String()
	})
}

func FuzzParseFDInfo(f *testing.F) {
	f.Add([]byte("pos:\t5\nflags:\t0100001\nmnt_id:\t26\nlock:\t1: FLOCK  ADVISORY  WRITE 3462 fe:00:9978395 0 EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fi, err := parseFDInfo(data)
		if err != nil {
			return
		}
		hasLine := false
		for _, line := range bytes.Split(data, []byte("\n")) {
			hasLine = hasLine || bytes.HasPrefix(line, []byte("sigmask:"))
		}
		if fi.HasSigMsk != hasLine {
			t.Errorf("HasSigMsk = %v, but a sigmask line present = %v", fi.HasSigMsk, hasLine)
		}
	})
}

func FuzzParseLocks(f *testing.F) {
	f.Add([]byte("1: FLOCK  ADVISORY  WRITE 3462 fe:00:9978395 0 EOF\n2: -> POSIX ADVISORY READ 7 08:01:2 0 EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		locks, err := parseLocks(data)
		if err != nil {
			return
		}
		lines := 0
		for _, l := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		if len(locks) != lines {
			t.Errorf("%d locks from %d lines", len(locks), lines)
		}
	})
}

func FuzzParseEnviron(f *testing.F) {
	f.Add([]byte("TERM=xterm\x00HOME=/\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, e := range parseEnviron(data) {
			if e == "" || strings.IndexByte(e, 0) >= 0 {
				t.Errorf("entry %q is empty or holds a NUL", e)
			}
		}
	})
}

func FuzzParsePidFile(f *testing.F) {
	f.Add([]byte("4242\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pid, err := ParsePidFile(data)
		if err != nil {
			return
		}
		first, _, _ := bytes.Cut(data, []byte("\n"))
		if pid <= 0 || len(data) > MaxPidFileBytes || strconv.Itoa(pid) != string(bytes.TrimSpace(first)) {
			t.Errorf("accepted %q as pid %d", data, pid)
		}
	})
}

func FuzzParseTTYDrivers(f *testing.F) {
	f.Add([]byte("pty_slave            /dev/pts      136 0-1048575 pty:slave\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		drivers, err := parseTTYDrivers(data)
		if err != nil {
			return
		}
		for _, d := range drivers {
			if d.MinorLow > d.MinorHi {
				t.Errorf("range %d-%d runs backwards", d.MinorLow, d.MinorHi)
			}
		}
	})
}

func FuzzParseNetUnix(f *testing.F) {
	f.Add([]byte("Num RefCount Protocol Flags Type St Inode Path\n0000: 00000002 00000000 00000000 0002 03 30815\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseNetUnix(data)
	})
}

func FuzzParseNetTCP(f *testing.F) {
	f.Add([]byte("sl local rem st\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		socks, _ := parseNetTCP(data, "tcp6")
		for _, s := range socks {
			if s.Listening && s.Remote != "" {
				t.Errorf("a listening socket with a peer: %+v", s)
			}
		}
	})
}
