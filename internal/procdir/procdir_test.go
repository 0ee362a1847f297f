//go:build linux

package procdir

import (
	"os"
	"slices"
	"testing"
)

// TestSplitStat: a comm may hold spaces and parentheses (a program named
// "a) (b"): it ends at the last ')', and what follows splits into fields.
func TestSplitStat(t *testing.T) {
	pid, comm, rest, err := SplitStat([]byte("42 (a) (b) S 1 42 42 0 -1\n"), nil)
	if err != nil || pid != 42 || string(comm) != "a) (b" || len(rest) != 6 || string(rest[0]) != "S" {
		t.Errorf("pid %d comm %q rest %q err %v", pid, comm, rest, err)
	}
	for _, bad := range []string{"", "42 no comm", "x (a) S"} {
		if _, _, _, err := SplitStat([]byte(bad), nil); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestLookupsOfThisProcess: the lookups daemonize makes, on this process.
func TestLookupsOfThisProcess(t *testing.T) {
	pids, err := Numeric(Mount)
	if err != nil || !slices.Contains(pids, os.Getpid()) {
		t.Errorf("pids: %v (own pid %d listed: %v)", err, os.Getpid(), slices.Contains(pids, os.Getpid()))
	}
	fds, err := Numeric(Mount + "/self/fd")
	if err != nil || !slices.Contains(fds, 0) {
		t.Errorf("fds %v: %v", fds, err)
	}
	start, end, err := EnvRange(os.Getpid())
	if err != nil || start == 0 || end <= start {
		t.Errorf("environment at %#x..%#x: %v", start, end, err)
	}
}
