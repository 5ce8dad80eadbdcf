package neuron

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// A Stream keeping spans gives Run's report on the stored program, spans
// included, bit for bit, and its Sources resolve the same sites and
// operands without the program.
func TestStreamKeepSpansMatchesRun(t *testing.T) {
	for _, gen := range []string{"trn1", "trn2", "trn3"} {
		cfg, _ := Preset(gen)
		for _, shape := range [][3]int{{128, 512, 128}, {1024, 1536, 640}} {
			p := tiledProgram(t, shape[0], shape[1], shape[2], 2)
			want, err := Run(p, cfg)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := NewStream(cfg)
			s.KeepSpans(0)
			for i, d := range p.Tensors {
				s.Tensor(i, d)
			}
			for i := range p.Instrs {
				if err := s.Instr(i, &p.Instrs[i]); err != nil {
					t.Fatal(err)
				}
			}
			got := s.SpanReport(p.Name, p.Sites)
			if got.Spans.Len() != len(p.Instrs) || want.Spans.Len() != len(p.Instrs) {
				t.Fatalf("%s %v: %d spans, Run %d, program %d", gen, shape, got.Spans.Len(), want.Spans.Len(), len(p.Instrs))
			}
			for i := range len(p.Instrs) {
				if g, w := got.Spans.At(i), want.Spans.At(i); !reflect.DeepEqual(g, w) {
					t.Fatalf("%s %v: span %d %+v, Run's %+v", gen, shape, i, g, w)
				}
				if g, w := got.Sources.Operands(int32(i)), want.Sources.Operands(int32(i)); !reflect.DeepEqual(g, w) {
					t.Fatalf("%s %v: operands of %d %+v, Run's %+v", gen, shape, i, g, w)
				}
			}
			for h := int32(-1); h <= int32(len(p.Sites)); h++ {
				if g, w := got.Sources.Location(h), want.Sources.Location(h); g != w {
					t.Errorf("%s %v: site %d at %+v, Run's %+v", gen, shape, h, g, w)
				}
			}
			if err := got.Check(); err != nil {
				t.Error(err)
			}
			got.Spans, got.Sources = sim.Spans{}, nil
			want.Spans, want.Sources = sim.Spans{}, nil
			if !reflect.DeepEqual(*got, *want) {
				t.Errorf("%s %v: report differs from Run's", gen, shape)
			}
		}
	}
}

// A Stream keeping at most n spans refuses instruction n+1 with a
// *SpanCapError; without KeepSpans it has no cap.
func TestStreamSpanCap(t *testing.T) {
	cfg, _ := Preset("trn2")
	p := tiledProgram(t, 512, 1024, 1024, 2)
	s, _ := NewStream(cfg)
	s.KeepSpans(5)
	for i, d := range p.Tensors {
		s.Tensor(i, d)
	}
	var err error
	n := 0
	for ; n < len(p.Instrs) && err == nil; n++ {
		err = s.Instr(n, &p.Instrs[n])
	}
	var ce *SpanCapError
	if !errors.As(err, &ce) || ce.Cap != 5 || n != 6 {
		t.Fatalf("instruction %d: got %v, want a *SpanCapError with cap 5 at instruction 6", n, err)
	}
	if s.Instrs() != 5 || s.Report().Spans.Len() != 5 {
		t.Errorf("timed %d instructions, kept %d spans; want 5 and 5", s.Instrs(), s.Report().Spans.Len())
	}

	// A Pipe stops its Builder and returns the same error from Close.
	pp, _ := NewPipe(cfg)
	pp.KeepSpans(5)
	for i, d := range p.Tensors {
		pp.Tensor(i, d)
	}
	stopped := false
	for i := range 100 * pipeChunk {
		if pp.Instr(i, &p.Instrs[i%len(p.Instrs)]) != nil {
			stopped = true
			break
		}
	}
	if _, err := pp.Close(); !errors.As(err, &ce) || ce.Cap != 5 {
		t.Errorf("Pipe.Close: got %v, want a *SpanCapError with cap 5", err)
	}
	if !stopped {
		t.Error("Pipe.Instr never failed after the cap")
	}
}

// A Pipe keeping spans gives the Stream's span report.
func TestPipeKeepSpans(t *testing.T) {
	cfg, _ := Preset("trn2")
	p := tiledProgram(t, 1024, 1536, 640, 2)
	want, err := Run(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pp, _ := NewPipe(cfg)
	pp.KeepSpans(0)
	for i, d := range p.Tensors {
		pp.Tensor(i, d)
	}
	for i := range p.Instrs {
		if err := pp.Instr(i, &p.Instrs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pp.Close(); err != nil {
		t.Fatal(err)
	}
	got := pp.SpanReport(p.Name, p.Sites)
	if got.Spans.Len() != len(p.Instrs) {
		t.Fatalf("%d spans for %d instructions", got.Spans.Len(), len(p.Instrs))
	}
	for i := range len(p.Instrs) {
		if g, w := got.Spans.At(i), want.Spans.At(i); !reflect.DeepEqual(g, w) {
			t.Fatalf("span %d %+v, Run's %+v", i, g, w)
		}
		if g, w := got.Sources.Operands(int32(i)), want.Sources.Operands(int32(i)); !reflect.DeepEqual(g, w) {
			t.Fatalf("operands of %d %+v, Run's %+v", i, g, w)
		}
	}
}

// Operands read back from their encoding print as the instruction's own,
// for edge values (negative, 64-bit offsets, memories beyond PSUM, more
// free dimensions than an AP holds) and random ones, whichever slots are
// used.
func TestOperandEncoding(t *testing.T) {
	edge := []isa.AP{
		{},
		{Mem: isa.HBM, DType: isa.BF16, NFree: 2, Tensor: 3, Offset: 1 << 40, Start: 0, Parts: 128, PStride: 1 << 33,
			Free: [isa.MaxFreeDims]isa.Dim{{Stride: 1, Count: 512}, {Stride: -4096, Count: 7}}},
		{Mem: isa.Memory(9), DType: isa.DType(200), NFree: 6, Tensor: -1, Offset: -5, Start: math.MaxInt32, Parts: math.MinInt32,
			PStride: math.MinInt64, Free: [isa.MaxFreeDims]isa.Dim{{Stride: math.MinInt32, Count: math.MaxInt32}, {Stride: 1, Count: 2}, {Stride: 3, Count: 4}, {Stride: 5, Count: 6}}},
		{Mem: isa.PSUM, DType: isa.FP32, NFree: 1, Start: 64, Parts: 64, Offset: 2048, Free: [isa.MaxFreeDims]isa.Dim{{Stride: 1, Count: 512}, {Stride: 9, Count: 9}}},
	}
	rng := rand.New(rand.NewPCG(14, 1))
	randAP := func() isa.AP {
		if rng.IntN(4) == 0 {
			return isa.AP{}
		}
		a := isa.AP{Mem: isa.Memory(1 + rng.IntN(3)), DType: isa.DType(rng.IntN(6)), NFree: uint8(rng.IntN(5)),
			Tensor: rng.Int32N(8) - 1, Offset: rng.IntN(1<<30) - 1<<20, Start: rng.Int32N(128), Parts: rng.Int32N(129),
			PStride: rng.IntN(1 << 16)}
		for d := range a.Free {
			a.Free[d] = isa.Dim{Stride: rng.Int32N(1<<20) - 1<<10, Count: rng.Int32N(1 << 16)}
		}
		return a
	}
	var ins []isa.Instr
	for _, a := range edge {
		ins = append(ins, isa.Instr{Dst: a, Src: [3]isa.AP{edge[1], {}, a}, Red: a})
	}
	for range 2000 {
		ins = append(ins, isa.Instr{Dst: randAP(), Src: [3]isa.AP{randAP(), randAP(), randAP()}, Red: randAP()})
	}
	prog := Sources(&isa.Program{Instrs: ins})
	for i := range ins {
		got := readOperands(appendOperands(nil, &ins[i]))
		if want := prog.Operands(int32(i)); !reflect.DeepEqual(got, want) {
			t.Fatalf("instruction %d: read back %+v, want %+v", i, got, want)
		}
	}
	if o := readOperands(nil); !reflect.DeepEqual(o, sim.Operands{}) {
		t.Error("no encoding read back as operands")
	}
}
