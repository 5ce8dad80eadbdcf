package isa

import (
	"encoding/binary"
	"math"
)

// Reading and writing one row (partition) of an access pattern as float32:
// the only way instructions touch memory. Contiguous rows go through one
// tight loop per dtype; other rows are split into runs along the innermost
// free dimension.

// dims4 returns the free dimensions of ap padded at the front to four, so
// the innermost dimension is always index 3.
func dims4(ap *AP) (count, stride [MaxFreeDims]int) {
	pad := MaxFreeDims - int(ap.NFree)
	for k := 0; k < pad; k++ {
		count[k] = 1
	}
	for k := 0; k < int(ap.NFree); k++ {
		count[pad+k], stride[pad+k] = int(ap.Free[k].Count), int(ap.Free[k].Stride)
	}
	return count, stride
}

// spaceOf returns the byte storage of an SBUF or PSUM pattern.
func (m *machine) spaceOf(ap *AP) *space {
	if ap.Mem == PSUM {
		return &m.psum
	}
	return &m.sbuf
}

// load reads row p of ap into dst (len ap.FreeElems()).
func (m *machine) load(ap *AP, p int, dst []float32) {
	if ap.Mem == HBM {
		t := m.hbm[ap.Tensor]
		base := ap.Offset + p*ap.PStride
		if ap.Contiguous() {
			copy(dst, t[base:base+len(dst)])
			return
		}
		forRuns(ap, func(i, off, n, step int) {
			off += base
			if step == 1 {
				copy(dst[i:i+n], t[off:off+n])
				return
			}
			for j := range n {
				dst[i+j] = t[off+j*step]
			}
		})
		return
	}
	sp := m.spaceOf(ap)
	sz := ap.DType.Size()
	base := (int(ap.Start)+p)*sp.stride + ap.Offset
	if ap.Contiguous() {
		decodeRun(ap.DType, sp.data[base:base+len(dst)*sz], dst)
		return
	}
	forRuns(ap, func(i, off, n, step int) {
		off = base + off*sz
		if step == 1 {
			decodeRun(ap.DType, sp.data[off:off+n*sz], dst[i:i+n])
			return
		}
		for j := range n {
			dst[i+j] = decodeOne(ap.DType, sp.data[off+j*step*sz:])
		}
	})
}

// store rounds src (len ap.FreeElems()) to ap's dtype and writes it to row
// p of ap.
func (m *machine) store(ap *AP, p int, src []float32) { m.storeRow(ap, p, src, false) }

// storeRow is store; exact says src is already representable in ap's dtype
// (it was read from a pattern of the same dtype), so rounding is skipped.
func (m *machine) storeRow(ap *AP, p int, src []float32, exact bool) {
	if ap.Mem == HBM {
		t := m.hbm[ap.Tensor]
		base := ap.Offset + p*ap.PStride
		if ap.Contiguous() {
			if exact {
				copy(t[base:base+len(src)], src)
			} else {
				roundRun(ap.DType, src, t[base:base+len(src)])
			}
			return
		}
		forRuns(ap, func(i, off, n, step int) {
			off += base
			if step == 1 {
				roundRun(ap.DType, src[i:i+n], t[off:off+n])
				return
			}
			for j := range n {
				t[off+j*step] = ap.DType.Round(src[i+j])
			}
		})
		return
	}
	sp := m.spaceOf(ap)
	sz := ap.DType.Size()
	base := (int(ap.Start)+p)*sp.stride + ap.Offset
	if ap.Contiguous() {
		encodeRun(ap.DType, src, sp.data[base:base+len(src)*sz], exact)
		return
	}
	forRuns(ap, func(i, off, n, step int) {
		off = base + off*sz
		if step == 1 {
			encodeRun(ap.DType, src[i:i+n], sp.data[off:off+n*sz], exact)
			return
		}
		for j := range n {
			encodeOne(ap.DType, src[i+j], sp.data[off+j*step*sz:])
		}
	})
}

// forRuns calls run for every run of the innermost free dimension of ap, in
// row-major order: i is the index of the run's first element within the
// row, off its element offset from the row's start, n its length and step
// its stride in elements.
func forRuns(ap *AP, run func(i, off, n, step int)) {
	c, s := dims4(ap)
	i := 0
	for i0 := 0; i0 < c[0]; i0++ {
		for i1 := 0; i1 < c[1]; i1++ {
			for i2 := 0; i2 < c[2]; i2++ {
				run(i, i0*s[0]+i1*s[1]+i2*s[2], c[3], s[3])
				i += c[3]
			}
		}
	}
}

// loadScalar reads the single element of row p of a [P,1] pattern.
func (m *machine) loadScalar(ap *AP, p int) float32 {
	var v [1]float32
	m.load(ap, p, v[:])
	return v[0]
}

// copyAP copies src to dst with dtype conversion (tensor_copy, dma_copy).
// Same-shaped rows are copied row by row, byte for byte when the dtypes
// match and both rows are contiguous bytes; otherwise elements are copied
// in row-major order of the whole pattern.
func (m *machine) copyAP(dst, src AP) {
	n := dst.FreeElems()
	if dst.Parts == src.Parts && n == src.FreeElems() {
		if dst.DType == src.DType && dst.Mem != HBM && src.Mem != HBM && dst.Contiguous() && src.Contiguous() {
			ds, ss := m.spaceOf(&dst), m.spaceOf(&src)
			nb := n * dst.DType.Size()
			for p := 0; p < int(dst.Parts); p++ {
				d := (int(dst.Start)+p)*ds.stride + dst.Offset
				s := (int(src.Start)+p)*ss.stride + src.Offset
				copy(ds.data[d:d+nb], ss.data[s:s+nb])
			}
			return
		}
		m.parallel(int(dst.Parts), dst.Elems(), rowsIndependent(dst, src), func(w, lo, hi int) {
			buf := m.work[w].row[0][:n]
			for p := lo; p < hi; p++ {
				m.load(&src, p, buf)
				m.storeRow(&dst, p, buf, dst.DType == src.DType)
			}
		})
		return
	}
	flat := m.grow(&m.flat, src.Elems())
	sn := src.FreeElems()
	for p := 0; p < int(src.Parts); p++ {
		m.load(&src, p, flat[p*sn:(p+1)*sn])
	}
	for p := 0; p < int(dst.Parts); p++ {
		m.storeRow(&dst, p, flat[p*n:(p+1)*n], dst.DType == src.DType)
	}
}

// grow returns (*buf)[:n], reallocating *buf if it is shorter.
func (m *machine) grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// decodeRun widens the encoded elements of src into dst (len(src) =
// len(dst)·size).
func decodeRun(d DType, src []byte, dst []float32) {
	le := binary.LittleEndian
	switch d {
	case FP32:
		src = src[:4*len(dst)]
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case BF16:
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(le.Uint16(src[2*i:])) << 16)
		}
	case FP16:
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = decodeFP16(le.Uint16(src[2*i:]))
		}
	case FP8E4M3:
		src = src[:len(dst)]
		for i := range dst {
			dst[i] = decodeE4M3(src[i])
		}
	case FP8E5M2:
		src = src[:len(dst)]
		for i := range dst {
			dst[i] = decodeFP16(uint16(src[i]) << 8)
		}
	case Int32:
		src = src[:4*len(dst)]
		for i := range dst {
			dst[i] = float32(int32(le.Uint32(src[4*i:])))
		}
	}
}

// encodeRun rounds src to d and writes the encodings to dst (len(dst) =
// len(src)·size). With exact set, src is already representable in d and
// only the packing is done.
func encodeRun(d DType, src []float32, dst []byte, exact bool) {
	le := binary.LittleEndian
	switch d {
	case FP32:
		dst = dst[:4*len(src)]
		for i, x := range src {
			le.PutUint32(dst[4*i:], math.Float32bits(x))
		}
	case BF16:
		dst = dst[:2*len(src)]
		if exact {
			for i, x := range src {
				le.PutUint16(dst[2*i:], uint16(math.Float32bits(x)>>16))
			}
			return
		}
		for i, x := range src {
			le.PutUint16(dst[2*i:], uint16(math.Float32bits(roundBF16(x))>>16))
		}
	case FP16:
		dst = dst[:2*len(src)]
		if exact {
			for i, x := range src {
				le.PutUint16(dst[2*i:], uint16(encodeFloat(x, fp16Mant, 5, fp16EMin, false)))
			}
			return
		}
		for i, x := range src {
			le.PutUint16(dst[2*i:], uint16(encodeFloat(roundFloat(x, fp16Mant, fp16EMin, fp16MaxBits, false), fp16Mant, 5, fp16EMin, false)))
		}
	case FP8E4M3:
		dst = dst[:len(src)]
		if exact {
			for i, x := range src {
				dst[i] = uint8(encodeFloat(x, e4m3Mant, 4, e4m3EMin, true))
			}
			return
		}
		for i, x := range src {
			dst[i] = uint8(encodeFloat(roundFloat(x, e4m3Mant, e4m3EMin, e4m3MaxBits, true), e4m3Mant, 4, e4m3EMin, true))
		}
	case FP8E5M2:
		dst = dst[:len(src)]
		if exact {
			for i, x := range src {
				dst[i] = uint8(encodeFloat(x, e5m2Mant, 5, e5m2EMin, false))
			}
			return
		}
		for i, x := range src {
			dst[i] = uint8(encodeFloat(roundFloat(x, e5m2Mant, e5m2EMin, e5m2MaxBits, false), e5m2Mant, 5, e5m2EMin, false))
		}
	case Int32:
		dst = dst[:4*len(src)]
		for i, x := range src {
			le.PutUint32(dst[4*i:], uint32(saturateInt32(x)))
		}
	}
}

// roundRun writes src rounded to d into dst (HBM, which holds float32).
func roundRun(d DType, src, dst []float32) {
	dst = dst[:len(src)]
	switch d {
	case FP32:
		copy(dst, src)
	case BF16:
		for i, x := range src {
			dst[i] = roundBF16(x)
		}
	default:
		for i, x := range src {
			dst[i] = d.Round(x)
		}
	}
}

// decodeOne widens the element at the start of b.
func decodeOne(d DType, b []byte) float32 {
	var v [1]float32
	decodeRun(d, b[:d.Size()], v[:])
	return v[0]
}

// encodeOne rounds x to d and writes its encoding at the start of b.
func encodeOne(d DType, x float32, b []byte) {
	encodeRun(d, []float32{x}, b[:d.Size()], false)
}
