// Package buildinfo says which dcheck this is, from what the Go toolchain
// recorded in the binary (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Info is what the toolchain recorded. A field it did not record is empty.
type Info struct {
	Module    string `json:"module"`             // The main module's path
	Version   string `json:"version"`            // Its version: "v1.2.0" for go install …@v1.2.0, "(devel)" from a checkout
	Revision  string `json:"revision,omitempty"` // The VCS commit built from
	Time      string `json:"time,omitempty"`     // The commit's time, RFC 3339
	Modified  bool   `json:"modified,omitempty"` // The checkout had uncommitted changes
	GoVersion string `json:"go_version"`         // The toolchain, "go1.26.8"
}

// Read returns the binary's build information, read once.
var Read = sync.OnceValue(func() Info {
	info := Info{GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	info.Module, info.Version = bi.Main.Path, bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
})

// Version is the version in one word: the module version dcheck was built
// at; for a build from a checkout, "devel" and the commit ("devel
// 1a2b3c4d5e6f", "+dirty" with uncommitted changes); "devel" when the
// toolchain recorded neither.
func Version() string {
	info := Read()
	if v := info.Version; v != "" && v != "(devel)" {
		return v
	}
	if info.Revision == "" {
		return "devel"
	}
	v := "devel " + info.Revision[:min(12, len(info.Revision))]
	if info.Modified {
		v += "+dirty"
	}
	return v
}
