package neuron_test

import (
	"math"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/neuron"
)

// The NKI LayerNorm tutorial (docs/hardware.md A §4.2 [P SDK226
// general/nki/tutorials/layernorm.rst]): trn1, input (300, 1000) fp32,
// v1 p50 2311 µs, v2 (bn_stats/bn_aggr + tensor_scalar) p50 1969 µs.
//
// tutorialLayerNorm builds the tutorial's structure instruction for
// instruction: γ and β loaded once (broadcast to the lanes), then for each
// of the ceil(300/128) = 3 row tiles a load, the statistics, the
// normalisation and a store, every instruction depending on the one
// before (the tutorial has no software pipelining). v1: mean = Σx/H
// (tensor_reduce, tensor_scalar), x² (activation square), Σx²/H
// (tensor_reduce, tensor_scalar), var = E[x²] − mean² (two [P,1]
// tensor_tensor), rsqrt(var + ε) (tensor_scalar, activation), (x − mean)
// and ·rstd (two [P,H] tensor_scalar), ·γ and +β (two [P,H]
// tensor_tensor). v2 replaces the statistics by bn_stats over ≤ 512-column
// chunks and bn_aggr — modelled as two activations with add-reduce (each
// max(MIN_II, N) + MIN_II, the bn_stats cost rule of A §3.2) and one [P,4]
// tensor_reduce — and the shift and scale by one two-op tensor_scalar.
func tutorialLayerNorm(t *testing.T, v2 bool) *isa.Program {
	t.Helper()
	const T, H = 300, 1000
	dt := isa.FP32
	b := isa.NewBuilder(isa.Trn1(), "layernorm_tutorial")
	x := b.Input("x", dt, T, H)
	g := b.Input("gamma", dt, 1, H)
	be := b.Input("beta", dt, 1, H)
	out := b.Output("out", dt, T, H)
	par := b.SBUFPool("params", 2, H*4)
	io := b.SBUFPool("io", 4, H*4)
	st := b.SBUFPool("stat", 8, 64)
	gt, bt := par.Tile(dt, 128, H), par.Tile(dt, 128, H)
	bcast := func(src isa.HBMTensor) isa.AP {
		a := src.Tile(0, 0, 1, H)
		a.Parts, a.PStride = 128, 0 // the [1,H] row to every lane
		return a
	}
	b.Load(gt, bcast(g))
	b.Load(bt, bcast(be))
	for r0 := 0; r0 < T; r0 += 128 {
		n := min(128, T-r0)
		xt, y := io.Tile(dt, n, H), io.Tile(dt, n, H)
		s := st.Tile(dt, n, 16)
		b.Load(xt, x.Tile(r0, 0, n, H))
		mean, msq, vr, rstd := s.Col(0), s.Col(1), s.Col(2), s.Col(3)
		if !v2 {
			b.TensorReduce(mean, xt, isa.ALUAdd, 1, false)
			b.TensorScalar(isa.Vector, mean, mean, isa.ALUMul, isa.Imm(1.0/H), isa.ALUBypass, isa.Imm(0))
			b.ActivationWith(y, xt, isa.ActSquare, isa.ActArgs{Scale: 1})
			b.TensorReduce(msq, y, isa.ALUAdd, 1, false)
			b.TensorScalar(isa.Vector, msq, msq, isa.ALUMul, isa.Imm(1.0/H), isa.ALUBypass, isa.Imm(0))
			b.TensorTensor(vr, mean, mean, isa.ALUMul)
			b.TensorTensor(vr, msq, vr, isa.ALUSub)
		} else {
			// bn_stats over two chunks of ≤ 512 columns, bn_aggr.
			for i, c0 := range []int{0, 512} {
				w := min(512, H-c0)
				b.ActivationWith(y.Cols(c0, w), xt.Cols(c0, w), isa.ActCopy, isa.ActArgs{Scale: 1, Reduce: s.Col(4 + i)})
				b.ActivationWith(y.Cols(c0, w), xt.Cols(c0, w), isa.ActSquare, isa.ActArgs{Scale: 1, Reduce: s.Col(6 + i)})
			}
			b.TensorReduce(mean, s.Cols(4, 2), isa.ALUAdd, 1, false)
			b.TensorReduce(msq, s.Cols(6, 2), isa.ALUAdd, 1, false)
			b.TensorScalar(isa.Vector, vr, mean, isa.ALUMul, isa.Imm(1.0/H), isa.ALUMul, isa.PerPartition(mean))
			b.TensorScalar(isa.Vector, vr, msq, isa.ALUMul, isa.Imm(1.0/H), isa.ALUSub, isa.PerPartition(vr))
			b.TensorScalar(isa.Vector, mean, mean, isa.ALUMul, isa.Imm(1.0/H), isa.ALUBypass, isa.Imm(0))
		}
		b.TensorScalar(isa.Vector, rstd, vr, isa.ALUAdd, isa.Imm(1e-5), isa.ALUBypass, isa.Imm(0))
		b.ActivationWith(rstd, rstd, isa.ActRsqrt, isa.ActArgs{Scale: 1})
		if !v2 {
			b.TensorScalar(isa.Vector, y, xt, isa.ALUSub, isa.PerPartition(mean), isa.ALUBypass, isa.Imm(0))
			b.TensorScalar(isa.Vector, y, y, isa.ALUMul, isa.PerPartition(rstd), isa.ALUBypass, isa.Imm(0))
		} else {
			b.TensorScalar(isa.Vector, y, xt, isa.ALUSub, isa.PerPartition(mean), isa.ALUMul, isa.PerPartition(rstd))
		}
		b.TensorTensor(y, y, gt.Rows(0, n), isa.ALUMul)
		b.TensorTensor(y, y, bt.Rows(0, n), isa.ALUAdd)
		b.Store(out.Tile(r0, 0, n, H), y)
	}
	p, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLayerNormTutorial times the tutorial's two versions and the
// library kernel on trn1 and compares them with the published p50s.
//
// What the model says: every instruction of the tutorial is either a
// [P,1000] Vector/Scalar pass (max(MIN_II, N) = 1000 or 2000 cycles, about
// 0.9–1.8 µs), a [P,1] statistic (MIN_II + the semaphore and access
// costs, about 0.2 µs) or a ≤ 512 KB DMA (1.3 µs start latency plus
// ≤ 2 µs on the engines). Three row tiles make about 50 instructions and
// 8 DMAs: tens of µs, whatever the order. To reach 2311 µs each would
// need to cost about 40 µs, thirty times the largest per-instruction or
// per-DMA fixed cost docs/hardware.md publishes (ACT_TABLE_LOAD 1.28 µs, DMA
// semaphore-to-start 1.3 µs; A §3.2, §3.3) and three times the third-party
// 13.1 µs start-up of a whole instruction stream (A §3.3 [3P]). The
// published p50s are not NeuronCore time the model leaves out per
// instruction.
//
// Nor are they a per-call constant plus the kernel: v2 would then save
// the few µs its instructions save, not 342 µs. What the model does
// reproduce is the ratio: v2 takes 0.822 of v1's time in the model and
// 0.852 in the tutorial (−3.6%). Both observations fit the same work done
// about 65 times over (a larger input than the (300, 1000) docs/hardware.md
// records, or many kernel calls per timed iteration), not a fixed cost;
// the shape recorded for the point should be checked against the source.
//
// The test holds the model to its own accounting (the busiest engine
// bounds the time from below, the instructions' serial costs plus their
// start latencies from above), holds the v2/v1 ratio to ±10%, and checks
// that the published times are at least 20× every prediction, recording
// the factor. It fits nothing.
func TestLayerNormTutorial(t *testing.T) {
	c, err := neuron.Preset("trn1")
	if err != nil {
		t.Fatal(err)
	}
	p, err := kernels.Builtin().Parse("layernorm:tokens=300,hidden=1000,dtype=fp32")
	if err != nil {
		t.Fatal(err)
	}
	lib, err := kernels.BuildNeuron(isa.Trn1(), p)
	if err != nil {
		t.Fatal(err)
	}
	var us12 [2]float64
	for i, tc := range []struct {
		name      string
		prog      *isa.Program
		published float64 // µs
	}{
		{"tutorial v1", tutorialLayerNorm(t, false), 2311},
		{"tutorial v2", tutorialLayerNorm(t, true), 1969},
		{"library kernel", lib, 1969},
	} {
		r, err := neuron.Run(tc.prog, c)
		if err != nil {
			t.Fatal(err)
		}
		us := r.TimeNs / 1e3
		if i < 2 {
			us12[i] = us
		}
		var serial, busiest float64
		for _, s := range r.Spans.All() {
			serial += s.End - s.Start
		}
		for _, e := range r.Engines {
			if e.Name != "dma" {
				busiest = max(busiest, e.BusyNs)
			}
		}
		n := len(tc.prog.Instrs)
		need := (tc.published - us) / float64(n)
		t.Logf("%-14s %3d instructions: model %6.1f µs (bound %s), published %4.0f µs (%.0f×); %.1f µs more per instruction would be needed",
			tc.name, n, us, r.Bound, tc.published, tc.published/us, need)
		// Each span ends by the next dependent one's start plus the
		// semaphore and DMA start latencies: the serial sum, padded by
		// them, bounds the run.
		pad := float64(n) * (c.DMAStartLatencyNs + float64(c.SemaphoreCycles)/c.VectorGHz + c.ActTableLoadNs)
		if r.TimeNs < busiest || r.TimeNs > serial+pad {
			t.Errorf("%s: %.1f µs outside [busiest engine %.1f, serial %.1f + latencies %.1f] µs", tc.name, us, busiest/1e3, serial/1e3, pad/1e3)
		}
		if tc.published < 20*us {
			t.Errorf("%s: model %.1f µs is within 20× of the published %.0f µs: revisit the fixed-cost reading", tc.name, us, tc.published)
		}
		if math.IsNaN(need) || need < 10 {
			t.Errorf("%s: %.1f µs per instruction would close the gap; the fixed-cost reading says tens", tc.name, need)
		}
	}
	ratio := us12[1] / us12[0]
	e := (ratio - 1969.0/2311) / (1969.0 / 2311)
	t.Logf("v2/v1: model %.3f, published %.3f (%+.1f%%)", ratio, 1969.0/2311, 100*e)
	if math.Abs(e) > 0.10 {
		t.Errorf("v2/v1 %.3f, published %.3f: %+.1f%% (tolerance ±10%%)", ratio, 1969.0/2311, 100*e)
	}
}
