package cli

import (
	"os"
	"testing"

	"github.com/dcheck/dcheck/internal/cleanstart"
)

// TestMain gives the tests the start they assume, whatever started them
// (a terminal, nohup, a CI runner): the processes they start inherit no
// descriptor, ignored or blocked signal, or umask of it.
func TestMain(m *testing.M) {
	cleanstart.Main()
	os.Exit(m.Run())
}
