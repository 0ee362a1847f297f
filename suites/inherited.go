package suites

import (
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// keepInheritedFromChildren marks every descriptor above 2 that this
// process inherited (from a shell, a CI runner, a test framework) close on
// exec, once. Go opens its own descriptors close-on-exec, but a descriptor
// it inherited without the flag reaches every process it starts, and so
// every daemon of the run: systemd starts a unit with 0, 1 and 2 and its
// sockets alone, and the hostile launch passes exactly the sentinel it
// chose. Without this, what the run gives the daemon, and what DC205 then
// sees, would depend on whoever started dcheck (a fd 10 on /dev/null and a
// pipe from a terminal session reached cron under verify --unit, and
// never under systemd 252). The descriptors stay open here.
var keepInheritedFromChildren = sync.OnceFunc(func() {
	dir, err := os.Open("/dev/fd") // /proc/self/fd on Linux; fdescfs elsewhere
	if err != nil {
		return
	}
	names, _ := dir.Readdirnames(-1)
	self := int(dir.Fd())
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd <= 2 || fd == self {
			continue
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags|unix.FD_CLOEXEC)
		}
	}
	dir.Close()
})
