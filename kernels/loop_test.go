package kernels_test

import (
	"reflect"
	"sort"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/kernels/kernelstest"
	"github.com/trnsim/trnsim/sim"
	"github.com/trnsim/trnsim/sim/neuron"
)

// loopSpecs are the kernels whose main loop is a Builder.Loop, on real
// shapes (the Llama 3 70B prefill layer's at 8192 tokens, where storing
// both programs fits a test) and ragged ones whose last tiles change the
// iteration keys. short: also run under -short.
var loopSpecs = []struct {
	spec  string
	short bool
	none  bool // no period fits the loop: the stream must equal the program
}{
	{"matmul:M=8192,N=57344,K=8192,variant=best", false, false}, // gate_up_proj
	{"matmul:M=8192,N=8192,K=28672,variant=best", false, false}, // down_proj
	{"matmul:M=8192,N=10240,K=8192,variant=fully_optimized", false, false},
	{"matmul:M=8192,N=8192,K=8192,variant=tiled", false, false}, // o_proj's shape
	{"matmul:M=2048,N=16384,K=2048,variant=best", true, false},
	{"matmul:M=1000,N=100000,K=1100,variant=best", true, false},
	{"matmul:M=2048,N=16384,K=1024,dtype=fp32,variant=best", true, false}, // one buffer set
	{"matmul:M=2048,N=2560,K=512,variant=tiled", true, false},
	{"matmul:M=200,N=12000,K=700,batch=4,variant=tiled", true, false},
	{"matmul:M=1024,N=65536,K=1536,dtype=fp8e4m3,variant=best", true, false},
	{"attention:heads=64,kv_heads=8,seqlen=8192,headdim=128,causal=true", false, false},
	{"attention:batch=16,heads=64,kv_heads=8,seqlen=512,headdim=128,causal=true", true, false},
	{"attention:batch=4,heads=16,kv_heads=16,seqlen=512,headdim=128,causal=true", true, false},
	{"attention:batch=48,heads=16,kv_heads=4,seqlen=600,headdim=64,causal=false", true, false},
	// Query blocks of a head repeat, but the timing model finds whole
	// heads only, 8 at a time: one DMA queue keeps the end of a transfer
	// of the first head on DMA engines 8-15 that no later transfer on it
	// overwrites (later ones there cover 64 partitions), while the queues
	// the rotation maps it to have none, so a state matches only when the
	// rotation brings that queue back onto itself.
	{"attention:batch=1,heads=32,kv_heads=32,seqlen=16384,headdim=64,causal=false", false, false},
	{"attention:batch=1,heads=8,kv_heads=1,seqlen=4096,headdim=64,causal=false", true, false},   // one K/V load: blocks repeat
	{"attention:batch=1,heads=1,seqlen=32768,headdim=64,causal=false", false, false},            // K/V streamed, one head
	{"attention:batch=2,heads=2,kv_heads=1,seqlen=20000,headdim=128,causal=true", false, false}, // K/V streamed, causal, ragged
	{"attention:batch=4,heads=4,kv_heads=2,seqlen=4200,headdim=64,causal=true", true, false},    // ragged last block, GQA
	{"decode_attention:batch=64,heads=64,kv_heads=8,seqlen=32768,headdim=128", false, false},
	{"decode_attention:batch=331,heads=64,kv_heads=8,seqlen=700,headdim=128", true, false},
	{"decode_attention:batch=330,heads=64,kv_heads=8,seqlen=1000,headdim=64", true, false},
	{"rmsnorm:tokens=8192,hidden=8192", true, false},
	{"rmsnorm:tokens=32768,hidden=8192", false, false},
	{"rmsnorm:tokens=32700,hidden=1000", true, false},
	{"layernorm:tokens=20000,hidden=5000", true, false},
	{"add:tokens=8192,hidden=8192", true, false},
	{"silu_mul:tokens=8192,hidden=28672", false, false},
	{"silu_mul:tokens=4000,hidden=20000", true, false},
	{"rope:tokens=8192,heads=72,headdim=128", true, false},
	{"rope:tokens=20000,heads=40,headdim=64", true, false},
}

// smallestPeriod returns the smallest period P of the marked keys that
// Loop could skip at (a run of 2P+P marks whose keys repeat P apart) and
// the first iteration at which the last period repeats the one before it
// (where a Looper would find it); 0, 0 if none. marks come from a run
// with no period reported (no skips).
func smallestPeriod(marks []kernelstest.LoopMark) (P, at int) {
	for P := 1; 3*P <= len(marks); P++ {
		run, at := 0, -1
		for x := P; x < len(marks); x++ {
			if marks[x].I == 0 {
				run, at = 0, -1 // a new loop
				continue
			}
			if marks[x].Key == marks[x-P].Key {
				run++
			} else {
				run, at = 0, -1
			}
			if run >= P && at < 0 {
				at = max(marks[x].I+1, 2*P)
			}
			if run >= 2*P {
				return P, at
			}
		}
	}
	return 0, 0
}

// hbmFree is in with its HBM offsets zeroed and no site: what two
// iterations with equal keys share.
func hbmFree(in isa.Instr) isa.Instr {
	in.Site = 0
	for _, ap := range []*isa.AP{&in.Dst, &in.Src[0], &in.Src[1], &in.Src[2], &in.Red} {
		if ap.Mem == isa.HBM {
			ap.Offset = 0
		}
	}
	return in
}

// TestLoopRestart: a kernel streamed into a Looper that forces skips
// emits, at every index it emits, exactly the full program's instruction
// (HBM offsets included), and the indices it skips are exactly the ones
// missing, each skipped range repeating the period before it.
func TestLoopRestart(t *testing.T) {
	arch := isa.Trn2()
	for _, tc := range loopSpecs {
		t.Run(tc.spec, func(t *testing.T) {
			if testing.Short() && !tc.short {
				t.Skip("full-size shape: stores two copies of a program of up to 550k instructions")
			}
			p, err := kernels.Builtin().Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			fb := isa.NewBuilder(arch, p.Kernel.Name)
			if err := p.Kernel.Neuron(fb, p); err != nil {
				t.Fatal(err)
			}
			full, err := fb.Program()
			if err != nil {
				t.Fatal(err)
			}
			var plain kernelstest.Looper
			pb := isa.NewStreamBuilder(arch, p.Kernel.Name, &plain)
			if err := p.Kernel.Neuron(pb, p); err != nil {
				t.Fatal(err)
			}
			if len(plain.Skips) > 0 || len(plain.Instrs) != len(full.Instrs) || len(plain.Marks) == 0 {
				t.Fatalf("unforced: %d skips, %d of %d instructions, %d marks", len(plain.Skips), len(plain.Instrs), len(full.Instrs), len(plain.Marks))
			}
			P, at := smallestPeriod(plain.Marks)
			if tc.none {
				if P != 0 {
					t.Fatalf("period %d in %d marks, want none", P, len(plain.Marks))
				}
				checkRestart(t, full, plain.Marks, &plain)
				t.Logf("%d instructions, %d iterations; no period", len(full.Instrs), len(plain.Marks))
				return
			}
			if P == 0 {
				t.Fatalf("no period in %d marks", len(plain.Marks))
			}
			// Found where it first shows, twice as long, found one
			// iteration later, and found where whole periods reach the
			// loop's end (the pending work the final flush emits must
			// stand for the last iterations).
			n := len(plain.Marks)
			for _, c := range []struct{ period, from int }{{P, at}, {2 * P, at}, {P, at + 1}, {P, at + (n-at)%P}} {
				period := c.period
				l := &kernelstest.Looper{Period: period, From: c.from}
				b := isa.NewStreamBuilder(arch, p.Kernel.Name, l)
				if err := p.Kernel.Neuron(b, p); err != nil {
					t.Fatal(err)
				}
				if err := b.Err(); err != nil {
					t.Fatal(err)
				}
				iters := checkRestart(t, full, plain.Marks, l)
				perPeriod := 0
				if len(l.Skips) > 0 {
					s := l.Skips[0]
					perPeriod = s.Instrs / (s.Count / s.Period)
				}
				t.Logf("%d instructions, %d iterations; period %d from %d: %d instructions per period, skipped %d iterations (%d instructions, %.1f%%)",
					len(full.Instrs), len(plain.Marks), period, c.from, perPeriod, iters, l.Skipped(), 100*float64(l.Skipped())/float64(len(full.Instrs)))
				if c == (struct{ period, from int }{P, at}) && len(l.Skips) == 0 {
					t.Errorf("period %d: nothing skipped", period)
				}
			}
		})
	}
}

// rotAt returns the rotation of the last mark at or before instruction j
// (marks in program order); nil before the first.
func rotAt(marks []kernelstest.LoopMark, j int) *isa.LoopRotation {
	k := sort.Search(len(marks), func(k int) bool { return marks[k].Next > j }) - 1
	if k < 0 {
		return nil
	}
	return &marks[k].Rot
}

// relabelTo returns in, emitted at rotation from, as emitted at rotation
// to (either nil: unchanged).
func relabelTo(in isa.Instr, from, to *isa.LoopRotation) isa.Instr {
	if from == nil || to == nil {
		return in
	}
	return from.Relabel(in, to)
}

// skipShift is the rotation by which the full program runs ahead of a
// skipping stream from instruction from on: the Builder goes on from its
// rotation at a skip, the full program from where the skipped periods
// took it. base is the zero rotation (the pools' geometry), shift base
// moved on by the sum of the skips so far.
type skipShift struct {
	from        int
	base, shift isa.LoopRotation
}

// skipShifts returns the shift after each of l's skips, given the marks
// of the unforced run (whose rotation per period it reads).
func skipShifts(t *testing.T, fullMarks []kernelstest.LoopMark, l *kernelstest.Looper) []skipShift {
	t.Helper()
	var out []skipShift
	var base, acc isa.LoopRotation
	for _, sk := range l.Skips {
		k := sort.Search(len(fullMarks), func(k int) bool { return fullMarks[k].Next >= sk.Next })
		for k < len(fullMarks) && fullMarks[k].I != sk.I {
			k++
		}
		if k >= len(fullMarks) || k < sk.Period || fullMarks[k-sk.Period].I != sk.I-sk.Period {
			t.Fatalf("skip %+v: no unforced marks at its iteration and a period before", sk)
		}
		now, before := fullMarks[k].Rot, fullMarks[k-sk.Period].Rot
		m := sk.Count / sk.Period
		if base.Pools == nil {
			base.Pools = make([]isa.PoolSlots, len(now.Pools))
			for j, p := range now.Pools {
				base.Pools[j] = p
				base.Pools[j].Next = 0
			}
			acc = base.Clone()
		}
		acc.Queue += m * (now.Queue - before.Queue)
		for j := range acc.Pools {
			acc.Pools[j].Next += m * (now.Pools[j].Next - before.Pools[j].Next)
		}
		out = append(out, skipShift{from: sk.Next + sk.Instrs, base: base,
			shift: acc.Clone()})
	}
	return out
}

// checkRestart compares what l received with full, whose unforced run
// marked fullMarks, and returns the iterations skipped. After a skip the
// Builder goes on from its rotation before it, so what it emits is the
// full program relabelled (isa.LoopRotation): each instruction is compared
// after moving it on by the rotation the skips before it left out.
func checkRestart(t *testing.T, full *isa.Program, fullMarks []kernelstest.LoopMark, l *kernelstest.Looper) int {
	t.Helper()
	want := full.Instrs
	shifts := skipShifts(t, fullMarks, l)
	skipped := make([]bool, len(want))
	iters := 0
	for _, s := range l.Skips {
		iters += s.Count
		if s.Count%s.Period != 0 || s.Instrs%(s.Count/s.Period) != 0 {
			t.Fatalf("skip %+v: not whole periods", s)
		}
		pp := s.Instrs / (s.Count / s.Period) // instructions per period
		for j := s.Next; j < s.Next+s.Instrs; j++ {
			if j >= len(want) || skipped[j] {
				t.Fatalf("skip %+v: instruction %d out of range or skipped twice", s, j)
			}
			skipped[j] = true
			// The skipped range repeats the period before it.
			prev := relabelTo(want[j-pp], rotAt(fullMarks, j-pp), rotAt(fullMarks, j))
			if a, b := hbmFree(want[j]), hbmFree(prev); a != b {
				t.Fatalf("skip %+v: instruction %d differs from %d (one period before) beyond HBM offsets:\n%+v\n%+v", s, j, j-pp, a, b)
			}
		}
	}
	next := 0
	for _, g := range l.Instrs {
		for next < len(want) && skipped[next] {
			next++
		}
		if g.I != next {
			t.Fatalf("received instruction %d, want %d next", g.I, next)
		}
		w := want[g.I]
		in := g.In
		for k := len(shifts) - 1; k >= 0; k-- {
			if g.I >= shifts[k].from {
				in = shifts[k].base.Relabel(in, &shifts[k].shift)
				break
			}
		}
		in.Site, w.Site = 0, 0
		if in != w {
			t.Fatalf("instruction %d:\n got %+v\nwant %+v", g.I, in, w)
		}
		next++
	}
	for next < len(want) && skipped[next] {
		next++
	}
	if next != len(want) {
		t.Fatalf("received up to %d of %d instructions", next, len(want))
	}
	return iters
}

// TestLoopFastForward times each adopted kernel on the NeuronCore timing
// model with loop fast-forward on and off, and on through a Pipe (which
// reports steady states late): the reports are identical, and with it on
// the loops were skipped (the timing model found the steady state the
// kernels' keys promise). short: shapes of a few thousand instructions;
// otherwise also the 70B layer's.
func TestLoopFastForward(t *testing.T) {
	specs := []struct {
		spec  string
		short bool
	}{
		{"matmul:M=2048,N=16384,K=2048", true},
		{"matmul:M=1000,N=100000,K=1100", true},
		{"matmul:M=2048,N=2560,K=512,variant=tiled", true},
		{"matmul:M=8192,N=57344,K=8192", false},
		{"matmul:M=8192,N=8192,K=28672", false},
		{"rmsnorm:tokens=32700,hidden=1000", true},
		{"layernorm:tokens=20000,hidden=5000", true},
		{"silu_mul:tokens=8192,hidden=28672", true},
		{"add:tokens=8192,hidden=8192", true},
		{"rope:tokens=8192,heads=72,headdim=128", true},
		{"attention:batch=16,heads=16,kv_heads=16,seqlen=512,headdim=128,causal=true", true},
		{"attention:heads=64,kv_heads=8,seqlen=8192,headdim=128,causal=true", false}, // the 70B layer's
		{"attention:batch=1,heads=32,kv_heads=32,seqlen=16384,headdim=64,causal=false", false},
		{"attention:batch=1,heads=32,kv_heads=1,seqlen=4096,headdim=64,causal=false", true}, // one K/V load, 64 query blocks
		{"attention:batch=1,heads=1,seqlen=65536,headdim=64,causal=false", false},           // one head: only its query blocks repeat
		{"decode_attention:batch=330,heads=64,kv_heads=8,seqlen=1000,headdim=64", true},
	}
	for _, tc := range specs {
		t.Run(tc.spec, func(t *testing.T) {
			if testing.Short() && !tc.short {
				t.Skip("full-size shape: times the program in full once")
			}
			p, err := kernels.Builtin().Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"trn2", "trn3"} {
				cfg, err := neuron.Preset(name)
				if err != nil {
					t.Fatal(err)
				}
				piped := func() (*sim.Report, int) {
					pp, err := neuron.NewPipe(cfg)
					if err != nil {
						t.Fatal(err)
					}
					b := isa.NewStreamBuilder(cfg.Arch(), p.String(), pp)
					err = p.Kernel.Neuron(b, p)
					rep, cerr := pp.Close()
					if err != nil || cerr != nil {
						t.Fatalf("piped: %v, %v", err, cerr)
					}
					return rep, pp.Skipped()
				}
				full, _, n := kernelstest.Stream(t, cfg, p, false)
				fast, skipped, _ := kernelstest.Stream(t, cfg, p, true)
				if !reflect.DeepEqual(full, fast) {
					t.Errorf("%s: fast-forwarded report differs:\n%+v\nfull %+v", name, fast, full)
				}
				if skipped == 0 {
					t.Errorf("%s: nothing fast-forwarded", name)
				}
				pfast, pskipped := piped()
				if !reflect.DeepEqual(full, pfast) {
					t.Errorf("%s: fast-forwarded through a Pipe, the report differs:\n%+v\nfull %+v", name, pfast, full)
				}
				// A Pipe's timing trails the build by up to a few
				// thousand instructions: small programs end before the
				// Builder hears of a steady state.
				if pskipped == 0 && n >= 50000 {
					t.Errorf("%s: nothing fast-forwarded through a Pipe", name)
				}
				t.Logf("%s: %d of %d instructions fast-forwarded (%d through a Pipe)", name, skipped, n, pskipped)
			}
		})
	}
}
