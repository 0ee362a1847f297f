//go:build !linux

package host

import (
	"github.com/dcheck/dcheck/proc"
	"github.com/dcheck/dcheck/proc/portable"
)

// Reader returns the portable reader: there is no /proc to read here.
func Reader() (proc.Reader, error) {
	return portable.Portable{}, nil
}
