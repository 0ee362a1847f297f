//go:build !linux

package hostile

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// OpenPTY is not implemented here: it uses Linux's pty ioctls.
func OpenPTY() (ptm, pts *os.File, err error) {
	return nil, nil, fmt.Errorf("opening a pty on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
