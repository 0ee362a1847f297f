package checks

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dcheck/dcheck/internal/proctree"
	"github.com/dcheck/dcheck/proc"
)

// fixture is a recorded process tree and what its comment expects, in the
// manner of analysistest's "// want": the expectations live in the archive,
// beside the data they describe.
type fixture struct {
	root    string
	pid     int
	pidfile string
	comm    string
	want    map[string]Status
	verdict Verdict
}

func loadFixture(t *testing.T, path string) fixture {
	t.Helper()
	root, comment := proctree.Build(t, path)
	fx := fixture{root: root, want: map[string]Status{}}
	for _, line := range strings.Split(comment, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "pid":
			fx.pid, _ = strconv.Atoi(val)
		case "pidfile":
			fx.pidfile = strings.ReplaceAll(val, "$TREE", root)
		case "comm":
			fx.comm, _ = strconv.Unquote(val)
		case "want":
			for _, w := range strings.Fields(val) {
				id, st, _ := strings.Cut(w, "=")
				fx.want[id] = Status(st)
			}
		case "verdict":
			fx.verdict = Verdict(val)
		}
	}
	return fx
}

// TestRecordedProcesses judges each recorded process tree under
// testdata/proc and compares every finding with the archive's "want" lines.
func TestRecordedProcesses(t *testing.T) {
	paths, _ := filepath.Glob("testdata/proc/*.txtar")
	if len(paths) == 0 {
		t.Fatal("no fixtures in testdata/proc")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			fx := loadFixture(t, path)
			if len(fx.want) == 0 {
				t.Skip("archive states no expectations (used by other tests)")
			}
			fsys, err := proc.NewFS(fx.root)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Inspect(fsys, fx.pid, Policy{PidFile: fx.pidfile})
			if err != nil {
				t.Fatalf("Inspect(%d): %v", fx.pid, err)
			}
			if len(fx.want) != len(r.Findings) {
				t.Errorf("archive expects %d findings, the judge gave %d", len(fx.want), len(r.Findings))
			}
			for _, f := range r.Findings {
				if want, ok := fx.want[f.ID]; !ok {
					t.Errorf("%s %s: no expectation in the archive (got %s: %s)", f.ID, f.Name, f.Status, f.Message)
				} else if f.Status != want {
					t.Errorf("%s %s = %s, want %s: %s", f.ID, f.Name, f.Status, want, f.Message)
				}
			}
			if r.Verdict != fx.verdict {
				t.Errorf("verdict = %s, want %s", r.Verdict, fx.verdict)
			}
			if fx.comm != "" && r.Process.Comm != fx.comm {
				t.Errorf("comm = %q, want %q", r.Process.Comm, fx.comm)
			}
		})
	}
}
