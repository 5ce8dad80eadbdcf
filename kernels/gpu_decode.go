package kernels

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/sim/gpu"
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
	DType                                  string
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

// GPUDecodeKernels returns the kernels of variant ("splitkv", "nosplit" or
// "best", the faster of the two under the model) with splits key splits
// (0: FA2's heuristic, at least 2), the variant resolved and the splits
// used.
func GPUDecodeKernels(dev gpu.Config, s GPUDecodeShape, variant string, splits int) ([]gpu.Kernel, string, int, error) {
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if s.Batch <= 0 || s.Heads <= 0 || s.Seqlen <= 0 || s.Headdim <= 0 || s.KVHeads <= 0 {
		return nil, "", 0, fmt.Errorf("decode_attention: batch, heads, kv_heads, seqlen and headdim must be positive")
	}
	if s.Heads%s.KVHeads != 0 {
		return nil, "", 0, fmt.Errorf("decode_attention: heads=%d is not a multiple of kv_heads=%d", s.Heads, s.KVHeads)
	}
	if s.Headdim > 256 || s.Headdim%8 != 0 {
		return nil, "", 0, fmt.Errorf("decode_attention: headdim=%d on a GPU: supported are multiples of 8 up to 256", s.Headdim)
	}
	switch s.DType {
	case "bf16", "fp16":
	default:
		return nil, "", 0, unsupported("decode_attention dtype %s on a GPU: the kvcache kernels take bf16 or fp16", s.DType)
	}
	if s.Heads/s.KVHeads > 64 {
		return nil, "", 0, fmt.Errorf("decode_attention: %d query heads per kv head; at most 64 fit one CTA", s.Heads/s.KVHeads)
	}
	_, bn := gpuDecodeBlocks(s.Headdim)
	nblocks := gpuCeilDiv(s.Seqlen, bn)
	switch variant {
	case "nosplit":
		if splits > 1 {
			return nil, "", 0, fmt.Errorf("decode_attention: variant nosplit with splits=%d (want 0 or 1)", splits)
		}
		return []gpu.Kernel{gpuDecodeNoSplit(s)}, variant, 1, nil
	case "splitkv":
	case "best", "":
		// The faster of the two under the model, as a library's dispatch
		// would pick.
		ks, _, n, err := GPUDecodeKernels(dev, s, "splitkv", splits)
		if err != nil {
			return nil, "", 0, err
		}
		if splits > 1 {
			return ks, "splitkv", n, nil
		}
		ns := []gpu.Kernel{gpuDecodeNoSplit(s)}
		a, err1 := gpu.Time(dev, ks)
		b, err2 := gpu.Time(dev, ns)
		if err1 == nil && err2 == nil && b < a {
			return ns, "nosplit", 1, nil
		}
		return ks, "splitkv", n, nil
	default:
		return nil, "", 0, fmt.Errorf("decode_attention variant %q (allowed: best, splitkv, nosplit)", variant)
	}
	if splits > 0 {
		if splits > nblocks {
			return nil, "", 0, fmt.Errorf("decode_attention: splits=%d exceeds the %d key blocks of %d keys", splits, nblocks, bn)
		}
		return gpuDecodeSplit(dev, s, splits), variant, splits, nil
	}
	// FA2's heuristic, at least two splits: the split kernel always ends
	// with its combine step (a single split is the nosplit variant).
	occ, _ := gpu.Occupancy(dev, gpuDecodeKernel(dev, s, 2))
	n := gpuDecodeSplits(s.Batch*s.KVHeads, dev.SMs*occ, nblocks, 128)
	n = min(max(n, 2), nblocks)
	return gpuDecodeSplit(dev, s, n), variant, n, nil
}

// gpuDecodeNoSplit is decoding with FlashAttention-2's forward kernel
// (FA ≤ 2.1, the baseline Flash-Decoding was measured against): one CTA
// per (batch, query head) whose 128-row query block holds one valid row,
// streaming all keys; the query heads of a KV group read the same K and V,
// batch-many CTAs apart in launch order (grid m-block, batch, head).
func gpuDecodeNoSplit(s GPUDecodeShape) gpu.Kernel {
	a := GPUAttnShape{Batch: s.Batch, Heads: s.Heads, KVHeads: s.KVHeads, Seqlen: s.Seqlen, Headdim: s.Headdim, DType: s.DType}
	k := gpuFA2(a)
	k.Name = "flash_fwd_decode"
	// One query row: the prologue loads it, the epilogue writes it.
	d, e := float64(s.Headdim), float64(gpuDTypeSize(s.DType))
	k.Prologue = gpu.Phase{Loads: []gpu.Load{{Bytes: d * e}}}
	k.Epilogue.StoreBytes = d*e + 4
	for i := range k.Loop.Loads {
		k.Loop.Loads[i].Sharers = s.Heads / s.KVHeads
		k.Loop.Loads[i].Stride = s.Batch
	}
	k.Grid = []gpu.Group{{Count: s.Batch * s.Heads, Iters: k.Grid[0].Iters}}
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
func gpuDecodeSplit(dev gpu.Config, s GPUDecodeShape, splits int) []gpu.Kernel {
	ks := []gpu.Kernel{gpuDecodeKernel(dev, s, splits)}
	if splits > 1 {
		ks = append(ks, gpuDecodeCombine(s, splits))
	}
	return ks
}

func gpuDecodeKernel(dev gpu.Config, s GPUDecodeShape, splits int) gpu.Kernel {
	bm, bn := gpuDecodeBlocks(s.Headdim)
	e := float64(gpuDTypeSize(s.DType))
	d := float64(s.Headdim)
	g := float64(s.Heads / s.KVHeads)
	m, n := float64(bm), float64(bn)
	perSplit := gpuCeilDiv(gpuCeilDiv(s.Seqlen, bn), splits)
	fam := gpu.MMASync
	if dev.MMASyncFraction <= 0 {
		fam = dev.MMAFamily
	}
	k := gpu.Kernel{
		Name:          "flash_fwd_splitkv",
		FLOPs:         4 * float64(s.Batch) * float64(s.Heads) * float64(s.Seqlen) * d,
		Threads:       128,
		RegsPerThread: 255,
		SmemBytes:     (bm + 2*bn) * s.Headdim * int(e),
		Stages:        2,
		MMA:           gpu.MMA{Family: fam, DType: s.DType},
		Prologue:      gpu.Phase{Loads: []gpu.Load{{Bytes: g * d * e}}},
		// The padded 64-row block runs on the tensor cores and through
		// the softmax whole.
		Loop: gpu.Phase{
			Loads:       []gpu.Load{{Bytes: n * d * e}, {Bytes: n * d * e}},
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
		k.Epilogue = gpu.Phase{FP32Ops: g * d, StoreBytes: g * (d + 1) * 4} // fp32 partial O and log-sum-exp
	} else {
		k.Epilogue = gpu.Phase{MUFUOps: g, FP32Ops: g * d, StoreBytes: g * d * 2}
	}
	k.Grid = []gpu.Group{{Count: s.Batch * s.KVHeads * splits, Iters: perSplit}}
	return k
}

// gpuDecodeCombine reads every split's partial output and log-sum-exp and
// writes the final rows: one 128-thread CTA per 16 (batch, head) rows.
func gpuDecodeCombine(s GPUDecodeShape, splits int) gpu.Kernel {
	const rows = 16
	d := float64(s.Headdim)
	sp := float64(splits)
	return gpu.Kernel{
		Name:    "flash_fwd_combine",
		Threads: 128, RegsPerThread: 64, Stages: 1,
		Prologue: gpu.Phase{
			Loads:   []gpu.Load{{Bytes: rows * sp * (d + 1) * 4}},
			MUFUOps: rows * sp,
			FP32Ops: rows * sp * (d + 4),
		},
		Epilogue: gpu.Phase{StoreBytes: rows * d * 2},
		Grid:     []gpu.Group{{Count: gpuCeilDiv(s.Batch*s.Heads, rows)}},
	}
}
