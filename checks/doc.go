// Package checks reads a process out of /proc into a typed Snapshot and
// judges it, rule by rule, as a Unix daemon.
//
// Data flows one way:
//
//	/proc  ->  Snapshot (FS.Take)  ->  Judge (Rules + Policy)  ->  Report
//
// Every read goes through an FS rooted at a mount point (DefaultMount, or a
// recorded fixture tree in tests). Parsers are pure functions from bytes to
// structs. Rules are values in one explicit list (Rules); each names the
// step of daemon(7) or APUE it comes from, and the same Doc text serves
// "dcheck explain", "dcheck rules" and docs/rules.md.
//
// A finding is pass, fail, unknown (the data could not be read) or skip (not
// applicable). Unknown is never reported as pass or fail.
package checks
