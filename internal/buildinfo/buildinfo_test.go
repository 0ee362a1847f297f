package buildinfo

import (
	"os"
	"testing"
)

// TestSame: two builds are the same when their version words agree; one
// that recorded nothing is not held against the other.
func TestSame(t *testing.T) {
	release := Info{Version: "v1.2.0"}
	clean := Info{Version: "(devel)", Revision: "1a2b3c4d5e6f7a8b"}
	dirty := Info{Version: "(devel)", Revision: "1a2b3c4d5e6f7a8b", Modified: true}
	other := Info{Version: "(devel)", Revision: "ffffffffffff0000"}
	unknown := Info{Version: "(devel)"}
	for _, c := range []struct {
		a, b Info
		same bool
	}{
		{release, release, true},
		{release, Info{Version: "v1.3.0"}, false},
		{clean, clean, true},
		{clean, dirty, false},
		{clean, other, false},
		{release, clean, false},
		{unknown, other, true},
		{release, unknown, true},
	} {
		if got := Same(c.a, c.b); got != c.same {
			t.Errorf("Same(%q, %q) = %v, want %v", c.a.Word(), c.b.Word(), got, c.same)
		}
	}
}

// TestReadFileReadsAGoBinary: the test binary's own build information, read
// from its file, names the module it was built in.
func TestReadFileReadsAGoBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	info, err := ReadFile(exe)
	if err != nil || info.GoVersion == "" {
		t.Errorf("ReadFile(%s) = %+v, %v", exe, info, err)
	}
	if _, err := ReadFile("/dev/null"); err == nil {
		t.Error("/dev/null read as a Go binary")
	}
}
