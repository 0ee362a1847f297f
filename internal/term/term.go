// Package term answers one question for dcheck's output: is this file a
// terminal (so colour and progress belong on it)?
package term

import (
	"os"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether f is a terminal: whether it answers the
// terminal attributes request (TCGETS).
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
