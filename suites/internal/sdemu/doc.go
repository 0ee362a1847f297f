// Package sdemu is the part of the harness that does what systemd 252
// does for a service, with no Ginkgo and no spec in it:
//
//   - a unit's command as systemd runs it (Command): its environment,
//     NOTIFY_SOCKET, the watchdog's and the sockets' variables, User=,
//     Group=, WorkingDirectory=, a session of its own; UMask= at the fork
//     (WithUmask);
//   - the sequences (StartPre, Stop, AfterStop, Reload): RuntimeDirectory=
//     and ExecStartPre=; ExecStop=, then KillSignal= to the main process
//     and, as KillMode= says, the group, again to the group once the main
//     process has exited, and SIGKILL after TimeoutStopSec=; ExecReload=
//     or SIGHUP. They run through a Manager, the harness, which starts,
//     signals and waits;
//   - RuntimeDirectory= made and removed through descriptors (root beside
//     a daemon that owns the directory), User= and Group= as credentials;
//   - the notify socket (NotifySocket): each datagram credited to its
//     sender's pid and timestamped, the run's processes alone heard, and
//     of those the ones NotifyAccess= lets speak, following MAINPID=;
//   - a socket unit's listening sockets (ListenOn), made as systemd makes
//     them, in directories no other user controls.
//
// The specs stay with the harness (package suites), which knows the run:
// it says which process is of the run, and which is a main process or an
// Exec*= command as it starts them. Where this package and the real
// systemd disagree, the real one is right: supervisor/oracle_test.go holds
// them side by side.
package sdemu
