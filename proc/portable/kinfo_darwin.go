package portable

import "golang.org/x/sys/unix"

// noTerminal is the device number of "no controlling terminal" in a
// process record (NODEV).
const noTerminal = ^uint64(0)

// kinfoTerminal reads process pid's controlling terminal and its
// foreground process group from the kernel's process record (sysctl
// kern.proc.pid.PID): ok is true, as darwin has the record.
func kinfoTerminal(pid int) (rdev uint64, tpgid int, ok bool, err error) {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return 0, 0, true, err
	}
	if k.Eproc.Tdev == -1 {
		return noTerminal, -1, true, nil
	}
	return uint64(uint32(k.Eproc.Tdev)), int(k.Eproc.Tpgid), true, nil
}
