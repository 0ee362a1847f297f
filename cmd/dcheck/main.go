// Command dcheck tells whether a Unix process is a correct daemon.
// Run "dcheck help" for usage.
package main

import (
	"os"

	"github.com/dcheck/dcheck/cmd/dcheck/cli"
)

func main() {
	os.Exit(int(cli.Main(os.Args[1:], cli.StdIO())))
}
