//go:build linux

package suites_test

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/fixtures"
	"github.com/dcheck/dcheck/suites"
)

// Tests of dcheck verify --unit. The matrix proves SU113 to SU116
// against faults under fixtures/units/brokendaemon.service.

// goodUnit installs fixtures/units/NAME, filled in, in dir.
func goodUnit(t *testing.T, dir, name string) (unit, pidfile string) {
	t.Helper()
	pidfile, unit = filepath.Join(dir, "g.pid"), filepath.Join(dir, name)
	v := fixtures.Values{Bin: bin, PidFile: pidfile, Log: filepath.Join(dir, "g.log"), Socket: filepath.Join(dir, "g.sock"), StartTimeout: slow(time.Minute)}
	if err := fixtures.Fill("../fixtures/units/"+name, unit, 0o644, v); err != nil {
		t.Fatal(err)
	}
	return unit, pidfile
}

// TestUnitRunsAsSystemdWould: the unit's settings reach the daemon's
// process (read back from /proc by the static rules' snapshot and by the
// drop-in's effect), and the summary names what is not emulated.
func TestUnitRunsAsSystemdWould(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	unit, pidfile := goodUnit(t, dir, "gooddaemon-forking.service")
	// A drop-in that moves the pidfile: an empty ExecStart= resets the list.
	moved := filepath.Join(dir, "moved.pid")
	dropin := filepath.Join(dir, "moved.conf")
	pre := filepath.Join(dir, "pre.log")
	text := "[Service]\nExecStart=\nExecStart=" + filepath.Join(bin, "gooddaemon") + " start -pidfile " + moved + "\nPIDFile=" + moved + "\nExecStop=\nPrivateTmp=true\n" +
		"ExecStartPre=/bin/sh -c 'echo $$ >>" + pre + "'\n"
	if err := os.WriteFile(dropin, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, failed := verify(t, nil, append(startBudget(), "--strict", "--unit", unit, "--dropin", dropin)...)
	lines := summaryLines(out)
	if code != 0 || len(failed) > 0 {
		t.Fatalf("exit %d, failed %v\n%s", code, failed, summaryOf(out))
	}
	for id, want := range map[string]string{
		"SU113": "PIDFile=" + moved + " named the live daemon",
		"DC301": moved,
		"SU107": "ExecReload=/bin/kill -HUP $MAINPID",
		"SU104": "KillSignal=SIGTERM",
		"DC401": "its starter blocked and ignored no signal", // systemd's, not the hostile terminal's
		"DC202": "umask is 0022",
	} {
		if !strings.Contains(lines[id], want) {
			t.Errorf("%s: %q, want it to say %q", id, lines[id], want)
		}
	}
	if strings.Contains(out, "0037") || strings.Contains(out, "SIGUSR1") {
		t.Errorf("the summary speaks of the hostile terminal's umask or blocked signal, which a unit's start never had\n%s", summaryOf(out))
	}
	for _, want := range []string{"(Type=forking, sysv)", "note: drop-in " + dropin + " applied", "note: not emulated (they need systemd itself): Service.PrivateTmp=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary does not say %q\n%s", want, summaryOf(out))
		}
	}
	if _, err := os.Lstat(pidfile); err == nil {
		t.Errorf("the unit's own PIDFile= %s was used although the drop-in moved it", pidfile)
	}
	// ExecStartPre= ran before each start of the stopped unit: the first,
	// and SU106's two restarts. Not before SU103's second start while it
	// ran, which systemd would refuse without running anything.
	if data, err := os.ReadFile(pre); err != nil || strings.Count(string(data), "\n") != 3 {
		t.Errorf("ExecStartPre= ran %d times (%v), want 3: the first start and SU106's two", strings.Count(string(data), "\n"), err)
	}
}

// TestUnitCommandHasItsOutput: a unit's command writes to a file (the
// journal's stand-in), never to a closed descriptor (a daemon that opens
// its log then would get descriptor 1 or 2, and lose it to its own
// redirection to /dev/null: nginx did).
func TestUnitCommandHasItsOutput(t *testing.T) {
	dir := t.TempDir()
	unit := filepath.Join(dir, "sleeper.service")
	if err := os.WriteFile(unit, []byte("[Service]\nExecStart=/bin/sh -c 'echo up; exec sleep 100000'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := verify(t, nil, append(startBudget(), "--label-filter", "DC203", "--unit", unit)...)
	line := summaryLines(out)["DC203"]
	if code != 0 || !regexp.MustCompile(`^PASS  .*stdout /tmp/\S+/daemon\.out, stderr /tmp/\S+/daemon\.out`).MatchString(line) {
		t.Errorf("exit %d, DC203 %q: want stdout and stderr on the run's output file\n%s", code, line, summaryOf(out))
	}
}

// TestUnitConfigErrors: what --unit cannot work with is a usage error
// naming the file and the directive, before anything runs.
func TestUnitConfigErrors(t *testing.T) {
	dir := t.TempDir()
	unit, _ := goodUnit(t, dir, "gooddaemon.service")
	oneshot := filepath.Join(dir, "once.service")
	os.WriteFile(oneshot, []byte("[Service]\nType=oneshot\nExecStart=/bin/true\n"), 0o644)
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"a missing unit", []string{"--unit", filepath.Join(dir, "nope.service")}, "nope.service"},
		{"Type=oneshot", []string{"--unit", oneshot}, "does not support Type=oneshot"},
		{"a start command as well", []string{"--unit", unit, "--", "true"}, "not both"},
		{"a stop command", []string{"--unit", unit, "--stop", "true"}, "give no stop or restart command"},
		{"a profile that Type= contradicts", []string{"--unit", unit, "--profile", "sysv"}, "Type=notify is verified with profile supervised"},
		{"a drop-in without a unit", []string{"--dropin", unit, "--", "true"}, "--dropin without --unit"},
		{"a missing drop-in", []string{"--unit", unit, "--dropin", filepath.Join(dir, "gone.conf")}, "gone.conf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := verifyAlone(t, nil, tt.args...)
			if code != 2 || !strings.Contains(out, tt.says) || strings.Contains(out, "PASS") {
				t.Errorf("exit %d, want 2 saying %q and judging nothing:\n%s", code, tt.says, out)
			}
		})
	}
}

// TestUnitKillMode: a daemon that leaves a helper behind. Under
// KillMode=control-group the stop reaches the helper too, as systemd's
// does, and nothing is left; under KillMode=process systemd leaves it
// running by the unit's choice: a note, not a failure.
func TestUnitKillMode(t *testing.T) {
	for _, tc := range []struct{ name, settings, want string }{
		{"control-group", "ExecStart=/bin/sh -c 'sleep 100000 & exec sleep 100001'\nKillMode=control-group",
			`^PASS  after pid \d+ stopped \(KillMode=control-group\), nothing is left`},
		{"process", "ExecStart=/bin/sh -c 'sleep 100000 & exec sleep 100001'\nKillMode=process",
			`^INFO  KillMode=process: systemd leaves the rest running, by the unit's choice: \d+ \(sleep\)`},
		// A helper that ignores SIGTERM outlives TimeoutStopSec=: named
		// as it was while it ran, before systemd's SIGKILL.
		{"survivor", "ExecStart=/bin/sh -c '(trap \"\" TERM; exec sleep 100002) & exec sleep 100001'\nTimeoutStopSec=1",
			`^FAIL  KillMode=control-group: still running 1s after SIGTERM reached them: \d+ \(sleep\) \(killed with SIGKILL then`},
	} {
		mode, want := tc.name, tc.want
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			unit := filepath.Join(dir, "helper.service")
			text := "[Service]\n" + tc.settings + "\n"
			if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, out, _ := verify(t, nil, append(startBudget(), "--label-filter", "SU108", "--unit", unit)...)
			if line := summaryLines(out)["SU108"]; !regexp.MustCompile(want).MatchString(line) {
				t.Errorf("SU108 %q, want %s\n%s", line, want, summaryOf(out))
			}
		})
	}
}

// socketUnit writes NAME.socket in dir listening on a free loopback TCP
// port, and returns its path and the address.
func socketUnit(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // free again: the run binds it
	path := filepath.Join(dir, name+".socket")
	if err := os.WriteFile(path, []byte("[Socket]\nListenStream="+addr+"\nBacklog=8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, addr
}

// TestSocketActivation: the run passes a TCP socket as fd 3, as systemd
// does; gooddaemon (go-systemd's activation) accepts on it, and SU117 says
// so with the daemon's own answer; SU103 and SU109 are not asked. With a
// file system socket, SU118 finds the file the run bound after the stop.
// A daemon that keeps the socket but never accepts fails, naming the queue
// the connection waited in.
func TestSocketActivation(t *testing.T) {
	t.Run("accepts", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		os.Chmod(dir, 0o755)
		unit, _ := goodUnit(t, dir, "gooddaemon.service")
		socket, addr := socketUnit(t, dir, "gooddaemon")
		code, out, failed := verify(t, nil, append(startBudget(), "--label-filter", "SU117 || SU104 || SU103 || SU109", "--unit", unit, "--socket", socket)...)
		line := summaryLines(out)["SU117"]
		// systemd never starts a second instance of an active unit: the
		// sockets are not given to two daemons at once.
		for _, id := range []string{"SU103", "SU109"} {
			if l := summaryLines(out)[id]; !strings.HasPrefix(l, "SKIP  with socket activation systemd runs one instance") {
				t.Errorf("%s %q, want it skipped under --socket", id, l)
			}
		}
		want := `^PASS  pid (\d+): fd 3 \(ListenStream=` + regexp.QuoteMeta(addr) + `\), held as pid \d+ fd \d+: accepted a connection and answered "gooddaemon (\d+)"$`
		m := regexp.MustCompile(want).FindStringSubmatch(line)
		if code != 0 || len(failed) > 0 || m == nil || m[1] != m[2] {
			t.Fatalf("exit %d, failed %v, SU117 %q: want %s\n%s", code, failed, line, want, summaryOf(out))
		}
		// The socket unit's socket outlives the service, and is closed with
		// the run: the port is free again.
		if l, err := net.Listen("tcp4", addr); err != nil {
			t.Errorf("after the run, %s is still taken: %v", addr, err)
		} else {
			l.Close()
		}
	})
	t.Run("keeps its socket file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		os.Chmod(dir, 0o755)
		unit, _ := goodUnit(t, dir, "gooddaemon.service")
		socket, _ := goodUnit(t, dir, "gooddaemon.socket")
		path := filepath.Join(dir, "g.sock")
		code, out, failed := verify(t, nil, append(startBudget(), "--label-filter", "SU118 || SU104", "--unit", unit, "--socket", socket)...)
		line := summaryLines(out)["SU118"]
		want := `^PASS  after pid \d+ exited \(KillSignal=SIGTERM\), the socket files are those the run bound: ` + regexp.QuoteMeta(path) + `, inode \d+$`
		if code != 0 || len(failed) > 0 || !regexp.MustCompile(want).MatchString(line) {
			t.Fatalf("exit %d, failed %v, SU118 %q: want %s\n%s", code, failed, line, want, summaryOf(out))
		}
		// The run made the socket file, and removes it.
		if _, err := os.Lstat(path); err == nil {
			t.Errorf("%s is left after the run", path)
		}
	})
	t.Run("never accepts", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		socket, addr := socketUnit(t, dir, "idle")
		unit := filepath.Join(dir, "idle.service")
		if err := os.WriteFile(unit, []byte("[Service]\nExecStart=/bin/sleep 100000\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, _ := verify(t, nil, "--start-timeout", "2s", "--label-filter", "SU117", "--unit", unit, "--socket", socket)
		line := summaryLines(out)["SU117"]
		want := `^FAIL  pid \d+, given 1 socket by idle.socket: fd 3 \(ListenStream=` + regexp.QuoteMeta(addr) + `\), held as pid \d+ fd 3: a connection to ` + regexp.QuoteMeta(addr) + ` waited 2s in its accept queue and nothing accepted it$`
		if code == 0 || !regexp.MustCompile(want).MatchString(line) {
			t.Errorf("exit %d, SU117 %q: want %s\n%s", code, line, want, summaryOf(out))
		}
	})
}

// TestSocketConfigErrors: a socket unit dcheck cannot pass, or one for
// another service, is a usage error naming the file, before anything runs.
func TestSocketConfigErrors(t *testing.T) {
	dir := t.TempDir()
	unit, _ := goodUnit(t, dir, "gooddaemon.service")
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	other := write("other.socket", "[Socket]\nListenStream=127.0.0.1:9\n")
	accept := write("gooddaemon.socket", "[Socket]\nListenStream=127.0.0.1:9\nAccept=yes\n")
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"a socket without a unit", []string{"--socket", other, "--", "true"}, "--socket needs --unit"},
		{"a socket for another service", []string{"--unit", unit, "--socket", other}, "activates other.service, not the unit gooddaemon.service"},
		{"Accept=yes", []string{"--unit", unit, "--socket", accept}, "Accept=yes starts one service instance per connection"},
		{"a socket drop-in without a socket", []string{"--unit", unit, "--socket-dropin", other}, "--socket-dropin without --socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := verifyAlone(t, nil, tt.args...)
			if code != 2 || !strings.Contains(out, tt.says) || strings.Contains(out, "PASS") {
				t.Errorf("exit %d, want 2 saying %q and judging nothing:\n%s", code, tt.says, out)
			}
		})
	}
}

// pinger is a Type=notify daemon that sends READY=1, then WATCHDOG=1 every
// FRACTION of WATCHDOG_USEC (argv[1]).
const pinger = `import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
addr = os.environ["NOTIFY_SOCKET"]
s.sendto(b"READY=1", addr)
every = int(os.environ["WATCHDOG_USEC"]) / 1e6 * float(sys.argv[1])
while True:
    time.sleep(every)
    s.sendto(b"WATCHDOG=1", addr)
`

// TestWatchdogCadence: SU114 passes a daemon that pings every half
// period, and warns of one that usually pings later than three quarters
// (sd_watchdog_enabled(3) asks for half), without failing it: systemd
// kills only after a whole period without one.
func TestWatchdogCadence(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the pinging daemon is a Python script")
	}
	// WatchdogSec=2: a late tick must be 400 ms late before the slow
	// pinger would fail instead of warn.
	for fraction, want := range map[string]string{
		"0.5": `^PASS  \d+ WATCHDOG=1 from pid \d+ in 6s, usually \S+ apart; the longest wait was \S+ \(WatchdogSec=2s\)$`,
		"0.8": `^WARN  \d+ WATCHDOG=1 from pid \d+ in 6s, usually \S+ apart: well over half of WatchdogSec=2s`,
	} {
		t.Run(fraction, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			script := filepath.Join(dir, "pinger.py")
			unit := filepath.Join(dir, "pinger.service")
			if err := os.WriteFile(script, []byte(pinger), 0o644); err != nil {
				t.Fatal(err)
			}
			text := "[Service]\nType=notify\nWatchdogSec=2\nExecStart=" + python + " " + script + " " + fraction + "\n"
			if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, out, _ := verify(t, nil, append(startBudget(), "--label-filter", "SU114", "--unit", unit)...)
			if line := summaryLines(out)["SU114"]; !regexp.MustCompile(want).MatchString(line) {
				t.Errorf("SU114 %q, want %s\n%s", line, want, summaryOf(out))
			}
		})
	}
}

// TestUnitGetsNoDescriptorDcheckInherited: systemd starts a unit's
// command with descriptors 0, 1 and 2 (and its sockets) alone. dcheck
// verify, started from a shell that left a descriptor open without
// close-on-exec, passed it on to the daemon: cron under verify --unit held
// a fd 10 on /dev/null and a pipe it never had under systemd 252 (found by
// comparing the two in ci/systemd-host.sh's container). The run's daemon
// now holds nothing dcheck inherited.
func TestUnitGetsNoDescriptorDcheckInherited(t *testing.T) {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0) // no O_CLOEXEC: what a shell leaves
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	dir := t.TempDir()
	unit := filepath.Join(dir, "sleeper.service")
	if err := os.WriteFile(unit, []byte("[Service]\nExecStart=/bin/sleep 100000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "daemon.json")
	_, out, _ := verify(t, nil, "--label-filter", "DC205", "--unit", unit, "--daemon-report", report)
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("--daemon-report: %v\n%s", err, summaryOf(out))
	}
	var r checks.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Process.FDs {
		if f.FD > 2 {
			t.Errorf("the daemon (pid %d) holds fd %d (%s), which systemd would not have given it (dcheck inherited fd %d)", r.PID, f.FD, f.Target, fd)
		}
	}
	if len(r.Process.FDs) != 3 {
		t.Errorf("the daemon holds %d descriptors, want 0, 1 and 2: %+v", len(r.Process.FDs), r.Process.FDs)
	}
}

// TestUnitArgumentsArePassedAsWritten: systemd passes ExecStart='s words as
// written. Run from /, dcheck verify --unit took brokendaemon's "run" for
// the directory /run (found by the real systemd host), and its summary
// named a command the unit does not have. A start command typed after --
// still has its file arguments resolved (the start runs elsewhere).
func TestUnitArgumentsArePassedAsWritten(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, "word.service")
	os.WriteFile(unit, []byte("[Service]\nType=simple\nExecStart=/bin/sleep run\n"), 0o644)
	c := suites.NewConfig()
	c.Unit, c.Dir = unit, dir
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Start, " "); got != "/bin/sleep run" {
		t.Errorf("the unit's command is %q, want /bin/sleep run as written", got)
	}
	typed := suites.NewConfig()
	typed.Start, typed.Dir = []string{"/bin/ls", "run"}, dir
	if err := typed.Validate(); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "run"); typed.Start[1] != want {
		t.Errorf("a typed start command's argument is %q, want %q", typed.Start[1], want)
	}
}
