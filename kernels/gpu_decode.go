package kernels

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

// Decode attention on a GPU, FlashAttention-2's kvcache path: one query
// token per sequence; the query heads of one KV group are packed into the
// rows of one CTA (FA2's seqlen_q/ngroups swap), padded to the kernel's
// 64-row block. splitkv (Flash-Decoding) cuts the keys of each
// (batch, kv head) into splits processed by separate CTAs, then a combine
// kernel rescales and sums the partial outputs; nosplit runs one CTA per
// (batch, query head) over all keys with FA2's forward kernel (FA ≤ 2.1,
// no GQA packing), as Flash-Decoding's baseline ran.

// GPUDecodeShape is one decode-attention workload.
type GPUDecodeShape struct {
	Batch, Heads, KVHeads, Seqlen, Headdim int
	DType                                  isa.DType
}

// decode block sizes (FA2 run_mha_fwd_splitkv_dispatch: kBlockM = 64;
// kBlockN = 256 for d ≤ 64, 128 for d ≤ 128, else 64; 4 warps).
func gpuDecodeBlocks(d int) (bm, bn int) {
	switch {
	case d <= 64:
		return 64, 256
	case d <= 128:
		return 64, 128
	}
	return 64, 64
}

// decodeGPU is decode_attention's GPU description (GPUDecodePlans).
func decodeGPU(dev plan.Device, p Params) ([]GPUPlan, error) {
	s := GPUDecodeShape{
		Batch: p.Int("batch"), Heads: p.Int("heads"), KVHeads: p.Int("kv_heads"),
		Seqlen: p.Int("seqlen"), Headdim: p.Int("headdim"), DType: p.DType("dtype"),
	}
	return GPUDecodePlans(dev, s, p.Str("variant"), p.Int("splits"))
}

// GPUDecodePlans returns the candidate plans of variant ("splitkv",
// "nosplit" or "best") with splits key splits (0: FA2's heuristic, at
// least 2). splitkv and nosplit are one plan each; best is splitkv
// followed by nosplit (package tune keeps the faster, as a library's
// dispatch would), or splitkv alone when splits > 1 asks for a split.
func GPUDecodePlans(dev plan.Device, s GPUDecodeShape, variant string, splits int) ([]GPUPlan, error) {
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if s.Batch <= 0 || s.Heads <= 0 || s.Seqlen <= 0 || s.Headdim <= 0 || s.KVHeads <= 0 {
		return nil, fmt.Errorf("decode_attention: batch, heads, kv_heads, seqlen and headdim must be positive")
	}
	if s.Heads%s.KVHeads != 0 {
		return nil, fmt.Errorf("decode_attention: heads=%d is not a multiple of kv_heads=%d", s.Heads, s.KVHeads)
	}
	if s.Headdim > 256 || s.Headdim%8 != 0 {
		return nil, fmt.Errorf("decode_attention: headdim=%d on a GPU: supported are multiples of 8 up to 256", s.Headdim)
	}
	if s.DType != isa.BF16 && s.DType != isa.FP16 {
		return nil, unsupported("decode_attention dtype %s on a GPU: the kvcache kernels take bf16 or fp16", s.DType)
	}
	if s.Heads/s.KVHeads > 64 {
		return nil, fmt.Errorf("decode_attention: %d query heads per kv head; at most 64 fit one CTA", s.Heads/s.KVHeads)
	}
	nosplit := func() GPUPlan {
		return GPUPlan{Kernels: []plan.Kernel{gpuDecodeNoSplit(s)}, Variant: "nosplit", Detail: "nosplit splits 1"}
	}
	switch variant {
	case "nosplit":
		if splits > 1 {
			return nil, fmt.Errorf("decode_attention: variant nosplit with splits=%d (want 0 or 1)", splits)
		}
		return []GPUPlan{nosplit()}, nil
	case "splitkv", "best", "":
	default:
		return nil, fmt.Errorf("decode_attention variant %q (allowed: best, splitkv, nosplit)", variant)
	}
	_, bn := gpuDecodeBlocks(s.Headdim)
	nblocks := gpuCeilDiv(s.Seqlen, bn)
	n := splits
	if n > nblocks {
		return nil, fmt.Errorf("decode_attention: splits=%d exceeds the %d key blocks of %d keys", splits, nblocks, bn)
	}
	if n == 0 {
		// FA2's heuristic, at least two splits: the split kernel always
		// ends with its combine step (a single split is the nosplit
		// variant).
		occ, _ := plan.Occupancy(dev, gpuDecodeKernel(dev, s, 2))
		n = gpuDecodeSplits(s.Batch*s.KVHeads, dev.SMs*occ, nblocks, 128)
		n = min(max(n, 2), nblocks)
	}
	split := GPUPlan{Kernels: gpuDecodeSplit(dev, s, n), Variant: "splitkv", Detail: fmt.Sprintf("splitkv splits %d", n)}
	if variant == "splitkv" || splits > 1 {
		return []GPUPlan{split}, nil
	}
	return []GPUPlan{split, nosplit()}, nil
}

// gpuDecodeNoSplit is decoding with FlashAttention-2's forward kernel
// (FA ≤ 2.1, the baseline Flash-Decoding was measured against): one CTA
// per (batch, query head) whose 128-row query block holds one valid row,
// streaming all keys; the query heads of a KV group read the same K and V,
// batch-many CTAs apart in launch order (grid m-block, batch, head).
func gpuDecodeNoSplit(s GPUDecodeShape) plan.Kernel {
	a := GPUAttnShape{Batch: s.Batch, Heads: s.Heads, KVHeads: s.KVHeads, Seqlen: s.Seqlen, Headdim: s.Headdim, DType: s.DType}
	k := gpuFA2(a)
	k.Name = "flash_fwd_decode"
	// One query row: the prologue loads it, the epilogue writes it.
	d, e := float64(s.Headdim), float64(s.DType.Size())
	k.Prologue = plan.Phase{Loads: []plan.Load{{Bytes: d * e}}}
	k.Epilogue.StoreBytes = d*e + 4
	for i := range k.Loop.Loads {
		k.Loop.Loads[i].Sharers = s.Heads / s.KVHeads
		k.Loop.Loads[i].Stride = s.Batch
	}
	k.Grid = []plan.Group{{Count: s.Batch * s.Heads, Iters: k.Grid[0].Iters}}
	k.GridRepeat = 0
	k.UniqueReadBytes = float64(s.Batch) * (float64(s.Heads)*d*e + 2*float64(s.KVHeads)*float64(s.Seqlen)*d*e)
	k.FLOPs = 4 * float64(s.Batch) * float64(s.Heads) * float64(s.Seqlen) * d
	return k
}

// gpuDecodeSplits is FA2's num_splits_heuristic: no split when the
// (batch, kv head) CTAs nearly fill the GPU's slots; else the fewest
// splits whose wave efficiency (waves / ⌈waves⌉) is within 85% of the
// best, among split counts that change the blocks per split.
func gpuDecodeSplits(ctas, slots, nblocks, maxSplits int) int {
	if float64(ctas) >= 0.8*float64(slots) {
		return 1
	}
	maxSplits = min(maxSplits, slots, nblocks)
	eligible := func(n int) bool {
		return n == 1 || gpuCeilDiv(nblocks, n) != gpuCeilDiv(nblocks, n-1)
	}
	eff := make([]float64, maxSplits+1)
	best := 0.0
	for n := 1; n <= maxSplits; n++ {
		if !eligible(n) {
			continue
		}
		w := float64(ctas*n) / float64(slots)
		eff[n] = w / math.Ceil(w)
		best = math.Max(best, eff[n])
	}
	for n := 1; n <= maxSplits; n++ {
		if eligible(n) && eff[n] >= 0.85*best {
			return n
		}
	}
	return 1
}

// gpuDecodeSplit is the split kernel plus, for more than one split, the
// combine kernel.
func gpuDecodeSplit(dev plan.Device, s GPUDecodeShape, splits int) []plan.Kernel {
	ks := []plan.Kernel{gpuDecodeKernel(dev, s, splits)}
	if splits > 1 {
		ks = append(ks, gpuDecodeCombine(s, splits))
	}
	return ks
}

func gpuDecodeKernel(dev plan.Device, s GPUDecodeShape, splits int) plan.Kernel {
	bm, bn := gpuDecodeBlocks(s.Headdim)
	e := float64(s.DType.Size())
	d := float64(s.Headdim)
	g := float64(s.Heads / s.KVHeads)
	m, n := float64(bm), float64(bn)
	perSplit := gpuCeilDiv(gpuCeilDiv(s.Seqlen, bn), splits)
	fam := plan.MMASync
	if !dev.MMASync {
		fam = dev.MMAFamily
	}
	k := plan.Kernel{
		Name:          "flash_fwd_splitkv",
		FLOPs:         4 * float64(s.Batch) * float64(s.Heads) * float64(s.Seqlen) * d,
		Threads:       128,
		RegsPerThread: 255,
		SmemBytes:     (bm + 2*bn) * s.Headdim * int(e),
		Stages:        2,
		MMA:           plan.MMA{Family: fam, DType: s.DType},
		Prologue:      plan.Phase{Loads: []plan.Load{{Bytes: g * d * e}}},
		// The padded 64-row block runs on the tensor cores and through
		// the softmax whole.
		Loop: plan.Phase{
			Loads:       []plan.Load{{Bytes: n * d * e}, {Bytes: n * d * e}},
			TensorFLOPs: 4 * m * n * d,
			MUFUOps:     m * n,
			FP32Ops:     4*m*n + m*d,
			SmemBytes:   m*d*e + 4*2*n*d*e, // ldmatrix reads: Q, and K and V by each of 4 warps
		},
		UniqueReadBytes: float64(s.Batch) * (float64(s.Heads)*d*e + 2*float64(s.KVHeads)*float64(s.Seqlen)*d*e),
		// FA2's key loop keeps one K or V tile in flight (see gpuFA2).
		LoadsInFlight: n * d * e,
	}
	if splits > 1 {
		k.Epilogue = plan.Phase{FP32Ops: g * d, StoreBytes: g * (d + 1) * 4} // fp32 partial O and log-sum-exp
	} else {
		k.Epilogue = plan.Phase{MUFUOps: g, FP32Ops: g * d, StoreBytes: g * d * 2}
	}
	k.Grid = []plan.Group{{Count: s.Batch * s.KVHeads * splits, Iters: perSplit}}
	return k
}

// gpuDecodeCombine reads every split's partial output and log-sum-exp and
// writes the final rows: one 128-thread CTA per 16 (batch, head) rows.
func gpuDecodeCombine(s GPUDecodeShape, splits int) plan.Kernel {
	const rows = 16
	d := float64(s.Headdim)
	sp := float64(splits)
	return plan.Kernel{
		Name:    "flash_fwd_combine",
		Threads: 128, RegsPerThread: 64, Stages: 1,
		Prologue: plan.Phase{
			Loads:   []plan.Load{{Bytes: rows * sp * (d + 1) * 4}},
			MUFUOps: rows * sp,
			FP32Ops: rows * sp * (d + 4),
		},
		Epilogue: plan.Phase{StoreBytes: rows * d * 2},
		Grid:     []plan.Group{{Count: gpuCeilDiv(s.Batch*s.Heads, rows)}},
	}
}
