// Package suites is dcheck's conformance suite: it takes any daemon's start
// command, launches it in a hostile environment, judges the daemon with
// every static rule of package checks, and drives its lifecycle (a second
// start, SIGHUP, SIGTERM, kill -9 and a restart, eight starts at once), one
// Ginkgo spec per rule, labelled with the rule's ID.
//
// # Running it
//
// Three ways, in the manner of csi-test's sanity package:
//
//	suites.Run(t, cfg)             a whole run from a TestXxx
//	suites.Register(cfg)           the specs in your own Ginkgo tree, before RunSpecs
//	dcheck verify [flags] -- CMD   the standalone command
//
// A test builds the daemon's binary (go build, in TestMain) and runs the
// real thing:
//
//	func TestConformance(t *testing.T) {
//		cfg := suites.NewConfig()
//		cfg.Start = []string{bin, "start", "-pidfile", pidfile}
//		cfg.PidFile = pidfile
//		suites.Run(t, cfg)
//	}
//
// The module's examples/mydaemon (a daemon on package daemonize, and that
// test) and examples/ginkgo (Register beside a project's own specs, with
// the matchers) are complete, and run with the module's tests.
//
// # What a run does
//
// Setup runs before the first selected spec, whatever the label filter
// selects: the start command is launched on a new pty, in a temporary
// directory, with umask 0037, SIGHUP ignored, SIGUSR1 blocked and an
// inherited descriptor (Config.Launch says whether it leads the terminal's
// session or is a shell's job); the pidfile is read at the instant it
// exits; the daemon is found and judged once. Each spec then judges those
// facts, or a lifecycle step it runs itself. At the end everything the run
// started is stopped, by pid, and nothing else: the harness signals only
// processes it started or adopted (it is a child subreaper, for good) or
// that carry its marker, never its own session or ancestors.
//
// # Without Linux
//
// The run above uses what Linux alone offers: a child subreaper (the
// daemon and every orphan of the run are the harness's to find), ptrace
// (the run is held still while the pidfile is read at the start command's
// exit), a pty, a NOTIFY_SOCKET whose messages are credited to their
// sender's pid, the starter's blocked signals, and /proc. On darwin and
// FreeBSD it runs without them:
//
//   - a classic daemon is found through its pidfile (Config.PidFile is
//     required), and the processes of the run through the marker in their
//     environment (on FreeBSD, where that cannot be read, only the profile
//     supervised runs);
//   - the pidfile is read as soon as the start command's exit is seen: one
//     that is missing then fails SU102, one that is there leaves it unknown
//     (it may have been written just after the exit);
//   - stdout and stderr are a pipe that stands in for the terminal, and
//     SU101 asks whether the daemon let go of it;
//   - no signal is blocked at the start, and no NOTIFY_SOCKET is offered
//     (SU112 is unknown);
//   - processes are read through gopsutil (portable.Portable): a fact it does
//     not give leaves its rule unknown;
//   - systemd units (Config.Unit) and the job-control launch are refused
//     with ErrConfig, wrapping errors.ErrUnsupported.
//
// The summary says which facilities the run lacked. DCHECK_HARNESS=portable
// in the environment makes a run on Linux go without them too: how the
// module tests this, and how a Linux user sees what a Mac can judge.
//
// # Outcomes
//
// Each spec passes, fails, warns (fails only with Config.Strict), is
// unknown (its evidence could not be gathered: never a pass), is skipped
// (not applicable), or is waived (Config.Waivers). A run that judged
// nothing fails with ErrNothingJudged. The summary printed after the last
// spec lists every spec with what it saw: a pid, a path, a value.
//
// # Matchers
//
// BeDaemon and PassRule judge a pid you started yourself. Given no reaper,
// they take the test process as the reaper when it is a child subreaper
// (Register and Run make it one), else init.
package suites

// Reports says which Ginkgo reports a standalone run writes.
type Reports struct {
	LabelFilter string // Ginkgo label filter, e.g. "DC103 || SU104"; "" runs every spec
	JUnit       string // JUnit XML report path; "" writes none
	JSON        string // Ginkgo JSON report path; "" writes none
	Verbose     bool   // Ginkgo's verbose output
	Color       bool   // colour Ginkgo's output (set it only for a terminal)
}
