package kernels

import (
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
)

func TestLayerParts(t *testing.T) {
	type part struct{ label, spec string }
	tests := []struct {
		spec string
		want []part
	}{
		{
			// Llama 3 8B: hidden 4096, 32 heads, 8 KV heads, head dim 128,
			// intermediate 14336. QKV: (32 + 2·8)·128 = 6144 columns.
			"layer:model=llama3-8b,phase=prefill,tokens=4096",
			[]part{
				{"attn_norm", "rmsnorm:tokens=4096,hidden=4096,dtype=bf16"},
				{"qkv_proj", "matmul:M=4096,N=6144,K=4096,"},
				{"rope", "rope:tokens=4096,heads=40,headdim=128,dtype=bf16"},
				{"attention", "attention:batch=1,heads=32,kv_heads=8,seqlen=4096,headdim=128,causal=true,dtype=bf16,"},
				{"o_proj", "matmul:M=4096,N=4096,K=4096,"},
				{"attn_residual", "add:tokens=4096,hidden=4096,dtype=bf16"},
				{"mlp_norm", "rmsnorm:tokens=4096,hidden=4096,dtype=bf16"},
				{"gate_up_proj", "matmul:M=4096,N=28672,K=4096,"},
				{"silu_mul", "silu_mul:tokens=4096,hidden=14336,dtype=bf16"},
				{"down_proj", "matmul:M=4096,N=4096,K=14336,"},
				{"mlp_residual", "add:tokens=4096,hidden=4096,dtype=bf16"},
			},
		},
		{
			// Llama 3 70B decode: one token per sequence, so every
			// projection has M = batch; QKV (64 + 16)·128 = 10240.
			"layer:model=llama3-70b,phase=decode,batch=64,context=32768,dtype=fp8e4m3",
			[]part{
				{"attn_norm", "rmsnorm:tokens=64,hidden=8192,dtype=bf16"},
				{"qkv_proj", "matmul:M=64,N=10240,K=8192,"},
				{"rope", "rope:tokens=64,heads=72,headdim=128,dtype=bf16"},
				{"attention", "decode_attention:batch=64,heads=64,kv_heads=8,seqlen=32768,headdim=128,dtype=fp8e4m3,"},
				{"o_proj", "matmul:M=64,N=8192,K=8192,"},
				{"attn_residual", "add:tokens=64,hidden=8192,dtype=bf16"},
				{"mlp_norm", "rmsnorm:tokens=64,hidden=8192,dtype=bf16"},
				{"gate_up_proj", "matmul:M=64,N=57344,K=8192,"},
				{"silu_mul", "silu_mul:tokens=64,hidden=28672,dtype=bf16"},
				{"down_proj", "matmul:M=64,N=8192,K=28672,"},
				{"mlp_residual", "add:tokens=64,hidden=8192,dtype=bf16"},
			},
		},
	}
	for _, tc := range tests {
		p, err := Builtin().Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		parts, err := p.Kernel.Parts(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != len(tc.want) {
			t.Fatalf("%s: %d parts, want %d", tc.spec, len(parts), len(tc.want))
		}
		dt := p.DType("dtype").String()
		for i, w := range tc.want {
			got := parts[i]
			if got.Label != w.label || got.Count != 1 || !strings.HasPrefix(got.Params.String(), w.spec) {
				t.Errorf("%s part %d: %s ×%d %s; want %s ×1 %s…", tc.spec, i, got.Label, got.Count, got.Params, w.label, w.spec)
			}
			if got.Params.Kernel.Name == "matmul" && got.Params.DType("dtype").String() != dt {
				t.Errorf("%s part %s: matmul dtype %s, want the layer's %s", tc.spec, got.Label, got.Params.DType("dtype"), dt)
			}
		}
	}
}

func TestLayerFLOPs(t *testing.T) {
	p, err := Builtin().Parse("layer:model=llama3-8b,phase=prefill,tokens=4096")
	if err != nil {
		t.Fatal(err)
	}
	T, H, I := 4096.0, 4096.0, 14336.0
	// Projections 2·T·N·K; causal attention 4·h·s²·d/2; rmsnorm 4/elem (×2),
	// rope 3/elem over 40 heads, residual adds 1/elem (×2), silu_mul 5/elem.
	want := 2*T*(6144*H+H*H+2*I*H+H*I) + 2*32*T*T*128 +
		2*4*T*H + 3*T*40*128 + 2*T*H + 5*T*I
	if got := p.Kernel.FLOPs(p); got != want {
		t.Errorf("FLOPs %g, want %g", got, want)
	}
}

// TestLayerPartsBuild builds every part's NeuronCore program at small
// shapes: what the layer workload declares must run.
func TestLayerPartsBuild(t *testing.T) {
	for _, spec := range []string{
		"layer:model=llama3-8b,phase=prefill,tokens=130",
		"layer:model=llama3-70b,phase=decode,batch=3,context=300,dtype=fp8e4m3",
	} {
		p, err := Builtin().Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		parts, err := p.Kernel.Parts(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, pt := range parts {
			if pt.Params.Kernel.Neuron == nil {
				t.Errorf("%s: part %s (%s) has no NeuronCore program", spec, pt.Label, pt.Params.Kernel.Name)
				continue
			}
			if _, err := BuildNeuron(isa.Trn2(), pt.Params); err != nil {
				t.Errorf("%s: part %s: %v", spec, pt.Label, err)
			}
		}
	}
}

func TestLayerErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"layer:model=llama3-405b", "model"},
		{"layer:phase=train", "phase"},
		{"layer:phase=decode,context=200000", "context=200000"},
		{"layer:dtype=fp32", "dtype"},
	} {
		_, err := Builtin().Parse(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.spec, err, tc.want)
		}
	}
}
