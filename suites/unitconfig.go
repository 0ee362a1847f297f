package suites

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/unitfile"
)

// validateUnit reads Config.Unit and its drop-ins and takes from them the
// start command, the profile, the pidfile and the timeouts.
func (c *Config) validateUnit() error {
	if c.Unit == "" {
		switch {
		case len(c.DropIns) > 0:
			return fmt.Errorf("--dropin without --unit")
		case c.Socket != "" || len(c.SocketDropIns) > 0:
			return fmt.Errorf("--socket needs --unit: the service unit the socket activates")
		case len(c.Probe) > 0:
			return fmt.Errorf("--probe needs --unit: the unit's Type= says when the daemon is ready")
		}
		return nil
	}
	if c.service != nil {
		return nil // validated before
	}
	switch {
	case len(c.Start) > 0:
		return fmt.Errorf("unit %s: give the unit or a start command, not both", c.Unit)
	case c.InitScript != "":
		return fmt.Errorf("unit %s: give the unit or an init script, not both", c.Unit)
	case c.Stop != "" || c.Restart != "":
		return fmt.Errorf("unit %s: the unit says how the daemon stops (ExecStop=, KillSignal=): give no stop or restart command", c.Unit)
	case c.Launch == LaunchJobControl:
		return fmt.Errorf("unit %s: --launch is how a start command meets a terminal; a unit is started as systemd starts it, with none", c.Unit)
	}
	abs, dropIns := c.abs, c.absAll(c.DropIns)
	svc, err := unitfile.Parse(abs(c.Unit), dropIns...)
	if err != nil {
		return err
	}
	profile := checks.ProfileSupervised
	if svc.Type == unitfile.Forking {
		profile = checks.ProfileSysV
	}
	if c.profileSet && c.Profile != profile {
		return fmt.Errorf("unit %s: Type=%s is verified with profile %s, not %s", c.Unit, svc.Type, profile, c.Profile)
	}
	c.Profile = profile
	env, err := svc.Env()
	if err != nil {
		return fmt.Errorf("unit %s: %w", c.Unit, err)
	}
	path, argv, err := svc.ExecStart[0].Expand(unitfile.EnvMap(env))
	if err != nil {
		return fmt.Errorf("unit %s: ExecStart=: %w", c.Unit, err)
	}
	c.Start = append([]string{path}, argv[1:]...)
	if c.PidFile == "" {
		c.PidFile = svc.PIDFile
	}
	// The unit's timeouts, when it sets them and they are finite; its
	// defaults (90 s) are systemd's patience, not a test's.
	if d := svc.StartTimeout(); d > 0 && d != unitfile.DefaultTimeout {
		c.StartTimeout = d
	}
	if d := svc.StopTimeout(); d > 0 && d != unitfile.DefaultTimeout {
		c.StopTimeout = d
	}
	// A unit that says how it reloads is asked to (SU107).
	if len(svc.ExecReload) > 0 || svc.Type == unitfile.NotifyReload {
		c.Reload = true
	}
	for _, p := range c.Probe {
		if _, _, err := probeAddress(p); err != nil {
			return fmt.Errorf("--probe %s: %v", p, err)
		}
	}
	c.Unit, c.DropIns, c.service = abs(c.Unit), dropIns, svc
	return c.validateSocket()
}

// probeAddress is the network and address a client dials to reach a
// --probe address: a Unix socket for a path or "@name", else TCP.
func probeAddress(s string) (network, addr string, err error) {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "@") && len(s) > 1 {
		return "unix", s, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", "", fmt.Errorf("want HOST:PORT, an absolute Unix socket path or @name")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", "", fmt.Errorf("port %q: want 1 to 65535", port)
	}
	if host == "" {
		host = "127.0.0.1" // ":80": this host
	}
	return "tcp", net.JoinHostPort(host, port), nil
}

// validateSocket reads Config.Socket and its drop-ins: it must activate
// the unit.
func (c *Config) validateSocket() error {
	if c.Socket == "" {
		if len(c.SocketDropIns) > 0 {
			return fmt.Errorf("--socket-dropin without --socket")
		}
		return nil
	}
	dropIns := c.absAll(c.SocketDropIns)
	sock, err := unitfile.ParseSocket(c.abs(c.Socket), dropIns...)
	if err != nil {
		return err
	}
	if want := sock.ActivatedService(); want != c.service.Name {
		return fmt.Errorf("socket %s activates %s, not the unit %s (Service= names the service a socket activates)", c.Socket, want, c.service.Name)
	}
	c.Socket, c.SocketDropIns, c.socket = c.abs(c.Socket), dropIns, sock
	return nil
}
