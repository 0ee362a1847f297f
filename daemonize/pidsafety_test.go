package daemonize_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/daemonize"
	"github.com/dcheck/dcheck/proc"
)

// TestPidfileSafetyHasOneDefinition: daemonize (which refuses to trust a
// pidfile) and DC302 (which fails a daemon for one) judged unsafe pidfiles
// by two sets of rules: a directory writable by group, or owned by
// another user, passed DC302 and was refused by daemonize; a pidfile of
// mode 0666 failed DC302 and was read and signalled through by daemonize.
// Both now use internal/pidsafety. Each case is made for real (the other
// user is nobody, 65534) and judged by both, for a daemon running as root.
func TestPidfileSafetyHasOneDefinition(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to nobody")
	}
	const nobody = 65534
	cases := []struct {
		name             string
		dirMode          os.FileMode
		dirUID, dirGID   int
		fileMode         os.FileMode
		fileUID          int
		safe             bool
		dc302Says, dSays string
	}{
		{"root's directory, root's pidfile", 0o755, 0, 0, 0o644, 0, true, "", ""},
		{"a directory others can write", 0o777, 0, 0, 0o644, 0, false, "writable by others", "writable by others"},
		{"a directory its group can write", 0o775, 0, nobody, 0o644, 0, false, "writable by group 65534", "writable by group 65534"},
		{"a directory root's group can write", 0o775, 0, 0, 0o644, 0, true, "", ""},
		{"a directory nobody owns", 0o755, nobody, 0, 0o644, 0, false, "owned by uid 65534", "owned by uid 65534"},
		{"a sticky directory, root's pidfile", os.ModeSticky | 0o777, 0, 0, 0o644, 0, true, "", ""},
		{"a sticky directory, nobody's pidfile", os.ModeSticky | 0o777, 0, 0, 0o644, nobody, false, "belongs to uid 65534", "belongs to uid 65534"},
		{"nobody's pidfile in root's directory", 0o755, 0, 0, 0o644, nobody, false, "belongs to uid 65534", "belongs to uid 65534"},
		{"a pidfile anyone can write", 0o755, 0, 0, 0o666, 0, false, "writable by group or others", "writable by group or others"},
	}
	rule, ok := checks.Lookup("DC302")
	if !ok {
		t.Fatal("no rule DC302")
	}
	root := &proc.Snapshot{PID: os.Getpid()}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			pidfile := filepath.Join(dir, "d.pid")
			if err := os.WriteFile(pidfile, []byte("4194304\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, err := range []error{os.Chown(pidfile, c.fileUID, 0), os.Chmod(pidfile, c.fileMode),
				os.Chown(dir, c.dirUID, c.dirGID), os.Chmod(dir, c.dirMode)} {
				if err != nil {
					t.Fatal(err)
				}
			}

			pf, err := proc.ReadPidFile(pidfile)
			if err != nil {
				t.Fatal(err)
			}
			res := rule.Check(&checks.Evidence{Process: root, PidFile: pf}, &checks.Policy{})
			switch {
			case c.safe && res.Status != checks.Pass:
				t.Errorf("DC302: %s %q, want pass", res.Status, res.Message)
			case !c.safe && (res.Status != checks.Fail || !strings.Contains(res.Message, c.dc302Says)):
				t.Errorf("DC302: %s %q, want fail saying %q", res.Status, res.Message, c.dc302Says)
			}

			_, err = daemonize.StatusOf(pidfile)
			switch {
			case c.safe && err != nil:
				t.Errorf("daemonize.StatusOf: %v, want it trusted", err)
			case !c.safe && (!errors.Is(err, daemonize.ErrUnsafePidFile) || !strings.Contains(err.Error(), c.dSays)):
				t.Errorf("daemonize.StatusOf: %v, want ErrUnsafePidFile saying %q", err, c.dSays)
			}
		})
	}
}
