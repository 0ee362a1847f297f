package portable_test

import (
	"testing"

	"github.com/dcheck/dcheck/internal/cleanstart"
)

// Whatever started the tests, what they start inherits nothing of it.
func TestMain(m *testing.M) { cleanstart.Run(m) }
