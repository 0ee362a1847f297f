// Command testsummary reads go test -json on stdin and prints what a person
// reads of a test run: each package's result line, the output of every
// test that failed, and the slowest tests (where make test's time goes).
// It exits 1 when a test or package failed, or when the stream says
// nothing (a run that judged nothing is not green).
//
//	go test -json ./... | go run ./ci/testsummary -slowest 15
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action     string // run, output, pass, fail, skip; build-output, build-fail
	ImportPath string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
}

type result struct {
	pkg, test string
	elapsed   time.Duration
}

func main() {
	slowest := flag.Int("slowest", 15, "how many of the slowest tests to print")
	flag.Parse()
	os.Exit(summarize(os.Stdin, os.Stdout, *slowest))
}

func summarize(in io.Reader, out io.Writer, slowest int) int {
	outputs := map[string][]string{} // package/test -> its output lines, kept until it passes
	var tests []result
	failed, packages := false, 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // not an event: the build's own output
			continue
		}
		key := e.Package + "/" + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output) // a compile error
		case "build-fail":
			failed = true
		case "output":
			if e.Test == "" {
				// A package's own lines: its result ("ok", "FAIL") and
				// what the test binary printed outside any test.
				if strings.HasPrefix(e.Output, "ok ") || strings.HasPrefix(e.Output, "FAIL") || strings.HasPrefix(e.Output, "?") ||
					strings.HasPrefix(e.Output, "panic:") || strings.HasPrefix(e.Output, "--- FAIL") {
					fmt.Fprint(out, e.Output)
				} else {
					outputs[key] = append(outputs[key], e.Output)
				}
				continue
			}
			outputs[key] = append(outputs[key], e.Output)
		case "pass", "skip":
			if e.Test != "" {
				if e.Action == "pass" && !strings.Contains(e.Test, "/") {
					tests = append(tests, result{e.Package, e.Test, time.Duration(e.Elapsed * float64(time.Second))})
				}
				delete(outputs, key)
			} else {
				packages++
			}
		case "fail":
			failed = true
			if e.Test != "" {
				if !strings.Contains(e.Test, "/") {
					tests = append(tests, result{e.Package, e.Test, time.Duration(e.Elapsed * float64(time.Second))})
				}
				fmt.Fprintf(out, "\n--- output of %s %s\n%s", e.Package, e.Test, strings.Join(outputs[key], ""))
			} else {
				packages++
				if lines := outputs[key]; len(lines) > 0 {
					fmt.Fprintf(out, "\n--- output of %s\n%s", e.Package, strings.Join(lines, ""))
				}
			}
			delete(outputs, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testsummary:", err)
		return 1
	}
	slices.SortFunc(tests, func(a, b result) int { return int(b.elapsed - a.elapsed) })
	fmt.Fprintf(out, "\nslowest tests:\n")
	for _, r := range tests[:min(slowest, len(tests))] {
		fmt.Fprintf(out, "  %8s  %s %s\n", r.elapsed.Round(100*time.Millisecond), strings.TrimPrefix(r.pkg, "github.com/dcheck/dcheck/"), r.test)
	}
	if packages == 0 {
		fmt.Fprintln(out, "testsummary: no package was tested")
		return 1
	}
	if failed {
		return 1
	}
	return 0
}
