package unitfile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFindAndReadRunFacts(t *testing.T) {
	etc, lib := t.TempDir(), t.TempDir()
	dirs := []string{etc, lib}
	put := func(dir, name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	forking := put(lib, "nginx.service", "[Service]\nType=forking\nPIDFile=/run/nginx.pid\nExecStart=/usr/sbin/nginx\n")
	relative := put(lib, "rel.service", "[Service]\nType=forking\nPIDFile=rel/rel.pid\nExecStart=/usr/sbin/rel\n")
	spec := put(lib, "spec.service", "[Service]\nType=forking\nPIDFile=%t/spec.pid\nExecStart=/usr/sbin/spec\n")
	logind := put(lib, "systemd-logind.service", "[Service]\nBusName=org.freedesktop.login1\nExecStart=!!/lib/systemd/systemd-logind\n")
	cron := put(lib, "cron.service", "[Service]\nExecStart=/usr/sbin/cron -f\n")
	tmpl := put(lib, "getty@.service", "[Service]\nType=idle\nExecStart=-/sbin/agetty %I\n")
	etcDrop := put(etc, "nginx.service.d/10-notify.conf", "[Service]\nType=notify\n")
	put(lib, "nginx.service.d/10-notify.conf", "[Service]\nType=exec\n") // hidden by /etc's
	libDrop := put(lib, "nginx.service.d/20-x.conf", "[Service]\nNice=1\n")
	all := put(lib, "service.d/05-all.conf", "[Service]\nNice=2\n")
	for _, tc := range []struct {
		name, path string
		dropIns    []string
		typ        Type
		pidfile    string
	}{
		{"nginx.service", forking, []string{all, etcDrop, libDrop}, Notify, "/run/nginx.pid"},
		{"systemd-logind.service", logind, []string{all}, "dbus", ""},
		{"cron.service", cron, []string{all}, Simple, ""},
		{"getty@tty1.service", tmpl, []string{all}, "idle", ""},
		{"rel.service", relative, []string{all}, Forking, "/run/rel/rel.pid"},
		{"spec.service", spec, []string{all}, Forking, ""},
	} {
		path, dropIns, err := Find(tc.name, dirs)
		if err != nil || path != tc.path || !slices.Equal(dropIns, tc.dropIns) {
			t.Errorf("Find(%s) = %s %v %v; want %s %v", tc.name, path, dropIns, err, tc.path, tc.dropIns)
			continue
		}
		if rf, err := ReadRunFacts(path, dropIns); err != nil || rf.Type != tc.typ || rf.PIDFile != tc.pidfile {
			t.Errorf("ReadRunFacts(%s) = %+v %v; want Type=%s PIDFile=%q", tc.name, rf, err, tc.typ, tc.pidfile)
		}
	}
	if _, _, err := Find("missing.service", dirs); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("a missing unit: %v", err)
	}
	if _, _, err := Find("../x.service", dirs); !errors.Is(err, ErrUnit) {
		t.Errorf("a path for a name: %v", err)
	}
}
