//go:build linux

package cli

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/proc"
)

// TestDescriptorHoardIsReadToABound: nobody's process holding more
// descriptors than dcheck reads (any user may hold half a million under
// systemd's limits; 20 such processes once took a scan 10 s and 340 MB)
// is read to the bound: the rules that need every descriptor say unknown
// and how many there were, and the one that needs only 0, 1 and 2 judges.
func TestDescriptorHoardIsReadToABound(t *testing.T) {
	n := proc.MaxFDs + 1000
	var lim struct{ Cur uint64 }
	if data, err := os.ReadFile("/proc/self/limits"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) >= 5 && f[0] == "Max" && f[1] == "open" {
				lim.Cur, _ = strconv.ParseUint(f[3], 10, 64)
			}
		}
	}
	if lim.Cur < uint64(n+16) {
		t.Skipf("the open files limit (%d) is below the %d descriptors this needs", lim.Cur, n)
	}
	// bash opens them (from fd 10 up) and execs sleep, which keeps them.
	pid := nobodyRuns(t, "sleep", `cd / && setsid bash -c 'for ((i = 0; i < $0; i++)); do exec {fd}</dev/null; done; exec sleep 1000' "$1" </dev/null >/dev/null 2>&1 & echo $!`, strconv.Itoa(n))
	var r checks.Report
	code, stdout, stderr := run("-o", "json", strconv.Itoa(pid))
	if code == ExitUsage {
		t.Fatalf("dcheck: %s", stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	want := strconv.Itoa(n+3) + " descriptors, of which dcheck reads the first " + strconv.Itoa(proc.MaxFDs)
	for _, f := range r.Findings {
		switch f.ID {
		case "DC204", "DC205":
			if f.Status != checks.Unknown || !strings.Contains(f.Message, "of which dcheck reads the first") {
				t.Errorf("%s %s: %s; want unknown, saying %q", f.ID, f.Status, f.Message, want)
			}
		case "DC203":
			if f.Status == checks.Unknown {
				t.Errorf("DC203 unknown (%s): descriptors 0, 1 and 2 are among those read", f.Message)
			}
		}
	}
}

// TestScanDeadlines: a scan that has used up --timeout, or a process that
// takes longer than --process-timeout, counts the daemons it did not
// judge as uninspectable (exit 3) and says why: never a pass.
func TestScanDeadlines(t *testing.T) {
	nobodyRuns(t, "sleep", `cd / && setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!`)
	for _, flag := range []string{"--timeout", "--process-timeout"} {
		code, stdout, stderr := run("scan", flag, "1ns")
		if code != ExitUninspectable {
			t.Errorf("scan %s 1ns: exit %d; want %d\n%s", flag, code, ExitUninspectable, stdout)
		}
		if !strings.Contains(stderr, "not judged in time") {
			t.Errorf("scan %s 1ns did not say which daemons were not judged in time:\n%s", flag, stderr)
		}
	}
	if code, _, stderr := run("scan", "--timeout", "-1s"); code != ExitUsage || !strings.Contains(stderr, "--timeout") {
		t.Errorf("scan --timeout -1s: exit %d, %q; want a usage error naming the flag", code, stderr)
	}
}
