package neuron

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim"
)

// The published micro-level figures of docs/hardware.md Part A that the matmul
// ladder (A §4.1, TestMatmulCalibration in kernels) does not cover, each
// checked against the model. A figure's expectation is derived by hand from
// the cost rules the model implements; the test then compares it with the
// published figure within a stated tolerance: tighter for AWS-published
// figures ([P]), looser for third-party ones ([3P], unverified, conditions
// often unstated). Where a published figure conflicts with another, the
// test says which one the model follows and checks that the model sits
// between them.

// anchor logs one row of the anchor table and fails when the relative
// error exceeds tol.
func anchor(t *testing.T, name string, published, predicted, tol float64) {
	t.Helper()
	e := (predicted - published) / published
	verdict := "pass"
	if math.Abs(e) > tol {
		verdict = "MISS"
		t.Errorf("%s: predicted %.4g, published %.4g: %+.1f%% (tolerance ±%.0f%%)", name, predicted, published, 100*e, 100*tol)
	}
	t.Logf("anchor %-44s published %9.4g predicted %9.4g error %+6.1f%% (±%4.1f%%) %s", name, published, predicted, 100*e, 100*tol, verdict)
}

func preset(t *testing.T, name string) Config {
	t.Helper()
	c, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func metric(t *testing.T, r *sim.Report, name string) float64 {
	t.Helper()
	v, ok := r.Metric(name)
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	return v
}

// A §4.2 / §3.3 [P DMAov]: on Trn2 one DMA engine moves 32 KiB HBM→SBUF
// ([4,4096] bf16: four partitions, all served by engine 0) in 1416 ns; a
// [128,128] bf16 load is 16 engines × one 2 KiB transfer each (8
// partitions × 256 B). The trn2 fixed cost per transfer is derived from the
// 1416 ns (Config.DMAFixedNs), so the first figure is the calibration
// source, checked here to 0.1% against drift; the second checks the split.
func TestAnchorDMASingleEngine(t *testing.T) {
	c := trn2NoThrottle(t)
	cases := []struct {
		name        string
		parts, cols int // bf16
		transfers   int
		perEngine   int // bytes per transfer
	}{
		{"[4,4096] bf16", 4, 4096, 1, 32768},
		{"[128,128] bf16", 128, 128, 16, 2048},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := isa.NewBuilder(isa.Trn2(), "dma")
			x := b.Input("x", isa.BF16, tc.parts, tc.cols)
			sb := b.SBUFPool("sb", 1, tc.cols*2)
			b.Load(sb.Tile(isa.BF16, tc.parts, tc.cols), x.Tile(0, 0, tc.parts, tc.cols))
			r := run(t, b, c)
			// One engine transfer: the fixed cost plus the bytes at the
			// engine's peak rate; the HBM share (362.5 B/ns) is faster.
			engine := dmaFixed2 + float64(tc.perEngine)/peakBpns
			near(t, "busiest DMA engine", metric(t, r, "dma_engine_busy_percent")/100*r.TimeNs, engine)
			near(t, "TimeNs", r.TimeNs, dgeNs+startNs+engine)
			near(t, "average_dma_size", metric(t, r, "average_dma_size"), float64(tc.perEngine))
			near(t, "transfers", float64(tc.parts*tc.cols*2)/metric(t, r, "average_dma_size"), float64(tc.transfers))
			if tc.transfers == 1 {
				anchor(t, "A4.2 one DMA engine, 32 KiB, trn2 (ns)", 1416, engine, 0.001)
			}
		})
	}
}

// A §3.3 [P Perf Opt #9]: on Trn1 a 128×1024 fp32 load is 16 transfers of
// 32 KiB (8 partitions × 4 KiB), each at the BW table's 17 B/ns (A §1.1):
// 1927.5 ns on every engine at once, after the 1300 ns semaphore-to-start
// latency (descriptors are static on NC-v2: no DGE time). 512 KiB over
// 1927.5 ns is 272 GB/s, the table's per-core aggregate, under the HBM
// share (410 GB/s).
func TestAnchorDMATrn1Transfer(t *testing.T) {
	c := preset(t, "trn1")
	b := isa.NewBuilder(isa.Trn1(), "dma")
	x := b.Input("x", isa.FP32, 128, 1024)
	sb := b.SBUFPool("sb", 1, 4096)
	b.Load(sb.Tile(isa.FP32, 128, 1024), x.Tile(0, 0, 128, 1024))
	r := run(t, b, c)
	near(t, "TimeNs", r.TimeNs, startNs+32768/17.0)
	near(t, "average_dma_size", metric(t, r, "average_dma_size"), 32768)
	anchor(t, "A1.1 trn1 DMA aggregate, 32 KiB transfers (GB/s)", 272, 524288/(r.TimeNs-startNs), 0.001)
}

// A §3.3 [P DMAov]: each of the 16 engines writes a 4 B semaphore for every
// transfer, so the core always waits for all 16. An engine writes it in its
// queue's order: a load that moves data on engine 0 only still completes
// after the earlier transfers of its queue on the other engines.
func TestAnchorDMASemaphoreWrites(t *testing.T) {
	c := trn2NoThrottle(t)
	for _, sameQueue := range []bool{true, false} {
		b := isa.NewBuilder(isa.Trn2(), "sem")
		x := b.Input("x", isa.BF16, 128, 4096)
		sb := b.SBUFPool("sb", 1, 8192)
		tile := sb.Tile(isa.BF16, 128, 4096)
		// Partitions 64..127: engines 8..15, 64 KiB each.
		b.Load(tile.Rows(64, 64), x.Tile(64, 0, 64, 4096))
		// Partitions 0..3: engine 0 alone, 32 KiB.
		b.Load(tile.Rows(0, 4), x.Tile(0, 0, 4, 4096))
		marked, err := b.Program()
		if err != nil {
			t.Fatal(err)
		}
		p := &isa.Program{Name: marked.Name, Tensors: marked.Tensors, Instrs: slices.Clone(marked.Instrs), Sites: marked.Sites}
		p.Instrs[0].Queue, p.Instrs[1].Queue = 0, 1
		if sameQueue {
			p.Instrs[1].Queue = 0
		}
		r, err := Run(p, c)
		if err != nil {
			t.Fatal(err)
		}
		// Both pass a DGE instance (600 ns) and the start latency at once.
		t0 := float64(dgeNs + startNs)
		wideEnd := t0 + dmaFixed2 + 65536/peakBpns // 4520.7 ns
		// The narrow load's engine is free, but its 32 KiB of HBM traffic
		// queues behind the wide load's 512 KiB on the core's HBM share.
		narrowEnd := t0 + (524288+32768)/hbm2 // 3436.7 ns
		if sameQueue {
			narrowEnd = wideEnd // engines 8..15 write its semaphore after the wide load
		}
		near(t, fmt.Sprintf("same queue %v: wide load end", sameQueue), r.Spans.At(0).End, wideEnd)
		near(t, fmt.Sprintf("same queue %v: narrow load end", sameQueue), r.Spans.At(1).End, narrowEnd)
	}
}

// A §3.3 size guidance [P DMAbw, DMAov]: below 256 B per partition a load
// is severely overhead-bound, from 256 B to 2 KiB it improves, from 4 KiB
// per partition it saturates; on Trn1 transfers should exceed 32 KiB (4 KiB
// per partition) for ideal bandwidth and reach "~70% DMA throughput
// utilization" when sufficiently large [P Perf Opt #9].
//
// The throughput of a stream of [128, bpp] loads (fresh buffers, all
// queues) is measured from its completions, so the trigger latencies drop
// out. "Saturated" is taken as ≥ 85% of the rate at 32 KiB per partition;
// "severely overhead-bound" as ≤ 25% of it; "improving" as ≥ 10% more per
// doubling. These thresholds turn words into numbers: they are not
// published.
func TestAnchorDMASizeCurve(t *testing.T) {
	sizes := []int{64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768}
	for _, g := range PresetNames() {
		t.Run(g, func(t *testing.T) {
			c := preset(t, g)
			rate := map[int]float64{}
			for _, bpp := range sizes {
				rate[bpp] = dmaStreamRate(t, c, bpp)
			}
			sat := rate[32768]
			line := ""
			for _, bpp := range sizes {
				line += fmt.Sprintf(" %d:%.0f", bpp, rate[bpp])
			}
			t.Logf("%s B/ns by bytes/partition:%s (HBM share %.1f)", g, line, c.HBMBytesPerNs)
			for _, bpp := range []int{64, 128} {
				if f := rate[bpp] / sat; f > 0.25 {
					t.Errorf("%d B/partition runs at %.0f%% of saturation; A §3.3 says severely overhead-bound", bpp, 100*f)
				}
			}
			for bpp := 256; bpp < 2048; bpp *= 2 {
				if rate[2*bpp] < 1.1*rate[bpp] {
					t.Errorf("%d → %d B/partition: %.0f → %.0f B/ns; A §3.3 says still improving", bpp, 2*bpp, rate[bpp], rate[2*bpp])
				}
			}
			for _, bpp := range []int{4096, 8192, 16384} {
				if f := rate[bpp] / sat; f < 0.85 {
					t.Errorf("%d B/partition runs at %.0f%% of the 32 KiB/partition rate; A §3.3 says saturated from 4 KiB", bpp, 100*f)
				}
			}
			if g == "trn1" {
				// Utilisation against the 16 engines' theoretical 27.2 GB/s.
				anchor(t, "A3.3 trn1 DMA utilisation, large transfers", 0.70, sat/(16*27.2), 0.10)
			}
		})
	}
}

// dmaStreamRate returns the bytes per ns at which a stream of [128, bpp]
// bf16 loads into distinct SBUF tiles completes.
func dmaStreamRate(t *testing.T, c Config, bpp int) float64 {
	t.Helper()
	cols := bpp / 2
	n := min(32, (c.Arch().SBUFPartitionBytes-(32<<10))/bpp)
	b := isa.NewBuilder(c.Arch(), "dma")
	x := b.Input("x", isa.BF16, 128*n, cols)
	sb := b.SBUFPool("sb", n, bpp)
	for i := 0; i < n; i++ {
		b.Load(sb.Tile(isa.BF16, 128, cols), x.Tile(128*i, 0, 128, cols))
	}
	r := run(t, b, c)
	ends := make([]float64, n)
	for i, s := range r.Spans.All() {
		ends[i] = s.End
	}
	slices.Sort(ends)
	return float64((n-1)*128*bpp) / (ends[n-1] - ends[0])
}

// A §4.2 / §3.2 [P Perf Opt #5a]: tiny dependent ScalarE activations on
// NC-v2 (one element per partition, each reading the previous one's
// result) issue every ≈ 189 ns = 264 ScalarE cycles at 1.4 GHz.
//
// The model's chain period is the sum of three published rules: MIN_II 64
// cycles (A §3.2, N = 1), the ≈ 60-cycle access latency before the result
// is visible, and the +100 cycles of a back-to-back dependent instruction:
// 224 cycles = 160 ns, 15% under the measurement. Tolerance ±20%: the three
// rules are each stated to one or two significant figures ("≈ 64",
// "≈ 60", "+100") and the measurement is read off a profile ("≈ 189 ns").
// No rule accounts for the remaining 40 cycles, and none is tuned to them.
func TestAnchorScalarDependentChain(t *testing.T) {
	c := preset(t, "trn1")
	b := isa.NewBuilder(isa.Trn1(), "chain")
	sb := b.SBUFPool("sb", 2, 4)
	x, y := sb.Tile(isa.FP32, 128, 1), sb.Tile(isa.FP32, 128, 1)
	const n = 16
	for range n {
		b.Activation(y, x, isa.ActExp)
		x, y = y, x
	}
	r := run(t, b, c)
	ii := (r.Spans.At(n-1).Start - r.Spans.At(1).Start) / (n - 2)
	near(t, "chain II", ii, (64+accessCyc+semCycles)/1.4)
	anchor(t, "A4.2 dependent tiny ScalarE act, trn1 (ns)", 189, ii, 0.20)
}

// A §3.2 [3P deltanet_decode_opt.md]: a Vector op costs ≈ 1 ns per
// free-dimension column whatever the partitions: [128,512] and [1,512] both
// ≈ 685 ns on Trn2/Trn3 (LNC=2; dtype and generation not stated).
//
// A standalone instruction's latency, from its input being ready to its
// result being visible, is the semaphore wait (100 cycles), the II
// (max(MIN_II, N) = 512 cycles for an fp32 tensor_scalar, no performance
// mode) and the access latency (60 cycles): 672 VectorE cycles, 700 ns at
// trn2's 0.96 GHz and 560 ns at trn3's 1.2 GHz. Partitions do not enter
// (A §3.2 "Lanes: cost independent of #partitions"). Tolerance ±20% for a
// third-party figure whose generation and dtype are unstated; the
// published clocks put "1 ns per column" on trn2 (1.04 ns) rather than
// trn3 (0.83 ns).
func TestAnchorVectorOpColumns(t *testing.T) {
	for _, g := range []string{"trn2", "trn3"} {
		c := preset(t, g)
		var lat [2]float64
		for i, parts := range []int{128, 1} {
			b := isa.NewBuilder(c.Arch(), "vec")
			x := b.Input("x", isa.FP32, parts, 512)
			sb := b.SBUFPool("sb", 2, 2048)
			in, out := sb.Tile(isa.FP32, parts, 512), sb.Tile(isa.FP32, parts, 512)
			b.Load(in, x.Tile(0, 0, parts, 512))
			b.TensorScalar(isa.Vector, out, in, isa.ALUMul, isa.Imm(2), isa.ALUBypass, isa.Imm(0))
			r := run(t, b, c)
			lat[i] = r.TimeNs - r.Spans.At(0).End
			near(t, g+" standalone latency", lat[i], (semCycles+512+accessCyc)/c.VectorGHz)
		}
		if lat[0] != lat[1] {
			t.Errorf("%s: [128,512] %.1f ns, [1,512] %.1f ns; want equal", g, lat[0], lat[1])
		}
		anchor(t, "A3.2 Vector op [128|1,512] "+g+" (ns) [3P]", 685, lat[0], 0.20)
	}
}

// A §3.1 [3P deltanet_decode_opt.md]: an identical matmul takes 592 ns
// unthrottled and 1001 ns under the Trn2/Trn3 power throttle (1.69×).
//
// The model's throttle (A §3.1 [P Expl]: ~50% after idle, ramping to full
// over ~3 µs) applies to the MultiplyMoving. An fp32 [128,128]ᵀ·[128,308]
// matmul reproduces the unthrottled 592 ns: LoadStationary 4·32 = 128
// cycles, MM 4·308 = 1232 cycles, access 60: 1420 cycles at 2.4 GHz =
// 591.7 ns. Throttled, the 513.3 ns of MM work starts at a rate of 0.5
// rising by 0.5/3000 per ns: it ends after x with 0.5·x + (0.5/3000)·x²/2
// = 513.3, x = 893.6 ns, 971.9 ns in all: 1.64×. Tolerance ±15% on the
// throttled time: the published ramp is "~50%" and "~3 µs".
func TestAnchorThrottle(t *testing.T) {
	c := preset(t, "trn2")
	prog := func() *isa.Builder {
		b := isa.NewBuilder(isa.Trn2(), "thr")
		sb := b.SBUFPool("sb", 2, 2048)
		ps := b.PSUMPool("ps", 1, 2048)
		b.Matmul(ps.Tile(isa.FP32, 128, 308), sb.Tile(isa.FP32, 128, 128), sb.Tile(isa.FP32, 128, 308), false)
		return b
	}
	free := run(t, prog(), trn2NoThrottle(t))
	thr := run(t, prog(), c)
	near(t, "unthrottled", free.TimeNs, tensorNs(128+1232+accessCyc))
	slope := 0.5 / 3000
	x := (math.Sqrt(0.25+2*slope*tensorNs(1232)) - 0.5) / slope
	near(t, "throttled", thr.TimeNs, tensorNs(128)+x+tensorNs(accessCyc))
	anchor(t, "A3.1 matmul unthrottled (ns) [3P]", 592, free.TimeNs, 0.02)
	anchor(t, "A3.1 same matmul throttled (ns) [3P]", 1001, thr.TimeNs, 0.15)
	anchor(t, "A3.1 throttle slowdown (×) [3P]", 1001.0/592, thr.TimeNs/free.TimeNs, 0.15)
}

// A §3.1 [3P deltanet_decode_opt.md]: "~140 ns per Tensor instruction" as a
// floor (Trn2/Trn3, LNC=2, dtype not stated).
//
// That figure is the time per Tensor instruction seen in a decode kernel,
// where each matmul waits on the engine that produced its input, not the
// rate at which TensorE can issue independent instructions. The evidence
// is in the same source row: it costs a [128,2]-stationary GEMV
// instruction at (128 + N) TensorE cycles, which at N = 2 is 54 ns at
// 2.4 GHz, so the 140 ns holds more than the array's own work; and the
// published issue rule (A §3.1 [P ArchV2] MM_INIT_LATENCY: a
// MultiplyMoving issues at most every 64 cycles) is an independent-issue
// interval. The test checks both readings against the model:
//
//   - independent back-to-back tiny matmuls (moving N = 2, one resident
//     stationary) issue every 64 cycles = 26.7 ns for bf16, 4 × 64 cycles
//     = 106.7 ns for fp32 (A §3.1 fp32 ×4): the published rule, held;
//   - a matmul whose moving operand a VectorE instruction has just written
//     costs, from its producer's result to its own, the semaphore wait
//     (+100 cycles, A §3.2), the MultiplyMoving (64 cycles × passes) and
//     the access latency (60 cycles, A §3.2): 224 cycles = 93.3 ns for
//     bf16, 416 cycles = 173.3 ns for fp32. The third-party 140 ns, dtype
//     unstated, lies between the two and is held to that bracket.
//
// What stays open: the source's "LDWEIGHTS 128 rows" for a 2-column
// stationary conflicts with the published fast LoadStationary (A §3.1:
// up to 4× faster than a MultiplyMoving of the same free size), which the
// model follows; a stationary loaded after its producer is one place the
// two readings would differ (at most 128 cycles, 53 ns, per such matmul).
func TestAnchorTensorFloor(t *testing.T) {
	var dep [2]float64
	for i, tc := range []struct {
		dt     isa.DType
		passes float64
	}{{isa.BF16, 1}, {isa.FP32, 4}} {
		b := isa.NewBuilder(isa.Trn2(), "floor")
		sb := b.SBUFPool("sb", 2, 512)
		ps := b.PSUMPool("ps", 8, 2048)
		st := sb.Tile(tc.dt, 128, 128)
		mv := sb.Tile(tc.dt, 128, 2)
		const n = 32
		for range n {
			b.Matmul(ps.Tile(isa.FP32, 128, 2), st, mv, false)
		}
		r := run(t, b, trn2NoThrottle(t))
		ii := (r.Spans.At(n-1).Start - r.Spans.At(1).Start) / (n - 2)
		near(t, tc.dt.String()+" tiny matmul II", ii, tensorNs(64*tc.passes))
		anchor(t, "A3.1 MM_INIT_LATENCY, independent "+tc.dt.String()+" (cycles)", 64*tc.passes, ii*tensorGHz2, 0.01)

		// The dependent case: VectorE writes the moving operand, TensorE
		// multiplies it by a stationary loaded long before.
		c := trn2NoThrottle(t)
		b = isa.NewBuilder(isa.Trn2(), "floor-dep")
		sb = b.SBUFPool("sb", 2, 512)
		ps = b.PSUMPool("ps", 1, 2048)
		st = sb.Tile(tc.dt, 128, 128)
		mv = sb.Tile(tc.dt, 128, 2)
		b.Memset(isa.Vector, st, 1)
		b.Memset(isa.Vector, mv, 2)
		b.Matmul(ps.Tile(isa.FP32, 128, 2), st, mv, false)
		r = run(t, b, c)
		prodDone := r.Spans.At(1).End + accessCyc/c.VectorGHz
		dep[i] = r.TimeNs - prodDone
		near(t, tc.dt.String()+" dependent matmul latency", dep[i], tensorNs(semCycles+64*tc.passes+accessCyc))
		t.Logf("%s: independent II %.1f ns, dependent latency %.1f ns", tc.dt, ii, dep[i])
	}
	if !(dep[0] < 140 && 140 < dep[1]) {
		t.Errorf("dependent Tensor instruction %.1f ns (bf16) .. %.1f ns (fp32) does not bracket the third-party ~140 ns", dep[0], dep[1])
	}
	t.Logf("anchor %-44s published %9.4g model bf16..fp32 %.4g..%.4g (bracketed; dtype unstated) pass", "A3.1 Tensor instr, dependent (ns) [3P]", 140.0, dep[0], dep[1])
}

// A §3.1 [P ArchV2, ArchV3]: back-to-back LoadStationary(128×128) +
// MultiplyMoving(128×512) pairs reach TensorE's peak; fp32 costs 4× bf16;
// FP8 double-row (v3/v4) does 2× the bf16 FLOPs in the same time.
//
// 64 pairs, a new stationary each: the first LS (32 cycles) is exposed,
// the others run in the background of the previous MM (512 cycles), so
// the run is 32 + 64·512 + 60 cycles: 99.7% of peak. fp32: 128 + 64·2048 +
// 60 cycles (3.996× bf16). FP8 double-row contracts 256 rows per 512-cycle
// MM: twice the FLOPs of bf16 in the same time, against a peak that is
// itself twice bf16's.
func TestAnchorTensorPeak(t *testing.T) {
	const n = 64
	times, flops, pct := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, dt := range []isa.DType{isa.BF16, isa.FP32, isa.FP8E4M3} {
		b := isa.NewBuilder(isa.Trn2(), "peak")
		double := dt.IsFP8()
		sb := b.SBUFPool("sb", 4, 2*512*dt.Size())
		ps := b.PSUMPool("ps", 8, 2048)
		mv := sb.Tile(dt, 128, 512)
		if double {
			mv = sb.Tile(dt, 128, 2, 512)
		}
		for range n {
			st := sb.Tile(dt, 128, 128)
			if double {
				st = sb.Tile(dt, 128, 2, 128)
			}
			b.Matmul(ps.Tile(isa.FP32, 128, 512), st, mv, false)
		}
		r := run(t, b, trn2NoThrottle(t))
		times[dt.String()], flops[dt.String()], pct[dt.String()] = r.TimeNs, r.FLOPs, r.PctPeak()
	}
	near(t, "bf16 time", times["bf16"], tensorNs(32+n*512+accessCyc))
	near(t, "fp32 time", times["fp32"], tensorNs(128+n*2048+accessCyc))
	near(t, "fp8 time", times["fp8e4m3"], times["bf16"])
	near(t, "fp8 FLOPs", flops["fp8e4m3"], 2*flops["bf16"])
	anchor(t, "A3.1 LS+MM pairs, bf16 % of peak", 100, pct["bf16"], 0.01)
	anchor(t, "A3.1 fp32 / bf16 time (×)", 4, times["fp32"]/times["bf16"], 0.01)
	anchor(t, "A3.1 fp8 double-row / bf16 FLOP rate (×)", 2, (flops["fp8e4m3"]/times["fp8e4m3"])/(flops["bf16"]/times["bf16"]), 0.01)
	anchor(t, "A3.1 fp8 double-row % of its peak", 100, pct["fp8e4m3"], 0.01)
}

// A §3.1 [P ISA226 nc_transpose]: a TensorE transpose costs max(P,
// min(64, F)) cycles back-to-back.
func TestAnchorTranspose(t *testing.T) {
	for _, tc := range []struct{ p, f, cyc int }{{128, 128, 128}, {32, 128, 64}, {32, 16, 32}, {128, 32, 128}} {
		b := isa.NewBuilder(isa.Trn2(), "tr")
		sb := b.SBUFPool("sb", 1, 256)
		ps := b.PSUMPool("ps", 8, 2048)
		src := sb.Tile(isa.BF16, tc.p, tc.f)
		const n = 8
		for range n {
			b.Transpose(ps.Tile(isa.FP32, tc.f, tc.p), src)
		}
		r := run(t, b, trn2NoThrottle(t))
		near(t, fmt.Sprintf("[%d,%d] transpose II", tc.p, tc.f), (r.Spans.At(n-1).Start-r.Spans.At(0).Start)/(n-1), tensorNs(float64(tc.cyc)))
	}
}

// A §1.3 [P ArchV2]: on NC-v2 VectorE and ScalarE cannot access PSUM in
// parallel (and VectorE and GpSimdE not SBUF; TestSharedSBUFPort), the
// compiler serialising their instructions; NC-v3 lifts both. Both switches
// are on in the trn1 preset. A VectorE copy out of one PSUM bank and an
// unrelated ScalarE activation out of another run one after the other on
// trn1 (the activation starts when the copy's 2048 cycles end) and together
// on trn2 (the copy, 2048 fp32 columns, outlasts the exp table load hoisted
// before the activation).
func TestAnchorSharedPSUMPort(t *testing.T) {
	for _, g := range []string{"trn1", "trn2"} {
		c := preset(t, g)
		if c.SharedPSUMVectorScalar != (g == "trn1") || c.SharedSBUFVectorGpSimd != (g == "trn1") {
			t.Errorf("%s: shared ports %v/%v, want them on for NC-v2 only", g, c.SharedPSUMVectorScalar, c.SharedSBUFVectorGpSimd)
		}
		b := isa.NewBuilder(c.Arch(), "port")
		sb := b.SBUFPool("sb", 2, 8192)
		ps := b.PSUMPool("ps", 2, 8192)
		b.TensorCopy(isa.Vector, sb.Tile(isa.FP32, 128, 2048), ps.Tile(isa.FP32, 128, 2048))
		b.Activation(sb.Tile(isa.FP32, 128, 512), ps.Tile(isa.FP32, 128, 512), isa.ActExp)
		r := run(t, b, c)
		want := c.ActTableLoadNs // the exp table load, hoisted before it
		if g == "trn1" {
			want = 2048 / c.VectorGHz // 1828.6 ns > 1283 ns
		}
		near(t, g+" activation start", r.Spans.At(1).Start, want)
		port := metric(t, r, "psum_port_busy_percent") / 100 * r.TimeNs
		if g == "trn1" {
			near(t, "trn1 PSUM port busy", port, 2048/c.VectorGHz+512/c.ScalarGHz)
		} else if port != 0 {
			t.Errorf("trn2: PSUM port busy %.1f ns; NC-v3 has no shared port", port)
		}
	}
}

// A §3.4 [P matrix_multiplication.rst]: an NC-v2 bf16 matmul saturates
// TensorE at an arithmetic intensity of at least 222 FLOP/byte.
//
// That figure is the ridge of the paper roofline, peak FLOP/s over the
// core's HBM bandwidth, not a measured knee: 222 FLOP/B × 410 GB/s (the
// HBM share, A §1.1) is 91.0 TFLOPS, the bf16 peak (91.75) to 0.8%, and
// docs/hardware.md's own reading is "⇒ ≈ 413 GB/s effective HBM" [I]. No
// kernel can show it on Trn1: every load goes through the 16 DMA engines,
// which reach "~70% DMA throughput utilization" with sufficiently large
// transfers (A §3.3 [P Perf Opt #9]), 16 × 19.04 = 305 GB/s, so the
// realised knee is at least peak/305 GB/s = 301 FLOP/B whatever the
// transfer size. The test checks both readings: the model's paper ridge
// against the published 222 (±1%), and the model's realised knee against
// its own DMA roofline, which the size curve (A §3.3) moves.
//
// The instrument: a stream of [128,2048] bf16 loads (4 KiB per partition,
// 512 KiB each, where A §3.3 says DMA saturates), each feeding J matmuls
// [128,128]ᵀ·[128,512] against resident stationaries: 32·J FLOP per byte.
// TensorE needs J·512 cycles = 182.9·J ns per load. The DMA needs 1927.5
// ns per load: each engine moves 8 partitions × 4 KiB = 32 KiB at 17 B/ns
// (A §1.1 BW table), the 16 in parallel, 272 GB/s in all (A §1.1 "DMA
// aggregate per NC 272 GB/s"); the HBM share (410 B/ns, 1278.8 ns) is not
// the limit. TensorE is busy min(1, J/10.54) of the time: the knee sits at
// 337 FLOP/byte at this transfer size and falls towards 301 with larger
// transfers.
func TestAnchorMatmulKnee(t *testing.T) {
	c := preset(t, "trn1")
	const loads, cols = 64, 2048
	perLoad := float64(128 * cols * 2)
	dma := max(float64(8*cols*2)/c.DMASustainedBytesPerNs, perLoad/c.HBMBytesPerNs)
	knee := dma * c.TensorGHz / 512 * 32 // FLOP per byte
	for j := 2; j <= 16; j += 2 {
		b := isa.NewBuilder(isa.Trn1(), "knee")
		x := b.Input("x", isa.BF16, 128*loads, cols)
		stp := b.SBUFPool("st", 4, 256)
		in := b.SBUFPool("in", 6, cols*2)
		ps := b.PSUMPool("ps", 8, 2048)
		var st [4]isa.AP
		for i := range st {
			st[i] = stp.Tile(isa.BF16, 128, 128)
			b.Memset(isa.Vector, st[i], 1)
		}
		for l := range loads {
			tile := in.Tile(isa.BF16, 128, cols)
			b.Load(tile, x.Tile(128*l, 0, 128, cols))
			for i := range j {
				b.Matmul(ps.Tile(isa.FP32, 128, 512), st[i%4], tile.Cols(512*(i/4%4), 512), false)
			}
		}
		r := run(t, b, c)
		ai := r.FLOPs / float64(r.Traffic[sim.LevelHBM].Read)
		near(t, "intensity", ai, float64(32*j))
		te, _ := r.Engine("tensor")
		busy := te.BusyNs / r.TimeNs
		want := min(1, ai/knee)
		t.Logf("J=%2d: %3.0f FLOP/B, TensorE %5.1f%% busy (roofline %5.1f%%), bound %s", j, ai, 100*busy, 100*want, r.Bound)
		if math.Abs(busy-want) > 0.04 {
			t.Errorf("J=%d (%.0f FLOP/B): TensorE busy %.1f%%, its roofline %.1f%%", j, ai, 100*busy, 100*want)
		}
	}
	hbmRidge := c.PeakFLOPs(isa.BF16) / c.HBMBytesPerSec()
	dmaRidge := c.PeakFLOPs(isa.BF16) / (16 * 17e9)
	if knee < hbmRidge || knee > dmaRidge*1.001 {
		t.Errorf("knee %.0f FLOP/B outside [%.0f (HBM ridge), %.0f (DMA-table ridge)]", knee, hbmRidge, dmaRidge)
	}
	anchor(t, "A3.4 trn1 bf16 ridge, peak/HBM (FLOP/B)", 222, hbmRidge, 0.01)
	// The realised knee by bytes per partition of the loads: the DMA
	// ridge at the size curve's rate (8 partitions per engine transfer),
	// never under the HBM ridge. It falls with the transfer size and stays
	// above the asymptotic DMA ridge, itself above 222.
	asym := c.PeakFLOPs(isa.BF16) / (float64(c.DMAEngines) * c.DMAPeakBytesPerNs * 1e9)
	prev := math.Inf(1)
	line := ""
	for bpp := 512; bpp <= 64<<10; bpp *= 2 {
		per := float64(c.DMAPartitionsPerEngine * bpp)
		rate := float64(c.DMAEngines) * per / (c.DMAFixedNs() + per/c.DMAPeakBytesPerNs) // B/ns
		k := c.PeakFLOPs(isa.BF16) / (min(rate, c.HBMBytesPerNs) * 1e9)
		line += fmt.Sprintf(" %d:%.0f", bpp, k)
		if k >= prev || k < asym {
			t.Errorf("knee at %d B/partition %.0f FLOP/B: want below %.0f and at least %.0f", bpp, k, prev, asym)
		}
		prev = k
	}
	t.Logf("trn1 realised bf16 knee (FLOP/B) by bytes/partition:%s; asymptote %.0f", line, asym)
	if asym <= 222 {
		t.Errorf("asymptotic DMA ridge %.0f FLOP/B: the published 222 would be reachable", asym)
	}
}

// A §3.1 [P ArchV2, Perf Opt #7]: for a matrix-vector product put the big
// matrix as stationary: a short moving (N = 1) issues every MM_INIT_LATENCY
// = 64 cycles, a short stationary with the matrix moving (N = 128) every
// 128. LoadStationary of a 128-column matrix (32 cycles, A §3.1 fast LS)
// hides behind the previous MultiplyMoving. On trn1, 16 products each.
func TestAnchorMatrixVector(t *testing.T) {
	c := preset(t, "trn1")
	for _, tc := range []struct {
		name          string
		stCols, mvCol int
		cyc           float64
	}{{"matrix stationary", 128, 1, 64}, {"vector stationary", 1, 128, 128}} {
		b := isa.NewBuilder(isa.Trn1(), "gemv")
		sb := b.SBUFPool("sb", 32, 256)
		ps := b.PSUMPool("ps", 8, 2048)
		const n = 16
		for range n {
			b.Matmul(ps.Tile(isa.FP32, tc.stCols, tc.mvCol), sb.Tile(isa.BF16, 128, tc.stCols), sb.Tile(isa.BF16, 128, tc.mvCol), false)
		}
		r := run(t, b, c)
		ii := (r.Spans.At(n-1).Start - r.Spans.At(1).Start) / (n - 2)
		near(t, tc.name+" II", ii, tc.cyc/c.TensorGHz)
		anchor(t, "A3.1 GEMV "+tc.name+" (cycles)", tc.cyc, ii*c.TensorGHz, 0.01)
	}
}

// A §3.2 [P Perf Opt #6]: one activation computing exp(x·scale + bias) is
// 3× faster than a multiply, an add and an exp as three instructions. On
// a stream of eight [128,512] fp32 tiles on trn2's ScalarE (each pass over
// all tiles before the next, so no instruction waits on the one before
// it), three passes of N = 512 cycles against one: ScalarE's compute time
// (its busy time less the one exp table load) is 3× as long.
func TestAnchorFusedActivation(t *testing.T) {
	c := trn2NoThrottle(t)
	times := [2]float64{}
	for i, fused := range []bool{true, false} {
		b := isa.NewBuilder(isa.Trn2(), "act3")
		in := b.SBUFPool("in", 8, 2048)
		mid := b.SBUFPool("mid", 16, 2048)
		out := b.SBUFPool("out", 8, 2048)
		const n = 8
		var x, y, z [n]isa.AP
		for k := range n {
			x[k], y[k], z[k] = in.Tile(isa.FP32, 128, 512), mid.Tile(isa.FP32, 128, 512), mid.Tile(isa.FP32, 128, 512)
		}
		if fused {
			for k := range n {
				b.ActivationWith(out.Tile(isa.FP32, 128, 512), x[k], isa.ActExp, isa.ActArgs{Scale: 0.5, Bias: 1})
			}
		} else {
			for k := range n {
				b.TensorScalar(isa.Scalar, y[k], x[k], isa.ALUMul, isa.Imm(0.5), isa.ALUBypass, isa.Imm(0))
			}
			for k := range n {
				b.TensorScalar(isa.Scalar, z[k], y[k], isa.ALUAdd, isa.Imm(1), isa.ALUBypass, isa.Imm(0))
			}
			for k := range n {
				b.Activation(out.Tile(isa.FP32, 128, 512), z[k], isa.ActExp)
			}
		}
		r := run(t, b, c)
		e, _ := r.Engine("scalar")
		times[i] = e.BusyNs - c.ActTableLoadNs
		passes := []float64{1, 3}[i]
		near(t, "ScalarE compute", times[i], passes*n*512/c.ScalarGHz)
	}
	anchor(t, "A3.2 3-in-1 activation speed-up (×)", 3, times[1]/times[0], 0.01)
}

// A §4.2 [P SDK226 general/nki/tutorials/layernorm.rst]: the NKI LayerNorm
// tutorial on Trn1, input (300, 1000) fp32, v1 p50 2311 µs, v2
// (bn_stats/bn_aggr + tensor_scalar) p50 1969 µs (−14.9%);
// docs/hardware.md's own note: "likely dominated by fixed overhead [I]".
// The kernels are the registry's layernorm variants tutorial_v1 and
// tutorial_v2 (kernels/norm.go), the tutorial's calls one instruction each
// on the engine NKI gives them, over ceil(300/128) = 3 row tiles.
//
// The model gives tens of µs (v1 38.6, v2 29.3): VectorE is the busiest
// engine, 8192 cycles per v1 tile (three passes of N = 1000 and two
// tensor_tensor of 2N, plus three [P,1] statistics at MIN_II), 21.9 µs
// at 1.12 GHz over three tiles; the DMAs add the first load and the last
// store. The mechanism that would make it milliseconds is open; the test
// holds the evidence against each candidate:
//
//   - per-instruction and per-DMA fixed costs: every fixed cost the model
//     charges, summed over the program as if none overlapped — MIN_II, the
//     semaphore wait and the access latency per compute instruction (224
//     cycles, A §3.2), the activation-table load (1283 ns, A §3.2 [3P]),
//     the semaphore-to-start latency (1300 ns, A §3.3) and the fixed cost
//     per transfer per DMA — is under 20 µs for v1, and the published
//     times are more than 100× it. The ~55 µs per instruction the gap
//     needs is 40× the largest published fixed cost.
//   - (a) a fixed per-launch cost of the benchmark harness: no such figure
//     for a NeuronCore is in docs/hardware.md or docs/systems.md (the only
//     start-up figure is a third-party ~13.1 µs per-NEFF instruction
//     stream head, A §3.3), so none is modelled. A constant would also
//     leave v1 − v2 at the kernels' own difference, about 9 µs in the
//     model, where the published difference is 342 µs: the constant that
//     fits v1 predicts v2 17% high.
//   - (b) a benchmarked shape other than the recorded (300, 1000): about
//     100× the elements gets the model to milliseconds — (4096, 8192)
//     gives v1 2410 µs (+4%) and v2 1724 µs (−12%) — but not the v2
//     saving: the model's v2/v1 is 0.76 at (300, 1000) and 0.72 at
//     (4096, 8192), against the published 0.852: v2's bn_stats and one
//     two-op tensor_scalar replace v1's two reductions, subtract and
//     multiply, 6N VectorE cycles per row against 8N.
//     Which engine the compiler gives each nl call, and the shape the
//     tutorial timed, would need the source's benchmark script to settle.
//
// The point is kept rather than tuned: nothing here is fitted to it.
func TestAnchorLayerNormTutorial(t *testing.T) {
	c := preset(t, "trn1")
	reg := kernels.Builtin()
	build := func(spec string) (*isa.Program, *sim.Report) {
		t.Helper()
		p, err := reg.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := kernels.BuildNeuron(isa.Trn1(), p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(prog, c)
		if err != nil {
			t.Fatal(err)
		}
		return prog, r
	}
	published := [2]float64{2311, 1969}
	var us [2]float64
	for i, v := range []string{"tutorial_v1", "tutorial_v2"} {
		prog, r := build("layernorm:tokens=300,hidden=1000,dtype=fp32,variant=" + v)
		us[i] = r.TimeNs / 1e3
		// The instructions: γ and β loads, then per row tile a load, the
		// compute (v1 11 instructions; v2 one bn_stats per 512 columns,
		// bn_aggr and 5 more) and a store.
		var dmas, compute int
		for _, in := range prog.Instrs {
			if in.Engine == isa.DMA {
				dmas++
			} else {
				compute++
			}
		}
		if want := [2]int{3 * 11, 3 * 8}[i]; dmas != 8 || compute != want {
			t.Errorf("%s: %d DMAs and %d compute instructions, want 8 and %d", v, dmas, compute, want)
		}
		// The model's own accounting: no faster than its busiest engine,
		// no slower than its spans end to end plus every wait.
		var serial, busiest float64
		for _, s := range r.Spans.All() {
			serial += s.End - s.Start
		}
		for _, e := range r.Engines {
			if e.Name != "dma" {
				busiest = max(busiest, e.BusyNs)
			}
		}
		if i == 0 {
			ve, _ := r.Engine("vector")
			near(t, "v1 VectorE busy", ve.BusyNs, 3*8192/c.VectorGHz)
		}
		n := float64(len(prog.Instrs))
		pad := n * (c.DMAStartLatencyNs + float64(c.SemaphoreCycles)/c.VectorGHz + c.ActTableLoadNs)
		if r.TimeNs < busiest || r.TimeNs > serial+pad {
			t.Errorf("%s: %.1f µs outside [busiest engine %.1f, serial %.1f + waits %.1f] µs", v, us[i], busiest/1e3, serial/1e3, pad/1e3)
		}
		// Every fixed cost the model has, none overlapped: per compute
		// instruction at the slower clock, one table load, per DMA the
		// start latency and one transfer's fixed cost (its 16 engines'
		// transfers run side by side; NC-v2 has no DGE).
		fixed := float64(compute)*float64(c.MinIICycles+c.SemaphoreCycles+c.AccessLatencyCycles)/min(c.VectorGHz, c.ScalarGHz) +
			c.ActTableLoadNs + float64(dmas)*(c.DMAStartLatencyNs+c.DMAFixedNs())
		if c.DGEInstances > 0 {
			fixed += float64(dmas) * c.DGENs
		}
		if published[i] < 100*fixed/1e3 {
			t.Errorf("%s: fixed costs %.1f µs are more than 1%% of the published %.0f µs: revisit the analysis", v, fixed/1e3, published[i])
		}
		if published[i] < 20*us[i] {
			t.Errorf("%s: model %.1f µs within 20× of the published %.0f µs: revisit the analysis", v, us[i], published[i])
		}
		t.Logf("anchor %-44s published %9.4g predicted %9.4g (%.0f× under; all fixed costs %.1f µs; %.1f µs per instruction missing) OPEN",
			"A4.2 LayerNorm tutorial "+v+", trn1 (µs)", published[i], us[i], published[i]/us[i], fixed/1e3, (published[i]-us[i])/n)
	}
	// (a) A per-call constant fitted to v1 and added to v2.
	pubDiff, modDiff := published[0]-published[1], us[0]-us[1]
	if pubDiff < 20*modDiff {
		t.Errorf("published v1 − v2 %.0f µs is within 20× of the model's %.1f µs: a per-call constant might explain both", pubDiff, modDiff)
	}
	t.Logf("(a) per-call constant %.0f µs fitted to v1 predicts v2 %.0f µs (%+.1f%%): v1 − v2 published %.0f µs, model %.1f µs",
		published[0]-us[0], published[0]-modDiff, 100*(published[0]-modDiff-published[1])/published[1], pubDiff, modDiff)
	// (b) The same kernels at a larger shape.
	var big [2]float64
	for i, v := range []string{"tutorial_v1", "tutorial_v2"} {
		_, r := build("layernorm:tokens=4096,hidden=8192,dtype=fp32,variant=" + v)
		big[i] = r.TimeNs / 1e3
		if f := big[i] / published[i]; f < 0.5 || f > 2 {
			t.Errorf("%s at (4096, 8192): %.0f µs, %.2f× the published time; the analysis says within 2×", v, big[i], f)
		}
	}
	ratio, bigRatio, pubRatio := us[1]/us[0], big[1]/big[0], published[1]/published[0]
	t.Logf("(b) at (4096, 8192): v1 %.0f µs (%+.1f%%), v2 %.0f µs (%+.1f%%)", big[0], 100*(big[0]/published[0]-1), big[1], 100*(big[1]/published[1]-1))
	t.Logf("anchor %-44s published %9.4g predicted %9.4g at (300,1000), %.4g at (4096,8192) OPEN",
		"A4.2 LayerNorm tutorial v2/v1, trn1", pubRatio, ratio, bigRatio)
	// The v2 saving stays larger in the model than published at either
	// shape: the open half of (b).
	for _, r := range []float64{ratio, bigRatio} {
		if r > 0.95*pubRatio || r < 0.6 {
			t.Errorf("model v2/v1 %.3f: the analysis says 0.6 to 5%% under the published %.3f; revisit it", r, pubRatio)
		}
	}
}

// A §3.2 [P ISA226]: bn_stats costs max(MIN_II, N) VectorE cycles, N the
// input's free size (≤ 512, A §1.4); bn_aggr max(MIN_II, 13·(N/3)), N the
// (count, mean, count·var) values it reads.
func TestAnchorBNCost(t *testing.T) {
	c := preset(t, "trn1")
	sb := func(n int) isa.AP {
		return isa.AP{Mem: isa.SBUF, DType: isa.FP32, Parts: 128}.WithDims(isa.Dim{Stride: 1, Count: int32(n)})
	}
	for _, tc := range []struct {
		name string
		op   isa.Opcode
		src  int
		cyc  float64
	}{
		{"bn_stats 512", isa.OpBNStats, 512, 512},
		{"bn_stats 488", isa.OpBNStats, 488, 488},
		{"bn_stats 16", isa.OpBNStats, 16, 64},
		{"bn_aggr of 2 bn_stats", isa.OpBNAggr, 12, 64}, // 13·4 = 52 < MIN_II
		{"bn_aggr of 16 bn_stats", isa.OpBNAggr, 96, 13 * 32},
	} {
		w := isa.BNStatsWidth
		if tc.op == isa.OpBNAggr {
			w = isa.BNAggrWidth
		}
		in := isa.Instr{Op: tc.op, Engine: isa.Vector, Dst: sb(w), Src: [3]isa.AP{sb(tc.src)}}
		near(t, tc.name+" cycles", c.engineCycles(&in), tc.cyc)
	}
}
