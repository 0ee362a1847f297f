//go:build !linux

package safepath

import (
	"errors"
	"fmt"
	"os"
)

// removeAllIn needs /proc/self/fd, which only Linux has here; nothing
// that calls it runs elsewhere (systemd units are Linux's).
func removeAllIn(dir *os.File, name string) error {
	return fmt.Errorf("removing %s/%s: %w", dir.Name(), name, errors.ErrUnsupported)
}
