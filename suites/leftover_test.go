//go:build linux

package suites_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStalePidFileBeforeAndAfter: a pidfile that exists before the run is
// named in the summary, with whether its pid runs; a pidfile the run left
// naming one of its own dead daemons (a daemon that never removes it) is
// removed at teardown, so that the next run does not start against it.
func TestStalePidFileBeforeAndAfter(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "b.pid")
	// 4194305 is above the kernel's largest pid: it never runs.
	if err := os.WriteFile(pidfile, []byte("4194305\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := verify(t, nil, "--pidfile", pidfile, "--label-filter", "SU104 || SU105",
		"--", filepath.Join(bin, "brokendaemon"), "start", "-fault", "keep-pidfile", "-pidfile", pidfile)
	lines := summaryLines(out)
	if code != 1 || !strings.HasPrefix(lines["SU105"], "FAIL") {
		t.Fatalf("exit %d, SU105 %q\n%s", code, lines["SU105"], summaryOf(out))
	}
	if !strings.Contains(out, "note: "+pidfile+" already named pid 4194305, which does not run, before the run started anything") {
		t.Errorf("the stale pidfile found before the run is not named:\n%s", out)
	}
	if !strings.Contains(out, "removed "+pidfile+": it named pid ") {
		t.Errorf("no word of the pidfile removed at teardown:\n%s", out)
	}
	if _, err := os.Lstat(pidfile); !os.IsNotExist(err) {
		t.Errorf("the pidfile the run left is still there: %v", err)
	}
}

// TestRelativePaths: users write relative paths. The start command runs in
// a hostile temporary directory, so the program and each argument naming
// a file where dcheck ran are resolved there (and the summary says so),
// and --stop runs where dcheck ran.
func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	pidfile := filepath.Join(dir, "r.pid")
	ctl := `#!/bin/sh
# ctl.sh start|stop PIDFILE [CONF]: a daemon in shell that needs its CONF.
case "$1" in
start) [ -f "$3" ] || { echo "no config file $3" >&2; exit 9; }
       setsid sh -c 'cd /; exec 3>"$0"; flock -n 3 || exit 1; sleep 600 </dev/null >/dev/null 2>&1 & echo $! >&3' "$2" </dev/null >/dev/null 2>&1
       while [ ! -s "$2" ]; do sleep 0.01; done ;;
stop)  kill "$(cat "$2")"; rm -f "$2" ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "ctl.sh"), []byte(ctl), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "daemon.conf"), []byte("x\n"), 0o644)
	cmd := exec.Command(filepath.Join(bin, "dcheck"), "verify", "--pidfile", pidfile, "--start-timeout", slow(time.Minute).String(), "--stop", "./ctl.sh stop "+pidfile,
		"--label-filter", "SU101 || SU104", "--", "./ctl.sh", "start", pidfile, "daemon.conf")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	lines := summaryLines(string(out))
	if err != nil || !strings.HasPrefix(lines["SU101"], "PASS") || !strings.Contains(lines["SU104"], "after the stop command") {
		t.Fatalf("%v\n%s", err, summaryOf(string(out)))
	}
	for _, want := range []string{
		"note: resolved ./ctl.sh → " + filepath.Join(dir, "ctl.sh"),
		"note: resolved daemon.conf → " + filepath.Join(dir, "daemon.conf"),
		"note: --stop and --restart ran in " + dir,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the summary does not say %q:\n%s", want, summaryOf(string(out)))
		}
	}
}
