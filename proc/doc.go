// Package proc reads processes: what dcheck judges, and nothing of the
// judging (that is package checks).
//
// Every read goes through an FS rooted at a mount point (DefaultMount, or a
// recorded fixture tree in tests), in the shape of prometheus/procfs: one
// typed struct per /proc file (ProcStat for stat, ProcStatus for status,
// FDInfo for fdinfo/N, Lock for a line of locks), filled by pure parsers
// from bytes, each fuzzed. FS.Take reads everything about one process into
// a Snapshot, proving that one process was read throughout (its start time
// at the first and the last look); FS.ReadPidFile reads a pidfile without
// following a symlink or blocking on a FIFO. The small lookups (Comm,
// Cmdline, Children, Exe, HasEnv, Holds, FDNums, SocketFDs, Sockets) serve
// the harness, the daemonize library and the tests, so that nothing else in
// the module opens a file under /proc.
//
// proc/portable's Portable is a second Reader, built on gopsutil v4: the
// reader on systems without /proc (darwin, FreeBSD), and on Linux an
// independent check of FS (the tests compare the two, fact by fact, on
// live processes). It is a package of its own so that what needs only
// /proc (the daemonize library, and the dcheck command on Linux) does not
// link gopsutil; proc/host's Reader picks the running system's reader,
// built per system.
//
// A part that could not be read is recorded in the Snapshot's matching
// *Err field, or as a Gap (Fact) for parts without one, never guessed: the
// judge turns it into an unknown finding.
package proc
