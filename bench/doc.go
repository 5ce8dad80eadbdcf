// Package bench is trnsim's harness: targets, running one workload on one
// target into a results.Row, named suites of workloads, and sweeps over
// suites × targets. bench_test.go exposes every suite to `go test -bench`.
//
// A Target (target.go) is resolved once from a preset name and an
// optional hardware file: NeuronTarget (one NeuronCore of a generation,
// sim/neuron) or GPUTarget (one GPU, sim/gpu), each with its fixed
// configuration and its price. A new kind of machine is a new Target
// implementation; a new preset of a known kind is a preset in its timing
// package. Prices (price.go) are not micro-architecture: they live in a
// PriceTable (USD per hour, the unit, the basis, the date and the
// docs/hardware.md Part C row), which -price overrides.
//
// Simulated figures are exact: the same workload on the same target gives
// the same bits, whatever the machine, GOMAXPROCS or the order in which a
// sweep runs its workloads.
package bench
