// Package hostile starts a command in the most hostile environment a
// daemon's starter can give it: a pty as controlling terminal and stdio, an
// odd working directory and umask, a descriptor without close-on-exec,
// signals ignored and blocked, login-session variables. A daemon that skips
// a step of daemon(7) keeps some of this, and dcheck sees it.
//
// Umask and signal state cannot be set for a child through os/exec, so the
// command runs through a trampoline: a binary (a test binary, dcheck itself)
// that calls Trampoline first thing in main or TestMain, applies the state
// and execs the command.
package hostile

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/sigaction"
)

const trampolineEnv = "DCHECK_HOSTILE_TRAMPOLINE"

// Launch is a hostile environment. The zero value is a benign one.
type Launch struct {
	Dir    string        // Working directory; "" inherits
	Umask  *uint32       // Umask; nil inherits
	Ignore []unix.Signal // Signals set to SIG_IGN
	Block  []unix.Signal // Signals blocked
	Env    []string      // The environment; nil inherits
	// TTY, when not nil, is the pty slave that becomes the controlling
	// terminal and stdin, stdout and stderr.
	TTY *os.File
	// Inherited, when not nil, is passed without close-on-exec as
	// descriptor InheritedFD.
	Inherited   *os.File
	InheritedFD int // 0 means 9
}

type state struct {
	Umask  *uint32 `json:"umask,omitempty"`
	Ignore []int   `json:"ignore,omitempty"`
	Block  []int   `json:"block,omitempty"`
}

// Command returns a command that runs argv in the environment l, through
// the trampoline binary. The caller may set Stdout and Stderr when l.TTY is
// nil, and must Start and Wait it.
func (l Launch) Command(trampoline string, argv ...string) *exec.Cmd {
	st := state{Umask: l.Umask}
	for _, s := range l.Ignore {
		st.Ignore = append(st.Ignore, int(s))
	}
	for _, s := range l.Block {
		st.Block = append(st.Block, int(s))
	}
	js, _ := json.Marshal(st)
	cmd := exec.Command(trampoline, argv...)
	env := l.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(append([]string(nil), env...), trampolineEnv+"="+string(js))
	cmd.Dir = l.Dir
	if l.Inherited != nil {
		fd := l.InheritedFD
		if fd == 0 {
			fd = 9
		}
		cmd.ExtraFiles = make([]*os.File, fd-2)
		cmd.ExtraFiles[fd-3] = l.Inherited
	}
	if l.TTY != nil {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = l.TTY, l.TTY, l.TTY
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	return cmd
}

// Trampoline applies the state a Launch asked for and execs os.Args[1:],
// when this process was started by Command; otherwise it returns at once.
// Call it first thing in main (or TestMain). On failure it exits 127.
func Trampoline() {
	js, ok := os.LookupEnv(trampolineEnv)
	if !ok {
		return
	}
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "hostile trampoline: %v\n", err)
		os.Exit(127)
	}
	var st state
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		fail(err)
	}
	runtime.LockOSThread() // the mask is per thread: set it on the one that execs
	if st.Umask != nil {
		unix.Umask(int(*st.Umask))
	}
	var sigs []unix.Signal
	for _, s := range st.Ignore {
		sigs = append(sigs, unix.Signal(s))
	}
	if err := sigaction.Ignore(sigs...); err != nil {
		fail(err)
	}
	sigs = sigs[:0]
	for _, s := range st.Block {
		sigs = append(sigs, unix.Signal(s))
	}
	if err := sigaction.SetMask(sigs...); err != nil {
		fail(err)
	}
	if len(os.Args) < 2 {
		fail(fmt.Errorf("no command"))
	}
	path, err := exec.LookPath(os.Args[1])
	if err != nil {
		fail(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, trampolineEnv+"=") {
			env = append(env, kv)
		}
	}
	fail(syscall.Exec(path, os.Args[1:], env))
}
