// Package pidtext is the one grammar of a pid written as text, shared by
// the command line (dcheck PID), the judge's pidfile reader
// (proc.ParsePidFile) and the daemonize library's: one or more decimal
// digits, with no sign and no leading zero, from 1 to MaxPID. "+5", "05",
// " 5" and "5 " are not pids; a pidfile's surrounding white space is its
// reader's business. A pid above the kernel's limit is well formed: no
// process has it, which is the caller's finding to make ("no such
// process"), not a syntax error.
package pidtext

import (
	"errors"
	"strconv"
)

// MaxPID is the largest value of pid_t.
const MaxPID = 1<<31 - 1

// The errors Parse returns.
var (
	ErrSyntax = errors.New("not a decimal pid")             // not digits alone, or a leading zero
	ErrRange  = errors.New("not a valid pid (must be > 0)") // zero, negative, or beyond pid_t
)

// Parse returns the pid s spells, or ErrSyntax or ErrRange.
func Parse(s []byte) (int, error) {
	neg := len(s) > 1 && s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if len(digits) == 0 || len(digits) > 10 {
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
	pid, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil || pid > MaxPID {
		return 0, ErrRange
	}
	return int(pid), nil
}
