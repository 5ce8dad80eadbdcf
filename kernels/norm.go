package kernels

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

// normEps is the variance epsilon of RMSNorm and LayerNorm: Llama 3's
// rms_norm_eps (1e-5), also PyTorch's LayerNorm default.
const normEps = 1e-5

// rowFMax is the free size of one Vector/Scalar instruction in the
// row-resident kernels (norms, softmax): 4096 elements keeps the
// instruction count low and its fixed cost (docs/hardware.md A §3.2 MIN_II ≈ 64
// cycles, +100 static) under 5%, and leaves room for four chunks of
// scratch in SBUF.
const rowFMax = 4096

// rowChunk is one instruction-sized piece [c0, c0+n) of a row.
type rowChunk struct{ c0, n int }

func rowChunks(cols int) []rowChunk {
	var cs []rowChunk
	for c0 := 0; c0 < cols; c0 += rowFMax {
		cs = append(cs, rowChunk{c0, min(rowFMax, cols-c0)})
	}
	return cs
}

func rmsnormKernel() *Kernel {
	return &Kernel{
		Name:         "rmsnorm",
		Doc:          "out = x / sqrt(mean(x²) + 1e-5) · w over the hidden dimension (Llama's RMSNorm)",
		Params:       tokensHiddenParams(layerDTypes),
		FLOPs:        elemFLOPs(4), // square, sum, ·rstd, ·w
		Instrs:       tokensHiddenInstrs,
		Neuron:       func(b *isa.Builder, p Params) error { return normNeuron(b, p, false) },
		FromMeasured: rowsFromMeasured("tokens", "hidden"),
		GPU: func(_ plan.Device, p Params) ([]GPUPlan, error) {
			e := p.DType("dtype").Size()
			return memoryBoundPlan(p, GPURowKernel("rmsnorm", p.Int("tokens"), p.Int("hidden"), e, 1, 4, 0, 1)), nil
		},
		Reference: func(p Params, in map[string][]float32) map[string][]float64 {
			T, H := p.Int("tokens"), p.Int("hidden")
			x, w := in["x"], in["w"]
			out := make([]float64, T*H)
			for t := range T {
				row := x[t*H : (t+1)*H]
				ss := 0.0
				for _, v := range row {
					ss += float64(v) * float64(v)
				}
				r := 1 / math.Sqrt(ss/float64(H)+normEps)
				for j, v := range row {
					out[t*H+j] = float64(v) * r * float64(w[j])
				}
			}
			return map[string][]float64{"out": out}
		},
		// out = rnd(rnd(x·rstd)·w): two roundings into the dtype, 2u. rstd
		// comes from an fp32 sum of H squares (relative error ≤ H·2^-24 in
		// the worst case, halved by the square root) and an fp32 power (a
		// few ulps). Every step is a product, so the bound is relative;
		// Abs only covers results in the dtype's subnormal range.
		Tolerance: func(p Params) Tolerance {
			u, H := unitRoundoff(p.DType("dtype")), float64(p.Int("hidden"))
			return Tolerance{Abs: 1e-6, Rel: 2*u + (H/2+8)*fp32u,
				Why: "two roundings to dtype (2u); fp32 sum of H squares and rsqrt: (H/2+8)·2^-24"}
		},
	}
}

// layernormVariants are the NeuronCore versions of layernorm: pipelined
// (the library kernel, normNeuron) and the two versions of the NKI
// LayerNorm tutorial (layernormTutorial); best is pipelined.
var layernormVariants = []string{"best", "pipelined", "tutorial_v1", "tutorial_v2"}

func layernormKernel() *Kernel {
	params := append(tokensHiddenParams(layerDTypes), Param{Name: "variant", Kind: EnumParam, Default: "best", Allowed: layernormVariants,
		Doc: "pipelined (the library kernel), tutorial_v1 / tutorial_v2 (the NKI LayerNorm tutorial's two versions); best = pipelined (GPU: its one kernel)"})
	return &Kernel{
		Name:   "layernorm",
		Doc:    "out = (x − mean)/sqrt(var + 1e-5)·gamma + beta over the hidden dimension",
		Params: params,
		FLOPs:  elemFLOPs(7), // sum, square, sum of squares, −mean, ·rstd, ·gamma, +beta
		Instrs: func(p Params) float64 {
			if v := p.Str("variant"); v == "tutorial_v1" || v == "tutorial_v2" {
				// 14 instructions per 128-row tile (`trnsim asm`:
				// load, 9 v1 steps or 2 + bn_stats, store) plus one
				// bn_stats per 512 columns, and the two weight loads.
				return tiles(p.Int("tokens"), 128)*(14+tiles(p.Int("hidden"), isa.BNStatsFMax)) + 2
			}
			return tokensHiddenInstrs(p)
		},
		Neuron: func(b *isa.Builder, p Params) error {
			switch v := p.Str("variant"); v {
			case "best", "pipelined":
				return normNeuron(b, p, true)
			case "tutorial_v1", "tutorial_v2":
				return layernormTutorial(b, p, v == "tutorial_v2")
			default:
				return fmt.Errorf("layernorm: unknown variant %q (allowed: %v)", v, layernormVariants)
			}
		},
		NeuronVariant: func(p Params) string {
			if v := p.Str("variant"); v != "best" {
				return v
			}
			return "pipelined"
		},
		FromMeasured: rowsFromMeasured("tokens", "hidden"),
		GPU: func(dev plan.Device, p Params) ([]GPUPlan, error) {
			if v := p.Str("variant"); v != "best" {
				return nil, unsupported("layernorm variant %q is a NeuronCore kernel; on GPU %s use variant=best", v, dev.Name)
			}
			e := p.DType("dtype").Size()
			plans := memoryBoundPlan(p, GPURowKernel("layernorm", p.Int("tokens"), p.Int("hidden"), e, 2, 7, 0, 1))
			plans[0].Variant = "" // the GPU has one layernorm kernel: no variant to report
			return plans, nil
		},
		Reference: func(p Params, in map[string][]float32) map[string][]float64 {
			T, H := p.Int("tokens"), p.Int("hidden")
			x, g, bt := in["x"], in["gamma"], in["beta"]
			out := make([]float64, T*H)
			for t := range T {
				row := x[t*H : (t+1)*H]
				mean := 0.0
				for _, v := range row {
					mean += float64(v)
				}
				mean /= float64(H)
				v2 := 0.0
				for _, v := range row {
					d := float64(v) - mean
					v2 += d * d
				}
				r := 1 / math.Sqrt(v2/float64(H)+normEps)
				for j, v := range row {
					out[t*H+j] = (float64(v)-mean)*r*float64(g[j]) + float64(bt[j])
				}
			}
			return map[string][]float64{"out": out}
		},
		Tolerance: func(p Params) Tolerance {
			if v := p.Str("variant"); v == "tutorial_v1" || v == "tutorial_v2" {
				return layernormTutorialTolerance(p)
			}
			return layernormTolerance(p)
		},
	}
}

// layernormTolerance: out = rnd(rnd(rnd(x̂)·γ) + β) with x̂ = (x−mean)·rstd
// computed in fp32. The last rounding is relative to the result (u); the
// first two are relative to x̂·γ, which can be larger than the result
// after β is added, so they form the absolute term 2u·X, X a bound on |x̂|
// (|γ| < 1 for the [-1,1) check inputs). |x̂| ≤ √(H−1) always; for the
// uniform check inputs it stays below 3. The variance is E[x²] − mean² in
// fp32: its error relative to var is ≤ H·2^-24 for |x| ≤ 1, var ≈ 1/3,
// which moves x̂ by that relative amount (another X·H·2^-24).
func layernormTolerance(p Params) Tolerance {
	u, H := unitRoundoff(p.DType("dtype")), float64(p.Int("hidden"))
	X := math.Min(math.Sqrt(math.Max(H-1, 0)), 3)
	return Tolerance{Abs: X*(2*u+(H+8)*fp32u) + 1e-6, Rel: u,
		Why: "rounding of x̂ and x̂·γ (2u·|x̂|, |x̂| ≤ min(√(H−1), 3)), of the result (u); fp32 variance (H·2^-24)"}
}

// normNeuron builds RMSNorm (layer false) or LayerNorm (layer true): token
// rows on the 128 lanes, the hidden dimension along the free axis, each row
// resident in SBUF so x is read from HBM once.
//
// Per 128-token tile, three stages software-pipelined across tiles
// (swPipe), so one tile's statistics never hold up the engines streaming
// its neighbours:
//  0. the sums, fused into ScalarE activations (activation with
//     add-reduce, docs/hardware.md A §2.2): square for Σx²; for LayerNorm Σx
//     on VectorE (tensor_reduce) so both engines share the pass;
//  1. the [P,1] statistics: rstd = rsqrt(Σx²/H + ε) — or of the variance
//     Σx²/H − mean² — as one ScalarE activation with the 1/H scale and
//     the ε bias folded in (rsqrt shares square's activation table);
//  2. normalisation and weights. RMSNorm: x·rstd on VectorE (tensor_scalar,
//     4× in VectorE's 16-bit mode on v3+) then ·w, leaving ScalarE to the
//     squares. LayerNorm: (x−mean)·rstd as one ScalarE activation with
//     scale rstd and bias −mean·rstd (the "3-in-1 activation", A §3.2),
//     then ·γ and +β on VectorE.
func normNeuron(b *isa.Builder, p Params, layer bool) error {
	arch := b.Arch()
	T, H, dt := p.Int("tokens"), p.Int("hidden"), p.DType("dtype")
	name := "rmsnorm"
	if layer {
		name = "layernorm"
	}
	x := b.Input("x", dt, T, H)
	var w, beta isa.HBMTensor
	if layer {
		w = b.Input("gamma", dt, H)
		beta = b.Input("beta", dt, H)
	} else {
		w = b.Input("w", dt, H)
	}
	out := b.Output("out", dt, T, H)
	chunks := rowChunks(H)
	nch := len(chunks)
	sz := dt.Size()
	F := chunks[0].n

	// Weights are broadcast to every lane once (a DMA with row stride 0)
	// and reused by every tile.
	wpool := b.SBUFPool("weights", 1, H*sz)
	var bpool *isa.Pool
	if layer {
		bpool = b.SBUFPool("bias", 1, H*sz)
	}
	// x lives from stage 0 to stage 2: three buffers when they fit.
	xbufs := 3
	if free := arch.SBUFPartitionBytes - (2+boolInt(layer))*H*sz - 7*F*sz - (1 << 10); 3*H*sz > free {
		xbufs = 2
	}
	xpool := b.SBUFPool("x", xbufs, H*sz)
	ypool := b.SBUFPool("y", 3, F*sz)
	opool := b.SBUFPool("out", 3, F*sz)
	junk := b.SBUFPool("junk", 1, F*sz)
	stat := b.SBUFPool("stats", 4, (2*nch+6)*4)
	epool := b.SBUFPool("eps", 1, 4)
	if err := b.Err(); err != nil {
		return fmt.Errorf("%s: hidden=%d in %s does not fit one row per lane in SBUF: %w", name, H, dt, err)
	}
	wt := wpool.Tile(dt, lanes, H)
	b.Load(wt, hbmAP(w, 0, lanes, 0, isa.Dim{Stride: 1, Count: isa.Narrow(H)}))
	var bt isa.AP
	if layer {
		bt = bpool.Tile(dt, lanes, H)
		b.Load(bt, hbmAP(beta, 0, lanes, 0, isa.Dim{Stride: 1, Count: isa.Narrow(H)}))
	}
	// ε as an activation bias: an immediate on v3+, a [P,1] tile on v2
	// (docs/hardware.md A §2.2 activation bias).
	eps := isa.ActArgs{Scale: float32(1 / float64(H))}
	if arch.ConstBias {
		eps.Bias = normEps
	} else {
		e := epool.Tile(isa.FP32, lanes, 1)
		b.Memset(isa.Vector, e, normEps)
		eps.BiasAP = e
	}

	pipe := newPipe([]int{0, 1, 2}, []int{1, 0, 2})
	xring := newSlotRing(xbufs)
	// One Loop iteration per 128-row tile; pushing tile i emits stage 0
	// of tile i, 1 of tile i−1 and 2 of tile i−2, so the key covers the
	// three tiles' rows. The stages read their tile from ring (see
	// loopRing).
	tiles := ceilDiv(T, lanes)
	rowsOf := func(i int) int {
		if i < 0 || i >= tiles {
			return -1
		}
		return min(lanes, T-i*lanes)
	}
	ring := newLoopRing(pipe.depth())
	key := func(i int) uint64 { return isa.LoopKey(rowsOf(i), rowsOf(i-1), rowsOf(i-2)) }
	// What the next tile emits besides its own work: the pending stages,
	// and the flush an input slot still in use forces.
	state := func() uint64 { return isa.LoopKey(int(pipe.loopState()), int(xring.loopState(pipe))) }
	b.LoopWithState(tiles, key, state, func(ti int) {
		ring.resume(ti)
		pti := ring.put(pipe.nextIdx(), ti)
		rows := rowsOf(ti)
		xslot := xring.take(pipe)
		xt := xpool.Tile(dt, rows, H)
		// cols [0,nch): Σx² per chunk, [nch,2nch): Σx per chunk, then
		// Σx², Σx, −mean, mean², variance, −mean·rstd, rstd.
		st := stat.Tile(isa.FP32, rows, 2*nch+6)
		c0 := 2 * nch
		ss, sum, nmean, msq, vr, nb := st.Col(c0), st.Col(c0+1), st.Col(c0+2), st.Col(c0+3), st.Col(c0+4), st.Col(c0+5)
		if nch == 1 {
			ss, sum = st.Col(0), st.Col(1)
		}
		rstd := st.Col(c0 + 4) // overwrites the variance in place
		invH := float32(1 / float64(H))
		xring.use(xslot, pipe.nextIdx())
		pipe.push(func(stage int) {
			switch stage {
			case 0:
				b.Load(xt, x.Tile(*pti*lanes, 0, rows, H))
				for i, c := range chunks {
					b.ActivationWith(junk.Tile(dt, rows, c.n), xt.Cols(c.c0, c.n), isa.ActSquare, isa.ActArgs{Scale: 1, Reduce: st.Col(i)})
					if layer {
						b.TensorReduce(st.Col(nch+i), xt.Cols(c.c0, c.n), isa.ALUAdd, 1, false)
					}
				}
			case 1:
				eps := eps
				if eps.BiasAP.Used() {
					eps.BiasAP = eps.BiasAP.Rows(0, rows)
				}
				if nch > 1 {
					b.TensorReduce(ss, st.Cols(0, nch), isa.ALUAdd, 1, false)
					if layer {
						b.TensorReduce(sum, st.Cols(nch, nch), isa.ALUAdd, 1, false)
					}
				}
				if !layer {
					b.ActivationWith(rstd, ss, isa.ActRsqrt, eps)
					return
				}
				b.TensorScalar(isa.Vector, nmean, sum, isa.ALUMul, isa.Imm(-invH), isa.ALUBypass, isa.Imm(0))
				b.TensorScalar(isa.Vector, msq, nmean, isa.ALUMul, isa.PerPartition(nmean), isa.ALUBypass, isa.Imm(0))
				// H·var = Σx² − H·mean²; rstd = rsqrt(H·var/H + ε)
				b.TensorScalar(isa.Vector, vr, msq, isa.ALUMul, isa.Imm(-float32(H)), isa.ALUAdd, isa.PerPartition(ss))
				b.ActivationWith(rstd, vr, isa.ActRsqrt, eps)
				b.TensorScalar(isa.Vector, nb, nmean, isa.ALUMul, isa.PerPartition(rstd), isa.ALUBypass, isa.Imm(0))
			case 2:
				for _, c := range chunks {
					y := ypool.Tile(dt, rows, c.n)
					if layer {
						b.ActivationWith(y, xt.Cols(c.c0, c.n), isa.ActCopy, isa.ActArgs{Scale: 1, ScaleAP: rstd, BiasAP: nb})
					} else {
						b.TensorScalar(isa.Vector, y, xt.Cols(c.c0, c.n), isa.ALUMul, isa.PerPartition(rstd), isa.ALUBypass, isa.Imm(0))
					}
					o := opool.Tile(dt, rows, c.n)
					b.TensorTensor(o, y, wt.Rows(0, rows).Cols(c.c0, c.n), isa.ALUMul)
					if layer {
						b.TensorTensor(o, o, bt.Rows(0, rows).Cols(c.c0, c.n), isa.ALUAdd)
					}
					b.Store(out.Tile(*pti*lanes, c.c0, rows, c.n), o)
				}
			}
		})
	})
	ring.resume(tiles)
	pipe.flush()
	return nil
}

// layernormTutorialTolerance bounds the tutorial versions, whose [P,H]
// intermediates are tiles of the input dtype, as NKI gives them: x−mean
// rounded (u·|x̂|), v1's squares rounded (3u on the variance, 1.5u on
// rstd), x̂ = (x−mean)·rstd rounded (u), then ·γ (u), all relative to
// |x̂| ≤ X as in layernormTolerance: 6u·X in all, and the final rounding
// u relative to the result. The fp32 statistics add H·2^-24 relative to
// x̂ (sums of H terms), and the fp32 mean's absolute error H·2^-24 (|x| ≤
// 1) times rstd (≤ √3 for the uniform check inputs, 2 taken).
func layernormTutorialTolerance(p Params) Tolerance {
	u, H := unitRoundoff(p.DType("dtype")), float64(p.Int("hidden"))
	X := math.Min(math.Sqrt(math.Max(H-1, 0)), 3)
	return Tolerance{Abs: X*(6*u+(H+8)*fp32u) + 2*H*fp32u + 1e-6, Rel: u,
		Why: "dtype roundings of x−mean, (x−mean)², x̂ and x̂·γ (6u·|x̂|), of the result (u); fp32 mean and variance (H·2^-24)"}
}

// layernormTutorial builds the two kernels of the NKI LayerNorm tutorial
// (docs/hardware.md A §4.2 [P SDK226 general/nki/tutorials/layernorm.rst]),
// instruction for instruction on the engine NKI lowers each call to. γ and
// β are loaded once, broadcast to the 128 lanes; then per 128-row tile
// (nl.affine_range: tiles are independent, so the rotating buffers let
// one tile's load overlap the previous tile's compute):
//
//   - v1 (nki_layernorm_kernel_v1): load x; mean = nl.mean(x)
//     (tensor_reduce add, then ·1/H on VectorE); xc = x − mean
//     (tensor_scalar); xc² (ScalarE activation square); var =
//     nl.mean(xc²) (tensor_reduce, ·1/H); var + ε (tensor_scalar);
//     rstd = nl.rsqrt (ScalarE activation); xc·rstd (tensor_scalar); ·γ
//     and +β (tensor_tensor); store.
//   - v2 (nki_layernorm_kernel_v2): load x; bn_stats over each ≤ 512
//     columns and one bn_aggr (mean and variance in one VectorE pass over
//     x); var + ε and rsqrt as in v1; (x − mean)·rstd as one two-op
//     tensor_scalar; ·γ and +β; store.
//
// Statistics are fp32 [P,1] columns; the [P,H] tiles have the input's
// dtype, as NKI's tiles take their operands' dtype.
func layernormTutorial(b *isa.Builder, p Params, v2 bool) error {
	T, H, dt := p.Int("tokens"), p.Int("hidden"), p.DType("dtype")
	name := "layernorm tutorial_v1"
	if v2 {
		name = "layernorm tutorial_v2"
	}
	x := b.Input("x", dt, T, H)
	g := b.Input("gamma", dt, H)
	be := b.Input("beta", dt, H)
	out := b.Output("out", dt, T, H)
	sz := dt.Size()
	nbn := (H + isa.BNStatsFMax - 1) / isa.BNStatsFMax

	params := b.SBUFPool("params", 2, H*sz)
	// Two [P,H] tiles per row tile, reused as a compiler's allocator
	// reuses a dead tile's space: v1 x → a, x−mean → b, its square → a,
	// the normalised row → a, ·γ and +β → b; v2 x → a, normalised, ·γ and
	// +β → b. Either way a is free for the next tile's load while b is
	// finished and stored. Two row tiles' worth when they fit, so loads
	// run a tile ahead; one otherwise.
	st := (isa.BNStatsWidth*nbn + 8) * 4
	bufs := 2
	if free := b.Arch().SBUFPartitionBytes - 2*H*sz - 2*st; 4*H*sz > free {
		bufs = 1
	}
	work := b.SBUFPool("rows", 2*bufs, H*sz)
	stat := b.SBUFPool("stats", bufs, st)
	if err := b.Err(); err != nil {
		return fmt.Errorf("%s: hidden=%d in %s does not fit two rows per lane in SBUF: %w", name, H, dt, err)
	}
	gt, bt := params.Tile(dt, lanes, H), params.Tile(dt, lanes, H)
	row := isa.Dim{Stride: 1, Count: isa.Narrow(H)}
	b.Load(gt, hbmAP(g, 0, lanes, 0, row))
	b.Load(bt, hbmAP(be, 0, lanes, 0, row))
	invH := float32(1 / float64(H))
	for r0 := 0; r0 < T; r0 += lanes {
		n := min(lanes, T-r0)
		s := stat.Tile(isa.FP32, n, isa.BNStatsWidth*nbn+8)
		c := isa.BNStatsWidth * nbn // first free column after the bn_stats triples
		mean, vr, rstd := s.Col(c), s.Col(c+1), s.Col(c+2)
		ta, tb := work.Tile(dt, n, H), work.Tile(dt, n, H)
		b.Load(ta, x.Tile(r0, 0, n, H))
		var o isa.AP // the output tile
		if !v2 {
			b.TensorReduce(mean, ta, isa.ALUAdd, 1, false)
			b.TensorScalar(isa.Vector, mean, mean, isa.ALUMul, isa.Imm(invH), isa.ALUBypass, isa.Imm(0))
			b.TensorScalar(isa.Vector, tb, ta, isa.ALUSub, isa.PerPartition(mean), isa.ALUBypass, isa.Imm(0))
			b.Activation(ta, tb, isa.ActSquare)
			b.TensorReduce(vr, ta, isa.ALUAdd, 1, false)
			b.TensorScalar(isa.Vector, vr, vr, isa.ALUMul, isa.Imm(invH), isa.ALUBypass, isa.Imm(0))
			b.TensorScalar(isa.Vector, rstd, vr, isa.ALUAdd, isa.Imm(normEps), isa.ALUBypass, isa.Imm(0))
			b.Activation(rstd, rstd, isa.ActRsqrt)
			b.TensorScalar(isa.Vector, ta, tb, isa.ALUMul, isa.PerPartition(rstd), isa.ALUBypass, isa.Imm(0))
			b.TensorTensor(tb, ta, gt.Rows(0, n), isa.ALUMul)
			o = tb
		} else {
			for j := range nbn {
				c0 := j * isa.BNStatsFMax
				b.BNStats(s.Cols(isa.BNStatsWidth*j, isa.BNStatsWidth), ta.Cols(c0, min(isa.BNStatsFMax, H-c0)))
			}
			b.BNAggr(s.Cols(c, isa.BNAggrWidth), s.Cols(0, c)) // mean, var
			b.TensorScalar(isa.Vector, rstd, vr, isa.ALUAdd, isa.Imm(normEps), isa.ALUBypass, isa.Imm(0))
			b.Activation(rstd, rstd, isa.ActRsqrt)
			b.TensorScalar(isa.Vector, tb, ta, isa.ALUSub, isa.PerPartition(mean), isa.ALUMul, isa.PerPartition(rstd))
			b.TensorTensor(tb, tb, gt.Rows(0, n), isa.ALUMul)
			o = tb
		}
		b.TensorTensor(o, o, bt.Rows(0, n), isa.ALUAdd)
		b.Store(out.Tile(r0, 0, n, H), o)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
