package isa

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// cacheChecker runs instructions through one long-lived cached checker
// and compares every result with checkFull's on the same instruction.
type cacheChecker struct {
	t         *testing.T
	cached    *instrChecker
	full      *instrChecker
	hits, all int
	// hintHits counts the hits on a last-shape hint; the others were
	// found in their set.
	hintHits int
}

// hinted reports whether c's last-shape hints for in hold in's shape:
// lookup's first path.
func hinted(c *instrChecker, in *Instr) bool {
	t := &c.shapes
	for _, i := range t.last[hintOf(in)] {
		if e := &t.entries[i]; e.head == headOf(in) && shapeDiff(in, e) == 0 {
			return true
		}
	}
	return false
}

func newCacheChecker(t *testing.T, p *Program, a Arch) *cacheChecker {
	c, f := new(instrChecker), new(instrChecker)
	*c, *f = newInstrChecker(p, a), newInstrChecker(p, a)
	return &cacheChecker{t: t, cached: c, full: f}
}

// check checks instruction i both ways; what names the case in a failure.
func (cc *cacheChecker) check(i int, what string) {
	cc.t.Helper()
	c, f := cc.cached, cc.full
	in := &c.p.Instrs[i]
	f.i, f.in = i, in
	want := f.checkFull()
	c.i, c.in = i, in
	hint := hinted(c, in)
	if c.lookup(in) {
		cc.hits++
		if hint {
			cc.hintHits++
		}
		if want != nil {
			cc.t.Fatalf("%s: instr %d passes the shape cache, but checkFull says %v\n%+v", what, i, want, *in)
		}
	}
	cc.all++
	got := c.check()
	if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
		cc.t.Fatalf("%s: instr %d: cached checker says %v, checkFull %v\n%+v", what, i, got, want, *in)
	}
}

// requireHits fails a test whose instructions never reached the cache's
// fast path: it would compare nothing.
func (cc *cacheChecker) requireHits(min int) {
	cc.t.Helper()
	if cc.hits < min {
		cc.t.Errorf("%d of %d instructions hit the shape cache, want at least %d", cc.hits, cc.all, min)
	}
	if cc.hintHits == 0 || cc.hintHits == cc.hits {
		cc.t.Errorf("%d of %d shape cache hits were on a last-shape hint: want both paths (hint and set) taken", cc.hintHits, cc.hits)
	}
}

// offsetNear returns an offset around the interesting values of a
// pattern: its own, the memories' edges, the ±2^40 and ±2^60 guards and
// the int range.
func offsetNear(rng *rand.Rand, own int) int {
	base := []int{own, 0, 2048, 16384, 192 * 1024, 24 * 1024, 1 << 40, -1 << 40, 1 << 60, -1 << 60, math.MaxInt, math.MinInt, 512 * 256}
	off := base[rng.IntN(len(base))]
	switch rng.IntN(4) {
	case 0:
		return off
	case 1:
		return off + rng.IntN(9) - 4
	case 2:
		return off + (rng.IntN(2049) - 1024)
	}
	return off - int(rng.Int64N(1<<16))
}

// cacheBase is validProgram with more instructions: an activation
// without a bias tile (the constant-bias rule reads Imm[1]), an fp8
// double-row matmul (valid on trn2 and later), bn_stats and bn_aggr.
func cacheBase() *Program {
	p := validProgram()
	act := p.Instrs[iAct]
	act.Src[1], act.Imm[1] = AP{}, 0
	mm := Instr{Op: OpMatmul, Engine: Tensor, DoubleRow: true,
		Dst: psumAP(0, 128, 2048, FP32, row(256)),
		Src: [3]AP{sbufAP(0, 128, 0, FP8E4M3, Dim{128, 2}, row(128)), sbufAP(0, 128, 512, FP8E4M3, Dim{256, 2}, row(256))}}
	stats := Instr{Op: OpBNStats, Engine: Vector,
		Dst: sbufAP(0, 128, 20480, FP32, row(6)), Src: [3]AP{sbufAP(0, 128, 256, BF16, row(512))}}
	aggr := Instr{Op: OpBNAggr, Engine: Vector,
		Dst: sbufAP(0, 128, 20480, FP32, row(2)), Src: [3]AP{sbufAP(0, 128, 20560, FP32, row(6))}}
	p.Instrs = append(p.Instrs, act, mm, stats, aggr)
	return p
}

// offsetEdge returns an offset one off, or at, either end of the offsets
// at which ap stays within its memory or tensor.
func offsetEdge(rng *rand.Rand, ap *AP, a Arch, tensors []TensorDecl) int {
	z := *ap
	z.Offset = 0
	lo, hi := z.Span()
	limit := a.SBUFPartitionBytes
	switch ap.Mem {
	case PSUM:
		limit = a.PSUMPartitionBytes()
	case HBM:
		if ap.Tensor >= 0 && int(ap.Tensor) < len(tensors) {
			limit = tensors[ap.Tensor].Elems()
		}
	}
	d := rng.IntN(3) - 1
	if rng.IntN(2) == 0 {
		return -lo + d
	}
	return limit - hi + d
}

// TestShapeCacheMatchesFull runs cacheBase's instructions again and
// again with random offsets (in and out of bounds), queues, sites,
// immediates and affine coefficients, and now and then another field
// broken, through the cached checker: every result, error text included,
// must be checkFull's.
func TestShapeCacheMatchesFull(t *testing.T) {
	for _, a := range []Arch{Trn1(), Trn2(), Trn3()} {
		t.Run(a.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(14, uint64(len(a.Name))))
			base := cacheBase()
			p := &Program{Name: base.Name, Tensors: base.Tensors, Sites: base.Sites}
			n := 20000
			if testing.Short() {
				n = 4000
			}
			for range n {
				in := base.Instrs[rng.IntN(len(base.Instrs))]
				for range 1 + rng.IntN(3) {
					perturb(rng, &in, a, base.Tensors)
				}
				p.Instrs = append(p.Instrs, in)
			}
			cc := newCacheChecker(t, p, a)
			for i := range p.Instrs {
				cc.check(i, a.Name)
			}
			cc.requireHits(n / 10)
		})
	}
}

// perturb changes one field of in: mostly the fields the cache leaves to
// per-instruction checks, sometimes a shape field.
func perturb(rng *rand.Rand, in *Instr, a Arch, tensors []TensorDecl) {
	nTensors := len(tensors)
	slot := in.slot(rng.IntN(numSlots))
	switch rng.IntN(16) {
	case 0, 1, 2:
		slot.Offset = offsetNear(rng, slot.Offset)
	case 3, 4, 14, 15:
		slot.Offset = offsetEdge(rng, slot, a, tensors)
	case 5:
		in.Queue = uint8(rng.IntN(20))
	case 6:
		in.Site = int32(rng.IntN(4) - 2)
	case 7:
		in.Imm[rng.IntN(2)] = float32(rng.IntN(3) - 1)
	case 8:
		in.Affine.FMul[rng.IntN(MaxFreeDims)] = rng.IntN(3) - 1
	case 9:
		slot.Tensor = int32(rng.IntN(nTensors+2) - 1)
	case 10:
		slot.Parts = int32([]int{1, 32, 64, 96, 128, 129, 0}[rng.IntN(7)])
	case 11:
		slot.Start = int32([]int{0, 32, 64, 96, 1, -1}[rng.IntN(6)])
	case 12:
		d := rng.IntN(MaxFreeDims)
		slot.Free[d] = Dim{Stride: int32(rng.IntN(5) - 2), Count: int32([]int{1, 2, 64, 128, 512, 0}[rng.IntN(6)])}
	case 13:
		in.Engine = Engine(rng.IntN(int(NumEngines)))
	}
}

// TestShapeCacheMatchesFullRandom does the same with the random programs
// of the assembly and executor tests (mostly invalid, over every limit),
// each program's instructions twice, the second time with other offsets,
// so that the first pass fills the cache.
func TestShapeCacheMatchesFullRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2))
	n := 3000
	if testing.Short() {
		n = 600
	}
	hits := 0
	for trial := range n {
		var p *Program
		if trial%2 == 0 {
			data := make([]byte, 200)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			p = fuzzProgram(data)
		} else {
			p = randomProgram(rng)
		}
		hits += checkTwice(t, p, rng, fmt.Sprintf("program %d", trial))
	}
	if hits == 0 {
		t.Errorf("no instruction hit the shape cache: the random programs test nothing")
	}
}

// checkTwice makes about half of p's instructions nearly valid (the
// generators' instructions seldom pass): a cacheBase instruction of
// the same opcode with one operand or one group of fields taken from the
// generated one. It gives most of the others an engine and queue that suit
// their opcode and known enum values. Then it appends a copy of all of
// them with offsets moved, checks every instruction with cached and full
// checkers on trn1 and trn2, and returns the number of cache hits.
func checkTwice(t *testing.T, p *Program, rng *rand.Rand, what string) int {
	refs := cacheBase()
	byOp := map[Opcode][]int{}
	for k, in := range refs.Instrs {
		byOp[in.Op] = append(byOp[in.Op], k)
	}
	p.Tensors = append(refs.Tensors, p.Tensors...)
	n := len(p.Instrs)
	for i := range n {
		in := &p.Instrs[i]
		if ks := byOp[in.Op]; rng.IntN(2) == 0 && len(ks) > 0 {
			mixed := refs.Instrs[ks[rng.IntN(len(ks))]]
			switch rng.IntN(5) {
			case 0, 1:
				j := rng.IntN(numSlots)
				*mixed.slot(j) = *in.slot(j)
			case 2:
				mixed.Act, mixed.ALU, mixed.Axes = in.Act, in.ALU, in.Axes
			case 3:
				mixed.Affine, mixed.Imm, mixed.DoubleRow = in.Affine, in.Imm, in.DoubleRow
			}
			mixed.Site = in.Site
			*in = mixed
			continue
		}
		if rng.IntN(4) == 0 {
			continue
		}
		for _, e := range rng.Perm(int(NumEngines)) {
			if a := Trn2(); engineOK(&a, in.Op, Engine(e)) {
				in.Engine = Engine(e)
				break
			}
		}
		in.Act %= NumActFuncs
		in.ALU[0] %= NumALUOps
		in.ALU[1] %= NumALUOps
		in.Affine.Cmp %= NumCmpOps
		in.Queue = 0
		if in.Engine == DMA {
			in.Queue = uint8(rng.IntN(NumDMAQueues))
		}
	}
	for i := range n {
		in := p.Instrs[i]
		for range rng.IntN(3) {
			s := in.slot(rng.IntN(numSlots))
			s.Offset = offsetNear(rng, s.Offset)
		}
		p.Instrs = append(p.Instrs, in)
	}
	hits := 0
	for _, a := range []Arch{Trn1(), Trn2()} {
		cc := newCacheChecker(t, p, a)
		for i := range p.Instrs {
			cc.check(i, what)
		}
		hits += cc.hits
	}
	return hits
}

// fieldValues are the values TestShapeCacheEveryField sets a field to.
var fieldValues = []int64{0, 1, -1, 2, 3, 4, 5, 15, 16, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129, 255, 256, 511, 512, 513,
	2048, 4096, 8192, 16384, 32767, 32768, 65535, 65536, 1 << 20, 1 << 31, 1<<31 - 1, -1 << 31, 1 << 40, 1 << 60, math.MaxInt64, math.MinInt64}

// TestShapeCacheEveryField sets every field of every instruction of
// cacheBase, one at a time, to each of fieldValues (what fits the
// field's type) after the instruction's shape was cached: the cached
// checker must agree with checkFull. A rule that reads a field the key
// leaves out shows up here.
func TestShapeCacheEveryField(t *testing.T) {
	for _, a := range []Arch{Trn1(), Trn2(), Trn3()} {
		base := cacheBase()
		p := &Program{Name: base.Name, Tensors: base.Tensors, Sites: base.Sites}
		for k := range base.Instrs {
			p.Instrs = append(p.Instrs, base.Instrs[k])
			for _, path := range fieldPaths(reflect.TypeOf(Instr{}), nil) {
				for _, v := range fieldValues {
					in := base.Instrs[k]
					if setField(reflect.ValueOf(&in).Elem().FieldByIndex(path), v) {
						p.Instrs = append(p.Instrs, in)
					}
				}
			}
		}
		cc := newCacheChecker(t, p, a)
		for i := range p.Instrs {
			cc.check(i, a.Name)
		}
		cc.requireHits(len(base.Instrs))
	}
}

// fieldPaths lists the index paths of every integer, float and bool
// field in t, arrays and structs included.
func fieldPaths(t reflect.Type, prefix []int) [][]int {
	var out [][]int
	for i := range t.NumField() {
		f := t.Field(i)
		path := append(append([]int(nil), prefix...), i)
		switch f.Type.Kind() {
		case reflect.Struct:
			out = append(out, fieldPaths(f.Type, path)...)
		case reflect.Array:
			// Arrays are walked by setField element by element.
			out = append(out, path)
		default:
			out = append(out, path)
		}
	}
	return out
}

// setField sets v (or, for an array, one element chosen by the value) to
// x if x fits its type, and reports whether it did.
func setField(v reflect.Value, x int64) bool {
	switch v.Kind() {
	case reflect.Array:
		n := v.Len()
		e := v.Index(int(uint64(x) % uint64(n)))
		if e.Kind() == reflect.Struct {
			ok := false
			for i := range e.NumField() {
				ok = setField(e.Field(i), x) || ok
			}
			return ok
		}
		return setField(e, x)
	case reflect.Struct:
		ok := false
		for i := range v.NumField() {
			ok = setField(v.Field(i), x) || ok
		}
		return ok
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.OverflowInt(x) {
			return false
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if x < 0 || v.OverflowUint(uint64(x)) {
			return false
		}
		v.SetUint(uint64(x))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(x))
	case reflect.Bool:
		v.SetBool(x&1 == 1)
	default:
		return false
	}
	return true
}

// FuzzShapeCache: the cached checker agrees with checkFull on fuzzed
// programs, each run twice with moved offsets.
func FuzzShapeCache(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint64(1))
	f.Add(make([]byte, 64), uint64(2))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		checkTwice(t, fuzzProgram(data), rand.New(rand.NewPCG(seed, 14)), "fuzz")
	})
}

// BenchmarkCheck checks cacheBase's instructions, hot in the CPU cache as
// a streaming Builder's are, with the shape cache (cached) and with every
// rule (full), and reports instructions checked per second (instr/s).
func BenchmarkCheck(b *testing.B) {
	p := cacheBase()
	a := Trn2()
	for _, mode := range []string{"cached", "full"} {
		b.Run("mode="+mode, func(b *testing.B) {
			c := new(instrChecker)
			c.init(p, a)
			check := c.check
			if mode == "full" {
				check = c.checkFull
			}
			for b.Loop() {
				for i := range p.Instrs {
					c.i, c.in = i, &p.Instrs[i]
					if e := check(); e != nil {
						b.Fatal(e)
					}
				}
			}
			b.ReportMetric(float64(len(p.Instrs))*float64(b.N)/b.Elapsed().Seconds(), "instr/s")
		})
	}
}
