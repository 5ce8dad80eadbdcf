package isa

// The shape cache: most instructions of a kernel repeat a few shapes
// (opcode, engine, dtypes, partitions, free dims and strides, memories,
// flags) at different offsets, and every rule but a few reads only the
// shape. The checker remembers shapes that passed every rule, together
// with, for each operand slot, the range of offsets at which the
// offset-dependent rules hold; an instruction whose shape was seen passes
// with a table look-up and one range comparison per slot.
//
// What the key holds, and why that is exact. checkFull reads these
// instruction fields, and nothing else:
//
//   - Op, Engine, Act, ALU, Affine.Cmp, Axes, DoubleRow: in the key as
//     they are.
//   - Imm[1], only for activation (the constant-bias rule) and only
//     whether it is nonzero: the key holds that bit for activation.
//   - Affine.FMul, only whether each coefficient is nonzero (iota and
//     affine_select): the key holds the four bits.
//   - every field of every operand slot (Mem, DType, NFree, Tensor,
//     Start, Parts, PStride, Free) except Offset: in the key as they are.
//     The tensor an HBM operand names is declared once and never changes
//     (a streaming Builder only appends declarations), so its element
//     count, and that its index is in range, follow from the key too.
//   - Offset of every slot: checked per instruction. Each rule that reads
//     it (the SBUF/PSUM byte extent and its ±2^40 guard, the HBM element
//     extent and its ±2^60 guard, an unused slot being all zero) is a
//     bound on Offset alone once the shape is fixed, so together they are
//     one interval of offsets per slot, computed when the shape is
//     remembered.
//   - the destination's Offset again for the matmul PSUM-bank rule,
//     which is not an interval: checked per instruction from the
//     destination's span relative to its offset.
//   - Site and Queue: checked per instruction as checkFull checks them.
//
// A hit therefore passes exactly when checkFull would; anything else (a
// miss, or a hit whose per-instruction checks fail) runs checkFull, which
// finds the first violation in rule order, so errors are those of the
// uncached checker. TestShapeCacheMatchesFull, TestShapeCacheEveryField
// and FuzzShapeCache compare the two on random valid and invalid
// instructions and on every field of every opcode's instruction.

// slotWords is the number of words a slot's shape packs into (see
// slotWord): Mem, DType, NFree and Tensor; Start and Parts; PStride; the
// four free dimensions.
const slotWords = 7

// shapeEntry is one remembered shape.
type shapeEntry struct {
	// head packs the instruction's own fields that the rules read (see
	// headOf); 0 marks an empty entry.
	head uint64
	// ap holds each slot's shape words (slotWord).
	ap [numSlots][slotWords]uint64
	// Each slot's Offset passes every offset rule exactly when it lies
	// in [offLo, offLo+offSpan] (offSpan as unsigned).
	offLo, offSpan [numSlots]uint64
	// dstLo and dstHi are the destination's byte span relative to its
	// Offset, for the matmul PSUM-bank rule; bank is that rule's bank
	// size in bytes, 0 when it does not apply.
	dstLo, dstHi, bank int
}

// The shape table is set-associative: a few of a shape's fields pick one
// of shapeSets sets of shapeWays entries. The built-in kernels use at
// most a few dozen shapes each and cycle through them (causal attention:
// 39 in one loop); with one way, two of them sharing a set evicted each
// other on every iteration. 64 sets of 4 ways (256 entries, about
// 100 KiB, small enough for Validate's checker to stay on the stack)
// leave the kernels of BenchmarkValidateKernels one miss per shape.
const (
	shapeBits = 6
	shapeSets = 1 << shapeBits
	shapeWays = 4
)

// shapeTable is the checker's memory of valid shapes.
type shapeTable struct {
	entries [shapeSets * shapeWays]shapeEntry
	next    [shapeSets]uint8 // the way each set fills next, round robin
}

// headOf packs the fields of in, other than its operands, that the rules
// read (see the file comment). It is never 0.
func headOf(in *Instr) uint64 {
	h := uint64(1)<<63 | uint64(in.Op) | uint64(in.Engine)<<8 | uint64(in.Act)<<16 | uint64(in.ALU[0])<<24 |
		uint64(in.ALU[1])<<32 | uint64(in.Affine.Cmp)<<40 | uint64(in.Axes)<<48
	if in.DoubleRow {
		h |= 1 << 56
	}
	if in.Op == OpActivation && in.Imm[1] != 0 {
		h |= 1 << 57
	}
	f := &in.Affine.FMul
	if f[0]|f[1]|f[2]|f[3] != 0 {
		for d := range MaxFreeDims {
			if f[d] != 0 {
				h |= 1 << (58 + d)
			}
		}
	}
	return h
}

// slotWord returns word w (0 ≤ w < slotWords) of ap's shape: every field
// but Offset. Start and Parts, and each free dimension, are packed in
// memory order, which the compiler loads with one instruction.
func slotWord(ap *AP, w int) uint64 {
	switch w {
	case 0:
		return slotWord0(ap)
	case 1:
		return slotWord1(ap)
	case 2:
		return uint64(ap.PStride)
	}
	return dimBits(ap.Free[w-3])
}

func slotWord0(ap *AP) uint64 {
	return uint64(ap.Mem) | uint64(ap.DType)<<8 | uint64(ap.NFree)<<16 | uint64(uint32(ap.Tensor))<<32
}

func slotWord1(ap *AP) uint64 { return uint64(uint32(ap.Start)) | uint64(uint32(ap.Parts))<<32 }

// slotDiff is zero exactly when ap's shape is k (see slotWord).
func slotDiff(ap *AP, k *[slotWords]uint64) uint64 {
	f := &ap.Free
	// ^ and | bind alike in Go: every term is parenthesized.
	return (slotWord0(ap) ^ k[0]) | (slotWord1(ap) ^ k[1]) | (uint64(ap.PStride) ^ k[2]) |
		(dimBits(f[0]) ^ k[3]) | (dimBits(f[1]) ^ k[4]) | (dimBits(f[2]) ^ k[5]) | (dimBits(f[3]) ^ k[6])
}

// setOf picks in's set from head and the fields that most often tell a
// kernel's shapes apart: the destination's partitions and first free
// dimension, the first source's memory, dtype, tensor and first free
// dimension. Shapes that agree on all of them share a set, which costs
// only speed.
func setOf(in *Instr, head uint64) int {
	d, s0 := &in.Dst, &in.Src[0]
	x := (head^slotWord1(d))*0x9E3779B97F4A7C15 + (dimBits(d.Free[0])^slotWord0(s0))*0xBF58476D1CE4E5B9 +
		dimBits(s0.Free[0])*0x94D049BB133111EB
	// The top bits of a product depend on every bit of its factors.
	return int(x >> (64 - shapeBits))
}

// find returns the entry of in's shape, or nil.
func (t *shapeTable) find(in *Instr, head uint64, set int) *shapeEntry {
	d, s0, s1, s2, r := &in.Dst, &in.Src[0], &in.Src[1], &in.Src[2], &in.Red
	for w := range shapeWays {
		e := &t.entries[set*shapeWays+w]
		if e.head != head {
			continue
		}
		// One call per slot: written out as one expression, the 35
		// words overflow the registers.
		diff := slotDiff(d, &e.ap[0]) | slotDiff(s0, &e.ap[1]) | slotDiff(s1, &e.ap[2]) |
			slotDiff(s2, &e.ap[3]) | slotDiff(r, &e.ap[4])
		if diff == 0 {
			return e
		}
	}
	return nil
}

// lookup reports whether in passes every rule because its shape was
// remembered and its per-instruction fields fit; otherwise it returns
// in's head and set for remember.
func (c *instrChecker) lookup(in *Instr) (ok bool, head uint64, set int) {
	head = headOf(in)
	set = setOf(in, head)
	e := c.shapes.find(in, head, set)
	if e == nil || in.Site < -1 || int(in.Site) >= c.nSites {
		return false, head, set
	}
	if in.Engine == DMA {
		if int(in.Queue) >= NumDMAQueues {
			return false, head, set
		}
	} else if in.Queue != 0 {
		return false, head, set
	}
	// lo ≤ x ≤ lo+span in one comparison: x−lo wraps past span exactly
	// when x is outside.
	if uint64(in.Dst.Offset)-e.offLo[0] > e.offSpan[0] ||
		uint64(in.Src[0].Offset)-e.offLo[1] > e.offSpan[1] ||
		uint64(in.Src[1].Offset)-e.offLo[2] > e.offSpan[2] ||
		uint64(in.Src[2].Offset)-e.offLo[3] > e.offSpan[3] ||
		uint64(in.Red.Offset)-e.offLo[4] > e.offSpan[4] {
		return false, head, set
	}
	if bank := e.bank; bank > 0 {
		// checkMatmul's rule, (lo/bank != (hi−1)/bank), for lo ≥ 0
		// (the destination passed its range above), with the bank a
		// power of two (remember sets bank only then).
		lo := in.Dst.Offset + e.dstLo
		if lo&(bank-1)+e.dstHi-e.dstLo > bank {
			return false, head, set
		}
	}
	return true, head, set
}

// remember stores in's shape, which passed checkFull, in set.
func (c *instrChecker) remember(in *Instr, head uint64, set int) {
	t := &c.shapes
	e := &t.entries[set*shapeWays+int(t.next[set])]
	t.next[set] = (t.next[set] + 1) % shapeWays
	e.head = head
	for s := range numSlots {
		ap := in.slot(s)
		for w := range slotWords {
			e.ap[s][w] = slotWord(ap, w)
		}
		lo, hi := c.offsetRange(ap)
		e.offLo[s], e.offSpan[s] = uint64(lo), uint64(hi)-uint64(lo)
	}
	e.bank = 0
	if bank := c.a.PSUMBankBytes; in.Op == OpMatmul && c.a.MatmulNInBank && bank > 0 {
		if bank&(bank-1) != 0 {
			// lookup's bank rule needs a power of two; leave any other
			// bank size to checkFull.
			e.head = 0
			return
		}
		lo, hi := in.Dst.Span()
		e.dstLo, e.dstHi, e.bank = lo-in.Dst.Offset, hi-in.Dst.Offset, bank
	}
}

// offsetRange returns the offsets at which a slot with ap's shape passes
// the rules that read Offset, given that ap itself passed checkFull: the
// extents within SBUF, PSUM or the tensor, their overflow guards, and an
// unused slot being empty.
func (c *instrChecker) offsetRange(ap *AP) (lo, hi int) {
	switch ap.Mem {
	case SBUF, PSUM:
		// checkAP: |Offset| < far, Offset+minOff·size ≥ 0 and
		// Offset+(maxOff+1)·size ≤ capacity.
		const far = 1 << 40
		capacity := c.sbufCap
		if ap.Mem == PSUM {
			capacity = c.psumCap
		}
		minOff, maxOff := 0, 0
		for d := range ap.NFree {
			f := ap.Free[d]
			if ext := int(f.Stride) * int(f.Count-1); ext < 0 {
				minOff += ext
			} else {
				maxOff += ext
			}
		}
		sz := ap.DType.Size()
		return max(-minOff*sz, -far+1), min(capacity-(maxOff+1)*sz, far-1)
	case HBM:
		// checkHBM: −2^60 ≤ Offset ≤ 2^60, and the span of the
		// pattern at Offset 0 moved by Offset lies in the tensor.
		const lim = 1 << 60
		z := *ap
		z.Offset = 0
		minOff, end, _ := hbmSpan(&z)
		return max(-minOff, -lim), min(c.p.Tensors[ap.Tensor].Elems()-end, lim)
	}
	// An unused slot is all zero.
	return 0, 0
}
