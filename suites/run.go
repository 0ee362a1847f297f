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

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/dcheck/dcheck/internal/term"
)

// Run runs the whole suite for cfg from a Go test, with the Ginkgo
// configuration of the command line (-ginkgo.label-filter and friends). It
// must be the only Ginkgo suite of the test binary.
//
// A run that judged nothing (the label filter matched no spec, or every
// selected spec was skipped or unknown) fails the test with
// ErrNothingJudged: it is not a pass.
func Run(t *testing.T, cfg Config) {
	RegisterFailHandler(Fail)
	Register(cfg)
	suiteConfig, reporterConfig := GinkgoConfiguration()
	// Colour only for a terminal: go test -v > file must not fill the file
	// with escape sequences.
	reporterConfig.NoColor = reporterConfig.NoColor || !term.IsTerminal(os.Stdout)
	judgements.Store(0)
	if RunSpecs(t, "dcheck conformance", suiteConfig, reporterConfig) && judgements.Load() == 0 {
		t.Errorf("dcheck: %v (label filter %q): the run is not a pass", ErrNothingJudged, suiteConfig.LabelFilter)
	}
}

// Reports says which Ginkgo reports a standalone run writes.
type Reports struct {
	LabelFilter string // Ginkgo label filter, e.g. "DC103 || SU104"; "" runs every spec
	JUnit       string // JUnit XML report path; "" writes none
	JSON        string // Ginkgo JSON report path; "" writes none
	Verbose     bool   // Ginkgo's verbose output
	Color       bool   // colour Ginkgo's output (set it only for a terminal)
}

// RunStandalone runs the suite outside go test, as dcheck verify does, and
// reports whether every spec passed. It may be called once per process.
// Report directories are created as needed. A configuration or label
// filter that is wrong gives an error wrapping ErrConfig, before anything
// runs; a run that judged nothing gives ErrNothingJudged.
func RunStandalone(cfg Config, rep Reports) (bool, error) {
	if err := cfg.Validate(); err != nil {
		return false, err
	}
	if _, err := types.ParseLabelFilter(rep.LabelFilter); err != nil {
		return false, fmt.Errorf("%w: label filter %q: %s", ErrConfig, rep.LabelFilter, labelFilterError(err))
	}
	for _, p := range []string{rep.JUnit, rep.JSON} {
		if p != "" {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return false, fmt.Errorf("report directory: %w", err)
			}
		}
	}
	// dcheck's summary comes last, after Ginkgo's own report: it is held
	// until RunSpecs returns.
	out := cfg.Out
	var summary bytes.Buffer
	cfg.Out = &summary
	defer func() { out.Write(summary.Bytes()) }()
	RegisterFailHandler(Fail)
	Register(cfg)
	suiteConfig, reporterConfig := GinkgoConfiguration()
	suiteConfig.LabelFilter = rep.LabelFilter
	reporterConfig.JUnitReport = rep.JUnit
	reporterConfig.JSONReport = rep.JSON
	reporterConfig.Verbose = rep.Verbose
	reporterConfig.NoColor = !rep.Color
	// Ginkgo turns SIGINT and SIGTERM into an interrupt that runs the
	// cleanup; a hangup (the terminal closed) would end the process with
	// the daemon running and the temporary directory left: clean up, then
	// exit as the hangup would have.
	stop := onHangup(func() {
		cleanupAll()
		os.Exit(128 + int(syscall.SIGHUP))
	})
	defer stop()
	t := &standaloneT{}
	judgements.Store(0)
	passed := RunSpecs(t, "dcheck conformance", suiteConfig, reporterConfig)
	if passed && !t.failed && judgements.Load() == 0 {
		return false, ErrNothingJudged
	}
	return passed && !t.failed, nil
}

// labelFilterError is Ginkgo's message for a bad label filter, on one line
// and without its colour markup.
func labelFilterError(err error) string {
	msg := err.Error()
	var ge types.GinkgoError
	if errors.As(err, &ge) {
		msg = ge.Message
	}
	return strings.Join(strings.Fields(colourMarkup.ReplaceAllString(msg, "")), " ")
}

// colourMarkup is Ginkgo's {{red}}...{{/}} formatting.
var colourMarkup = regexp.MustCompile(`\{\{[a-z/-]*\}\}`)

// onHangup calls fn when the process receives SIGHUP, until the returned
// function is called.
func onHangup(fn func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, syscall.SIGHUP)
	go func() {
		select {
		case <-ch:
			fn()
		case <-done:
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// running holds the harnesses whose cleanup has not run, for a signal
// handler to clean up.
var running = struct {
	sync.Mutex
	set map[*harness]bool
}{set: map[*harness]bool{}}

// cleanupAll cleans up every harness that has not been.
func cleanupAll() {
	running.Lock()
	hs := slices.Collect(maps.Keys(running.set))
	running.Unlock()
	for _, h := range hs {
		h.cleanup()
	}
}

// standaloneT is the testing.T that RunSpecs needs outside go test.
type standaloneT struct{ failed bool }

func (t *standaloneT) Fail() { t.failed = true }
