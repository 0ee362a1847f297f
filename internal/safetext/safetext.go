// Package safetext is the one definition of what text from the outside
// world (a process's name, arguments, paths, a daemon's messages) may
// reach a terminal, a Nagios line or a metric label as it is, and how it
// is escaped when it may not.
//
// A character is unsafe when strconv.IsPrint says it is not printable, or
// when it is a byte that is not UTF-8: the C0 controls and DEL, the C1
// controls (U+009B is a CSI, as ESC [ is), the bidirectional overrides and
// isolates (U+202E turns the rest of a line around), the line and
// paragraph separators, and the other format characters.
package safetext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Unsafe reports whether s holds a character that must not reach a
// terminal as it is.
func Unsafe(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return true // a byte that is not UTF-8
			}
		}
		if !strconv.IsPrint(r) {
			return true
		}
	}
	return false
}

// Terminal is s as it may be printed: s itself when it is safe, else
// escaped as strconv.Quote escapes it, without the quotes (\x1b, \u202e,
// \xff, \n). The result is one line of printable UTF-8.
func Terminal(s string) string {
	if !Unsafe(s) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// Percent is s with each unsafe byte, and every byte of special, written
// as %XX, and '%' itself as %25: an injective escaping (two different
// strings never give the same result) whose result is printable UTF-8 and
// holds none of special's bytes. Names are built from it, so that a
// separator such as '#' can never come from the outside.
func Percent(s string, special string) string {
	if !Unsafe(s) && !strings.ContainsAny(s, "%"+special) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1, !strconv.IsPrint(r):
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		case r == '%' || strings.ContainsRune(special, r):
			fmt.Fprintf(&b, "%%%02X", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
