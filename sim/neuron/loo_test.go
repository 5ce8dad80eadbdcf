package neuron_test

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/sim/neuron"
)

// The leave-one-out table (make loo). The NeuronCore presets take three
// parameters from measurements rather than from published cost rules: the
// DMA fixed cost per transfer of each generation (trn2 from A §4.2's
// 1416 ns, trn1 from the A §1.1 17 B/ns with A §3.3's ~70% utilisation,
// trn3 from the A §1.1 33 B/ns) and trn1's DMA asymptote (the ~70%). Each
// of these points is predicted with it removed: its generation's fixed
// cost then comes from the other generations, as the same number of bytes
// at the theoretical engine rate (the geometric mean of theirs,
// TestDMAFixedCostCrossGeneration), and trn1's asymptote from its 17 B/ns
// and that fixed cost. The trn2 fp32 ladder (A §4.1) sets no parameter: it
// is predicted, never fitted, so its leave-one-out error is its fit error;
// the table also shows it with trn2's own DMA point removed.
//
// A model whose leave-one-out error is far above its fit error is
// overfitted: the test fails when a point's leave-one-out error exceeds
// 2%, or a ladder step's error 5%.

// theoretical is the published theoretical DMA engine rate, B/ns (A §1.1
// [P DMAov]).
var theoretical = map[string]float64{"trn1": 27.2, "trn2": 27.2, "trn3": 38.4}

type looRow struct {
	point, source  string
	unit           string
	measured       float64
	fit, loo       float64
	higherIsFaster bool // a rate: the error in time is the inverse
}

// timeErr returns the error in time, percent, of a prediction.
func (r looRow) timeErr(pred float64) float64 {
	if r.higherIsFaster {
		return 100 * (r.measured/pred - 1)
	}
	return 100 * (pred/r.measured - 1)
}

func presetOf(t *testing.T, g string) neuron.Config {
	t.Helper()
	c, err := neuron.Preset(g)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// phiWithout is the fixed cost, in bytes at the theoretical rate, of the
// generations other than g (their geometric mean).
func phiWithout(t *testing.T, g string) float64 {
	lp, n := 0.0, 0
	for _, h := range neuron.PresetNames() {
		if h == g {
			continue
		}
		lp += math.Log(presetOf(t, h).DMAFixedNs() * theoretical[h])
		n++
	}
	return math.Exp(lp / float64(n))
}

// withFixed returns c with DMA fixed cost f ns and its asymptote kept.
func withFixed(c neuron.Config, f float64) neuron.Config {
	ref := float64(c.DMARefBytes)
	c.DMASustainedBytesPerNs = ref / (f + ref/c.DMAPeakBytesPerNs)
	return c
}

// runLadderStep times one step of the trn2 fp32 ladder on c.
func runLadderStep(t *testing.T, c neuron.Config, variant string) (ms float64, tensorInstrs int, bound string) {
	t.Helper()
	p, err := kernels.Builtin().Parse("matmul:M=4096,N=8192,K=8192,dtype=fp32,variant=" + variant)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := kernels.BuildNeuron(isa.Trn2(), p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := neuron.Run(prog, c)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := r.Engine("tensor")
	return r.TimeNs / 1e6, e.Instrs, r.Bound
}

func TestLeaveOneOut(t *testing.T) {
	c1, c2, c3 := presetOf(t, "trn1"), presetOf(t, "trn2"), presetOf(t, "trn3")
	ref := float64(c1.DMARefBytes)

	// trn2's 1416 ns: one 32 KiB transfer, the fixed cost plus the bytes
	// at the peak rate.
	f2loo := phiWithout(t, "trn2") / theoretical["trn2"]
	// trn1's 17 B/ns at 32 KiB with its asymptote kept; its asymptote
	// (~70% of 27.2) with the 17 B/ns kept.
	f1loo := phiWithout(t, "trn1") / theoretical["trn1"]
	peak1loo := ref / (ref/17 - f1loo)
	f3loo := phiWithout(t, "trn3") / theoretical["trn3"]
	rows := []looRow{
		{"trn2 one DMA engine, 32 KiB", "A4.2", "ns", 1416, c2.DMAFixedNs() + ref/c2.DMAPeakBytesPerNs, f2loo + ref/c2.DMAPeakBytesPerNs, false},
		{"trn1 DMA engine at 32 KiB", "A1.1", "B/ns", 17, ref / (c1.DMAFixedNs() + ref/c1.DMAPeakBytesPerNs), ref / (f1loo + ref/c1.DMAPeakBytesPerNs), true},
		{"trn1 DMA utilisation, large transfers", "A3.3", "%", 70, 100 * c1.DMAPeakBytesPerNs / 27.2, 100 * peak1loo / 27.2, true},
		{"trn3 DMA engine at 32 KiB", "A1.1", "B/ns", 33, ref / (c3.DMAFixedNs() + ref/c3.DMAPeakBytesPerNs), ref / (f3loo + ref/c3.DMAPeakBytesPerNs), true},
	}

	logRow := func(name, src, unit string, meas, fit, fitErr, loo, looErr float64) {
		t.Logf("| %-42s | %-5s | %9.4g %-4s | %9.4g | %+6.1f%% | %9.4g | %+6.1f%% |", name, src, meas, unit, fit, fitErr, loo, looErr)
	}
	t.Logf("| %-42s | %-5s | %14s | %9s | %7s | %9s | %7s |", "point", "src", "measured", "fit", "fit err", "LOO", "LOO err")
	t.Logf("|%s|%s|%s|%s|%s|%s|%s|", dashes(44), dashes(7), dashes(16), dashes(11), dashes(9), dashes(11), dashes(9))
	for _, r := range rows {
		fe, le := r.timeErr(r.fit), r.timeErr(r.loo)
		logRow(r.point, r.source, r.unit, r.measured, r.fit, fe, r.loo, le)
		if math.Abs(fe) > 0.5 {
			t.Errorf("%s: fit error %+.2f%%; the preset is set from this point", r.point, fe)
		}
		if math.Abs(le) > 2 {
			t.Errorf("%s: leave-one-out error %+.2f%% (limit ±2%%): the per-generation constant does not generalise", r.point, le)
		}
	}

	if testing.Short() {
		t.Log("the trn2 fp32 ladder rows run without -short (make loo)")
		return
	}
	ladder := readLadder(t)
	c2loo := withFixed(c2, f2loo)
	var notes []string
	for _, step := range ladder {
		fit, instrs, bound := runLadderStep(t, c2, step.variant)
		loo, _, _ := runLadderStep(t, c2loo, step.variant)
		fe, le := 100*(fit/step.ms-1), 100*(loo/step.ms-1)
		logRow("trn2 fp32 ladder "+step.variant+" ("+bound+")", "A4.1", "ms", step.ms, fit, fe, loo, le)
		if math.Abs(fe) > 5 || math.Abs(le) > 5 {
			t.Errorf("ladder %s: %+.1f%% (presets), %+.1f%% (trn2 DMA point left out); limit ±5%%", step.variant, fe, le)
		}
		if bound == "tensor" && instrs > 0 {
			// What the compute-bound steps leave for a fixed cost per
			// matmul that the cost rules do not have: the measured time
			// not predicted, over the matmuls, in TensorE cycles.
			slack := (step.ms - fit) * 1e6 / float64(instrs) * c2.TensorGHz
			notes = append(notes, fmt.Sprintf("%s: %d matmuls leave room for at most %.1f TensorE cycles of unmodelled cost per matmul (%.1f%% of a 512-column bf16 matmul)",
				step.variant, instrs, max(slack, 0), 100*max(slack, 0)/512))
		}
	}
	t.Log("")
	t.Log("Ladder rows set no parameter: LOO is the prediction with trn2's own DMA point (A4.2) left out.")
	for _, n := range notes {
		t.Log(n)
	}
}

func dashes(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '-'
	}
	return string(b)
}

type ladderStep struct {
	variant string
	ms      float64
}

func readLadder(t *testing.T) []ladderStep {
	t.Helper()
	f, err := os.Open("../../results/measured/trainium_measured.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := results.ReadMeasured(f, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	var out []ladderStep
	for _, m := range ms {
		if m.Target == "trn2" && m.Kernel == "matmul" && m.DType == "fp32" && m.M == 4096 && m.N == 8192 && m.K == 8192 {
			out = append(out, ladderStep{m.Variant, (m.MeasuredUs - m.HostOverheadUs) / 1e3})
		}
	}
	if len(out) != 4 {
		t.Fatalf("%s: %d ladder rows, want 4", f.Name(), len(out))
	}
	return out
}
