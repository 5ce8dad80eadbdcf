//go:build amd64

package isa

// tileBlock covers the block with 4 × w tiles of kernel and leaves the
// right and bottom edges to the pure-Go kernel.
func tileBlock(c, a, b []float32, M, N, K, i0, i1, j0, j1, w int, kernel func(c, a, b []float32, M, N, K, i, j int)) {
	iEnd := i0 + (i1-i0)/4*4
	jEnd := j0 + (j1-j0)/w*w
	for i := i0; i < iEnd; i += 4 {
		for j := j0; j < jEnd; j += w {
			kernel(c, a, b, M, N, K, i, j)
		}
	}
	if jEnd < j1 {
		gemmBlockGo(c, a, b, M, N, K, i0, iEnd, jEnd, j1)
	}
	if iEnd < i1 {
		gemmBlockGo(c, a, b, M, N, K, iEnd, i1, j0, j1)
	}
}
