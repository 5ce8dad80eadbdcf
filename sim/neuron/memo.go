package neuron

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// memo remembers, per access pattern, what addOperand finds for it: its
// memory level, its bytes, the tracker entries of the regions it touches
// and whether its innermost stride is wide (wideStride). Kernels reuse a
// few tiles, so most operands have been seen before. It keys on the
// whole pattern, byte for byte (sameWords), and what it stores is a
// function of the pattern as sameAP compares it: the level, bytes
// and stride by definition, the entries because the tracker numbers each
// region once, when it is first seen, and never renumbers it. (HBM
// patterns are looked up only once their tensor is tracked, which it then
// stays.) A hit is therefore exactly what a refill would compute, and the
// memo's size, hash and replacement policy change no figure.
//
// It is two-way set associative: kernels rotate a few tiles, and two of
// them landing in one set would otherwise evict each other on every use.
// A set keeps its two keys in one 128-byte block and both values in one
// 64-byte block, so a hit reads two or three cache lines. The way used
// last is compared first: a kernel's tiles come back to the set they were
// last seen in far more often than they alternate. addOperand looks
// patterns up; memoMiss fills a way.
type memo struct {
	sets *[memoSets]memoSet
	mru  [memoSets]uint8 // per set, the way used last; a miss replaces the other
}

// memoSet is one set: way w is key[w] and val[w]. An empty way holds the
// zero pattern, which no used operand equals (its memory is MemNone).
type memoSet struct {
	key [2]isa.AP
	val [2]memoVal
}

// memoVal is what the memo keeps for one pattern.
type memoVal struct {
	idx   [maxRuns]int32 // tracker entries
	bytes int64
	n     int8 // entries in idx
	level sim.Level
	wide  bool // innermost stride wider than NarrowStrideBytes (wideStride)
}

// memoSets is the number of sets of the memo: 1024 (192 KiB) keep the
// misses of BenchmarkSimulate's attention and tiled matmul under 0.1 % of
// their SBUF/PSUM operands (512 sets: twice the misses on smaller matmuls
// and attention; 256: 5 %).
const (
	memoBits = 10
	memoSets = 1 << memoBits
)

// apWords is an isa.AP seen as the eight machine words it occupies: the
// memo hashes and compares patterns a word at a time.
type apWords = [8]uint64

// AP must occupy exactly eight words: these fail to compile otherwise.
var (
	_ [unsafe.Sizeof(isa.AP{}) - 64]struct{}
	_ [64 - unsafe.Sizeof(isa.AP{})]struct{}
)

// memoSetOf hashes the words that tell a kernel's tiles and their views
// apart: the one holding the memory, dtype and tensor, the offset, the
// partitions, and the two outer free dimensions. It is small enough to
// inline.
func memoSetOf(a *isa.AP) int {
	x := (*apWords)(unsafe.Pointer(a))
	h := (x[1] ^ bits.RotateLeft64(x[0], 23) ^ bits.RotateLeft64(x[2], 41) ^ bits.RotateLeft64(x[4], 7) ^ bits.RotateLeft64(x[5], 53)) * 0x9E3779B97F4A7C15
	return int(h >> (64 - memoBits))
}

// sameWords reports whether a and b are equal byte for byte, padding
// included. Then they are equal field for field, and sameAP-equal, so the
// memo may trust a hit; patterns equal in their fields but not in their
// padding (a padding byte is never written by trnsim) only miss.
//
// It compares the two halves of four words each: the compiler compares
// an array of four words in line, word by word, where a whole
// pattern's comparison would call runtime.memequal, so sameWords is
// small enough to inline.
func sameWords(a, b *isa.AP) bool {
	x := (*[2][4]uint64)(unsafe.Pointer(a))
	y := (*[2][4]uint64)(unsafe.Pointer(b))
	return x[0] == y[0] && x[1] == y[1]
}

// memoMiss fills the least recently used way of set k with a.
func (r *runner) memoMiss(k int, a *isa.AP) (*memoVal, error) {
	w := r.memo.mru[k] ^ 1
	r.memo.mru[k] = w
	set := &r.memo.sets[k]
	set.key[w] = isa.AP{}
	m := &set.val[w]
	if err := r.fillMemo(m, a); err != nil {
		return nil, err
	}
	set.key[w] = *a
	return m, nil
}

// fillMemo computes the memo value of a, checking that it lies in the
// core's memories.
func (r *runner) fillMemo(m *memoVal, a *isa.AP) error {
	var l sim.Level
	switch a.Mem {
	case isa.SBUF, isa.PSUM:
		if a.Start < 0 || a.Parts < 1 || int(a.Start)+int(a.Parts) > r.parts {
			return fmt.Errorf("%s partitions [%d, %d) outside 0..%d", a.Mem, a.Start, int(a.Start)+int(a.Parts), r.parts)
		}
		l = sim.LevelSBUF
		if a.Mem == isa.PSUM {
			l = sim.LevelPSUM
		}
	case isa.HBM:
		if a.Tensor < 0 || int(a.Tensor) >= r.nTensors {
			return fmt.Errorf("HBM operand names tensor %d; the program declares %d", a.Tensor, r.nTensors)
		}
		l = sim.LevelHBM
	default:
		return fmt.Errorf("operand in unknown memory %d", a.Mem)
	}
	var regs [maxRuns]region
	m.n = 0
	for _, reg := range r.tr.regions(a, regs[:0]) {
		m.idx[m.n] = r.tr.lookup(reg)
		m.n++
	}
	m.level, m.bytes, m.wide = l, apBytes(a), wideStride(a, r.c.NarrowStrideBytes)
	return nil
}

// apBytes returns the bytes a addresses.
func apBytes(a *isa.AP) int64 {
	n := int64(max(a.Parts, 1)) * int64(a.DType.Size())
	for i := 0; i < int(a.NFree); i++ {
		n *= int64(a.Free[i].Count)
	}
	return n
}
