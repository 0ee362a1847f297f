package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/buildinfo"
)

// VerifyProgram is the conformance suite's program, which "dcheck verify"
// runs: it is its own binary so that every other command starts without
// Ginkgo, Gomega and the suite (see the README's Performance section).
const VerifyProgram = "dcheck-verify"

// verifyPath, when set, is the dcheck-verify to run (the tests build one);
// otherwise it is found beside the running dcheck, then on PATH.
var verifyPath string

// findVerify finds dcheck-verify: beside the running dcheck (as make build,
// go install ./cmd/... and a package install all put it), then on PATH.
func findVerify() (string, error) {
	if verifyPath != "" {
		return verifyPath, nil
	}
	var beside string
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			beside = filepath.Join(filepath.Dir(self), VerifyProgram)
			if st, err := os.Stat(beside); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return beside, nil
			}
		}
	}
	if path, err := exec.LookPath(VerifyProgram); err == nil {
		return path, nil
	}
	where := "on PATH"
	if beside != "" {
		where = "at " + beside + " or on PATH"
	}
	return "", fmt.Errorf("verify: the conformance suite's program, %s, is not installed (looked %s): install it beside dcheck with 'go install github.com/dcheck/dcheck/cmd/...' (from a clone: 'go install ./cmd/...', or 'make build' for bin/)", VerifyProgram, where)
}

// runVerify is "dcheck verify": dcheck-verify with the same arguments.
// Run with the process's own standard streams (the dcheck command), it
// replaces this process, so that it is the very process its caller
// started, signals and exit status included. Run with other writers (a
// test, a program calling Main), it runs as a child writing to them, and
// its exit code is the command's.
func runVerify(args []string, io IO) error {
	path, err := findVerify()
	if err != nil {
		return ExitWith(ExitUninspectable, err)
	}
	if err := sameBuild(path); err != nil {
		return ExitWith(ExitUninspectable, err)
	}
	if io.Out == os.Stdout && io.Err == os.Stderr {
		err := unix.Exec(path, append([]string{VerifyProgram}, args...), os.Environ())
		return ExitWith(ExitUninspectable, fmt.Errorf("verify: running %s: %w", path, err))
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, io.Out, io.Err
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ExitWith(ExitCode(ee.ExitCode()), nil) // it said why
	case err != nil:
		return ExitWith(ExitUninspectable, fmt.Errorf("verify: running %s: %w", path, err))
	}
	return nil
}

// sameBuild refuses a dcheck-verify from another build than this dcheck:
// its catalogue, and so the rules it judges by, may not be the ones that
// "dcheck rules" and "dcheck explain" describe. What a binary does not
// record (a build from a checkout without VCS information, or a wrapper
// that is no Go binary) is not held against it.
func sameBuild(path string) error {
	theirs, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil // not a Go binary (a wrapper): nothing to compare
	}
	if ours := buildinfo.Read(); !buildinfo.Same(ours, theirs) {
		return fmt.Errorf("verify: %s is from another build (%s) than this dcheck (%s): install both from one, with 'go install github.com/dcheck/dcheck/cmd/...' (or 'make build')", path, theirs.Word(), ours.Word())
	}
	return nil
}
