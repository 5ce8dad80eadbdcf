package kernels

import (
	"fmt"
	"slices"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

// Forward attention on a GPU in the FlashAttention style: one CTA per
// block of Bm query rows of one (batch, head), streaming Bn-key blocks of
// K and V through shared memory with the online softmax. Per block the
// CTA computes S = Q·Kᵀ (2·Bm·Bn·d FLOPs), P = exp(S − max) (Bm·Bn MUFU
// ops and ~4 FP32 ops per score: scale-and-subtract, max, sum, convert),
// rescales its O accumulator (Bm·d FP32 ops) and adds P·V (2·Bm·Bn·d).
//
// fa2 (FlashAttention-2): mma.sync from registers fed by ldmatrix (every
// warp reads all of K and V from shared memory), cp.async double
// buffering, no warp specialisation; grid m-block-fastest.
// fa3 (FlashAttention-3): wgmma (tcgen05 on B200) reading K and V from
// shared memory, TMA loads by a producer warpgroup, two consumer
// warpgroups in ping-pong, persistent CTAs (non-causal); fp8 operands
// with an in-kernel transpose of V.

// GPUAttnShape is one forward-attention workload.
type GPUAttnShape struct {
	Batch, Heads, KVHeads, Seqlen, Headdim int
	Causal                                 bool
	DType                                  isa.DType
}

func (s GPUAttnShape) flops() float64 {
	f := 4 * float64(s.Batch) * float64(s.Heads) * float64(s.Seqlen) * float64(s.Seqlen) * float64(s.Headdim)
	if s.Causal {
		f /= 2
	}
	return f
}

// attentionGPU is attention's GPU description: the FlashAttention
// variant asked for (best: fa3 where the device runs it, else fa2).
func attentionGPU(dev plan.Device, p Params) ([]GPUPlan, error) {
	s := GPUAttnShape{
		Batch: p.Int("batch"), Heads: p.Int("heads"), KVHeads: p.Int("kv_heads"),
		Seqlen: p.Int("seqlen"), Headdim: p.Int("headdim"), Causal: p.Bool("causal"), DType: p.DType("dtype"),
	}
	ks, v, err := GPUAttentionKernels(dev, s, p.Str("variant"))
	if err != nil {
		return nil, err
	}
	return []GPUPlan{{Kernels: ks, Variant: v, Detail: v}}, nil
}

// attentionFromMeasured maps a measured attention row (shape and causal).
func attentionFromMeasured(m Measurement) []Arg {
	args := setInts([]string{"batch", "heads", "kv_heads", "seqlen", "headdim"}, m.Batch, m.Heads, m.KVHeads, m.Seqlen, m.Headdim)
	if m.Causal != "" {
		args = append(args, TextArg("causal", m.Causal))
	}
	return args
}

// GPUAttentionVariants returns the attention variants dev runs: fa2 where it
// has an mma.sync rate, fa3 where its native MMAs read shared memory
// (wgmma, tcgen05).
func GPUAttentionVariants(dev plan.Device) []string {
	var vs []string
	if dev.MMASync {
		vs = append(vs, "fa2")
	}
	if dev.MMAFamily == plan.WGMMA || dev.MMAFamily == plan.TCGen05 {
		vs = append(vs, "fa3")
	}
	return vs
}

// GPUAttentionKernels returns the kernels of variant ("fa2", "fa3" or "best":
// fa3 where supported, else fa2) for s on dev, and the variant resolved.
func GPUAttentionKernels(dev plan.Device, s GPUAttnShape, variant string) ([]plan.Kernel, string, error) {
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if s.Batch <= 0 || s.Heads <= 0 || s.Seqlen <= 0 || s.Headdim <= 0 || s.KVHeads <= 0 {
		return nil, "", fmt.Errorf("attention: batch, heads, kv_heads, seqlen and headdim must be positive")
	}
	if s.Heads%s.KVHeads != 0 {
		return nil, "", fmt.Errorf("attention: heads=%d is not a multiple of kv_heads=%d", s.Heads, s.KVHeads)
	}
	if s.Headdim > 256 || s.Headdim%8 != 0 {
		return nil, "", fmt.Errorf("attention: headdim=%d on a GPU: FlashAttention supports multiples of 8 up to 256", s.Headdim)
	}
	vs := GPUAttentionVariants(dev)
	if variant == "best" || variant == "" {
		if len(vs) == 0 {
			return nil, "", unsupported("attention: %s runs no modelled attention variant", dev.Name)
		}
		variant = vs[len(vs)-1]
		if s.DType == isa.FP32 {
			variant = vs[0]
		}
	}
	if !slices.Contains(vs, variant) {
		return nil, "", unsupported("attention variant %q does not run on %s (allowed: %v, best)", variant, dev.Name, vs)
	}
	switch {
	case s.DType == isa.BF16 || s.DType == isa.FP16:
	case s.DType.IsFP8():
		if variant != "fa3" || !dev.HasTensor(s.DType) {
			return nil, "", unsupported("attention dtype %s: fp8 runs only with fa3 on a device with fp8 tensor cores (%s, %s)", s.DType, dev.Name, variant)
		}
	default:
		return nil, "", unsupported("attention dtype %s on a GPU: FlashAttention takes bf16, fp16 or (fa3) fp8", s.DType)
	}
	if variant == "fa2" {
		return []plan.Kernel{gpuFA2(s)}, variant, nil
	}
	return []plan.Kernel{gpuFA3(dev, s)}, variant, nil
}

// gpuAttnIters returns the key blocks each query block visits, in m-block
// order: all of them, or up to the diagonal when causal.
func gpuAttnIters(s GPUAttnShape, bm, bn int) []int {
	mb := gpuCeilDiv(s.Seqlen, bm)
	its := make([]int, mb)
	for i := range its {
		if s.Causal {
			its[i] = gpuCeilDiv(min(s.Seqlen, (i+1)*bm), bn)
		} else {
			its[i] = gpuCeilDiv(s.Seqlen, bn)
		}
	}
	return its
}

// gpuAttnGrid turns per-m-block iteration counts into grid groups: uniform
// grids become one group; causal grids one group per m-block, repeated
// for every (batch, head).
func gpuAttnGrid(k *plan.Kernel, its []int, bh int) {
	uniform := true
	for _, n := range its {
		if n != its[0] {
			uniform = false
		}
	}
	if uniform {
		k.Grid = []plan.Group{{Count: len(its) * bh, Iters: its[0]}}
		return
	}
	for _, n := range its {
		k.Grid = append(k.Grid, plan.Group{Count: 1, Iters: n})
	}
	k.GridRepeat = bh
}

// gpuAttnBody fills the per-block work shared by fa2 and fa3.
func gpuAttnBody(k *plan.Kernel, s GPUAttnShape, bm, bn int, e float64) {
	m, n, d := float64(bm), float64(bn), float64(s.Headdim)
	mblocks := gpuCeilDiv(s.Seqlen, bm)
	kv := n * d * e
	k.Loop = plan.Phase{
		// The m-blocks of one head are adjacent in launch order and read
		// the same K and V blocks.
		Loads:       []plan.Load{{Bytes: kv, Sharers: mblocks, Stride: 1}, {Bytes: kv, Sharers: mblocks, Stride: 1}},
		TensorFLOPs: 4 * m * n * d,
		MUFUOps:     m * n,
		FP32Ops:     4*m*n + m*d,
	}
	k.Prologue = plan.Phase{Loads: []plan.Load{{Bytes: m * d * e}}}
	k.Epilogue = plan.Phase{
		MUFUOps:    m,     // 1/rowsum
		FP32Ops:    m * d, // O / rowsum
		StoreBytes: m*d*2 + m*4,
	}
	b, h, kvh, S := float64(s.Batch), float64(s.Heads), float64(s.KVHeads), float64(s.Seqlen)
	k.UniqueReadBytes = b*h*S*d*e + 2*b*kvh*S*d*e
	k.FLOPs = s.flops()
}

func gpuFA2(s GPUAttnShape) plan.Kernel {
	// FA2 forward tilings (flash_fwd_launch_template.h, sm80): d ≤ 64:
	// 128×128, 4 warps; d ≤ 128: 128×64, 4 warps; d ≤ 256: 128×64, 8 warps.
	bm, bn, warps := 128, 128, 4
	switch {
	case s.Headdim > 128:
		bn, warps = 64, 8
	case s.Headdim > 64:
		bn = 64
	}
	e := float64(s.DType.Size())
	d := float64(s.Headdim)
	k := plan.Kernel{
		Name:          "flash_fwd_fa2",
		Threads:       32 * warps,
		RegsPerThread: 255,
		SmemBytes:     (bm + 2*bn) * s.Headdim * int(e),
		Stages:        2, // next K block issued before this block's P·V
		MMA:           plan.MMA{Family: plan.MMASync, DType: s.DType},
	}
	gpuAttnBody(&k, s, bm, bn, e)
	// One tile in flight (flash_fwd_kernel.h): the CTA waits for K before
	// it issues V (overlapping Q·Kᵀ), and for V before it issues the next
	// K (overlapping softmax and P·V).
	k.LoadsInFlight = float64(bn) * d * e
	// Shared-memory reads (FA4 §3.1.1 accounting, B §1.3): each warp
	// reads Q's rows and all of K and V through ldmatrix.
	n := float64(bn)
	k.Loop.SmemBytes = float64(bm)*d*e + float64(warps)*2*n*d*e
	gpuAttnGrid(&k, gpuAttnIters(s, bm, bn), s.Batch*s.Heads)
	return k
}

func gpuFA3(dev plan.Device, s GPUAttnShape) plan.Kernel {
	e := float64(s.DType.Size())
	// FA3 tilings (hopper/tile_size.h): Bm = 128 for two 64-row consumer
	// warpgroups; Bn = 128, or 80 for fp16/bf16 d = 256 to fit shared memory.
	bm, bn := 128, 128
	if s.Headdim > 128 && e == 2 {
		bn = 80
	}
	fam := plan.WGMMA
	if dev.MMAFamily == plan.TCGen05 {
		fam = plan.TCGen05
	}
	d := float64(s.Headdim)
	k := plan.Kernel{
		Name:            "flash_fwd_fa3",
		Threads:         384, // producer + 2 consumer warpgroups
		RegsPerThread:   168, // 24-32 producer, 240 consumer (setmaxnreg)
		SmemBytes:       (bm + 2*2*bn) * s.Headdim * int(e),
		Stages:          2,
		WarpSpecialized: true,
		PingPong:        true,
		Persistent:      true,
		MMA:             plan.MMA{Family: fam, DType: s.DType},
	}
	gpuAttnBody(&k, s, bm, bn, e)
	n := float64(bn)
	// Shared-memory reads: wgmma reads Q (each warpgroup its rows), and K
	// and V once per consumer warpgroup; P stays in registers. tcgen05's
	// 128-row MMAs read Q, K and V once per tile (FA4 §3.1.1: 3·M·N·d
	// bytes over 128 B/clk for M = N = d).
	k.Loop.SmemBytes = float64(bm)*d*e + 2*2*n*d*e
	if fam == plan.TCGen05 {
		k.Loop.SmemBytes = float64(bm)*d*e + 2*n*d*e
	}
	if e == 1 {
		// fp8 wgmma wants V k-major: transposed in shared memory.
		k.Loop.SmemBytes += 2 * n * d
	}
	// Tile scheduling as in the FA3 release the paper measured
	// (hopper/flash_fwd_launch_template.h): non-causal grids run on
	// persistent CTAs; causal grids launch one CTA per tile in m-block
	// order (later releases order causal tiles longest first).
	if s.Causal {
		k.Persistent = false
	}
	gpuAttnGrid(&k, gpuAttnIters(s, bm, bn), s.Batch*s.Heads)
	return k
}
