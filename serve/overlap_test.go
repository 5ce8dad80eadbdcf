package serve

import (
	"math"
	"testing"
)

// TestOverlapMechanism drives overlapCollectives directly on one all-reduce
// of a 4096-token prefill over 64 logical cores of a trn2.48xlarge: with no
// following GEMM it is exposed whole; under a long GEMM only its first
// chunk is exposed; the DMA contention grows with the GEMM's HBM rate up to
// the device's DMA rate and no further (docs/systems.md D2.2).
func TestOverlapMechanism(t *testing.T) {
	sys, err := SystemByName("trn2.48xlarge")
	if err != nil {
		t.Fatal(err)
	}
	const rows, lnc = 4096, 2
	bytes := float64(rows * 8192 * 2)
	c, err := sys.CollectiveTime(AllReduce, bytes, 64, lnc, true)
	if err != nil {
		t.Fatal(err)
	}
	R := float64(lnc) * trnCoreDMAGBps * 1e3 // bytes/µs
	run := func(next kernelTime) Step {
		st := Step{Collectives: []CollectiveUse{{Collective: c, Count: 3, Next: next}}, CollectiveUs: 3 * c.TimeUs}
		if err := overlapCollectives(&st, rows, lnc, sys); err != nil {
			t.Fatal(err)
		}
		return st
	}
	long := 100 * c.TimeUs
	for _, tt := range []struct {
		name             string
		next             kernelTime
		exposedLo, expHi float64 // exposed time of one run, as a fraction of the whole collective's
		contention       float64 // µs per run; NaN: only > 0
	}{
		{"no following GEMM", kernelTime{}, 1, 1, 0},
		{"GEMM without HBM traffic", kernelTime{us: long}, 0, 0.1, 0},
		{"GEMM at half the DMA rate", kernelTime{us: long, hbmBytes: 0.5 * R * long}, 0, 0.1, math.NaN()},
		{"GEMM at the DMA rate", kernelTime{us: long, hbmBytes: R * long}, 0, 0.1, math.NaN()},
		{"GEMM above the DMA rate", kernelTime{us: long, hbmBytes: 3 * R * long}, 0, 0.1, math.NaN()},
		{"short GEMM", kernelTime{us: 0.25 * c.TimeUs}, 0.7, 0.95, 0},
	} {
		st := run(tt.next)
		ex := st.ExposedCollectiveUs / 3 / c.TimeUs
		if ex < tt.exposedLo || ex > tt.expHi {
			t.Errorf("%s: exposed %.3f of the collective, want %v–%v", tt.name, ex, tt.exposedLo, tt.expHi)
		}
		if cont := st.ContentionUs / 3; !math.IsNaN(tt.contention) && cont != tt.contention || math.IsNaN(tt.contention) && !(cont > 0) {
			t.Errorf("%s: contention %.2f µs per run, want %v", tt.name, cont, tt.contention)
		}
	}
	// Contention is linear in the GEMM's DMA share up to saturation.
	half := run(kernelTime{us: long, hbmBytes: 0.5 * R * long}).ContentionUs
	full := run(kernelTime{us: long, hbmBytes: R * long}).ContentionUs
	over := run(kernelTime{us: long, hbmBytes: 3 * R * long}).ContentionUs
	if math.Abs(full/half-2) > 1e-9 || over != full {
		t.Errorf("contention at 0.5, 1, 3 × the DMA rate: %.2f, %.2f, %.2f µs; want linear then flat", half, full, over)
	}
	// At saturation, the hidden chunks' DMA bytes (read and written) cost
	// their time at the device's DMA rate.
	if want := 3 * 2 * 2 * 63.0 / 64 * bytes * (1 - 1.0/float64(chunksOf(t, run(kernelTime{us: long, hbmBytes: R * long}), c))) / R; math.Abs(full/want-1) > 1e-9 {
		t.Errorf("saturated contention %.2f µs, want %.2f", full, want)
	}
}

// chunksOf recovers the chunk count from a step whose GEMM hides all but
// the first chunk: exposed = one chunk's time.
func chunksOf(t *testing.T, st Step, c Collective) int {
	t.Helper()
	sys, _ := SystemByName("trn2.48xlarge")
	for n := 2; n <= 1<<20; n *= 2 {
		one, err := sys.CollectiveTime(c.Op, c.Bytes/float64(n), c.Ranks, 2, true)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(one.TimeUs*3-st.ExposedCollectiveUs) < 1e-9 {
			return n
		}
	}
	t.Fatalf("no chunk count gives exposed %.2f µs", st.ExposedCollectiveUs)
	return 0
}

// TestOverlapInEstimates: on Trainium a long prefill hides part of its
// collectives (and pays contention for it) and is faster than the serial
// sum; a one-token decode step hides nothing; NVIDIA steps stay serial.
func TestOverlapInEstimates(t *testing.T) {
	m, err := ModelByName("llama3-70b")
	if err != nil {
		t.Fatal(err)
	}
	e := NewEstimator()
	for _, tt := range []struct {
		system string
		tp     int
		hides  bool
	}{
		{"trn2.48xlarge", 64, true},
		{"p5.48xlarge", 8, false},
	} {
		sys, err := SystemByName(tt.system)
		if err != nil {
			t.Fatal(err)
		}
		o := Options{Model: m, System: sys, TP: tt.tp, LNC: sys.Chip.DefaultLNC, Batch: 1, InputLen: 4096, OutputLen: 16,
			WeightDType: "bf16", KVDType: "bf16", PrefillChunk: 8192}
		est, err := e.Run(o)
		if err != nil {
			t.Fatal(err)
		}
		p, d := est.Prefill, est.Decode
		if p.DeviceUs != p.KernelUs+p.ExposedCollectiveUs+p.ContentionUs || d.DeviceUs != d.KernelUs+d.ExposedCollectiveUs+d.ContentionUs {
			t.Errorf("%s: device time is not kernels + exposed collectives + contention", tt.system)
		}
		if d.ExposedCollectiveUs != d.CollectiveUs || d.ContentionUs != 0 {
			t.Errorf("%s: 1-row decode exposed %.1f of %.1f µs, contention %.1f; want all exposed, none", tt.system, d.ExposedCollectiveUs, d.CollectiveUs, d.ContentionUs)
		}
		if tt.hides {
			if !(p.ExposedCollectiveUs < p.CollectiveUs) || !(p.ContentionUs > 0) || !(p.DeviceUs < p.KernelUs+p.CollectiveUs) {
				t.Errorf("%s prefill: exposed %.0f of %.0f µs, contention %.0f µs, device %.0f (serial %.0f): want overlap that pays",
					tt.system, p.ExposedCollectiveUs, p.CollectiveUs, p.ContentionUs, p.DeviceUs, p.KernelUs+p.CollectiveUs)
			}
		} else if p.ExposedCollectiveUs != p.CollectiveUs || p.ContentionUs != 0 {
			t.Errorf("%s prefill: exposed %.0f of %.0f µs, contention %.0f; want serial", tt.system, p.ExposedCollectiveUs, p.CollectiveUs, p.ContentionUs)
		}
	}
}
