package kernels

import "github.com/trnsim/trnsim/sim/gpu/plan"

// The memory-bound kernels on a GPU (the GPU descriptions of rmsnorm,
// layernorm, softmax, silu_mul, gelu, add and rope use these): elementwise kernels (silu_mul,
// gelu, add) as grid-stride CTAs of 256 threads moving 16-byte vectors,
// and row kernels (rmsnorm, layernorm, softmax) with one CTA per row that
// loads the row once, reduces it in registers and shared memory, and
// writes it. Their time is the HBM and L2 traffic at the bandwidth the
// model allows, plus launch and latency.

// gpuElemPerCTA is how many elements one elementwise CTA handles: 256
// threads × 8 elements (one 16-byte bf16 vector each).
const gpuElemPerCTA = 2048

// GPUElementwise describes an elementwise kernel over n elements of e
// bytes with `inputs` input tensors, one output, and per element fp32
// FP32-pipe ops and mufu special-function ops.
func GPUElementwise(name string, n, e, inputs int, fp32, mufu float64) plan.Kernel {
	per := float64(gpuElemPerCTA)
	ld := make([]plan.Load, inputs)
	for i := range ld {
		ld[i] = plan.Load{Bytes: per * float64(e)}
	}
	return plan.Kernel{
		Name:    name,
		Threads: 256, RegsPerThread: 32, Stages: 1,
		Prologue: plan.Phase{Loads: ld, FP32Ops: per * fp32, MUFUOps: per * mufu},
		Epilogue: plan.Phase{StoreBytes: per * float64(e)},
		Grid:     []plan.Group{{Count: gpuCeilDiv(n, gpuElemPerCTA)}},
	}
}

// GPURowKernel describes a row-wise kernel (norm, softmax): rows CTAs,
// each loading a row of cols elements of e bytes (plus `shared` per-column
// parameter vectors every CTA reads, e.g. RMSNorm's weight), doing fp32 and
// mufu ops per element and rowMufu per row, and storing the row.
func GPURowKernel(name string, rows, cols, e, shared int, fp32, mufu, rowMufu float64) plan.Kernel {
	c := float64(cols)
	threads := min(1024, max(32, (cols/8+31)/32*32))
	ld := []plan.Load{{Bytes: c * float64(e)}}
	for i := 0; i < shared; i++ {
		ld = append(ld, plan.Load{Bytes: c * float64(e), Sharers: rows, Stride: 1})
	}
	return plan.Kernel{
		Name:    name,
		Threads: threads, RegsPerThread: 32, Stages: 1,
		Prologue: plan.Phase{
			Loads:   ld,
			FP32Ops: c * fp32,
			MUFUOps: c*mufu + rowMufu,
			// Block reduction through shared memory: one fp32 per warp.
			SmemBytes: float64(threads/32) * 8,
		},
		Epilogue: plan.Phase{StoreBytes: c * float64(e)},
		Grid:     []plan.Group{{Count: rows}},
	}
}

// memoryBoundPlan is the single GPU plan of a memory-bound kernel k
// running workload p.
func memoryBoundPlan(p Params, k plan.Kernel) []GPUPlan {
	k.FLOPs = p.Kernel.FLOPs(p)
	v := ""
	if p.Has("variant") {
		v = p.Str("variant")
	}
	return []GPUPlan{{Kernels: []plan.Kernel{k}, Variant: v, Detail: "memory-bound"}}
}
