package sdemu

import (
	"testing"

	"github.com/dcheck/dcheck/internal/cleanstart"
)

// Whatever started the tests (umask 077 under CI), what they make and
// start is as a clean start makes it: the attacker, nobody, must reach
// the test's directories to swap them.
func TestMain(m *testing.M) { cleanstart.Run(m) }
