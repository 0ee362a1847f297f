//go:build linux

package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/attacker"
	"github.com/dcheck/dcheck/internal/testclock"
	"github.com/dcheck/dcheck/proc"

	"github.com/dcheck/dcheck/internal/cleanstart"
)

// binaries builds dcheck and the two fixture daemons once, into a
// directory removed when the test ends.
var binaries = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dcheck-fleet")
	if err != nil {
		return "", err
	}
	os.Chmod(dir, 0o755)
	for pkg, name := range map[string]string{"../cmd/dcheck": "dcheck", "../fixtures/good": "gooddaemon", "../fixtures/broken": "brokendaemon"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput(); err != nil {
			return "", fmt.Errorf("building %s: %v\n%s", pkg, err, out)
		}
	}
	return dir, nil
})

func TestMain(m *testing.M) {
	cleanstart.Main() // whatever started the tests, the processes they start inherit nothing of it
	code := m.Run()
	if dir, err := binaries(); err == nil && dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// need skips the test, saying why, when a program is not installed.
func need(t *testing.T, prog, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(prog)
	if err != nil {
		t.Skipf("%s is not installed (Debian package %s; .ci/run installs it)", prog, pkg)
	}
	return path
}

// startDaemon runs a daemon's start command, which returns once the daemon
// is up, and reads the daemon's pid from its pidfile. The daemon is an
// orphan adopted by this test process (a subreaper), and is killed and
// reaped by pid when the test ends.
func startDaemon(t *testing.T, pidfile string, argv ...string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testclock.Scale(2*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", argv, err, out)
	}
	pid, err := proc.ReadPid(pidfile)
	if err != nil {
		t.Fatalf("%v exited 0, but: %v", argv, err)
	}
	t.Cleanup(func() {
		if unix.Kill(pid, unix.SIGKILL) == nil {
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
		}
	})
	return pid
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestNodeExporterServesTheScan is the whole fleet path with the real
// engine: dcheck scan --textfile writes the verdicts on a good and a broken
// daemon, Debian's node_exporter serves them, an HTTP scrape reads them
// back, and promtool accepts the file and the shipped alert rules.
func TestNodeExporterServesTheScan(t *testing.T) {
	exporter := need(t, "prometheus-node-exporter", "prometheus-node-exporter")
	bin, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	// Orphans come to this process, which can then scan "its" daemons
	// alone (--reaper) and reap them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)

	dir := t.TempDir()
	textdir := filepath.Join(dir, "textfile")
	if err := os.Mkdir(textdir, 0o755); err != nil {
		t.Fatal(err)
	}
	goodPidfile, badPidfile := filepath.Join(dir, "good.pid"), filepath.Join(dir, "bad.pid")
	startDaemon(t, goodPidfile, filepath.Join(bin, "gooddaemon"), "start", "-pidfile", goodPidfile, "-log", filepath.Join(dir, "good.log"))
	// keep-cwd: runs in this package's directory, not "/" (DC201).
	startDaemon(t, badPidfile, filepath.Join(bin, "brokendaemon"), "start", "-fault", "keep-cwd", "-pidfile", badPidfile)
	// nobody's copy of the broken daemon, under a name that is not UTF-8
	// and holds a bidi override: it must be named, escaped, in a file
	// node_exporter still reads (it once dropped the whole file).
	fails, hostile := 1, ""
	if _, err := exec.LookPath("setpriv"); os.Geteuid() != 0 || err != nil {
		t.Log("the hostile name is not tried: it needs root and setpriv, to run as nobody")
	} else {
		hdir := attacker.Dir(t, dir, "nobody")
		attacker.Reachable(hdir)
		exe, hpid := filepath.Join(hdir, "x\xff\u202eexe.sh"), filepath.Join(hdir, "h.pid")
		if data, err := os.ReadFile(filepath.Join(bin, "brokendaemon")); err != nil || os.WriteFile(exe, data, 0o755) != nil || os.Chown(exe, attacker.Nobody, attacker.Nobody) != nil {
			t.Fatalf("copying brokendaemon to %q: %v", exe, err)
		}
		if out, err := attacker.Run(t, `cd "${1%/*}" && "$1" start -fault keep-cwd -pidfile "$2"`, exe, hpid); err != nil {
			t.Fatalf("nobody's daemon: %v\n%s", err, out)
		}
		pid, err := proc.ReadPid(hpid)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Kill(pid, unix.SIGKILL) })
		fails, hostile = 2, filepath.Join(hdir, "x%FF%E2%80%AEexe.sh")
	}
	// The good daemon is known by its pidfile, which is judged too.
	cfg := filepath.Join(dir, "dcheck.yaml")
	os.WriteFile(cfg, []byte("daemons:\n  - match: {pidfile: "+goodPidfile+"}\n"), 0o644)

	scan := exec.Command(filepath.Join(bin, "dcheck"), "scan", "--reaper", strconv.Itoa(os.Getpid()), "--config", cfg, "--textfile", textdir)
	if out, err := scan.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("%v: %v (want exit 0 and no output)\n%s", scan.Args, err, out)
	}
	promFile := filepath.Join(textdir, TextfileName)

	port := freePort(t)
	var stderr bytes.Buffer
	ne := exec.Command(exporter, "--collector.disable-defaults", "--collector.textfile",
		"--collector.textfile.directory="+textdir, fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	ne.Stderr = &stderr
	if err := ne.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- ne.Wait() }()
	t.Cleanup(func() {
		ne.Process.Kill()
		<-exited
	})

	// Scrape once node_exporter answers (it says nothing when it is ready).
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	var body []byte
	deadline := time.Now().Add(testclock.Scale(2 * time.Minute))
	for {
		resp, err := http.Get(url)
		if err == nil {
			var buf bytes.Buffer
			_, err = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				body = buf.Bytes()
				break
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("node_exporter exited: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("node_exporter did not answer on %s: %v\n%s", url, err, stderr.String())
		}
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("scrape: %v\n%s", err, body)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		for _, m := range families[name].GetMetric() {
			if matches(m, labels) {
				return m.GetGauge().GetValue() + m.GetUntyped().GetValue(), true
			}
		}
		return 0, false
	}
	bad := filepath.Join(bin, "brokendaemon")
	for _, want := range []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"node_textfile_scrape_error", nil, 0},
		{"node_textfile_mtime_seconds", map[string]string{"file": promFile}, -1},
		{"dcheck_build_info", map[string]string{"schema": "dcheck/v2"}, 1},
		{"dcheck_daemon_verdict", map[string]string{"daemon": goodPidfile, "profile": "sysv", "verdict": "pass"}, 1},
		{"dcheck_daemon_verdict", map[string]string{"daemon": bad, "profile": "sysv", "verdict": "fail"}, 1},
		{"dcheck_rule_failed", map[string]string{"daemon": bad, "rule": "DC201", "severity": "error"}, 1},
		{"dcheck_rule_failed", map[string]string{"daemon": goodPidfile, "rule": "DC201", "severity": "error"}, 0},
		{"dcheck_rule_failed", map[string]string{"daemon": goodPidfile, "rule": "DC303", "severity": "warning"}, 0},
		{"dcheck_scan_daemons", map[string]string{"verdict": "pass"}, 1},
		{"dcheck_scan_daemons", map[string]string{"verdict": "fail"}, float64(fails)},
		{"dcheck_scan_daemons", map[string]string{"verdict": "unknown"}, 0},
		{"dcheck_scan_uninspectable", nil, 0},
		{map[bool]string{true: "dcheck_daemon_verdict"}[hostile != ""], map[string]string{"daemon": hostile, "verdict": "fail"}, 1},
	} {
		if want.name == "" {
			continue
		}
		got, ok := value(want.name, want.labels)
		switch {
		case !ok:
			t.Errorf("no series %s%v in the scrape", want.name, want.labels)
		case want.value >= 0 && got != want.value:
			t.Errorf("%s%v = %v, want %v", want.name, want.labels, got, want.value)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}

	// promtool, Prometheus's own checker: the file, and the shipped rules
	// with their unit tests.
	if promtool, err := exec.LookPath("promtool"); err != nil {
		t.Log("promtool is not installed (Debian package prometheus): file and rules not checked by it")
	} else {
		data, _ := os.ReadFile(promFile)
		check := exec.Command(promtool, "check", "metrics")
		check.Stdin = bytes.NewReader(data)
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
		for _, args := range [][]string{{"check", "rules", "dcheck.rules.yml"}, {"test", "rules", "dcheck.rules.test.yml"}} {
			c := exec.Command(promtool, args...)
			c.Dir = "../contrib/prometheus"
			if out, err := c.CombinedOutput(); err != nil {
				t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	}
}

func matches(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// TestContribUnits checks the shipped systemd units with systemd's own
// verifier, pointed at a real dcheck binary.
func TestContribUnits(t *testing.T) {
	analyze := need(t, "systemd-analyze", "systemd")
	bin, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"dcheck-scan.service", "dcheck-scan.timer"} {
		data, err := os.ReadFile(filepath.Join("../contrib/systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("/usr/local/bin/dcheck"), []byte(filepath.Join(bin, "dcheck")))
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(analyze, "verify", filepath.Join(dir, "dcheck-scan.service"), filepath.Join(dir, "dcheck-scan.timer")).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Skipf("systemd-analyze cannot run here: %v", err)
	}
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The cron line runs the same command, as root, every minute.
	cron, err := os.ReadFile("../contrib/cron/dcheck-scan")
	if err != nil {
		t.Fatal(err)
	}
	service, _ := os.ReadFile("../contrib/systemd/dcheck-scan.service")
	const cmd = "/usr/local/bin/dcheck scan --textfile /var/lib/prometheus/node-exporter"
	if !bytes.Contains(cron, []byte("* * * * * root "+cmd)) || !bytes.Contains(service, []byte("ExecStart="+cmd)) {
		t.Errorf("the cron line and the service do not run %q", cmd)
	}
}
