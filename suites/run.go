package suites

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"

	"github.com/dcheck/dcheck/internal/term"
)

// Run runs the whole suite for cfg from a Go test, with the Ginkgo
// configuration of the command line (-ginkgo.label-filter and friends). It
// must be the only Ginkgo suite of the test binary.
//
// A run that judged nothing (the label filter matched no spec, or every
// selected spec was skipped or unknown) fails the test with
// ErrNothingJudged: it is not a pass.
//
// SIGINT, SIGTERM or SIGHUP, any number and mix, ends the run: its
// processes are stopped, the pidfile it made and its temporary directory
// removed, and the process exits with 128 + the first signal's number.
func Run(t *testing.T, cfg Config) {
	RegisterFailHandler(Fail)
	Register(cfg)
	suiteConfig, reporterConfig := GinkgoConfiguration()
	// Colour only for a terminal: go test -v > file must not fill the file
	// with escape sequences.
	reporterConfig.NoColor = reporterConfig.NoColor || !term.IsTerminal(os.Stdout)
	judgements.Store(0)
	defer onInterrupt(os.Stderr)()
	if RunSpecs(t, "dcheck conformance", suiteConfig, reporterConfig) && judgements.Load() == 0 {
		t.Errorf("dcheck: %v (label filter %q): the run is not a pass", ErrNothingJudged, suiteConfig.LabelFilter)
	}
}

// RunStandalone runs the suite outside go test, as dcheck verify does, and
// reports whether every spec passed. It may be called once per process.
// Report directories are created as needed. A configuration or label
// filter that is wrong gives an error wrapping ErrConfig, before anything
// runs; a run that judged nothing gives ErrNothingJudged. An interrupt
// ends the process as under Run, after the cleanup: RunStandalone does
// not return.
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
	defer func() {
		b := summary.Bytes()
		if !rep.Verbose {
			b = bytes.TrimPrefix(b, []byte("\n")) // nothing of Ginkgo's above it
		}
		out.Write(b)
	}()
	RegisterFailHandler(Fail)
	Register(cfg)
	suiteConfig, reporterConfig := GinkgoConfiguration()
	suiteConfig.LabelFilter = rep.LabelFilter
	reporterConfig.JUnitReport = rep.JUnit
	reporterConfig.JSONReport = rep.JSON
	reporterConfig.Verbose = rep.Verbose
	reporterConfig.NoColor = !rep.Color
	if !rep.Verbose {
		// Ginkgo's stream repeats each failure twice (its block, then
		// "Summarizing N Failures") above dcheck's summary, which holds
		// every outcome once, with its fix: it is shown with -v only. On a
		// terminal, one line says how far the run is.
		saved := formatter.ColorableStdOut
		formatter.ColorableStdOut = io.Discard
		defer func() { formatter.ColorableStdOut = saved }()
		if f, ok := out.(*os.File); ok && term.IsTerminal(f) {
			defer showProgress(f)()
		}
	}
	defer onInterrupt(out)()
	t := &standaloneT{}
	judgements.Store(0)
	passed := RunSpecs(t, "dcheck conformance", suiteConfig, reporterConfig)
	if passed && !t.failed && judgements.Load() == 0 {
		return false, ErrNothingJudged
	}
	return passed && !t.failed, nil
}

// showProgress keeps one line on the terminal w up to date while the specs
// run ("dcheck verify: 12/27 specs, SU104 stops-on-sigterm"), and returns
// the function that clears it.
func showProgress(w io.Writer) (clear func()) {
	var total, done int
	ReportBeforeSuite(func(r Report) { total = r.PreRunStats.SpecsThatWillRun })
	ReportAfterEach(func(sr SpecReport) {
		if sr.State.Is(types.SpecStateSkipped) {
			return
		}
		done++
		name, _, _ := strings.Cut(sr.LeafNodeText, ":")
		fmt.Fprintf(w, "\r\033[Kdcheck verify: %d/%d specs, %s", done, total, name)
	})
	return func() { fmt.Fprint(w, "\r\033[K") }
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

// interrupts are the signals that end a run early: ^C, kill and GNU
// timeout's default, and the terminal's hangup.
var interrupts = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// onInterrupt makes the first of SIGINT, SIGTERM and SIGHUP end the run
// with its full cleanup, until the returned function is called (for
// RunStandalone, whose process exits after it: the signals stay caught to
// the end, see stop): nothing of
// the run left running, no pidfile it made, no temporary directory; then
// the process exits with 128 + the signal's number (130, 143, 129), as a
// shell reports a command the signal ended. Later signals, of any mix, are
// taken and ignored: Ginkgo's own handling of a second ^C skips its cleanup
// nodes, and timeout(1) signals the command and then its process group.
// What is said goes to out.
//
// Ginkgo may return from RunSpecs while the cleanup runs (its second
// interrupt skips the rest): stop then waits for the cleanup, and the exit.
func onInterrupt(out io.Writer) (stop func()) {
	const (
		live = iota
		interrupted
		ended
	)
	var state atomic.Int32
	ch := make(chan os.Signal, len(interrupts))
	late := make(chan os.Signal, 1) // taken by the handler after the run ended
	done := make(chan struct{})
	handle := func(sig os.Signal) {
		n := sig.(syscall.Signal)
		fmt.Fprintf(out, "dcheck: interrupted by %v: cleaning up the run\n", unix.SignalName(n))
		cleanupAll()
		fmt.Fprintf(out, "dcheck: the run was cleaned up; nothing was judged to the end\n")
		os.Exit(128 + int(n))
	}
	signal.Notify(ch, interrupts...)
	var handler sync.WaitGroup
	handler.Go(func() {
		select {
		case sig := <-ch:
			if !state.CompareAndSwap(live, interrupted) {
				late <- sig // the run ended meanwhile: stop handles it
				return
			}
			handle(sig)
		case <-done:
		}
	})
	return func() {
		if !state.CompareAndSwap(live, ended) {
			select {} // the handler is cleaning up, and will exit
		}
		// The signals stay caught until the process exits: stopping the
		// notification gave them back their default action, and a late
		// SIGHUP of timeout(1)'s group round killed dcheck mid-cleanup,
		// leaving the run behind (1 run of a loaded make test). One that
		// comes after this is dropped: the run is over, and the process
		// about to exit.
		close(done)
		handler.Wait()
		// A signal that came as the run ended (Ginkgo, which takes SIGINT
		// and SIGTERM too, may have ended it because of one) is not lost:
		// under load, the handler had not yet taken it.
		// The first one decides the exit status: the handler's, if it
		// took one, else the oldest still queued (select would pick one of
		// the two at random).
		select {
		case sig := <-late:
			handle(sig)
		default:
		}
		select {
		case sig := <-ch:
			handle(sig)
		default:
		}
	}
}

// running holds the harnesses whose cleanup has not run, for a signal
// handler to clean up. Once closed, no harness is made.
var running = struct {
	sync.Mutex
	set    map[*harness]bool
	closed bool
}{set: map[*harness]bool{}}

// cleanupAll cleans up every harness that has not been, and lets no new
// one be made.
func cleanupAll() {
	running.Lock()
	running.closed = true
	hs := slices.Collect(maps.Keys(running.set))
	running.Unlock()
	for _, h := range hs {
		h.cleanup()
	}
}

// standaloneT is the testing.T that RunSpecs needs outside go test.
type standaloneT struct{ failed bool }

func (t *standaloneT) Fail() { t.failed = true }
