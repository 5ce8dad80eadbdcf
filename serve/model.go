package serve

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Model is a decoder-only transformer's published shape: the data a file
// under data/models/ (or a user's -model-file) holds. Counts are elements;
// the dtypes are chosen per run (Options).
type Model struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Layers int    `json:"layers"`
	Hidden int    `json:"hidden"`
	Heads  int    `json:"heads"`
	// KVHeads is the number of key/value heads (GQA).
	KVHeads int `json:"kv_heads"`
	HeadDim int `json:"head_dim"`
	// FFN is the dense MLP's intermediate size (0 for MoE models).
	FFN   int `json:"ffn,omitempty"`
	Vocab int `json:"vocab"`
	// MaxContext is the longest input + output the model takes, tokens.
	MaxContext int  `json:"max_context"`
	MoE        *MoE `json:"moe,omitempty"`
	// SlidingWindow, when > 0, is the window in tokens of the layers with
	// an even index (0, 2, …), as gpt-oss alternates them (D5).
	SlidingWindow int `json:"sliding_window,omitempty"`
	// AttentionSinks: one learned logit per query head appended to the
	// softmax. Its cost (one more column among ≥ 128) is not timed.
	AttentionSinks bool `json:"attention_sinks,omitempty"`
	// AttentionBias: QKV and output projections carry biases (counted in
	// the weights; the bias add is not timed apart).
	AttentionBias bool `json:"attention_bias,omitempty"`
	// TiedEmbeddings: the output projection reuses the embedding matrix.
	TiedEmbeddings bool `json:"tied_embeddings,omitempty"`
}

// MoE is a mixture-of-experts MLP: a router picks TopK of Experts per
// token; each expert is a gated MLP of ExpertFFN.
type MoE struct {
	Experts   int `json:"experts"`
	TopK      int `json:"top_k"`
	ExpertFFN int `json:"expert_ffn"`
}

//go:embed data/models/*.json
var modelFS embed.FS

// Models returns the built-in models sorted by name.
func Models() []Model {
	ents, err := modelFS.ReadDir("data/models")
	if err != nil {
		panic(err)
	}
	var ms []Model
	for _, e := range ents {
		f, err := modelFS.Open("data/models/" + e.Name())
		if err != nil {
			panic(err)
		}
		m, err := LoadModel(f, e.Name())
		f.Close()
		if err != nil {
			panic(err) // built-in data, checked by a test
		}
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms
}

// ModelByName returns the built-in model name.
func ModelByName(name string) (Model, error) {
	var names []string
	for _, m := range Models() {
		if m.Name == name {
			return m, nil
		}
		names = append(names, m.Name)
	}
	return Model{}, fmt.Errorf("unknown model %q (allowed: %s, or a JSON file given with -model-file)", name, strings.Join(names, ", "))
}

// ModelError is a model file that does not fit the schema.
type ModelError struct {
	File, Field, Msg string
}

func (e *ModelError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("model file %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("model file %s: %s: %s", e.File, e.Field, e.Msg)
}

// LoadModel reads a model definition from JSON (unknown fields are errors)
// and validates it. name labels errors.
func LoadModel(r io.Reader, name string) (Model, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var m Model
	if err := dec.Decode(&m); err != nil {
		return Model{}, &ModelError{File: name, Msg: err.Error()}
	}
	if dec.More() {
		return Model{}, &ModelError{File: name, Msg: "trailing data after the JSON object"}
	}
	if err := m.validate(); err != nil {
		err.File = name
		return Model{}, err
	}
	return m, nil
}

func (m Model) validate() *ModelError {
	bad := func(field, format string, a ...any) *ModelError {
		return &ModelError{Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	if strings.TrimSpace(m.Name) == "" || strings.ContainsAny(m.Name, ",=\n") {
		return bad("name", "%q: want a non-empty name without ',' '=' or newlines", m.Name)
	}
	for _, f := range []struct {
		name   string
		v, max int
	}{{"layers", m.Layers, 1024}, {"hidden", m.Hidden, 1 << 17}, {"heads", m.Heads, 1024}, {"kv_heads", m.KVHeads, 1024},
		{"vocab", m.Vocab, 1 << 22}, {"max_context", m.MaxContext, 1 << 20}} {
		if f.v < 1 || f.v > f.max {
			return bad(f.name, "%d: want 1..%d", f.v, f.max)
		}
	}
	if m.HeadDim != 64 && m.HeadDim != 128 && m.HeadDim != 256 {
		return bad("head_dim", "%d: allowed 64, 128, 256 (what the attention kernels take)", m.HeadDim)
	}
	if m.Heads%m.KVHeads != 0 {
		return bad("kv_heads", "%d: must divide heads=%d", m.KVHeads, m.Heads)
	}
	if m.SlidingWindow < 0 {
		return bad("sliding_window", "%d: want ≥ 0", m.SlidingWindow)
	}
	if m.MoE == nil {
		if m.FFN < 1 || m.FFN > 1<<19 {
			return bad("ffn", "%d: want 1..%d for a dense model", m.FFN, 1<<19)
		}
		return nil
	}
	if m.FFN != 0 {
		return bad("ffn", "%d: a MoE model gives its size as moe.expert_ffn", m.FFN)
	}
	e := m.MoE
	if e.Experts < 1 || e.Experts > 4096 {
		return bad("moe.experts", "%d: want 1..4096", e.Experts)
	}
	if e.TopK < 1 || e.TopK > e.Experts {
		return bad("moe.top_k", "%d: want 1..experts=%d", e.TopK, e.Experts)
	}
	if e.ExpertFFN < 1 || e.ExpertFFN > 1<<19 {
		return bad("moe.expert_ffn", "%d: want 1..%d", e.ExpertFFN, 1<<19)
	}
	return nil
}

// slidingLayers is the number of layers with the sliding window.
func (m Model) slidingLayers() int {
	if m.SlidingWindow == 0 {
		return 0
	}
	return (m.Layers + 1) / 2 // even indices 0, 2, … (D5 gpt-oss sliding window)
}

// ParamCounts splits the model's weights, in elements: attention
// projections (with biases), the MLP or the experts (with router and
// biases), norms, and the embedding plus output projection.
type ParamCounts struct {
	Attention, MLP, Experts, Router, Norms, Embedding float64
}

// Total is the number of parameters.
func (p ParamCounts) Total() float64 {
	return p.Attention + p.MLP + p.Experts + p.Router + p.Norms + p.Embedding
}

// Params counts the model's parameters (llama3-70b: 70.55e9; gpt-oss-120b:
// 116.8e9, D5).
func (m Model) Params() ParamCounts {
	L, H, hd := float64(m.Layers), float64(m.Hidden), float64(m.HeadDim)
	q, kv := float64(m.Heads)*hd, float64(m.KVHeads)*hd
	var pc ParamCounts
	pc.Attention = L * (H*(q+2*kv) + q*H)
	if m.AttentionBias {
		pc.Attention += L * (q + 2*kv + H)
	}
	if m.AttentionSinks {
		pc.Attention += L * float64(m.Heads)
	}
	pc.Norms = (2*L + 1) * H
	pc.Embedding = float64(m.Vocab) * H
	if !m.TiedEmbeddings {
		pc.Embedding *= 2
	}
	if m.MoE == nil {
		pc.MLP = L * 3 * H * float64(m.FFN)
		return pc
	}
	E, F := float64(m.MoE.Experts), float64(m.MoE.ExpertFFN)
	pc.Experts = L * E * (H*2*F + F*H + 2*F + H) // gate/up and down with their biases (D5 MoE details)
	pc.Router = L * (H*E + E)
	return pc
}
