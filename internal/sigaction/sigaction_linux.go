// Package sigaction sets signal dispositions and the signal mask of the
// calling thread directly with rt_sigaction(2) and rt_sigprocmask(2), for a
// process that is about to execve(2).
//
// Ignored signals and the blocked mask survive exec, and Go's os/signal
// cannot hand a signal back to SIG_DFL once the process started with it
// ignored, nor block one: Go's runtime owns both. These calls bypass it, so
// they are only safe right before an exec (or in a process that is about to
// do nothing else): call runtime.LockOSThread first, so that the mask is set
// on the thread that execs.
package sigaction

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	sigDFL = 0 // SIG_DFL
	sigIGN = 1 // SIG_IGN
)

// kernelSigaction is struct sigaction as the kernel takes it on amd64 and
// arm64 (include/uapi/asm-generic/signal.h).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

func set(sig unix.Signal, handler uintptr) error {
	sa := kernelSigaction{handler: handler}
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
	if errno != 0 {
		return fmt.Errorf("rt_sigaction(%d): %w", sig, errno)
	}
	return nil
}

// Default sets each signal's disposition to SIG_DFL.
func Default(sigs ...unix.Signal) error {
	for _, s := range sigs {
		if err := set(s, sigDFL); err != nil {
			return err
		}
	}
	return nil
}

// Ignore sets each signal's disposition to SIG_IGN.
func Ignore(sigs ...unix.Signal) error {
	for _, s := range sigs {
		if err := set(s, sigIGN); err != nil {
			return err
		}
	}
	return nil
}

// SetMask replaces the calling thread's blocked signal mask with sigs.
func SetMask(sigs ...unix.Signal) error {
	var set unix.Sigset_t
	for _, s := range sigs {
		set.Val[(s-1)/64] |= 1 << ((uint(s) - 1) % 64)
	}
	return unix.PthreadSigmask(unix.SIG_SETMASK, &set, nil)
}

// IsIgnored reports whether sig's disposition is SIG_IGN.
func IsIgnored(sig unix.Signal) (bool, error) {
	var old kernelSigaction
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	if errno != 0 {
		return false, fmt.Errorf("rt_sigaction(%d): %w", sig, errno)
	}
	return old.handler == sigIGN, nil
}

// BlockOnThread adds sigs to the calling thread's blocked mask and returns
// a function that restores the previous mask. The caller must hold the
// thread (runtime.LockOSThread) until it has called restore: a fork made in
// between gives the child the blocked mask.
func BlockOnThread(sigs ...unix.Signal) (restore func(), err error) {
	var set, old unix.Sigset_t
	for _, s := range sigs {
		set.Val[(s-1)/64] |= 1 << ((uint(s) - 1) % 64)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		return nil, err
	}
	return func() { unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil) }, nil
}
