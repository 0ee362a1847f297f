package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dcheck/dcheck/suites"
)

// bin is the daemon under test, built once by TestMain: the suite runs
// the real binary, as its users will.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mydaemon-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755) // the daemon may run as another user
	bin = filepath.Join(dir, "mydaemon")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestConformance runs dcheck's whole suite against mydaemon: every static
// rule and every lifecycle spec. Select specs with -ginkgo.label-filter.
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	pidfile, socket := filepath.Join(dir, "mydaemon.pid"), filepath.Join(dir, "mydaemon.sock")
	cfg := suites.NewConfig()
	cfg.Start = []string{bin, "start", "-pidfile", pidfile, "-socket", socket}
	cfg.PidFile = pidfile
	cfg.Stop = bin + " stop -pidfile " + pidfile
	cfg.Strict = true // warnings fail too
	suites.Run(t, cfg)
}
