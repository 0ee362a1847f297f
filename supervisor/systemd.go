package supervisor

import (
	"fmt"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/dcheck/dcheck/unitfile"
)

// Systemd says how systemd runs a unit: it asks the system manager over
// D-Bus (its private socket, /run/systemd/private, as root; the system
// bus otherwise) and reads the unit file through package unitfile when
// the bus cannot be reached or does not answer in time. A user's units
// (systemd --user) are read from their files: their manager is on the
// user's own bus. The zero value is not usable: call NewSystemd.
type Systemd struct {
	// Timeout bounds the connection and each question: dcheck never
	// hangs on the bus.
	Timeout time.Duration
	// SearchPath is where system units are read from when the bus cannot
	// say: unitfile.SystemSearchPath when nil. UserSearchPath, likewise,
	// for the units of the user with the given home directory.
	SearchPath     []string
	UserSearchPath func(home string) []string

	// NoBus keeps the bus out: only the files are read.
	NoBus bool

	bus bus // the connection, on Linux
}

// NewSystemd returns a Systemd that asks the bus with a deadline of two
// seconds, and reads the system and user search paths.
func NewSystemd() *Systemd {
	return &Systemd{Timeout: 2 * time.Second, UserSearchPath: UserSearchPath}
}

// UserSearchPath is where a user's systemd --user loads unit files from
// (systemd.unit(5)), for the user whose home is home.
func UserSearchPath(home string) []string {
	dirs := []string{}
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".config/systemd/user"))
	}
	return append(dirs, "/etc/systemd/user", "/run/systemd/user", "/usr/local/lib/systemd/user", "/usr/lib/systemd/user", "/lib/systemd/user")
}

// Close closes the connection to the bus, if one was made.
func (s *Systemd) Close() { s.bus.close() }

// Unit says how systemd runs the unit name: over the bus for a system
// unit, else from its file.
func (s *Systemd) Unit(name string, userUnit bool, uid int) UnitFacts {
	var busErr error
	if !userUnit {
		facts, err := s.bus.ask(s, name)
		if err == nil {
			return facts
		}
		busErr = err
	}
	facts := s.read(name, userUnit, uid)
	switch {
	case busErr == nil:
	case facts.Err != nil:
		facts.Err = fmt.Errorf("systemd over D-Bus: %v; %w", busErr, facts.Err)
	default:
		facts.Source += fmt.Sprintf(" (systemd over D-Bus: %v)", busErr)
	}
	return facts
}

// read reads the unit's Type= from its file and drop-ins.
func (s *Systemd) read(name string, userUnit bool, uid int) UnitFacts {
	dirs := s.SearchPath
	if userUnit {
		home := ""
		if u, err := user.LookupId(fmt.Sprint(uid)); err == nil {
			home = u.HomeDir
		}
		dirs = s.UserSearchPath(home)
	}
	path, dropIns, err := unitfile.Find(name, dirs)
	if err != nil {
		return UnitFacts{Err: err}
	}
	rf, err := unitfile.ReadRunFacts(path, dropIns)
	if err != nil {
		return UnitFacts{Err: err}
	}
	src := "unit file " + path
	if len(dropIns) > 0 {
		src += " and " + strings.Join(dropIns, ", ")
	}
	return UnitFacts{Type: string(rf.Type), PIDFile: rf.PIDFile, UMask: &rf.UMask, Source: src}
}
