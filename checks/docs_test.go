package checks

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md, the README's rule table and golden files from the code")

// TestDocsAreCurrent fails when docs/rules.md or the rule table in the
// README no longer match the catalogue. "make docs" rewrites both.
func TestDocsAreCurrent(t *testing.T) {
	const rulesDoc = "../docs/rules.md"
	want := RulesMarkdown()
	if *update {
		if err := os.WriteFile(rulesDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(rulesDoc)
	if err != nil || string(got) != want {
		t.Errorf("%s is stale or missing (%v): run make docs", rulesDoc, err)
	}

	const readme = "../README.md"
	const begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q block for the rule table", readme, begin, end)
	}
	fresh := s[:i+len(begin)] + RulesTable() + s[j:]
	if *update && fresh != s {
		if err := os.WriteFile(readme, []byte(fresh), 0o644); err != nil {
			t.Fatal(err)
		}
		s = fresh
	}
	if fresh != s {
		t.Errorf("the rule table in %s is stale: run make docs", readme)
	}
}
