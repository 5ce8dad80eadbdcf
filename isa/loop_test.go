package isa

import (
	"errors"
	"slices"
	"testing"
)

// forcer is a Looper that records what it is handed and, from iteration
// from on (or seen, if later: a Looper timing on another goroutine reports
// late), reports a steady state of period iterations found at from.
type forcer struct {
	period, from int
	seen         int
	got          map[int]Instr
	marks        []int
	rots         map[int]LoopRotation // by the mark's next instruction
	skips        [][4]int             // i, count, period, instrs
	ends         int
	cur          int
	fail         int // Instr returns an error at this index (0: never)
}

func newForcer(period, from int) *forcer {
	return &forcer{period: period, from: from, got: map[int]Instr{}, rots: map[int]LoopRotation{}}
}

func (f *forcer) Tensor(int, TensorDecl) {}
func (f *forcer) Instr(i int, in *Instr) error {
	if f.fail > 0 && i == f.fail {
		return errors.New("sink full")
	}
	f.got[i] = *in
	return nil
}
func (f *forcer) LoopMark(i int, key uint64, next int, rot *LoopRotation) {
	f.cur = i
	f.marks = append(f.marks, i)
	f.rots[next] = rot.Clone()
}
func (f *forcer) LoopSteady() (int, int) {
	if f.period > 0 && f.cur >= max(f.from, f.seen) {
		return f.period, f.from
	}
	return 0, 0
}
func (f *forcer) LoopSkip(i, count, period, instrs int) {
	f.skips = append(f.skips, [4]int{i, count, period, instrs})
}
func (f *forcer) LoopEnd() { f.ends++ }

// plainSink stores instructions but is not a Looper.
type plainSink struct{ got []Instr }

func (s *plainSink) Tensor(int, TensorDecl) {}
func (s *plainSink) Instr(i int, in *Instr) error {
	s.got = append(s.got, *in)
	return nil
}

// loopKernel builds a row-tile loop of n iterations into b: per iteration
// a load, a copy and a store of row tile i (two DMAs: the queue state
// repeats every 8 iterations; two-slot pools every 2), with kernel key
// key(i), or 0 for every iteration when key is nil. useLoop false writes
// the plain loop.
func loopKernel(b *Builder, n int, key func(int) uint64, useLoop bool) {
	x := b.Input("x", BF16, n*128, 64)
	y := b.Output("y", BF16, n*128, 64)
	in := b.SBUFPool("in", 2, 128)
	out := b.SBUFPool("out", 2, 128)
	body := func(i int) {
		t := in.Tile(BF16, 128, 64)
		b.Load(t, x.Tile(i*128, 0, 128, 64))
		o := out.Tile(BF16, 128, 64)
		b.TensorCopy(Vector, o, t)
		b.Store(y.Tile(i*128, 0, 128, 64), o)
	}
	if key == nil {
		key = func(int) uint64 { return 0 }
	}
	if !useLoop {
		for i := range n {
			body(i)
		}
		return
	}
	b.Loop(n, key, body)
}

func fullProgram(t *testing.T, n int) []Instr {
	t.Helper()
	b := NewBuilder(Trn2(), "loop")
	loopKernel(b, n, nil, false)
	p, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	return p.Instrs
}

func sameInstr(a, b Instr) bool {
	a.Site, b.Site = 0, 0
	return a == b
}

// TestLoopPlain: a Loop into a storing Builder or a Sink that is not a
// Looper emits exactly the plain loop.
func TestLoopPlain(t *testing.T) {
	full := fullProgram(t, 20)
	b := NewBuilder(Trn2(), "loop")
	loopKernel(b, 20, nil, true)
	p, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Instrs, full) {
		t.Errorf("storing Loop differs from the plain loop")
	}
	var s plainSink
	sb := NewStreamBuilder(Trn2(), "loop", &s)
	loopKernel(sb, 20, nil, true)
	if err := sb.Err(); err != nil {
		t.Fatal(err)
	}
	if len(s.got) != len(full) {
		t.Fatalf("streamed %d instructions, want %d", len(s.got), len(full))
	}
	for i := range full {
		if !sameInstr(s.got[i], full[i]) {
			t.Fatalf("instruction %d: %+v, want %+v", i, s.got[i], full[i])
		}
	}
}

// TestLoopSkips checks which iterations Loop skips under forced periods
// and that what is emitted is the full program at the same indices.
func TestLoopSkips(t *testing.T) {
	const n = 100
	const per = 3 // instructions per iteration
	keyAt50 := func(i int) uint64 {
		if i == 50 {
			return 1
		}
		return 0
	}
	tests := []struct {
		name         string
		n            int
		period, from int
		seen         int
		key          func(int) uint64
		want         [][2]int // skipped iterations: first, count
	}{
		// Skip from the first multiple of the period (one period
		// recorded) in whole periods up to 96.
		{"period 8", n, 8, 0, 0, nil, [][2]int{{8, 88}}},
		{"period 16", n, 16, 0, 0, nil, [][2]int{{16, 80}}},
		{"found late", n, 8, 40, 0, nil, [][2]int{{40, 56}}},
		{"found at 41", n, 8, 41, 0, nil, [][2]int{{41, 56}}},
		// Reported from 43, found at 40: skip whole periods from 40 on.
		{"reported late", n, 8, 40, 43, nil, [][2]int{{48, 48}}},
		// The queues and pools rotate by other amounts each period:
		// what follows a skip is the full program relabelled.
		{"rotating 3", n, 3, 0, 0, nil, [][2]int{{3, 96}}},
		{"rotating 4", n, 4, 0, 0, nil, [][2]int{{4, 96}}},
		// Key 50 differs from key 42: skip [8, 48); at 56 the period
		// ahead breaks at 58 (58 differs from 50); from 64 whole
		// periods fit up to 96.
		{"key change", n, 8, 0, 0, keyAt50, [][2]int{{8, 40}, {64, 32}}},
		{"small n", 2, 1, 0, 0, nil, nil},
		{"exact end", 24, 8, 0, 0, nil, [][2]int{{8, 16}}},
		{"no period", n, 0, 0, 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			full := fullProgram(t, tc.n)
			f := newForcer(tc.period, tc.from)
			f.seen = tc.seen
			b := NewStreamBuilder(Trn2(), "loop", f)
			loopKernel(b, tc.n, tc.key, true)
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			var got [][2]int
			skipped := map[int]bool{}
			for _, s := range f.skips {
				got = append(got, [2]int{s[0], s[1]})
				if s[2] != tc.period || s[1]%s[2] != 0 || s[3] != s[1]*per {
					t.Errorf("skip %v: want period %d, count a multiple of it, %d instructions per iteration", s, tc.period, per)
				}
				for j := s[0] * per; j < (s[0]+s[1])*per; j++ {
					skipped[j] = true
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("skipped %v, want %v", got, tc.want)
			}
			if b.Len() != len(full) {
				t.Errorf("Len %d after the loop, want %d", b.Len(), len(full))
			}
			// The full program's rotation before iteration i: two DMAs
			// and one tile of each two-slot pool per iteration.
			fullRot := func(i int) *LoopRotation {
				r := f.rots[0]
				r.Queue = 2 * i % NumDMAQueues
				r.Pools = slices.Clone(r.Pools)
				for k := range r.Pools {
					r.Pools[k].Next = i % 2
				}
				return &r
			}
			emitted := tc.n
			for _, s := range f.skips {
				emitted -= s[1]
			}
			for j, in := range full {
				g, ok := f.got[j]
				if ok == skipped[j] {
					t.Fatalf("instruction %d: emitted %v, skipped %v", j, ok, skipped[j])
				}
				if !ok {
					continue
				}
				// Emitted after the mark of its iteration, at the
				// rotation recorded there.
				if rot, marked := f.rots[j/per*per]; marked {
					g = rot.Relabel(g, fullRot(j/per))
				}
				if !sameInstr(g, in) {
					t.Fatalf("instruction %d: %+v, want %+v", j, g, in)
				}
			}
			if b.dmaNext != 2*emitted {
				t.Errorf("dmaNext %d, want %d (two per emitted iteration)", b.dmaNext, 2*emitted)
			}
			if f.ends != 1 {
				t.Errorf("%d LoopEnd calls, want 1", f.ends)
			}
			// A skip moves on to the iteration after it with a mark.
			for _, s := range f.skips {
				if e := s[0] + s[1]; e < tc.n && !slices.Contains(f.marks, e) {
					t.Errorf("no mark at %d after skip %v", e, s)
				}
			}
		})
	}
}

// TestLoopNested: a Loop inside a Loop's body runs plain (no marks of
// its own).
func TestLoopNested(t *testing.T) {
	f := newForcer(0, 0)
	b := NewStreamBuilder(Trn2(), "loop", f)
	inner := 0
	b.Loop(3, func(int) uint64 { return 0 }, func(int) {
		b.Loop(4, func(int) uint64 { return 0 }, func(int) { inner++ })
	})
	if inner != 12 || !slices.Equal(f.marks, []int{0, 1, 2}) || f.ends != 1 {
		t.Errorf("inner bodies %d, marks %v, ends %d; want 12, [0 1 2], 1", inner, f.marks, f.ends)
	}
}

// TestLoopError: Loop stops at the Builder's first error.
func TestLoopError(t *testing.T) {
	f := newForcer(0, 0)
	f.fail = 7 // the third iteration's second instruction
	b := NewStreamBuilder(Trn2(), "loop", f)
	loopKernel(b, 20, nil, true)
	if b.Err() == nil {
		t.Fatal("no error")
	}
	if want := []int{0, 1, 2}; !slices.Equal(f.marks, want) {
		t.Errorf("marks %v, want %v", f.marks, want)
	}
}

func TestLoopKey(t *testing.T) {
	keys := map[uint64][]int{}
	for _, v := range [][]int{{}, {0}, {1}, {0, 0}, {0, 1}, {1, 0}, {2, 3, 4}, {2, 4, 3}} {
		k := LoopKey(v...)
		if prev, ok := keys[k]; ok {
			t.Errorf("LoopKey(%v) == LoopKey(%v)", v, prev)
		}
		keys[k] = v
		if LoopKey(v...) != k {
			t.Errorf("LoopKey(%v) not deterministic", v)
		}
	}
}
