//go:build linux

// Package attacker is the hostile local user of dcheck's safety tests:
// a shell script run as nobody (uid and gid 65534, no supplementary
// groups) through util-linux's setpriv, beside what dcheck does as root.
// Tests that use it skip, saying why, when they do not run as root or
// setpriv is missing.
package attacker

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Nobody is the attacker's uid and gid.
const Nobody = 65534

// Need skips t unless the test can run an attacker: root, and setpriv.
func Need(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the attacker as nobody beside root")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("no setpriv (Debian package util-linux; .ci/run installs it)")
	}
}

// Run runs script (sh -c, with args as $1, $2, ...) as nobody until it
// exits; it returns its combined output.
func Run(t testing.TB, script string, args ...string) (string, error) {
	t.Helper()
	out, err := command(script, args...).CombinedOutput()
	return string(out), err
}

// Start starts script as nobody in a process group of its own, and kills
// that group (by its id) and reaps the script when the test ends: an
// attacker that loops until stopped.
func Start(t testing.TB, script string, args ...string) {
	t.Helper()
	cmd := command(script, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the attacker: %v", err)
	}
	t.Cleanup(func() {
		unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		cmd.Wait()
	})
}

func command(script string, args ...string) *exec.Cmd {
	argv := append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script, "sh"}, args...)
	return exec.Command("setpriv", argv...)
}

// Reachable makes every directory from dir up to the temporary directory
// (dir must be below it, as t.TempDir is) traversable by nobody:
// t.TempDir's levels are 0700.
func Reachable(dir string) {
	for d := dir; d != os.TempDir() && d != "/" && d != "."; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil {
			os.Chmod(d, st.Mode().Perm()|0o711|os.FileMode(st.Mode()&os.ModeSticky))
		}
	}
}

// Victim makes a root-owned file of mode 0600 in dir (a directory of
// root's) and returns its path: what the attacker tries to reach.
func Victim(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "victim")
	if err := os.WriteFile(path, []byte("root's secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Untouched fails t unless the victim is still root's, mode 0600, with
// its content.
func Untouched(t testing.TB, victim string) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(victim, &st); err != nil {
		t.Fatalf("the victim %s: %v", victim, err)
	}
	if st.Uid != 0 || st.Gid != 0 || st.Mode&0o7777 != 0o600 {
		t.Errorf("the victim %s is now uid %d gid %d mode %04o; want root's, 0600 (root followed the attacker's path)", victim, st.Uid, st.Gid, st.Mode&0o7777)
	}
	if b, _ := os.ReadFile(victim); string(b) != "root's secret\n" {
		t.Errorf("the victim %s now holds %q", victim, b)
	}
}

// Go runs fn on an operating system thread of its own whose user and
// groups are nobody's (root's other threads keep theirs), and waits for
// it to return when the test ends. fn loops until stop is closed: an
// attacker that must act within microseconds of what root does, faster
// than a script can. The thread never becomes root again; it ends with fn.
func Go(t testing.TB, fn func(stop <-chan struct{})) {
	t.Helper()
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with fn
		// Raw system calls change this thread alone; syscall.Setresuid
		// would change every thread of the test.
		for _, c := range [][4]uintptr{
			{unix.SYS_SETGROUPS, 0, 0, 0},
			{unix.SYS_SETRESGID, Nobody, Nobody, Nobody},
			{unix.SYS_SETRESUID, Nobody, Nobody, Nobody},
		} {
			if _, _, e := unix.RawSyscall(c[0], c[1], c[2], c[3]); e != 0 {
				done <- fmt.Errorf("dropping to nobody (system call %d): %v", c[0], e)
				return
			}
		}
		if unix.Access("/proc/1/environ", unix.R_OK) == nil {
			done <- fmt.Errorf("the attacker's thread can still read root's files")
			return
		}
		fn(stop)
		done <- nil
	}()
	t.Cleanup(func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("the attacker: %v", err)
		}
	})
}

// Dir makes the directory name in parent, mode 0755, owned by nobody: a
// directory the attacker controls (a daemon's runtime directory, a service
// user's textfile directory). It returns its path.
func Dir(t testing.TB, parent, name string) string {
	t.Helper()
	path := filepath.Join(parent, name)
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, Nobody, Nobody); err != nil {
		t.Fatal(err)
	}
	return path
}
