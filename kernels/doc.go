// Package kernels holds the workloads trnsim times: for each kernel, its
// parameters, its NeuronCore programs (written with isa.Builder, one per
// variant), its GPU description (sim/gpu) and a float64 reference that the
// functional run is checked against.
//
// A workload is a kernel plus values for its parameters, written
// "kernel:param=value,...". Every kernel handles any shape its parameters
// allow: remainder tiles are handled, never rejected.
package kernels
