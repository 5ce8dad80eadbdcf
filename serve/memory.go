package serve

import (
	"fmt"
	"math"
)

// Fit is the HBM budget of one device (a logical NeuronCore or a GPU) for
// a configuration, in bytes.
type Fit struct {
	Weights, KV, Activations, Need, Have float64
	// MaxBatch is the largest batch that fits with these lengths and TP (0:
	// not even one sequence).
	MaxBatch int
}

// Fits reports whether the configuration fits in the device's HBM.
func (f Fit) Fits() bool { return f.Need <= f.Have }

// FitError is a configuration that does not fit in HBM: the shortfall per
// device and the smallest TP degree (on this system) that fits, 0 if none.
type FitError struct {
	System   string
	TP       int
	Batch    int
	ShortGiB float64
	MinTP    int
	MaxBatch int
}

func (e *FitError) Error() string {
	s := fmt.Sprintf("%s tp=%d batch=%d does not fit in HBM: %.2f GiB short per device", e.System, e.TP, e.Batch, e.ShortGiB)
	if e.MinTP > 0 {
		s += fmt.Sprintf("; smallest TP that fits: %d", e.MinTP)
	} else {
		s += "; no TP degree on this system fits"
	}
	if e.MaxBatch > 0 {
		s += fmt.Sprintf("; largest batch that fits at tp=%d: %d", e.TP, e.MaxBatch)
	}
	return s
}

// weightBytes returns the bytes per element of the linear-layer weights and
// of the MoE experts for a weight dtype: bf16 2, fp8/int8 1, mxfp4 4.25
// bits for the experts only (blocks of 32 FP4 values + one E8M0 scale,
// docs/systems.md D5 "MXFP4 format"), the other tensors kept bf16 (D5 "Tensors
// kept BF16").
func weightBytes(dt string) (linear, experts float64) {
	switch dt {
	case "fp8", "int8":
		return 1, 1
	case "mxfp4":
		return 2, 4.25 / 8
	}
	return 2, 2
}

func kvBytes(dt string) float64 {
	if dt == "fp8" {
		return 1
	}
	return 2
}

// kvHeadsPerDevice is the KV heads one TP rank holds: KV heads are split
// over TP ranks and replicated once TP exceeds them.
func kvHeadsPerDevice(m Model, tp int) int { return max(1, m.KVHeads/tp) }

// memory computes the HBM need of one device for batch sequences of ctx
// tokens. Weights split over TP ranks except norms and the router (copied
// on each); the embedding table is bf16 and vocabulary-parallel. The KV
// cache holds ctx tokens on full-attention layers and the window on
// sliding ones. Activations are sized for a prefill chunk of
// min(batch·input, chunk) tokens: the layer's widest live tensors (input,
// QKV, gate/up) in bf16, plus the fp32 logits of the batch's last tokens.
func (o Options) memory(batch int) Fit {
	m, tp := o.Model, o.TP
	pc := m.Params()
	lin, ex := weightBytes(o.WeightDType)
	t := float64(tp)
	w := (pc.Attention*lin + pc.MLP*lin + pc.Experts*ex + float64(m.Vocab*m.Hidden)*(2+lin)) / t
	if m.TiedEmbeddings {
		w -= float64(m.Vocab*m.Hidden) * lin / t
	}
	w += (pc.Router + pc.Norms) * 2
	ctx := o.InputLen + o.OutputLen
	kvPerTok := 2 * float64(kvHeadsPerDevice(m, tp)*m.HeadDim) * kvBytes(o.KVDType)
	full := m.Layers - m.slidingLayers()
	perSeq := kvPerTok * (float64(full*ctx) + float64(m.slidingLayers()*min(ctx, max(m.SlidingWindow, 1))))
	act := func(b int) float64 {
		tok := float64(min(b*o.InputLen, o.PrefillChunk))
		q := float64((m.Heads/tp + 2*kvHeadsPerDevice(m, tp)) * m.HeadDim)
		ffn := math.Ceil(float64(m.FFN) / t)
		if m.MoE != nil {
			ffn = float64(m.MoE.ExpertFFN) * float64(m.MoE.TopK)
		}
		return tok*(2*float64(m.Hidden)+q+2*ffn)*2 + float64(b)*math.Ceil(float64(m.Vocab)/t)*4
	}
	have := o.System.Chip.DeviceHBMBytes(o.LNC)
	f := Fit{Weights: w, KV: perSeq * float64(batch), Activations: act(batch), Have: have}
	f.Need = f.Weights + f.KV + f.Activations
	// Largest batch: need grows monotonically with the batch.
	lo, hi := 0, 1
	for hi <= 1<<20 && w+perSeq*float64(hi)+act(hi) <= have {
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if w+perSeq*float64(mid)+act(mid) <= have {
			lo = mid
		} else {
			hi = mid
		}
	}
	f.MaxBatch = lo
	return f
}

// CheckFit returns a *FitError when the configuration does not fit.
func (o Options) CheckFit() (Fit, error) {
	f := o.memory(o.Batch)
	if f.Fits() {
		return f, nil
	}
	e := &FitError{System: o.System.Name, TP: o.TP, Batch: o.Batch, ShortGiB: (f.Need - f.Have) / gib, MaxBatch: f.MaxBatch}
	for tp := 1; tp <= o.System.Devices(o.LNC); tp++ {
		oo := o
		oo.TP = tp
		if oo.checkTP() != nil {
			continue
		}
		if oo.memory(o.Batch).Fits() {
			e.MinTP = tp
			break
		}
	}
	return f, e
}
