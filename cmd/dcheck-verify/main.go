// Command dcheck-verify is the conformance suite's program: "dcheck verify
// ARGS" runs it with ARGS, and it takes the same flags (dcheck help
// verify). It is a binary of its own so that dcheck's other commands start
// without the suite; install it beside dcheck (go install ./cmd/...).
package main

import (
	"os"

	"github.com/dcheck/dcheck/cmd/dcheck/cli"
	"github.com/dcheck/dcheck/cmd/dcheck/cli/verify"
)

func main() {
	os.Exit(int(cli.RunCommand("verify", verify.Run, os.Args[1:], cli.StdIO())))
}
