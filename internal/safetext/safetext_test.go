package safetext

import (
	"testing"
	"unicode/utf8"
)

// hostile are names a local user can give a process or a file: a cp of
// /bin/sleep to any of them runs as that name.
var hostile = map[string]string{
	"newline":        "a\nb",
	"escape":         "x\x1b]0;pwned\x07y",
	"C1 CSI":         "x\u009b31my",
	"bidi override":  "evil\u202eexe.txt",
	"bidi isolate":   "a\u2066b",
	"not UTF-8":      "x\xffy",
	"cut rune":       "\xc3",
	"line separator": "a\u2028b",
	"DEL":            "a\x7fb",
}

func TestTerminalEscapesEveryHostileName(t *testing.T) {
	for name, s := range hostile {
		got := Terminal(s)
		if Unsafe(got) || !utf8.ValidString(got) {
			t.Errorf("%s: Terminal(%q) = %q: still unsafe", name, s, got)
		}
		if got == s {
			t.Errorf("%s: Terminal(%q) left it as it was", name, s)
		}
	}
	for _, s := range []string{"nginx", "/usr/sbin/my daemon", "café", `say "hi"`, "日本語"} {
		if got := Terminal(s); got != s {
			t.Errorf("Terminal(%q) = %q; safe text must stay as it is", s, got)
		}
	}
}

func TestPercentIsInjective(t *testing.T) {
	seen := map[string]string{}
	inputs := []string{"P 900", "P 900 #1", "P 900 %231", "P 900 %", "x\xffy", "x%FFy", "x\u202ey", "x%E2%80%AEy", "a#b", "a%23b"}
	for _, s := range hostile {
		inputs = append(inputs, s)
	}
	for _, s := range inputs {
		got := Percent(s, "#")
		if other, ok := seen[got]; ok && other != s {
			t.Errorf("Percent(%q) = Percent(%q) = %q", s, other, got)
		}
		seen[got] = s
		if Unsafe(got) || !utf8.ValidString(got) {
			t.Errorf("Percent(%q) = %q: still unsafe", s, got)
		}
		for _, c := range got {
			if c == '#' {
				t.Errorf("Percent(%q) = %q holds the special '#'", s, got)
			}
		}
	}
	if got := Percent("/usr/sbin/nginx", "#"); got != "/usr/sbin/nginx" {
		t.Errorf("Percent changed a safe path: %q", got)
	}
}
