package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStartsLean keeps what the dcheck command links, and so initialises
// at every start, to what judging a pid, scanning a host and writing
// metrics need. The conformance suite (Ginkgo, Gomega, and through them
// go/types, x/tools and go-cmp) is dcheck-verify's; client_golang and
// protobuf were replaced by a writer of the text format (fleet); gopsutil
// is the portable reader, for systems without /proc. With them, "dcheck
// version" cost 3.6 times ps's CPU.
func TestStartsLean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v (the toolchain is needed to list the dependencies)", err)
	}
	heavy := []string{"github.com/onsi/", "github.com/prometheus/", "google.golang.org/protobuf", "github.com/shirou/gopsutil",
		"github.com/google/go-cmp", "golang.org/x/tools", "github.com/dcheck/dcheck/suites", "github.com/dcheck/dcheck/proc/portable"}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list gave no package: the test looked at nothing")
	}
	for _, p := range deps {
		for _, h := range heavy {
			if strings.HasPrefix(p, h) {
				t.Errorf("dcheck links %s", p)
			}
		}
	}
}
