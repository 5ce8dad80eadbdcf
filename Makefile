# trnsim build targets. Everything the project needs comes through the Go
# module proxy: staticcheck and benchstat are tool dependencies in go.mod.

GO      ?= go
PKGS    := ./...
FUZZTIME ?= 10s

.PHONY: all test fmt-check vet staticcheck unit bench perf fuzz regress baseline loo readme long

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

# The simulator's own speed: NeuronCore instructions built and timed per
# wall second (instr/s) and bytes allocated per instruction (bytes/instr),
# end to end (bench: streamed, composite parts on all cores; SimulateDetailed:
# with a trace or profile, and kept-bytes/instr, what its spans hold) and per
# mode (sim/neuron: streamed, streamed keeping spans, stored), and the functional matmul
# beside gonum's Sgemm (GFLOP/s). Compare two runs with benchstat.
PERFTIME ?= 3x
perf:
	$(GO) test -run '^$$' -bench 'Simulate' -benchtime $(PERFTIME) ./sim/neuron ./bench
	$(GO) test -run '^$$' -bench 'ExecMatmul/(exec-fp32|gonum)' -benchtime $(PERFTIME) ./isa

# Each fuzz target for a short fixed time; FUZZTIMEOUT bounds each whole
# go test run (seed corpus, baseline coverage and fuzzing), so a target
# that hangs fails CI instead of stalling it. On a loaded machine Go's
# fuzzing engine can fail a run with its own "context deadline exceeded"
# at the end of -fuzztime, with no failing input; such a run is repeated
# once. A run that writes a failing input fails at once.
FUZZTIMEOUT ?= 3m
fuzz:
	@set -e; grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read f; do \
		pkg=./$$(dirname $${f#./}); \
		for name in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
			echo "fuzz $$pkg $$name"; \
			log=$$(mktemp); \
			if $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -timeout $(FUZZTIMEOUT) $$pkg > $$log 2>&1; then \
				cat $$log; \
			elif grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input' $$log; then \
				cat $$log; echo "fuzz $$pkg $$name: the engine's own deadline, no failing input: once more"; \
				$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -timeout $(FUZZTIMEOUT) $$pkg; \
			else \
				cat $$log; rm -f $$log; exit 1; \
			fi; \
			rm -f $$log; \
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

# Every test at full size: what make test leaves out under -short (the
# README's commands at full size, the NKI ladder checks, the tuning figure,
# long functional checks). About 1.5 min on 2 cores; CI runs it.
long:
	$(GO) test -count=1 -timeout 30m $(PKGS)

# Refresh results/baseline.csv on purpose (after an intended timing change);
# commit it with the change that explains it.
baseline:
	$(GO) run ./cmd/trnsim sweep -suite baseline -o results/baseline.csv

# The leave-one-out table of the NeuronCore model's measured parameters
# (sim/neuron/loo_test.go): each calibration point predicted with it left
# out, beside its fit error, and the trn2 fp32 ladder. Fails when a point's
# leave-one-out error is over 2% or a ladder step's over 5%.
loo:
	@out=$$($(GO) test -count=1 -run '^TestLeaveOneOut$$' -v ./sim/neuron) || { echo "$$out"; exit 1; }; \
	echo "$$out" | sed -n 's/^ *loo_test\.go:[0-9]*: //p'
