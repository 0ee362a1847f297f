package daemonize_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNothingHeavy keeps the boundary of what a daemon built with
// daemonize links: the standard library, x/sys, go-systemd's sd_notify,
// and dcheck's small internal helpers (internal/procdir for the few /proc
// lookups it makes). gopsutil came in through proc once, with 103
// packages, and proc itself (dcheck's reader) after that; a library whose
// job is to make a program a correct daemon must not make it pay for a
// process table it never reads.
func TestLinksNothingHeavy(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v (the toolchain is needed to list the dependencies)", err)
	}
	allowed := []string{"golang.org/x/sys/", "github.com/coreos/go-systemd/v22/daemon", "github.com/dcheck/dcheck/daemonize",
		"github.com/dcheck/dcheck/internal/"}
	var deps []string
	for _, p := range strings.Fields(string(out)) {
		deps = append(deps, p)
		ok := false
		for _, a := range allowed {
			ok = ok || p == strings.TrimSuffix(a, "/") || strings.HasPrefix(p, a)
		}
		if !ok {
			t.Errorf("daemonize links %s", p)
		}
	}
	if len(deps) == 0 {
		t.Fatal("go list gave no package: the test looked at nothing")
	}
}
