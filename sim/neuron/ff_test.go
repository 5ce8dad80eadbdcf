package neuron

import (
	"errors"
	"reflect"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// loopProgram is a stored program with the first instruction of each
// iteration of its loop (starts[n] = the loop's end) and each iteration's
// key.
type loopProgram struct {
	p      *isa.Program
	starts []int
	keys   []uint64
}

// done stores b's program in lp, the loop over.
func (lp loopProgram) done(b *isa.Builder) loopProgram {
	p, err := b.Program()
	if err != nil {
		panic(err)
	}
	lp.p = p
	return lp
}

// ffKernels are loops of the shapes kernels repeat: a tiled matmul
// (loads, TensorE, PSUM evacuation, stores), a ScalarE/VectorE row loop,
// and a loop with a prologue and an epilogue around it.
func ffKernels(arch isa.Arch) map[string]func(n int) loopProgram {
	return map[string]func(n int) loopProgram{
		"matmul": func(n int) loopProgram {
			b := isa.NewBuilder(arch, "ffmm")
			a := b.Input("a", isa.BF16, 128, 128*n)
			w := b.Input("w", isa.BF16, 128, 512)
			c := b.Output("c", isa.BF16, 128, 512*n)
			wp := b.SBUFPool("w", 1, 512*2)
			ap := b.SBUFPool("a", 2, 128*2)
			op := b.SBUFPool("o", 2, 512*2)
			pp := b.PSUMPool("acc", 2, 512*4)
			wt := wp.Tile(isa.BF16, 128, 512)
			b.Load(wt, w.Tile(0, 0, 128, 512))
			lp := loopProgram{}
			for i := range n {
				lp.starts = append(lp.starts, b.Len())
				lp.keys = append(lp.keys, uint64(i%16))
				at := ap.Tile(isa.BF16, 128, 128)
				b.Load(at, a.Tile(0, 128*i, 128, 128))
				ps := pp.Tile(isa.FP32, 128, 512)
				b.Matmul(ps, at, wt, false)
				o := op.Tile(isa.BF16, 128, 512)
				b.TensorCopy(isa.Vector, o, ps)
				b.Store(c.Tile(0, 512*i, 128, 512), o)
			}
			lp.starts = append(lp.starts, b.Len())
			o := op.Tile(isa.BF16, 128, 512)
			b.Memset(isa.GpSimd, o, 0)
			b.Store(c.Tile(0, 0, 128, 512), o)
			return lp.done(b)
		},
		// revisit breaks the loop contract: every iteration adds into
		// the same HBM rows, so none may be skipped.
		"revisit": func(n int) loopProgram {
			b := isa.NewBuilder(arch, "ffrevisit")
			x := b.Input("x", isa.FP32, 128*n, 512)
			y := b.Output("y", isa.FP32, 128, 512)
			in := b.SBUFPool("in", 2, 512*4)
			acc := b.SBUFPool("acc", 2, 512*4)
			lp := loopProgram{}
			for i := range n {
				lp.starts = append(lp.starts, b.Len())
				lp.keys = append(lp.keys, uint64(i%8))
				t := in.Tile(isa.FP32, 128, 512)
				b.Load(t, x.Tile(128*i, 0, 128, 512))
				a := acc.Tile(isa.FP32, 128, 512)
				b.Load(a, y.Tile(0, 0, 128, 512))
				b.TensorTensor(a, a, t, isa.ALUAdd)
				b.Store(y.Tile(0, 0, 128, 512), a)
			}
			lp.starts = append(lp.starts, b.Len())
			return lp.done(b)
		},
		"rows": func(n int) loopProgram {
			b := isa.NewBuilder(arch, "ffrows")
			x := b.Input("x", isa.BF16, 128*n, 1024)
			y := b.Output("y", isa.BF16, 128*n, 1024)
			in := b.SBUFPool("in", 3, 1024*2)
			out := b.SBUFPool("out", 2, 1024*2)
			st := b.SBUFPool("st", 2, 4)
			lp := loopProgram{}
			for i := range n {
				lp.starts = append(lp.starts, b.Len())
				lp.keys = append(lp.keys, uint64(i%48))
				t := in.Tile(isa.BF16, 128, 1024)
				b.Load(t, x.Tile(128*i, 0, 128, 1024))
				s := st.Tile(isa.FP32, 128, 1)
				b.TensorReduce(s, t, isa.ALUAdd, 1, false)
				o := out.Tile(isa.BF16, 128, 1024)
				b.Activation(o, t, isa.ActExp)
				b.TensorScalar(isa.Vector, o, o, isa.ALUMul, isa.Operand{AP: s}, isa.ALUBypass, isa.Operand{})
				b.Store(y.Tile(128*i, 0, 128, 1024), o)
			}
			lp.starts = append(lp.starts, b.Len())
			return lp.done(b)
		},
	}
}

// timeLooped times lp on a Stream the way a streaming Builder would feed
// it: a LoopMark before every iteration and, when the Stream reports a
// steady state, a skip over as many whole periods as the loop has left.
// It returns the report and the iterations skipped.
func timeLooped(t *testing.T, lp loopProgram, c Config, ff bool) (*sim.Report, int) {
	t.Helper()
	s, err := NewStream(c)
	if err != nil {
		t.Fatal(err)
	}
	s.FastForward(ff)
	for i, d := range lp.p.Tensors {
		s.Tensor(i, d)
	}
	feed := func(from, to int) {
		for k := from; k < to; k++ {
			if err := s.Instr(k, &lp.p.Instrs[k]); err != nil {
				t.Fatal(err)
			}
		}
	}
	n := len(lp.keys)
	feed(0, lp.starts[0])
	skipped := 0
	for i := 0; i < n; {
		// The keys repeat only where the queue and pool rotations do, so
		// the test passes no rotation (nothing to relabel).
		s.LoopMark(i, lp.keys[i], lp.starts[i], &isa.LoopRotation{})
		if testing.Verbose() && i%50 == 49 && s.ff.why != "" {
			t.Logf("iteration %d: %s", i, s.ff.why)
		}
		if p, at := s.LoopSteady(); p > 0 && at <= i && (i-at)%p == 0 && i+p <= n {
			m := 0
			for i+(m+1)*p <= n && periodicKeys(lp.keys, i+m*p, p) {
				m++
			}
			if m > 0 {
				cnt := m * p
				s.LoopSkip(i, cnt, p, lp.starts[i+cnt]-lp.starts[i])
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
				i += cnt
				skipped += cnt
				continue
			}
		}
		feed(lp.starts[i], lp.starts[i+1])
		i++
	}
	s.LoopEnd()
	feed(lp.starts[n], len(lp.p.Instrs))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return s.Report(), skipped
}

// periodicKeys reports whether keys[x] == keys[x-p] for x in [i, i+p).
func periodicKeys(keys []uint64, i, p int) bool {
	for x := i; x < i+p; x++ {
		if keys[x] != keys[x-p] {
			return false
		}
	}
	return true
}

// TestFastForwardExact: a loop timed with fast-forward gives the report of
// the loop timed instruction by instruction, bit for bit, on every
// generation (throttled and shared-port ones included), while skipping
// most of its iterations where ports are not shared.
func TestFastForwardExact(t *testing.T) {
	for _, gen := range []string{"trn1", "trn2", "trn3"} {
		c, err := Preset(gen)
		if err != nil {
			t.Fatal(err)
		}
		for name, mk := range ffKernels(c.Arch()) {
			for _, n := range []int{7, 300, 1000} {
				lp := mk(n)
				full, _ := timeLooped(t, lp, c, false)
				ff, skipped := timeLooped(t, lp, c, true)
				if !reflect.DeepEqual(full, ff) {
					t.Errorf("%s %s n=%d: fast-forward report differs:\nfull %+v\nff   %+v", gen, name, n, full, ff)
				}
				// NC-v2's shared ports (trn1) are booked by engines
				// these loops leave idle, whose next instruction could
				// still start in the past: their timelines are never
				// folded, so a trn1 loop that leaves an engine idle is
				// timed in full (exact, not fast).
				shared := c.SharedPSUMVectorScalar || c.SharedSBUFVectorGpSimd
				if name == "revisit" && skipped > 0 {
					t.Errorf("%s %s n=%d: skipped %d iterations of a loop that revisits HBM", gen, name, n, skipped)
				}
				if n >= 300 && !shared && name != "revisit" && skipped < n/2 {
					t.Errorf("%s %s n=%d: skipped %d iterations, want at least half", gen, name, n, skipped)
				}
				t.Logf("%s %s n=%d: %d of %d iterations skipped, %.3f µs", gen, name, n, skipped, n, full.TimeNs/1e3)
			}
		}
	}
}

// TestFastForwardRefused: a skip the Stream cannot verify — not at a
// steady state it reported, or with another instruction count than its
// periods hold — stops timing with a *FastForwardError instead of a
// number.
func TestFastForwardRefused(t *testing.T) {
	c, err := Preset("trn2")
	if err != nil {
		t.Fatal(err)
	}
	lp := ffKernels(c.Arch())["matmul"](200)
	cases := []struct {
		name string
		skip func(s *Stream, i, p int)
	}{
		{"no steady state", func(s *Stream, i, p int) { s.LoopSkip(1, 2, 1, 2*(lp.starts[2]-lp.starts[1])) }},
		{"wrong count", func(s *Stream, i, p int) { s.LoopSkip(i, p, p, lp.starts[i+p]-lp.starts[i]+1) }},
		{"not whole periods", func(s *Stream, i, p int) { s.LoopSkip(i, p+1, p, lp.starts[i+p+1]-lp.starts[i]) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewStream(c)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range lp.p.Tensors {
				s.Tensor(i, d)
			}
			k := 0
			for i := 0; i < len(lp.keys); i++ {
				for ; k < lp.starts[i]; k++ {
					if err := s.Instr(k, &lp.p.Instrs[k]); err != nil {
						t.Fatal(err)
					}
				}
				s.LoopMark(i, lp.keys[i], lp.starts[i], &isa.LoopRotation{})
				p, at := s.LoopSteady()
				if tc.name == "no steady state" && i == 1 || p > 0 && i == at {
					tc.skip(s, i, p)
					break
				}
			}
			var ffe *FastForwardError
			if !errors.As(s.Err(), &ffe) {
				t.Fatalf("Err() = %v, want a *FastForwardError", s.Err())
			}
			if err := s.Instr(s.n, &lp.p.Instrs[0]); !errors.As(err, &ffe) {
				t.Errorf("Instr after a refused skip: %v, want the *FastForwardError", err)
			}
		})
	}
}
