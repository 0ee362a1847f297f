//go:build linux

package sdemu

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/attacker"
	"github.com/dcheck/dcheck/internal/safepath"
	"github.com/dcheck/dcheck/unitfile"
)

func socketUnitAt(t *testing.T, dir, text string) *unitfile.Socket {
	t.Helper()
	path := filepath.Join(dir, "s.socket")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := unitfile.ParseSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSocketInAnotherUsersDirectoryIsRefused: the run bound the socket,
// then chmod-ed its path to SocketMode=. A user who owns the socket's
// directory (here nobody) swaps the directory for a symbolic link between
// the two, and a root file of mode 0600 became 0666. Now a directory
// another user could change is refused before anything is bound there,
// while the attacker swaps it as fast as it can, and the victim stays.
func TestSocketInAnotherUsersDirectoryIsRefused(t *testing.T) {
	attacker.Need(t)
	top := t.TempDir()
	victim := attacker.Victim(t, top)
	theirs := attacker.Dir(t, top, "theirs")
	attacker.Reachable(top)
	attacker.Start(t, `cd "$1" || exit 1
mkdir real
while :; do ln -sfn "$2" d.new; mv -T d.new d; ln -sfn real d.new; mv -T d.new d; done`, theirs, top)
	sock := socketUnitAt(t, top, "[Socket]\nListenStream="+filepath.Join(theirs, "d", "victim")+"\nSocketMode=0666\n")
	for range 50 {
		p, err := ListenOn(sock.Listen[0], sock)
		if err == nil {
			p.Close()
			t.Fatalf("a socket in %s, a directory of nobody's, was bound", theirs)
		}
		if !errors.Is(err, safepath.ErrUntrusted) && !errors.Is(err, safepath.ErrSymlink) {
			t.Fatalf("ListenOn: %v, want a refusal of the untrusted directory", err)
		}
	}
	attacker.Untouched(t, victim)
}

// TestSocketModeIsMadeByTheBind: SocketMode= is the mode bind(2) makes the
// file with (0777 less a umask), as systemd does, whatever the harness's
// own umask; no chmod by path follows.
func TestSocketModeIsMadeByTheBind(t *testing.T) {
	dir := t.TempDir()
	old := unix.Umask(0o022)
	defer unix.Umask(old)
	for _, mode := range []os.FileMode{0o600, 0o666, 0o660} {
		path := filepath.Join(dir, "sub", "s.sock")
		sock := socketUnitAt(t, dir, "[Socket]\nListenStream="+path+"\nSocketMode=0"+octal(mode)+"\nDirectoryMode=0750\n")
		p, err := ListenOn(sock.Listen[0], sock)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Lstat(path)
		if err != nil || st.Mode().Perm() != mode || st.Mode().Type() != os.ModeSocket {
			t.Errorf("SocketMode=%04o: the file is %v (%v)", mode, st.Mode(), err)
		}
		if d, err := os.Stat(filepath.Dir(path)); err != nil || d.Mode().Perm() != 0o750 {
			t.Errorf("DirectoryMode=0750: %v (%v)", d.Mode(), err)
		}
		p.Close()
		if _, err := os.Lstat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the directory made for the socket is left: %v", err)
		}
	}
}

func octal(m os.FileMode) string {
	return string([]byte{'0' + byte(m>>6&7), '0' + byte(m>>3&7), '0' + byte(m&7)})
}
