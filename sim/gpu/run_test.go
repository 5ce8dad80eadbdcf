package gpu

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// unit is a GPU with round numbers, so expectations can be derived by
// hand: 1 GHz (1 cycle = 1 ns), 4 SMs, 1000 tensor FLOP/clk, 10 MUFU
// ops/clk, 100 FP32 lanes, a 100 B/clk shared-memory port, HBM at 1000
// B/ns, an L2 too fast to matter, no latency, no launch overhead.
func unit() Config {
	return Config{
		Name: "unit", SMs: 4,
		TensorClockGHz: 1, BoostClockGHz: 1, SustainedClockGHz: 1,
		MMAFamily: WGMMA, Tensor: TensorRates{FP16: 1000, FP8: 2000}, MMASyncFraction: 0.5,
		MMAAccumInRegisters: true,
		FP32Lanes:           100, MUFUPerClk: 10, SmemBytesPerClk: 100,
		SmemPerSM: 100000, SmemPerCTA: 100000, RegsPerSM: 65536, MaxRegsThread: 255,
		MaxThreadsSM: 2048, MaxWarpsSM: 64, MaxCTAsSM: 32, MaxThreadsCTA: 1024,
		L2Bytes: 1 << 30, L2BytesPerClk: 1e7, HBMGBps: 1000, HBMEfficiency: 1,
	}
}

// oneCTAPerSM is a kernel footprint that fits once per SM (smem).
func oneCTAPerSM(name string) Kernel {
	return Kernel{Name: name, Threads: 128, SmemBytes: 60000, Stages: 2, MMA: MMA{Family: WGMMA, DType: isa.BF16}}
}

func runNs(t *testing.T, cfg Config, ks ...Kernel) float64 {
	t.Helper()
	rep, err := Run(cfg, ks)
	if err != nil {
		t.Fatal(err)
	}
	return rep.TimeNs
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }

func TestOccupancyLimits(t *testing.T) {
	big := unit()
	big.MaxThreadsSM = 4096
	tests := []struct {
		name    string
		cfg     Config
		k       Kernel
		want    int
		wantWhy string
	}{
		{"threads", unit(), Kernel{Threads: 1024}, 2, "threads"},
		{"cta limit", unit(), Kernel{Threads: 32}, 32, "ctas"},
		{"warps", big, Kernel{Threads: 640}, 3, "warps"}, // 20 warps: 64/20 = 3; threads 4096/640 = 6
		{"registers", unit(), Kernel{Threads: 128, RegsPerThread: 255}, 2, "registers"},
		{"smem", unit(), Kernel{Threads: 128, SmemBytes: 40000}, 2, "smem"},
		{"does not fit", unit(), Kernel{Threads: 1024, RegsPerThread: 255}, 0, "registers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := Occupancy(tc.cfg, tc.k)
			if got != tc.want || why != tc.wantWhy {
				t.Errorf("Occupancy = %d (%s), want %d (%s)", got, why, tc.want, tc.wantWhy)
			}
		})
	}
	k := Kernel{Name: "fat", Threads: 1024, RegsPerThread: 255, Stages: 1, Grid: []Group{{Count: 1}}}
	if _, err := Run(unit(), []Kernel{k}); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("Run of a kernel that fits no SM: err = %v", err)
	}
}

func TestWaveQuantisation(t *testing.T) {
	// One CTA per SM, 4 SMs, each CTA 1000 tensor cycles: time steps with
	// ⌈CTAs/4⌉.
	for _, tc := range []struct{ ctas, waves int }{{1, 1}, {4, 1}, {5, 2}, {8, 2}, {9, 3}} {
		k := oneCTAPerSM("gemm")
		k.Loop = Phase{TensorFLOPs: 1e6}
		k.Grid = []Group{{Count: tc.ctas, Iters: 1}}
		if got, want := runNs(t, unit(), k), 1000*float64(tc.waves); !near(got, want) {
			t.Errorf("%d CTAs: %v ns, want %v", tc.ctas, got, want)
		}
	}
}

func TestTailWaveAndHBMSharing(t *testing.T) {
	// Each CTA streams 1e6 bytes; HBM moves 1000 B/ns shared by the
	// active CTAs. A full wave of 4 takes 4e6/1000 = 4000 ns; the 1-CTA
	// tail wave has HBM to itself: 1000 ns.
	k := oneCTAPerSM("copy")
	k.Loop = Phase{Loads: []Load{{Bytes: 1e6}}}
	for _, tc := range []struct {
		ctas int
		want float64
	}{{1, 1000}, {2, 2000}, {4, 4000}, {5, 5000}} {
		k.Grid = []Group{{Count: tc.ctas, Iters: 1}}
		if got := runNs(t, unit(), k); !near(got, tc.want) {
			t.Errorf("%d CTAs: %v ns, want %v", tc.ctas, got, tc.want)
		}
	}
}

func TestL2Reuse(t *testing.T) {
	// 4 co-resident CTAs read the same 1e6 bytes: HBM delivers them once
	// (1e6 B, 1000 ns), L2 four times.
	tests := []struct {
		name            string
		load            Load
		unique          float64
		wantHBM, wantNs float64
	}{
		{"private", Load{Bytes: 1e6}, 0, 4e6, 4000},
		{"shared by co-resident CTAs", Load{Bytes: 1e6, Sharers: 4, Stride: 1}, 0, 1e6, 1000},
		{"sharers too far apart", Load{Bytes: 1e6, Sharers: 4, Stride: 8}, 0, 4e6, 4000},
		{"footprint fits in L2", Load{Bytes: 1e6}, 1e6, 1e6, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := oneCTAPerSM("read")
			k.Loop = Phase{Loads: []Load{tc.load}}
			k.Grid = []Group{{Count: 4, Iters: 1}}
			k.UniqueReadBytes = tc.unique
			rep, err := Run(unit(), []Kernel{k})
			if err != nil {
				t.Fatal(err)
			}
			if got := float64(rep.Traffic[sim.LevelHBM].Read); !near(got, tc.wantHBM) {
				t.Errorf("HBM read %v, want %v", got, tc.wantHBM)
			}
			if got := float64(rep.Traffic[sim.LevelL2].Read); !near(got, 4e6) {
				t.Errorf("L2 read %v, want 4e6", got)
			}
			if !near(rep.TimeNs, tc.wantNs) {
				t.Errorf("time %v ns, want %v", rep.TimeNs, tc.wantNs)
			}
		})
	}
}

func TestPipes(t *testing.T) {
	// Per iteration: tensor 1e6 FLOPs = 1000 cycles; MUFU 1e4 ops = 1000;
	// FP32 1e5 ops = 1000; smem 2e5 B = 2000.
	tests := []struct {
		name     string
		phase    Phase
		pingpong bool
		tmem     bool // tensor-memory accumulators
		want     float64
	}{
		{"tensor", Phase{TensorFLOPs: 1e6}, false, false, 1000},
		{"mufu bound", Phase{MUFUOps: 3e4, TensorFLOPs: 1e5}, false, false, 3100},
		{"serial chain", Phase{TensorFLOPs: 1e6, MUFUOps: 1e4, FP32Ops: 1e5}, false, false, 3000},
		{"ping-pong hides fp32", Phase{TensorFLOPs: 1e6, MUFUOps: 1e4, FP32Ops: 1e5}, true, false, 2000},
		{"ping-pong, tensor memory", Phase{TensorFLOPs: 1e6, MUFUOps: 1e4, FP32Ops: 1e5}, true, true, 1000},
		{"smem port bound", Phase{TensorFLOPs: 1e6, SmemBytes: 2e5}, false, false, 2000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := unit()
			cfg.MMAAccumInRegisters = !tc.tmem
			k := oneCTAPerSM("pipes")
			k.Loop, k.PingPong, k.WarpSpecialized = tc.phase, tc.pingpong, tc.pingpong
			k.Grid = []Group{{Count: 1, Iters: 1}}
			if got := runNs(t, cfg, k); !near(got, tc.want) {
				t.Errorf("%v ns, want %v", got, tc.want)
			}
		})
	}
}

func TestCoResidentCTAsShareTheSM(t *testing.T) {
	// Two CTAs per SM (smem 40000 of 100000) on one SM-worth of work: 8
	// CTAs on 4 SMs, 1000 tensor cycles each, share the tensor pipe: 2000.
	k := oneCTAPerSM("two")
	k.SmemBytes = 40000
	k.Loop = Phase{TensorFLOPs: 1e6}
	k.Grid = []Group{{Count: 8, Iters: 1}}
	if got := runNs(t, unit(), k); !near(got, 2000) {
		t.Errorf("%v ns, want 2000", got)
	}
}

func TestPipelining(t *testing.T) {
	// One CTA, 3 iterations, each loading 1e6 B (1000 ns alone) and
	// computing 1000 cycles, with a 100-cycle memory latency; the first
	// load's latency (100) is exposed before the loop. One stage: each
	// iteration waits for its load: 3·(100+1000+1000). Two stages: one
	// load in flight overlaps compute but exposes its latency: 3·1100.
	// Three stages: two in flight cover it: 3·1000.
	cfg := unit()
	cfg.HBMLatencyCycles = 100
	for _, tc := range []struct {
		stages int
		want   float64
	}{{1, 100 + 3*2100}, {2, 100 + 3*1100}, {3, 100 + 3*1000}} {
		k := oneCTAPerSM("pipe")
		k.Stages = tc.stages
		k.Loop = Phase{Loads: []Load{{Bytes: 1e6}}, TensorFLOPs: 1e6}
		k.Grid = []Group{{Count: 1, Iters: 3}}
		if got := runNs(t, cfg, k); !near(got, tc.want) {
			t.Errorf("%d stages: %v ns, want %v", tc.stages, got, tc.want)
		}
	}
}

func TestLoadsInFlight(t *testing.T) {
	// One CTA, 3 iterations, each loading 2 × 5e4 B (100 ns alone at
	// 1000 B/ns) and computing 10 cycles, with a 100-cycle latency
	// exposed once before the loop. With n iterations' loads in flight an
	// iteration costs (100 + 100)/n; with half an iteration's loads in
	// flight (one of the two tiles) it is two turns of 100 + 50.
	cfg := unit()
	cfg.HBMLatencyCycles = 100
	tests := []struct {
		name     string
		stages   int
		inFlight float64
		want     float64
	}{
		{"two stages: one iteration", 2, 0, 100 + 3*200},
		{"three stages: two iterations", 3, 0, 100 + 3*100},
		{"three stages, one iteration declared", 3, 1e5, 100 + 3*200},
		{"one tile of two in flight", 2, 5e4, 100 + 3*300},
		{"declared above the buffers: clipped", 2, 1e9, 100 + 3*200},
		{"one stage: load, then compute", 1, 0, 100 + 3*(200+10)},
		{"one stage, one tile at a time", 1, 5e4, 100 + 3*(300+10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := oneCTAPerSM("mlp")
			k.Stages, k.LoadsInFlight = tc.stages, tc.inFlight
			k.Loop = Phase{Loads: []Load{{Bytes: 5e4}, {Bytes: 5e4}}, TensorFLOPs: 1e4}
			k.Grid = []Group{{Count: 1, Iters: 3}}
			if got := runNs(t, cfg, k); !near(got, tc.want) {
				t.Errorf("%v ns, want %v", got, tc.want)
			}
		})
	}
}

func TestInFlightCapsSMBandwidth(t *testing.T) {
	// Little's law per SM: 8 CTAs, two per SM, each with one 1e4-byte
	// iteration in flight and a 100-cycle latency. The wave's loads take
	// 8e4/1000 = 80 ns through HBM; each iteration waits 100 + 80, so
	// HBM runs at 8e4 B / 180 ns = 444 B/ns of its 1000: per SM, 2 × 1e4
	// B in flight per 180 ns. A fivefold larger load hides the latency
	// better: 100 + 400 per iteration, 800 B/ns.
	cfg := unit()
	cfg.HBMLatencyCycles = 100
	for _, tc := range []struct {
		bytes, wantIter float64
	}{{1e4, 180}, {5e4, 500}} {
		k := oneCTAPerSM("stream")
		k.SmemBytes = 40000
		k.Loop = Phase{Loads: []Load{{Bytes: tc.bytes}}}
		k.Grid = []Group{{Count: 8, Iters: 10}}
		rep, err := Run(cfg, []Kernel{k})
		if err != nil {
			t.Fatal(err)
		}
		want := 100 + 10*tc.wantIter
		if !near(rep.TimeNs, want) {
			t.Errorf("%v B per iteration: %v ns, want %v", tc.bytes, rep.TimeNs, want)
		}
		if bw, _ := rep.Metric("hbm_bandwidth_gbps"); !near(bw, 80*tc.bytes/want) {
			t.Errorf("%v B per iteration: %v GB/s, want %v", tc.bytes, bw, 80*tc.bytes/want)
		}
	}
}

func TestPersistentHidesTileLatency(t *testing.T) {
	// 8 CTAs (two waves) of one loading iteration each: a non-persistent
	// wave exposes the 100-cycle latency every wave (2·(100+1000)); so does
	// a persistent CTA whose computing warps load; a warp-specialised
	// persistent CTA pays it once.
	cfg := unit()
	cfg.HBMLatencyCycles = 100
	k := oneCTAPerSM("tiles")
	k.Stages = 3
	k.Loop = Phase{Loads: []Load{{Bytes: 1e5}}, TensorFLOPs: 1e6}
	k.Grid = []Group{{Count: 8, Iters: 1}}
	plain := runNs(t, cfg, k)
	k.Persistent = true
	noProducer := runNs(t, cfg, k)
	k.WarpSpecialized = true
	pers := runNs(t, cfg, k)
	if !near(plain, 2*(100+1000)) || !near(noProducer, plain) || !near(pers, 100+2*1000) {
		t.Errorf("non-persistent %v ns (want 2200), persistent without producer warps %v (want 2200), warp-specialised persistent %v ns (want 2100)", plain, noProducer, pers)
	}
}

func TestLaunchOverhead(t *testing.T) {
	cfg := unit()
	cfg.LaunchUs = 2
	k := oneCTAPerSM("k")
	k.Loop = Phase{TensorFLOPs: 1e6}
	k.Grid = []Group{{Count: 1, Iters: 1}}
	if got := runNs(t, cfg, k); !near(got, 3000) {
		t.Errorf("one kernel: %v ns, want 2000 launch + 1000", got)
	}
	if got := runNs(t, cfg, k, k); !near(got, 6000) {
		t.Errorf("two kernels: %v ns, want 6000", got)
	}
	rep, _ := Run(cfg, []Kernel{k, k})
	if rep.Bound != "launch" {
		t.Errorf("bound %q, want launch", rep.Bound)
	}
}

func TestListSchedulingImbalance(t *testing.T) {
	// Two SMs, one CTA each; CTAs of 4 and 1 iterations (1000 ns each).
	// Longest first: [4 | 1 1 1 1] → 4000. Longest last: [1 1 4 | 1 1] → 6000.
	cfg := unit()
	cfg.SMs = 2
	k := oneCTAPerSM("causal")
	k.Loop = Phase{TensorFLOPs: 1e6}
	k.Grid = []Group{{Count: 1, Iters: 4}, {Count: 4, Iters: 1}}
	if got := runNs(t, cfg, k); !near(got, 4000) {
		t.Errorf("longest first: %v ns, want 4000", got)
	}
	k.Grid = []Group{{Count: 4, Iters: 1}, {Count: 1, Iters: 4}}
	if got := runNs(t, cfg, k); !near(got, 6000) {
		t.Errorf("longest last: %v ns, want 6000", got)
	}
	k.Grid, k.GridRepeat = []Group{{Count: 1, Iters: 1}, {Count: 1, Iters: 3}}, 2 // launch order 1, 3, 1, 3
	// Greedy: t=0 s0←1 (ends 1000), s1←3 (3000); s0 frees at 1000 ← 1
	// (2000); s0 frees at 2000 ← 3 (5000). Makespan 5000.
	if got := runNs(t, cfg, k); !near(got, 5000) {
		t.Errorf("repeated grid: %v ns, want 5000", got)
	}
}

func TestClocks(t *testing.T) {
	// A kernel that keeps the tensor pipe fully busy runs at the sustained
	// clock (half the tensor clock here): twice the cycles' time. A kernel
	// without tensor work runs at the boost clock.
	cfg := unit()
	cfg.SustainedClockGHz = 0.5
	cfg.BoostClockGHz = 2
	k := oneCTAPerSM("mma")
	k.Loop = Phase{TensorFLOPs: 1e6}
	k.Grid = []Group{{Count: 4, Iters: 1}}
	if got := runNs(t, cfg, k); !near(got, 2000) {
		t.Errorf("tensor kernel: %v ns, want 2000 (1000 cycles at 0.5 GHz)", got)
	}
	// One CTA on four SMs keeps the tensor pipes a quarter busy (u = ¼):
	// power ∝ u·f³ allows 0.5/∛¼ = 0.794 GHz, so 1000 cycles take
	// 1000·∛¼/0.5 ns.
	k.Grid = []Group{{Count: 1, Iters: 1}}
	if got, want := runNs(t, cfg, k), 1000*math.Cbrt(0.25)/0.5; !near(got, want) {
		t.Errorf("quarter-busy tensor kernel: %v ns, want %v", got, want)
	}
	f := oneCTAPerSM("alu")
	f.Loop = Phase{FP32Ops: 1e5}
	f.Grid = []Group{{Count: 4, Iters: 1}}
	if got := runNs(t, cfg, f); !near(got, 500) {
		t.Errorf("fp32 kernel: %v ns, want 500 (1000 cycles at 2 GHz)", got)
	}
}

func TestMMAFamilies(t *testing.T) {
	cfg := unit()
	k := oneCTAPerSM("legacy")
	k.MMA = MMA{Family: MMASync, DType: isa.FP16}
	k.Loop = Phase{TensorFLOPs: 1e6}
	k.Grid = []Group{{Count: 1, Iters: 1}}
	if got := runNs(t, cfg, k); !near(got, 2000) {
		t.Errorf("mma.sync at half rate: %v ns, want 2000", got)
	}
	k.MMA = MMA{Family: WGMMA, DType: isa.FP8E4M3}
	if got := runNs(t, cfg, k); !near(got, 500) {
		t.Errorf("fp8 wgmma at double rate: %v ns, want 500", got)
	}
	k.MMA = MMA{Family: TCGen05, DType: isa.BF16}
	if _, err := Run(cfg, []Kernel{k}); err == nil {
		t.Error("tcgen05 on a wgmma device: want an error")
	}
	k.MMA = MMA{Family: WGMMA, DType: isa.FP32}
	if _, err := Run(cfg, []Kernel{k}); err == nil {
		t.Error("fp32 tensor work: want an error")
	}
}

func TestReportFields(t *testing.T) {
	cfg := unit()
	k := oneCTAPerSM("gemm")
	k.FLOPs = 4e6
	k.Loop = Phase{TensorFLOPs: 1e6, Loads: []Load{{Bytes: 1e5}}}
	k.Epilogue = Phase{StoreBytes: 1e3}
	k.Grid = []Group{{Count: 4, Iters: 1}}
	rep, err := Run(cfg, []Kernel{k})
	if err != nil {
		t.Fatal(err)
	}
	// Loads: 4e5 B at 1000 B/ns = 400 ns, under the 1000-cycle MMAs;
	// stores 4e3 B = 4 ns after them.
	if !near(rep.TimeNs, 1004) || rep.Cycles != 1004 || rep.Clock != "sm" {
		t.Errorf("time %v ns, %d %s cycles; want 1004", rep.TimeNs, rep.Cycles, rep.Clock)
	}
	if rep.Bound != "tensor_pipe" {
		t.Errorf("bound %q, want tensor_pipe", rep.Bound)
	}
	if v, _ := rep.Metric("tensor_pipe_percent"); !near(v, 1000/1004.0*100) {
		t.Errorf("tensor_pipe_percent %v", v)
	}
	if v, _ := rep.Metric("sm_occupancy_percent"); !near(v, 4.0/64*100) {
		t.Errorf("sm_occupancy_percent %v, want 4 warps of 64 = 6.25", v)
	}
	if v, _ := rep.Metric("hbm_bandwidth_gbps"); !near(v, 404000/1004.0) {
		t.Errorf("hbm_bandwidth_gbps %v", v)
	}
	for _, name := range []string{"tensor_pipe", "mufu", "fp32", "smem", "hbm"} {
		if _, ok := rep.Engine(name); !ok {
			t.Errorf("no engine %q", name)
		}
	}
	if rep.Traffic[sim.LevelHBM].Write != 4000 || rep.PeakFLOP != 4000e9 || rep.FLOPs != 4e6 {
		t.Errorf("HBM write %d, peak %v, FLOPs %v", rep.Traffic[sim.LevelHBM].Write, rep.PeakFLOP, rep.FLOPs)
	}
	if len(rep.Lanes) != 1 || rep.Spans.Len() == 0 {
		t.Errorf("lanes %v, %d spans", rep.Lanes, rep.Spans.Len())
	}
	for _, s := range rep.Spans.All() {
		if s.End < s.Start || int(s.Lane) >= len(rep.Lanes) {
			t.Errorf("bad span %+v", s)
		}
	}
}

func TestRunIsDeterministic(t *testing.T) {
	cfg, _ := Preset("h100")
	k := Kernel{
		Name: "attn", Threads: 384, RegsPerThread: 168, SmemBytes: 100000, Stages: 2, PingPong: true, WarpSpecialized: true,
		MMA:  MMA{Family: WGMMA, DType: isa.BF16},
		Loop: Phase{Loads: []Load{{Bytes: 32768, Sharers: 16, Stride: 1}}, TensorFLOPs: 8e6, MUFUOps: 16384, FP32Ops: 70000},
		Grid: []Group{{Count: 1, Iters: 1}, {Count: 1, Iters: 2}, {Count: 1, Iters: 3}, {Count: 1, Iters: 4}}, GridRepeat: 500,
	}
	a, err := Run(cfg, []Kernel{k})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(cfg, []Kernel{k})
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs of the same kernel differ")
	}
	if ns, err := Time(cfg, []Kernel{k, k}); err != nil || !near(ns, 2*a.TimeNs) {
		t.Errorf("Time of two kernels = %v (%v), want 2×%v", ns, err, a.TimeNs)
	}
}

func TestRunRejectsBadKernels(t *testing.T) {
	good := oneCTAPerSM("k")
	good.Grid = []Group{{Count: 1, Iters: 1}}
	tests := []struct {
		name string
		edit func(k *Kernel)
	}{
		{"no threads", func(k *Kernel) { k.Threads = 0 }},
		{"too many threads", func(k *Kernel) { k.Threads = 2048 }},
		{"too much smem", func(k *Kernel) { k.SmemBytes = 200000 }},
		{"no stages", func(k *Kernel) { k.Stages = 0 }},
		{"empty grid", func(k *Kernel) { k.Grid = nil }},
		{"zero CTAs", func(k *Kernel) { k.Grid = []Group{{Count: 0, Iters: 1}} }},
		{"negative work", func(k *Kernel) { k.Loop.FP32Ops = -1 }},
		{"NaN bytes", func(k *Kernel) { k.Loop.Loads = []Load{{Bytes: math.NaN()}} }},
		{"int32 on tensor cores", func(k *Kernel) { k.Loop.TensorFLOPs = 1; k.MMA.DType = isa.Int32 }},
		{"out-of-range dtype", func(k *Kernel) { k.Loop.TensorFLOPs = 1; k.MMA.DType = isa.DType(200) }},
		{"ping-pong without producer warps", func(k *Kernel) { k.PingPong = true }},
		{"negative loads in flight", func(k *Kernel) { k.LoadsInFlight = -1 }},
		{"infinite loads in flight", func(k *Kernel) { k.LoadsInFlight = math.Inf(1) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := good
			tc.edit(&k)
			if _, err := Run(unit(), []Kernel{k}); err == nil {
				t.Error("want an error")
			}
		})
	}
	if _, err := Run(unit(), nil); err == nil {
		t.Error("no kernels: want an error")
	}
}

func TestHugeNonUniformGrid(t *testing.T) {
	// Past maxListCTAs the list schedule is estimated: 2^21 CTAs of 1 and
	// 3 iterations (1000 ns each) on 4 slots: 2^20·4000/4 + 3000/2.
	k := oneCTAPerSM("huge")
	k.Loop = Phase{TensorFLOPs: 1e6}
	k.Grid, k.GridRepeat = []Group{{Count: 1, Iters: 1}, {Count: 1, Iters: 3}}, 1<<20
	if got, want := runNs(t, unit(), k), float64(1<<20)*4000/4+1500; !near(got, want) {
		t.Errorf("%v ns, want %v", got, want)
	}
}

// A memory-bound kernel of three waves (load a row, store it): the first
// wave starts together and exposes the 100-cycle latency; later CTAs start
// as others on their SM finish, and the k−1 others' bytes in flight cover
// the latency by Little's law: per SM the share of HBM is 250 B/ns, so
// 25 000 B in flight hide one latency. A lone CTA per SM hides nothing.
func TestLaterWavesHideLatency(t *testing.T) {
	cfg := unit()
	cfg.HBMLatencyCycles = 100
	tests := []struct {
		name       string
		perSM      int     // CTAs resident per SM (set through smem)
		bytes      float64 // row bytes loaded and stored per CTA
		want       float64
		uncoveredK float64 // latencyUncovered(perSM)
	}{
		// 4 CTAs: load and store 100 ns each, one after the other, plus
		// the latency, every wave: 3·300.
		{"one per SM", 1, 25000, 900, 1},
		// 8 CTAs: load and store 100 ns each, overlapped with the other
		// CTA's (max); the first wave exposes 100, later waves half of it
		// (12 500 of 25 000 B covered): 300 + 2·250.
		{"half covered", 2, 12500, 800, 0.5},
		// Fully covered: 500 + 2·400.
		{"covered", 2, 25000, 1300, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := Kernel{Name: "row", Threads: 128, Stages: 1, SmemBytes: 100000 / tc.perSM,
				Prologue: Phase{Loads: []Load{{Bytes: tc.bytes}}},
				Epilogue: Phase{StoreBytes: tc.bytes},
				Grid:     []Group{{Count: 3 * 4 * tc.perSM}}}
			if got := runNs(t, cfg, k); !near(got, tc.want) {
				t.Errorf("%v ns, want %v", got, tc.want)
			}
			m := newModel(cfg, &k, 1)
			if got := m.latencyUncovered(tc.perSM); !near(got, tc.uncoveredK) {
				t.Errorf("latencyUncovered(%d) = %v, want %v", tc.perSM, got, tc.uncoveredK)
			}
		})
	}
}
