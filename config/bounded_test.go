//go:build linux

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dcheck/dcheck/internal/safepath"
)

// TestLoadIsBounded: --config /dev/zero ran out of memory (3 GB in 7.5 s),
// a FIFO hung, 17 MB took 26 s. Anything but a regular file, and a file
// over MaxFile, is refused without being read.
func TestLoadIsBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte("daemons:\n"+strings.Repeat("  - match: {comm: x}\n", MaxFile/20)), 0o644)
	for path, want := range map[string]error{"/dev/zero": safepath.ErrNotRegular, fifo: safepath.ErrNotRegular, dir: safepath.ErrNotRegular, big: safepath.ErrTooLarge} {
		if _, err := Load(path); !errors.Is(err, want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Load(%s): %v, want %v naming it", path, err, want)
		}
	}
}
