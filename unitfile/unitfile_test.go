package unitfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// write puts text in dir/name and returns its path.
func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// debian parses a unit Debian ships, or skips saying which is absent.
func debian(t *testing.T, name string) *Service {
	t.Helper()
	path := "/lib/systemd/system/" + name
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is not installed here (its Debian package is absent)", path)
	}
	s, err := Parse(path)
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return s
}

func argv(t *testing.T, c Command, env map[string]string) (string, []string) {
	t.Helper()
	path, args, err := c.Expand(env)
	if err != nil {
		t.Fatalf("Expand(%s): %v", c.Line, err)
	}
	return path, args
}

// The units Debian ships, read as systemd reads them.
func TestDebianNginx(t *testing.T) {
	s := debian(t, "nginx.service")
	if s.Type != Forking || s.PIDFile != "/run/nginx.pid" || s.KillMode != "mixed" || s.StopTimeout() != 5*time.Second || s.StartTimeout() != DefaultTimeout {
		t.Errorf("got type %s, pidfile %s, kill mode %s, timeouts %v/%v", s.Type, s.PIDFile, s.KillMode, s.StartTimeout(), s.StopTimeout())
	}
	path, args := argv(t, s.ExecStart[0], nil)
	if path != "/usr/sbin/nginx" || !slices.Equal(args, []string{"/usr/sbin/nginx", "-g", "daemon on; master_process on;"}) {
		t.Errorf("ExecStart = %s %q", path, args)
	}
	if len(s.ExecStartPre) != 1 || len(s.ExecStop) != 1 || !s.ExecStop[0].IgnoreFailure || len(s.ExecReload) != 1 {
		t.Errorf("ExecStartPre %d, ExecStop %v, ExecReload %d", len(s.ExecStartPre), s.ExecStop, len(s.ExecReload))
	}
}

func TestDebianRedis(t *testing.T) {
	s := debian(t, "redis-server.service")
	if s.Type != Notify || s.User != "redis" || s.Group != "redis" || s.Umask() != 0o007 ||
		!slices.Equal(s.RuntimeDirectory, []string{"redis"}) || s.RuntimeDirectoryMode != 0o2755 || s.StopTimeout() != 0 {
		t.Errorf("got %+v", s)
	}
	for _, want := range []string{"Service.Restart=always", "Service.ProtectSystem=strict", "Service.PrivateTmp=true", "Service.LimitNOFILE=65535"} {
		if !slices.Contains(s.NotEmulated, want) {
			t.Errorf("NotEmulated lacks %s: %v", want, s.NotEmulated)
		}
	}
	for _, d := range s.NotEmulated {
		if strings.HasPrefix(d, "Unit.Description") || strings.HasPrefix(d, "Install.") {
			t.Errorf("NotEmulated lists %s, which changes nothing in how the service runs", d)
		}
	}
}

func TestDebianSSH(t *testing.T) {
	s := debian(t, "ssh.service")
	if s.Type != Notify || s.KillMode != "process" || len(s.EnvironmentFiles) != 1 || !s.EnvironmentFiles[0].Optional {
		t.Errorf("got %+v", s)
	}
	// $SSHD_OPTS alone as a word is split at white space; unset, it is no word.
	_, args := argv(t, s.ExecStart[0], map[string]string{"SSHD_OPTS": "-p 2222  -o ListenAddress=127.0.0.1"})
	if !slices.Equal(args, []string{"/usr/sbin/sshd", "-D", "-p", "2222", "-o", "ListenAddress=127.0.0.1"}) {
		t.Errorf("ExecStart = %q", args)
	}
	if _, args := argv(t, s.ExecStart[0], nil); !slices.Equal(args, []string{"/usr/sbin/sshd", "-D"}) {
		t.Errorf("ExecStart without SSHD_OPTS = %q", args)
	}
	if len(s.ExecReload) != 2 {
		t.Fatalf("ExecReload: %d lines, want 2", len(s.ExecReload))
	}
	if _, args := argv(t, s.ExecReload[1], map[string]string{"MAINPID": "4242"}); !slices.Equal(args, []string{"/bin/kill", "-HUP", "4242"}) {
		t.Errorf("ExecReload = %q", args)
	}
}

func TestDebianHaproxy(t *testing.T) {
	s := debian(t, "haproxy.service")
	env, err := s.Env()
	if err != nil {
		t.Fatal(err)
	}
	_, args := argv(t, s.ExecStart[0], EnvMap(env))
	want := []string{"/usr/sbin/haproxy", "-Ws", "-f", "/etc/haproxy/haproxy.cfg", "-p", "/run/haproxy.pid", "-S", "/run/haproxy-master.sock"}
	if !slices.Equal(args, want) {
		t.Errorf("ExecStart = %q, want %q (Environment= quoted assignments, $EXTRAOPTS split)", args, want)
	}
}

// TestDropIns: drop-ins apply in order; an empty assignment empties a
// list; a later value overrides.
func TestDropIns(t *testing.T) {
	dir := t.TempDir()
	u := write(t, dir, "d@blue.service", `[Unit]
Description=a daemon
[Service]
Type=notify
Environment=PORT=80 "GREETING=hello world"
ExecStart=/usr/bin/d --port $PORT --name %i --greet ${GREETING}
ExecStartPre=-/bin/true
WatchdogSec=30s
`)
	d1 := write(t, dir, "10-port.conf", "[Service]\nEnvironment=PORT=48080\nExecStartPre=\nTimeoutStartSec=1min 30s\n")
	d2 := write(t, dir, "20-cmd.conf", "[Service]\nExecStart=\nExecStart=@/usr/bin/d d-renamed --port $PORT\nUMask=0027\n")
	s, err := Parse(u, d1, d2)
	if err != nil {
		t.Fatal(err)
	}
	env, err := s.Env("NOTIFY_SOCKET=/x")
	if err != nil {
		t.Fatal(err)
	}
	path, args := argv(t, s.ExecStart[0], EnvMap(env))
	if path != "/usr/bin/d" || !slices.Equal(args, []string{"d-renamed", "--port", "48080"}) {
		t.Errorf("ExecStart = %s %q", path, args)
	}
	if len(s.ExecStartPre) != 0 || s.StartTimeout() != 90*time.Second || s.Umask() != 0o027 || s.Watchdog != 30*time.Second {
		t.Errorf("ExecStartPre %v, start timeout %v, umask %#o, watchdog %v", s.ExecStartPre, s.StartTimeout(), s.Umask(), s.Watchdog)
	}
	if !slices.Equal(env, []string{basePath, "PORT=48080", "GREETING=hello world", "NOTIFY_SOCKET=/x"}) {
		t.Errorf("Env = %q", env)
	}
	// Without the drop-ins: the instance specifier, ${} as one word.
	s, err = Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	env, _ = s.Env()
	if _, args := argv(t, s.ExecStart[0], EnvMap(env)); !slices.Equal(args, []string{"/usr/bin/d", "--port", "80", "--name", "blue", "--greet", "hello world"}) {
		t.Errorf("ExecStart = %q", args)
	}
	if !slices.Equal(s.DropIns, nil) || len(s.ExecStartPre) != 1 || !s.ExecStartPre[0].IgnoreFailure {
		t.Errorf("drop-ins %v, ExecStartPre %v", s.DropIns, s.ExecStartPre)
	}
}

// TestEnvironmentFile: the file's settings override Environment=; a
// missing optional file is skipped, a missing one is an error naming it.
func TestEnvironmentFile(t *testing.T) {
	dir := t.TempDir()
	ef := write(t, dir, "defaults", "# comment\n; another\n\nA=from-file\nexport B=\"quoted value\"\nC='single'\n")
	u := write(t, dir, "e.service", "[Service]\nEnvironment=A=unit D=unit\nEnvironmentFile="+ef+"\nEnvironmentFile=-"+dir+"/missing\nExecStart=/bin/true\n")
	s, err := Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	env, err := s.Env()
	if err != nil || !slices.Equal(env, []string{basePath, "A=from-file", "D=unit", "B=quoted value", "C=single"}) {
		t.Errorf("Env = %q, %v", env, err)
	}
	bad := write(t, dir, "bad", "A=1\nnot an assignment\n")
	u = write(t, dir, "f.service", "[Service]\nEnvironmentFile="+bad+"\nEnvironmentFile="+dir+"/missing\nExecStart=/bin/true\n")
	s, _ = Parse(u)
	if _, err := s.Env(); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("Env with a malformed file: %v, want the file and line 2", err)
	}
}

// TestBadUnits: each is refused with ErrUnit, naming the file and the
// directive.
func TestBadUnits(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, text, says string }{
		{"oneshot.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n", "does not support Type=oneshot"},
		{"none.service", "[Service]\nType=simple\n", "no ExecStart="},
		{"two.service", "[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n", "2 ExecStart= lines"},
		{"umask.service", "[Service]\nUMask=0999\nExecStart=/bin/true\n", "UMask=0999"},
		{"spec.service", "[Service]\nExecStart=/bin/echo %Q\n", "specifier %Q"},
		{"quote.service", "[Service]\nExecStart=/bin/echo \"open\n", "unterminated"},
		{"bangbang.service", "[Service]\nExecStart=!!/bin/true\n", "not emulated"},
		{"busname.service", "[Service]\nBusName=org.example.x\nExecStart=/bin/true\n", "is Type=dbus for systemd"},
		{"signal.service", "[Service]\nKillSignal=SIGNOPE\nExecStart=/bin/true\n", "unknown signal"},
		{"span.service", "[Service]\nTimeoutStopSec=5 fortnights\nExecStart=/bin/true\n", "unknown unit"},
		{"cwd.service", "[Service]\nWorkingDirectory=relative\nExecStart=/bin/true\n", "WorkingDirectory=relative"},
		{"env.service", "[Service]\nEnvironment=NOVALUE\nExecStart=/bin/true\n", "not NAME=value"},
		{"syntax.service", "[Service\nExecStart=/bin/true\n", "syntax.service"},
		{"rundot.service", "[Service]\nRuntimeDirectory=./\nExecStart=/bin/true\n", "not /run itself"},
		{"rundotdot.service", "[Service]\nRuntimeDirectory=a/../b\nExecStart=/bin/true\n", "without \"..\""},
		{"runabs.service", "[Service]\nRuntimeDirectory=/run/x\nExecStart=/bin/true\n", "below /run"},
		{"access.service", "[Service]\nNotifyAccess=everyone\nExecStart=/bin/true\n", "NotifyAccess=everyone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, dir, tt.name, tt.text)
			_, err := Parse(path)
			if !errors.Is(err, ErrUnit) || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), path) {
				t.Errorf("Parse: %v; want ErrUnit naming %s and saying %q", err, path, tt.says)
			}
		})
	}
	if _, err := Parse(filepath.Join(dir, "nope.service")); !errors.Is(err, ErrUnit) || !strings.Contains(err.Error(), "nope.service") {
		t.Errorf("a missing unit: %v", err)
	}
	if _, err := Parse(write(t, dir, "x.socket", "[Socket]\n")); !errors.Is(err, ErrUnit) || !strings.Contains(err.Error(), "not a .service") {
		t.Errorf("a socket unit: %v", err)
	}
}

// TestNotifyAccessAsSystemdAppliesIt: what systemctl show -p NotifyAccess
// says in systemd 252 (supervisor/oracle_test.go compares the behaviour),
// and which commands get NOTIFY_SOCKET.
func TestNotifyAccessAsSystemdAppliesIt(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		lines     string
		want      NotifyAccess
		main, pre bool // NOTIFY_SOCKET for ExecStart=, for ExecStartPre=
	}{
		{"Type=simple\n", NotifyNone, false, false},
		{"Type=simple\nWatchdogSec=5\n", NotifyMain, true, false},
		{"Type=simple\nNotifyAccess=all\n", NotifyAll, true, true},
		{"Type=forking\nNotifyAccess=exec\n", NotifyExec, true, true},
		{"Type=notify\n", NotifyMain, true, false},
		{"Type=notify\nNotifyAccess=none\n", NotifyMain, true, false},
		{"Type=notify-reload\nNotifyAccess=exec\n", NotifyExec, true, true},
		{"Type=notify\nNotifyAccess=all\nNotifyAccess=\n", NotifyAll, true, true}, // an empty one is ignored
	}
	for i, tt := range tests {
		s, err := Parse(write(t, dir, fmt.Sprintf("a%d.service", i), "[Service]\n"+tt.lines+"ExecStart=/bin/true\n"))
		if err != nil {
			t.Fatal(err)
		}
		if a := s.Access(); a != tt.want || a.Hears(true) != tt.main || a.Hears(false) != tt.pre {
			t.Errorf("%q: NotifyAccess=%s, NOTIFY_SOCKET to main %v, to the others %v; want %s, %v, %v", tt.lines, a, a.Hears(true), a.Hears(false), tt.want, tt.main, tt.pre)
		}
	}
}

// TestRuntimeDirectoryIsNormalizedAsSystemdDoes: systemd 252 (checked in
// a booted container with systemctl show) simplifies these paths rather
// than refusing them.
func TestRuntimeDirectoryIsNormalizedAsSystemdDoes(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "norm.service", "[Service]\nRuntimeDirectory=./x y/ z/. a//b\nExecStart=/bin/true\n")
	s, err := Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"x", "y", "z", "a/b"}; !slices.Equal(s.RuntimeDirectory, want) {
		t.Errorf("RuntimeDirectory=%q, want %q", s.RuntimeDirectory, want)
	}
}

func TestKillSignalAndDefaults(t *testing.T) {
	s, err := Parse(write(t, t.TempDir(), "k.service", "[Service]\nKillSignal=QUIT\nExecStart=/bin/true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Signal() != unix.SIGQUIT || s.Type != Simple || s.Umask() != DefaultUMask || s.StopTimeout() != DefaultTimeout {
		t.Errorf("signal %v, type %s, umask %#o, stop timeout %v", s.Signal(), s.Type, s.Umask(), s.StopTimeout())
	}
}

func TestParseTimespan(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90": 90 * time.Second, "500ms": 500 * time.Millisecond, "1min 30s": 90 * time.Second,
		"2h": 2 * time.Hour, "1.5s": 1500 * time.Millisecond, "infinity": 0, "0": 0,
	} {
		if got, err := ParseTimespan(in); err != nil || got != want {
			t.Errorf("ParseTimespan(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "5 fortnights", "s"} {
		if _, err := ParseTimespan(in); err == nil {
			t.Errorf("ParseTimespan(%q) gave no error", in)
		}
	}
}

// TestTemplateInstances: systemd 252 instantiates name@.service for
// name@inst.service (checked in a booted container: %i is the instance,
// %I its unescaped form, %n the instance's unit name, %N without
// ".service"); the template alone is refused, naming the fix.
func TestTemplateInstances(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "g@.service", "[Service]\nExecStart=/bin/echo %i %I %n %N\nPIDFile=/run/g-%i.pid\n")
	s, err := Parse(filepath.Join(dir, `g@a\x2db-c.service`))
	if err != nil {
		t.Fatal(err)
	}
	_, argv, err := s.ExecStart[0].Expand(nil)
	want := []string{"/bin/echo", `a\x2db-c`, "a-b/c", `g@a\x2db-c.service`, `g@a\x2db-c`}
	if err != nil || !slices.Equal(argv, want) || s.Path != filepath.Join(dir, "g@.service") || s.Name != `g@a\x2db-c.service` {
		t.Errorf("argv %q (%v), path %s, name %s; want %q from g@.service", argv, err, s.Path, s.Name, want)
	}
	if _, err := Parse(filepath.Join(dir, "g@.service")); !errors.Is(err, ErrUnit) || !strings.Contains(err.Error(), "g@INSTANCE.service") {
		t.Errorf("the template alone: %v", err)
	}
	own := write(t, dir, "g@own.service", "[Service]\nExecStart=/bin/true\n")
	if s, err := Parse(own); err != nil || s.Path != own {
		t.Errorf("an instance with a file of its own: %v %+v", err, s)
	}
}

// TestVariablesAsSystemdExpandsThem: each row checked in systemd 252 (a
// Type=oneshot unit printing its arguments, Environment="BAR=a b"):
// a word that is $BAR alone, quoted or not, is split at white space;
// ${BAR} stays one word, quoted or not; $BAR inside a word stays
// literal, and so does \$BAR, backslash and all; $$ is a dollar;
// ${BAR:+x} and ${BAR:-x} stay literal (left to a shell), and so does a
// ${ without its }.
func TestVariablesAsSystemdExpandsThem(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "q.service", "[Service]\nEnvironment=\"BAR=a b\"\nExecStart=/bin/echo \"$BAR\" '$BAR' '${BAR}' \"${BAR}\" x$BAR \\$BAR $$BAR $BAR A${BAR:+alt}B ${BAR}${BAR:-d} X${BAR\n")
	s, err := Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	_, argv, err := s.ExecStart[0].Expand(map[string]string{"BAR": "a b"})
	want := []string{"/bin/echo", "a", "b", "a", "b", "a b", "a b", "x$BAR", `\$BAR`, "$BAR", "a", "b", "A${BAR:+alt}B", "a b${BAR:-d}", "X${BAR"}
	if err != nil || !slices.Equal(argv, want) {
		t.Errorf("argv %q (%v), want %q", argv, err, want)
	}
	bang, err := Parse(write(t, dir, "bang.service", "[Service]\nUser=nobody\nExecStart=!/bin/true\n"))
	if err != nil || !bang.ExecStart[0].KeepsRoot || bang.ExecStart[0].FullPrivileges {
		t.Errorf("the \"!\" prefix: %v %+v", err, bang)
	}
}
