package sessionenv

import "testing"

func TestIs(t *testing.T) {
	for name, want := range map[string]bool{
		"TERM": true, "SSH_TTY": true, "SSH_CONNECTION": true, "XDG_SESSION_ID": true, "DISPLAY": true,
		"WINDOWID": true, "OLDPWD": true,
		"PATH": false, "HOME": false, "LANG": false, "TERMINFO": false, "XDG_RUNTIME_DIR": false, "SSH": false,
	} {
		if got := Is(name); got != want {
			t.Errorf("Is(%q) = %v, want %v", name, got, want)
		}
	}
	if !InEntry("TERM=xterm") || InEntry("PATH=/bin") || InEntry("TERMx=1") {
		t.Error("InEntry does not judge by the name before '='")
	}
}
