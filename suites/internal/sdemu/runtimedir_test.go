//go:build linux

package sdemu

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dcheck/dcheck/internal/attacker"
	"github.com/dcheck/dcheck/internal/safepath"
	"github.com/dcheck/dcheck/unitfile"
)

// TestRuntimeDirectoryNeverFollowsTheDaemonsLink: with User=nobody the
// daemon owns its runtime directory after the first start. It replaces
// the subdirectory foo/sub with a symbolic link to a root file of mode
// 0600; the next start's preparation (Lstat, then Chmod and Chown by
// path) made the victim nobody's and 0755 in 3 of 3 runs. Now the next
// start is refused, naming the link, and the victim stays root's.
func TestRuntimeDirectoryNeverFollowsTheDaemonsLink(t *testing.T) {
	attacker.Need(t)
	top := t.TempDir()
	victim := attacker.Victim(t, top)
	run := filepath.Join(top, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	attacker.Reachable(top)
	svc := &unitfile.Service{User: "nobody", RuntimeDirectory: []string{"foo", "foo/sub"}, RuntimeDirectoryMode: 0o750}
	r := &RuntimeDirs{Root: run}
	if err := r.Prepare(svc); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"foo", "foo/sub"} {
		st := statOf(t, filepath.Join(run, d))
		if st.UID != attacker.Nobody || st.Mode != 0o750 {
			t.Errorf("%s after the first start: %+v, want nobody's, 0750", d, st)
		}
	}
	if out, err := attacker.Run(t, `cd "$1" && rmdir foo/sub && ln -s "$2" foo/sub`, run, victim); err != nil {
		t.Fatalf("the daemon's swap: %v %s", err, out)
	}
	err := r.Prepare(svc)
	if !errors.Is(err, safepath.ErrSymlink) {
		t.Errorf("the next start: %v, want a refusal of the link (ErrSymlink)", err)
	}
	attacker.Untouched(t, victim)
	if errs := r.Remove(); len(errs) > 0 {
		t.Errorf("cleanup: %v", errs)
	}
	if _, err := os.Lstat(filepath.Join(run, "foo")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the run's foo is still there: %v", err)
	}
	attacker.Untouched(t, victim)
}

// TestRuntimeDirectoryThatWasThereIsGivenBack: a directory the run did not
// make keeps what is in it and gets its mode and owner back at the end.
func TestRuntimeDirectoryThatWasThereIsGivenBack(t *testing.T) {
	attacker.Need(t)
	run := t.TempDir()
	os.Chmod(run, 0o755)
	there := filepath.Join(run, "there")
	if err := os.Mkdir(there, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(there, 0o700)
	os.WriteFile(filepath.Join(there, "keep"), nil, 0o600)
	r := &RuntimeDirs{Root: run}
	if err := r.Prepare(&unitfile.Service{User: "nobody", RuntimeDirectory: []string{"there"}}); err != nil {
		t.Fatal(err)
	}
	if st := statOf(t, there); st.UID != attacker.Nobody || st.Mode != 0o755 {
		t.Errorf("during the run: %+v, want nobody's, 0755 (systemd's default mode)", st)
	}
	if errs := r.Remove(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if st := statOf(t, there); st.UID != 0 || st.Mode != 0o700 {
		t.Errorf("after the run: %+v, want root's, 0700 as before", st)
	}
	if _, err := os.Stat(filepath.Join(there, "keep")); err != nil {
		t.Errorf("what was in it: %v", err)
	}
}

// TestRuntimeDirectoryInASharedDirectory: /run/lock is sticky and
// writable by all. An entry another user made there before the run is
// theirs to replace at any time: refused, not taken over.
func TestRuntimeDirectoryInASharedDirectory(t *testing.T) {
	attacker.Need(t)
	run := t.TempDir()
	os.Chmod(run, 0o755)
	lock := filepath.Join(run, "lock")
	os.Mkdir(lock, 0o755)
	os.Chmod(lock, os.ModeSticky|0o777)
	attacker.Reachable(run)
	if out, err := attacker.Run(t, `mkdir "$1/foo"`, lock); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	r := &RuntimeDirs{Root: run}
	err := r.Prepare(&unitfile.Service{RuntimeDirectory: []string{"lock/foo"}})
	if !errors.Is(err, safepath.ErrUntrusted) {
		t.Errorf("another user's lock/foo: %v, want ErrUntrusted", err)
	}
	if st := statOf(t, filepath.Join(lock, "foo")); st.UID != attacker.Nobody {
		t.Errorf("lock/foo changed hands: %+v", st)
	}
	if err := r.Prepare(&unitfile.Service{RuntimeDirectory: []string{"lock/mine"}}); err != nil {
		t.Errorf("a new lock/mine: %v", err)
	}
	r.Remove()
	if _, err := os.Lstat(filepath.Join(lock, "mine")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock/mine is still there: %v", err)
	}
}

func statOf(t *testing.T, path string) safepath.Stat {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := safepath.StatOf(f)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
