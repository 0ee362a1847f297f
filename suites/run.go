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
