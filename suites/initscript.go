package suites

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
)

// validateInitScript checks Config.InitScript and makes the start and stop
// commands its actions. It runs before the start command is resolved.
func (c *Config) validateInitScript() error {
	if c.InitScript == "" {
		return nil
	}
	script := c.abs(c.InitScript)
	if c.scripted && len(c.Start) == 2 && c.Start[0] == script && c.Start[1] == "start" {
		return nil // validated before
	}
	if len(c.Start) > 0 {
		return fmt.Errorf("init script %s: give the init script or a start command, not both", c.InitScript)
	}
	if c.Stop != "" {
		return fmt.Errorf("init script %s: the daemon is stopped with the script's stop action (SU121 judges it): give no stop command", c.InitScript)
	}
	if c.Profile != "" && c.Profile != checks.ProfileSysV {
		return fmt.Errorf("init script %s: an init script starts a sysv daemon, not profile %s", c.InitScript, c.Profile)
	}
	st, err := os.Stat(script)
	switch {
	case err != nil:
		return fmt.Errorf("init script: %v", err)
	case !st.Mode().IsRegular():
		return fmt.Errorf("init script %s is not a regular file", script)
	case unix.Access(script, unix.X_OK) != nil:
		return fmt.Errorf("init script %s is not executable (LSB: init scripts are run as programs)", script)
	}
	if c.PidFile == "" {
		return fmt.Errorf("init script %s: give the daemon's pidfile with --pidfile: the script's status and stop find the daemon by it, and so does the suite", c.InitScript)
	}
	c.InitScript = script
	c.Start = []string{script, "start"}
	c.scripted = true
	return nil
}

// skipRedirectEnv, set, keeps Debian's /lib/lsb/init-functions from
// redirecting an init script's action to systemctl when the host runs
// systemd (init-functions.d/40-systemd).
const skipRedirectEnv = "SYSTEMCTL_SKIP_REDIRECT"
