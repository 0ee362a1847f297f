package portable

import (
	"runtime"

	"github.com/dcheck/dcheck/proc"
)

// Default is the reader for the running system: its /proc (proc.FS) on
// Linux, else Portable.
func Default() (proc.Reader, error) {
	if runtime.GOOS != "linux" {
		return Portable{}, nil
	}
	fsys, err := proc.NewFS("")
	if err != nil {
		return nil, err
	}
	return fsys, nil
}
