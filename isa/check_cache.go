package isa

import "unsafe"

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
//     Start, Parts, PStride, Free) except Offset: in the key as they are,
//     as the operand's memory words (see apWords).
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

// apWords views an operand as its eight words in memory, padding
// included: Mem, DType, NFree, a padding byte and Tensor; Offset; Start
// and Parts; PStride; the four free dimensions. The checker's key is an
// operand's words other than Offset (apOffset), compared as words: two
// operands whose words agree agree in every field. A padding byte is
// never written by trnsim (every Instr starts zeroed), and an operand
// differing from a remembered one in padding only misses, which costs
// only speed.
type apWords = [8]uint64

// apOffset is the index of Offset in apWords.
const apOffset = 1

// The word view needs AP to be exactly eight words and the operand slots
// Dst, Src[0..2], Red to lie back to back, in slot order: these fail to
// compile otherwise.
var (
	_ [unsafe.Sizeof(AP{}) - 64]struct{}
	_ [64 - unsafe.Sizeof(AP{})]struct{}
	_ [unsafe.Offsetof(AP{}.Offset) - 8*apOffset]struct{}
	_ [8*apOffset - unsafe.Offsetof(AP{}.Offset)]struct{}
	_ [unsafe.Offsetof(Instr{}.Src) - unsafe.Offsetof(Instr{}.Dst) - 64]struct{}
	_ [unsafe.Offsetof(Instr{}.Dst) + 64 - unsafe.Offsetof(Instr{}.Src)]struct{}
	_ [unsafe.Offsetof(Instr{}.Red) - unsafe.Offsetof(Instr{}.Dst) - 64*(numSlots-1)]struct{}
	_ [unsafe.Offsetof(Instr{}.Dst) + 64*(numSlots-1) - unsafe.Offsetof(Instr{}.Red)]struct{}
)

// slotsOf views in's operand slots, in slot order (see Instr.slot), as
// words.
func slotsOf(in *Instr) *[numSlots]apWords {
	return (*[numSlots]apWords)(unsafe.Pointer(&in.Dst))
}

// shapeEntry is one remembered shape.
type shapeEntry struct {
	// head packs the instruction's own fields that the rules read (see
	// headOf); 0 marks an empty entry.
	head uint64
	// ap holds each slot's words (apWords); the Offset word is 0.
	ap [numSlots]apWords
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
// 110 KiB, small enough for Validate's checker to stay on the stack)
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
	// last holds, per opcode and engine (see hintOf), the entries of the
	// two shapes of that opcode and engine last found or remembered, the
	// most recent first. A kernel's next instruction of an opcode on an
	// engine has most often one of the last two shapes (a loop
	// alternates two tiles' loads, or a full and a partial tile), so
	// lookup compares it with those entries before it hashes into the
	// sets. They are only hints: lookup compares the whole key, so an
	// entry since refilled with another shape only misses. A uint8
	// indexes every entry without a bounds check.
	last [hintSlots][2]uint8
}

// hintSlots is the number of opcode–engine pairs the last-shape hints
// tell apart (see hintOf).
const hintSlots = 128

// The last-shape hints index the entries with a uint8.
var (
	_ [shapeSets*shapeWays - 256]struct{}
	_ [256 - shapeSets*shapeWays]struct{}
)

// hintOf returns in's slot of the last-shape hints: its opcode and
// engine, which pairs of the valid opcodes and engines keep apart; other
// pairs sharing a slot cost only speed.
func hintOf(in *Instr) int { return (int(in.Op)<<3 ^ int(in.Engine)) & (hintSlots - 1) }

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

// slotDiff is zero exactly when the operand x has the words of k, Offset
// aside. It is small enough to inline.
func slotDiff(x, k *apWords) uint64 {
	// ^ and | bind alike in Go: every term is parenthesized.
	return (x[0] ^ k[0]) | (x[2] ^ k[2]) | (x[3] ^ k[3]) | (x[4] ^ k[4]) | (x[5] ^ k[5]) | (x[6] ^ k[6]) | (x[7] ^ k[7])
}

// shapeDiff is zero exactly when in's operands have e's shape.
func shapeDiff(in *Instr, e *shapeEntry) uint64 {
	x, k := slotsOf(in), &e.ap
	d := slotDiff(&x[0], &k[0])
	d |= slotDiff(&x[1], &k[1])
	d |= slotDiff(&x[2], &k[2])
	d |= slotDiff(&x[3], &k[3])
	d |= slotDiff(&x[4], &k[4])
	return d
}

// setOf picks in's set from head and the words that most often tell a
// kernel's shapes apart: the destination's partitions and first free
// dimension, the first source's memory, dtype, tensor and first free
// dimension. Shapes that agree on all of them share a set, which costs
// only speed.
func setOf(in *Instr, head uint64) int {
	x := slotsOf(in)
	d, s0 := &x[0], &x[1]
	h := (head^d[2])*0x9E3779B97F4A7C15 + (d[4]^s0[0])*0xBF58476D1CE4E5B9 + s0[4]*0x94D049BB133111EB
	// The top bits of a product depend on every bit of its factors.
	return int(h >> (64 - shapeBits))
}

// find returns the index of in's shape's entry in set, or -1.
func (t *shapeTable) find(in *Instr, head uint64, set int) int {
	for w := range shapeWays {
		i := set*shapeWays + w
		e := &t.entries[i]
		if e.head == head && shapeDiff(in, e) == 0 {
			return i
		}
	}
	return -1
}

// lookup reports whether in passes every rule because its shape was
// remembered and its per-instruction fields fit. It tries the last two
// shapes of in's opcode and engine first, then in's set.
func (c *instrChecker) lookup(in *Instr) bool {
	head := headOf(in)
	t := &c.shapes
	h := &t.last[hintOf(in)]
	e := &t.entries[h[0]]
	// The first probe is shapeDiff written out, so that the common
	// case calls nothing.
	x, k := slotsOf(in), &e.ap
	if e.head != head || slotDiff(&x[0], &k[0])|slotDiff(&x[1], &k[1])|slotDiff(&x[2], &k[2])|
		slotDiff(&x[3], &k[3])|slotDiff(&x[4], &k[4]) != 0 {
		e = &t.entries[h[1]]
		if e.head != head || shapeDiff(in, e) != 0 {
			i := t.find(in, head, setOf(in, head))
			if i < 0 {
				return false
			}
			h[1] = uint8(i)
			e = &t.entries[i]
		}
		h[0], h[1] = h[1], h[0]
	}
	if in.Site < -1 || int(in.Site) >= c.nSites {
		return false
	}
	if in.Engine == DMA {
		if int(in.Queue) >= NumDMAQueues {
			return false
		}
	} else if in.Queue != 0 {
		return false
	}
	// lo ≤ x ≤ lo+span in one comparison: x−lo wraps past span exactly
	// when x is outside.
	if uint64(in.Dst.Offset)-e.offLo[0] > e.offSpan[0] ||
		uint64(in.Src[0].Offset)-e.offLo[1] > e.offSpan[1] ||
		uint64(in.Src[1].Offset)-e.offLo[2] > e.offSpan[2] ||
		uint64(in.Src[2].Offset)-e.offLo[3] > e.offSpan[3] ||
		uint64(in.Red.Offset)-e.offLo[4] > e.offSpan[4] {
		return false
	}
	if bank := e.bank; bank > 0 {
		// checkMatmul's rule, (lo/bank != (hi−1)/bank), for lo ≥ 0
		// (the destination passed its range above), with the bank a
		// power of two (remember sets bank only then).
		lo := in.Dst.Offset + e.dstLo
		if lo&(bank-1)+e.dstHi-e.dstLo > bank {
			return false
		}
	}
	return true
}

// remember stores in's shape, which passed checkFull, in its set, and
// makes it the last shape of in's opcode and engine.
func (c *instrChecker) remember(in *Instr) {
	t := &c.shapes
	head := headOf(in)
	set := setOf(in, head)
	i := set*shapeWays + int(t.next[set])
	t.next[set] = (t.next[set] + 1) % shapeWays
	h := &t.last[hintOf(in)]
	h[0], h[1] = uint8(i), h[0]
	e := &t.entries[i]
	e.head = head
	e.ap = *slotsOf(in)
	for s := range numSlots {
		e.ap[s][apOffset] = 0
		lo, hi := c.offsetRange(in.slot(s))
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
