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
