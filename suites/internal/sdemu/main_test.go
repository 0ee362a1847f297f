package sdemu

import (
	"net"
	"os"
	"testing"

	"github.com/dcheck/dcheck/internal/cleanstart"
)

// senderEnv makes the test binary a sender: it sends the variable's
// value to the notify socket at senderSockEnv and exits (notifysocket_test.go).
const (
	senderEnv     = "SDEMU_TEST_SEND"
	senderSockEnv = "SDEMU_TEST_SOCKET"
)

// Whatever started the tests (umask 077 under CI), what they make and
// start is as a clean start makes it: the attacker, nobody, must reach
// the test's directories to swap them.
func TestMain(m *testing.M) {
	if msg, ok := os.LookupEnv(senderEnv); ok {
		c, err := net.Dial("unixgram", os.Getenv(senderSockEnv))
		if err == nil {
			_, err = c.Write([]byte(msg))
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	cleanstart.Run(m)
}
