package kernels

import (
	"fmt"
	"strconv"
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
// heads, head dim 128, intermediate 28672, 80 layers).
func llamaModels() []llamaModel {
	return []llamaModel{
		{name: "llama3-8b", hidden: 4096, heads: 32, kvHeads: 8, hdim: 128, intermediate: 14336, layers: 32},
		{name: "llama3-70b", hidden: 8192, heads: 64, kvHeads: 8, hdim: 128, intermediate: 28672, layers: 80},
	}
}

func layerKernel() *Kernel {
	var names []string
	for _, m := range llamaModels() {
		names = append(names, m.name)
	}
	return &Kernel{
		Name: "layer",
		Doc:  "one Llama-style decoder layer (pre-norm attention + gated MLP) as its kernels; a full forward is this × the model's layers (32 for 8B, 80 for 70B)",
		Params: []Param{
			{Name: "model", Kind: EnumParam, Default: "llama3-8b", Allowed: names, Doc: "published model dimensions"},
			{Name: "phase", Kind: EnumParam, Default: "prefill", Allowed: []string{"prefill", "decode"}, Doc: "prefill: tokens per sequence; decode: one token per sequence against context"},
			{Name: "tokens", Kind: IntParam, Default: "4096", Doc: "prefill: tokens per sequence (causal attention over them)"},
			{Name: "batch", Kind: IntParam, Default: "1", Doc: "sequences"},
			{Name: "context", Kind: IntParam, Default: "8192", Max: 131072, Doc: "decode: KV-cache length"},
			{Name: "dtype", Kind: DTypeParam, Default: "bf16", Allowed: []string{"bf16", "fp16", "fp8e4m3"},
				Doc: "matmul and attention dtype; fp8 keeps norms and elementwise in bf16"},
		},
		Parts: layerParts,
		FLOPs: func(p Params) float64 {
			parts, err := layerParts(p)
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
// another; rope rotates the Q and K heads together.
func layerParts(p Params) ([]Part, error) {
	m, err := modelByName(p.Str("model"))
	if err != nil {
		return nil, err
	}
	dt := p.Str("dtype")
	edt := dt // norms and elementwise
	if p.DType("dtype").IsFP8() {
		edt = "bf16"
	}
	B := p.Int("batch")
	decode := p.Str("phase") == "decode"
	rows := B * p.Int("tokens")
	if decode {
		rows = B
	}
	ks := All()
	var parts []Part
	var firstErr error
	add := func(label, spec string) {
		pp, err := Parse(ks, spec)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("layer part %s: %w", label, err)
		}
		parts = append(parts, Part{Label: label, Params: pp, Count: 1})
	}
	itoa := strconv.Itoa
	H, I, hd := m.hidden, m.intermediate, m.hdim
	qkvN := (m.heads + 2*m.kvHeads) * hd
	norm := "rmsnorm:tokens=" + itoa(rows) + ",hidden=" + itoa(H) + ",dtype=" + edt
	residual := "add:tokens=" + itoa(rows) + ",hidden=" + itoa(H) + ",dtype=" + edt
	mm := func(n, k int) string {
		return "matmul:M=" + itoa(rows) + ",N=" + itoa(n) + ",K=" + itoa(k) + ",dtype=" + dt
	}
	add("attn_norm", norm)
	add("qkv_proj", mm(qkvN, H))
	add("rope", "rope:tokens="+itoa(rows)+",heads="+itoa(m.heads+m.kvHeads)+",headdim="+itoa(hd)+",dtype="+edt)
	if decode {
		add("attention", "decode_attention:batch="+itoa(B)+",heads="+itoa(m.heads)+",kv_heads="+itoa(m.kvHeads)+
			",seqlen="+itoa(p.Int("context"))+",headdim="+itoa(hd)+",dtype="+dt)
	} else {
		add("attention", "attention:batch="+itoa(B)+",heads="+itoa(m.heads)+",kv_heads="+itoa(m.kvHeads)+
			",seqlen="+itoa(p.Int("tokens"))+",headdim="+itoa(hd)+",causal=true,dtype="+dt)
	}
	add("o_proj", mm(H, m.heads*hd))
	add("attn_residual", residual)
	add("mlp_norm", norm)
	add("gate_up_proj", mm(2*I, H))
	add("silu_mul", "silu_mul:tokens="+itoa(rows)+",hidden="+itoa(I)+",dtype="+edt)
	add("down_proj", mm(H, I))
	add("mlp_residual", residual)
	if firstErr != nil {
		return nil, firstErr
	}
	return parts, nil
}
