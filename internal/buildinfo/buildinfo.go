// Package buildinfo says which dcheck this is, from what the Go toolchain
// recorded in the binary.
package buildinfo

import (
	"runtime/debug"
	"sync"
)

// Version is the module version dcheck was built at ("v1.2.0" for go
// install …@v1.2.0); for a build from a checkout, the commit ("devel
// 1a2b3c4d5e6f", "+dirty" when it had uncommitted changes); "devel" when
// the toolchain recorded neither.
var Version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel " + rev[:min(12, len(rev))] + dirty
})
