//go:build linux

package cleanstart

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/sigaction"
)

// reportEnv makes the test binary print its state instead of testing.
const reportEnv = "DCHECK_CLEANSTART_REPORT"

func TestMain(m *testing.M) {
	Main()
	if os.Getenv(reportEnv) != "" {
		report()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// report prints what a child of this process would inherit.
func report() {
	f, _ := os.Open("/proc/thread-self/status")
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if k, _, _ := strings.Cut(sc.Text(), ":"); k == "SigIgn" || k == "SigBlk" || k == "Umask" {
			fmt.Println(sc.Text())
		}
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", fd.Name()))
		if err == nil && fd.Name() > "2" && !strings.Contains(string(info), "flags:\t02") {
			fmt.Printf("open across exec: fd %s\n", fd.Name())
		}
	}
	fmt.Printf("NOTIFY_SOCKET=%s\n", os.Getenv("NOTIFY_SOCKET"))
}

// TestAHostileStartIsUndone: started as nohup and a shell that ignores
// SIGINT would start it, with SIGUSR1 blocked, umask 077, fd 7 open and a
// supervisor's NOTIFY_SOCKET, the test binary hands its children none of
// it.
func TestAHostileStartIsUndone(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := `trap '' HUP INT; umask 077; exec 7</dev/null; exec "$0"`
	cmd := exec.Command("sh", "-c", script, self)
	cmd.Env = append(os.Environ(), reportEnv+"=1", "NOTIFY_SOCKET=/run/systemd/notify")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	// The mask is the forking thread's: block SIGUSR1 on this one.
	runtime.LockOSThread()
	restore, err := sigaction.BlockOnThread(unix.SIGUSR1)
	if err != nil {
		t.Fatal(err)
	}
	err = cmd.Start()
	restore()
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"SigIgn:\t0000000000000000", "SigBlk:\t0000000000000000", "Umask:\t0022", "NOTIFY_SOCKET=\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the re-executed binary's state lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "open across exec") {
		t.Errorf("a descriptor would reach its children:\n%s", got)
	}
}
