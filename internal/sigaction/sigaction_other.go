//go:build !linux

// Package sigaction sets signal dispositions and the signal mask of the
// calling thread directly, where Go's os/signal cannot (see the Linux
// implementation). On this system x/sys offers neither sigaction(2) nor a
// thread's sigprocmask, and Go's runtime keeps a signal ignored at start
// ignored: every call fails with ErrUnsupported.
package sigaction

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// ErrUnsupported is returned by every call on this system.
var ErrUnsupported = fmt.Errorf("signal dispositions and masks cannot be set directly on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// Default would set each signal's disposition to SIG_DFL.
func Default(...unix.Signal) error { return ErrUnsupported }

// Ignore would set each signal's disposition to SIG_IGN.
func Ignore(...unix.Signal) error { return ErrUnsupported }

// SetMask would replace the calling thread's blocked signal mask.
func SetMask(...unix.Signal) error { return ErrUnsupported }

// IsIgnored would report whether sig's disposition is SIG_IGN.
func IsIgnored(unix.Signal) (bool, error) { return false, ErrUnsupported }

// BlockOnThread would add sigs to the calling thread's blocked mask.
func BlockOnThread(...unix.Signal) (func(), error) { return func() {}, ErrUnsupported }
