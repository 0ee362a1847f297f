package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dcheck/dcheck/internal/cleanstart"
)

// Whatever started the tests, what they start inherits nothing of it.
// "dcheck verify" runs the dcheck-verify built here.
func TestMain(m *testing.M) {
	cleanstart.Main()
	dir, err := os.MkdirTemp("", "dcheck-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	verifyPath = filepath.Join(dir, VerifyProgram)
	if out, err := exec.Command("go", "build", "-o", verifyPath, "../../dcheck-verify").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building dcheck-verify: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
