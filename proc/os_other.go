//go:build !linux

package proc

import "golang.org/x/sys/unix"

// oPath: there is no O_PATH here; a directory opened to read.
const oPath = unix.O_RDONLY

// isProcMount: no proc file system of Linux's kind here (FreeBSD's
// linprocfs is read as a recorded tree would be: not live).
func isProcMount(string) bool { return false }
