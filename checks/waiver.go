package checks

import (
	"strings"
	"time"
)

// Waiver is a daemon owner's accepted exception to one rule: while it
// applies, a failed or unknown finding of that rule has status Waived and
// no longer decides the verdict. Its evidence (the message) is kept.
type Waiver struct {
	Rule   string // Rule ID, e.g. "DC201" (case-insensitive)
	Reason string // Why the exception is accepted; required
	// Expires is the last day the waiver applies, in the host's local
	// time: from the next midnight on it is expired, and the finding is
	// judged as if there were none, saying so. The zero value never
	// expires.
	Expires time.Time
}

// Expired says whether w no longer applies at now.
func (w Waiver) Expired(now time.Time) bool {
	if w.Expires.IsZero() {
		return false
	}
	y, m, d := w.Expires.Date()
	return !now.Before(time.Date(y, m, d+1, 0, 0, 0, 0, now.Location()))
}

// WaiverView is the JSON form of the waiver that concerned a finding.
type WaiverView struct {
	Reason  string `json:"reason"`
	Expires string `json:"expires,omitempty"` // YYYY-MM-DD; empty when it never expires
	// Expired is true when the waiver no longer applied: the finding kept
	// its own status (the text report says so under it).
	Expired bool `json:"expired,omitempty"`
	// Unused is true when the rule passed or was skipped, so the waiver
	// was not needed: a candidate for removal.
	Unused bool `json:"unused,omitempty"`
}

// WaiverFor returns the first of pol's waivers for rule id as it stands
// at pol.Now, and whether there is one. Unused is left to the caller.
func (pol *Policy) WaiverFor(id string) (WaiverView, bool) {
	for _, w := range pol.Waivers {
		if !strings.EqualFold(w.Rule, id) {
			continue
		}
		now := pol.Now
		if now.IsZero() {
			now = time.Now()
		}
		v := WaiverView{Reason: w.Reason, Expired: w.Expired(now)}
		if !w.Expires.IsZero() {
			v.Expires = w.Expires.Format(time.DateOnly)
		}
		return v, true
	}
	return WaiverView{}, false
}

// applyWaiver applies the first of pol's waivers for f's rule to f.
func applyWaiver(f *Finding, pol *Policy) {
	w, ok := pol.WaiverFor(f.ID)
	if !ok {
		return
	}
	if f.Status != Fail && f.Status != Unknown {
		w.Unused = true
	} else if !w.Expired {
		f.Status = Waived
	}
	// A copy: &w would move w to the heap on every call, waiver or none.
	f.Waiver = new(WaiverView)
	*f.Waiver = w
}
