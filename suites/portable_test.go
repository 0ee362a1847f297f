//go:build linux

package suites_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Tests of the harness without Linux's facilities (no child subreaper, no
// ptrace, no pty, no credited NOTIFY_SOCKET, no starter's signal mask, no
// /proc: gopsutil reads), as it runs on darwin and FreeBSD.
// DCHECK_HARNESS=portable makes it run so here.

var portable = []string{"DCHECK_HARNESS=portable"}

// TestPortableHarnessJudgesWhatItCanSee: gooddaemon is found through its
// pidfile; each spec either judges it, naming what it saw, or is unknown,
// naming the missing facility. Nothing passes on what could not be seen:
// SU102 (the pidfile at the exit's instant needs the freeze), DC202 and
// DC401 (gopsutil has no umask, no signal masks).
func TestPortableHarnessJudgesWhatItCanSee(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "g.pid")
	args := append(append(startBudget(), "--reload", "--pidfile", pidfile, "--"),
		filepath.Join(bin, "gooddaemon"), "start", "-pidfile", pidfile, "-log", filepath.Join(dir, "g.log"))
	code, out, failed := verify(t, portable, args...)
	lines := summaryLines(out)
	if code != 0 || len(failed) > 0 {
		t.Fatalf("exit %d, failed %v; want exit 0\n%s", code, failed, summaryOf(out))
	}
	want := map[string]string{
		"SU101": "PASS  the start command exited 0 after",
		"SU102": "UNKNOWN  " + pidfile + " named the live daemon",
		"DC202": "UNKNOWN  cannot see its umask",
		"DC401": "UNKNOWN  cannot see its signal masks",
		"DC301": "PASS  " + pidfile + " holds pid",
		"SU103": "PASS  while pid",
		"SU107": "PASS  pid",
		"SU104": "PASS  pid",
		"SU105": "PASS  " + pidfile + " was there before the stop",
		"SU108": "PASS  after pid",
		"SU106": "PASS  pid",
		"SU109": "PASS  8 starts at once",
	}
	for id, prefix := range want {
		if !strings.HasPrefix(lines[id], prefix) {
			t.Errorf("%s: %q, want it to begin %q", id, lines[id], prefix)
		}
	}
	for id, says := range map[string]string{"SU101": "no pty here", "SU102": "needs ptrace"} {
		if !strings.Contains(lines[id], says) {
			t.Errorf("%s: %q does not say %q", id, lines[id], says)
		}
	}
	if !strings.Contains(out, "note: this run had no child subreaper, no ptrace, no pty") {
		t.Errorf("the summary does not say which facilities the run lacked:\n%s", summaryOf(out))
	}
}

// TestPortableHarnessFailsWhatItSees: without the facilities, a failure
// seen is still a failure, each on the evidence this run can gather.
func TestPortableHarnessFailsWhatItSees(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "d.pid")
	tests := []struct {
		name string
		args []string
		fail string // the spec that must fail, saying says
		says string
		pass string // a spec that must pass beside it
	}{
		// The daemon writes its pidfile half a second after the start
		// command has exited: the pidfile is read after the exit, not
		// frozen in it, and it is missing then.
		{"a pidfile written after the start command's exit", []string{"--", "sh", "-c",
			`setsid sh -c 'sleep 0.5; echo $$ >"$0"; exec sleep 1000' "$0" </dev/null >/dev/null 2>&1 &`, pidfile},
			"SU102", "was not ready", "SU101"},
		{"a daemon that keeps the start command's output", []string{"--", "sh", "-c",
			`setsid sh -c 'echo $$ >"$0"; exec sleep 1000' "$0" </dev/null &`, pidfile},
			"SU101", "output pipe", "DC301"},
		{"a daemon that never removes its pidfile", []string{"--label-filter", "!SU109", "--",
			filepath.Join(bin, "brokendaemon"), "start", "-fault", "keep-pidfile", "-pidfile", pidfile},
			"SU105", "is still there after a clean stop", "SU104"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(pidfile)
			args := append(append(startBudget(), "--pidfile", pidfile), tt.args...)
			code, out, failed := verify(t, portable, args...)
			lines := summaryLines(out)
			if code != 1 || !slices.Contains(failed, tt.fail) || !strings.Contains(lines[tt.fail], tt.says) {
				t.Errorf("exit %d, failed %v; want exit 1 and %s failed saying %q\n%s", code, failed, tt.fail, tt.says, summaryOf(out))
			}
			if !strings.HasPrefix(lines[tt.pass], "PASS") {
				t.Errorf("%s: %q, want a pass\n%s", tt.pass, lines[tt.pass], summaryOf(out))
			}
		})
	}
}

// TestPortableHarnessRefusesWhatItCannotRun: a run it cannot make is a
// configuration error before anything starts, naming the flag and why.
func TestPortableHarnessRefusesWhatItCannotRun(t *testing.T) {
	unit := filepath.Join(t.TempDir(), "d.service")
	if err := os.WriteFile(unit, []byte("[Service]\nType=notify\nExecStart=/bin/sleep 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"no pidfile", []string{"--", "sleep", "1000"}, "--pidfile (Config.PidFile) is needed: without a child subreaper"},
		{"a systemd unit", []string{"--unit", unit}, "--unit (Config.Unit) runs a systemd unit as systemd would"},
		{"the job-control launch", []string{"--launch", "job-control", "--pidfile", filepath.Join(t.TempDir(), "x.pid"), "--", "true"}, "--launch job-control"},
	}
	t.Run("a value DCHECK_HARNESS does not take", func(t *testing.T) {
		code, out, _ := verify(t, []string{"DCHECK_HARNESS=portabel"}, "--pidfile", filepath.Join(t.TempDir(), "x.pid"), "--", "true")
		if code != 2 || !strings.Contains(out, `DCHECK_HARNESS="portabel"`) {
			t.Errorf("exit %d, want 2 naming the variable and its value:\n%s", code, out)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := verify(t, portable, tt.args...)
			if code != 2 || !strings.Contains(out, tt.says) || !strings.Contains(out, "needs Linux") && tt.name != "no pidfile" {
				t.Errorf("exit %d, want 2 saying %q:\n%s", code, tt.says, out)
			}
		})
	}
}

// TestPortableHarnessSupervised: the supervised profile needs no pidfile
// to find its daemon (it is the harness's child), and without a credited
// NOTIFY_SOCKET, SU112 is unknown, never a warning about a READY=1 that
// could not have been sent.
func TestPortableHarnessSupervised(t *testing.T) {
	dir := t.TempDir()
	code, out, failed := verify(t, portable, append(startBudget(), "--profile", "supervised", "--",
		filepath.Join(bin, "gooddaemon"), "run", "-log", filepath.Join(dir, "g.log"))...)
	lines := summaryLines(out)
	if code != 0 || len(failed) > 0 || !strings.HasPrefix(lines["SU111"], "PASS  pid") ||
		!strings.HasPrefix(lines["SU112"], "UNKNOWN  no NOTIFY_SOCKET was offered") || !strings.HasPrefix(lines["SU104"], "PASS") {
		t.Errorf("exit %d, failed %v; want exit 0, SU111 and SU104 passed, SU112 unknown\n%s", code, failed, summaryOf(out))
	}
}
