package safepath

import (
	"fmt"
	"os"
)

// removeAllIn removes name in dir and everything below it. os.RemoveAll
// opens the parent it is given and works from there with openat(2) and
// unlinkat(2), never following a link; given /proc/self/fd/N/name, its
// parent is the directory dir holds open, whatever its path now leads to.
func removeAllIn(dir *os.File, name string) error {
	if err := os.RemoveAll(fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), name)); err != nil {
		return fmt.Errorf("removing %s/%s: %w", dir.Name(), name, err)
	}
	return nil
}
