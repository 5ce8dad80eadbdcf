//go:build !(goexperiment.simd && amd64)

package isa

// gemmBlockSIMD reports that no SIMD kernel is built in: this build does
// not set GOEXPERIMENT=simd (or is not amd64), so gemmBlockGo runs.
func gemmBlockSIMD(c, a, b []float32, M, N, K, i0, i1, j0, j1 int) bool { return false }
