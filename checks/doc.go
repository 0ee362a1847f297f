// Package checks judges a process, rule by rule, as a Unix daemon. What it
// judges comes from package proc, which reads it.
//
// Data flows one way:
//
//	proc.FS.Take  ->  proc.Snapshot  ->  Judge (Rules + Policy)  ->  Report
//
// Inspect and Scan do the whole trip for one process or for every
// daemon-like process of an FS. Rules are values in one explicit list
// (Rules), one file per family (catalogue.go, rules_session.go,
// rules_files.go, rules_pidfile.go, rules_signals.go, rules_env.go); each
// names the step of daemon(7) or APUE it comes from, and the same Doc text
// serves "dcheck explain", "dcheck rules" and docs/rules.md.
//
// A finding is pass, fail, unknown (the data could not be read) or skip (not
// applicable). Unknown is never reported as pass or fail.
package checks
