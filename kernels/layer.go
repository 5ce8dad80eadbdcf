package kernels

import (
	"fmt"

	"github.com/trnsim/trnsim/isa"
)

// llamaModel holds the published dimensions of a Llama 3 model.
type llamaModel struct {
	name                         string
	hidden, heads, kvHeads, hdim int
	intermediate, layers         int
}

// llamaModels returns the models the layer workload knows (Meta's Llama 3
// model cards / config.json: 8B hidden 4096, 32 heads, 8 KV heads, head
// dim 128, intermediate 14336, 32 layers; 70B hidden 8192, 64 heads, 8 KV
// heads, head dim 128, intermediate 28672, 80 layers; 3.1-405B hidden
// 16384, 128 heads, 8 KV heads, head dim 128, intermediate 53248, 126
// layers: docs/systems.md D5).
func llamaModels() []llamaModel {
	return []llamaModel{
		{name: "llama3-8b", hidden: 4096, heads: 32, kvHeads: 8, hdim: 128, intermediate: 14336, layers: 32},
		{name: "llama3-70b", hidden: 8192, heads: 64, kvHeads: 8, hdim: 128, intermediate: 28672, layers: 80},
		{name: "llama3.1-405b", hidden: 16384, heads: 128, kvHeads: 8, hdim: 128, intermediate: 53248, layers: 126},
	}
}

// layerKernels are the kernels a decoder layer is made of.
type layerKernels struct {
	matmul, attention, decode, rmsnorm, add, siluMul, rope *Kernel
}

func layerKernel(ks layerKernels) *Kernel {
	var names []string
	for _, m := range llamaModels() {
		names = append(names, m.name)
	}
	return &Kernel{
		Name: "layer",
		Doc:  "one Llama-style decoder layer (pre-norm attention + gated MLP) as its kernels; a full forward is this × the model's layers (32 for 8B, 80 for 70B, 126 for 405B)",
		Params: []Param{
			{Name: "model", Kind: EnumParam, Default: "llama3-8b", Allowed: names, Doc: "published model dimensions"},
			{Name: "phase", Kind: EnumParam, Default: "prefill", Allowed: []string{"prefill", "decode"}, Doc: "prefill: tokens per sequence; decode: one token per sequence against context"},
			{Name: "tokens", Kind: IntParam, Default: "4096", Doc: "prefill: tokens per sequence (causal attention over them)"},
			{Name: "batch", Kind: IntParam, Default: "1", Doc: "sequences"},
			{Name: "context", Kind: IntParam, Default: "8192", Max: 131072, Doc: "decode: KV-cache length"},
			{Name: "dtype", Kind: DTypeParam, Default: "bf16", Allowed: []string{"bf16", "fp16", "fp8e4m3"},
				Doc: "matmul and attention dtype; fp8 keeps norms and elementwise in bf16"},
		},
		Parts: func(p Params) ([]Part, error) { return layerParts(ks, p) },
		FLOPs: func(p Params) float64 {
			parts, err := layerParts(ks, p)
			if err != nil {
				return 0
			}
			f := 0.0
			for _, pt := range parts {
				f += float64(pt.Count) * pt.Params.Kernel.FLOPs(pt.Params)
			}
			return f
		},
	}
}

func modelByName(name string) (llamaModel, error) {
	for _, m := range llamaModels() {
		if m.name == name {
			return m, nil
		}
	}
	return llamaModel{}, fmt.Errorf("unknown model %q", name)
}

// layerParts lists the kernels of one decoder layer in execution order.
// Activations are [rows, hidden] with rows = batch·tokens (prefill) or
// batch (decode); each projection is a matmul with M = rows and weights
// [K, N]. Q, K and V come from one fused projection, gate and up from
// another; rope rotates the Q and K heads together. Each part is made from
// typed values (Kernel.Make), so it is validated exactly as a spec would be.
func layerParts(ks layerKernels, p Params) ([]Part, error) {
	m, err := modelByName(p.Str("model"))
	if err != nil {
		return nil, err
	}
	dt := p.DType("dtype")
	edt := dt // norms and elementwise
	if dt.IsFP8() {
		edt = isa.BF16
	}
	B := p.Int("batch")
	decode := p.Str("phase") == "decode"
	rows := B * p.Int("tokens")
	if decode {
		rows = B
	}
	var parts []Part
	var firstErr error
	add := func(label string, k *Kernel, args ...Arg) {
		pp, err := k.Make(args...)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("layer part %s: %w", label, err)
		}
		parts = append(parts, Part{Label: label, Params: pp, Count: 1})
	}
	H, I, hd := m.hidden, m.intermediate, m.hdim
	qkvN := (m.heads + 2*m.kvHeads) * hd
	norm := []Arg{IntArg("tokens", rows), IntArg("hidden", H), DTypeArg("dtype", edt)}
	mm := func(n, k int) []Arg {
		return []Arg{IntArg("M", rows), IntArg("N", n), IntArg("K", k), DTypeArg("dtype", dt)}
	}
	add("attn_norm", ks.rmsnorm, norm...)
	add("qkv_proj", ks.matmul, mm(qkvN, H)...)
	add("rope", ks.rope, IntArg("tokens", rows), IntArg("heads", m.heads+m.kvHeads), IntArg("headdim", hd), DTypeArg("dtype", edt))
	if decode {
		add("attention", ks.decode, IntArg("batch", B), IntArg("heads", m.heads), IntArg("kv_heads", m.kvHeads),
			IntArg("seqlen", p.Int("context")), IntArg("headdim", hd), DTypeArg("dtype", dt))
	} else {
		add("attention", ks.attention, IntArg("batch", B), IntArg("heads", m.heads), IntArg("kv_heads", m.kvHeads),
			IntArg("seqlen", p.Int("tokens")), IntArg("headdim", hd), BoolArg("causal", true), DTypeArg("dtype", dt))
	}
	add("o_proj", ks.matmul, mm(H, m.heads*hd)...)
	add("attn_residual", ks.add, norm...)
	add("mlp_norm", ks.rmsnorm, norm...)
	add("gate_up_proj", ks.matmul, mm(2*I, H)...)
	add("silu_mul", ks.siluMul, IntArg("tokens", rows), IntArg("hidden", I), DTypeArg("dtype", edt))
	add("down_proj", ks.matmul, mm(H, I)...)
	add("mlp_residual", ks.add, norm...)
	if firstErr != nil {
		return nil, firstErr
	}
	return parts, nil
}
