package neuron

import (
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// Published figures the expectations below are derived from (docs/hardware.md
// Part A), restated so each test reads as a hand calculation.
const (
	tensorGHz2 = 2.4  // trn2 TensorE clock
	vectorGHz2 = 0.96 // trn2 VectorE clock
	scalarGHz2 = 1.2  // trn2 ScalarE clock
	accessCyc  = 60   // access latency, cycles of the engine
	semCycles  = 100  // dependent-instruction overhead, cycles of the consumer
	dgeNs      = 600  // hwdge per DMA instruction
	startNs    = 1300 // DMA semaphore-to-start latency
	peakBpns   = 27.2 // DMA engine peak, B/ns
	hbm2       = 362.5
)

// dmaFixed2 is the trn2 per-transfer engine cost: a 32 KiB transfer takes
// the measured 1416 ns.
const dmaFixed2 = 1416 - 32768/peakBpns

func trn2NoThrottle(t *testing.T) Config {
	t.Helper()
	c, err := Preset("trn2")
	if err != nil {
		t.Fatal(err)
	}
	c.Throttle = false
	return c
}

func run(t *testing.T, b *isa.Builder, c Config) *sim.Report {
	t.Helper()
	p, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(p, c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6*max(1, math.Abs(want)) {
		t.Errorf("%s = %.6f, want %.6f", what, got, want)
	}
}

// tensorNs converts TensorE cycles to ns on trn2.
func tensorNs(cyc float64) float64 { return cyc / tensorGHz2 }

func TestMatmulCosts(t *testing.T) {
	cases := []struct {
		name     string
		dt       isa.DType
		m, n     int
		wantCyc  float64 // LS + MM + access latency, TensorE cycles
		wantFLOP float64
	}{
		// LS = 128 columns / 4 per cycle = 32; MM = max(64, 512) = 512.
		{"bf16 128x512", isa.BF16, 128, 512, 32 + 512 + accessCyc, 2 * 128 * 128 * 512},
		// fp32: both ×4: LS 128, MM 2048.
		{"fp32 128x512", isa.FP32, 128, 512, 128 + 2048 + accessCyc, 2 * 128 * 128 * 512},
		// Short moving: MM = MIN_II 64; LS of 64 columns = 16.
		{"bf16 64x32", isa.BF16, 64, 32, 16 + 64 + accessCyc, 2 * 128 * 64 * 32},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := isa.NewBuilder(isa.Trn2(), "mm")
			sb := b.SBUFPool("sb", 2, 2048)
			ps := b.PSUMPool("ps", 1, 2048)
			st, mv := sb.Tile(tc.dt, 128, tc.m), sb.Tile(tc.dt, 128, tc.n)
			b.Matmul(ps.Tile(isa.FP32, tc.m, tc.n), st, mv, false)
			r := run(t, b, trn2NoThrottle(t))
			near(t, "TimeNs", r.TimeNs, tensorNs(tc.wantCyc))
			near(t, "FLOPs", r.FLOPs, tc.wantFLOP)
			if r.Bound != "tensor" {
				t.Errorf("Bound = %q, want tensor", r.Bound)
			}
			if r.Cycles != int64(math.Round(tc.wantCyc)) {
				t.Errorf("Cycles = %d, want %v", r.Cycles, tc.wantCyc)
			}
		})
	}
}

// Four back-to-back bf16 matmuls [128,128]ᵀ·[128,512]: with one stationary
// reused, LS runs once; with a new stationary each time, each LS (32
// cycles) runs in the background of the previous MM (512 cycles). Either
// way the time is 32 + 4·512 + 60 cycles.
func TestBackToBackMatmuls(t *testing.T) {
	for _, reuse := range []bool{true, false} {
		b := isa.NewBuilder(isa.Trn2(), "mm4")
		sb := b.SBUFPool("sb", 8, 1024)
		ps := b.PSUMPool("ps", 4, 2048)
		var st isa.AP
		for i := 0; i < 4; i++ {
			if i == 0 || !reuse {
				st = sb.Tile(isa.BF16, 128, 128)
			}
			b.Matmul(ps.Tile(isa.FP32, 128, 512), st, sb.Tile(isa.BF16, 128, 512), false)
		}
		r := run(t, b, trn2NoThrottle(t))
		near(t, "TimeNs", r.TimeNs, tensorNs(32+4*512+accessCyc))
		e, _ := r.Engine("tensor")
		near(t, "tensor busy", e.BusyNs, tensorNs(32+4*512))
		// The spans are back to back: MM i starts at 32 + 512·i cycles.
		for i, s := range r.Spans.All() {
			wantStart := tensorNs(32 + 512*float64(i))
			if i == 0 {
				wantStart = 0 // the first span includes its exposed LS
			}
			near(t, "span start", s.Start, wantStart)
			near(t, "span end", s.End, tensorNs(32+512*float64(i+1)))
		}
	}
}

// A matmul and an unrelated Vector copy overlap: the time is the longer
// of the two, not their sum.
func TestIndependentEnginesOverlap(t *testing.T) {
	b := isa.NewBuilder(isa.Trn2(), "overlap")
	sb := b.SBUFPool("sb", 4, 4096)
	ps := b.PSUMPool("ps", 1, 2048)
	b.Matmul(ps.Tile(isa.FP32, 128, 512), sb.Tile(isa.FP32, 128, 128), sb.Tile(isa.FP32, 128, 512), false)
	b.TensorCopy(isa.Vector, sb.Tile(isa.FP32, 128, 1024), sb.Tile(isa.FP32, 128, 1024))
	r := run(t, b, trn2NoThrottle(t))
	mm := tensorNs(128 + 2048 + accessCyc)   // 931.67 ns
	cp := (1024 + accessCyc) / vectorGHz2    // fp32 copy: N = 1024 cycles, no perf mode
	near(t, "TimeNs", r.TimeNs, max(mm, cp)) // 1129.17 ns
	if r.Spans.At(1).Start != 0 || r.Spans.At(1).Waited != "" {
		t.Errorf("vector span %+v: want start 0, no wait", r.Spans.At(1))
	}
}

// A Vector copy of the matmul's PSUM result waits for it: it starts a
// semaphore wait (100 Vector cycles) after the matmul completes.
func TestDependencySerialises(t *testing.T) {
	b := isa.NewBuilder(isa.Trn2(), "dep")
	sb := b.SBUFPool("sb", 4, 4096)
	ps := b.PSUMPool("ps", 1, 2048)
	acc := ps.Tile(isa.FP32, 128, 512)
	b.Matmul(acc, sb.Tile(isa.FP32, 128, 128), sb.Tile(isa.FP32, 128, 512), false)
	b.TensorCopy(isa.Vector, sb.Tile(isa.FP32, 128, 512), acc)
	r := run(t, b, trn2NoThrottle(t))
	mm := tensorNs(128 + 2048 + accessCyc)
	start := mm + semCycles/vectorGHz2
	near(t, "copy start", r.Spans.At(1).Start, start)
	near(t, "TimeNs", r.TimeNs, start+(512+accessCyc)/vectorGHz2)
	if r.Spans.At(1).Waited != "sem:tensor" {
		t.Errorf("Waited = %q, want sem:tensor", r.Spans.At(1).Waited)
	}
}

// One HBM→SBUF load: DGE (600 ns), semaphore-to-start (1300 ns), then each
// DMA engine moves its 8 partitions in fixed + bytes/27.2 ns, unless the
// core's HBM share (362.5 B/ns) is slower.
func TestDMACost(t *testing.T) {
	cases := []struct {
		name        string
		parts, cols int // fp32 tile
		want        float64
	}{
		// 4 KiB/partition → 32 KiB per engine = the measured 1416 ns; but
		// 512 KiB over HBM takes 524288/362.5 = 1446.3 ns: HBM bounds.
		{"128x1024", 128, 1024, dgeNs + startNs + 524288/hbm2},
		// 256 B/partition: 2 KiB per engine, overhead-bound.
		{"128x64", 128, 64, dgeNs + startNs + dmaFixed2 + 2048/peakBpns},
		// 8 partitions: one engine, 32 KiB: the measured single-engine
		// transfer.
		{"8x1024", 8, 1024, dgeNs + startNs + 1416},
		// 12 partitions starting at 0: engines 0 (8 rows) and 1 (4 rows).
		{"12x512", 12, 512, dgeNs + startNs + dmaFixed2 + 8*2048/peakBpns},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := isa.NewBuilder(isa.Trn2(), "dma")
			x := b.Input("x", isa.FP32, tc.parts, tc.cols)
			sb := b.SBUFPool("sb", 1, 4096)
			b.Load(sb.Tile(isa.FP32, tc.parts, tc.cols), x.Tile(0, 0, tc.parts, tc.cols))
			r := run(t, b, trn2NoThrottle(t))
			near(t, "TimeNs", r.TimeNs, tc.want)
			if got := r.Traffic[sim.LevelHBM].Read; got != int64(tc.parts*tc.cols*4) {
				t.Errorf("HBM read = %d, want %d", got, tc.parts*tc.cols*4)
			}
			if r.Bound != "dma" && r.Bound != "hbm" {
				t.Errorf("Bound = %q, want dma or hbm", r.Bound)
			}
		})
	}
}

// On trn1 descriptors are static (no DGE time) and the fixed cost follows
// from the 17 B/ns sustained rate at 32 KiB.
func TestDMACostTrn1(t *testing.T) {
	c, _ := Preset("trn1")
	b := isa.NewBuilder(isa.Trn1(), "dma")
	x := b.Input("x", isa.FP32, 8, 1024)
	sb := b.SBUFPool("sb", 1, 4096)
	b.Load(sb.Tile(isa.FP32, 8, 1024), x.Tile(0, 0, 8, 1024))
	r := run(t, b, c)
	near(t, "TimeNs", r.TimeNs, startNs+32768/17.0)
}

// Load a [128,512] fp32 tile and copy it on VectorE, four times. With one
// buffer each load waits for the previous copy (write-after-read); with
// two, the next load overlaps the current copy.
func TestDoubleBuffering(t *testing.T) {
	load := dmaFixed2 + 8*2048/peakBpns // 813.64 ns per engine; HBM needs 723 ns
	sem := semCycles / vectorGHz2
	cp := 512 / vectorGHz2
	lat := accessCyc / vectorGHz2
	// Single buffer: every iteration is the whole chain.
	period := dgeNs + startNs + load + sem + cp + lat
	// Double buffer, derived step by step in the comments of the trace:
	// loads 0 and 1 both issue at 0 and share the engines (1900..2713.6,
	// 2713.6..3527.3); copy 1 waits for load 1; loads 2 and 3 wait for
	// copies 0 and 1; from then on two iterations take one chain.
	copy1Done := dgeNs + startNs + 2*load + sem + cp + lat
	copy0Done := dgeNs + startNs + load + sem + cp + lat
	load3End := max(copy0Done+dgeNs+startNs+load, copy1Done+dgeNs+startNs) + load
	copy3Done := load3End + sem + cp + lat
	want := map[int]float64{1: 4 * period, 2: copy3Done}
	got := map[int]float64{}
	for _, bufs := range []int{1, 2} {
		b := isa.NewBuilder(isa.Trn2(), "dbuf")
		x := b.Input("x", isa.FP32, 4*128, 512)
		in := b.SBUFPool("in", bufs, 2048)
		out := b.SBUFPool("out", 4, 2048)
		for i := 0; i < 4; i++ {
			tl := in.Tile(isa.FP32, 128, 512)
			b.Load(tl, x.Tile(128*i, 0, 128, 512))
			b.TensorCopy(isa.Vector, out.Tile(isa.FP32, 128, 512), tl)
		}
		r := run(t, b, trn2NoThrottle(t))
		got[bufs] = r.TimeNs
		near(t, "TimeNs", r.TimeNs, want[bufs])
	}
	if !(got[2] < got[1]) {
		t.Errorf("double-buffered %.1f ns not faster than single %.1f ns", got[2], got[1])
	}
}

// Activation-table switches: exp then silu need two table loads (1283 ns
// each), hoisted into ScalarE's idle time before each instruction.
func TestActivationTableSwitch(t *testing.T) {
	b := isa.NewBuilder(isa.Trn2(), "act")
	sb := b.SBUFPool("sb", 4, 2048)
	b.Activation(sb.Tile(isa.FP32, 128, 512), sb.Tile(isa.FP32, 128, 512), isa.ActExp)
	b.Activation(sb.Tile(isa.FP32, 128, 512), sb.Tile(isa.FP32, 128, 512), isa.ActSilu)
	r := run(t, b, trn2NoThrottle(t))
	act := 512 / scalarGHz2
	near(t, "TimeNs", r.TimeNs, 2*(1283+act)+accessCyc/scalarGHz2)
	if r.Spans.At(1).Waited != "act_table_load" {
		t.Errorf("Waited = %q, want act_table_load", r.Spans.At(1).Waited)
	}
	// Same function twice: one load.
	b = isa.NewBuilder(isa.Trn2(), "act")
	sb = b.SBUFPool("sb", 4, 2048)
	b.Activation(sb.Tile(isa.FP32, 128, 512), sb.Tile(isa.FP32, 128, 512), isa.ActExp)
	b.Activation(sb.Tile(isa.FP32, 128, 512), sb.Tile(isa.FP32, 128, 512), isa.ActExp)
	r = run(t, b, trn2NoThrottle(t))
	near(t, "TimeNs", r.TimeNs, 1283+2*act+accessCyc/scalarGHz2)
}

// Vector/Scalar/GpSimd cost rules of A §3.2, as initiation intervals.
func TestEngineCycles(t *testing.T) {
	c2, _ := Preset("trn2")
	c1, _ := Preset("trn1")
	b := isa.NewBuilder(isa.Trn2(), "x")
	sb := b.SBUFPool("sb", 4, 8192)
	ps := b.PSUMPool("ps", 1, 2048)
	f32, b16 := sb.Tile(isa.FP32, 128, 512), sb.Tile(isa.BF16, 128, 512)
	p32 := ps.Tile(isa.FP32, 128, 512)
	strided := sb.Tile(isa.FP32, 128, 1024).WithDims(isa.Dim{Stride: 8, Count: 128})
	cases := []struct {
		name string
		c    Config
		in   isa.Instr
		want float64
	}{
		{"tensor_copy fp32", c2, isa.Instr{Op: isa.OpTensorCopy, Engine: isa.Vector, Dst: f32, Src: [3]isa.AP{f32}}, 512},
		{"tensor_copy bf16 perf 4x", c2, isa.Instr{Op: isa.OpTensorCopy, Engine: isa.Vector, Dst: b16, Src: [3]isa.AP{b16}}, 128},
		{"tensor_copy bf16 trn1", c1, isa.Instr{Op: isa.OpTensorCopy, Engine: isa.Vector, Dst: b16, Src: [3]isa.AP{b16}}, 512},
		{"tensor_tensor sbuf+psum", c2, isa.Instr{Op: isa.OpTensorTensor, Engine: isa.Vector, Dst: f32, Src: [3]isa.AP{f32, p32}, ALU: [2]isa.ALUOp{isa.ALUAdd}}, 512},
		{"tensor_tensor sbuf+sbuf fp32", c2, isa.Instr{Op: isa.OpTensorTensor, Engine: isa.Vector, Dst: f32, Src: [3]isa.AP{f32, f32}, ALU: [2]isa.ALUOp{isa.ALUAdd}}, 1024},
		{"tensor_tensor bf16 perf 2x", c2, isa.Instr{Op: isa.OpTensorTensor, Engine: isa.Vector, Dst: b16, Src: [3]isa.AP{b16, b16}, ALU: [2]isa.ALUOp{isa.ALUMax}}, 512},
		{"tensor_scalar divide", c2, isa.Instr{Op: isa.OpTensorScalar, Engine: isa.Vector, Dst: f32, Src: [3]isa.AP{f32}, ALU: [2]isa.ALUOp{isa.ALUDiv}}, 8 * 512},
		{"tensor_reduce bf16", c2, isa.Instr{Op: isa.OpTensorReduce, Engine: isa.Vector, Dst: sb.Tile(isa.BF16, 128, 1), Src: [3]isa.AP{b16}, ALU: [2]isa.ALUOp{isa.ALUAdd}, Axes: 1}, 256},
		{"memset zero bf16", c2, isa.Instr{Op: isa.OpMemset, Engine: isa.Vector, Dst: b16}, 256},
		{"memset tiny", c2, isa.Instr{Op: isa.OpMemset, Engine: isa.Vector, Dst: sb.Tile(isa.FP32, 128, 8)}, 64},
		{"iota", c2, isa.Instr{Op: isa.OpIota, Engine: isa.GpSimd, Dst: f32}, 150 + 512},
		{"activation reduce", c2, isa.Instr{Op: isa.OpActivation, Engine: isa.Scalar, Dst: f32, Src: [3]isa.AP{f32}, Red: sb.Tile(isa.FP32, 128, 1)}, 512 + 64},
		{"strided operand halves rate", c2, isa.Instr{Op: isa.OpTensorCopy, Engine: isa.Vector, Dst: sb.Tile(isa.FP32, 128, 128), Src: [3]isa.AP{strided}}, 256},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.engineCycles(&tc.in); got != tc.want {
				t.Errorf("cycles = %v, want %v", got, tc.want)
			}
		})
	}
}

// The throttle: a lone fp32 matmul after idle runs its 853.3 ns MM under a
// limit that rises from 50% to 100% over 3 µs: x solves
// 0.5·x + (0.5/3000)·x²/2 = 853.33.
func TestThrottle(t *testing.T) {
	c, _ := Preset("trn2")
	b := isa.NewBuilder(isa.Trn2(), "thr")
	sb := b.SBUFPool("sb", 2, 2048)
	ps := b.PSUMPool("ps", 1, 2048)
	b.Matmul(ps.Tile(isa.FP32, 128, 512), sb.Tile(isa.FP32, 128, 128), sb.Tile(isa.FP32, 128, 512), false)
	r := run(t, b, c)
	slope := 0.5 / 3000
	x := (math.Sqrt(0.25+2*slope*tensorNs(2048)) - 0.5) / slope
	near(t, "TimeNs", r.TimeNs, tensorNs(128)+x+tensorNs(accessCyc))
	th, _ := r.Metric("throttle_time_percent")
	near(t, "throttle_time_percent", th, x/r.TimeNs*100)

	// Beyond the ramp: 3 µs at the ramp's average rate 0.75 does 2250 ns of
	// work; the rest runs at full speed.
	near(t, "rampEnd", rampEnd(0, 5000, 0, 0.5, 3000), 3000+(5000-2250))
	near(t, "rampEnd mid-ramp", rampEnd(3000, 100, 0, 0.5, 3000), 3100)
}

// PSUM has 8 banks, so at most 8 accumulation groups are open: a ninth
// group rotating into bank 0 waits for the Vector copy that evicts the
// first. VectorE is kept busy by a long memset first (8192 fp32 elements:
// 8192 cycles), so the evictions come late.
func TestPSUMBanksLimitGroups(t *testing.T) {
	b := isa.NewBuilder(isa.Trn2(), "banks")
	sb := b.SBUFPool("sb", 2, 1024)
	big := b.SBUFPool("big", 1, 32768)
	out := b.SBUFPool("out", 9, 2048)
	ps := b.PSUMPool("ps", 8, 2048)
	st, mv := sb.Tile(isa.BF16, 128, 128), sb.Tile(isa.BF16, 128, 512)
	b.Memset(isa.Vector, big.Tile(isa.FP32, 128, 8192), 1)
	for g := 0; g < 9; g++ {
		acc := ps.Tile(isa.FP32, 128, 512)
		b.Matmul(acc, st, mv, false)
		b.TensorCopy(isa.Vector, out.Tile(isa.FP32, 128, 512), acc)
	}
	r := run(t, b, trn2NoThrottle(t))
	ninth := r.Spans.At(17)
	if ninth.Op != "nc_matmul" || ninth.Waited != "sem:vector" {
		t.Fatalf("ninth group span %+v: want a matmul waiting on sem:vector", ninth)
	}
	copy0Done := (8192 + 512 + accessCyc) / vectorGHz2
	near(t, "ninth group start", ninth.Start, copy0Done+tensorNs(semCycles))
	for g := 1; g < 8; g++ {
		if w := r.Spans.At(1 + 2*g).Waited; w != "" {
			t.Errorf("group %d waited on %q; the first eight need no eviction", g, w)
		}
	}
}

func TestDeterministic(t *testing.T) {
	p := tiledProgram(t, 512, 1024, 512, 4)
	c, _ := Preset("trn2")
	a, err := Run(p, c)
	if err != nil {
		t.Fatal(err)
	}
	old := runtime.GOMAXPROCS(1)
	b, err := Run(p, c)
	runtime.GOMAXPROCS(old)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs of one program differ")
	}
}

func TestRunErrors(t *testing.T) {
	c, _ := Preset("trn2")
	bad := c
	bad.VectorGHz = 0
	p := &isa.Program{}
	if _, err := Run(p, bad); err == nil || !strings.Contains(err.Error(), "vector_ghz") {
		t.Errorf("zero clock: err = %v, want one naming vector_ghz", err)
	}
	p = &isa.Program{Instrs: []isa.Instr{{Op: isa.OpMemset, Engine: isa.Engine(9)}}}
	if _, err := Run(p, c); err == nil {
		t.Error("unknown engine: no error")
	}
	if _, err := Run(nil, c); err == nil {
		t.Error("nil program: no error")
	}
}

// tiledProgram is the NKI tutorial's tiled matmul, fp32, with bufs
// rotating buffers per operand.
func tiledProgram(t testing.TB, M, N, K, bufs int) *isa.Program {
	dt := isa.FP32
	b := isa.NewBuilder(isa.Trn2(), "tiled")
	at := b.Input("AT", dt, K, M)
	bm := b.Input("B", dt, K, N)
	c := b.Output("C", dt, M, N)
	lhs := b.SBUFPool("lhsT", bufs, 128*4)
	rhs := b.SBUFPool("rhs", bufs, 512*4)
	out := b.SBUFPool("out", 2, 512*4)
	acc := b.PSUMPool("acc", 2, 512*4)
	for m0 := 0; m0 < M; m0 += 128 {
		for n0 := 0; n0 < N; n0 += 512 {
			ps := acc.Tile(isa.FP32, 128, 512)
			for k0 := 0; k0 < K; k0 += 128 {
				a := lhs.Tile(dt, 128, 128)
				b.Load(a, at.Tile(k0, m0, 128, 128))
				r := rhs.Tile(dt, 128, 512)
				b.Load(r, bm.Tile(k0, n0, 128, 512))
				b.Matmul(ps, a, r, k0 > 0)
			}
			o := out.Tile(dt, 128, 512)
			b.TensorCopy(isa.Vector, o, ps)
			b.Store(c.Tile(m0, n0, 128, 512), o)
		}
	}
	p, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Column pieces of a double-row [P,2,W] tile interleave in memory but
// touch different bytes: the tracker keeps them apart (two runs each), so
// a load of one piece does not wait for the other. A pattern covering both
// does wait.
func TestStridedPiecesIndependent(t *testing.T) {
	b := isa.NewBuilder(isa.Trn2(), "pieces")
	x := b.Input("x", isa.FP8E4M3, 256, 1024)
	sb := b.SBUFPool("sb", 1, 2048)
	tile := sb.Tile(isa.FP8E4M3, 128, 2, 1024)
	piece := func(c int) (isa.AP, isa.AP) {
		dst := tile
		dst.Offset += c
		dst.Free[1].Count = 512
		src := x.Tile(0, c, 128, 512).WithDims(isa.Dim{Stride: 128 * 1024, Count: 2}, isa.Dim{Stride: 1, Count: 512})
		return dst, src
	}
	d0, s0 := piece(0)
	d1, s1 := piece(512)
	b.Load(d0, s0)
	b.Load(d1, s1)
	b.TensorCopy(isa.Vector, sb.Tile(isa.FP8E4M3, 128, 2, 1024), tile) // reads both pieces
	r := run(t, b, trn2NoThrottle(t))
	if w := r.Spans.At(1).Waited; w != "" {
		t.Errorf("second piece waited on %q; it touches other bytes", w)
	}
	if r.Spans.At(1).Start != r.Spans.At(0).Start {
		t.Errorf("pieces issued at %v and %v; want both at once", r.Spans.At(0).Start, r.Spans.At(1).Start)
	}
	if w := r.Spans.At(2).Waited; w != "sem:dma.q1" {
		t.Errorf("copy of the whole tile waited on %q, want sem:dma.q1 (the later piece)", w)
	}
}

func TestRuns(t *testing.T) {
	sb := isa.AP{Mem: isa.SBUF, DType: isa.FP32, Parts: 128}
	cases := []struct {
		name   string
		ap     isa.AP
		bases  []int64
		lo, hi int64
	}{
		{"contiguous", sb.WithDims(isa.Dim{Stride: 1, Count: 512}), []int64{0}, 0, 512},
		{"2-D contiguous", sb.WithDims(isa.Dim{Stride: 512, Count: 4}, isa.Dim{Stride: 1, Count: 512}), []int64{0}, 0, 2048},
		{"double row piece", sb.WithDims(isa.Dim{Stride: 1024, Count: 2}, isa.Dim{Stride: 1, Count: 256}), []int64{0, 1024}, 0, 256},
		{"6 runs: bounding box", sb.WithDims(isa.Dim{Stride: 100, Count: 3}, isa.Dim{Stride: 10, Count: 2}, isa.Dim{Stride: 1, Count: 4}), []int64{0}, 0, 200 + 10 + 3 + 1},
		{"strided elements: bounding box", sb.WithDims(isa.Dim{Stride: 8, Count: 64}), []int64{0}, 0, 505},
	}
	for _, tc := range cases {
		bases, n, lo, hi := runs(&tc.ap)
		if tc.bases != nil && !reflect.DeepEqual(bases[:n], tc.bases) {
			t.Errorf("%s: bases %v, want %v", tc.name, bases[:n], tc.bases)
		}
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("%s: run [%d, %d), want [%d, %d)", tc.name, lo, hi, tc.lo, tc.hi)
		}
	}
}

// HBM dependencies: a load of what a store wrote waits for the store
// (read-after-write through HBM); a store into a tensor read earlier waits
// for that read (reads made before a tensor's first write are tracked per
// tensor, conservatively).
func TestHBMDependencies(t *testing.T) {
	b := isa.NewBuilder(isa.Trn2(), "hbm")
	x := b.Input("x", isa.FP32, 256, 512)
	scratch := b.Scratch("s", isa.FP32, 128, 512)
	sb := b.SBUFPool("sb", 4, 2048)
	t0, t1, t2 := sb.Tile(isa.FP32, 128, 512), sb.Tile(isa.FP32, 128, 512), sb.Tile(isa.FP32, 128, 512)
	b.Load(t0, x.Tile(0, 0, 128, 512))        // 0: reads x rows 0..127
	b.Memset(isa.Vector, t1, 1)               // 1
	b.Store(scratch.Tile(0, 0, 128, 512), t1) // 2: waits for the memset
	b.Load(t2, scratch.Tile(0, 0, 128, 512))  // 3: waits for the store (RAW in HBM)
	b.Store(x.Tile(128, 0, 128, 512), t1)     // 4: waits for load 0's read of x
	r := run(t, b, trn2NoThrottle(t))
	if w := r.Spans.At(3).Waited; w != "sem:dma.q1" {
		t.Errorf("load of scratch waited on %q, want sem:dma.q1 (the store)", w)
	}
	if r.Spans.At(3).Start != r.Spans.At(2).End {
		t.Errorf("load of scratch issued at %v, store done at %v", r.Spans.At(3).Start, r.Spans.At(2).End)
	}
	if r.Spans.At(4).Start < r.Spans.At(0).End {
		t.Errorf("store into x issued at %v before the read of x completed at %v", r.Spans.At(4).Start, r.Spans.At(0).End)
	}
}

// NC-v2 serialises VectorE and GpSimdE on SBUF (A §1.3): with the switch
// on (trn1), an unrelated Vector copy and GpSimd iota run one after the
// other; on trn2 together.
func TestSharedSBUFPort(t *testing.T) {
	for _, name := range []string{"trn1", "trn2"} {
		c, _ := Preset(name)
		c.SharedSBUFVectorGpSimd = name == "trn1"
		arch := c.Arch()
		b := isa.NewBuilder(arch, "port")
		sb := b.SBUFPool("sb", 4, 2048)
		b.TensorCopy(isa.Vector, sb.Tile(isa.FP32, 128, 512), sb.Tile(isa.FP32, 128, 512))
		b.Iota(sb.Tile(isa.FP32, 128, 512), isa.Affine{PMul: 1})
		r := run(t, b, c)
		vecEnd := 512 / c.VectorGHz
		wantStart := 0.0
		if name == "trn1" {
			wantStart = vecEnd
		}
		near(t, name+" iota start", r.Spans.At(1).Start, wantStart)
	}
}

// TestDMAFullWidthAfterSplit: once a partial transfer has put the 16
// engines at different times, a full-width tile is still moved by every
// engine, 8 partitions each (A §3.3): its engine-15 share waits for the
// partial transfer booked on engine 15. (It used to be booked on engine 0
// alone, so it overlapped that transfer.)
func TestDMAFullWidthAfterSplit(t *testing.T) {
	const cols = 256 // fp32: 1 KiB per partition, 8 KiB per engine
	b := isa.NewBuilder(isa.Trn2(), "dma")
	x := b.Input("x", isa.FP32, 128, cols)
	y := b.Input("y", isa.FP32, 128, cols)
	sb := b.SBUFPool("sb", 2, cols*4)
	part := sb.Tile(isa.FP32, 128, cols).Rows(120, 8) // engine 15 only
	b.Load(part, x.Tile(120, 0, 8, cols))
	b.Load(sb.Tile(isa.FP32, 128, cols), y.Tile(0, 0, 128, cols))
	r := run(t, b, trn2NoThrottle(t))
	share := dmaFixed2 + 8*cols*4/peakBpns
	if min := dgeNs + startNs + 2*share; r.TimeNs < min-4.0/gridPerNs { // each duration is rounded to the time grid
		t.Errorf("TimeNs = %.1f, want at least %.1f: the full-width load's engine-15 share must follow the partial load", r.TimeNs, min)
	}
}
