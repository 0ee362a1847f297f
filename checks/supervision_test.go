package checks

import (
	"strings"
	"testing"

	"github.com/dcheck/dcheck/proc"
)

// supervisedBy answers every question with one supervision.
type supervisedBy Supervision

func (s supervisedBy) Supervision(*proc.Snapshot) Supervision { return Supervision(s) }
func (supervisedBy) Scanned(int, int) bool                    { return false }

func judgeDoubleFork(t *testing.T, pol Policy) *Report {
	t.Helper()
	fx := loadFixture(t, "testdata/proc/double-fork.txtar")
	fsys, err := proc.NewFS(fx.root)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Inspect(fsys, fx.pid, pol)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTheSupervisorChoosesTheProfile: a systemd unit of Type=notify is
// judged supervised, one of Type=forking as a classic daemon, and
// --profile (or a config entry) overrides either; the report says which.
func TestTheSupervisorChoosesTheProfile(t *testing.T) {
	notify := supervisedBy{Kind: SupervisorSystemd, Unit: "a.service", Type: "notify", Profile: ProfileSupervised, Source: "test"}
	forking := supervisedBy{Kind: SupervisorSystemd, Unit: "b.service", Type: "forking", Profile: ProfileSysV, Source: "test"}
	for _, tc := range []struct {
		name    string
		pol     Policy
		profile Profile
		from    string
	}{
		{"notify", Policy{Supervisors: notify}, ProfileSupervised, ProfileFromSupervisor},
		{"forking", Policy{Supervisors: forking}, ProfileSysV, ProfileFromSupervisor},
		{"--profile over the supervisor", Policy{Supervisors: notify, Profile: ProfileSysV, ProfileFrom: ProfileFromFlag}, ProfileSysV, ProfileFromFlag},
		{"a config entry over the supervisor", Policy{Supervisors: forking, Profile: ProfileSupervised, ProfileFrom: ProfileFromConfig}, ProfileSupervised, ProfileFromConfig},
		{"nothing asked", Policy{}, ProfileSysV, ProfileFromDefault},
	} {
		r := judgeDoubleFork(t, tc.pol)
		if r.Profile != tc.profile || r.ProfileFrom != tc.from {
			t.Errorf("%s: profile %s from %s, want %s from %s", tc.name, r.Profile, r.ProfileFrom, tc.profile, tc.from)
		}
		if (tc.pol.Supervisors == nil) != (r.Supervisor == nil) {
			t.Errorf("%s: supervisor %+v", tc.name, r.Supervisor)
		}
	}
}

// TestUndecidedProfileJudgesOnlyWhatBothAgreeOn: when the supervision
// cannot tell the profile (systemd could not say the unit's Type=), a rule
// whose finding depends on the profile is unknown, saying both, and one
// both profiles agree on stands. The double-fork daemon passes DC103 as a
// classic daemon, and the supervised profile skips it.
func TestUndecidedProfileJudgesOnlyWhatBothAgreeOn(t *testing.T) {
	r := judgeDoubleFork(t, Policy{Supervisors: supervisedBy{Kind: SupervisorSystemd, Unit: "c.service", Err: "the Type= of c.service: no answer"}})
	if r.Profile != ProfileUndecided || r.Verdict != VerdictUnknown {
		t.Errorf("profile %s, verdict %s; want undecided, unknown", r.Profile, r.Verdict)
	}
	byID := map[string]Finding{}
	for _, f := range r.Findings {
		byID[f.ID] = f
	}
	if f := byID["DC103"]; f.Status != Unknown || !strings.Contains(f.Message, "the profile could not be decided (the Type= of c.service: no answer)") ||
		!strings.Contains(f.Message, "as a sysv daemon pass") || !strings.Contains(f.Message, "as a supervised one skip") {
		t.Errorf("DC103: %s %q", f.Status, f.Message)
	}
	if f := byID["DC104"]; f.Status != Pass {
		t.Errorf("DC104, the same in both profiles: %s %q", f.Status, f.Message)
	}
}
