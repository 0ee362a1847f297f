//go:build linux

package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcheck/dcheck/internal/attacker"
	"github.com/dcheck/dcheck/internal/testclock"
)

// TestEnvironmentValuesStayWithTheirOwner: a token given to nobody's
// daemon in its environment (/proc/PID/environ is 0400 to its owner) must
// not reach whoever reads root's JSON, from dcheck PID or from scan; the
// names do, and --show-env prints the values when asked.
func TestEnvironmentValuesStayWithTheirOwner(t *testing.T) {
	attacker.Need(t)
	secret := fmt.Sprintf("s3cr3t-%d", syscall.Getpid())
	pid := nobodyRuns(t, "sleep", `DCHECK_TEST_TOKEN="$1" setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`, secret)

	for _, args := range [][]string{{"-o", "json", strconv.Itoa(pid)}, {"scan", "-o", "json"}} {
		_, stdout, _ := run(args...)
		if strings.Contains(stdout, secret) {
			t.Errorf("dcheck %s printed nobody's token", strings.Join(args, " "))
		}
		if !strings.Contains(stdout, `"DCHECK_TEST_TOKEN"`) {
			t.Errorf("dcheck %s did not name the variable DCHECK_TEST_TOKEN", strings.Join(args, " "))
		}
	}
	if _, stdout, _ := run("-o", "json", "--show-env", strconv.Itoa(pid)); !strings.Contains(stdout, "DCHECK_TEST_TOKEN="+secret) {
		t.Errorf("dcheck --show-env did not print the environment")
	}
}

// TestHostileNamesNeverReachTheTerminal: nobody's program, named with a
// C1 CSI, a bidi override, an escape and a byte that is not UTF-8, is
// reported in text and Nagios output with those escaped: once, the C1
// and bidi characters reached the terminal, and -o nagios printed a raw
// ESC.
func TestHostileNamesNeverReachTheTerminal(t *testing.T) {
	attacker.Need(t)
	dir := attacker.Dir(t, t.TempDir(), "nobody")
	attacker.Reachable(dir)
	name := "a\u009b31m\u202e\x1b[0m\xff"
	pid := nobodyRuns(t, "a", `cp /bin/sleep "$1/$2" && cd / && setsid "$1/$2" 1000 </dev/null >/dev/null 2>&1 & echo $!`, dir, name)
	for _, args := range [][]string{{strconv.Itoa(pid)}, {"-o", "nagios", strconv.Itoa(pid)}, {"scan"}, {"scan", "-o", "nagios"}} {
		_, stdout, stderr := run(args...)
		if args[0] != "scan" && !strings.Contains(stdout, `\u009b`) && !strings.Contains(stdout, `%C2%9B`) {
			t.Errorf("dcheck %s did not show the name, escaped:\n%s", strings.Join(args, " "), stdout)
		}
		for _, raw := range []string{"\u009b", "\u202e", "\x1b", "\xff"} {
			if strings.Contains(stdout+stderr, raw) {
				t.Errorf("dcheck %s printed %q raw:\n%q", strings.Join(args, " "), raw, stdout)
			}
		}
	}
}

// nobodyRuns runs script as nobody; the script starts a program in the
// background and prints its pid ($!). It returns the pid once the program
// runs (its comm starts with comm: $! is the pid before setsid's exec),
// and kills it when the test ends.
func nobodyRuns(t *testing.T, comm, script string, args ...string) int {
	t.Helper()
	attacker.Need(t)
	out, err := attacker.Run(t, script, args...)
	if err != nil {
		t.Fatalf("nobody's program: %v\n%s", err, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("nobody's program: %q", out)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	deadline := time.Now().Add(testclock.Scale(30 * time.Second))
	for {
		got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.HasPrefix(string(got), comm) {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never ran nobody's program (comm %q)", pid, got)
		}
		time.Sleep(time.Millisecond) // an exec gives no event
	}
}
