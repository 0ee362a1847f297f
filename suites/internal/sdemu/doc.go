// Package sdemu is the part of the harness that does what systemd 252
// does for a service, with no Ginkgo and no spec in it: User= and Group=
// as credentials, RuntimeDirectory= made and removed through descriptors
// (root beside a daemon that owns the directory), and the notify socket
// (NotifySocket): each datagram credited to its sender's pid and
// timestamped, the run's processes alone heard, and of those the ones
// NotifyAccess= lets speak, following MAINPID= as systemd does.
// The start and stop sequences and the specs stay with the harness
// (package suites), which knows the run: it says which process is of the
// run, and which is a main process or an Exec*= command as it starts them.
// Where this package and the real systemd disagree, the real one is right:
// supervisor/oracle_test.go holds them side by side.
package sdemu
