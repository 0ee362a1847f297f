//go:build linux

package proc

import (
	"bufio"
	"io"
	"os/exec"
	"testing"
)

// echoer is a child of the test that echoes each line it is sent: cat, or
// a shell that becomes cat.
type echoer struct {
	cmd *exec.Cmd
	in  io.Writer
	out *bufio.Reader
}

// startEchoer starts argv, with env when it is not nil, its stdin and
// stdout piped to the test; it is killed and reaped at the test's end.
func startEchoer(t *testing.T, env []string, argv ...string) *echoer {
	t.Helper()
	path, err := exec.LookPath(argv[0])
	if err != nil {
		t.Skipf("no %s: %v", argv[0], err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env = env
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &echoer{cmd, in, bufio.NewReader(out)}
}

func (e *echoer) pid() int { return e.cmd.Process.Pid }

// send writes text to the child's stdin.
func (e *echoer) send(t *testing.T, text string) {
	t.Helper()
	if _, err := io.WriteString(e.in, text); err != nil {
		t.Fatal(err)
	}
}

// echo sends a line and waits for it to come back: then cat runs, its
// exec over. os/exec's Start returns once the old image is gone, before
// the kernel has set up the new one's arguments and environment, so a
// look at once may find them empty.
func (e *echoer) echo(t *testing.T, line string) {
	t.Helper()
	e.send(t, line+"\n")
	if got, err := e.out.ReadString('\n'); got != line+"\n" {
		t.Fatalf("pid %d did not echo %q: %q, %v", e.pid(), line, got, err)
	}
}
