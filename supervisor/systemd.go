package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"

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

	once    sync.Once
	conn    *sdbus.Conn
	connErr error
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
func (s *Systemd) Close() {
	if s.conn != nil {
		s.conn.Close()
	}
}

func (s *Systemd) connect() (*sdbus.Conn, error) {
	s.once.Do(func() {
		if s.NoBus {
			s.connErr = errors.New("not asked (the bus is off)")
			return
		}
		// The connection lives as long as the context it is made with
		// (godbus closes it when that ends): the deadline is kept here
		// instead, and a connection that comes too late is closed.
		type result struct {
			conn *sdbus.Conn
			err  error
		}
		ch := make(chan result, 1)
		go func() {
			conn, err := sdbus.NewSystemdConnectionContext(context.Background())
			if err != nil {
				conn, err = sdbus.NewSystemConnectionContext(context.Background())
			}
			ch <- result{conn, err}
		}()
		select {
		case r := <-ch:
			s.conn, s.connErr = r.conn, r.err
		case <-time.After(s.Timeout):
			s.connErr = fmt.Errorf("no connection within %v", s.Timeout)
			go func() {
				if r := <-ch; r.conn != nil {
					r.conn.Close()
				}
			}()
		}
	})
	return s.conn, s.connErr
}

// Unit says how systemd runs the unit name: over the bus for a system
// unit, else from its file.
func (s *Systemd) Unit(name string, userUnit bool, uid int) UnitFacts {
	var busErr error
	if !userUnit {
		facts, err := s.ask(name)
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

// ask asks the system manager for the unit's Type= and MainPID.
func (s *Systemd) ask(name string) (UnitFacts, error) {
	conn, err := s.connect()
	if err != nil {
		return UnitFacts{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	typ, err := conn.GetServicePropertyContext(ctx, name, "Type")
	if err != nil {
		return UnitFacts{}, err
	}
	t, ok := typ.Value.Value().(string)
	if !ok || t == "" {
		return UnitFacts{}, fmt.Errorf("%s: Type is %v, not a name", name, typ.Value)
	}
	facts := UnitFacts{Type: t, Source: "systemd over D-Bus"}
	if main, err := conn.GetServicePropertyContext(ctx, name, "MainPID"); err == nil {
		if pid, ok := main.Value.Value().(uint32); ok {
			facts.MainPID = int(pid)
		}
	}
	return facts, nil
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
	typ, err := unitfile.TypeOf(path, dropIns)
	if err != nil {
		return UnitFacts{Err: err}
	}
	src := "unit file " + path
	if len(dropIns) > 0 {
		src += " and " + strings.Join(dropIns, ", ")
	}
	return UnitFacts{Type: string(typ), Source: src}
}
