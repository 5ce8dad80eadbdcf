package kernels

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/neuron"
)

func TestAttentionCheck(t *testing.T) {
	// Every variant at ragged and tile-crossing shapes: seqlen 140 is one
	// ragged KV tile and two query tiles, 600 crosses a 512-key tile;
	// headdim 256 is two accumulating matmuls per score tile.
	shapes := []string{
		"batch=1,heads=2,kv_heads=1,seqlen=140,headdim=64,causal=true",
		"batch=2,heads=1,seqlen=129,headdim=128,causal=false",
		"batch=1,heads=4,kv_heads=1,seqlen=1,headdim=64,causal=true",
		"batch=1,heads=1,seqlen=130,headdim=256,causal=true",
	}
	if !testing.Short() {
		shapes = append(shapes,
			"batch=1,heads=2,kv_heads=2,seqlen=600,headdim=256,causal=true",
			"batch=1,heads=4,kv_heads=2,seqlen=700,headdim=128,causal=false")
	}
	for _, v := range []string{"tiled", "optimized"} {
		var specs []string
		for _, sh := range shapes {
			specs = append(specs, "attention:"+sh+",variant="+v)
		}
		checkMatrix(t, specs, "bf16", "fp16", "fp8e4m3")
	}
}

// TestAttentionStreamedKV checks the optimized variant with K and V
// streamed in blocks (the path long sequences take) at a small shape, by
// shrinking the residency budget to nothing and the block to 512 keys.
func TestAttentionStreamedKV(t *testing.T) {
	specs := []string{"attention:heads=2,kv_heads=1,seqlen=600,headdim=64,causal=true"}
	if !testing.Short() {
		specs = append(specs,
			"attention:heads=1,seqlen=1100,headdim=128,causal=false",
			"attention:heads=1,seqlen=520,headdim=256,causal=true,dtype=fp16")
	}
	arch := isa.Trn2()
	for _, sp := range specs {
		t.Run(sp, func(t *testing.T) {
			p, err := Builtin().Parse(sp)
			if err != nil {
				t.Fatal(err)
			}
			b := isa.NewBuilder(arch, p.String())
			if err := attentionProgram(b, p, attnBlocking{residentBytes: 0, kBlock: 512}); err != nil {
				t.Fatal(err)
			}
			prog, err := b.Program()
			if err != nil {
				t.Fatal(err)
			}
			in := UniformInputs(prog, rand.New(rand.NewPCG(3, 4)))
			got, err := isa.Exec(prog, arch, in)
			if err != nil {
				t.Fatal(err)
			}
			r := compare("O", got["O"], attentionReference(p, in)["O"], attentionTolerance(p))
			if !r.Pass {
				t.Errorf("max abs error %.3g beyond %.3g", r.MaxAbsErr, r.Tol.Abs)
			}
		})
	}
}

func TestAttentionErrors(t *testing.T) {
	ks := Builtin()
	for _, tc := range []struct{ spec, want string }{
		{"attention:headdim=96", "headdim=96"},
		{"attention:heads=8,kv_heads=3", "kv_heads=3"},
		{"attention:heads=2,kv_heads=4", "kv_heads=4"},
		{"attention:dtype=fp8e5m2", "dtype"},
		{"decode_attention:dtype=int32", "dtype"},
	} {
		_, err := ks.Parse(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.spec, err, tc.want)
		}
	}
	for _, v := range []string{"fa2", "fa3"} {
		p, err := ks.Parse("attention:seqlen=128,variant=" + v)
		if err != nil {
			t.Fatal(err)
		}
		_, err = BuildNeuron(isa.Trn2(), p)
		if err == nil || !strings.Contains(err.Error(), v) || !strings.Contains(err.Error(), "tiled, optimized") {
			t.Errorf("variant %s on trn2: error %v, want one naming %s and the NeuronCore variants", v, err, v)
		}
	}
}

func TestAttentionFLOPs(t *testing.T) {
	ks := Builtin()
	for _, tc := range []struct {
		spec string
		want float64
	}{
		// 4·b·h·s²·d
		{"attention:batch=2,heads=4,seqlen=100,headdim=64", 4 * 2 * 4 * 100 * 100 * 64},
		{"attention:batch=2,heads=4,seqlen=100,headdim=64,causal=true", 2 * 2 * 4 * 100 * 100 * 64},
		// 4·b·h·s·d
		{"decode_attention:batch=3,heads=8,kv_heads=2,seqlen=1000,headdim=128", 4 * 3 * 8 * 1000 * 128},
	} {
		p, err := ks.Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Kernel.FLOPs(p); got != tc.want {
			t.Errorf("%s: FLOPs %g, want %g", tc.spec, got, tc.want)
		}
	}
}

// TestAttentionOptimizedFaster is the timing check: at seqlen
// 4096, headdim 128, bf16, one head, the optimized variant beats the tiled
// one on trn1 and trn2, and its report names what bounds it (it keeps K
// and V resident, so DMA is idle most of the time): a compute engine on
// trn2, the shared PSUM port on trn1.
//
// On trn1 (NeuronCore-v2) VectorE and ScalarE share one PSUM port
// (docs/hardware.md A §1.3): the row max, the Pᵀ evacuation and the O update
// on VectorE and the exponential on ScalarE all read PSUM, one at a time,
// about 1.44 µs per 512-key tile against VectorE's 1.09 µs of work. The
// port, not an engine, is then what the pipeline must keep busy.
func TestAttentionOptimizedFaster(t *testing.T) {
	for _, target := range []string{"trn1", "trn2"} {
		cfg, err := neuron.Preset(target)
		if err != nil {
			t.Fatal(err)
		}
		times := map[string]float64{}
		for _, v := range []string{"tiled", "optimized"} {
			p, err := Builtin().Parse("attention:batch=1,heads=1,seqlen=4096,headdim=128,dtype=bf16,variant=" + v)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := BuildNeuron(cfg.Arch(), p)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := neuron.Run(prog, cfg)
			if err != nil {
				t.Fatal(err)
			}
			times[v] = rep.TimeNs
			if v == "optimized" {
				// trn1: the shared PSUM port (reported beside the engines);
				// trn2: a compute engine.
				want := []string{"tensor", "vector", "scalar", "gpsimd"}
				if target == "trn1" {
					want = []string{"psum_port"}
				}
				if !slices.Contains(want, rep.Bound) {
					t.Errorf("%s optimized: bound %q, want one of %v", target, rep.Bound, want)
				}
				be, _ := rep.Engine(rep.Bound)
				for _, e := range rep.Engines {
					if e.ActivePct > be.ActivePct {
						t.Errorf("%s optimized: bound %s is %.0f%% active but %s is %.0f%%", target, rep.Bound, be.ActivePct, e.Name, e.ActivePct)
					}
				}
				what, busy := rep.Bound, be.ActivePct
				if busy < 80 {
					t.Errorf("%s optimized: the bounding resource %s is only %.0f%% busy; the pipeline leaves it idle", target, what, busy)
				}
				t.Logf("%s optimized: bound %s, %.0f%% busy", target, what, busy)
			}
		}
		if times["optimized"] >= times["tiled"] {
			t.Errorf("%s: optimized %.0f µs, tiled %.0f µs; want optimized faster", target, times["optimized"]/1e3, times["tiled"]/1e3)
		}
		t.Logf("%s: tiled %.1f µs, optimized %.1f µs", target, times["tiled"]/1e3, times["optimized"]/1e3)
	}
}

func TestSwPipe(t *testing.T) {
	// Stages a, b at lag 0 and 1, c at lag 1 emitted first within a step,
	// d at lag 2: iteration j's stage runs at step j + lag.
	var got []string
	names := "abcd"
	pipe := newPipe([]int{0, 1, 1, 2}, []int{2, 3, 0, 1})
	for j := range 3 {
		pipe.push(func(s int) { got = append(got, string(names[s])+string(rune('0'+j))) })
	}
	if !pipe.pending(1) || pipe.pending(0) {
		t.Errorf("after three pushes: iteration 1 pending %v (want true), 0 pending %v (want false)", pipe.pending(1), pipe.pending(0))
	}
	pipe.flush()
	want := []string{
		"a0",             // step 0
		"c0", "a1", "b0", // step 1: c (first in order), a, b
		"c1", "d0", "a2", "b1", // step 2: c, d, a, b
		"c2", "d1", "b2", // step 3 (flush)
		"d2", // step 4
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("emission order\n got %v\nwant %v", got, want)
	}
	if pipe.pending(2) {
		t.Error("iteration 2 pending after flush")
	}
}

func TestSlotRingFlushes(t *testing.T) {
	// A two-slot ring: the third take reuses slot 0, still read by a
	// pending iteration, so it flushes the pipeline first.
	var got []string
	pipe := newPipe([]int{0, 3}, []int{0, 1})
	ring := newSlotRing(2)
	for j := range 3 {
		s := ring.take(pipe)
		ring.use(s, pipe.nextIdx())
		got = append(got, "take"+string(rune('0'+s)))
		pipe.push(func(st int) { got = append(got, "s"+string(rune('0'+st))+string(rune('0'+j))) })
	}
	pipe.flush()
	want := "take0 s00 take1 s01 s10 s11 take0 s02 s12"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("got  %s\nwant %s", g, want)
	}
}
