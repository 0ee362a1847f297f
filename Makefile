# dcheck: make demo (build and judge two example processes), make test (all
# checks CI runs). See README.md.
GO       ?= go
SHELL    := /bin/bash
BIN      := bin/dcheck
# A count, not a duration: go1.26's fuzz coordinator can fail a run with
# "context deadline exceeded" when a duration ends mid-execution
# (golang/go#75804, fixed in go1.27).
FUZZTIME ?= 100000x

.PHONY: all build demo test fmt-check vet lint tidy cross unit fuzz docs bench corpus clean

all: build

# dcheck and dcheck-verify are static (CGO_ENABLED=0): no dynamic loader
# and no cgo runtime to start, which were a third of "dcheck PID"'s CPU;
# user names then come from /etc/passwd alone (see the README's
# Performance section).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/dcheck
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/dcheck-verify ./cmd/dcheck-verify
	$(GO) build -trimpath -o bin/gooddaemon ./fixtures/good
	$(GO) build -trimpath -o bin/brokendaemon ./fixtures/broken

demo: build
	./ci/demo.sh $(BIN)

test: fmt-check vet lint tidy cross fuzz unit

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# staticcheck, pinned (its configuration: staticcheck.conf).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	$(GO) run $(STATICCHECK) ./...

tidy:
	$(GO) mod tidy -diff

# Every package, and every test binary, vetted and compiled for the other
# systems dcheck runs on: a Linux-only call cannot creep back in.
CROSS ?= darwin/amd64 darwin/arm64 freebsd/amd64
cross:
	@set -e; for t in $(CROSS); do \
		echo "cross $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./...; \
		d=$$(mktemp -d); GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) test -c -o $$d/ ./... >/dev/null; rm -rf $$d; \
	done

# Every test with -race; what is printed is each package's result, the
# output of what failed, and the slowest tests (ci/testsummary), so that a
# run's time can be read off its log.
unit:
	@$(GO) build -o bin/testsummary ./ci/testsummary
	@set -o pipefail; $(GO) test -race -count=1 -timeout 30m -json ./... | bin/testsummary -slowest 20

# Each fuzz target briefly: the /proc parsers and the unit file reader.
# Seeds live in PKG/testdata/fuzz; a crasher is written there too: commit
# it with the fix.
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for p in ./proc ./unitfile; do for t in $$($(GO) test $$p -list '^Fuzz' | grep '^Fuzz'); do \
		echo "fuzz $$p $$t ($(FUZZTIME))"; \
		$(GO) test $$p -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) >"$$log" 2>&1 \
			|| { cat "$$log"; exit 1; }; \
	done; done

# Rewrite every generated file: docs/rules.md and the README's rule table
# (from the catalogue), the CLI's golden files (every one: reports, Nagios,
# waivers), docs/matrix.md (from the fixtures' declarations), the
# console's golden files (which run gooddaemon and brokendaemon: root),
# and docs/corpus.md (from the recorded verdicts; recording them needs a
# corpus run, ci/corpus/run.sh -update, checked by hand). The fast tests
# fail when any of these is stale, and name this target.
docs:
	$(GO) test ./checks -run TestDocsAreCurrent -update
	$(GO) test ./cmd/dcheck/cli -update
	$(GO) test ./fixtures -run TestMatrixDocIsCurrent -update
	$(GO) test ./suites -run TestConsoleOutput -update
	./ci/corpus/docs.sh >docs/corpus.md

bench: build
	$(GO) test ./checks -run '^$$' -bench . -benchmem
	./ci/bench.sh $(BIN) bin/gooddaemon

# Real daemons from Debian's packages (root; .ci/run installs them).
corpus: build
	./ci/corpus/run.sh $(BIN)

clean:
	rm -rf bin
