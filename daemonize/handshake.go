package daemonize

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// The readiness handshake: a pipe made by the original process before the
// first re-exec. The daemon writes lines to it:
//
//	PID <pid>                  as soon as it runs
//	READY                      when Ready is called
//	ERROR <step> <message>     when start-up failed (Fail, or a step of Start)
//	RUNNING <pid>              when another instance won the pidfile
//
// End of file without READY, ERROR or RUNNING means the daemon exited
// during start-up without saying why.

type handshake struct{ w *os.File }

func (h *handshake) send(format string, a ...any) error {
	if h == nil || h.w == nil {
		return nil
	}
	_, err := fmt.Fprintf(h.w, format+"\n", a...)
	return err
}

func (h *handshake) close() {
	if h != nil && h.w != nil {
		h.w.Close()
		h.w = nil
	}
}

// report sends err as the line the original process turns back into it.
func (h *handshake) report(err error) {
	var ar *AlreadyRunningError
	var se *StepError
	switch {
	case errors.As(err, &ar):
		h.send("RUNNING %d", ar.PID)
	case errors.As(err, &se):
		h.send("ERROR %s %s", se.Step, oneLine(se.Err.Error()))
	default:
		h.send("ERROR start %s", oneLine(err.Error()))
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// remoteError is an error the daemon reported through the handshake.
type remoteError struct{ msg string }

func (e *remoteError) Error() string { return e.msg }

// awaitReady reads the handshake until the daemon is ready, failed, or the
// deadline passes. It returns the daemon's pid (0 if it never said) and
// the outcome.
func awaitReady(r *os.File, pidfile string, deadline time.Time) (int, error) {
	if err := r.SetReadDeadline(deadline); err != nil {
		return 0, stepErr("ready", err)
	}
	pid := 0
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				return pid, stepErr("ready", ErrStartTimeout)
			case errors.Is(err, io.EOF):
				return pid, stepErr("ready", ErrExitedEarly)
			}
			return pid, stepErr("ready", err)
		}
		word, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		switch word {
		case "PID":
			pid, _ = strconv.Atoi(rest)
		case "READY":
			return pid, nil
		case "RUNNING":
			other, _ := strconv.Atoi(rest)
			return pid, &AlreadyRunningError{PidFile: pidfile, PID: other}
		case "ERROR":
			step, msg, _ := strings.Cut(rest, " ")
			return pid, &StepError{Step: step, Err: &remoteError{msg}}
		}
	}
}
