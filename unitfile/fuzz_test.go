package unitfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: whatever a unit file holds, Parse returns a Service or an
// ErrUnit, never panics; every command line of a parsed unit expands.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"[Service]\nExecStart=/bin/true\n",
		"[Service]\nType=notify\nEnvironment=A=1 \"B=two words\"\nExecStart=@/bin/sh sh -c 'echo $A ${B}' \\\n  --x\nWatchdogSec=1min 30s\n",
		"[Service]\nExecStart=-:/usr/bin/x %n %i $$ \"\\t\"\nUMask=0077\nKillSignal=SIGQUIT\n",
		"[Service]\nExecStart=/bin/echo \"unterminated\n",
		"[Unit\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "fuzz@x.service")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Parse(path)
		if err != nil {
			if !errors.Is(err, ErrUnit) {
				t.Fatalf("Parse: %v, not an ErrUnit", err)
			}
			return
		}
		for _, c := range append(append(s.ExecStartPre, s.ExecStart...), s.ExecStop...) {
			c.Expand(map[string]string{"A": "1 2", "MAINPID": "7"}) // an error is fine; a panic is not
		}
	})
}
