//go:build linux

package supervisor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/testclock"
)

// The differential oracle: dcheck verify --unit emulates how systemd
// starts a unit. Each unit below is started once by the real systemd 252
// (ci/systemd-host.sh) and once by dcheck verify --unit inside the same
// container, and what its main process got is compared: the program and
// its arguments (specifiers and variables expanded), user, groups, umask,
// working directory, environment, descriptors. Every disagreement is a
// defect of the emulation, or one of notEmulated, which the README lists
// with its reason.

// oracleUnits are six stock Debian units of several Type= values, one
// with a socket unit, and a template instance (dcheck's gooddaemon as a
// template, installed for the test: Debian ships no template of a
// long-running daemon that dcheck can run; getty@ is Type=idle, user@
// needs PAM).
var oracleUnits = []struct {
	unit   string
	socket string // its socket unit, passed with --socket
	typ    string
	// retitles, when not empty, says that the daemon writes its process
	// title over its arguments and environment, at a time of its own:
	// neither can be compared, only the rest.
	retitles string
}{
	{unit: "cron.service", typ: "simple"},
	{unit: "memcached.service", typ: "simple"},
	{unit: "nginx.service", typ: "forking"},
	{unit: "redis-server.service", typ: "notify"},
	{unit: "ssh.service", typ: "notify", retitles: "sshd sets \"sshd: /usr/sbin/sshd -D [listener] ...\" once it listens"},
	{unit: "dbus.service", socket: "dbus.socket", typ: "notify"},
	{unit: "dcheck-oracle@one.service", typ: "notify"},
}

// notEmulated are the environment variables one side alone sets, each
// with why: the README's "not emulated" list says the same.
var notEmulated = map[string]string{
	"INVOCATION_ID":              "systemd's id of this start of the unit (the journal's _SYSTEMD_INVOCATION_ID)",
	"JOURNAL_STREAM":             "stdout and stderr go to the journal under systemd, to a file under the run",
	"SYSTEMD_EXEC_PID":           "systemd's own bookkeeping of the exec'd pid",
	"LANG":                       "systemd's locale (from /etc/locale.conf or its own environment), not the unit's",
	"DCHECK_SUITE_RUN":           "the run's marker, by which the harness finds the processes of its run",
	"SYSTEMD_NSS_DYNAMIC_BYPASS": "systemd sets it for the bus daemon alone (dbus.service), so that its user lookups never call back into systemd",
}

// pidValued are the variables that hold a pid: they must be there on both
// sides, with the pids of each.
var pidValued = map[string]bool{"LISTEN_PID": true, "WATCHDOG_PID": true, "MAINPID": true, "NOTIFY_SOCKET": true}

// started is what a unit's main process was started with.
type started struct {
	exe, umask, cwd string
	argv            []string
	uids, gids      [4]int
	groups          []int
	env             map[string]string
	fds             []string // the kinds of the descriptors above 2 but sockets, sorted
	sockets         int      // how many of them are sockets
	stdio           []string // the kinds of 0, 1 and 2
	journal         bool     // JOURNAL_STREAM names its stderr: it may log there
}

func startedOf(r *checks.Report) started {
	p := r.Process
	s := started{argv: p.Cmdline, uids: p.UIDs, gids: p.GIDs, groups: p.Groups, env: map[string]string{}}
	if p.Exe != nil {
		s.exe = *p.Exe
	}
	if p.Umask != nil {
		s.umask = *p.Umask
	}
	if p.Cwd != nil {
		s.cwd = *p.Cwd
	}
	for _, kv := range p.Environ {
		k, v, _ := strings.Cut(kv, "=")
		s.env[k] = v
	}
	_, s.journal = s.env["JOURNAL_STREAM"]
	for _, f := range p.FDs {
		if f.FD <= 2 {
			s.stdio = append(s.stdio, string(f.Kind))
			continue
		}
		if f.Kind == "socket" {
			s.sockets++
			continue
		}
		s.fds = append(s.fds, string(f.Kind))
	}
	slices.Sort(s.fds)
	return s
}

func TestVerifyUnitAgreesWithRealSystemd(t *testing.T) {
	root := bootHost(t)
	tmpl, err := template("gooddaemon.service", "oracle-%i")(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/systemd/system/dcheck-oracle@.service"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := sdhost(t, "exec", "systemctl", "daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v\n%s", err, out)
	}
	for _, u := range oracleUnits {
		t.Run(u.unit, func(t *testing.T) {
			units := []string{u.unit}
			if u.socket != "" {
				units = append(units, u.socket)
			}
			if out, err := sdhost(t, append([]string{"exec", "systemctl", "stop"}, units...)...); err != nil {
				t.Fatalf("systemctl stop: %v\n%s", err, out)
			}
			path := "/lib/systemd/system/" + u.unit
			if strings.Contains(u.unit, "@") {
				path = "/etc/systemd/system/" + u.unit
			}
			args := []string{"exec", "dcheck", "verify", "--label-filter", "static", "--start-timeout", "60s",
				"--unit", path, "--daemon-report", "/root/oracle.json"}
			if u.socket != "" {
				args = append(args, "--socket", "/lib/systemd/system/"+u.socket)
			}
			vout, _ := sdhost(t, args...)
			js, err := sdhost(t, "exec", "cat", "/root/oracle.json")
			sdhost(t, "exec", "rm", "-f", "/root/oracle.json")
			if err != nil {
				t.Fatalf("dcheck verify wrote no daemon report: %v\n%s", err, tail(vout, 30))
			}
			var byVerify checks.Report
			if err := json.Unmarshal([]byte(js), &byVerify); err != nil {
				t.Fatalf("%v\n%s", err, js)
			}
			if out, err := sdhost(t, append([]string{"exec", "systemctl", "start"}, units...)...); err != nil {
				t.Fatalf("systemctl start: %v\n%s", err, out)
			}
			pidOut, err := sdhost(t, "exec", "systemctl", "show", "-p", "MainPID", "--value", u.unit)
			pid, _ := strconv.Atoi(strings.TrimSpace(pidOut))
			if err != nil || pid == 0 {
				t.Fatalf("systemd's MainPID of %s: %q %v", u.unit, pidOut, err)
			}
			sdOut, err := sdhost(t, "exec", "dcheck", "-o", "json", "--show-env", strconv.Itoa(pid))
			var bySystemd checks.Report
			if jerr := json.Unmarshal([]byte(sdOut), &bySystemd); jerr != nil {
				t.Fatalf("dcheck -o json %d: %v %v\n%s", pid, err, jerr, sdOut)
			}
			if bySystemd.Supervisor == nil || bySystemd.Supervisor.Type != u.typ {
				t.Errorf("systemd runs %s as %+v, want Type=%s", u.unit, bySystemd.Supervisor, u.typ)
			}
			v, sd := startedOf(&byVerify), startedOf(&bySystemd)
			if u.retitles != "" {
				t.Logf("arguments and environment not compared: %s", u.retitles)
				v.argv, sd.argv, v.env, sd.env = nil, nil, nil, nil
			}
			for _, d := range differences(v, sd, u.typ) {
				t.Errorf("%s: %s", u.unit, d)
			}
		})
	}
}

// differences says where what verify --unit gave the daemon differs from
// what systemd gave it, but for notEmulated.
func differences(v, s started, typ string) []string {
	var out []string
	same := func(what string, a, b any) {
		if fmt.Sprint(a) != fmt.Sprint(b) {
			out = append(out, fmt.Sprintf("%s: %v under verify --unit, %v under systemd", what, a, b))
		}
	}
	same("program", v.exe, s.exe)
	same("arguments", v.argv, s.argv)
	same("uids", v.uids, s.uids)
	same("gids", v.gids, s.gids)
	same("groups", v.groups, s.groups)
	same("umask", v.umask, s.umask)
	same("working directory", v.cwd, s.cwd)
	same("descriptors above 2 but sockets", v.fds, s.fds)
	// Sockets the run may see and systemd's start not, each explained:
	//   - a daemon that finds JOURNAL_STREAM naming its stderr logs there;
	//     under the run, where stdout and stderr are a file, it connects
	//     to syslog instead (dbus-daemon, sshd);
	//   - the run judges at the instant READY=1 arrives, when a notify
	//     daemon may still hold the datagram socket it sent it on (redis:
	//     a socket gone a moment later, seen in /proc/PID/fd), while
	//     systemctl start returns after systemd has taken the message.
	extra := 0
	if s.journal {
		extra++
	}
	if typ == "notify" {
		extra++
	}
	if v.sockets < s.sockets || v.sockets > s.sockets+extra {
		out = append(out, fmt.Sprintf("sockets above 2: %d under verify --unit, %d under systemd", v.sockets, s.sockets))
	}
	var names []string
	for k := range v.env {
		names = append(names, k)
	}
	for k := range s.env {
		if _, ok := v.env[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		if _, skip := notEmulated[k]; skip {
			continue
		}
		a, inV := v.env[k]
		b, inS := s.env[k]
		switch {
		case !inV:
			out = append(out, fmt.Sprintf("environment: %s=%s under systemd only", k, b))
		case !inS:
			out = append(out, fmt.Sprintf("environment: %s=%s under verify --unit only", k, a))
		case a != b && !pidValued[k]:
			out = append(out, fmt.Sprintf("environment: %s=%s under verify --unit, %s under systemd", k, a, b))
		}
	}
	return out
}

// probeDaemon is a daemon that logs every catchable signal it and its
// child get, to the file its first argument names: what a reload and a
// stop do to a unit's processes, seen from inside.
const probeDaemon = `#!/bin/sh
log=$1
(
	trap 'echo "child HUP" >>"$log"' HUP
	trap 'echo "child INT" >>"$log"; exit 0' INT
	if [ "$2" = survive ]; then
		trap 'echo "child TERM" >>"$log"' TERM
	else
		trap 'echo "child TERM" >>"$log"; exit 0' TERM
	fi
	echo "child ready" >>"$log"
	while :; do sleep 1 & wait $!; done
) &
trap 'echo "main HUP" >>"$log"' HUP
trap 'echo "main USR1" >>"$log"' USR1
trap 'echo "main INT" >>"$log"; exit 0' INT
if [ "$2" = survive ]; then
	# The main process exits on SIGTERM only once the child has logged
	# its own: the second SIGTERM, after the main process's exit, then
	# reaches a child that has taken the first (two pending signals of one
	# kind are one).
	trap 'echo "main TERM" >>"$log"; until grep -q "child TERM" "$log"; do sleep 0.1; done; exit 0' TERM
else
	trap 'echo "main TERM" >>"$log"; exit 0' TERM
fi
echo "main ready" >>"$log"
while :; do sleep 1 & wait $!; done
`

// stopUnits are units of probeDaemon whose reload and stop differ: what
// each process logs must be the same under systemd and under verify
// --unit (its SU107 reload and SU104 stop). The probe's child ignores
// SIGINT, as a non-interactive shell's background job does: under
// KillSignal=SIGINT it survives the stop, and only the timeout's SIGKILL
// ends it. ExecStop= sends SIGUSR1, which the main process logs and
// survives: KillSignal= must follow it, to the main process first, on both
// sides. (An ExecStop= whose signal ended the main process raced with the
// KillSignal= after it: on a loaded machine the main process had exited
// before dcheck's SIGTERM, and logged one signal fewer than under systemd.)
var stopUnits = []struct{ name, args, service string }{
	{"dcheck-stop-group.service", "", "ExecReload=/bin/kill -HUP $MAINPID\n"},
	{"dcheck-stop-mixed.service", "", "KillMode=mixed\nExecReload=/bin/kill -HUP $MAINPID\n"},
	{"dcheck-stop-int.service", "", "KillSignal=SIGINT\nExecReload=/bin/kill -HUP $MAINPID\n"},
	{"dcheck-stop-execstop.service", "", "ExecStop=/bin/kill -USR1 $MAINPID\nExecReload=/bin/kill -HUP $MAINPID\n"},
	// The child survives SIGTERM: systemd sends it at the stop and again
	// once the main process has exited (FINAL_SIGTERM), then SIGKILL after
	// TimeoutStopSec=; both sides must log it twice.
	{"dcheck-stop-survivor.service", " survive", "ExecReload=/bin/kill -HUP $MAINPID\n"},
}

// TestReloadAndStopAgreeWithRealSystemd: the same units reloaded and
// stopped by systemd (systemctl reload, stop) and by verify --unit --reload:
// each process gets the same signals, and the log says so.
func TestReloadAndStopAgreeWithRealSystemd(t *testing.T) {
	root := bootHost(t)
	if err := os.WriteFile(filepath.Join(root, bin, "dcheck-probe"), []byte(probeDaemon), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, u := range stopUnits {
		// TimeoutStopSec=5: a survivor of KillSignal= is killed after five
		// seconds on both sides, not systemd's default ninety.
		text := "[Service]\nExecStart=" + bin + "/dcheck-probe /run/" + u.name + ".log" + u.args + "\nTimeoutStopSec=5\n" + u.service
		if err := os.WriteFile(filepath.Join(root, "etc/systemd/system", u.name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := sdhost(t, "exec", "systemctl", "daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v\n%s", err, out)
	}
	for _, u := range stopUnits {
		t.Run(u.name, func(t *testing.T) {
			logPath := "/run/" + u.name + ".log"
			wait := func(line string) string {
				t.Helper()
				deadline := time.Now().Add(testclock.Scale(30 * time.Second))
				for {
					out, _ := sdhost(t, "exec", "cat", logPath)
					if strings.Contains(out, line) {
						return out
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s never logged %q:\n%s", u.name, line, out)
					}
					time.Sleep(50 * time.Millisecond) // a log line gives no event across the container
				}
			}
			sdhost(t, "exec", "rm", "-f", logPath)
			if out, err := sdhost(t, "exec", "systemctl", "start", u.name); err != nil {
				t.Fatalf("start: %v\n%s", err, out)
			}
			wait("child ready")
			if out, err := sdhost(t, "exec", "systemctl", "reload", u.name); err != nil {
				t.Fatalf("reload: %v\n%s", err, out)
			}
			wait("main HUP")
			if out, err := sdhost(t, "exec", "systemctl", "stop", u.name); err != nil {
				t.Fatalf("stop: %v\n%s", err, out)
			}
			bySystemd, _ := sdhost(t, "exec", "cat", logPath)
			statusOut, _ := sdhost(t, "exec", "systemctl", "show", "-p", "ExecMainStatus", "--value", u.name)

			sdhost(t, "exec", "rm", "-f", logPath)
			vout, _ := sdhost(t, "exec", "dcheck", "verify", "--unit", "/etc/systemd/system/"+u.name, "--reload",
				"--label-filter", "SU107 || SU104", "--start-timeout", "60s")
			byVerify, _ := sdhost(t, "exec", "cat", logPath)
			if a, b := signalsLogged(byVerify), signalsLogged(bySystemd); !slices.Equal(a, b) {
				t.Errorf("%s: under verify --unit the processes logged %q, under systemd %q\n%s", u.name, a, b, tail(vout, 12))
			}
			if u.args == " survive" {
				if a, b := strings.Count(byVerify, "child TERM"), strings.Count(bySystemd, "child TERM"); a != 2 || b != 2 {
					t.Errorf("%s: the child that survives SIGTERM logged it %d times under verify --unit, %d under systemd; want twice on both sides", u.name, a, b)
				}
			}
			// The main process's exit status: systemd's ExecMainStatus,
			// and what SU104 saw.
			m := regexp.MustCompile(`(?m)^SU104\s.*exit status (\d+)`).FindStringSubmatch(vout)
			if m == nil || m[1] != strings.TrimSpace(statusOut) {
				t.Errorf("%s: exit status %v under verify --unit (SU104), ExecMainStatus=%s under systemd\n%s", u.name, m, strings.TrimSpace(statusOut), tail(vout, 12))
			}
		})
	}
}

// signalsLogged is the probe's log as a sorted list of its distinct
// lines: which signals each process got. The order of two processes' lines
// is the scheduler's, and so is how often a process logs one signal:
// systemd sends KillSignal= to the control group once at the stop and once
// more after the main process has exited (FINAL_SIGTERM), and a child that
// had not yet exited gets it twice (one loaded run: "child TERM" twice
// under systemd, once under verify). sdemu's own tests hold the twice on a
// child that survives SIGTERM.
func signalsLogged(log string) []string {
	lines := strings.Fields(strings.ReplaceAll(strings.TrimSpace(log), " ", "_"))
	slices.Sort(lines)
	return slices.Compact(lines)
}

// accessUnits are Type=notify units whose READY=1 comes from the main
// process (fault none) or from a worker it starts (ready-from-child),
// under each NotifyAccess=: whether systemd hears it decides whether the
// start succeeds, and SU113 must say the same. Their ExecStartPre= says
// whether it was given NOTIFY_SOCKET (with exec and all only).
var accessUnits = []struct {
	name, access, fault string
}{
	{"dcheck-access-default.service", "", "ready-from-child"},
	{"dcheck-access-main.service", "main", "ready-from-child"},
	{"dcheck-access-exec.service", "exec", "ready-from-child"},
	{"dcheck-access-all.service", "all", "ready-from-child"},
	// systemd 252 makes none main for a unit that must notify.
	{"dcheck-access-none.service", "none", "none"},
}

func TestNotifyAccessAgreesWithRealSystemd(t *testing.T) {
	root := bootHost(t)
	for _, u := range accessUnits {
		text := fmt.Sprintf("[Service]\nType=notify\nTimeoutStartSec=5\nExecStartPre=/bin/sh -c 'echo \"socket:${NOTIFY_SOCKET:+given}\" >/run/%s.pre'\nExecStart=%s/brokendaemon run -fault %s -pidfile /run/%s.pid -listen /run/%s.sock\n", u.name, bin, u.fault, u.name, u.name)
		if u.access != "" {
			text += "NotifyAccess=" + u.access + "\n"
		}
		if err := os.WriteFile(filepath.Join(root, "etc/systemd/system", u.name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := sdhost(t, "exec", "systemctl", "daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v\n%s", err, out)
	}
	for _, u := range accessUnits {
		t.Run(u.name, func(t *testing.T) {
			pre := func() string {
				out, _ := sdhost(t, "exec", "cat", "/run/"+u.name+".pre")
				sdhost(t, "exec", "rm", "-f", "/run/"+u.name+".pre")
				return strings.TrimSpace(out)
			}
			_, startErr := sdhost(t, "exec", "systemctl", "start", u.name)
			preSystemd := pre()
			sdhost(t, "exec", "systemctl", "stop", u.name)
			sdhost(t, "exec", "systemctl", "reset-failed", u.name)
			access, _ := sdhost(t, "exec", "systemctl", "show", "-p", "NotifyAccess", "--value", u.name)
			access = strings.TrimSpace(access)

			vout, _ := sdhost(t, "exec", "dcheck", "verify", "--unit", "/etc/systemd/system/"+u.name,
				"--label-filter", "SU113", "--start-timeout", "5s")
			line := regexp.MustCompile(`(?m)^SU113\s.*$`).FindString(vout)
			if preVerify := pre(); preVerify != preSystemd || preVerify == "" {
				t.Errorf("%s: ExecStartPre= printed %q under systemd, %q under dcheck verify --unit", u.name, preSystemd, preVerify)
			}
			t.Logf("systemd: NotifyAccess=%s, start: %v; dcheck: %s", access, startErr, line)
			started := strings.Contains(line, " PASS ")
			if started != (startErr == nil) {
				t.Errorf("%s (NotifyAccess=%s for systemd): systemctl start: %v; dcheck verify --unit: %s", u.name, access, startErr, line)
			}
			// Where dcheck names the NotifyAccess= it applied, it is
			// systemd's.
			if m := regexp.MustCompile(`NotifyAccess=(\w+)`).FindStringSubmatch(line); m != nil && m[1] != access {
				t.Errorf("%s: dcheck applied NotifyAccess=%s, systemd %s\n%s", u.name, m[1], access, line)
			}
		})
	}
}
