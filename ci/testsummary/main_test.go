package main

import (
	"strings"
	"testing"
)

// TestSummary: a failed test's output is printed, a passing one's is not,
// the slowest come last in order, and the exit code says what happened.
func TestSummary(t *testing.T) {
	stream := `{"Action":"run","Package":"p","Test":"TestFast"}
{"Action":"output","Package":"p","Test":"TestFast","Output":"noise of a test that passes\n"}
{"Action":"pass","Package":"p","Test":"TestFast","Elapsed":0.1}
{"Action":"run","Package":"p","Test":"TestSlow"}
{"Action":"output","Package":"p","Test":"TestSlow","Output":"    slow_test.go:9: DC205 = unknown, want pass\n"}
{"Action":"fail","Package":"p","Test":"TestSlow","Elapsed":12.5}
{"Action":"output","Package":"p","Output":"FAIL\tp\t12.7s\n"}
{"Action":"fail","Package":"p","Elapsed":12.7}
{"Action":"output","Package":"q","Output":"ok  \tq\t3.0s\n"}
{"Action":"pass","Package":"q","Test":"TestMiddle","Elapsed":3}
{"Action":"pass","Package":"q","Elapsed":3}
`
	var out strings.Builder
	code := summarize(strings.NewReader(stream), &out, 2)
	got := out.String()
	if code != 1 {
		t.Errorf("exit %d, want 1 (a test failed)", code)
	}
	for _, want := range []string{"--- output of p TestSlow\n    slow_test.go:9: DC205 = unknown, want pass", "FAIL\tp\t12.7s", "ok  \tq\t3.0s",
		"slowest tests:\n     12.5s  p TestSlow\n        3s  q TestMiddle\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "noise of a test that passes") {
		t.Errorf("a passing test's output was printed:\n%s", got)
	}
	if code := summarize(strings.NewReader(""), &out, 2); code != 1 {
		t.Errorf("an empty stream: exit %d, want 1 (nothing was tested)", code)
	}
	out.Reset()
	if code := summarize(strings.NewReader(`{"Action":"pass","Package":"q","Test":"TestA","Elapsed":1}`+"\n"+`{"Action":"pass","Package":"q","Elapsed":1}`+"\n"), &out, 5); code != 0 {
		t.Errorf("all passed: exit %d\n%s", code, out.String())
	}
}
