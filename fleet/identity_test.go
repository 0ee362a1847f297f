package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dcheck/dcheck/checks"
)

// report is a judged process as Names sees it.
func report(pid int, start uint64, exe string, cmdline ...string) *checks.Report {
	r := &checks.Report{PID: pid, Verdict: checks.VerdictPass, Profile: checks.ProfileSysV}
	if exe != "" {
		r.Process.Exe = &exe
	}
	r.Process.Comm = "comm" + strings.Repeat("x", pid%3)
	r.Process.StartTime = start
	r.Process.Cmdline = cmdline
	return r
}

// hashOf is the hash Names gives these arguments (after the program's).
func hashOf(args ...string) string {
	h := sha256.New()
	for _, a := range args {
		h.Write([]byte(a + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

func TestNames(t *testing.T) {
	named := report(1, 1, "/usr/sbin/a")
	named.Name = "owner's name"
	named2 := report(5, 2, "/usr/sbin/a", "a", "-x")
	named2.Name = "owner's name"
	withPidfile := report(2, 1, "/usr/sbin/b")
	withPidfile.PidFile = &checks.PidFileView{Path: "/run/b.pid"}
	for _, tc := range []struct {
		name    string
		reports []*checks.Report
		want    []string
	}{
		{"precedence", []*checks.Report{named, withPidfile, report(3, 1, "/usr/sbin/c"), report(4, 1, "")},
			[]string{"owner's name", "/run/b.pid", "/usr/sbin/c", "comm:commx"}},
		{"instances told apart by a hash of their arguments, never the arguments",
			[]*checks.Report{report(10, 5, "/usr/sbin/nginx", "nginx", "-c", "/etc/a.conf"), report(11, 3, "/usr/sbin/nginx", "nginx", "-c", "/etc/b.conf"), report(12, 1, "/usr/sbin/redis")},
			[]string{"/usr/sbin/nginx #" + hashOf("-c", "/etc/a.conf"), "/usr/sbin/nginx #" + hashOf("-c", "/etc/b.conf"), "/usr/sbin/redis"}},
		{"then by start time, not pid",
			[]*checks.Report{report(20, 9, "/usr/bin/sleep", "sleep", "9"), report(21, 2, "/usr/bin/sleep", "sleep", "9"), report(22, 5, "/usr/bin/sleep", "sleep", "9")},
			[]string{"/usr/bin/sleep #" + hashOf("9") + " #3", "/usr/bin/sleep #" + hashOf("9") + " #1", "/usr/bin/sleep #" + hashOf("9") + " #2"}},
		{"an owner's name matched twice is told apart the same way",
			[]*checks.Report{named, named2},
			[]string{"owner's name #" + hashOf(), "owner's name #" + hashOf("-x")}},
		{"a program named like a second instance",
			[]*checks.Report{report(40, 1, "/x/P 900", "P 900"), report(41, 2, "/x/P 900", "P 900"), report(42, 3, "/x/P 900 #1")},
			[]string{"/x/P 900 #" + hashOf() + " #1", "/x/P 900 #" + hashOf() + " #2", "/x/P 900 %231"}},
		{"bytes that are not UTF-8, controls and bidi overrides",
			[]*checks.Report{report(50, 1, "/tmp/x\xffy"), report(51, 1, "/tmp/a\u202eb\x1b[31m")},
			[]string{"/tmp/x%FFy", "/tmp/a%E2%80%AEb%1B[31m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Names(tc.reports)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestNamesAreUniqueByConstruction: names drawn from an alphabet that can
// spell every suffix Names adds (" #1", " #3f9a0c1e", "%23") never give
// two reports one name, whatever mix of programs, arguments and owners'
// names a host holds: a collision is two series with one label set.
func TestNamesAreUniqueByConstruction(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"P", " ", "#", "1", "2", "%", "23", "#1", " #1", "\xff", "9"}
	word := func() string {
		var b strings.Builder
		for range rng.IntN(4) + 1 {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for round := range 2000 {
		var reports []*checks.Report
		for i := range rng.IntN(12) + 2 {
			r := report(i+1, uint64(rng.IntN(3)), "/"+word(), "x", word())
			if rng.IntN(4) == 0 {
				r.Name = word()
			}
			reports = append(reports, r)
		}
		names := Names(reports)
		seen := map[string]int{}
		for i, n := range names {
			if j, ok := seen[n]; ok {
				t.Fatalf("round %d: reports %d and %d are both named %q", round, j, i, n)
			}
			seen[n] = i
			if !utf8.ValidString(n) {
				t.Fatalf("round %d: name %q is not UTF-8", round, n)
			}
		}
	}
}
