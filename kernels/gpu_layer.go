package kernels

import (
	"fmt"

	"github.com/trnsim/trnsim/sim/gpu"
)

// The memory-bound layer kernels on a GPU: elementwise kernels (silu_mul,
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
func GPUElementwise(name string, n, e, inputs int, fp32, mufu float64) gpu.Kernel {
	per := float64(gpuElemPerCTA)
	ld := make([]gpu.Load, inputs)
	for i := range ld {
		ld[i] = gpu.Load{Bytes: per * float64(e)}
	}
	return gpu.Kernel{
		Name:    name,
		Threads: 256, RegsPerThread: 32, Stages: 1,
		Prologue: gpu.Phase{Loads: ld, FP32Ops: per * fp32, MUFUOps: per * mufu},
		Epilogue: gpu.Phase{StoreBytes: per * float64(e)},
		Grid:     []gpu.Group{{Count: gpuCeilDiv(n, gpuElemPerCTA)}},
	}
}

// GPURowKernel describes a row-wise kernel (norm, softmax): rows CTAs,
// each loading a row of cols elements of e bytes (plus `shared` per-column
// parameter vectors every CTA reads, e.g. RMSNorm's weight), doing fp32 and
// mufu ops per element and rowMufu per row, and storing the row.
func GPURowKernel(name string, rows, cols, e, shared int, fp32, mufu, rowMufu float64) gpu.Kernel {
	c := float64(cols)
	threads := min(1024, max(32, (cols/8+31)/32*32))
	ld := []gpu.Load{{Bytes: c * float64(e)}}
	for i := 0; i < shared; i++ {
		ld = append(ld, gpu.Load{Bytes: c * float64(e), Sharers: rows, Stride: 1})
	}
	return gpu.Kernel{
		Name:    name,
		Threads: threads, RegsPerThread: 32, Stages: 1,
		Prologue: gpu.Phase{
			Loads:   ld,
			FP32Ops: c * fp32,
			MUFUOps: c*mufu + rowMufu,
			// Block reduction through shared memory: one fp32 per warp.
			SmemBytes: float64(threads/32) * 8,
		},
		Epilogue: gpu.Phase{StoreBytes: c * float64(e)},
		Grid:     []gpu.Group{{Count: rows}},
	}
}

// gpuLayerKernel returns the GPU kernel of a memory-bound layer kernel.
func gpuLayerKernel(p Params) ([]gpu.Kernel, error) {
	name := p.Kernel.Name
	e := p.DType("dtype").Size()
	var k gpu.Kernel
	switch name {
	case "silu_mul":
		n := p.Int("tokens") * p.Int("hidden")
		k = GPUElementwise(name, n, e, 2, 4, 2) // exp and reciprocal on MUFU
	case "gelu":
		n := p.Int("tokens") * p.Int("hidden")
		k = GPUElementwise(name, n, e, 1, 7, 1) // tanh on MUFU
	case "add":
		n := p.Int("tokens") * p.Int("hidden")
		k = GPUElementwise(name, n, e, 2, 1, 0)
	case "rmsnorm":
		k = GPURowKernel(name, p.Int("tokens"), p.Int("hidden"), e, 1, 4, 0, 1)
	case "layernorm":
		k = GPURowKernel(name, p.Int("tokens"), p.Int("hidden"), e, 2, 7, 0, 1)
	case "softmax":
		k = GPURowKernel(name, p.Int("rows"), p.Int("cols"), e, 0, 4, 1, 1)
	case "rope":
		k = gpuRope(p.Int("tokens"), p.Int("heads"), p.Int("headdim"), e)
	default:
		return nil, fmt.Errorf("kernel %s has no GPU description", name)
	}
	k.FLOPs = p.Kernel.FLOPs(p)
	return []gpu.Kernel{k}, nil
}

// gpuRope: one CTA per token rotates all heads with that token's cos and
// sin rows (read once, reused across heads from registers).
func gpuRope(tokens, heads, d, e int) gpu.Kernel {
	x := float64(heads * d * e)
	cs := float64(d / 2 * e)
	return gpu.Kernel{
		Name:    "rope",
		Threads: min(1024, max(32, (heads*d/8+31)/32*32)), RegsPerThread: 32, Stages: 1,
		Prologue: gpu.Phase{
			Loads:   []gpu.Load{{Bytes: x}, {Bytes: cs}, {Bytes: cs}},
			FP32Ops: float64(heads*d) * 3,
		},
		Epilogue: gpu.Phase{StoreBytes: x},
		Grid:     []gpu.Group{{Count: tokens}},
	}
}
