// Package pidtext is the one grammar of a pid written as text, shared by
// the command line (dcheck PID), the judge's pidfile reader
// (checks.ParsePidFile) and the daemonize library's: one or more decimal
// digits, with no sign and no leading zero, from 1 to MaxPID. "+5", "05",
// " 5" and "5 " are not pids; a pidfile's surrounding white space is its
// reader's business.
package pidtext

import (
	"errors"
	"strconv"
)

// MaxPID is the largest pid a Linux kernel can hand out (PID_MAX_LIMIT,
// 4,194,304 on 64-bit systems).
const MaxPID = 4 << 20

// The errors Parse returns.
var (
	ErrSyntax = errors.New("not a decimal pid")                      // not digits alone, or a leading zero
	ErrRange  = errors.New("not a valid pid (must be 1 to 4194304)") // zero, negative, or too large
)

// Parse returns the pid s spells, or ErrSyntax or ErrRange.
func Parse(s []byte) (int, error) {
	neg := len(s) > 1 && s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if len(digits) == 0 || len(digits) > 7 {
		return 0, ErrSyntax
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, ErrSyntax
		}
	}
	if neg || string(digits) == "0" {
		return 0, ErrRange
	}
	if digits[0] == '0' {
		return 0, ErrSyntax
	}
	pid, _ := strconv.Atoi(string(digits))
	if pid > MaxPID {
		return 0, ErrRange
	}
	return pid, nil
}
