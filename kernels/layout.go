package kernels

import "github.com/trnsim/trnsim/isa"

// Partitions of SBUF/PSUM every generation has (docs/hardware.md A §1.4
// "Partition dim (P) max 128"); tiles put up to this many rows on lanes.
const lanes = 128

// hbmAP returns an access pattern over tensor t: parts rows, row r starting
// at element off + r·pstride, each row walking dims.
func hbmAP(t isa.HBMTensor, off, parts, pstride int, dims ...isa.Dim) isa.AP {
	a := isa.AP{Mem: isa.HBM, DType: t.Decl.DType, Tensor: isa.Narrow(t.Index), Offset: off, Parts: isa.Narrow(parts), PStride: pstride}
	return a.WithDims(dims...)
}

// view returns tile a (an SBUF or PSUM pattern) seen from byte offset
// byteOff of its first element with the given free dimensions.
func view(a isa.AP, byteOff int, dims ...isa.Dim) isa.AP {
	a.Offset += byteOff
	return a.WithDims(dims...)
}

// window sets *dst to a.Rows(r0, rows).Cols(c0, cols) for an SBUF or PSUM
// tile a with one free dimension, writing the fields in place. Kernels
// use it to cut a run of operands before the instructions that read
// them: a view returned by value is built in a temporary, field by field,
// and then copied whole, and that copy waits until the CPU has written
// the fields to its cache (narrow stores are not forwarded to the wide
// loads of a struct copy), which costs more than the rest of emitting an
// instruction.
func window(dst, a *isa.AP, r0, rows, c0, cols int) {
	if a.Mem == isa.HBM || a.NFree != 1 {
		panic("kernels: window needs an SBUF or PSUM tile with one free dimension")
	}
	*dst = *a
	dst.Start = isa.Narrow(int(a.Start) + r0)
	dst.Parts = isa.Narrow(rows)
	dst.Offset += c0 * int(a.Free[0].Stride) * a.DType.Size()
	dst.Free[0].Count = isa.Narrow(cols)
}

// hbmTile sets *dst to t.Tile(r0, c0, rows, cols) in place (see window).
func hbmTile(dst *isa.AP, t *isa.HBMTensor, r0, c0, rows, cols int) {
	c := t.Cols()
	*dst = isa.AP{}
	dst.Mem, dst.DType, dst.Tensor = isa.HBM, t.Decl.DType, isa.Narrow(t.Index)
	dst.Offset, dst.Parts, dst.PStride = r0*c+c0, isa.Narrow(rows), c
	dst.NFree, dst.Free[0] = 1, isa.Dim{Stride: 1, Count: isa.Narrow(cols)}
}
