package supervisor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
)

// bus is the connection to the system manager, made at the first
// question.
type bus struct {
	once    sync.Once
	conn    *sdbus.Conn
	connErr error
}

func (b *bus) close() {
	if b.conn != nil {
		b.conn.Close()
	}
}

func (b *bus) connect(s *Systemd) (*sdbus.Conn, error) {
	b.once.Do(func() {
		if s.NoBus {
			b.connErr = errors.New("not asked (the bus is off)")
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
			b.conn, b.connErr = r.conn, r.err
		case <-time.After(s.Timeout):
			b.connErr = fmt.Errorf("no connection within %v", s.Timeout)
			go func() {
				if r := <-ch; r.conn != nil {
					r.conn.Close()
				}
			}()
		}
	})
	return b.conn, b.connErr
}

// ask asks the system manager for the unit's Type= and MainPID.
func (b *bus) ask(s *Systemd, name string) (UnitFacts, error) {
	conn, err := b.connect(s)
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
	facts := UnitFacts{Type: t, Source: "systemd over D-Bus", Manager: true}
	for prop, pid := range map[string]*int{"MainPID": &facts.MainPID, "ControlPID": &facts.ControlPID} {
		v, err := conn.GetServicePropertyContext(ctx, name, prop)
		if err != nil {
			return UnitFacts{}, err
		}
		n, ok := v.Value.Value().(uint32)
		if !ok {
			return UnitFacts{}, fmt.Errorf("%s: %s is %v, not a pid", name, prop, v.Value)
		}
		*pid = int(n)
	}
	if um, err := conn.GetServicePropertyContext(ctx, name, "UMask"); err == nil {
		if u, ok := um.Value.Value().(uint32); ok {
			facts.UMask = &u
		}
	}
	if pf, err := conn.GetServicePropertyContext(ctx, name, "PIDFile"); err == nil {
		if path, ok := pf.Value.Value().(string); ok {
			facts.PIDFile = path
		}
	}
	return facts, nil
}
