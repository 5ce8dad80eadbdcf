# trnsim build targets. Everything the project needs comes through the Go
# module proxy: staticcheck and benchstat are tool dependencies in go.mod.

GO      ?= go
PKGS    := ./...
FUZZTIME ?= 10s

.PHONY: all test fmt-check vet staticcheck unit bench fuzz regress baseline readme

all: test

# The README's test command; .ci/run runs exactly this.
test: fmt-check vet staticcheck unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

unit:
	$(GO) test -race -short -timeout 20m $(PKGS)

# The main job: the side-by-side comparison of the built-in kernels.
bench:
	$(GO) run ./cmd/trnsim bench

# Each fuzz target for a short fixed time; FUZZTIMEOUT bounds each whole
# go test run (seed corpus, baseline coverage and fuzzing), so a target
# that hangs fails CI instead of stalling it.
FUZZTIMEOUT ?= 3m
fuzz:
	@set -e; grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read f; do \
		pkg=./$$(dirname $${f#./}); \
		for name in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
			echo "fuzz $$pkg $$name"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -timeout $(FUZZTIMEOUT) $$pkg; \
		done; \
	done

# The regression gate: rerun the baseline suite into a temporary file and
# compare it with the committed results/baseline.csv; fails (exit 1) when a
# simulated time got worse by more than THRESHOLD.
THRESHOLD ?= 1%
regress:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) build -o "$$tmp/trnsim" ./cmd/trnsim; \
	"$$tmp/trnsim" sweep -suite baseline -o "$$tmp/baseline.csv"; \
	"$$tmp/trnsim" compare results/baseline.csv "$$tmp/baseline.csv" -threshold $(THRESHOLD)

# Every command of the README's set-up and command-line blocks at full
# size (make test runs them with smaller shapes under -short), and the
# README's bench excerpt against `trnsim bench -excerpt`.
readme:
	$(GO) test -count=1 -timeout 20m -run '^TestREADME' ./cmd/trnsim

# Refresh results/baseline.csv on purpose (after an intended timing change);
# commit it with the change that explains it.
baseline:
	$(GO) run ./cmd/trnsim sweep -suite baseline -o results/baseline.csv
