package kernels

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/isa"
)

// Decode attention: one new query token per sequence against a KV cache of
// seqlen keys. Per KV head, its heads/kv_heads query heads (the GQA group)
// form the rows of S = QKᵀ, so K and V are read from HBM once per group:
// FLOPs per byte stay at about group size, far below what TensorE needs,
// and the kernel is bound by how fast it streams the cache. Everything
// below serves that: 4 KiB-per-partition transfers (docs/hardware.md A §3.3:
// ≥ 2 KiB recommended, ≥ 4 KiB saturates), three rotating KV buffers so
// DMA runs ahead of compute, and a software-pipelined compute loop (swPipe)
// that stays below the DMA time per tile.
//
// Layout: Q [batch, heads, d]; the K cache head-dim major, KT [batch,
// kv_heads, d, seqlen] (a [d, keys] tile is one contiguous run per
// partition and the stationary-Qᵀ matmul contracts over d); the V cache
// [batch, kv_heads, seqlen, d]; O [batch, heads, d].
//
// Split-KV (variant splitkv): each sequence's keys are cut into `splits`
// ranges, each producing a partial result (unnormalised O, its max and its
// exponential sum) in a Scratch HBM tensor; a final combine rescales and
// sums the partials. On a NeuronCore the splits are independent dependency
// chains (no running-max rescale crosses a split), which is also the form
// that spreads one sequence over several cores.

func decodeAttentionKernel() *Kernel {
	return &Kernel{
		Name: "decode_attention",
		Doc:  "attention of one query token per sequence against a KV cache (GQA); split over the KV length with a final combine",
		Params: []Param{
			{Name: "batch", Kind: IntParam, Default: "64", Max: 4096, Doc: "sequences"},
			{Name: "heads", Kind: IntParam, Default: "32", Doc: "query heads"},
			{Name: "kv_heads", Kind: CountParam, Default: "8", Doc: "key/value heads; 0 = heads"},
			{Name: "seqlen", Kind: IntParam, Default: "32768", Max: 131072, Doc: "KV-cache length"},
			{Name: "headdim", Kind: IntParam, Default: "128", Doc: "head dimension: 64, 128 or 256"},
			{Name: "dtype", Kind: DTypeParam, Default: "bf16", Allowed: []string{"bf16", "fp16", "fp8e4m3", "fp32"}, Doc: "Q and KV-cache dtype (fp8 produces a bf16 output)"},
			{Name: "variant", Kind: EnumParam, Default: "best", Allowed: []string{"best", "splitkv", "nosplit"}, Doc: "splitkv (partials + combine), nosplit, or best (NeuronCore: nosplit unless splits is set)",
				Tune: []string{"splitkv", "nosplit"}},
			{Name: "splits", Kind: CountParam, Default: "0", Doc: "KV splits per sequence (0 = automatic for splitkv; a positive value makes best split too)",
				Tune: []string{"0", "2", "4", "8", "16", "32", "64"}, TuneVariants: []string{"splitkv"}},
		},
		Check: decodeCheck,
		FLOPs: func(p Params) float64 {
			return 4 * float64(p.Int("batch")) * float64(p.Int("heads")) * float64(p.Int("seqlen")) * float64(p.Int("headdim"))
		},
		// ≈ 2.1 instructions per 512-key block per 128 of head dimension
		// per (sequence, head) (`trnsim asm`), rounded up.
		Instrs: func(p Params) float64 {
			return 2.5 * float64(p.Int("batch")) * float64(p.Int("heads")) * tiles(p.Int("seqlen"), 512) * tiles(p.Int("headdim"), 128)
		},
		Neuron: decodeNeuron,
		GPU:    decodeGPU,
		FromMeasured: func(m Measurement) []Arg {
			return setInts([]string{"batch", "heads", "kv_heads", "seqlen", "headdim"}, m.Batch, m.Heads, m.KVHeads, m.Seqlen, m.Headdim)
		},
		NeuronVariant: func(p Params) string {
			if _, combine := decodeSplits(p); combine {
				return "splitkv"
			}
			return "nosplit"
		},
		Reference: decodeReference,
		Tolerance: func(p Params) Tolerance {
			t := attentionTolerance(p)
			// The combine adds fp32 rescaling of the partials: a few 2^-24.
			t.Abs += 16 * fp32u
			t.Why += "; fp32 combine of split partials (16·2^-24)"
			return t
		},
	}
}

// decodeMaxSplits bounds the splits the NeuronCore combine handles: the
// partials of 128 rows, splits·(headdim+2) fp32 each, sit in SBUF at once.
const decodeMaxSplits = 64

func decodeCheck(p Params) error {
	h, kv, d, S := p.Int("heads"), kvHeadsOf(p), p.Int("headdim"), p.Int("seqlen")
	if d != 64 && d != 128 && d != 256 {
		return fmt.Errorf("headdim=%d: allowed 64, 128, 256", d)
	}
	if kv > h || h%kv != 0 {
		return fmt.Errorf("kv_heads=%d: must divide heads=%d (each KV head serves heads/kv_heads query heads)", kv, h)
	}
	if g := h / kv; g > lanes {
		return fmt.Errorf("heads/kv_heads=%d query heads per KV head: at most %d (they share one matmul's %d rows)", g, lanes, lanes)
	}
	if sp := p.Int("splits"); sp > S {
		return fmt.Errorf("splits=%d: at most seqlen=%d (every split needs a key)", sp, S)
	}
	return nil
}

// decodeAutoSplitKeys is the KV length per split the automatic choice
// aims for: long enough (four 2048-key blocks) that the partial's store
// and its share of the combine are under 1% of the split's KV traffic.
const decodeAutoSplitKeys = 8192

// decodeSplits resolves the variant and split count: nosplit is 1 split
// without a combine. On one NeuronCore, best is nosplit unless splits are
// asked for: the engines already overlap every group and KV tile through
// the pipeline, so splitting only adds the partials' round trip through
// HBM and the combine (in the model, batch 1 × 128k keys: 1.52 ms nosplit,
// 1.58 ms in 16 splits on trn2; at batch 64 × 32k both are HBM-bound).
// Splits pay off when a sequence is spread over several cores.
func decodeSplits(p Params) (splits int, combine bool) {
	S := p.Int("seqlen")
	v := p.Str("variant")
	if v == "nosplit" || (v == "best" && p.Int("splits") == 0) {
		return 1, false
	}
	sp := p.Int("splits")
	if sp == 0 {
		sp = min(decodeMaxSplits, max(1, (S+decodeAutoSplitKeys-1)/decodeAutoSplitKeys))
	}
	return sp, true
}

type decodeShape struct {
	batch, heads, kvHeads, g int
	S, d, nd                 int
	dt, out                  isa.DType
	scale                    float32
	splits                   int
	combine                  bool
}

func (s decodeShape) dch(i int) int { return min(lanes, s.d-i*lanes) }

// Rows of the 2-D views of the HBM tensors.
func (s decodeShape) kRow(bi, kh int) int      { return (bi*s.kvHeads + kh) * s.d }
func (s decodeShape) vRow(bi, kh, key int) int { return (bi*s.kvHeads+kh)*s.S + key }

// splitRange is the key range of split sp.
func (s decodeShape) splitRange(sp int) (k0, k1 int) {
	per := (s.S + s.splits - 1) / s.splits
	return min(s.S, sp*per), min(s.S, (sp+1)*per)
}

// decodeKTileMax is the largest S tile: 1024 keys, two PSUM banks of fp32
// and two matmuls of TensorE's largest moving size (v2/v3).
const decodeKTileMax = 1024

// Lane packing. A GQA group has only heads/kv_heads rows (4 for Llama 3
// 8B), and a Vector or Scalar instruction costs the same for 4 lanes as
// for 128 (docs/hardware.md A §1.4 "Using < 128 partitions costs the same time
// as 128"): the row max and the exponential would use 3% of the engines.
// So the kernel runs up to four groups in lockstep, their S rows at
// partitions 0, 32, 64 and 96 — the only starts an operand of ≤ 32
// partitions may have (A §1.4 start_partition rule) — and one max, one
// exponential and one O update serve all four. The rows between the
// groups are never written by a matmul; they are zeroed once and carry
// harmless values.
func decodePack(g int) (pack, stride int) {
	switch {
	case g <= 32:
		return 4, 32
	case g <= 64:
		return 2, 64
	}
	return 1, lanes
}

func decodeNeuron(b *isa.Builder, p Params) error {
	s := decodeShape{batch: p.Int("batch"), heads: p.Int("heads"), kvHeads: kvHeadsOf(p),
		S: p.Int("seqlen"), d: p.Int("headdim"), dt: p.DType("dtype")}
	s.g = s.heads / s.kvHeads
	s.nd = (s.d + lanes - 1) / lanes
	s.out = attnOutDType(s.dt)
	s.scale = float32(1 / math.Sqrt(float64(s.d)))
	s.splits, s.combine = decodeSplits(p)
	if s.splits > decodeMaxSplits {
		return fmt.Errorf("decode_attention: splits=%d: the NeuronCore combine holds all partials of 128 rows in SBUF; at most %d", s.splits, decodeMaxSplits)
	}
	// Splits with no keys (more splits than ceil(seqlen/per)) are dropped.
	for s.splits > 1 {
		if k0, _ := s.splitRange(s.splits - 1); k0 < s.S {
			break
		}
		s.splits--
	}

	q := b.Input("Q", s.dt, s.batch, s.heads, s.d)
	kT := b.Input("KT", s.dt, s.batch, s.kvHeads, s.d, s.S)
	v := b.Input("V", s.dt, s.batch, s.kvHeads, s.S, s.d)
	o := b.Output("O", s.out, s.batch, s.heads, s.d)
	var part isa.HBMTensor
	if s.combine {
		part = b.Scratch("partials", isa.FP32, s.batch*s.heads, s.splits, s.d+2)
	}
	sz := s.dt.Size()
	chunks := func(n int) int { return (n + lanes - 1) / lanes }
	pack, stride := decodePack(s.g)
	pack = min(pack, s.batch*s.kvHeads)
	rowsUsed := (pack-1)*stride + s.g
	// The Pᵀ of a packed KV tile is one transpose per 128-key chunk of all
	// rowsUsed rows (the rows between groups ride along: one [R,128]
	// transpose costs max(R, 64) TensorE cycles where one per group costs
	// 64 each, docs/hardware.md A §3.1), and the chunks share one PSUM bank of
	// 512 fp32 per partition: at most 512/rowsUsed chunks per tile.
	tchunks := 1
	for tchunks*2 <= min(decodeKTileMax/lanes, 512/rowsUsed) {
		tchunks *= 2
	}
	ktile := lanes * tchunks
	blkKeys := 4096 / sz // 4 KiB per partition of KT per load
	gpr := lanes / s.g   // groups per 128-row Q chunk
	blkBytes := s.nd*blkKeys*sz + chunks(blkKeys)*s.d*sz
	kvBufs := max(2, min(3, (96<<10)/(pack*blkBytes)))

	qpool := b.SBUFPool("q", 2, s.d*sz)
	qtpool := b.SBUFPool("qT", 2, s.nd*gpr*s.g*sz)
	kpool := b.SBUFPool("kT", kvBufs*pack, s.nd*blkKeys*sz)
	vpool := b.SBUFPool("v", kvBufs*pack, chunks(blkKeys)*s.d*sz)
	ppool := b.SBUFPool("p", 3, ktile*sz)
	ptpool := b.SBUFPool("pT", 3, tchunks*rowsUsed*sz)
	statepool := b.SBUFPool("state", 4, 4*4)
	opool := b.SBUFPool("o", 4, (s.d+2)*4)
	outpool := b.SBUFPool("out", 3, s.d*s.out.Size())
	itpool := b.SBUFPool("tilestat", 8, 3*4)
	spsum := b.PSUMPool("s", 2, ktile*4)
	tpsum := b.PSUMPool("pT", 2, tchunks*rowsUsed*4)
	vpsum := b.PSUMPool("pv", 2, s.d*4)
	if err := b.Err(); err != nil {
		return fmt.Errorf("decode_attention: %w", err)
	}
	if pack > 1 {
		for range 2 {
			b.Memset(isa.Vector, spsum.Tile(isa.FP32, rowsUsed, ktile), 0)
			b.Memset(isa.Vector, vpsum.Tile(isa.FP32, rowsUsed, s.d), 0)
		}
	}
	pools := decodePools{spsum: spsum, tpsum: tpsum, vpsum: vpsum, ppool: ppool, ptpool: ptpool, itpool: itpool, outpool: outpool}

	pipe := newPipe(attnSchedule())
	qring, kring, sring := newSlotRing(2), newSlotRing(kvBufs), newSlotRing(4)
	rows := s.batch * s.heads
	// One iteration per 128-row Q chunk. Each ends with the pipeline
	// drained (the next chunk's Qᵀ transposes need it empty, so draining
	// here instead of at the next chunk's start emits the same program),
	// so an iteration leaves no pending work and its instructions depend
	// on its rows alone.
	chunkRows := func(ci int) int { return min(gpr*s.g, rows-ci*gpr*s.g) }
	body := func(ci int) {
		r0, nr := ci*gpr*s.g, chunkRows(ci)
		// Q rows of gpr groups: one load, one transpose per head-dim
		// chunk, Qᵀ [d, rows] to SBUF; group j's stationary is columns
		// [j·g, (j+1)·g). The transposes borrow the Pᵀ PSUM pool, so the
		// pipeline drains first (once per 128 query rows).
		qslot := qring.take(pipe)
		pipe.flush()
		qs := qpool.Tile(s.dt, nr, s.d)
		b.Load(qs, q.Tile(r0, 0, nr, s.d))
		qT := qtpool.Tile(s.dt, s.dch(0), s.nd*gpr*s.g)
		for i := range s.nd {
			tp := tpsum.Tile(isa.FP32, s.dch(i), nr)
			b.Transpose(tp, qs.Cols(i*lanes, s.dch(i)))
			b.TensorCopy(isa.Vector, qT.Rows(0, s.dch(i)).Cols(i*gpr*s.g, nr), tp)
		}
		ngroups := nr / s.g
		for j0 := 0; j0 < ngroups; j0 += pack {
			var gs []decodeGroup
			for j := j0; j < min(j0+pack, ngroups); j++ {
				row := r0 + j*s.g // first Q row of the group: (bi, kh·g)
				gs = append(gs, decodeGroup{row: row, bi: row / s.heads, kh: (row % s.heads) / s.g,
					qv: func(i int) isa.AP { return qT.Rows(0, s.dch(i)).Cols(i*gpr*s.g+j*s.g, s.g) }})
			}
			R := (len(gs)-1)*stride + s.g
			for sp := range s.splits {
				k0, k1 := s.splitRange(sp)
				sslot := sring.take(pipe)
				st := &decodeSplit{sp: sp, groups: gs, R: R, stride: stride,
					st: statepool.Tile(isa.FP32, R, 4), o: opool.Tile(isa.FP32, R, s.d+2)}
				for kb := k0; kb < k1; kb += blkKeys {
					n := min(blkKeys, k1-kb)
					kslot := kring.take(pipe)
					kts := make([]isa.AP, len(gs))
					vts := make([]isa.AP, len(gs))
					for gi, gr := range gs {
						kts[gi], vts[gi] = decodeLoadKV(b, s, kT, v, kpool, vpool, gr.bi, gr.kh, kb, n, blkKeys)
					}
					for c0 := kb; c0 < kb+n; c0 += ktile {
						nt := min(ktile, kb+n-c0)
						it := &decodeItem{b: b, s: s, sp: st, n: nt, first: c0 == k0, last: c0+nt == k1,
							kcols: func(gi, i, c, w int) isa.AP {
								return kts[gi].Rows(0, s.dch(i)).Cols(i*blkKeys+c0-kb+c, w)
							},
							vchunk: func(gi, c, rws int) isa.AP {
								return vts[gi].Rows(0, rws).Cols(((c0-kb)/lanes+c)*s.d, s.d)
							},
							pools: pools, part: part, o: o,
						}
						idx := pipe.nextIdx()
						qring.use(qslot, idx)
						kring.use(kslot, idx)
						sring.use(sslot, idx)
						pipe.push(it.run)
					}
				}
			}
		}
		pipe.flush()
	}
	nchunks := ceilDiv(rows, gpr*s.g)
	if s.combine {
		// The partials are read back after the loop (decodeCombine):
		// not a Loop, whose iterations' HBM writes no later instruction
		// may read.
		for ci := range nchunks {
			body(ci)
		}
	} else {
		b.Loop(nchunks, func(ci int) uint64 { return isa.LoopKey(chunkRows(ci)) }, body)
	}
	if s.combine {
		decodeCombine(b, s, part, o)
	}
	return nil
}

// decodeLoadKV loads n keys from kb of KV head (bi, kh): Kᵀ [d, n] (one
// contiguous run per partition per head-dim chunk) and V with key
// kb + c·128 + p on partition p of chunk c.
func decodeLoadKV(b *isa.Builder, s decodeShape, kT, v isa.HBMTensor, kpool, vpool *isa.Pool, bi, kh, kb, n, blkKeys int) (kt, vt isa.AP) {
	kt = kpool.Tile(s.dt, s.dch(0), s.nd*blkKeys)
	for i := range s.nd {
		b.Load(kt.Rows(0, s.dch(i)).Cols(i*blkKeys, n), kT.Tile(s.kRow(bi, kh)+i*lanes, kb, s.dch(i), n))
	}
	vt = vpool.Tile(s.dt, min(lanes, n), (blkKeys+lanes-1)/lanes*s.d)
	nc := n / lanes
	if nc > 0 {
		b.Load(vt.Cols(0, nc*s.d), hbmAP(v, s.vRow(bi, kh, kb)*s.d, lanes, s.d,
			isa.Dim{Stride: isa.Narrow(lanes * s.d), Count: isa.Narrow(nc)}, isa.Dim{Stride: 1, Count: isa.Narrow(s.d)}))
	}
	if r := n % lanes; r > 0 {
		b.Load(vt.Rows(0, r).Cols(nc*s.d, s.d), v.Tile(s.vRow(bi, kh, kb+nc*lanes), 0, r, s.d))
	}
	return kt, vt
}

// decodeGroup is one GQA group: the g query heads of KV head kh of
// sequence bi, Q rows [row, row+g).
type decodeGroup struct {
	row, bi, kh int
	qv          func(i int) isa.AP // Qᵀ chunk i: [dch(i), g]
}

// decodeSplit is the running state of one split of a pack of groups;
// group gi's rows are [gi·stride, gi·stride+g) of every tile.
type decodeSplit struct {
	sp        int
	groups    []decodeGroup
	R, stride int
	st        isa.AP // [R, 4] fp32: −scale·max ring (cols 0..2)
	o         isa.AP // [R, d+2] fp32: unnormalised O, scale·max, row sum l
	n         int    // tiles begun
}

type decodePools struct {
	spsum, tpsum, vpsum *isa.Pool
	ppool, ptpool       *isa.Pool
	itpool, outpool     *isa.Pool
}

// decodeItem is one KV tile of one split of a pack of groups, cut into
// the stages of attnSchedule like attnItem: 0 TensorE S = QᵀK, 1 VectorE
// row max, 2 VectorE running max, 3 ScalarE exp, 4 TensorE Pᵀ, 5 ScalarE
// (VectorE on v2) Pᵀ copy, 6 TensorE PV, 7 GpSimdE/VectorE update.
type decodeItem struct {
	b           *isa.Builder
	s           decodeShape
	sp          *decodeSplit
	n           int
	first, last bool
	kcols       func(gi, i, c, w int) isa.AP
	vchunk      func(gi, c, rows int) isa.AP
	pools       decodePools
	part, o     isa.HBMTensor
	sps         isa.AP
	ts          tileStats // columns of the [R, 3] statistics tile
	nbOld       isa.AP
	nbNew       isa.AP
	p, tp, pt   isa.AP
	pv          isa.AP
}

func (it *decodeItem) run(stage int) {
	b, s, sp, pl := it.b, it.s, it.sp, it.pools
	g, n, R := s.g, it.n, sp.R
	ng := len(sp.groups)
	nc := (n + lanes - 1) / lanes
	kc := func(c int) int { return min(lanes, n-c*lanes) }
	tcol := func(gi, c int) int { return c*R + gi*sp.stride } // Pᵀ column of group gi, chunk c
	const bank = 512                                          // fp32 per PSUM bank: one matmul's destination on v2/v3
	switch stage {
	case 0:
		it.sps = pl.spsum.Tile(isa.FP32, R, n)
		for gi, gr := range sp.groups {
			for c := 0; c < n; c += bank {
				w := min(bank, n-c)
				for i := range s.nd {
					b.Matmul(it.sps.Rows(gi*sp.stride, g).Cols(c, w), gr.qv(i), it.kcols(gi, i, c, w), i > 0)
				}
			}
		}
	case 1:
		its := pl.itpool.Tile(isa.FP32, R, 3)
		it.ts.cut(&its)
		b.TensorReduce(it.ts.nr, it.sps, isa.ALUMax, 1, true)
	case 2:
		it.nbOld, it.nbNew = onlineMax(b, sp.st, &sp.n, it.ts.nr, s.scale, it.first)
	case 3:
		onlineAlpha(b, &it.ts, it.nbOld, it.nbNew, it.first)
		it.p = pl.ppool.Tile(s.dt, R, n)
		onlineExp(b, it.p, it.sps, &it.ts, it.nbNew, s.scale)
	case 4:
		it.tp = pl.tpsum.Tile(isa.FP32, min(lanes, n), nc*R)
		onlineTranspose(b, it.tp, it.p, n, R)
	case 5:
		it.pt = pl.ptpool.Tile(s.dt, min(lanes, n), nc*R)
		full := n / lanes
		if full > 0 {
			copyPSUM(b, it.pt.Cols(0, full*R), it.tp.Cols(0, full*R))
		}
		if r := n % lanes; r > 0 {
			copyPSUM(b, it.pt.Rows(0, r).Cols(full*R, R), it.tp.Rows(0, r).Cols(full*R, R))
		}
	case 6:
		it.pv = pl.vpsum.Tile(isa.FP32, R, s.d)
		for gi := range ng {
			for c := range nc {
				b.Matmul(it.pv.Rows(gi*sp.stride, g), it.pt.Rows(0, kc(c)).Cols(tcol(gi, c), g), it.vchunk(gi, c, kc(c)), c > 0)
			}
		}
	case 7:
		o, l := sp.o.Cols(0, s.d), sp.o.Col(s.d+1)
		onlineUpdate(b, o, l, it.pv, &it.ts, it.first)
		if !it.last {
			return
		}
		if s.combine {
			// Partial: O, scale·max (= −nb), l in one row per query head.
			b.TensorScalar(isa.GpSimd, sp.o.Col(s.d), it.nbNew, isa.ALUMul, isa.Imm(-1), isa.ALUBypass, isa.Imm(0))
			for gi, gr := range sp.groups {
				b.Store(hbmAP(it.part, (gr.row*s.splits+sp.sp)*(s.d+2), g, s.splits*(s.d+2), isa.Dim{Stride: 1, Count: isa.Narrow(s.d + 2)}),
					sp.o.Rows(gi*sp.stride, g))
			}
			return
		}
		ot := pl.outpool.Tile(s.out, R, s.d)
		b.TensorScalar(isa.GpSimd, ot, o, isa.ALUDiv, isa.PerPartition(l), isa.ALUBypass, isa.Imm(0))
		for gi, gr := range sp.groups {
			b.Store(it.o.Tile(gr.row, 0, g, s.d), ot.Rows(gi*sp.stride, g))
		}
	}
}

// decodeCombine merges the split partials of 128 query rows at a time:
// M = max_s m_s, w_s = exp(m_s − M), O = Σ w_s·O_s / Σ w_s·l_s. The
// weighted sum is one tensor_tensor over [rows, splits, d] (w broadcast
// along d by a stride-0 pattern) and one tensor_reduce over the splits
// axis, read through a transposed view.
func decodeCombine(b *isa.Builder, s decodeShape, part, o isa.HBMTensor) {
	rows := s.batch * s.heads
	w := s.d + 2
	ppool := b.SBUFPool("partials", 2, s.splits*w*4)
	wpool := b.SBUFPool("weights", 2, 2*s.splits*4)
	tpool := b.SBUFPool("weighted", 1, s.splits*s.d*4)
	apool := b.SBUFPool("acc", 2, s.d*4)
	outpool := b.SBUFPool("combined", 2, s.d*s.out.Size())
	cpool := b.SBUFPool("colstat", 8, 4)
	if b.Err() != nil {
		return
	}
	for r0 := 0; r0 < rows; r0 += lanes {
		nr := min(lanes, rows-r0)
		pt := ppool.Tile(isa.FP32, nr, s.splits*w)
		b.Load(pt, hbmAP(part, r0*s.splits*w, nr, s.splits*w, isa.Dim{Stride: 1, Count: isa.Narrow(s.splits * w)}))
		mv := view(pt, s.d*4, isa.Dim{Stride: isa.Narrow(w), Count: isa.Narrow(s.splits)})
		lv := view(pt, (s.d+1)*4, isa.Dim{Stride: isa.Narrow(w), Count: isa.Narrow(s.splits)})
		negM := cpool.Tile(isa.FP32, nr, 1)
		b.TensorReduce(negM, mv, isa.ALUMax, 1, true)
		wt := wpool.Tile(isa.FP32, nr, 2*s.splits) // [0,splits): w, [splits, 2·splits): w·l
		b.ActivationWith(wt.Cols(0, s.splits), mv, isa.ActExp, isa.ActArgs{Scale: 1, BiasAP: negM})
		b.TensorTensor(wt.Cols(s.splits, s.splits), wt.Cols(0, s.splits), lv, isa.ALUMul)
		L := cpool.Tile(isa.FP32, nr, 1)
		b.TensorReduce(L, wt.Cols(s.splits, s.splits), isa.ALUAdd, 1, false)
		tw := tpool.Tile(isa.FP32, nr, s.splits, s.d)
		b.TensorTensor(tw,
			view(pt, 0, isa.Dim{Stride: isa.Narrow(w), Count: isa.Narrow(s.splits)}, isa.Dim{Stride: 1, Count: isa.Narrow(s.d)}),
			view(wt, 0, isa.Dim{Stride: 1, Count: isa.Narrow(s.splits)}, isa.Dim{Stride: 0, Count: isa.Narrow(s.d)}), isa.ALUMul)
		acc := apool.Tile(isa.FP32, nr, s.d)
		b.TensorReduce(acc, view(tw, 0, isa.Dim{Stride: 1, Count: isa.Narrow(s.d)}, isa.Dim{Stride: isa.Narrow(s.d), Count: isa.Narrow(s.splits)}), isa.ALUAdd, 1, false)
		rL := cpool.Tile(isa.FP32, nr, 1)
		b.TensorScalar(isa.Vector, rL, L, isa.ALUPow, isa.Imm(-1), isa.ALUBypass, isa.Imm(0))
		ot := outpool.Tile(s.out, nr, s.d)
		b.TensorScalar(isa.Vector, ot, acc, isa.ALUMul, isa.PerPartition(rL), isa.ALUBypass, isa.Imm(0))
		b.Store(o.Tile(r0, 0, nr, s.d), ot)
	}
}

// decodeReference: O[b,h] = softmax(scale·K·q)ᵀ·V over all seqlen keys of
// KV head h/(heads/kv_heads), in float64.
func decodeReference(p Params, in map[string][]float32) map[string][]float64 {
	B, H, kvh, S, d := p.Int("batch"), p.Int("heads"), kvHeadsOf(p), p.Int("seqlen"), p.Int("headdim")
	g := H / kvh
	q, kT, v := in["Q"], in["KT"], in["V"]
	scale := 1 / math.Sqrt(float64(d))
	out := make([]float64, B*H*d)
	sc := make([]float64, S)
	for bi := range B {
		for h := range H {
			kh := h / g
			qr := q[(bi*H+h)*d : (bi*H+h+1)*d]
			kb := (bi*kvh + kh) * d * S
			vb := (bi*kvh + kh) * S * d
			m := math.Inf(-1)
			for j := range S {
				dot := 0.0
				for e := range d {
					dot += float64(qr[e]) * float64(kT[kb+e*S+j])
				}
				sc[j] = dot * scale
				m = math.Max(m, sc[j])
			}
			sum := 0.0
			for j := range S {
				sc[j] = math.Exp(sc[j] - m)
				sum += sc[j]
			}
			o := out[(bi*H+h)*d : (bi*H+h+1)*d]
			for j := range S {
				wj := sc[j] / sum
				for e := range d {
					o[e] += wj * float64(v[vb+j*d+e])
				}
			}
		}
	}
	return map[string][]float64{"O": out}
}
