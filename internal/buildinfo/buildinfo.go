// Package buildinfo says which dcheck this is, from what the Go toolchain
// recorded in the binary (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	gobuildinfo "debug/buildinfo"
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
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{GoVersion: runtime.Version()}
	}
	return from(bi)
})

// ReadFile returns the build information recorded in the Go binary at
// path (dcheck-verify's, for dcheck).
func ReadFile(path string) (Info, error) {
	bi, err := gobuildinfo.ReadFile(path)
	if err != nil {
		return Info{}, err
	}
	return from(bi), nil
}

func from(bi *debug.BuildInfo) Info {
	info := Info{Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}
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
}

// Version is the version in one word: the module version dcheck was built
// at; for a build from a checkout, "devel" and the commit ("devel
// 1a2b3c4d5e6f", "+dirty" with uncommitted changes); "devel" when the
// toolchain recorded neither.
func Version() string { return Read().Word() }

// Word is i's version in one word, as Version says it.
func (i Info) Word() string {
	if v := i.Version; v != "" && v != "(devel)" {
		return v
	}
	if i.Revision == "" {
		return "devel"
	}
	v := "devel " + i.Revision[:min(12, len(i.Revision))]
	if i.Modified {
		v += "+dirty"
	}
	return v
}

// Same reports whether a and b were built from the same source as far as
// the toolchain recorded it: the same version word (module version, or
// commit and whether the checkout was modified). A build that recorded
// neither ("devel": go run, a test's build) is taken for the same:
// nothing says otherwise.
func Same(a, b Info) bool {
	wa, wb := a.Word(), b.Word()
	return wa == "devel" || wb == "devel" || wa == wb
}
