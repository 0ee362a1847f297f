package daemonize

import (
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// notifier speaks the sd_notify protocol (sd_notify(3)): newline-separated
// VAR=VALUE assignments, one datagram each, to the Unix socket named by
// NOTIFY_SOCKET ("@name" for the abstract namespace).
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

// monotonicUsec is CLOCK_MONOTONIC in microseconds, which systemd wants
// beside RELOADING=1 (Type=notify-reload).
func monotonicUsec() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return ts.Sec*int64(time.Second/time.Microsecond) + ts.Nsec/int64(time.Microsecond)
}
