// Package ginkgo is an example of dcheck's suite inside a project's own
// Ginkgo tree: suites.Register adds the conformance specs beside the
// project's specs, which use the BeDaemon and PassRule matchers on a daemon
// they start themselves. The daemon is ../mydaemon, built by the test.
package ginkgo
