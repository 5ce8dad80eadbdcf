package isa

import (
	"fmt"
	"math"
)

// Memory is where an access pattern points.
type Memory uint8

const (
	MemNone Memory = iota // operand slot unused
	HBM
	SBUF
	PSUM
)

func (m Memory) String() string {
	switch m {
	case HBM:
		return "hbm"
	case SBUF:
		return "sbuf"
	case PSUM:
		return "psum"
	}
	return "none"
}

// MaxFreeDims is the number of free dimensions an access pattern may have
// (docs/hardware.md A §1.4 "F access pattern up to 4-D per partition").
const MaxFreeDims = 4

// Dim is one free dimension of an access pattern, in elements. The fields
// are 32-bit so that a Program streams through the cache quickly: SBUF and
// PSUM patterns need 16 bits (docs/hardware.md A §1.4 "F access pattern": size
// uint16, stride int16), and an HBM pattern of a valid program addresses no
// more elements than the SBUF tile at the other end of its DMA (at most
// 128 partitions × 192 KiB).
type Dim struct {
	Stride int32
	Count  int32
}

// AP is an access pattern: which memory, which partitions (rows), and up to
// four (stride, count) free dimensions per partition.
//
// For SBUF and PSUM, Offset is the byte offset within each partition, Start
// the first partition and Parts the number of contiguous partitions; PStride
// is zero. For HBM, Tensor names the program tensor, Offset counts elements
// from the tensor's start, and row p begins PStride elements after row p-1.
// Offset and PStride stay 64-bit: a decode KV cache (batch 64 × 128k
// tokens × 8 heads × 128) has 8.6e9 elements.
//
// The field order keeps an AP at 64 bytes.
type AP struct {
	Mem     Memory
	DType   DType
	NFree   uint8
	Tensor  int32
	Offset  int
	Start   int32
	Parts   int32
	PStride int
	Free    [MaxFreeDims]Dim
}

// Narrow converts a count, stride, partition or tensor index to an AP's
// 32-bit field type, saturating at the int32 range. A saturated value is
// never valid: Validate rejects it (SBUF/PSUM limits are 16-bit; an HBM
// pattern that large copies more elements than any SBUF tile holds).
func Narrow(v int) int32 {
	return int32(min(max(v, math.MinInt32), math.MaxInt32))
}

// zero reports whether a == AP{}, field by field without branches (the
// compiler's comparison of a struct with padding is a call).
func (a *AP) zero() bool {
	f := &a.Free
	x := uint64(a.Mem) | uint64(a.DType) | uint64(a.NFree) | uint64(uint32(a.Tensor)) |
		uint64(a.Offset) | uint64(uint32(a.Start)) | uint64(uint32(a.Parts)) | uint64(a.PStride) |
		uint64(uint32(f[0].Stride)) | uint64(uint32(f[0].Count)) | uint64(uint32(f[1].Stride)) | uint64(uint32(f[1].Count)) |
		uint64(uint32(f[2].Stride)) | uint64(uint32(f[2].Count)) | uint64(uint32(f[3].Stride)) | uint64(uint32(f[3].Count))
	return x == 0
}

// FreeElems returns the number of elements per partition.
func (a AP) FreeElems() int {
	n := 1
	for i := range a.NFree {
		n *= int(a.Free[i].Count)
	}
	return n
}

// Elems returns the total number of elements addressed.
func (a AP) Elems() int { return int(a.Parts) * a.FreeElems() }

// Bytes returns the number of bytes addressed.
func (a AP) Bytes() int { return a.Elems() * a.DType.Size() }

// Used reports whether the operand slot holds an access pattern.
func (a AP) Used() bool { return a.Mem != MemNone }

// Contiguous reports whether the innermost free dimension has stride 1 and
// every outer dimension continues where the inner ones end, so the
// partition's elements form one run.
func (a AP) Contiguous() bool {
	want := 1
	for i := int(a.NFree) - 1; i >= 0; i-- {
		if a.Free[i].Count > 1 && int(a.Free[i].Stride) != want {
			return false
		}
		want *= int(a.Free[i].Count)
	}
	return true
}

// Span returns the first and one-past-last byte offsets the pattern touches
// within a partition (SBUF/PSUM) or elements within the tensor (HBM, rows
// included). Negative strides are allowed.
func (a AP) Span() (lo, hi int) {
	minOff, maxOff := 0, 0
	for i := range a.NFree {
		d := a.Free[i]
		if d.Count <= 0 {
			return a.Offset, a.Offset
		}
		ext := int(d.Stride) * int(d.Count-1)
		if ext < 0 {
			minOff += ext
		} else {
			maxOff += ext
		}
	}
	if a.Mem == HBM {
		ext := a.PStride * int(a.Parts-1)
		if ext < 0 {
			minOff += ext
		} else {
			maxOff += ext
		}
		return a.Offset + minOff, a.Offset + maxOff + 1
	}
	sz := a.DType.Size()
	return a.Offset + minOff*sz, a.Offset + (maxOff+1)*sz
}

// Shape2 returns a two-dimensional view: rows = partitions, cols = free
// elements per partition.
func (a AP) Shape2() (rows, cols int) { return int(a.Parts), a.FreeElems() }

// WithDims returns a copy of a with the given free dimensions.
func (a AP) WithDims(dims ...Dim) AP {
	if len(dims) > MaxFreeDims {
		panic(fmt.Sprintf("isa: %d free dims, at most %d", len(dims), MaxFreeDims))
	}
	a.NFree = uint8(len(dims))
	a.Free = [MaxFreeDims]Dim{}
	copy(a.Free[:], dims)
	return a
}

// Rows returns the sub-pattern of n partitions (SBUF/PSUM) or rows (HBM)
// starting at row r of a.
func (a AP) Rows(r, n int) AP {
	if a.Mem == HBM {
		a.Offset += r * a.PStride
	} else {
		a.Start = Narrow(int(a.Start) + r)
	}
	a.Parts = Narrow(n)
	return a
}

// Cols returns, for a pattern with one free dimension, the sub-pattern of n
// elements starting at element c of every row.
func (a AP) Cols(c, n int) AP {
	if a.NFree != 1 {
		panic("isa: Cols needs an access pattern with one free dimension")
	}
	d := a.Free[0]
	if a.Mem == HBM {
		a.Offset += c * int(d.Stride)
	} else {
		a.Offset += c * int(d.Stride) * a.DType.Size()
	}
	a.Free[0].Count = Narrow(n)
	return a
}

// Col returns column c of a one-free-dimension pattern as a [P,1] pattern.
func (a AP) Col(c int) AP { return a.Cols(c, 1) }

func (a AP) String() string { return formatAP(a) }
