package proc

import (
	"errors"
	"os"
	"slices"
	"testing"
)

func TestParseCgroups(t *testing.T) {
	for _, tc := range []struct {
		name, text, systemd string
	}{
		// Debian 12's systemd 252 in systemd-nspawn on a hybrid host.
		{"hybrid, a service", "9:name=systemd:/system.slice/nginx.service\n8:pids:/\n1:cpu:/\n0::/system.slice/nginx.service\n", "/system.slice/nginx.service"},
		{"unified only", "0::/system.slice/cron.service\n", "/system.slice/cron.service"},
		{"v1 only: the named hierarchy", "2:cpu,cpuacct:/\n1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n", "/user.slice/user-1000.slice/session-2.scope"},
		{"hybrid, unified empty: the named one", "1:name=systemd:/system.slice/a.service\n0::/\n", "/system.slice/a.service"},
		{"a path with colons", "0::/system.slice/a:b.service\n", "/system.slice/a:b.service"},
		{"no systemd", "3:cpu:/\n", ""},
	} {
		c, err := parseCgroups([]byte(tc.text))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := c.SystemdPath(); got != tc.systemd {
			t.Errorf("%s: SystemdPath() = %q, want %q", tc.name, got, tc.systemd)
		}
	}
	for _, bad := range []string{"garbage\n", "x::/a\n", "-1::/a\n"} {
		if _, err := parseCgroups([]byte(bad)); !errors.Is(err, ErrParse) {
			t.Errorf("parseCgroups(%q): %v, want ErrParse", bad, err)
		}
	}
}

func TestCgroupOfALiveProcess(t *testing.T) {
	fsys, err := NewFS("")
	if err != nil {
		t.Skip(err)
	}
	c, err := fsys.Cgroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(c) == 0 || !slices.ContainsFunc(c, func(l CgroupLine) bool { return l.Path != "" }) {
		t.Errorf("own cgroup: %+v", c)
	}
	if _, err := fsys.Cgroup(1 << 30); !errors.Is(err, ErrNoProcess) {
		t.Errorf("a pid that does not exist: %v", err)
	}
}
