# dcheck: make demo (build and judge two example processes), make test (all
# checks CI runs). See README.md.
GO       ?= go
BIN      := bin/dcheck
FUZZTIME ?= 3s

.PHONY: all build demo test fmt-check vet unit fuzz docs bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/dcheck

demo: build
	./ci/demo.sh $(BIN)

test: fmt-check vet fuzz unit

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

# Each fuzz target briefly; seeds live in checks/testdata/fuzz.
fuzz:
	@set -e; for t in $$($(GO) test ./checks -list '^Fuzz' | grep '^Fuzz'); do \
		echo "fuzz $$t ($(FUZZTIME))"; \
		$(GO) test ./checks -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) >/dev/null; \
	done

# Rewrite docs/rules.md, the README's rule table and the CLI's golden files.
docs:
	$(GO) test ./checks -run TestDocsAreCurrent -update
	$(GO) test ./cmd/dcheck/cli -run TestGoldenOutput -update

bench: build
	$(GO) test ./checks -run '^$$' -bench . -benchmem
	./ci/bench.sh $(BIN)

clean:
	rm -rf bin
