package daemonize_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dcheck/dcheck/daemonize"
)

// A daemon's start command: main runs up to Start in three processes (the
// original, stage 1, the daemon). The original returns from Start once the
// daemon has called Ready, with the daemon's pid; the daemon returns with
// nil and serves. examples/mydaemon in this module is a complete program.
func ExampleDaemon() {
	d := &daemonize.Daemon{
		PidFile: "/run/foo.pid",
		Umask:   daemonize.UmaskOf(0o022),
		Stdout:  "/var/log/foo.log",
		Stderr:  "/var/log/foo.log",
		Env:     daemonize.SanitizedEnv(os.Environ()),
	}
	child, err := d.Start()
	var running *daemonize.AlreadyRunningError
	switch {
	case errors.As(err, &running):
		fmt.Fprintln(os.Stderr, "foo:", err) // "already running (pid N)"
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "foo:", err) // a *StepError names the step that failed
		os.Exit(1)
	case child != nil:
		fmt.Printf("started (pid %d)\n", child.PID) // the original process
		os.Exit(0)
	}
	// The daemon: SIGTERM and SIGINT end ctx.
	ctx, stop := d.SignalContext(context.Background())
	defer stop()
	// Open listeners here; on failure d.Fail(err) makes the original
	// process print it and exit 1.
	if err := d.Ready(); err != nil {
		d.Close() // the original gave up waiting: do not run unaccounted for
		os.Exit(1)
	}
	<-ctx.Done()
	d.Close() // removes the pidfile while holding its lock
}

// A daemon's stop and status commands: both trust the pidfile's lock, never
// the mere existence of the pid in it.
func ExampleStop() {
	st, err := daemonize.StatusOf("/run/foo.pid")
	if err != nil {
		fmt.Fprintln(os.Stderr, "foo:", err)
		os.Exit(4) // LSB: status unknown
	}
	if st.State != daemonize.Running {
		fmt.Println("not running")
		return
	}
	res, err := daemonize.Stop(context.Background(), "/run/foo.pid", 5*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "foo:", err)
		os.Exit(1)
	}
	fmt.Printf("stopped (pid %d, killed: %v)\n", res.PID, res.Killed)
}
