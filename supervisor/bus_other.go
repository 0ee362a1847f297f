//go:build !linux

package supervisor

import (
	"errors"
	"fmt"
)

// bus: systemd is Linux's; elsewhere nothing is asked (and godbus is not
// linked).
type bus struct{}

func (bus) close() {}

func (bus) ask(*Systemd, string) (UnitFacts, error) {
	return UnitFacts{}, fmt.Errorf("systemd over D-Bus: %w", errors.ErrUnsupported)
}
