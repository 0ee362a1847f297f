package reaper

import "golang.org/x/sys/unix"

// AwaitExit returns once pid, a child of this process, has exited,
// leaving it a zombie for its waiter to reap (waitid with WNOWAIT): until
// then it is still in /proc, its parents with it.
func AwaitExit(pid int) {
	var info unix.Siginfo
	for unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
	}
}
