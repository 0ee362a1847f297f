// Package host gives the process reader for the running system: its /proc
// (proc.FS) on Linux, gopsutil's portable reader elsewhere. It is its own
// package, built per system, so that a Linux binary does not link gopsutil
// (the portable backend, and its initialisation, cost dcheck's start a
// third of its CPU) and a darwin or FreeBSD one does not need /proc.
package host
