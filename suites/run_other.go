//go:build !linux

package suites

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	. "github.com/onsi/ginkgo/v2"
)

// ErrUnsupported is why the conformance harness does not run here: it
// traces the start with ptrace(2) options Linux alone has, adopts the
// daemon as a child subreaper (PR_SET_CHILD_SUBREAPER) and holds every
// process by a pidfd. The matchers, BeDaemon and PassRule, do work here,
// through the portable reader.
var ErrUnsupported = fmt.Errorf("dcheck's conformance harness needs Linux (ptrace, a child subreaper, pidfds); this is %s: %w", runtime.GOOS, errors.ErrUnsupported)

// Run skips the test, saying why: the harness needs Linux.
func Run(t *testing.T, cfg Config) { t.Skip(ErrUnsupported.Error()) }

// RunStandalone returns ErrUnsupported: the harness needs Linux.
func RunStandalone(cfg Config, rep Reports) (bool, error) { return false, ErrUnsupported }

// Register adds one container to the caller's Ginkgo tree that skips,
// saying why: the harness needs Linux.
func Register(cfg Config) bool {
	Describe("dcheck conformance", func() {
		It("needs Linux", func() { Skip(ErrUnsupported.Error()) })
	})
	return true
}
