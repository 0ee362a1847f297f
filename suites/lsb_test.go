//go:build linux

package suites_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dcheck/dcheck/fixtures"
)

// Tests of dcheck verify --init-script (SU120-SU124). The matrix proves
// each spec against a fault of fixtures/lsb/gooddaemon.init.

// goodInitScript installs the fixtures' LSB init script around gooddaemon
// in dir, and returns it and its pidfile.
func goodInitScript(t *testing.T, dir string) (script, pidfile string) {
	t.Helper()
	pidfile, script = filepath.Join(dir, "g.pid"), filepath.Join(dir, "gooddaemon.init")
	if err := fixtures.Fill("../fixtures/lsb/gooddaemon.init", script, 0o755, fixtures.Values{Bin: bin, PidFile: pidfile, Log: filepath.Join(dir, "g.log"), StartTimeout: slow(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	return script, pidfile
}

// TestInitScriptUnknownActionThatStartsADaemon: SU124 asks for 2 or 3 and
// for nothing started; a script that starts its daemon for any action it
// does not know fails though it exits 2, and the daemon is killed.
func TestInitScriptUnknownActionThatStartsADaemon(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	pidfile := filepath.Join(dir, "g.pid")
	script := filepath.Join(dir, "eager.init")
	text := `#!/bin/sh
D=` + filepath.Join(bin, "gooddaemon") + ` P=` + pidfile + `
case "$1" in
start) $D status -pidfile $P >/dev/null || $D start -pidfile $P ;;
stop) $D status -pidfile $P >/dev/null || exit 0; $D stop -pidfile $P ;;
status) $D status -pidfile $P ;;
*) $D start -pidfile $P >/dev/null; echo "Usage: $0 start|stop|status"; exit 2 ;;
esac
`
	if err := os.WriteFile(script, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, failed := verify(t, nil, append(startBudget(), "--label-filter", "SU124", "--init-script", script, "--pidfile", pidfile)...)
	line := summaryLines(out)["SU124"]
	if code != 1 || len(failed) != 1 || !regexp.MustCompile(`^FAIL  "dcheck-no-such-action" exited 2 .* and started pid \d+ \(killed\)`).MatchString(line) {
		t.Errorf("exit %d, failed %v, SU124 %q; want exit 1 and SU124 failing on the daemon it started\n%s", code, failed, line, summaryOf(out))
	}
}

// TestInitScriptConfigErrors: what --init-script cannot work with is a
// usage error naming the script and the fault, before anything runs.
func TestInitScriptConfigErrors(t *testing.T) {
	dir := t.TempDir()
	script, pidfile := goodInitScript(t, dir)
	notExec := filepath.Join(dir, "plain.init")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"a missing script", []string{"--init-script", filepath.Join(dir, "nope"), "--pidfile", pidfile}, "no such file"},
		{"a script that is not executable", []string{"--init-script", notExec, "--pidfile", pidfile}, "is not executable"},
		{"a directory", []string{"--init-script", dir, "--pidfile", pidfile}, "is not a regular file"},
		{"no pidfile", []string{"--init-script", script}, "--pidfile"},
		{"a start command as well", []string{"--init-script", script, "--pidfile", pidfile, "--", "true"}, "not both"},
		{"a stop command", []string{"--init-script", script, "--pidfile", pidfile, "--stop", "true"}, "give no stop command"},
		{"the supervised profile", []string{"--init-script", script, "--pidfile", pidfile, "--profile", "supervised"}, "not profile supervised"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := verifyAlone(t, nil, tt.args...)
			if code != 2 || !strings.Contains(out, tt.says) || strings.Contains(out, "PASS") {
				t.Errorf("exit %d, want 2 saying %q and judging nothing:\n%s", code, tt.says, out)
			}
		})
	}
	if _, err := os.Lstat(pidfile); err == nil {
		t.Errorf("a refused configuration left %s", pidfile)
	}
}
