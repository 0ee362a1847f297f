package sdemu

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/safepath"
	"github.com/dcheck/dcheck/unitfile"
)

// Socket activation, as systemd does it for a socket unit: each
// listening socket opened once (ListenOn), to be passed to each start of
// the service as descriptors 3, 4, ... with LISTEN_FDS, LISTEN_FDNAMES
// and LISTEN_PID (sd_listen_fds(3)), and closed, its file removed, when
// the socket unit stops (Close).

// ListeningSocket is one listening socket of a socket unit.
type ListeningSocket struct {
	Listen unitfile.Listen
	File   *os.File // the supervisor's descriptor: blocking, as systemd passes it
	Ino    uint64   // the socket's inode, "socket:[INO]" in the daemon's fds
	Made   string   // a file system socket ListenOn created, removed by Close
	// MadeDev and MadeIno are Made's device and inode once bound: a spec
	// finds the same file after the daemon's exit.
	MadeDev, MadeIno uint64
	dirs             []string // the directories made for it, innermost first, removed by Close if empty
}

// Close closes the socket and removes the file system socket ListenOn
// created, and the directories it made for it while they are empty, as
// systemd does when the socket unit stops.
func (p ListeningSocket) Close() {
	if p.File != nil {
		p.File.Close()
	}
	if p.Made != "" {
		safepath.Unlink(p.Made)
	}
	removeDirs(p.dirs)
}

// ListenOn opens one listening socket as systemd would: SO_REUSEADDR,
// IPV6_V6ONLY as BindIPv6Only= says, SO_REUSEPORT with ReusePort=, the
// Backlog=, and for a file system socket its directories (DirectoryMode=)
// and its mode (SocketMode=), replacing a stale socket file. The socket
// stays blocking: the daemon gets it as systemd gives it.
func ListenOn(l unitfile.Listen, s *unitfile.Socket) (ListeningSocket, error) {
	p := ListeningSocket{Listen: l}
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
	fail := func(err error) (ListeningSocket, error) {
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
		if err := WithUmask(^uint32(s.Mode())&0o777, func() error { return unix.Bind(fd, sa) }); err != nil {
			return fail(fmt.Errorf("bind: %w", err))
		}
		p.Made = l.Address
		name := filepath.Base(l.Address)
		var st unix.Stat_t
		if err := unix.Fstatat(int(sockDir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			unix.Unlinkat(int(sockDir.Fd()), name, 0)
			return fail(err)
		}
		p.MadeDev, p.MadeIno = uint64(st.Dev), uint64(st.Ino)
	}
	backlog := s.Backlog
	if backlog == 0 {
		backlog = unix.SOMAXCONN
	}
	if err := unix.Listen(fd, backlog); err != nil {
		if p.Made != "" {
			safepath.Unlink(p.Made)
		}
		return fail(fmt.Errorf("listen: %w", err))
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fail(err)
	}
	p.Ino = st.Ino
	p.File = os.NewFile(uintptr(fd), "socket "+l.Line)
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
