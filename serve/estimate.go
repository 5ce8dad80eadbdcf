package serve

import (
	"fmt"
	"github.com/trnsim/trnsim/tune"
	"math"
	"strconv"
)

// Options is one serving configuration: a model on a system, its
// parallelism, batch and lengths, dtypes and the serving overhead.
type Options struct {
	Model  Model
	System System
	// TP is the tensor-parallel degree in devices (logical NeuronCores on
	// Trainium, GPUs on NVIDIA). MoE experts are spread over min(TP,
	// experts) of them (expert parallelism), each expert split over the
	// rest. Devices beyond TP serve data-parallel replicas.
	TP  int
	LNC int
	// Batch is the number of sequences served together (static batch).
	Batch               int
	InputLen, OutputLen int // tokens
	WeightDType         string
	KVDType             string
	// OverheadUs is the serving framework's time per step (scheduling,
	// sampling, host sync), µs, added to every prefill and decode step and
	// reported apart from device time.
	OverheadUs float64
	// PrefillChunk bounds the tokens whose activations are live at once
	// (memory only; the prefill is timed as one pass).
	PrefillChunk int
	// RoutingSkew (MoE) is how many times the uniform share of routed
	// tokens the busiest expert device receives; the step waits for it.
	// 0 or 1 = uniform routing.
	RoutingSkew float64
}

// Default per-step serving overheads, µs, derived from the calibration data
// (results/measured/e2e*.csv, see overhead_test.go): the median of measured
// TPOT minus this model's decode device time over the batch-stated rows.
const (
	DefaultOverheadTrainiumUs = 860
	DefaultOverheadNVIDIAUs   = 2390
)

// DefaultOverheadUs returns the calibrated per-step overhead for a vendor.
func DefaultOverheadUs(v Vendor) float64 {
	if v == Trainium {
		return DefaultOverheadTrainiumUs
	}
	return DefaultOverheadNVIDIAUs
}

// WeightDTypes and KVDTypes list the dtypes a run may ask for.
var (
	weightDTypes = []string{"bf16", "fp8", "int8", "mxfp4"}
	kvDTypes     = []string{"bf16", "fp8"}
)

func (o Options) checkTP() error {
	m, tp := o.Model, o.TP
	if tp < 1 || tp > o.System.Devices(o.LNC) {
		return fmt.Errorf("tp=%d: want 1..%d (devices of %s at lnc=%d)", tp, o.System.Devices(o.LNC), o.System.Name, o.LNC)
	}
	if m.Heads%tp != 0 {
		return fmt.Errorf("tp=%d: must divide the %d attention heads of %s", tp, m.Heads, m.Name)
	}
	if m.KVHeads%tp != 0 && tp%m.KVHeads != 0 {
		return fmt.Errorf("tp=%d: must divide or be a multiple of the %d KV heads of %s", tp, m.KVHeads, m.Name)
	}
	if e := m.MoE; e != nil && e.Experts%tp != 0 && tp%e.Experts != 0 {
		return fmt.Errorf("tp=%d: must divide or be a multiple of the %d experts of %s", tp, e.Experts, m.Name)
	}
	return nil
}

// Validate checks the options a user can set.
func (o Options) Validate() error {
	if err := o.System.Chip.CheckLNC(o.LNC); err != nil {
		return err
	}
	if err := o.checkTP(); err != nil {
		return err
	}
	if o.Batch < 1 || o.Batch > 4096 {
		return fmt.Errorf("batch=%d: want 1..4096", o.Batch)
	}
	if o.InputLen < 1 || o.OutputLen < 1 {
		return fmt.Errorf("input %d, output %d tokens: want ≥ 1 each", o.InputLen, o.OutputLen)
	}
	if o.InputLen+o.OutputLen > o.Model.MaxContext {
		return fmt.Errorf("input %d + output %d tokens: above %s's context of %d", o.InputLen, o.OutputLen, o.Model.Name, o.Model.MaxContext)
	}
	if !contains(weightDTypes, o.WeightDType) {
		return fmt.Errorf("weights dtype %q: allowed %v", o.WeightDType, weightDTypes)
	}
	if !contains(kvDTypes, o.KVDType) {
		return fmt.Errorf("kv dtype %q: allowed %v", o.KVDType, kvDTypes)
	}
	if o.WeightDType == "mxfp4" && (o.Model.MoE == nil || !o.System.Chip.MXFP4) {
		return fmt.Errorf("weights mxfp4: needs a MoE model (experts only, docs/systems.md D5) on a chip with MXFP4 (trainium3, b200)")
	}
	if o.Model.MoE != nil && o.TP > o.Model.MoE.Experts && o.TP%o.Model.MoE.Experts != 0 {
		return fmt.Errorf("tp=%d: a multiple of the %d experts is needed above them", o.TP, o.Model.MoE.Experts)
	}
	if o.System.Chip.Vendor == NVIDIA && o.TP > o.System.InstanceChips {
		return fmt.Errorf("tp=%d: above one NVSwitch domain (%d GPUs); inter-node tensor parallelism is not modelled", o.TP, o.System.InstanceChips)
	}
	if math.IsNaN(o.OverheadUs) || o.OverheadUs < 0 || o.OverheadUs > 1e7 {
		return fmt.Errorf("overhead %v µs: want 0..1e7", o.OverheadUs)
	}
	if math.IsNaN(o.RoutingSkew) || o.RoutingSkew < 0 || o.RoutingSkew > 64 {
		return fmt.Errorf("routing skew %v: want 1..64 (0 = uniform)", o.RoutingSkew)
	}
	if o.PrefillChunk < 1 {
		return fmt.Errorf("prefill chunk %d: want ≥ 1", o.PrefillChunk)
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Step is the time of one forward step of the model on one device.
type Step struct {
	// DeviceUs is the step's device time: kernels, the collectives' exposed
	// time and, on Trainium, the DMA contention of the hidden part.
	DeviceUs float64
	KernelUs float64
	// CollectiveUs is the collectives' time alone (α–β), as if none
	// overlapped compute; ExposedCollectiveUs is what the step waits for.
	// On NVIDIA the two are equal (collectives on the critical path); on
	// Trainium see overlapCollectives.
	CollectiveUs        float64
	ExposedCollectiveUs float64
	// ContentionUs is the time compute loses to the hidden collectives'
	// traffic on the DMA engines they share (Trainium; 0 on NVIDIA).
	ContentionUs float64
	// KernelHBMBytes is the HBM traffic of the step's kernels on the
	// device, bytes.
	KernelHBMBytes float64
	// Collectives lists the distinct collectives of the step, with how many
	// times each runs.
	Collectives []CollectiveUse
}

// CollectiveUse is a collective and its count per step.
type CollectiveUse struct {
	Collective
	Count int
	// Next is the computation that follows each run and needs its result
	// (the GEMM a Trainium collective is fused with); zero when none.
	Next kernelTime
}

// Estimate is one configuration's serving estimate.
type Estimate struct {
	Options
	Fit        Fit
	EP         int // expert-parallel degree (0 for dense models)
	Replicas   int // data-parallel copies of the model in the system
	Prefill    Step
	Decode     Step // one decode step at the mean context
	DecodeCtx  int  // that context, tokens
	TTFTms     float64
	TPOTms     float64
	E2Ems      float64
	OutTokS    float64 // output tokens/s of the whole system
	OutTokSChp float64 // per chip of the system
	UserTokS   float64 // output tokens/s one user sees in decode (1000/TPOT)
	Sims       int     // kernel simulations run so far by the estimator (cache misses)
}

// Estimator runs estimates, caching kernel times by (workload, target)
// across them. Not safe for concurrent use.
type Estimator struct{ kt *kernelTimer }

// NewEstimator returns an estimator with an empty cache.
func NewEstimator() *Estimator { return &Estimator{kt: newKernelTimer()} }

// WithTuned makes the estimator's NeuronCore kernels run the tuned
// configurations tab holds for their shapes (see bench.WithTuned); call it
// before the first estimate.
func (e *Estimator) WithTuned(tab *tune.Table) *Estimator {
	e.kt.tuned = tab
	return e
}

// Caps on the shapes simulated: larger ones are simulated at the cap and
// scaled linearly (matmul rows, tokens of row-wise kernels, decode batch),
// or quadratically (causal attention length), since their time is that
// many repeats of the same tiles.
const (
	capRows      = 4096
	capDecodeB   = 64
	capAttention = 8192
)

// Run estimates o. A configuration that does not fit returns the fit and
// a *FitError.
func (e *Estimator) Run(o Options) (Estimate, error) {
	if err := o.Validate(); err != nil {
		return Estimate{}, err
	}
	est := Estimate{Options: o, Replicas: o.System.Devices(o.LNC) / o.TP}
	f, err := o.CheckFit()
	est.Fit = f
	if err != nil {
		return est, err
	}
	if o.Model.MoE != nil {
		est.EP = min(o.TP, o.Model.MoE.Experts)
	}
	if est.Prefill, err = e.step(o, true, o.InputLen); err != nil {
		return est, err
	}
	est.DecodeCtx = o.InputLen + o.OutputLen/2
	if est.Decode, err = e.step(o, false, est.DecodeCtx); err != nil {
		return est, err
	}
	est.TTFTms = (est.Prefill.DeviceUs + o.OverheadUs) / 1e3
	est.TPOTms = (est.Decode.DeviceUs + o.OverheadUs) / 1e3
	est.E2Ems = est.TTFTms + float64(o.OutputLen-1)*est.TPOTms
	est.OutTokS = float64(est.Replicas*o.Batch*o.OutputLen) / (est.E2Ems / 1e3)
	est.OutTokSChp = est.OutTokS / float64(o.System.Chips)
	est.UserTokS = 1e3 / est.TPOTms
	est.Sims = e.kt.Sims
	return est, nil
}

// step times one forward pass on one device: prefill of InputLen tokens per
// sequence, or one decode token per sequence against ctx cached tokens.
// Kernels and collectives are added in the order the layer runs them; the
// Trainium overlap of collectives with the kernels that follow is decided
// last, over the whole step.
func (e *Estimator) step(o Options, prefill bool, ctx int) (Step, error) {
	b := newStepBuilder(e, o, prefill, ctx)
	qkv := b.attentionBlock()
	if o.Model.MoE == nil {
		b.denseMLP(qkv)
	} else {
		b.moeMLP(qkv)
	}
	b.outputHead()
	if b.err != nil {
		return Step{}, b.err
	}
	return b.finish()
}

// stepBuilder accumulates one step's kernels and collectives on one device.
// The first error stops every later addition and is kept in err.
type stepBuilder struct {
	e        *Estimator
	o        Options
	prefill  bool
	ctx      int // cached tokens a decode step attends to
	rows     int // tokens through the dense layers: batch, times InputLen in prefill
	hq, kvh  int // query and KV heads per device
	mmDT     string
	kvDT     string
	gpuFP8KV bool
	split    bool // the kernel is split over the two cores of an lnc=2 logical NeuronCore
	layers   float64
	sliding  float64 // layers with sliding-window attention
	st       Step
	err      error
}

func newStepBuilder(e *Estimator, o Options, prefill bool, ctx int) *stepBuilder {
	b := &stepBuilder{e: e, o: o, prefill: prefill, ctx: ctx, rows: o.Batch,
		hq: o.Model.Heads / o.TP, kvh: kvHeadsPerDevice(o.Model, o.TP),
		split:  o.System.Chip.Vendor == Trainium && o.LNC == 2,
		layers: float64(o.Model.Layers), sliding: float64(o.Model.slidingLayers())}
	if prefill {
		b.rows = o.Batch * o.InputLen
	}
	b.mmDT, b.kvDT, b.gpuFP8KV = stepDTypes(o, prefill)
	return b
}

// stepDTypes decides the dtypes a step's kernels are timed at: mmDT for the
// weight matmuls, kvDT for attention, and gpuFP8KV when an fp8 KV cache on a
// GPU is timed as a bf16 cache of half the length.
func stepDTypes(o Options, prefill bool) (mmDT, kvDT string, gpuFP8KV bool) {
	mmDT = "bf16"
	switch o.WeightDType {
	case "fp8", "mxfp4":
		mmDT = "fp8e4m3"
	case "int8":
		// int8 weights with bf16 compute (D6: trn1 autocast): decode is
		// weight-streaming, timed with 1-byte operands; prefill at bf16.
		if !prefill {
			mmDT = "fp8e4m3"
		}
	}
	kvDT = "bf16"
	// The GPU attention kernels take bf16 or fp16 only: there an fp8 KV
	// cache is timed in decode as a bf16 cache of half the length (the same
	// bytes streamed: decode attention is bound by them), and prefill
	// attention at bf16.
	vendor := o.System.Chip.Vendor
	gpuFP8KV = o.KVDType == "fp8" && vendor == NVIDIA
	if o.KVDType == "fp8" && vendor == Trainium {
		kvDT = "fp8e4m3"
	}
	return mmDT, kvDT, gpuFP8KV
}

// add times one kernel on one device, adds it count times and returns one
// call's time and traffic.
func (b *stepBuilder) add(count float64, kind string, spec func(capped map[string]int) string, shape map[string]int) kernelTime {
	if b.err != nil || count == 0 {
		return kernelTime{}
	}
	kt, err := b.e.kernelUs(b.o.System.Chip, kind, shape, b.split, spec)
	if err != nil {
		b.err = err
		return kernelTime{}
	}
	b.st.KernelUs += count * kt.us
	b.st.KernelHBMBytes += count * kt.hbmBytes
	return kt
}

// mm adds count M×N×K matmuls at dtype dt.
func (b *stepBuilder) mm(count float64, M, N, K int, dt string) kernelTime {
	return b.add(count, "matmul", func(s map[string]int) string {
		return "matmul:M=" + itoa(s["M"]) + ",N=" + itoa(s["N"]) + ",K=" + itoa(K) + ",dtype=" + dt
	}, map[string]int{"M": M, "N": N})
}

// rowwise adds count runs of a row-wise bf16 kernel over tokens rows of hidden values.
func (b *stepBuilder) rowwise(count float64, kernel string, tokens, hidden int) {
	b.add(count, "rows", func(s map[string]int) string {
		return kernel + ":tokens=" + itoa(s["tokens"]) + ",hidden=" + itoa(hidden) + ",dtype=bf16"
	}, map[string]int{"tokens": tokens})
}

// coll adds a collective run count times, each followed by the computation
// next, which a Trainium collective is fused with (overlapCollectives).
func (b *stepBuilder) coll(count float64, op Op, bytes float64, ranks int, next kernelTime) {
	if b.err != nil || ranks <= 1 {
		return
	}
	c, err := b.o.System.CollectiveTime(op, bytes, ranks, b.o.LNC, true)
	if err != nil {
		b.err = err
		return
	}
	b.st.CollectiveUs += count * c.TimeUs
	b.st.Collectives = append(b.st.Collectives, CollectiveUse{Collective: c, Count: int(count), Next: next})
}

// attentionBlock adds every layer's attention half: norm, QKV projection,
// RoPE, attention (full and sliding-window layers), output projection, the
// two residual adds and the MLP's norm. It returns the QKV projection, the
// computation the previous layer's last collective is fused with.
func (b *stepBuilder) attentionBlock() (qkv kernelTime) {
	m, L := b.o.Model, b.layers
	hd, H := m.HeadDim, m.Hidden
	b.rowwise(L, "rmsnorm", b.rows, H)
	qkv = b.mm(L, b.rows, (b.hq+2*b.kvh)*hd, H, b.mmDT)
	b.add(L, "rows", func(s map[string]int) string {
		return "rope:tokens=" + itoa(s["tokens"]) + ",heads=" + itoa(b.hq+b.kvh) + ",headdim=" + itoa(hd) + ",dtype=bf16"
	}, map[string]int{"tokens": b.rows})
	b.attention(L-b.sliding, 0)
	b.attention(b.sliding, m.SlidingWindow)
	b.mm(L, b.rows, H, b.hq*hd, b.mmDT)
	b.rowwise(2*L, "add", b.rows, H) // the two residual adds
	b.rowwise(L, "rmsnorm", b.rows, H)
	return qkv
}

// attention adds count layers of attention over a window of cached tokens
// (0 = all of them): causal prefill attention scaled to the window's share of
// the causal triangle, or decode attention over min(ctx, window) tokens.
func (b *stepBuilder) attention(count float64, window int) {
	o, hd := b.o, b.o.Model.HeadDim
	if b.prefill {
		s := o.InputLen
		scale := 1.0
		if window > 0 && window < s {
			// Pairs (query, key) inside the window over the causal
			// triangle: the sliding layers' share of causal work.
			w := float64(window)
			scale = (w*float64(s) - w*w/2) / (float64(s) * float64(s) / 2)
		}
		b.add(count*scale, "attention", func(sh map[string]int) string {
			return "attention:batch=" + itoa(sh["batch"]) + ",heads=" + itoa(sh["heads"]) + ",kv_heads=" + itoa(sh["kv_heads"]) +
				",seqlen=" + itoa(sh["seqlen"]) + ",headdim=" + itoa(hd) + ",causal=true,dtype=" + b.kvDT
		}, map[string]int{"batch": o.Batch, "heads": b.hq, "kv_heads": b.kvh, "seqlen": s})
		return
	}
	c := b.ctx
	if window > 0 {
		c = min(b.ctx, window)
	}
	if b.gpuFP8KV {
		c = (c + 1) / 2
	}
	b.add(count, "decode", func(sh map[string]int) string {
		return "decode_attention:batch=" + itoa(sh["batch"]) + ",heads=" + itoa(sh["heads"]) + ",kv_heads=" + itoa(sh["kv_heads"]) +
			",seqlen=" + itoa(c) + ",headdim=" + itoa(hd) + ",dtype=" + b.kvDT
	}, map[string]int{"batch": o.Batch, "heads": b.hq, "kv_heads": b.kvh})
}

// actBytes is the bf16 activation tensor the layer's collectives move, bytes.
func (b *stepBuilder) actBytes() float64 { return float64(b.rows * b.o.Model.Hidden * 2) }

// denseMLP adds every layer's dense MLP, its FFN split over the TP ranks, and
// the layer's two all-reduces: the attention output's, fused with the MLP's
// gate and up projection, and the MLP output's, fused with the next layer's QKV.
func (b *stepBuilder) denseMLP(qkv kernelTime) {
	m, tp, L := b.o.Model, b.o.TP, b.layers
	H := m.Hidden
	ffn := (m.FFN + tp - 1) / tp
	gateUp := b.mm(L, b.rows, 2*ffn, H, b.mmDT)
	b.rowwise(L, "silu_mul", b.rows, ffn)
	b.mm(L, b.rows, H, ffn, b.mmDT)
	b.coll(L, AllReduce, b.actBytes(), tp, gateUp)
	b.coll(L, AllReduce, b.actBytes(), tp, qkv)
}

// moeMLP adds every layer's mixture of experts on the busiest device: the
// router, the device's active experts one after another, and the collectives
// that move tokens to their experts and back.
func (b *stepBuilder) moeMLP(qkv kernelTime) {
	o, L, rows := b.o, b.layers, b.rows
	m, tp := o.Model, o.TP
	H := m.Hidden
	x := m.MoE
	E, k := float64(x.Experts), float64(x.TopK)
	ep := min(tp, x.Experts)
	etp := tp / ep
	F := x.ExpertFFN / etp
	// Router (replicated, bf16) and its top-k (a softmax over the
	// experts as its proxy).
	router := b.mm(L, rows, x.Experts, H, "bf16")
	b.add(L, "softmax", func(s map[string]int) string {
		return "softmax:rows=" + itoa(s["tokens"]) + ",cols=" + itoa(x.Experts) + ",dtype=bf16"
	}, map[string]int{"tokens": rows})
	// Uniform routing: an expert is hit by at least one of the rows·k
	// choices with probability pAct; the device's E/ep experts run a
	// grouped matmul over the tokens routed to them.
	// With skew, the busiest device's experts get skew × their share
	// (at most every token), and its all-to-all buffer grows alike.
	skew := max(o.RoutingSkew, 1)
	pAct := 1 - math.Pow(1-k/E, float64(rows))
	active := E / float64(ep) * pAct
	tokPer := min(int(math.Ceil(float64(rows)*k/E/pAct*skew)), rows)
	expUp := b.mm(L*active, tokPer, 2*F, H, b.mmDT)
	expUp.us *= active // the device's experts, one after another
	expUp.hbmBytes *= active
	b.rowwise(L, "silu_mul", min(int(math.Ceil(float64(rows)*k/float64(ep)*skew)), rows*x.TopK), F)
	b.mm(L*active, tokPer, H, F, b.mmDT)
	// Attention output: reduce-scatter over the TP ranks; tokens to
	// their experts and back (all-to-all over the EP ranks); split
	// experts sum over their etp ranks; all-gather back for attention.
	b.coll(L, ReduceScatter, b.actBytes(), tp, router)
	disp := min(float64(rows)*k*float64(H)*2/float64(ep)*skew, float64(rows)*k*float64(H)*2)
	b.coll(L, AllToAll, disp, ep, expUp)        // dispatch, then the experts' gate and up projection
	b.coll(L, AllToAll, disp, ep, kernelTime{}) // combine: the sum waits for it
	b.coll(L, AllReduce, disp, etp, kernelTime{})
	b.coll(L, AllGather, b.actBytes(), tp, qkv)
}

// outputHead adds the final norm and the vocabulary-parallel output
// projection on the last token of each sequence, and the gather of the bf16
// logits, which sampling waits for.
func (b *stepBuilder) outputHead() {
	m, tp, B := b.o.Model, b.o.TP, b.o.Batch
	b.rowwise(1, "rmsnorm", B, m.Hidden)
	b.mm(1, B, (m.Vocab+tp-1)/tp, m.Hidden, b.mmDT)
	b.coll(1, AllGather, float64(B*m.Vocab*2), tp, kernelTime{})
}

// finish aggregates the device's step time: kernels, plus the collective time
// left exposed (on Trainium after overlap with the kernels they are fused
// with, which adds DMA contention), µs.
func (b *stepBuilder) finish() (Step, error) {
	st := b.st
	st.ExposedCollectiveUs = st.CollectiveUs
	if b.o.System.Chip.Vendor == Trainium {
		if err := overlapCollectives(&st, b.rows, b.o.LNC, b.o.System); err != nil {
			return Step{}, err
		}
	}
	st.DeviceUs = st.KernelUs + st.ExposedCollectiveUs + st.ContentionUs
	return st, nil
}

// itoa formats a kernel-spec integer.
func itoa(v int) string { return strconv.Itoa(v) }

// ccPacketBytes is the DMA packet of collective copies, 64 KiB by default
// (docs/systems.md D2.2 "Contention", NEURON_RT_DBG_CC_DMA_PACKET_SIZE): the
// chunk a collective fused with the computation that follows it hands over.
const ccPacketBytes = 64 * 1024

// overlapCollectives sets a Trainium step's exposed collective time and DMA
// contention. The mechanism (docs/systems.md D2.2):
//   - Overlap: collectives run on their own engines (CC cores driving DMA
//     rings) asynchronously from compute ("Overlap with compute"), and the
//     compiler fuses each collective with the computation that follows it
//     ("Compiler fusion": all-reduce with the next GEMM). The collective is
//     then run as n chunks of whole token rows, each a collective of its
//     own (paying its latency again), and the GEMM consumes chunk i while
//     chunk i+1 moves. The first chunk is always waited for; the other n−1
//     hide under the following GEMM (CollectiveUse.Next) and what does not
//     fit under it is exposed: exposed(n) = c + max(0, (n−1)·c − GEMM), c
//     the time of one chunk. n is the best of 1, 2, 4, ... up to the chunks
//     of at least one row and one CC packet (ccPacketBytes, "Contention"),
//     so latency-bound collectives stay whole. Collectives without a
//     following GEMM (the MoE combine, the logits gather) are exposed
//     whole; so is a one-row decode step.
//   - Contention: the DMA engines are shared by compute's HBM↔SBUF
//     traffic and the collectives ("Contention": round-robin at packet
//     boundaries). The hidden chunks' DMA bytes (each byte a rank sends
//     read and each it receives written: 2·halves·(r−1)/r of its buffer)
//     take engine time from the GEMM in proportion to how busy the GEMM
//     keeps the engines: delay = hidden bytes / R × min(1, GEMM's HBM rate
//     / R), with R the device's DMA rate (LNC × 16 engines × 23 B/ns, D1).
func overlapCollectives(st *Step, rows, lnc int, sys System) error {
	dmaBytesPerUs := float64(lnc) * trnCoreDMAGBps * 1e3 // GB/s → bytes/µs
	var exposed, contention float64
	for _, c := range st.Collectives {
		if c.TimeUs <= 0 {
			continue
		}
		ex, hiddenFrac := c.TimeUs, 0.0
		if c.Next.us > 0 {
			rowBytes := c.Bytes / float64(max(rows, 1))
			maxChunks := min(rows, int(math.Max(1, c.Bytes/max(rowBytes, ccPacketBytes))))
			for n := 2; n <= maxChunks; n *= 2 {
				one, err := sys.CollectiveTime(c.Op, c.Bytes/float64(n), c.Ranks, lnc, true)
				if err != nil {
					return err
				}
				if e := one.TimeUs + max(0, float64(n-1)*one.TimeUs-c.Next.us); e < ex {
					ex, hiddenFrac = e, float64(n-1)/float64(n)
				}
			}
		}
		exposed += float64(c.Count) * ex
		if hiddenFrac > 0 {
			r := float64(c.Ranks)
			dma := 2 * halves(c.Op) * (r - 1) / r * c.Bytes * hiddenFrac
			util := min(1, c.Next.hbmBytes/c.Next.us/dmaBytesPerUs)
			contention += float64(c.Count) * dma / dmaBytesPerUs * util
		}
	}
	st.ExposedCollectiveUs, st.ContentionUs = exposed, contention
	return nil
}

// kernelUs times one kernel of a device's share on chip c. On a logical
// core of two physical cores (split) the work is halved SPMD as NKI shards
// a kernel[2] launch — matmul by columns, attention by KV heads (or batch,
// else query heads), row-wise kernels by rows — and the time is one
// physical core's: both run at once, each with the preset's per-core share
// of the chip's HBM bandwidth (chip bandwidth over its 8 cores, docs/hardware.md
// A §1.1), which is the share each gets when all cores of the chip stream
// together. Shapes above the caps are simulated at the cap and scaled.
func (e *Estimator) kernelUs(c Chip, kind string, sh map[string]int, split bool, spec func(map[string]int) string) (kernelTime, error) {
	s := map[string]int{}
	for k, v := range sh {
		s[k] = v
	}
	half := func(x int) int { return (x + 1) / 2 }
	scale := 1.0
	capTo := func(key string, cp int) {
		if s[key] > cp {
			scale *= float64(s[key]) / float64(cp)
			s[key] = cp
		}
	}
	switch kind {
	case "matmul":
		if split && s["N"] >= 2 {
			s["N"] = half(s["N"])
		}
		capTo("M", capRows)
	case "rows", "softmax":
		if split {
			s["tokens"] = half(s["tokens"])
		}
		capTo("tokens", capRows)
	case "attention", "decode":
		if split {
			switch {
			case s["kv_heads"] >= 2:
				s["kv_heads"], s["heads"] = s["kv_heads"]/2, s["heads"]/2
			case s["batch"] >= 2:
				s["batch"] = half(s["batch"])
			case s["heads"] >= 2:
				s["heads"] /= 2 // each core streams the same KV head
			}
		}
		if kind == "attention" {
			scale *= float64(s["batch"])
			s["batch"] = 1
			if L := s["seqlen"]; L > capAttention {
				r := float64(L) / capAttention
				scale *= r * r
				s["seqlen"] = capAttention
			}
		} else {
			capTo("batch", capDecodeB)
		}
	}
	kt, err := e.kt.timeUs(c, spec(s))
	// The device's traffic: both physical cores' when split.
	cores := 1.0
	if split {
		cores = 2
	}
	return kernelTime{us: kt.us * scale, hbmBytes: kt.hbmBytes * scale * cores}, err
}
