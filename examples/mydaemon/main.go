// Command mydaemon is the smallest complete daemon on daemonize: it answers
// "pong" to each connection on a Unix socket. It is the example the
// README points to, and its tests (mydaemon_test.go, and ../ginkgo) show
// how a project verifies its own daemon with dcheck's suite.
//
//	mydaemon start  -pidfile PATH -socket PATH [-log PATH]   exit 0 once it serves; 1 and why if not
//	mydaemon stop   -pidfile PATH                            exit 0 once it has exited
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/dcheck/dcheck/daemonize"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: mydaemon start|stop -pidfile PATH [-socket PATH] [-log PATH]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("mydaemon "+os.Args[1], flag.ExitOnError)
	pidfile := fs.String("pidfile", "", "pidfile `path` (required)")
	socket := fs.String("socket", "", "Unix socket `path` to serve on (start)")
	logfile := fs.String("log", "", "log `file` (default /dev/null)")
	fs.Parse(os.Args[2:])
	if *pidfile == "" {
		fmt.Fprintln(os.Stderr, "mydaemon: -pidfile is required")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "start":
		os.Exit(start(*pidfile, *socket, *logfile))
	case "stop":
		if _, err := daemonize.Stop(context.Background(), *pidfile, 5*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "mydaemon:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "mydaemon: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func start(pidfile, socket, logfile string) int {
	d := &daemonize.Daemon{PidFile: pidfile, Stdout: logfile, Stderr: logfile,
		Env: daemonize.SanitizedEnv(os.Environ())}
	child, err := d.Start() // main runs up to here in three processes
	if err != nil {         // *daemonize.AlreadyRunningError, or a *daemonize.StepError
		fmt.Fprintln(os.Stderr, "mydaemon:", err)
		return 1
	}
	if child != nil { // the original process: the daemon serves, its pid is in the pidfile
		fmt.Printf("started (pid %d)\n", child.PID)
		return 0
	}
	// The daemon.
	ctx, stop := d.SignalContext(context.Background()) // SIGTERM and SIGINT end ctx
	defer stop()
	os.Remove(socket) // a stale socket: the pidfile's lock says no other instance runs
	ln, err := net.Listen("unix", socket)
	if err != nil {
		d.Fail(err) // the original process prints it and exits 1
		d.Close()
		return 1
	}
	defer os.Remove(socket)
	if err := d.Ready(); err != nil { // the original exits 0 now, not before
		d.Close()
		return 1
	}
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			break // closed: SIGTERM
		}
		c.Write([]byte("pong\n"))
		c.Close()
	}
	d.Close() // removes the pidfile, still holding its lock
	return 0
}
