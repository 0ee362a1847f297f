// Package sessionenv is the one list of environment variables that belong
// to a login session and not to a daemon: what DC501 looks for, what
// daemonize.SanitizedEnv removes, and what the harness keeps from a
// supervisor's clean environment.
package sessionenv

import (
	"slices"
	"strings"
)

// Names are the variables that only make sense in a login session.
var Names = []string{"TERM", "DISPLAY", "WINDOWID", "OLDPWD"}

// Prefixes start the names of whole families of them.
var Prefixes = []string{"SSH_", "XDG_SESSION_"}

// Is reports whether the variable name belongs to a login session.
func Is(name string) bool {
	return slices.Contains(Names, name) || slices.ContainsFunc(Prefixes, func(p string) bool { return strings.HasPrefix(name, p) })
}

// InEntry reports whether the environment entry "NAME=value" is one.
func InEntry(kv string) bool {
	name, _, _ := strings.Cut(kv, "=")
	return Is(name)
}
