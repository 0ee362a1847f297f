//go:build linux

package sdemu

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcheck/dcheck/unitfile"
)

// listen makes a notify socket for a test; ofRun decides who is of the
// run.
func listen(t *testing.T, access unitfile.NotifyAccess, ofRun func(int) bool) *NotifySocket {
	t.Helper()
	s, err := ListenNotify(NotifyConfig{Dir: filepath.Join(t.TempDir(), "notify"), UID: os.Geteuid(), Access: access,
		OfRun: ofRun, Comm: func(int) string { return "sender" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// send starts a process that sends msg to s with the given role, waits
// for it to end and for what it sent to be taken, and returns its pid.
func send(t *testing.T, s *NotifySocket, role Role, msg string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), senderEnv+"="+msg, senderSockEnv+"="+s.Addr())
	cmd.Stderr = os.Stderr
	if err := s.Start(role, func() (int, error) {
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the sender of %q: %v", msg, err)
	}
	s.Sync(time.Minute)
	return cmd.Process.Pid
}

// sendSelf sends msg from the test process.
func sendSelf(t *testing.T, s *NotifySocket, msg string) {
	t.Helper()
	c, err := net.Dial("unixgram", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	s.Sync(time.Minute)
}

func all(int) bool { return true }

// TestNotifySocketHearsWhomNotifyAccessLetsSpeak: as systemd 252's
// service_notify_message_authorized decides, for each NotifyAccess= and
// each role of the sender; a refused message is kept and named for the
// spec that waited for it, never logged as heard.
func TestNotifySocketHearsWhomNotifyAccessLetsSpeak(t *testing.T) {
	for _, tc := range []struct {
		access unitfile.NotifyAccess
		role   Role
		heard  bool
		why    string
	}{
		{unitfile.NotifyMain, Main, true, ""},
		{unitfile.NotifyMain, Control, false, "NotifyAccess=main: pid %d is not the main pid (none yet)"},
		{unitfile.NotifyMain, Other, false, "NotifyAccess=main: pid %d is not the main pid (none yet)"},
		{unitfile.NotifyExec, Main, true, ""},
		{unitfile.NotifyExec, Control, true, ""},
		{unitfile.NotifyExec, Other, false, "NotifyAccess=exec: pid %d is neither the main pid (none yet) nor a running Exec*= command"},
		{unitfile.NotifyAll, Other, true, ""},
		{unitfile.NotifyNone, Main, false, "NotifyAccess=none: no message is heard"},
		{"", Other, true, ""}, // no unit: any process of the run
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.access, tc.role), func(t *testing.T) {
			s := listen(t, tc.access, all)
			pid := send(t, s, tc.role, "READY=1\nSTATUS=up")
			heard := s.With("READY=1")
			if got := len(heard) == 1 && heard[0].PID == pid && heard[0].Has("STATUS=up"); got != tc.heard {
				t.Errorf("heard %+v from pid %d; want heard %v", heard, pid, tc.heard)
			}
			note := s.RefusedNote("READY=1")
			if tc.heard {
				if note != "" || s.RefusedSummary() != "" {
					t.Errorf("a heard message is noted as refused: %q, %q", note, s.RefusedSummary())
				}
				return
			}
			why := tc.why
			if strings.Contains(why, "%d") {
				why = fmt.Sprintf(why, pid)
			}
			if want := fmt.Sprintf("; READY=1 came from pid %d (sender) and was not heard: %s", pid, why); !strings.HasPrefix(note, want) {
				t.Errorf("RefusedNote = %q; want it to begin %q", note, want)
			}
			if !strings.Contains(s.RefusedSummary(), why) {
				t.Errorf("RefusedSummary = %q; want it to say %q", s.RefusedSummary(), why)
			}
		})
	}
}

// TestNotifySocketFollowsMainPID: an accepted MAINPID= makes the named
// process of the run the main one, as systemd does; under
// NotifyAccess=main it is heard after, and was not before.
func TestNotifySocketFollowsMainPID(t *testing.T) {
	s := listen(t, unitfile.NotifyMain, all)
	sendSelf(t, s, "STATUS=before")
	if len(s.With("STATUS=before")) != 0 {
		t.Fatalf("a process that is not the main one was heard: %+v", s.Log())
	}
	send(t, s, Main, fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()))
	sendSelf(t, s, "STATUS=after")
	if after := s.With("STATUS=after"); len(after) != 1 || after[0].PID != os.Getpid() {
		t.Errorf("the process MAINPID= named was not heard: %+v", s.Log())
	}
}

// TestNotifySocketIgnoresStrangers: a message from outside the run is
// neither heard nor refused, and is listed, with its sender, to be
// reported; a message after it from the run is heard.
func TestNotifySocketIgnoresStrangers(t *testing.T) {
	stranger := os.Getpid()
	s := listen(t, unitfile.NotifyAll, func(pid int) bool { return pid != stranger })
	sendSelf(t, s, "READY=1")
	pid := send(t, s, Other, "STOPPING=1")
	if got := s.Strangers(); len(got) != 1 || !strings.HasPrefix(got[0], fmt.Sprintf(`pid %d (sender): "READY=1"`, stranger)) {
		t.Errorf("Strangers = %q; want the test process's READY=1", got)
	}
	if len(s.With("READY=1")) != 0 || s.RefusedNote("READY=1") != "" {
		t.Errorf("a stranger's message was heard or refused: %+v", s.Log())
	}
	if got := s.Log(); len(got) != 1 || got[0].PID != pid || !got[0].Has("STOPPING=1") {
		t.Errorf("Log = %+v; want pid %d's STOPPING=1 alone", got, pid)
	}
}

// TestNotifySocketRefusesAnExecCommandOnceEnded: under NotifyAccess=exec,
// an Exec*= command is heard while it runs, and not after Ended.
func TestNotifySocketRefusesAnExecCommandOnceEnded(t *testing.T) {
	s := listen(t, unitfile.NotifyExec, all)
	if err := s.Start(Control, func() (int, error) { return os.Getpid(), nil }); err != nil {
		t.Fatal(err)
	}
	sendSelf(t, s, "STATUS=running")
	s.Ended(os.Getpid())
	sendSelf(t, s, "STATUS=ended")
	if log := s.Log(); len(log) != 1 || !log[0].Has("STATUS=running") {
		t.Errorf("Log = %+v; want the running command's message alone", log)
	}
	if !strings.Contains(s.RefusedSummary(), `"STATUS=ended"`) {
		t.Errorf("the ended command's message is not among the refused: %q", s.RefusedSummary())
	}
}

// TestNilNotifySocketHeardNothing: without a socket, the harness asks the
// same questions and hears nothing; Start still starts.
func TestNilNotifySocketHeardNothing(t *testing.T) {
	var s *NotifySocket
	started := false
	if err := s.Start(Main, func() (int, error) { started = true; return 1, nil }); err != nil || !started {
		t.Errorf("Start on no socket: started %v, %v", started, err)
	}
	s.Sync(time.Minute)
	s.Ended(1)
	s.Close()
	if s.Addr() != "" || s.Heard() != nil || s.Log() != nil || s.With("READY=1") != nil || s.Strangers() != nil || s.RefusedNote("READY=1") != "" || s.RefusedSummary() != "" {
		t.Error("a nil socket says it heard something")
	}
}

// TestMsgMonotonicUsec: Type=notify-reload's RELOADING=1 must carry
// MONOTONIC_USEC=, a number.
func TestMsgMonotonicUsec(t *testing.T) {
	for fields, want := range map[string]string{
		"RELOADING=1\nMONOTONIC_USEC=1234": "1234",
		"RELOADING=1":                      "",
		"MONOTONIC_USEC=-5":                "",
		"MONOTONIC_USEC=12x":               "",
	} {
		if got := (Msg{Fields: strings.Split(fields, "\n")}).MonotonicUsec(); got != want {
			t.Errorf("%q: MonotonicUsec = %q; want %q", fields, got, want)
		}
	}
}
