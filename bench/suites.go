package bench

import (
	"fmt"
	"strings"

	"github.com/trnsim/trnsim/kernels"
)

// Suite is a named list of workloads. A sweep runs each workload on each
// of its targets (DefaultTargets unless the user names others).
type Suite struct {
	Name  string
	Doc   string
	Specs []string // workload specs, read with kernels.Registry.Parse
}

// Suites returns the built-in suites, in the order `trnsim sweep -h`
// lists them. They are built anew on each call.
func Suites() []Suite {
	return []Suite{
		{"representative", "a few matmul, attention and decode shapes: the side-by-side table of `make bench`", representativeSpecs()},
		{"baseline", "small shapes of every kind of kernel, quick enough for CI: the regression gate (`make regress`)", baselineSpecs()},
		{"square", "bf16 square matmuls, 512 to 16384 in powers of two", squareSpecs()},
		{"llm", "the matmul, attention, decode-attention and layer shapes of llama3-8b and llama3-70b, prefill and decode", llmSpecs()},
		{"attention", "flash-attention forward, seqlen 512 to 16k × headdim 64 and 128 × causal, 16k tokens and 2048 hidden per call", attentionSpecs()},
	}
}

// SuiteNames returns the names of the built-in suites.
func SuiteNames() []string {
	var names []string
	for _, s := range Suites() {
		names = append(names, s.Name)
	}
	return names
}

// SuiteByName returns the built-in suite called name.
func SuiteByName(name string) (Suite, error) {
	for _, s := range Suites() {
		if s.Name == name {
			return s, nil
		}
	}
	return Suite{}, fmt.Errorf("unknown suite %q (allowed: %s)", name, strings.Join(SuiteNames(), ", "))
}

// Workloads parses the suite's specs against the kernel registry reg, in
// suite order. A spec whose kernel is not in ks is returned in pending
// rather than failing the suite, so suites can name kernels before they
// are built in; a spec of a known kernel that does not parse is an error.
func (s Suite) Workloads(reg *kernels.Registry) (ws []kernels.Params, pending []string, err error) {
	for _, spec := range s.Specs {
		name, _, _ := strings.Cut(spec, ":")
		if _, err := reg.Lookup(name); err != nil {
			pending = append(pending, spec)
			continue
		}
		p, err := reg.Parse(spec)
		if err != nil {
			return nil, nil, fmt.Errorf("suite %s: %w", s.Name, err)
		}
		ws = append(ws, p)
	}
	return ws, pending, nil
}

// llama is the part of a Llama-3 model's published configuration that sets
// kernel shapes (Meta's llama3 model cards / config.json: hidden_size,
// num_attention_heads, num_key_value_heads, intermediate_size; head dim =
// hidden / heads = 128 for both).
type llama struct {
	name                          string
	hidden, heads, kvHeads, inter int
}

func llamas() []llama {
	return []llama{
		{"llama3-8b", 4096, 32, 8, 14336},
		{"llama3-70b", 8192, 64, 8, 28672},
	}
}

// The serving points the llm suite times: a 4096-token prompt (prefill) and
// a 64-sequence decode step against an 8192-token KV cache.
const (
	prefillTokens = 4096
	decodeBatch   = 64
	decodeContext = 8192
	llamaHeadDim  = 128
)

func matmulSpec(m, n, k int, dtype string) string {
	return fmt.Sprintf("matmul:M=%d,N=%d,K=%d,dtype=%s", m, n, k, dtype)
}

func attentionSpec(batch, heads, kvHeads, seqlen, headdim int, causal bool) string {
	return fmt.Sprintf("attention:batch=%d,heads=%d,kv_heads=%d,seqlen=%d,headdim=%d,causal=%t,dtype=bf16", batch, heads, kvHeads, seqlen, headdim, causal)
}

func decodeSpec(batch, heads, kvHeads, seqlen, headdim int) string {
	return fmt.Sprintf("decode_attention:batch=%d,heads=%d,kv_heads=%d,seqlen=%d,headdim=%d,dtype=bf16", batch, heads, kvHeads, seqlen, headdim)
}

func squareSpecs() []string {
	var specs []string
	for n := 512; n <= 16384; n *= 2 {
		specs = append(specs, matmulSpec(n, n, n, "bf16"))
	}
	return specs
}

// llmSpecs lists, per model, the projections of one decoder layer as
// matmuls with M = tokens (prefill) or sequences (decode) — QKV, output,
// gate (up has the same shape), down — then its attention, its decode
// attention and the whole layer.
func llmSpecs() []string {
	var specs []string
	for _, m := range llamas() {
		qkv := (m.heads + 2*m.kvHeads) * llamaHeadDim
		for _, rows := range []int{prefillTokens, decodeBatch} {
			specs = append(specs,
				matmulSpec(rows, qkv, m.hidden, "bf16"),
				matmulSpec(rows, m.hidden, m.heads*llamaHeadDim, "bf16"),
				matmulSpec(rows, m.inter, m.hidden, "bf16"),
				matmulSpec(rows, m.hidden, m.inter, "bf16"),
			)
		}
		specs = append(specs,
			attentionSpec(1, m.heads, m.kvHeads, prefillTokens, llamaHeadDim, true),
			decodeSpec(decodeBatch, m.heads, m.kvHeads, decodeContext, llamaHeadDim),
			fmt.Sprintf("layer:model=%s,phase=prefill,tokens=%d", m.name, prefillTokens),
			fmt.Sprintf("layer:model=%s,phase=decode,batch=%d,context=%d", m.name, decodeBatch, decodeContext),
		)
	}
	return specs
}

// attentionSpecs follows the FlashAttention-2/3 papers' forward benchmark
// (the shapes of calibration/gpu_measured.csv): batch × seqlen = 16k
// tokens and heads × headdim = 2048 at every point.
func attentionSpecs() []string {
	var specs []string
	for seqlen := 512; seqlen <= 16384; seqlen *= 2 {
		for _, headdim := range []int{64, 128} {
			for _, causal := range []bool{false, true} {
				heads := 2048 / headdim
				specs = append(specs, attentionSpec(16384/seqlen, heads, heads, seqlen, headdim, causal))
			}
		}
	}
	return specs
}

// representativeSpecs is what `make bench` tabulates: a compute-bound
// matmul, a decode-shaped (skinny) matmul, llama3-8b's prefill attention
// and its decode attention.
func representativeSpecs() []string {
	return []string{
		matmulSpec(4096, 4096, 4096, "bf16"),
		matmulSpec(decodeBatch, 14336, 4096, "bf16"),
		attentionSpec(1, 32, 8, prefillTokens, llamaHeadDim, true),
		decodeSpec(decodeBatch, 32, 8, decodeContext, llamaHeadDim),
	}
}

// baselineSpecs covers each kernel and dtype path (fp8 included: the
// targets without fp8 tensor cores skip it) at small sizes, ragged ones
// included, so that `make regress` runs in a minute or two and still
// notices a change in any timing rule.
func baselineSpecs() []string {
	return []string{
		matmulSpec(512, 512, 512, "bf16"),
		matmulSpec(2048, 2048, 2048, "bf16"),
		matmulSpec(1000, 700, 300, "bf16"),
		matmulSpec(1024, 1024, 1024, "fp32"),
		matmulSpec(128, 4096, 4096, "fp16"),
		matmulSpec(1024, 2048, 1024, "fp8e4m3"),
		attentionSpec(1, 4, 2, 1024, 128, true),
		attentionSpec(1, 2, 2, 1000, 64, false),
		decodeSpec(8, 32, 8, 4096, llamaHeadDim),
		"rmsnorm:tokens=1024,hidden=4096,dtype=bf16",
		"softmax:rows=1024,cols=4096,dtype=bf16",
		"silu_mul:tokens=1024,hidden=4096,dtype=bf16",
		"layer:model=llama3-8b,phase=decode,batch=8,context=2048",
	}
}
