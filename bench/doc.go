// Package bench is trnsim's harness: targets (NeuronCore generations and
// GPUs with their configs and prices), running one workload on one target
// into a results.Row, named suites of workloads, and sweeps over suites ×
// targets. bench_test.go exposes every suite to `go test -bench`.
//
// Simulated figures are exact: the same workload on the same target gives
// the same bits, whatever the machine, GOMAXPROCS or the order in which a
// sweep runs its workloads.
package bench
