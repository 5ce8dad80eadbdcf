package neuron

import (
	"fmt"
	"math"
	"testing"

	"github.com/trnsim/trnsim/isa"
)

// The DMA fixed cost per transfer is set for each generation from its own
// published point: trn2 from the one-engine 32 KiB transfer in 1416 ns
// (A §4.2), trn1 from the BW table's 17 B/ns at 32 KiB with the ~70%
// large-transfer utilisation (A §1.1, §3.3), trn3 from the table's 33 B/ns
// (A §1.1). The tests below check that these independent settings describe
// one mechanism, so that facts of one generation predict the others.

// theoreticalBpns is each generation's published theoretical DMA engine
// rate (A §1.1 [P DMAov]): 27.2 GB/s on NC-v2 and NC-v3, 38.4 on NC-v4.
var theoreticalBpns = map[string]float64{"trn1": 27.2, "trn2": 27.2, "trn3": 38.4}

// withDMAFixed returns c with its per-transfer fixed cost set to f ns and
// its asymptote kept: the sustained rate at the reference size follows.
func withDMAFixed(c Config, f float64) Config {
	ref := float64(c.DMARefBytes)
	c.DMASustainedBytesPerNs = ref / (f + ref/c.DMAPeakBytesPerNs)
	return c
}

// TestDMAFixedCostIsPerTransfer: the fixed cost belongs to an engine
// transfer, not to each partition's buffer in its gather list (A §3.3 [P
// DMAov, ArchV2]: a transfer is "a gather list of 8 buffers", one per
// partition). The two generations with the same theoretical engine rate
// (27.2 GB/s) put it at 206.5 ns (trn1, transfers of 8 buffers) and
// 211.3 ns (trn2, the measured transfer has 4): per transfer they agree to
// 2.3%, per buffer they would differ 2×. Reading "~70%" as anything from
// 65% to 75%, trn1's fixed cost lies in [74, 321] ns; with f = f0 + n·fb
// for n buffers that bounds the cost per buffer to fb ≤ 27.5 ns, 13% of
// the transfer's fixed cost. A per-buffer reading (trn1 = 2 × trn2's
// cost per transfer) would make trn1's 32 KiB transfer 15.3 B/ns against
// the table's 17.
//
// The model charges per transfer; the test checks that a transfer's time
// does not depend on how many partitions it serves at equal bytes.
func TestDMAFixedCostIsPerTransfer(t *testing.T) {
	c1, c2 := preset(t, "trn1"), preset(t, "trn2")
	f1, f2 := c1.DMAFixedNs(), c2.DMAFixedNs()
	if d := math.Abs(f1-f2) / f2; d > 0.03 {
		t.Errorf("fixed cost per transfer trn1 %.1f ns, trn2 %.1f ns: %.1f%% apart (want ≤ 3%% on engines of one theoretical rate)", f1, f2, 100*d)
	}
	ref := float64(c1.DMARefBytes)
	var fbHi float64
	for _, u := range []float64{0.65, 0.75} {
		fix := ref/c1.DMASustainedBytesPerNs - ref/(u*27.2)
		// f0 + 8·fb = fix (trn1), f0 + 4·fb = f2 (trn2).
		fbHi = max(fbHi, (fix-f2)/4)
	}
	if fbHi > 0.15*f2 {
		t.Errorf("cost per buffer up to %.1f ns: not small against %.1f ns per transfer", fbHi, f2)
	}
	perBuffer := ref / (2*f2 + ref/c1.DMAPeakBytesPerNs)
	t.Logf("per transfer: trn1 %.1f ns, trn2 %.1f ns; cost per buffer ≤ %.1f ns; a per-buffer reading gives trn1 %.1f B/ns at 32 KiB (table 17)", f1, f2, fbHi, perBuffer)
	if perBuffer > 0.92*17 {
		t.Errorf("per-buffer reading gives %.2f B/ns, within 8%% of the table's 17: the evidence does not separate the readings", perBuffer)
	}

	// The model: [4,4096] and [8,2048] bf16 are one 32 KiB transfer on
	// engine 0 each, 4 and 8 buffers.
	var eng [2]float64
	for i, parts := range []int{4, 8} {
		b := isa.NewBuilder(isa.Trn2(), "buf")
		cols := 32768 / 2 / parts
		x := b.Input("x", isa.BF16, parts, cols)
		sb := b.SBUFPool("sb", 1, cols*2)
		b.Load(sb.Tile(isa.BF16, parts, cols), x.Tile(0, 0, parts, cols))
		r := run(t, b, c2)
		eng[i] = metric(t, r, "dma_engine_busy_percent") / 100 * r.TimeNs
	}
	near(t, "8-buffer transfer", eng[1], eng[0])
}

// TestDMAFixedCostCrossGeneration: the fixed cost is the same number of
// bytes at each generation's theoretical engine rate (a fixed number of
// engine cycles, whatever the clock): 5.62 KB on trn1, 5.75 KB on trn2,
// 5.36 KB on trn3. Each generation's reference point is predicted from
// the other two (their geometric mean), within 2%:
//
//   - trn2's 1416 ns one-engine transfer (A §4.2) from trn1 and trn3;
//   - trn1's 17 B/ns at 32 KiB (A §1.1) and its 272 GB/s aggregate from
//     trn2 and trn3, through the simulator;
//   - trn3's 33 B/ns at 32 KiB (A §1.1) from trn1 and trn2.
func TestDMAFixedCostCrossGeneration(t *testing.T) {
	phi := map[string]float64{}
	for _, g := range PresetNames() {
		c := preset(t, g)
		phi[g] = c.DMAFixedNs() * theoreticalBpns[g]
	}
	t.Logf("fixed cost in bytes at the theoretical rate: trn1 %.0f, trn2 %.0f, trn3 %.0f", phi["trn1"], phi["trn2"], phi["trn3"])
	others := func(g string) float64 {
		lp, n := 0.0, 0
		for _, h := range PresetNames() {
			if h != g {
				lp += math.Log(phi[h])
				n++
			}
		}
		return math.Exp(lp / float64(n))
	}
	for _, g := range PresetNames() {
		t.Run(g, func(t *testing.T) {
			c := preset(t, g)
			pred := withDMAFixed(c, others(g)/theoreticalBpns[g])
			switch g {
			case "trn2":
				// One 32 KiB transfer on one engine: its engine time.
				b := isa.NewBuilder(isa.Trn2(), "dma")
				x := b.Input("x", isa.BF16, 4, 4096)
				sb := b.SBUFPool("sb", 1, 8192)
				b.Load(sb.Tile(isa.BF16, 4, 4096), x.Tile(0, 0, 4, 4096))
				pred.Throttle = false
				r := run(t, b, pred)
				anchor(t, "A4.2 trn2 32 KiB transfer from trn1+trn3 (ns)", 1416, metric(t, r, "dma_engine_busy_percent")/100*r.TimeNs, 0.02)
			case "trn1":
				b := isa.NewBuilder(isa.Trn1(), "dma")
				x := b.Input("x", isa.FP32, 128, 1024)
				sb := b.SBUFPool("sb", 1, 4096)
				b.Load(sb.Tile(isa.FP32, 128, 1024), x.Tile(0, 0, 128, 1024))
				r := run(t, b, pred)
				agg := 524288 / (r.TimeNs - pred.DMAStartLatencyNs)
				anchor(t, "A1.1 trn1 aggregate from trn2+trn3 (GB/s)", 272, agg, 0.02)
				anchor(t, "A1.1 trn1 17 B/ns at 32 KiB from trn2+trn3", 17, agg/16, 0.02)
			case "trn3":
				anchor(t, "A1.1 trn3 33 B/ns at 32 KiB from trn1+trn2", 33, pred.DMASustainedBytesPerNs, 0.02)
			}
		})
	}
}

// TestDMASizeGuidanceEveryPoint checks the size curve of every generation
// against A §3.3 at every size from 64 B to 64 KiB per partition, in
// steps of 2×: one verdict per point, from the engine transfer time
// fixed + 8·bpp/peak (8 partitions per engine) and the HBM share.
//
//   - < 256 B/partition "severely overhead-bound": ≤ 25% of the 64 KiB
//     rate;
//   - 256 B – 2 KiB "improving": each doubling ≥ 10% faster;
//   - ≥ 2 KiB "minimum recommended": ≥ 60% of the 64 KiB rate;
//   - ≥ 4 KiB "saturates": ≥ 85%;
//   - Trn1 "transfer size should be > 32 KiB for ideal bandwidth": on trn1
//     every transfer under 32 KiB is below 90% of the asymptote, every one
//     above it at least 89%.
//
// The percentages turn words into numbers; they are not published.
func TestDMASizeGuidanceEveryPoint(t *testing.T) {
	for _, g := range PresetNames() {
		t.Run(g, func(t *testing.T) {
			c := preset(t, g)
			f := c.DMAFixedNs()
			rate := func(bpp int) float64 {
				per := float64(c.DMAPartitionsPerEngine * bpp)
				return min(float64(c.DMAEngines)*per/(f+per/c.DMAPeakBytesPerNs), c.HBMBytesPerNs)
			}
			sat := rate(64 << 10)
			line := ""
			for bpp := 64; bpp <= 64<<10; bpp *= 2 {
				r := rate(bpp) / sat
				var verdict string
				ok := true
				switch {
				case bpp < 256:
					verdict, ok = "overhead-bound", r <= 0.25
				case bpp < 2048:
					verdict, ok = "improving", rate(2*bpp) >= 1.1*rate(bpp)
				case bpp < 4096:
					verdict, ok = "recommended", r >= 0.60
				default:
					verdict, ok = "saturated", r >= 0.85
				}
				if !ok {
					t.Errorf("%d B/partition: %.0f%% of the 64 KiB rate, A §3.3 says %s", bpp, 100*r, verdict)
				}
				line += fmt.Sprintf(" %d:%.0f%%", bpp, 100*r)
				if g == "trn1" {
					per := float64(c.DMAPartitionsPerEngine * bpp)
					u := per / (f + per/c.DMAPeakBytesPerNs) / c.DMAPeakBytesPerNs
					if (per < 32<<10 && u >= 0.90) || (per > 32<<10 && u < 0.89) {
						t.Errorf("trn1 %g KiB transfer at %.0f%% of the asymptote; A §3.3: > 32 KiB for ideal bandwidth", per/1024, 100*u)
					}
				}
			}
			t.Logf("%s share of the 64 KiB/partition rate:%s", g, line)
		})
	}
}
