package proc

import "golang.org/x/sys/unix"

// oPath opens a directory to read files relative to it, without reading
// the directory itself.
const oPath = unix.O_PATH

// isProcMount reports whether mount is a proc file system.
func isProcMount(mount string) bool {
	var sfs unix.Statfs_t
	return unix.Statfs(mount, &sfs) == nil && sfs.Type == unix.PROC_SUPER_MAGIC
}
