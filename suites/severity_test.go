package suites

import (
	"testing"

	"github.com/dcheck/dcheck/checks"
)

// TestTheCatalogueDecidesWarnOrFail: a spec concludes Failed for the
// defect its rule names, and the rule's severity in the run's profile
// alone makes that a warning (SU112 and SU116 were decided twice, once
// in the catalogue and once by the spec's choice of Warned, and the two
// had to agree by hand). Nothing else is changed.
func TestTheCatalogueDecidesWarnOrFail(t *testing.T) {
	warnings := 0
	for _, r := range checks.Rules() {
		if r.Kind != checks.Lifecycle {
			continue
		}
		for _, p := range []checks.Profile{checks.ProfileSysV, checks.ProfileSupervised} {
			want := Failed
			if r.Severity(p) == checks.Warning {
				want = Warned
				warnings++
			}
			if got := severityDecides(r, p, Failed); got != want {
				t.Errorf("%s (%s in %s): a failure is %s, want %s", r.ID, r.Severity(p), p, got, want)
			}
			for _, o := range []Outcome{Passed, Warned, Noted, Skipped, Unknown, Waived} {
				if got := severityDecides(r, p, o); got != o {
					t.Errorf("%s in %s: %s became %s", r.ID, p, o, got)
				}
			}
		}
	}
	// A static rule's finding carries the severity the judgement gave it
	// (DC202, a warning in the catalogue, is an error when the daemon kept
	// its known starter's umask): it is not overruled.
	dc202, _ := checks.Lookup("DC202")
	if got := severityDecides(dc202, checks.ProfileSysV, Failed); got != Failed {
		t.Errorf("DC202's failure became %s", got)
	}
	if warnings == 0 {
		t.Fatal("no lifecycle rule is a warning in any profile: the test judged nothing")
	}
}
