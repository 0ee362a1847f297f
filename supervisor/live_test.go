//go:build linux

package supervisor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/internal/testclock"
	"github.com/dcheck/dcheck/proc"
)

// TestLiveSupervisordProgramIsScannedAsSupervised runs a program under
// Debian's real supervisord and scans the real /proc: the program, whose
// parent is supervisord and not the reaper, is found, named by
// supervisord's name for it, and judged by the supervised profile.
func TestLiveSupervisordProgramIsScannedAsSupervised(t *testing.T) {
	supervisord, err := exec.LookPath("supervisord")
	if err != nil {
		t.Skip("supervisord is not installed (Debian package supervisor; .ci/run installs it)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`[supervisord]
nodaemon=true
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
[program:sleeper]
command=/bin/sleep 1000
`, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(supervisord, "-n", "-c", conf)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(unix.SIGTERM) // supervisord stops its programs, then exits
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(testclock.Scale(30 * time.Second)):
			cmd.Process.Kill()
			<-done
		}
	})
	fsys, err := proc.NewFS("")
	if err != nil {
		t.Fatal(err)
	}
	program := 0
	deadline := time.Now().Add(testclock.Scale(30 * time.Second))
	for program == 0 {
		kids, _ := fsys.Children(cmd.Process.Pid)
		for _, k := range kids {
			if c, _ := fsys.Comm(k); c == "sleep" {
				program = k
			}
		}
		if program == 0 {
			if time.Now().After(deadline) {
				t.Fatal("supervisord never started its program")
			}
			time.Sleep(10 * time.Millisecond) // a child gives no event to wait on
		}
	}
	units := NewSystemd()
	defer units.Close()
	pol := checks.Policy{Supervisors: New(fsys, units, 0)}
	results, err := checks.Scan(fsys, pol, 0)
	if err != nil {
		t.Fatal(err)
	}
	var found *checks.Report
	for _, res := range results {
		if res.PID == cmd.Process.Pid {
			t.Errorf("supervisord itself (pid %d), a child of this test, was scanned", res.PID)
		}
		if res.PID == program {
			found = res.Report
		}
	}
	if found == nil {
		t.Fatalf("the program (pid %d) was not scanned; results: %d", program, len(results))
	}
	sup := found.Supervisor
	if sup == nil || sup.Kind != checks.SupervisorSupervisord || sup.Program != "sleeper" || found.Profile != checks.ProfileSupervised ||
		found.ProfileFrom != checks.ProfileFromSupervisor || !strings.Contains(sup.Evidence, "parent pid "+strconv.Itoa(cmd.Process.Pid)+" (supervisord)") {
		t.Errorf("pid %d: profile %s from %s, supervisor %+v", program, found.Profile, found.ProfileFrom, sup)
	}
}
