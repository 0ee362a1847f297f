//go:build linux

package supervisor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/fixtures"
	"github.com/dcheck/dcheck/internal/testclock"
)

// The real systemd host: ci/systemd-host.sh boots Debian 12's systemd 252
// as pid 1 of a systemd-nspawn container, with stock Debian services
// (nginx, redis, cron, ssh, and what systemd itself runs) and dcheck's
// fixture units, and dcheck scan judges them inside, where pid 1 is
// systemd. Without root, or where the container cannot boot (no
// debootstrap or systemd-nspawn, no Debian mirror), the test is skipped
// saying why; with DCHECK_REQUIRE_SYSTEMD_HOST set (CI sets it) it fails
// instead, so that CI never passes without having met a real systemd.

const hostScript = "../ci/systemd-host.sh"

// unitVerdict is what a scan must say of one unit's main process: its
// Type=, the profile that follows, the verdict, the failed rules that
// decide it and the failed warnings that do not.
type unitVerdict struct {
	typ     string
	profile checks.Profile
	verdict checks.Verdict
	failed  []string
	warned  []string
}

// stockVerdicts are Debian 12's services as dcheck judges them, each
// checked by hand in the container from /proc and the units:
//   - nginx (Type=forking) forks once before setsid(): its master leads
//     its session (sid == pid in /proc/PID/stat), DC103; it writes its
//     PIDFile=, /run/nginx.pid, and keeps no descriptor on it, DC303.
//   - cron's current directory is /var/spool/cron (/proc/PID/cwd), DC201.
//   - dbus-daemon runs as messagebus (uid 100) with CAP_AUDIT_WRITE
//     effective (CapEff 0x20000000 in /proc/PID/status), DC502.
//   - redis-server: its unit's UMask=007 makes its PIDFile=,
//     /run/redis/redis-server.pid, mode 0660 (ls -l), writable by its
//     group, DC302; it keeps no descriptor on it, DC303; its current
//     directory is /var/lib/redis, DC201.
//   - memcached (Type=simple, through Debian's wrapper script, which
//     execs it) writes its PIDFile=, /run/memcached/memcached.pid, and
//     keeps no descriptor on it (/proc/PID/fd), DC303.
//   - journald, logind (Type=dbus: BusName= without Type=) and sshd pass.
var stockVerdicts = map[string]unitVerdict{
	"systemd-journald.service": {"notify", checks.ProfileSupervised, checks.VerdictPass, nil, nil},
	"systemd-logind.service":   {"dbus", checks.ProfileSupervised, checks.VerdictPass, nil, nil},
	"dbus.service":             {"notify", checks.ProfileSupervised, checks.VerdictPass, nil, []string{"DC502"}},
	"ssh.service":              {"notify", checks.ProfileSupervised, checks.VerdictPass, nil, nil},
	"cron.service":             {"simple", checks.ProfileSupervised, checks.VerdictPass, nil, []string{"DC201"}},
	"redis-server.service":     {"notify", checks.ProfileSupervised, checks.VerdictFail, []string{"DC302"}, []string{"DC201", "DC303"}},
	"nginx.service":            {"forking", checks.ProfileSysV, checks.VerdictFail, []string{"DC103"}, []string{"DC303"}},
	"memcached.service":        {"simple", checks.ProfileSupervised, checks.VerdictPass, nil, []string{"DC303"}},
}

// fixtureUnits are dcheck's own daemons as units: each good one passes by
// its profile, each broken one fails exactly the rule of its fault.
var fixtureUnits = []struct {
	name string
	text func(bin string) (string, error) // the unit file
	want unitVerdict
}{
	{"dcheck-good.service", template("gooddaemon.service", "good"),
		unitVerdict{"notify", checks.ProfileSupervised, checks.VerdictPass, nil, nil}},
	{"dcheck-good-forking.service", template("gooddaemon-forking.service", "good-forking"),
		unitVerdict{"forking", checks.ProfileSysV, checks.VerdictPass, nil, nil}},
	{"dcheck-single-fork.service", literal("Type=forking\nExecStart=@BIN@/brokendaemon start -fault single-fork -pidfile /run/dcheck-single-fork.pid\nPIDFile=/run/dcheck-single-fork.pid\n"),
		unitVerdict{"forking", checks.ProfileSysV, checks.VerdictFail, []string{"DC103"}, nil}},
	{"dcheck-pidfile-world-writable.service", literal("Type=notify\nExecStart=@BIN@/brokendaemon run -fault pidfile-world-writable -pidfile /run/dcheck-pww.pid -listen /run/dcheck-pww.sock\nPIDFile=/run/dcheck-pww.pid\n"),
		unitVerdict{"notify", checks.ProfileSupervised, checks.VerdictFail, []string{"DC302"}, nil}},
	// A classic, self-daemonizing start under Type=simple: the started
	// process exits once its daemon is up, systemd reads the unit as
	// stopped, and (KillMode=process) the daemon lives on in its control
	// group with no MainPID.
	{"dcheck-self-daemonizing.service", literal("Type=simple\nKillMode=process\nExecStart=@BIN@/brokendaemon start -fault none -pidfile /run/dcheck-sd.pid\n"),
		unitVerdict{"simple", checks.ProfileSupervised, checks.VerdictFail, []string{"DC601"}, nil}},
}

// settled waits until no fixture unit has a start under way and the
// self-daemonizing one's started process is gone (systemd reads it as
// inactive): what the scan must see.
func settled(t *testing.T, names []string) {
	t.Helper()
	deadline := time.Now().Add(testclock.Scale(time.Minute))
	for {
		out, err := sdhost(t, append([]string{"exec", "systemctl", "show", "-p", "ActiveState", "--value"}, names...)...)
		states := strings.Fields(out)
		ok := err == nil && len(states) == len(names)
		for i, st := range states {
			want := "active"
			if names[i] == "dcheck-self-daemonizing.service" {
				want = "inactive"
			}
			ok = ok && st == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fixture units did not settle: %v %s", err, out)
		}
		time.Sleep(50 * time.Millisecond) // systemctl has nothing to wait on for us
	}
}

func template(name, short string) func(string) (string, error) {
	return func(bin string) (string, error) {
		dst := filepath.Join(os.TempDir(), fmt.Sprintf("dcheck-%s-%d.service", short, os.Getpid()))
		defer os.Remove(dst)
		err := fixtures.Fill("../fixtures/units/"+name, dst, 0o644, fixtures.Values{
			Bin: bin, PidFile: "/run/dcheck-" + short + ".pid", Log: "/run/dcheck-" + short + ".log",
			Socket: "/run/dcheck-" + short + ".sock", StartTimeout: testclock.Scale(time.Minute),
		})
		if err != nil {
			return "", err
		}
		b, err := os.ReadFile(dst)
		return string(b), err
	}
}

func literal(service string) func(string) (string, error) {
	return func(bin string) (string, error) {
		return "[Service]\n" + strings.ReplaceAll(service, "@BIN@", bin), nil
	}
}

func sdhost(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testclock.Scale(10*time.Minute))
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, hostScript, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// bin is where the tests put dcheck and the fixture daemons inside the
// container.
const bin = "/usr/local/bin"

// bootHost boots the container (ci/systemd-host.sh up), powers it off when
// the test ends, and builds dcheck, gooddaemon and brokendaemon into it;
// it returns the container's root directory. It skips, or fails under
// DCHECK_REQUIRE_SYSTEMD_HOST, where the container cannot boot.
func bootHost(t *testing.T) string {
	t.Helper()
	required := os.Getenv("DCHECK_REQUIRE_SYSTEMD_HOST") != ""
	unavailable := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf("DCHECK_REQUIRE_SYSTEMD_HOST is set, and "+format, args...)
		}
		t.Skipf(format, args...)
	}
	if os.Geteuid() != 0 {
		unavailable("needs root to boot a systemd container (ci/systemd-host.sh)")
	}
	if out, err := sdhost(t, "up"); err != nil {
		unavailable("the systemd container did not boot (%v):\n%s", err, tail(out, 20))
	}
	t.Cleanup(func() {
		if out, err := sdhost(t, "down"); err != nil {
			t.Errorf("ci/systemd-host.sh down: %v\n%s", err, out)
		}
	})
	rootOut, err := sdhost(t, "root")
	if err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSpace(rootOut)
	for pkg, name := range map[string]string{"../cmd/dcheck": "dcheck", "../cmd/dcheck-verify": "dcheck-verify", "../fixtures/good": "gooddaemon", "../fixtures/broken": "brokendaemon"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(root, bin, name), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // the container's libc is its own
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s into the container: %v\n%s", pkg, err, out)
		}
	}
	return root
}

func TestRealSystemdHost(t *testing.T) {
	root := bootHost(t)
	want := map[string]unitVerdict{}
	for u, v := range stockVerdicts {
		want[u] = v
	}
	var names []string
	for _, u := range fixtureUnits {
		text, err := u.text(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/systemd/system", u.name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		want[u.name] = u.want
		names = append(names, u.name)
	}
	if out, err := sdhost(t, "exec", "systemctl", "daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v\n%s", err, out)
	}
	if out, err := sdhost(t, append([]string{"exec", "systemctl", "start"}, names...)...); err != nil {
		status, _ := sdhost(t, append([]string{"exec", "systemctl", "status", "--no-pager"}, names...)...)
		t.Fatalf("starting the fixture units: %v\n%s\n%s", err, out, status)
	}
	t.Cleanup(func() { sdhost(t, append([]string{"exec", "systemctl", "stop"}, names...)...) })
	settled(t, names)

	out, err := sdhost(t, "exec", "dcheck", "scan", "-o", "json")
	if err != nil && !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("dcheck scan: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue // stderr: a process that could not be read
		}
		var r checks.Report
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		sup := r.Supervisor
		if sup == nil {
			t.Errorf("pid %d (%s): no supervisor in the report", r.PID, r.Process.Comm)
			continue
		}
		w, ok := want[sup.Unit]
		if !ok {
			continue // a unit this test does not record (getty, ...)
		}
		seen[sup.Unit] = true
		failed, warned := rulesOf(&r)
		if sup.Kind != checks.SupervisorSystemd || sup.Type != w.typ || sup.Source != "systemd over D-Bus" || !sup.FromManager ||
			r.Profile != w.profile || r.ProfileFrom != checks.ProfileFromSupervisor || r.Verdict != w.verdict ||
			!slices.Equal(failed, w.failed) || !slices.Equal(warned, w.warned) {
			t.Errorf("%s (pid %d): %s Type=%s from %q, MainPID %d, profile %s from %s, verdict %s, failed %v, warned %v; want Type=%s over D-Bus, profile %s from the supervisor, verdict %s, failed %v, warned %v\n%s",
				sup.Unit, r.PID, sup.Kind, sup.Type, sup.Source, sup.MainPID, r.Profile, r.ProfileFrom, r.Verdict, failed, warned,
				w.typ, w.profile, w.verdict, w.failed, w.warned, messages(&r))
		}
	}
	for u := range want {
		if !seen[u] {
			t.Errorf("%s: its main process was not in the scan\n%s", u, tail(out, 40))
		}
	}

	// The fleet outputs name the unit.
	metrics, _ := sdhost(t, "exec", "dcheck", "scan", "-o", "prometheus")
	if !strings.Contains(metrics, `dcheck_daemon_verdict{daemon="nginx.service",profile="sysv",supervisor="systemd",unit="nginx.service",verdict="fail"} 1`) {
		t.Errorf("the metrics do not carry nginx's unit:\n%s", tail(metrics, 20))
	}
	table, _ := sdhost(t, "exec", "dcheck", "scan")
	if !regexpLine(table, `systemd:cron.service\s+supervised\s+pass`) {
		t.Errorf("the table:\n%s", table)
	}
}

// rulesOf returns a report's failed rules that decide the verdict, and
// its failed warnings that do not, each sorted.
func rulesOf(r *checks.Report) (failed, warned []string) {
	for _, f := range r.Findings {
		switch {
		case f.Status == checks.Fail && f.Decides(r.Strict):
			failed = append(failed, f.ID)
		case f.Status == checks.Fail && f.Severity == checks.Warning:
			warned = append(warned, f.ID)
		}
	}
	slices.Sort(failed)
	slices.Sort(warned)
	return failed, warned
}

func messages(r *checks.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		if f.Status == checks.Fail || f.Status == checks.Unknown {
			fmt.Fprintf(&b, "  %s %s %s: %s\n", f.ID, f.Status, f.Severity, f.Message)
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func regexpLine(text, pattern string) bool {
	re := regexp.MustCompile(pattern)
	for _, l := range strings.Split(text, "\n") {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}
