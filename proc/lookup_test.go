//go:build linux

package proc

import (
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLookups: each lookup on a live child of this test, and on the test
// itself.
func TestLookups(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	e := startEchoer(t, []string{"A=1", "LOOKUP_MARK=yes", "B=2"}, "cat", "-")
	e.echo(t, "up")
	pid, cat := e.pid(), e.cmd.Path

	if comm, err := fsys.Comm(pid); err != nil || comm != "cat" {
		t.Errorf("Comm(%d) = %q, %v; want cat", pid, comm, err)
	}
	if args, err := fsys.Cmdline(pid, 4096); err != nil || !slices.Equal(args, []string{cat, "-"}) {
		t.Errorf("Cmdline(%d) = %q, %v; want [%s -]", pid, args, err, cat)
	}
	if exe, err := fsys.Exe(pid); err != nil || exe == "" {
		t.Errorf("Exe(%d) = %q, %v", pid, exe, err)
	}
	for kv, want := range map[string]bool{"LOOKUP_MARK=yes": true, "A=1": true, "B=2": true, "LOOKUP_MARK=no": false, "MARK=yes": false} {
		if got, err := fsys.HasEnv(pid, kv, 1<<20); err != nil || got != want {
			t.Errorf("HasEnv(%d, %q) = %v, %v; want %v", pid, kv, got, err, want)
		}
	}
	if kids, err := fsys.Children(os.Getpid()); err != nil || !slices.Contains(kids, pid) {
		t.Errorf("Children(self) = %v, %v; want %d among them", kids, err, pid)
	}

	f, err := os.CreateTemp(t.TempDir(), "held")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	unix.Fstat(int(f.Fd()), &st)
	if held, err := fsys.Holds(os.Getpid(), st.Dev, st.Ino); err != nil || !held {
		t.Errorf("Holds(self, the temp file) = %v, %v; want true", held, err)
	}
	if held, err := fsys.Holds(pid, st.Dev, st.Ino); err != nil || held {
		t.Errorf("Holds(cat, the temp file) = %v, %v; want false", held, err)
	}
	if nums, err := fsys.FDNums(os.Getpid()); err != nil || !slices.Contains(nums, int(f.Fd())) {
		t.Errorf("FDNums(self) = %v, %v; want %d among them", nums, err, f.Fd())
	}
}

// TestSocketLookups: this process's listening sockets, TCP and Unix, are
// found among its descriptors (SocketFDs) and in its namespace's tables
// (Sockets) with their addresses; a connection accepted on the Unix one
// shows the listener's path and is not listening.
func TestSocketLookups(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	tcp, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	path := filepath.Join(t.TempDir(), "l.sock")
	ul, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	client, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ul.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	fds, err := fsys.SocketFDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	table, err := fsys.Sockets(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	ino := func(c syscall.Conn) uint64 {
		rc, _ := c.SyscallConn()
		var st unix.Stat_t
		rc.Control(func(fd uintptr) { unix.Fstat(int(fd), &st) })
		return st.Ino
	}
	for _, c := range []struct {
		name  string
		conn  syscall.Conn
		local string
		proto string
		lis   bool
	}{
		{"the TCP listener", tcp.(*net.TCPListener), tcp.Addr().String(), "tcp", true},
		{"the Unix listener", ul.(*net.UnixListener), path, "unix", true},
		{"the accepted Unix connection", server.(*net.UnixConn), path, "unix", false},
	} {
		i := ino(c.conn)
		if !slices.Contains(slices.Collect(maps.Values(fds)), i) {
			t.Errorf("%s: socket:[%d] is not among SocketFDs(self) %v", c.name, i, fds)
		}
		s, ok := table[i]
		if !ok || s.Local != c.local || s.Proto != c.proto || s.Listening != c.lis || s.Type != unix.SOCK_STREAM {
			t.Errorf("%s: Sockets(self)[%d] = %+v, %v; want %s %s, listening %v", c.name, i, s, ok, c.proto, c.local, c.lis)
		}
	}
}

// TestEnvRange: stat's fields 50 and 51 bound the exec environment block,
// which /proc/PID/mem shows as /proc/PID/environ does.
func TestEnvRange(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	st, err := fsys.Stat(os.Getpid())
	if err != nil || st.EnvEnd <= st.EnvStart {
		t.Fatalf("stat: %v; env %#x-%#x", err, st.EnvStart, st.EnvEnd)
	}
	mem, err := fsys.OpenMem(os.Getpid(), os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	block := make([]byte, st.EnvEnd-st.EnvStart)
	if _, err := mem.ReadAt(block, int64(st.EnvStart)); err != nil {
		t.Fatal(err)
	}
	env, err := fsys.RawEnviron(os.Getpid(), len(block)+1)
	if err != nil || string(env) != string(block) {
		t.Errorf("environ (%d bytes, %v) differs from the block at %#x (%d bytes)", len(env), err, st.EnvStart, len(block))
	}
}

// TestDgramPeers: where each Unix datagram socket of this test is
// connected, as the kernel's unix_diag says: a client connected to a
// bound server (syslog(3)'s to /dev/log), the server itself, an unbound
// socket connected nowhere (sd_journal_send(3)'s), and a socketpair.
func TestDgramPeers(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	path := filepath.Join(t.TempDir(), "log.sock")
	server, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	client, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	loose, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(loose)
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pair[0])
	defer unix.Close(pair[1])
	ino := func(fd int) uint64 {
		var st unix.Stat_t
		unix.Fstat(fd, &st)
		return st.Ino
	}
	fdOf := func(c *net.UnixConn) int {
		rc, _ := c.SyscallConn()
		n := -1
		rc.Control(func(fd uintptr) { n = int(fd) })
		return n
	}
	want := map[uint64]UnixPeer{
		ino(fdOf(client)): {Connected: true, PeerPath: path},
		ino(fdOf(server)): {Bound: path},
		ino(loose):        {},
		ino(pair[0]):      {Connected: true},
	}
	got, err := fsys.readDgramPeers(os.Getpid(), slices.Collect(maps.Keys(want)))
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("socket:[%d]: %+v, want %+v", i, got[i], w)
		}
	}
}

// TestOwnPeers: a socketpair and a pipe whose other ends this test handed
// to a child (not close-on-exec, as a daemon's channels to its workers
// are) are found held by that child.
func TestOwnPeers(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip("no /proc here")
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], 0); err != nil {
		t.Fatal(err)
	}
	mine, theirs := os.NewFile(uintptr(sp[0]), "sp0"), os.NewFile(uintptr(sp[1]), "sp1")
	pr, pw := os.NewFile(uintptr(p[0]), "pr"), os.NewFile(uintptr(p[1]), "pw")
	defer mine.Close()
	defer pw.Close()
	cmd := exec.Command("sleep", "1000")
	cmd.ExtraFiles = []*os.File{theirs, pr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	theirs.Close()
	pr.Close()
	s, err := fsys.Take(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	unix.Fstat(int(mine.Fd()), &st)
	sock := st.Ino
	unix.Fstat(int(pw.Fd()), &st)
	pipe := st.Ino
	child := cmd.Process.Pid
	if s.OwnPeersErr != nil || s.OwnPeers[sock] != child || s.OwnPeers[pipe] != child {
		t.Errorf("OwnPeers %v (%v); want socket:[%d] and pipe:[%d] held by the child %d", s.OwnPeers, s.OwnPeersErr, sock, pipe, child)
	}
}
