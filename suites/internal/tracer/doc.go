// Package tracer decides what the pidfile said at the instant a start
// command exited, causally, for SU102, by tracing the start command and
// what it forks (Linux: ptrace). The harness (package suites) gives it its
// launch, its guarded signals and its look at the pidfile (Hooks); it
// knows nothing of Ginkgo or of the specs.
//
// SU102 asks what the pidfile said at the instant the start command
// exited, and whether that is so by design or by luck. Read after the
// exit, the answer depends on scheduling: the classic recipe's grandchild
// may write the pidfile in the microseconds before anyone looks, or not.
// So the harness decides it by evidence, and causally:
//
//  1. The start command runs traced (ptrace), and so does every process it
//     forks (PTRACE_O_TRACEFORK, TRACEVFORK): each stops on its way out,
//     and each new process stops before its first instruction.
//  2. A process made by fork is held there until the run is quiet: every
//     other traced process asleep (state S) in two looks in a row with no
//     context switch between them. That is the start command waiting for
//     something (a readiness pipe, wait(2), a sleep): only then may what it
//     forked run. A start command that exits without waiting exits while
//     its children are still held, so the pidfile they would write cannot
//     exist, every time. A process made by vfork is never held: its parent
//     is suspended until it execs or exits.
//  3. When the start command stops on its way out, every other process of
//     the run is stopped for real (each tracee is detached into a SIGSTOP;
//     the rest are sent one), again until no new one appears; the pidfile
//     is read; then they are continued (SIGCONT) and the start command is
//     let go.
//
// A start command that never sleeps (it spins) holds its children until it
// exits or the start timeout kills it: a machine that is merely busy only
// delays its sleep, so no shorter limit would be safe. Tracing ends
// with the start command: every tracee is detached before the tracer's
// thread exits (PTRACE_O_EXITKILL would kill them otherwise). A daemon
// that watches its children (SIGCHLD with CLD_STOPPED) may see them stop
// and continue once; a process of the run that stops itself during the
// start is resumed (ptrace without PTRACE_SEIZE cannot keep a group-stop).
package tracer
