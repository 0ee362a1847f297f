package daemonize

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
)

// ErrStopSignal is the cause (context.Cause) of a SignalContext's context
// cancelled by SIGTERM or SIGINT; it is wrapped with the signal's name.
var ErrStopSignal = errors.New("stopped by signal")

// SignalContext returns a context cancelled by SIGTERM or SIGINT (its cause
// wraps ErrStopSignal and names the signal), and handles SIGHUP as a
// reload: RELOADING=1 to the supervisor, the log files reopened, Reload
// called, READY=1. Call the returned stop function when done; it restores
// the signals' default handling.
func (d *Daemon) SignalContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-ch:
				if s == syscall.SIGHUP {
					if err := d.reload(); err != nil {
						fmt.Fprintf(os.Stderr, "reload: %v\n", err)
					}
					continue
				}
				cancel(fmt.Errorf("%w: %v", ErrStopSignal, s))
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(context.Canceled)
	}
}

// reload reopens the log files and calls Reload, between RELOADING=1 and
// READY=1 for the supervisor.
func (d *Daemon) reload() error {
	d.notify.send(fmt.Sprintf("%s\nMONOTONIC_USEC=%d", sddaemon.SdNotifyReloading, monotonicUsec()))
	defer d.notify.send(sddaemon.SdNotifyReady)
	if err := d.openLogs(); err != nil {
		return err
	}
	if d.Reload != nil {
		return d.Reload()
	}
	return nil
}
