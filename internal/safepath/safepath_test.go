//go:build linux

package safepath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/attacker"
)

func TestComponentsRefuseWhatSystemdRefuses(t *testing.T) {
	for _, rel := range []string{"", ".", "./", "a/.", "a/../b", "..", "/abs", "a//b", "a/"} {
		if _, err := Components(rel); !errors.Is(err, ErrComponent) {
			t.Errorf("Components(%q): %v, want ErrComponent", rel, err)
		}
	}
	if parts, err := Components("a/b"); err != nil || len(parts) != 2 {
		t.Errorf("Components(a/b) = %q, %v", parts, err)
	}
}

// tree makes a directory root can trust below t.TempDir, reachable by
// nobody, and a root victim file beside it.
func tree(t *testing.T) (top, victim string) {
	t.Helper()
	attacker.Need(t)
	top = t.TempDir()
	attacker.Reachable(top)
	return top, attacker.Victim(t, top)
}

func TestOpenDirRefusesWhatAnotherUserControls(t *testing.T) {
	top, victim := tree(t)
	theirs := attacker.Dir(t, top, "theirs")
	if out, err := attacker.Run(t, `mkdir "$1/inner" && ln -s "$2" "$1/link"`, theirs, filepath.Dir(victim)); err != nil {
		t.Fatalf("attacker: %v %s", err, out)
	}
	open := filepath.Join(top, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	sticky := filepath.Join(top, "sticky")
	os.Mkdir(sticky, 0o755)
	os.Chmod(sticky, os.ModeSticky|0o777)
	os.Mkdir(filepath.Join(sticky, "roots"), 0o755)
	if out, err := attacker.Run(t, `mkdir "$1/planted"`, sticky); err != nil {
		t.Fatalf("attacker: %v %s", err, out)
	}
	for _, tc := range []struct {
		name, path string
		trust      Trust
		want       error
	}{
		{"a directory another user owns", theirs, nil, ErrUntrusted},
		{"below a directory another user owns", filepath.Join(theirs, "inner"), nil, ErrUntrusted},
		{"a symbolic link the other user planted", filepath.Join(theirs, "link"), Trust{attacker.Nobody}, ErrSymlink},
		{"a directory all may write, not sticky", open, nil, ErrUntrusted},
		{"another user's entry in a sticky directory", filepath.Join(sticky, "planted"), nil, ErrUntrusted},
		{"a file for a directory", victim, nil, ErrNotDir},
	} {
		f, err := OpenDir(tc.path, tc.trust)
		if f != nil {
			f.Close()
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: OpenDir(%s) = %v, want %v", tc.name, tc.path, err, tc.want)
		}
	}
	for _, ok := range []struct {
		path  string
		trust Trust
	}{{filepath.Join(sticky, "roots"), nil}, {filepath.Join(theirs, "inner"), Trust{attacker.Nobody}}} {
		f, err := OpenDir(ok.path, ok.trust)
		if err != nil {
			t.Errorf("OpenDir(%s, %v): %v", ok.path, ok.trust, err)
			continue
		}
		f.Close()
	}
}

func TestMkdirAllMakesModesThroughDescriptors(t *testing.T) {
	top, _ := tree(t)
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	base, err := OpenDir(top, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	dir, made, err := MkdirAll(base, "a/b", 0o755, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if len(made) != 2 || !made[0].New || !made[1].New || made[1].Path != filepath.Join(top, "a/b") {
		t.Errorf("made %+v", made)
	}
	for _, p := range []string{"a", "a/b"} {
		if st, err := os.Stat(filepath.Join(top, p)); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v, want 0755 whatever the umask", p, st.Mode(), err)
		}
	}
	if err := Apply(dir, 0o2750, attacker.Nobody, attacker.Nobody); err != nil {
		t.Fatal(err)
	}
	st, err := StatOf(dir)
	if err != nil || st != (Stat{Mode: 0o2750, UID: attacker.Nobody, GID: attacker.Nobody}) {
		t.Errorf("after Apply: %+v %v", st, err)
	}
	// a/b is nobody's now, in root's a: entered again, not made.
	again, made, err := MkdirAll(base, "a/b", 0o755, nil)
	if err != nil || len(made) != 2 || made[0].New || made[1].New {
		t.Errorf("second MkdirAll: %+v %v; want both found", made, err)
	} else {
		again.Close()
	}
}

// TestRemoveAllNeverFollowsALinkPlantedInside: what the daemon put in its
// directory is removed, not what its links name.
func TestRemoveAllNeverFollowsALinkPlantedInside(t *testing.T) {
	top, victim := tree(t)
	base, err := OpenDir(top, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	run := attacker.Dir(t, top, "run")
	if out, err := attacker.Run(t, `cd "$1" && mkdir -p d/e && ln -s "$2" d/e/link && ln -s "$3" dirlink`, run, victim, filepath.Dir(victim)); err != nil {
		t.Fatalf("attacker: %v %s", err, out)
	}
	if err := RemoveAll(base, "run/dirlink/victim", Trust{attacker.Nobody}); !errors.Is(err, ErrSymlink) {
		t.Errorf("a path through a planted link: %v, want ErrSymlink", err)
	}
	if err := RemoveAll(base, "run", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(run); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there: %v", run, err)
	}
	attacker.Untouched(t, victim)
	if err := RemoveAll(base, "run", nil); err != nil {
		t.Errorf("removing what is gone: %v", err)
	}
}

// TestWriteFileReplacesALinkWithoutFollowingIt: a link planted at the
// file's name is replaced; the file it names is untouched.
func TestWriteFileReplacesALinkWithoutFollowingIt(t *testing.T) {
	top, victim := tree(t)
	dir := attacker.Dir(t, top, "textfile")
	if out, err := attacker.Run(t, `ln -s "$2" "$1/out.prom"`, dir, victim); err != nil {
		t.Fatalf("attacker: %v %s", err, out)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	if err := WriteFile(f, "out.prom", []byte("x 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	attacker.Untouched(t, victim)
	st, err := os.Lstat(filepath.Join(dir, "out.prom"))
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o644 {
		t.Errorf("out.prom: %v %v, want a regular file of mode 0644", st.Mode(), err)
	}
	if err := WriteFile(f, "../x", nil, 0o644); !errors.Is(err, ErrComponent) {
		t.Errorf("a name with a slash: %v", err)
	}
}

// TestReadRegularNeverWaits: a FIFO another user planted is refused
// without waiting for a writer; a link is refused with nofollow; a
// device is no regular file; a file over the bound is refused.
func TestReadRegularNeverWaits(t *testing.T) {
	top, victim := tree(t)
	dir := attacker.Dir(t, top, "theirs")
	if out, err := attacker.Run(t, `mkfifo "$1/fifo" && ln -s "$2" "$1/link" && printf 12345 >"$1/five"`, dir, victim); err != nil {
		t.Fatalf("attacker: %v %s", err, out)
	}
	for _, tc := range []struct {
		path     string
		max      int64
		nofollow bool
		want     error
	}{
		{filepath.Join(dir, "fifo"), 10, false, ErrNotRegular},
		{filepath.Join(dir, "link"), 100, true, ErrSymlink},
		{"/dev/zero", 10, false, ErrNotRegular},
		{filepath.Join(dir, "five"), 4, false, ErrTooLarge},
	} {
		if _, err := ReadRegular(tc.path, tc.max, tc.nofollow); !errors.Is(err, tc.want) {
			t.Errorf("ReadRegular(%s): %v, want %v", tc.path, err, tc.want)
		}
	}
	if b, err := ReadRegular(filepath.Join(dir, "five"), 5, true); err != nil || string(b) != "12345" {
		t.Errorf("a file of the bound's size: %q %v", b, err)
	}
	attacker.Untouched(t, victim)
}

// TestUnlinkNeverFollowsALinkOnTheWay: nobody owns the pidfile's
// directory and turns a component of the path into a link to where a root
// file of the pidfile's name lies; removing the pidfile by path (as the
// harness's teardown did, with os.Remove) removed the root file. Unlink
// refuses the link and the root file stays; a link at the last component
// is removed itself, its target untouched; the daemon's own file is
// removed; a missing one is no error.
func TestUnlinkNeverFollowsALinkOnTheWay(t *testing.T) {
	top, victim := tree(t)
	run := attacker.Dir(t, top, "run")
	name := filepath.Base(victim)
	if out, err := attacker.Run(t, `cd "$1" && ln -s "$2" sub && ln -s "$3" last.pid && echo 1 >own.pid`, run, filepath.Dir(victim), victim); err != nil {
		t.Fatalf("attacker: %v %s", err, out)
	}
	if err := Unlink(filepath.Join(run, "sub", name)); !errors.Is(err, ErrSymlink) {
		t.Errorf("a path through a planted link: %v, want ErrSymlink", err)
	}
	if err := Unlink(filepath.Join(run, "last.pid")); err != nil {
		t.Errorf("a link at the last component: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(run, "last.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the link at the last component is still there: %v", err)
	}
	attacker.Untouched(t, victim)
	if err := Unlink(filepath.Join(run, "own.pid")); err != nil {
		t.Errorf("the daemon's own file: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(run, "own.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("own.pid is still there: %v", err)
	}
	if err := Unlink(filepath.Join(run, "own.pid")); err != nil {
		t.Errorf("removing what is gone: %v", err)
	}
	if err := Unlink("relative/x.pid"); !errors.Is(err, ErrComponent) {
		t.Errorf("a relative path: %v, want ErrComponent", err)
	}
}
