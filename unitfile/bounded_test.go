//go:build linux

package unitfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcheck/dcheck/internal/attacker"
	"github.com/dcheck/dcheck/internal/safepath"
)

// TestEnvironmentFileTheDaemonControls: the daemon (here nobody) owns the
// directory of its unit's EnvironmentFile= and puts something else there
// before the next start. A FIFO hung the start for good (the open waited
// for a writer); a link to a root file of mode 0600 would put root's
// secret in the daemon's environment. Each is refused, saying why, at
// once; the victim is never read.
func TestEnvironmentFileTheDaemonControls(t *testing.T) {
	attacker.Need(t)
	top := t.TempDir()
	victim := attacker.Victim(t, top)
	dir := attacker.Dir(t, top, "etc")
	attacker.Reachable(top)
	unit := write(t, top, "d.service", "[Service]\nEnvironmentFile="+filepath.Join(dir, "env")+"\nExecStart=/bin/true\n")
	s, err := Parse(unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, script string
		want         error
	}{
		{"a FIFO", `rm -f "$1/env"; mkfifo "$1/env"`, safepath.ErrNotRegular},
		{"a link to root's file", `rm -f "$1/env"; ln -s "$2" "$1/env"`, safepath.ErrSymlink},
		{"a directory", `rm -f "$1/env"; mkdir "$1/env"`, safepath.ErrNotRegular},
	} {
		if out, err := attacker.Run(t, tc.script, dir, victim); err != nil {
			t.Fatalf("%s: %v %s", tc.name, err, out)
		}
		env, err := s.Env()
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "EnvironmentFile="+filepath.Join(dir, "env")) {
			t.Errorf("%s: %v (env %q), want %v naming the file", tc.name, err, env, tc.want)
		}
		attacker.Run(t, `rm -rf "$1/env"`, dir)
	}
	attacker.Untouched(t, victim)
}

// TestEnvironmentFileIsBounded: a file of continuation lines took over a
// minute at 5 MB (each line joined to all before it). Up to MaxEnvFile it
// is read in one pass; beyond it, refused.
func TestEnvironmentFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	line := "A=" + strings.Repeat("x", 70) + "\\\n"
	n := (MaxEnvFile - 100) / len(line)
	if err := os.WriteFile(big, []byte(strings.Repeat(line, n)+"end\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Parse(write(t, dir, "d.service", "[Service]\nEnvironmentFile="+big+"\nExecStart=/bin/true\n"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := s.Env()
	if err != nil || len(env) != 2 || len(env[1]) < n*70 {
		t.Errorf("%d continued lines: %d variables, %v", n, len(env), err)
	}
	os.WriteFile(big, []byte(strings.Repeat(line, 2*n)), 0o644)
	if _, err := s.Env(); !errors.Is(err, safepath.ErrTooLarge) {
		t.Errorf("over MaxEnvFile: %v, want ErrTooLarge", err)
	}
}

// TestUnitFilesAreBounded: two million lines took 26 s; a unit file or
// drop-in over MaxUnitFile, or one that is not a regular file, is refused
// naming it.
func TestUnitFilesAreBounded(t *testing.T) {
	dir := t.TempDir()
	big := write(t, dir, "big.service", "[Service]\nExecStart=/bin/true\n"+strings.Repeat("# a comment line\n", MaxUnitFile/16))
	if _, err := Parse(big); !errors.Is(err, safepath.ErrTooLarge) || !strings.Contains(err.Error(), big) {
		t.Errorf("a large unit: %v", err)
	}
	unit := write(t, dir, "d.service", "[Service]\nExecStart=/bin/true\n")
	if _, err := Parse(unit, "/dev/zero"); !errors.Is(err, safepath.ErrNotRegular) {
		t.Errorf("/dev/zero as a drop-in: %v", err)
	}
}
