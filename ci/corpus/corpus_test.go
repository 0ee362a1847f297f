// Package corpus holds the fast checks of the corpus of real daemons
// (run.sh runs them, as root, against Debian's packages): that what is
// recorded names the rules of the catalogue, every static rule included,
// and that docs/corpus.md is what docs.sh makes of it. No daemon is run.
package corpus

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dcheck/dcheck/checks"
)

// TestDocIsCurrent: docs/corpus.md is generated from the recorded
// verdicts and the notes; it must not go stale when they change.
func TestDocIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash to run docs.sh")
	}
	want, err := exec.Command("bash", "docs.sh").Output()
	if err != nil {
		t.Fatalf("docs.sh: %v", err)
	}
	got, err := os.ReadFile("../../docs/corpus.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("docs/corpus.md is stale: make docs (or ci/corpus/docs.sh >docs/corpus.md) rewrites it")
	}
}

// TestRecordedVerdictsNameTheCatalogue: each expected file holds "ID
// status" lines, each ID a rule of the catalogue and each status one the
// console prints; and every static rule is recorded for every daemon
// unless its configuration (daemons.sh) leaves the rule out with a label
// filter. A new static rule is then caught here, in seconds, and not by
// a corpus run nobody makes without root: record its verdicts with
// ci/corpus/run.sh -update, and check each by hand against /proc first.
func TestRecordedVerdictsNameTheCatalogue(t *testing.T) {
	files, _ := filepath.Glob("expected/*.txt")
	if len(files) == 0 {
		t.Fatal("no expected files: the test judged nothing")
	}
	config, err := os.ReadFile("daemons.sh")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^((DC|SU)[0-9]{3}) (pass|fail|skip|unknown|info)$`)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		body := functionBody(string(config), "corpus_"+name)
		if body == "" {
			t.Errorf("%s: no corpus_%s in daemons.sh", f, name)
		}
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		sc := bufio.NewScanner(fh)
		for n := 1; sc.Scan(); n++ {
			m := line.FindStringSubmatch(sc.Text())
			if m == nil {
				t.Errorf("%s:%d: %q is not \"ID status\"", f, n, sc.Text())
				continue
			}
			if _, ok := checks.Lookup(m[1]); !ok {
				t.Errorf("%s:%d: %s is not a rule of the catalogue", f, n, m[1])
			}
			seen[m[1]] = true
		}
		fh.Close()
		for _, r := range checks.Rules() {
			if r.Kind == checks.Static && !seen[r.ID] && !strings.Contains(body, "!"+r.ID) {
				t.Errorf("%s: no verdict for %s, a static rule every run judges (ci/corpus/run.sh -update %s records it; check it by hand)", f, r.ID, name)
			}
		}
	}
}

// functionBody is the text of the shell function name in script.
func functionBody(script, name string) string {
	_, after, ok := strings.Cut(script, "\n"+name+"() {")
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(after, "\n}")
	return body
}
