package cli

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dcheck/dcheck/internal/attacker"
)

// TestEnvironmentValuesStayWithTheirOwner: a token given to nobody's
// daemon in its environment (/proc/PID/environ is 0400 to its owner) must
// not reach whoever reads root's JSON, from dcheck PID or from scan; the
// names do, and --show-env prints the values when asked.
func TestEnvironmentValuesStayWithTheirOwner(t *testing.T) {
	attacker.Need(t)
	secret := fmt.Sprintf("s3cr3t-%d", syscall.Getpid())
	out, err := attacker.Run(t, `DCHECK_TEST_TOKEN="$1" setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`, secret)
	if err != nil {
		t.Fatalf("nobody's daemon: %v\n%s", err, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("nobody's daemon: %q", out)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

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
