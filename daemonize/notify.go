package daemonize

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// notifier speaks the sd_notify protocol (sd_notify(3)): newline-separated
// VAR=VALUE assignments, one datagram each, to the Unix socket named by
// NOTIFY_SOCKET ("@name" for the abstract namespace).
//
// It does not send through go-systemd's daemon.SdNotify, which reads
// NOTIFY_SOCKET from the environment at every call: daemonize removes the
// variable at start, so that the daemon's children never speak to the
// supervisor in its name, and still has RELOADING=1, READY=1, WATCHDOG=1
// and STOPPING=1 to send later. The messages are go-systemd's constants,
// and the watchdog's interval is its SdWatchdogEnabled's.
type notifier struct{ addr *net.UnixAddr }

// newNotifier reads NOTIFY_SOCKET and removes it from the environment, so
// that the daemon's own children do not talk to the supervisor in its name.
// It returns nil when the variable is not set.
func newNotifier() *notifier {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	os.Unsetenv("NOTIFY_SOCKET")
	return &notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
}

// send sends one message. A nil notifier sends nothing.
func (n *notifier) send(msg string) error {
	if n == nil {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("NOTIFY_SOCKET %s: %w", n.addr.Name, err)
	}
	defer conn.Close()
	_, err = conn.Write([]byte(msg))
	return err
}

// watchdog sends WATCHDOG=1 every half interval until stop is closed, as
// sd_watchdog_enabled(3) recommends, then closes done. The pings come from
// a goroutine of their own: they say the process runs and is scheduled,
// not that its work goes on.
func (n *notifier) watchdog(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(interval / 2)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			n.send(daemon.SdNotifyWatchdog)
		}
	}
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, which systemd wants
// beside RELOADING=1 (Type=notify-reload).
func monotonicUsec() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return ts.Sec*int64(time.Second/time.Microsecond) + ts.Nsec/int64(time.Microsecond)
}
