package suites

import "errors"

// Outcome is what one spec concluded. The zero value is Unknown: a spec
// that gathered nothing has not passed.
type Outcome int

// The outcomes. Passed, Failed, Warned and Noted are judgements, each with
// the evidence in its message; Unknown says why nothing could be judged;
// Skipped says why the spec does not apply.
const (
	Unknown Outcome = iota // the facts could not be gathered: never pass, never fail
	Passed                 // judged, and right
	Failed                 // judged, and wrong (an error rule)
	Warned                 // judged, and wrong in a way that fails only with Strict
	Noted                  // judged; worth knowing (an info rule), never a failure
	Skipped                // does not apply: not asked for, or no pidfile given
	Waived                 // judged wrong or unknown, and a waiver accepts it: never pass
)

func (o Outcome) String() string {
	switch o {
	case Passed:
		return "pass"
	case Failed:
		return "fail"
	case Warned:
		return "warn"
	case Noted:
		return "info"
	case Skipped:
		return "skip"
	case Waived:
		return "waived"
	}
	return "unknown"
}

// judged reports whether the outcome is a judgement made on evidence. A
// waived outcome is not one that counts: a run whose every spec was waived
// (or unknown, waived) has shown nothing to pass on.
func (o Outcome) judged() bool { return o == Passed || o == Failed || o == Warned || o == Noted }

// ErrNothingJudged is returned by RunStandalone, and reported by Run, when
// the run judged nothing: the label filter matched no spec, or every
// selected spec was skipped or could not be judged. Such a run is not a
// pass.
var ErrNothingJudged = errors.New("nothing was judged")
