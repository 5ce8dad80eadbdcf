//go:build !amd64

package isa

// gemmBlockSIMD reports that no SIMD kernel is built in (it has amd64
// ones only), so gemmBlockGo runs.
func gemmBlockSIMD(c, a, b []float32, M, N, K, i0, i1, j0, j1 int) bool { return false }
