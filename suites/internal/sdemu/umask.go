package sdemu

import (
	"sync"

	"golang.org/x/sys/unix"
)

// umaskMu serializes the umask a command is forked with or a socket file
// bound with: os/exec has no per-command umask, so the supervisor sets its
// own for the instant of the fork or the bind, and no other goroutine may
// set it meanwhile.
var umaskMu sync.Mutex

// WithUmask runs f with the process's umask set to mask, and sets it back.
func WithUmask(mask uint32, f func() error) error {
	umaskMu.Lock()
	defer umaskMu.Unlock()
	old := unix.Umask(int(mask))
	defer unix.Umask(old)
	return f()
}
