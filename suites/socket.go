package suites

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/safepath"
	"github.com/dcheck/dcheck/unitfile"
)

// Socket activation (dcheck verify --unit --socket): the harness opens the
// socket unit's listening sockets as systemd does, once for the run (they
// outlive every start and stop of the service, as the socket unit's do),
// and passes them to each start of ExecStart= as descriptors 3, 4, ...
// with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (sd_listen_fds(3)).

// socketOneInstance is why SU103 and SU109 are not asked under --socket:
// what they start, systemd never does, and the run would have to give the
// sockets to two daemons at once (which both serve them) or to none (and
// the second binds the unit's addresses on the host).
const socketOneInstance = "with socket activation systemd runs one instance and passes the sockets to it alone: a start of an active unit does nothing, and starts of one unit do not overlap"

// passedSocket is one listening socket the run passes.
type passedSocket struct {
	listen unitfile.Listen
	file   *os.File // the harness's descriptor: blocking, as systemd passes it
	ino    uint64   // the socket's inode, "socket:[INO]" in the daemon's fds
	made   string   // a file system socket the run created, removed at the cleanup
	dirs   []string // the directories made for it, innermost first, removed if empty
	// made's device and inode once bound: SU118 finds the same file after
	// the daemon's exit.
	madeDev, madeIno uint64
}

// pidShim sets each of vars (LISTEN_PID, WATCHDOG_PID) to the shell's own
// pid, which the exec gives the daemon: os/exec cannot set an environment
// variable after the fork, and sd_listen_fds(3) ignores the descriptors
// without LISTEN_PID. The shell would also export PWD, which systemd never
// sets: it is unset again unless the unit's environment has it.
func pidShim(vars []string, keepPWD bool) []string {
	var script strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&script, "%s=$$; export %s; ", v, v)
	}
	if !keepPWD {
		script.WriteString("unset PWD; ")
	}
	script.WriteString(`exec "$@"`)
	return []string{"/bin/sh", "-c", script.String(), "sh"}
}

// openSockets opens the listening sockets of the run's socket unit.
func (h *harness) openSockets() error {
	sock := h.cfg.socket
	if sock == nil {
		return nil
	}
	for _, l := range sock.Listen {
		p, err := listenOn(l, sock)
		if err != nil {
			return fmt.Errorf("socket %s: ListenStream=%s: %w", sock.Name, l.Line, err)
		}
		h.sockets = append(h.sockets, p)
	}
	return nil
}

// closeSockets closes the run's listening sockets and removes the file
// system sockets it created, as systemd does when the socket unit stops.
func (h *harness) closeSockets() {
	for _, p := range h.sockets {
		p.file.Close()
		if p.made != "" {
			safepath.Unlink(p.made)
		}
		removeDirs(p.dirs)
	}
}

// socketEnv is what a start of ExecStart= gets besides the descriptors
// (LISTEN_PID comes from pidShim).
func (h *harness) socketEnv() []string {
	if len(h.sockets) == 0 {
		return nil
	}
	names := make([]string, len(h.sockets))
	for i := range names {
		names[i] = h.cfg.socket.FDName()
	}
	return []string{"LISTEN_FDS=" + strconv.Itoa(len(h.sockets)), "LISTEN_FDNAMES=" + strings.Join(names, ":")}
}

// socketFiles are the descriptors passed to a start, in order.
func (h *harness) socketFiles() []*os.File {
	out := make([]*os.File, len(h.sockets))
	for i, p := range h.sockets {
		out[i] = p.file
	}
	return out
}

// listenOn opens one listening socket as systemd would: SO_REUSEADDR,
// IPV6_V6ONLY as BindIPv6Only= says, SO_REUSEPORT with ReusePort=, the
// Backlog=, and for a file system socket its directories (DirectoryMode=)
// and its mode (SocketMode=), replacing a stale socket file. The socket
// stays blocking: the daemon gets it as systemd gives it.
func listenOn(l unitfile.Listen, s *unitfile.Socket) (passedSocket, error) {
	p := passedSocket{listen: l}
	var (
		family int
		sa     unix.Sockaddr
	)
	var sockDir *os.File // a file system socket's directory, open
	switch l.Network {
	case "unix":
		family, sa = unix.AF_UNIX, &unix.SockaddrUnix{Name: l.Address}
		if !strings.HasPrefix(l.Address, "@") {
			dir, dirs, err := prepareSocketPath(l.Address, s.DirectoryMode())
			p.dirs = dirs
			if err != nil {
				removeDirs(dirs)
				return p, err
			}
			sockDir = dir
			defer sockDir.Close()
		}
	default:
		ap, err := netip.ParseAddrPort(l.Address)
		if err != nil {
			return p, err
		}
		if ap.Addr().Is4() {
			family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
			break
		}
		sa6 := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		if zone := ap.Addr().Zone(); zone != "" {
			ifi, err := net.InterfaceByName(zone)
			if err != nil {
				return p, err
			}
			sa6.ZoneId = uint32(ifi.Index)
		}
		family, sa = unix.AF_INET6, sa6
	}
	fd, err := streamSocket(family)
	if err != nil {
		return p, err
	}
	fail := func(err error) (passedSocket, error) {
		unix.Close(fd)
		removeDirs(p.dirs)
		return p, err
	}
	if family != unix.AF_UNIX {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fail(err)
		}
	}
	if family == unix.AF_INET6 {
		only := 0
		if l.Network == "tcp6" {
			only = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, only); err != nil {
			return fail(err)
		}
	}
	if s.ReusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fail(err)
		}
	}
	if sockDir == nil {
		if err := unix.Bind(fd, sa); err != nil {
			return fail(fmt.Errorf("bind: %w", err))
		}
	} else {
		// bind(2) makes the socket file with 0777 less the umask, as
		// systemd makes it: no chmod by path after, which a user who
		// could change the directory would turn onto another file.
		umaskMu.Lock()
		old := unix.Umask(int(^uint32(s.Mode()) & 0o777))
		err := unix.Bind(fd, sa)
		unix.Umask(old)
		umaskMu.Unlock()
		if err != nil {
			return fail(fmt.Errorf("bind: %w", err))
		}
		p.made = l.Address
		name := filepath.Base(l.Address)
		var st unix.Stat_t
		if err := unix.Fstatat(int(sockDir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			unix.Unlinkat(int(sockDir.Fd()), name, 0)
			return fail(err)
		}
		p.madeDev, p.madeIno = uint64(st.Dev), uint64(st.Ino)
	}
	backlog := s.Backlog
	if backlog == 0 {
		backlog = unix.SOMAXCONN
	}
	if err := unix.Listen(fd, backlog); err != nil {
		if p.made != "" {
			safepath.Unlink(p.made)
		}
		return fail(fmt.Errorf("listen: %w", err))
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fail(err)
	}
	p.ino = st.Ino
	p.file = os.NewFile(uintptr(fd), "socket "+l.Line)
	return p, nil
}

// prepareSocketPath makes the directories of a file system socket, each
// with dirMode, as systemd does (DirectoryMode=), and returns the socket's
// directory open, with those it made, innermost first. Every directory on
// the way must be root's to change (internal/safepath: no symbolic link,
// owned by root, writable by no one else unless sticky), since root binds
// the socket there by path. A stale socket there (one nothing listens on,
// root's if the directory is shared) is removed; anything else at the path
// is an error.
func prepareSocketPath(path string, dirMode os.FileMode) (*os.File, []string, error) {
	root, err := safepath.OpenDir("/", nil)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	dir, walked, err := safepath.MkdirAll(root, strings.TrimPrefix(filepath.Dir(path), "/"), uint32(dirMode.Perm()), nil)
	var made []string
	for _, m := range slices.Backward(walked) {
		if m.New {
			made = append(made, m.Path)
		}
	}
	if err != nil {
		return nil, made, fmt.Errorf("the socket's directory: %w", err)
	}
	if len(made) == 0 {
		if err := safepath.Trust(nil).Check(dir); err != nil {
			dir.Close()
			return nil, made, fmt.Errorf("the socket's directory: %w", err)
		}
	}
	fail := func(err error) (*os.File, []string, error) {
		dir.Close()
		return nil, made, err
	}
	name := filepath.Base(path)
	var st unix.Stat_t
	switch err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case errors.Is(err, unix.ENOENT):
		return dir, made, nil
	case err != nil:
		return fail(&os.PathError{Op: "lstat", Path: path, Err: err})
	case uint32(st.Mode)&unix.S_IFMT != unix.S_IFSOCK:
		return fail(fmt.Errorf("%s exists and is not a socket (file type %#o)", path, uint32(st.Mode)&unix.S_IFMT))
	case st.Uid != 0:
		return fail(fmt.Errorf("%s: a socket of uid %d's is there; dcheck removes no other user's file", path, st.Uid))
	}
	// A live one is someone's: never take it away (a drop-in can move
	// ListenStream= to a free path).
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fail(fmt.Errorf("%s: a process listens there already", path))
	}
	if err := unix.Unlinkat(int(dir.Fd()), name, 0); err != nil {
		return fail(&os.PathError{Op: "remove", Path: path, Err: err})
	}
	return dir, made, nil
}

// removeDirs removes the directories, innermost first, while they are
// empty.
func removeDirs(dirs []string) {
	for _, d := range dirs {
		if os.Remove(d) != nil {
			return
		}
	}
}
