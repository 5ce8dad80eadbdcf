package kernels

import (
	"fmt"

	"github.com/trnsim/trnsim/sim/gpu"
)

// GPUPlan is how a workload runs on a GPU: its kernels, the variant that
// was resolved (for "best"), and a one-line description of the choices
// made (tile shape, split-K, key splits).
type GPUPlan struct {
	Kernels []gpu.Kernel
	Variant string
	Detail  string
}

// GPUKernels returns the GPU kernels of workload p on dev. See GPUPlanFor.
func GPUKernels(dev gpu.Config, p Params) ([]gpu.Kernel, error) {
	plan, err := GPUPlanFor(dev, p)
	if err != nil {
		return nil, err
	}
	return plan.Kernels, nil
}

// GPUPlanFor returns the GPU plan of workload p on dev, dispatching on the
// kernel's name. Composite workloads (layer) are an error: run their
// parts.
func GPUPlanFor(dev gpu.Config, p Params) (GPUPlan, error) {
	k := p.Kernel
	if k == nil {
		return GPUPlan{}, fmt.Errorf("GPU plan: empty workload")
	}
	if k.Parts != nil {
		return GPUPlan{}, fmt.Errorf("kernel %s is composite: run its parts on %s", k.Name, dev.Name)
	}
	str := func(name, def string) string {
		if !p.Has(name) {
			return def
		}
		return p.Str(name)
	}
	num := func(name string, def int) int {
		if !p.Has(name) {
			return def
		}
		return p.Int(name)
	}
	switch k.Name {
	case "matmul":
		v := str("variant", "best")
		if v != "best" && v != "" {
			return GPUPlan{}, unsupported("matmul variant %q is a NeuronCore tutorial step; on GPU %s use variant=best", v, dev.Name)
		}
		s := GPUGEMMShape{M: p.Int("M"), N: p.Int("N"), K: p.Int("K"), Batch: num("batch", 1), DType: p.Str("dtype")}
		ks, ch, err := GPUGEMMKernels(dev, s)
		if err != nil {
			return GPUPlan{}, err
		}
		return GPUPlan{Kernels: ks, Variant: "best", Detail: fmt.Sprintf("tile %s split-k %d", ch.Tile, ch.SplitK)}, nil
	case "attention":
		s := GPUAttnShape{
			Batch: num("batch", 1), Heads: p.Int("heads"), KVHeads: num("kv_heads", 0),
			Seqlen: p.Int("seqlen"), Headdim: p.Int("headdim"), DType: p.Str("dtype"),
		}
		if p.Has("causal") {
			s.Causal = p.Bool("causal")
		}
		ks, v, err := GPUAttentionKernels(dev, s, str("variant", "best"))
		if err != nil {
			return GPUPlan{}, err
		}
		return GPUPlan{Kernels: ks, Variant: v, Detail: v}, nil
	case "decode_attention":
		s := GPUDecodeShape{
			Batch: num("batch", 1), Heads: p.Int("heads"), KVHeads: num("kv_heads", 0),
			Seqlen: p.Int("seqlen"), Headdim: p.Int("headdim"), DType: p.Str("dtype"),
		}
		ks, v, n, err := GPUDecodeKernels(dev, s, str("variant", "best"), num("splits", 0))
		if err != nil {
			return GPUPlan{}, err
		}
		return GPUPlan{Kernels: ks, Variant: v, Detail: fmt.Sprintf("%s splits %d", v, n)}, nil
	}
	ks, err := gpuLayerKernel(p)
	if err != nil {
		return GPUPlan{}, err
	}
	return GPUPlan{Kernels: ks, Variant: str("variant", ""), Detail: "memory-bound"}, nil
}
