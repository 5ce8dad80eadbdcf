package kernels

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/isa"
)

// Flash attention forward on a NeuronCore, in two variants that show the
// steps a kernel author takes (see attnTiled and attnOptimized).
//
// Layout, as NKI's flash attention takes it: Q and K are stored head-dim
// major, QT [batch, heads, d, seqlen] and KT [batch, kv_heads, d, seqlen],
// so a [d, tokens] tile loads with one contiguous run per partition and
// feeds TensorE's contraction over d directly; V is [batch, kv_heads,
// seqlen, d] and the output O [batch, heads, seqlen, d].
//
// Per 128-query tile and KV tile the kernel computes S = QᵀK on TensorE
// (stationary Qᵀ [d, 128 queries], moving Kᵀ [d, keys], fp32 in PSUM; d =
// 256 is two accumulating matmuls over 128-row halves), the running row max
// on VectorE, P = exp(scale·S − scale·max) on ScalarE with the scale and
// the max folded into the activation's scale and per-row bias and the row
// sum taken by the same instruction's add-reduce, Pᵀ by TensorE transposes
// (the PV matmul contracts over keys, which must be on partitions), and
// O += PᵀV on TensorE. With causal masking, KV tiles above the diagonal are
// never computed, and the diagonal tiles are masked by GpSimdE's
// affine_select (which cannot read PSUM, so S goes to SBUF first).

func attentionKernel() *Kernel {
	return &Kernel{
		Name: "attention",
		Doc:  "flash attention forward (prefill), online softmax over KV tiles; GQA/MQA via kv_heads; Q, K stored head-dim major as NKI takes them",
		Params: []Param{
			{Name: "batch", Kind: IntParam, Default: "1", Doc: "sequences"},
			{Name: "heads", Kind: IntParam, Default: "8", Doc: "query heads"},
			{Name: "kv_heads", Kind: CountParam, Default: "0", Doc: "key/value heads; 0 = heads (MHA), 1 = MQA, else GQA (heads a multiple of it)"},
			{Name: "seqlen", Kind: IntParam, Default: "4096", Max: 131072, Doc: "sequence length (queries and keys)"},
			{Name: "headdim", Kind: IntParam, Default: "128", Doc: "head dimension: 64, 128 or 256"},
			{Name: "causal", Kind: BoolParam, Default: "false", Doc: "mask keys after each query"},
			{Name: "dtype", Kind: DTypeParam, Default: "bf16", Allowed: []string{"bf16", "fp16", "fp8e4m3", "fp32"}, Doc: "Q, K, V dtype (fp8 produces a bf16 output)"},
			{Name: "variant", Kind: EnumParam, Default: "best", Allowed: []string{"best", "tiled", "optimized", "fa2", "fa3"},
				Doc: "best; NeuronCore: tiled (straightforward) or optimized; GPU: fa2, fa3",
				// The NeuronCore variants; a GPU's fa2 and fa3 are among its
				// candidate plans, which tune times on GPU targets.
				Tune: []string{"tiled", "optimized"}},
		},
		Check: attentionCheck,
		FLOPs: func(p Params) float64 {
			s := float64(p.Int("seqlen"))
			f := 4 * float64(p.Int("batch")) * float64(p.Int("heads")) * s * s * float64(p.Int("headdim"))
			if p.Bool("causal") {
				f /= 2
			}
			return f
		},
		// ≈ 18 instructions per 128-query × 512-key tile per 128 of head
		// dimension (`trnsim asm`), rounded up.
		Instrs: func(p Params) float64 {
			s := p.Int("seqlen")
			return 20 * float64(p.Int("batch")) * float64(p.Int("heads")) * tiles(s, 128) * tiles(s, 512) * tiles(p.Int("headdim"), 128)
		},
		Neuron:       attentionNeuron,
		GPU:          attentionGPU,
		FromMeasured: attentionFromMeasured,
		NeuronVariant: func(p Params) string {
			if v := p.Str("variant"); v != "best" {
				return v
			}
			return "optimized"
		},
		Reference: attentionReference,
		Tolerance: attentionTolerance,
	}
}

// attnNeuronVariants are the variants a NeuronCore runs.
var attnNeuronVariants = "best, tiled, optimized"

func kvHeadsOf(p Params) int {
	if kv := p.Int("kv_heads"); kv > 0 {
		return kv
	}
	return p.Int("heads")
}

func attentionCheck(p Params) error {
	h, kv, d := p.Int("heads"), kvHeadsOf(p), p.Int("headdim")
	if d != 64 && d != 128 && d != 256 {
		return fmt.Errorf("headdim=%d: allowed 64, 128, 256", d)
	}
	if kv > h || h%kv != 0 {
		return fmt.Errorf("kv_heads=%d: must divide heads=%d (each KV head serves heads/kv_heads query heads)", kv, h)
	}
	return nil
}

// attnOutDType: fp8 inputs produce bf16 attention output, as FP8
// attention kernels do; 16-bit inputs keep their dtype.
func attnOutDType(in isa.DType) isa.DType {
	if in.IsFP8() {
		return isa.BF16
	}
	return in
}

// maskFill replaces masked scores: exp(scale·maskFill − scale·max) is 0 in
// fp32 for any scale ≥ 1/16 and |max| < 10^29.
const maskFill = -1e30

type attnShape struct {
	batch, heads, kvHeads, group int
	S, d, nd                     int // seqlen, headdim, 128-row chunks of headdim
	causal                       bool
	dt, out                      isa.DType
	scale                        float32
}

func attnShapeOf(p Params) attnShape {
	s := attnShape{
		batch: p.Int("batch"), heads: p.Int("heads"), kvHeads: kvHeadsOf(p),
		S: p.Int("seqlen"), d: p.Int("headdim"), causal: p.Bool("causal"), dt: p.DType("dtype"),
	}
	s.group = s.heads / s.kvHeads
	s.nd = (s.d + lanes - 1) / lanes
	s.out = attnOutDType(s.dt)
	s.scale = float32(1 / math.Sqrt(float64(s.d)))
	return s
}

// dch is the number of head-dim rows in chunk i.
func (s attnShape) dch(i int) int { return min(lanes, s.d-i*lanes) }

// Rows of the 2-D views of the HBM tensors.
func (s attnShape) qRow(bi, h int) int       { return (bi*s.heads + h) * s.d }
func (s attnShape) kRow(bi, kh int) int      { return (bi*s.kvHeads + kh) * s.d }
func (s attnShape) vRow(bi, kh, key int) int { return (bi*s.kvHeads+kh)*s.S + key }
func (s attnShape) oRow(bi, h, q int) int    { return (bi*s.heads+h)*s.S + q }

// kend is one past the last key query tile [q0, q0+qt) attends to.
func (s attnShape) kend(q0, qt int) int {
	if s.causal {
		return min(s.S, q0+qt)
	}
	return s.S
}

type attnTensors struct{ qT, kT, v, o isa.HBMTensor }

func attentionNeuron(b *isa.Builder, p Params) error {
	return attentionProgram(b, p, attnBlocking{residentBytes: attnResidentBytes, kBlock: attnKBlock})
}

func attentionProgram(b *isa.Builder, p Params, blk attnBlocking) error {
	variant := p.Str("variant")
	if variant == "fa2" || variant == "fa3" {
		return unsupported("attention variant %s is a GPU kernel; on NeuronCores allowed: %s", variant, attnNeuronVariants)
	}
	s := attnShapeOf(p)
	t := attnTensors{
		qT: b.Input("QT", s.dt, s.batch, s.heads, s.d, s.S),
		kT: b.Input("KT", s.dt, s.batch, s.kvHeads, s.d, s.S),
		v:  b.Input("V", s.dt, s.batch, s.kvHeads, s.S, s.d),
		o:  b.Output("O", s.out, s.batch, s.heads, s.S, s.d),
	}
	if variant == "tiled" {
		attnTiled(b, s, t)
	} else {
		attnOptimized(b, s, t, blk)
	}
	return nil
}

// attnBlocking are the KV residency limits of attnOptimized; tests shrink
// them to reach the streamed path at small shapes.
type attnBlocking struct {
	residentBytes int // per-partition budget under which K and V stay resident
	kBlock        int // keys per streamed KV load (a multiple of attnKTile)
}

// copyPSUM evacuates a PSUM tile to SBUF on ScalarE where the generation
// has tensor_copy there (v3+), so VectorE keeps its time for the row max
// and the PSUM-reading O update. On NeuronCore-v2 a ScalarE copy is
// activation(copy), whose table is not exp's: alternating the two would
// reload the activation table twice per tile (docs/hardware.md A §3.2
// ACT_TABLE_LOAD ≈ 1.3 µs), so the copy goes to VectorE there.
func copyPSUM(b *isa.Builder, dst, src isa.AP) {
	if b.Arch().ScalarCopy {
		b.TensorCopy(isa.Scalar, dst, src)
	} else {
		b.TensorCopy(isa.Vector, dst, src)
	}
}

func causalMask(q0, k0 int) isa.Affine {
	return isa.Affine{Base: q0 - k0, PMul: 1, FMul: [isa.MaxFreeDims]int{-1}, Cmp: isa.CmpGE}
}

// attnTiled is the straightforward port a kernel author writes first:
// 128-query × 128-key tiles, every K, V and Q tile loaded when it is
// needed, one iteration after the other, and the softmax kept normalised at
// every step (O ← O·(l_old·α/l_new) + PV/l_new, divisions as one
// reciprocal per row and multiplies). Each iteration is one
// dependency chain through TensorE → VectorE → ScalarE → TensorE →
// VectorE, so the engines mostly wait for each other, and every
// instruction works on 128 elements per lane, close to the fixed
// per-instruction cost (docs/hardware.md A §3.2 MIN_II, static overhead). K and
// V tiles are 256 B per partition, far below the 2 KiB at which DMA
// becomes efficient (A §3.3).
func attnTiled(b *isa.Builder, s attnShape, t attnTensors) {
	const tq, tk = 128, 128
	sz := s.dt.Size()
	qpool := b.SBUFPool("q", 2, s.nd*tq*sz)
	kpool := b.SBUFPool("k", 2, s.nd*tk*sz)
	vpool := b.SBUFPool("v", 2, s.d*sz)
	ppool := b.SBUFPool("p", 2, tk*sz)
	ptpool := b.SBUFPool("pT", 2, tq*sz)
	mpool := b.SBUFPool("masked", 2, tk*4)
	opool := b.SBUFPool("o", 2, s.d*4)
	tmpool := b.SBUFPool("pv_scaled", 2, s.d*4)
	outpool := b.SBUFPool("out", 2, s.d*s.out.Size())
	stat := b.SBUFPool("stat", 24, 4)
	spsum := b.PSUMPool("s", 2, tk*4)
	tpsum := b.PSUMPool("pT", 2, tq*4)
	vpsum := b.PSUMPool("pv", 2, s.d*4)
	if b.Err() != nil {
		return
	}
	col := func(rows int) isa.AP { return stat.Tile(isa.FP32, rows, 1) }
	for bi := range s.batch {
		for h := range s.heads {
			kh := h / s.group
			for q0 := 0; q0 < s.S; q0 += tq {
				qt := min(tq, s.S-q0)
				qs := qpool.Tile(s.dt, s.dch(0), s.nd*tq)
				for i := range s.nd {
					b.Load(qs.Rows(0, s.dch(i)).Cols(i*tq, qt), t.qT.Tile(s.qRow(bi, h)+i*lanes, q0, s.dch(i), qt))
				}
				o := opool.Tile(isa.FP32, qt, s.d)
				var m, l isa.AP
				kend := s.kend(q0, qt)
				for k0 := 0; k0 < kend; k0 += tk {
					kt := min(tk, kend-k0)
					ks := kpool.Tile(s.dt, s.dch(0), s.nd*tk)
					for i := range s.nd {
						b.Load(ks.Rows(0, s.dch(i)).Cols(i*tk, kt), t.kT.Tile(s.kRow(bi, kh)+i*lanes, k0, s.dch(i), kt))
					}
					vs := vpool.Tile(s.dt, kt, s.d)
					b.Load(vs, t.v.Tile(s.vRow(bi, kh, k0), 0, kt, s.d))

					sp := spsum.Tile(isa.FP32, qt, kt)
					for i := range s.nd {
						b.Matmul(sp, qs.Rows(0, s.dch(i)).Cols(i*tq, qt), ks.Rows(0, s.dch(i)).Cols(i*tk, kt), i > 0)
					}
					src := sp
					if s.causal && k0+kt-1 > q0 {
						ms := mpool.Tile(isa.FP32, qt, kt)
						b.TensorCopy(isa.Vector, ms, sp)
						b.AffineSelect(ms, ms, causalMask(q0, k0), maskFill)
						src = ms
					}
					rmax := col(qt)
					b.TensorReduce(rmax, src, isa.ALUMax, 1, false)
					mnew := rmax
					if k0 > 0 {
						mnew = col(qt)
						b.TensorTensor(mnew, m, rmax, isa.ALUMax)
					}
					nb := col(qt)
					b.TensorScalar(isa.Vector, nb, mnew, isa.ALUMul, isa.Imm(-s.scale), isa.ALUBypass, isa.Imm(0))
					pt := ppool.Tile(s.dt, qt, kt)
					b.ActivationWith(pt, src, isa.ActExp, isa.ActArgs{Scale: s.scale, BiasAP: nb})
					rs := col(qt)
					b.TensorReduce(rs, pt, isa.ALUAdd, 1, false)

					tp := tpsum.Tile(isa.FP32, kt, qt)
					b.Transpose(tp, pt)
					pts := ptpool.Tile(s.dt, kt, qt)
					b.TensorCopy(isa.Vector, pts, tp)
					pv := vpsum.Tile(isa.FP32, qt, s.d)
					b.Matmul(pv, pts, vs, false)

					if k0 == 0 {
						l = rs
						rl := col(qt)
						b.TensorScalar(isa.Vector, rl, l, isa.ALUPow, isa.Imm(-1), isa.ALUBypass, isa.Imm(0))
						b.TensorScalar(isa.Vector, o, pv, isa.ALUMul, isa.PerPartition(rl), isa.ALUBypass, isa.Imm(0))
					} else {
						alpha := col(qt)
						b.ActivationWith(alpha, m, isa.ActExp, isa.ActArgs{Scale: s.scale, BiasAP: nb})
						lnew := col(qt)
						b.TensorScalar(isa.Vector, lnew, l, isa.ALUMul, isa.PerPartition(alpha), isa.ALUAdd, isa.PerPartition(rs))
						rl := col(qt)
						b.TensorScalar(isa.Vector, rl, lnew, isa.ALUPow, isa.Imm(-1), isa.ALUBypass, isa.Imm(0))
						c := col(qt)
						b.TensorScalar(isa.Vector, c, l, isa.ALUMul, isa.PerPartition(alpha), isa.ALUMul, isa.PerPartition(rl))
						b.TensorScalar(isa.Vector, o, o, isa.ALUMul, isa.PerPartition(c), isa.ALUBypass, isa.Imm(0))
						sc := tmpool.Tile(isa.FP32, qt, s.d)
						b.TensorScalar(isa.Vector, sc, pv, isa.ALUMul, isa.PerPartition(rl), isa.ALUBypass, isa.Imm(0))
						b.TensorTensor(o, o, sc, isa.ALUAdd)
						l = lnew
					}
					m = mnew
				}
				ot := outpool.Tile(s.out, qt, s.d)
				b.TensorCopy(isa.Vector, ot, o)
				b.Store(t.o.Tile(s.oRow(bi, h, q0), 0, qt, s.d), ot)
			}
		}
	}
}

// Tile sizes of the optimized variant.
const (
	attnQBlock = 2048 // queries per Q load: 16 query tiles, 4 KiB per partition in bf16
	attnKTile  = 512  // keys per S tile: one PSUM bank of fp32, TensorE's largest moving size on v2/v3
	attnKBlock = 2048 // keys per streamed KV load when K and V do not stay resident
)

// attnResidentBytes is the SBUF budget per partition (per buffer) under
// which a KV head's whole K and V stay resident: two buffers of it leave
// half of the smallest SBUF (192 KiB, NeuronCore-v2) for everything else.
const attnResidentBytes = 48 << 10

// attnOptimized keeps every engine busy. What changes from attnTiled, and
// why each step pays:
//
//   - Fewer, larger instructions: S tiles of 512 keys (one PSUM bank) so
//     the max, the exponential and the Pᵀ copy each process 512 elements
//     per lane per instruction instead of 128, amortising the fixed cost
//     of every instruction (docs/hardware.md A §3.2: MIN_II ≈ 64 cycles plus
//     ~100 static); the four Pᵀ transposes of a tile land in one PSUM bank
//     and leave it with a single copy.
//   - Loop fusion: the row sum comes from the exponential's own add-reduce
//     (no separate tensor_reduce), the running-max update is one
//     tensor_scalar (scale·(−rowmax) min previous), and the rescale factor
//     α = exp(nb_new − nb_old) is one activation.
//   - Deferred softmax division: O accumulates unnormalised (O ← O·α + PV)
//     and is divided by the row sum once per query tile, instead of two
//     extra full-width passes per KV tile.
//   - Engine balance: O·α and the row-sum update run on GpSimdE (SBUF-only
//     work, otherwise idle); the max and the PSUM-reading O += PV on
//     VectorE; the Pᵀ copy split three chunks to ScalarE, one to VectorE
//     (v3+; all on VectorE on v2, where a ScalarE copy would switch the
//     activation table away from exp). On v2 VectorE and ScalarE also
//     share one PSUM port (A §1.3): the row max, the Pᵀ copy and the O
//     update (VectorE) and the exponential (ScalarE) read PSUM one at a
//     time, ≈ 1.44 µs per 512-key tile at headdim 128, more than VectorE's
//     own ≈ 1.09 µs, so there the port bounds the kernel. The other
//     splits cost more: copying S to SBUF once on VectorE frees the
//     exponential from the port but adds ≈ 0.46 µs to VectorE (1.54 µs);
//     moving the Pᵀ copy to ScalarE reloads its table twice per tile;
//     GpSimdE, which has time to spare, cannot read PSUM.
//   - Software pipelining across KV tiles (swPipe, attnSchedule): the body
//     is cut into eight stages, each on one engine, run at staggered lags
//     so no engine waits for another within an iteration.
//   - Big DMAs, loaded once: K and V of a KV head stay resident in SBUF for
//     all its query heads and query tiles when they fit (else they stream
//     in 2048-key blocks shared by 16 query tiles), Q loads 2048 queries at
//     a time and O is stored per 2048 queries: 4 KiB-per-partition
//     transfers, where DMA saturates (A §3.3).
func attnOptimized(b *isa.Builder, s attnShape, t attnTensors, blk attnBlocking) {
	const tq = 128
	sz := s.dt.Size()
	chunks := func(n int) int { return (n + lanes - 1) / lanes }
	kvBytes := func(keys int) int { return s.nd*keys*sz + chunks(keys)*s.d*sz }
	resident := kvBytes(s.S) <= blk.residentBytes
	capKeys := blk.kBlock
	if resident {
		capKeys = s.S
	}
	qCap := min(attnQBlock, s.S)
	qTiles := chunks(qCap)

	kpool := b.SBUFPool("kT", 2, s.nd*capKeys*sz)
	vpool := b.SBUFPool("v", 2, chunks(capKeys)*s.d*sz)
	qpool := b.SBUFPool("qT", 2, s.nd*qCap*sz)
	stpool := b.SBUFPool("out_stage", 2, qTiles*s.d*s.out.Size())
	ppool := b.SBUFPool("p", 3, attnKTile*sz)
	ptpool := b.SBUFPool("pT", 3, (attnKTile/lanes)*tq*sz)
	mpool := b.SBUFPool("masked", 3, attnKTile*4)
	opool := b.SBUFPool("o", 2*qTiles, s.d*4)
	statepool := b.SBUFPool("state", 2*qTiles, 4*4)
	itpool := b.SBUFPool("tilestat", 8, 3*4)
	// PSUM, 8 banks: S tiles live three stages (3 banks), Pᵀ two (3
	// banks, one of slack), PV two: a [128, d] fp32 PV is at most half a
	// bank, so two banks cut into bank-aligned pieces give 4 to 16
	// rotating PV buffers.
	spsum := b.PSUMPool("s", 3, attnKTile*4)
	tpsum := b.PSUMPool("pT", 3, (attnKTile/lanes)*tq*4)
	vpsum := b.PSUMPieces("pv", 2, s.d*4)
	if b.Err() != nil {
		return
	}

	pipe := newPipe(attnSchedule())
	kring, qring, oring := newSlotRing(2), newSlotRing(2), newSlotRing(2)
	ctx := &attnCtx{b: b, s: s, capKeys: capKeys,
		spsum: spsum, tpsum: tpsum, vpsum: vpsum, ppool: ppool, ptpool: ptpool, mpool: mpool, itpool: itpool}
	items := make([]attnItem, pipe.depth()) // a ring: see swPipe.depth

	loadKV := func(bi, kh, kb, n int) attnKV {
		slot := kring.take(pipe)
		kt := kpool.Tile(s.dt, s.dch(0), s.nd*capKeys)
		for i := range s.nd {
			b.Load(kt.Rows(0, s.dch(i)).Cols(i*capKeys, n), t.kT.Tile(s.kRow(bi, kh)+i*lanes, kb, s.dch(i), n))
		}
		vt := vpool.Tile(s.dt, min(lanes, n), chunks(capKeys)*s.d)
		// Keys on partitions: key kb + c·128 + p is partition p of chunk c.
		if nc := n / lanes; nc > 0 {
			b.Load(vt.Cols(0, nc*s.d), hbmAP(t.v, s.vRow(bi, kh, kb)*s.d, lanes, s.d,
				isa.Dim{Stride: isa.Narrow(lanes * s.d), Count: isa.Narrow(nc)}, isa.Dim{Stride: 1, Count: isa.Narrow(s.d)}))
		}
		if r := n % lanes; r > 0 {
			nc := n / lanes
			b.Load(vt.Rows(0, r).Cols(nc*s.d, s.d), t.v.Tile(s.vRow(bi, kh, kb+nc*lanes), 0, r, s.d))
		}
		return attnKV{k: kt, v: vt, kb: kb, slot: slot}
	}

	// One Loop iteration per (batch, query head, query block), in (batch,
	// KV head, head of the group, block) order: iteration j is block j%nqb
	// of head j/nqb. Without causal masking every full block of a head does
	// the same work but for HBM offsets; with it a head's blocks differ (each
	// attends to more keys) and heads repeat every nqb iterations. The
	// first block of a group's first head also loads the group's resident K
	// and V. The software pipeline runs across iterations: pushing a
	// block's first items emits the last stages of the blocks before it
	// (their stores among them), so the key covers the blocks whose items
	// may still be pending (see key). Those stores read their block from
	// ring (see loopRing), indexed by a count of the iterations emitted:
	// an item is pending at most depth iterations.
	var res attnKV
	nheads := s.batch * s.kvHeads * s.group
	nqb := (s.S + qCap - 1) / qCap
	niter := nheads * nqb
	ring := newLoopRing(pipe.depth() + 1)
	emitted := 0
	// block is iteration j's place: batch, KV head, head of the group,
	// query head, first query and queries of its block.
	type block struct{ bi, kh, hh, h, qb0, nq int }
	blockOf := func(j int) block {
		jh, qb0 := j/nqb, j%nqb*qCap
		k := block{bi: jh / s.heads, kh: jh / s.group % s.kvHeads, hh: jh % s.group, qb0: qb0, nq: min(qCap, s.S-qb0)}
		k.h = k.kh*s.group + k.hh
		return k
	}
	// loads reports whether iteration j loads the resident K and V.
	loads := func(k block) bool { return resident && k.hh == 0 && k.qb0 == 0 }
	// pushes is the number of pipeline items block k pushes (as the
	// body's loops below count them).
	pushes := func(k block) int {
		n, kmax := 0, s.kend(k.qb0, k.nq)
		for kb := 0; kb < kmax; kb += capKeys {
			for q0 := k.qb0; q0 < k.qb0+k.nq; q0 += tq {
				hi := min(kb+capKeys, s.kend(q0, min(tq, k.qb0+k.nq-q0)))
				if hi > kb {
					n += (hi - kb + attnKTile - 1) / attnKTile
				}
			}
		}
		return n
	}
	// key: what iteration j emits is decided by its block's shape (queries,
	// keys attended to: with causal masking the block's place in the head,
	// which the masks of its diagonal tiles depend on) and whether it loads
	// K and V; what its pushes emit of earlier items by those blocks'
	// shapes, back to depth items (the pending stages' own counts and
	// distances are in the state key).
	key := func(j int) uint64 {
		v := make([]int, 0, 8)
		for x, n := j, 0; ; x-- {
			if x < 0 {
				v = append(v, -1)
				break
			}
			k := blockOf(x)
			kmax, qb0 := s.kend(k.qb0, k.nq), 0
			if s.causal {
				qb0 = k.qb0
			}
			v = append(v, k.nq, kmax, qb0, boolInt(loads(k)))
			if x < j {
				if n += pushes(k); n >= pipe.depth() {
					break
				}
			}
		}
		return isa.LoopKey(v...)
	}
	// What the next iteration emits besides its own work: the pending
	// items' stages, and the flushes a K/V, Q or output slot still in use
	// forces.
	state := func() uint64 {
		return isa.LoopKey(int(pipe.loopState()), int(kring.loopState(pipe)), int(qring.loopState(pipe)), int(oring.loopState(pipe)))
	}
	b.LoopWithState(niter, key, state, func(j int) {
		ring.resume(j)
		pj := ring.put(emitted, j)
		emitted++
		k := blockOf(j)
		bi, kh, h, qb0, nq := k.bi, k.kh, k.h, k.qb0, k.nq
		if loads(k) {
			res = loadKV(bi, kh, 0, s.S)
		}
		qslot := qring.take(pipe)
		qs := qpool.Tile(s.dt, s.dch(0), s.nd*qCap)
		for i := range s.nd {
			b.Load(qs.Rows(0, s.dch(i)).Cols(i*qCap, nq), t.qT.Tile(s.qRow(bi, h)+i*lanes, qb0, s.dch(i), nq))
		}
		oslot := oring.take(pipe)
		stg := stpool.Tile(s.out, min(lanes, nq), qTiles*s.d)
		var qsts []*attnQ
		for q0 := qb0; q0 < qb0+nq; q0 += tq {
			qt := min(tq, qb0+nq-q0)
			off := q0 - qb0
			q := &attnQ{
				q0: q0, qt: qt,
				st:    statepool.Tile(isa.FP32, qt, 4),
				o:     opool.Tile(isa.FP32, qt, s.d),
				stage: stg.Rows(0, qt).Cols(off/tq*s.d, s.d),
			}
			for i := range s.nd {
				q.qv[i] = qs.Rows(0, s.dch(i)).Cols(i*qCap+off, qt)
			}
			qsts = append(qsts, q)
		}
		// store writes the block out: its place comes from the ring entry
		// (moved on by skips), its shape is this block's (the key's).
		store := func() {
			k := blockOf(*pj)
			nf := nq / tq
			if nf > 0 {
				b.Store(hbmAP(t.o, s.oRow(k.bi, k.h, k.qb0)*s.d, lanes, s.d,
					isa.Dim{Stride: isa.Narrow(lanes * s.d), Count: isa.Narrow(nf)}, isa.Dim{Stride: 1, Count: isa.Narrow(s.d)}), stg.Cols(0, nf*s.d))
			}
			if r := nq % tq; r > 0 {
				b.Store(t.o.Tile(s.oRow(k.bi, k.h, k.qb0+nf*tq), 0, r, s.d), stg.Rows(0, r).Cols(nf*s.d, s.d))
			}
		}
		kmax := s.kend(qb0, nq)
		var lastItem *attnItem
		for kb := 0; kb < kmax; kb += capKeys {
			kv := res
			if !resident {
				kv = loadKV(bi, kh, kb, min(capKeys, s.S-kb))
			}
			for _, q := range qsts {
				kend := s.kend(q.q0, q.qt)
				for k0 := kb; k0 < min(kb+capKeys, kend); k0 += attnKTile {
					kt := min(attnKTile, kend-k0, kb+capKeys-k0)
					idx := pipe.nextIdx()
					it := &items[idx%len(items)]
					*it = attnItem{} // cleared in place, then set: a literal would be built aside and copied
					it.attnCtx, it.q, it.kv = ctx, q, kv
					it.k0, it.kt, it.first, it.last = k0, kt, k0 == 0, k0+kt == kend
					kring.use(kv.slot, idx)
					qring.use(qslot, idx)
					oring.use(oslot, idx)
					lastItem = it
					pipe.pushIter(it)
				}
			}
		}
		lastItem.done = store
	})
	ring.resume(niter)
	pipe.flush()
}

// attnQ is the state of one query tile of attnOptimized.
type attnQ struct {
	q0, qt int
	qv     [2]isa.AP // Qᵀ chunk i: [dch(i), qt] (headdim ≤ 256: at most two chunks)
	st     isa.AP    // [qt, 4] fp32: −scale·max ring (cols 0..2), row sum l (col 3)
	o      isa.AP    // [qt, d] fp32 unnormalised output
	stage  isa.AP    // where the normalised output goes
	n      int       // KV tiles begun
}

// attnItem is one (query tile, KV tile) iteration of attnOptimized, cut
// into the stages of attnSchedule: 0 TensorE (S = QᵀK), 1 VectorE (+GpSimdE
// mask on diagonal tiles) row max, 2 VectorE running max, 3 ScalarE (α, P =
// exp with row sum), 4 TensorE (Pᵀ), 5 ScalarE and VectorE (Pᵀ to SBUF),
// 6 TensorE (PV), 7 GpSimdE and VectorE (O ← O·α + PV, l ← l·α + rowsum;
// on the last KV tile O/l to the output staging tile).
type attnItem struct {
	*attnCtx
	q         *attnQ
	k0, kt    int
	first     bool
	last      bool
	kv        attnKV // the K/V block holding keys k0..k0+kt
	done      func() // after the last stage (the Q block's store)
	sp, src   isa.AP
	ts        tileStats // columns of the [qt, 3] statistics tile: −rowmax, α, rowsum
	nbOld     isa.AP
	nbNew     isa.AP
	p, tp, pt isa.AP
	pv        isa.AP
}

// attnCtx is what every attnItem of one attnOptimized call shares: the
// builder, the shape and the pools the stages allocate from.
type attnCtx struct {
	b       *isa.Builder
	s       attnShape
	capKeys int // keys per K/V block
	spsum   *isa.Pool
	tpsum   *isa.Pool
	vpsum   *isa.Pool
	ppool   *isa.Pool
	ptpool  *isa.Pool
	mpool   *isa.Pool
	itpool  *isa.Pool
	ops     [2][attnKTile / lanes]isa.AP // scratch: the operands of a stage's run of instructions
}

// attnKV is a block of keys and values in SBUF: K transposed (head dim on
// partitions, capKeys columns per head-dim chunk) and V with keys on
// partitions.
type attnKV struct {
	k, v isa.AP
	kb   int // first key
	slot int
}

// kcols is head-dim chunk i of the item's keys in K.
func (it *attnItem) kcols(i int) isa.AP {
	return it.kv.k.Rows(0, it.s.dch(i)).Cols(i*it.capKeys+it.k0-it.kv.kb, it.kt)
}

// vchunk sets *dst to the item's 128-key chunk c of V, rows keys of it.
func (it *attnItem) vchunk(dst *isa.AP, c, rows int) {
	window(dst, &it.kv.v, 0, rows, ((it.k0-it.kv.kb)/lanes+c)*it.s.d, it.s.d)
}

func (it *attnItem) run(stage int) {
	b, s, q := it.b, &it.s, it.q
	qt, kt := q.qt, it.kt
	nc := (kt + lanes - 1) / lanes // 128-key chunks of this tile
	kc := func(c int) int { return min(lanes, kt-c*lanes) }
	switch stage {
	case 0: // TensorE: S[qt, kt] = Qᵀ·Kᵀ, accumulating over head-dim chunks
		it.sp = it.spsum.Tile(isa.FP32, qt, kt)
		for i := range s.nd {
			b.Matmul(it.sp, q.qv[i], it.kcols(i), i > 0)
		}
	case 1: // VectorE: −rowmax
		it.src = it.sp
		if s.causal && it.k0+kt-1 > q.q0 {
			m := it.mpool.Tile(isa.FP32, qt, kt)
			b.TensorCopy(isa.Vector, m, it.sp)
			b.AffineSelect(m, m, causalMask(q.q0, it.k0), maskFill)
			it.src = m
		}
		its := it.itpool.Tile(isa.FP32, qt, 3)
		it.ts.cut(&its)
		b.TensorReduce(it.ts.nr, it.src, isa.ALUMax, 1, true)
	case 2: // VectorE: running −scale·max
		it.nbOld, it.nbNew = onlineMax(b, q.st, &q.n, it.ts.nr, s.scale, it.first)
	case 3: // ScalarE: α = exp(nb_new − nb_old); P = exp(scale·S + nb_new), row sum
		onlineAlpha(b, &it.ts, it.nbOld, it.nbNew, it.first)
		it.p = it.ppool.Tile(s.dt, qt, kt)
		onlineExp(b, it.p, it.src, &it.ts, it.nbNew, s.scale)
	case 4: // TensorE: Pᵀ, one 128-key chunk per transpose, all into one bank
		it.tp = it.tpsum.Tile(isa.FP32, min(lanes, kt), nc*qt)
		onlineTranspose(b, it.tp, it.p, kt, qt)
	case 5: // ScalarE (+VectorE): Pᵀ to SBUF in the input dtype (the PV stationary)
		it.pt = it.ptpool.Tile(s.dt, min(lanes, kt), nc*qt)
		full := kt / lanes
		// On v3+ the first 128-key chunk goes to VectorE and the rest to
		// ScalarE: per 512-key tile ScalarE has the exponential (≈576
		// cycles at 1.2 GHz) and VectorE the max and the O update (≈704
		// cycles at 0.96 GHz), so three chunks of copy (3×128 cycles) on
		// ScalarE and one on VectorE leave both near 850 ns, under
		// either engine taking all four.
		vec := 1
		if !b.Arch().ScalarCopy {
			vec = full
		}
		vec = min(vec, full)
		if vec > 0 {
			b.TensorCopy(isa.Vector, it.pt.Cols(0, vec*qt), it.tp.Cols(0, vec*qt))
		}
		if full > vec {
			copyPSUM(b, it.pt.Cols(vec*qt, (full-vec)*qt), it.tp.Cols(vec*qt, (full-vec)*qt))
		}
		if r := kt % lanes; r > 0 {
			copyPSUM(b, it.pt.Rows(0, r).Cols(full*qt, qt), it.tp.Rows(0, r).Cols(full*qt, qt))
		}
	case 6: // TensorE: PV[qt, d] = Σ_chunks Pᵀ_cᵀ·V_c
		it.pv = it.vpsum.Tile(isa.FP32, qt, s.d)
		pt, v := it.ops[0][:nc], it.ops[1][:nc] // cut ahead of the matmuls: see window
		for c := range nc {
			window(&pt[c], &it.pt, 0, kc(c), c*qt, qt)
			it.vchunk(&v[c], c, kc(c))
		}
		for c := range nc {
			b.Matmul(it.pv, pt[c], v[c], c > 0)
		}
	case 7: // GpSimdE + VectorE: O ← O·α + PV, l ← l·α + rowsum
		l := q.st.Col(3)
		onlineUpdate(b, q.o, l, it.pv, &it.ts, it.first)
		if it.last {
			// Deferred division: once per query tile.
			b.TensorScalar(isa.GpSimd, q.stage, q.o, isa.ALUDiv, isa.PerPartition(l), isa.ALUBypass, isa.Imm(0))
		}
		if it.done != nil {
			it.done()
		}
	}
}

// attentionReference computes softmax(scale·Q·Kᵀ [+ causal mask])·V in
// float64 from the head-dim-major inputs.
func attentionReference(p Params, in map[string][]float32) map[string][]float64 {
	s := attnShapeOf(p)
	S, d := s.S, s.d
	qT, kT, v := in["QT"], in["KT"], in["V"]
	out := make([]float64, s.batch*s.heads*S*d)
	scale := 1 / math.Sqrt(float64(d))
	sc := make([]float64, S)
	q := make([]float64, d)
	for bi := range s.batch {
		for h := range s.heads {
			kh := h / s.group
			qb := s.qRow(bi, h) * S
			kb := s.kRow(bi, kh) * S
			vb := s.vRow(bi, kh, 0) * d
			for i := range S {
				for e := range d {
					q[e] = float64(qT[qb+e*S+i])
				}
				n := S
				if s.causal {
					n = i + 1
				}
				m := math.Inf(-1)
				for j := range n {
					dot := 0.0
					for e := range d {
						dot += q[e] * float64(kT[kb+e*S+j])
					}
					sc[j] = dot * scale
					m = math.Max(m, sc[j])
				}
				sum := 0.0
				for j := range n {
					sc[j] = math.Exp(sc[j] - m)
					sum += sc[j]
				}
				o := out[s.oRow(bi, h, i)*d : s.oRow(bi, h, i)*d+d]
				for j := range n {
					w := sc[j] / sum
					vr := v[vb+j*d : vb+j*d+d]
					for e := range d {
						o[e] += w * float64(vr[e])
					}
				}
			}
		}
	}
	return map[string][]float64{"O": out}
}

// attentionTolerance: O = Σ_k p̃_k·v_k / l with p̃_k the probabilities
// rounded into the input dtype for the PV matmul (relative error ≤ u_P
// each) and l the fp32 row sum. Then |Σ(p̃_k − p_k)v_k|/l ≤ u_P·max|v| and
// the mismatch between l and Σp̃ adds at most u_P·|O| ≤ u_P·max|v| again:
// 2·u_P absolute for the [-1,1) check inputs. Scores come from fp32 PSUM
// sums of d products (d·2^-24 relative, scaled by ≤ 1 into the exponent),
// the running rescale and the final division are fp32: a few 2^-24. The
// result is rounded once into the output dtype (u_out relative).
func attentionTolerance(p Params) Tolerance {
	dt := p.DType("dtype")
	uP, uOut := unitRoundoff(dt), unitRoundoff(attnOutDType(dt))
	d := float64(p.Int("headdim"))
	return Tolerance{Abs: 2*uP + (d+64)*fp32u, Rel: uOut,
		Why: "probabilities rounded to the input dtype for PV (2·u_P·max|V|); fp32 scores, rescale, division ((d+64)·2^-24); output rounding (u_out)"}
}
