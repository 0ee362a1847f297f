// Package term answers one question for dcheck's output: is this file a
// terminal (so colour and progress belong on it)?
package term

import "os"

// IsTerminal reports whether f is a terminal: whether it answers the
// request for its terminal attributes.
func IsTerminal(f *os.File) bool { return isTerminal(int(f.Fd())) }
