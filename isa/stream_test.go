package isa

import (
	"errors"
	"reflect"
	"runtime"
	"testing"
)

// recorder is a Sink that keeps what it receives.
type recorder struct {
	tensors []TensorDecl
	instrs  []Instr
	failAt  int // Instr returns an error for this index; -1 never
}

func (r *recorder) Tensor(i int, d TensorDecl) {
	if i != len(r.tensors) {
		panic("tensor out of order")
	}
	r.tensors = append(r.tensors, d)
}

func (r *recorder) Instr(i int, in *Instr) error {
	if i == r.failAt {
		return errors.New("sink full")
	}
	r.instrs = append(r.instrs, *in)
	return nil
}

// gelu emits the example kernel of ExampleBuilder into b.
func gelu(b *Builder, rows, cols int) {
	x := b.Input("X", BF16, rows, cols)
	y := b.Output("Y", BF16, rows, cols)
	io := b.SBUFPool("io", 2, cols*2)
	for r := 0; r < rows; r += 128 {
		n := min(128, rows-r)
		t := io.Tile(BF16, n, cols)
		b.Load(t, x.Tile(r, 0, n, cols))
		b.Activation(t, t, ActGelu)
		b.Store(y.Tile(r, 0, n, cols), t)
	}
}

// A streaming Builder hands over, in order, the instructions and tensors a
// storing one keeps, without source sites, and stores nothing.
func TestStreamBuilderHandsOverWhatIsStored(t *testing.T) {
	stored := NewBuilder(Trn2(), "gelu")
	gelu(stored, 1000, 64)
	p, err := stored.Program()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{failAt: -1}
	sb := NewStreamBuilder(Trn2(), "gelu", rec)
	gelu(sb, 1000, 64)
	if err := sb.Err(); err != nil {
		t.Fatal(err)
	}
	if !sb.Streaming() || stored.Streaming() {
		t.Error("Streaming() wrong")
	}
	if sb.Len() != len(p.Instrs) || len(rec.instrs) != len(p.Instrs) {
		t.Fatalf("streamed %d (Len %d), stored %d", len(rec.instrs), sb.Len(), len(p.Instrs))
	}
	for i := range p.Instrs {
		want := p.Instrs[i]
		want.Site = -1
		if rec.instrs[i] != want {
			t.Errorf("instr %d: streamed %+v, stored %+v", i, rec.instrs[i], want)
		}
	}
	if !reflect.DeepEqual(rec.tensors, p.Tensors) {
		t.Errorf("tensors: streamed %v, stored %v", rec.tensors, p.Tensors)
	}
	if _, err := sb.Program(); err == nil {
		t.Error("Program on a streaming Builder: want an error")
	}
	if len(sb.prog.Instrs) != 0 {
		t.Errorf("streaming Builder stored %d instructions", len(sb.prog.Instrs))
	}
}

// A rule broken while streaming is a *ValidationError naming the kernel
// line that emitted the instruction, and stops the stream there.
func TestStreamBuilderValidates(t *testing.T) {
	rec := &recorder{failAt: -1}
	b := NewStreamBuilder(Trn2(), "site", rec)
	sb := b.SBUFPool("sb", 1, 4096)
	ps := b.PSUMPool("ps", 1, 2048)
	dst := ps.Tile(FP32, 128, 512)
	st := sb.Tile(BF16, 128, 128)
	mv := sb.Tile(BF16, 128, 600)
	b.Matmul(dst, st, sb.Tile(BF16, 128, 512), false)
	_, _, line, _ := runtime.Caller(0)
	b.Matmul(dst, st, mv, false) // line+1: the line the error must name
	b.Matmul(dst, st, sb.Tile(BF16, 128, 512), false)
	var ve *ValidationError
	if err := b.Err(); !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %v", err)
	}
	if ve.Rule != "matmul-n" || ve.Index != 1 || ve.Site.Line != line+1 || shortFile(ve.Site.File) != "isa/stream_test.go" {
		t.Errorf("got rule %q, instr %d at %s:%d; want matmul-n, instr 1 at isa/stream_test.go:%d", ve.Rule, ve.Index, ve.Site.File, ve.Site.Line, line+1)
	}
	if len(rec.instrs) != 1 || b.Len() != 1 {
		t.Errorf("sink got %d instructions (Len %d), want the 1 before the error", len(rec.instrs), b.Len())
	}
}

// A tensor declaration is checked when it is made; an error from the sink
// becomes the Builder's.
func TestStreamBuilderErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(b *Builder)
		rule  string
		msg   string
	}{
		{"duplicate tensor name", func(b *Builder) { b.Input("X", BF16, 4); b.Output("X", BF16, 4) }, "tensor-name", ""},
		{"dtype unsupported", func(b *Builder) { b.Input("X", BF16, 4) }, "tensor-dtype", ""},
		{"sink error", func(b *Builder) { gelu(b, 256, 64) }, "", "sink full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arch := Trn2()
			if tc.rule == "tensor-dtype" {
				arch.DTypes = []DType{FP32}
			}
			rec := &recorder{failAt: 2}
			b := NewStreamBuilder(arch, tc.name, rec)
			tc.build(b)
			err := b.Err()
			var ve *ValidationError
			switch {
			case tc.rule != "" && (!errors.As(err, &ve) || ve.Rule != tc.rule):
				t.Errorf("got %v, want rule %s", err, tc.rule)
			case tc.msg != "" && (err == nil || err.Error() != tc.msg):
				t.Errorf("got %v, want %q", err, tc.msg)
			}
		})
	}
}

// A storing Builder keeps at most LimitStored instructions; Reserve
// pre-sizes without changing what is built.
func TestStoredCap(t *testing.T) {
	b := NewBuilder(Trn2(), "capped")
	b.LimitStored(5)
	b.Reserve(100)
	gelu(b, 1000, 64) // 24 instructions
	var ce *StoredCapError
	if _, err := b.Program(); !errors.As(err, &ce) || ce.Cap != 5 {
		t.Fatalf("got %v, want a *StoredCapError with cap 5", err)
	}
	if b.Len() != 5 {
		t.Errorf("stored %d, want 5", b.Len())
	}
	r := NewBuilder(Trn2(), "reserved")
	r.Reserve(24)
	gelu(r, 1000, 64)
	if p, err := r.Program(); err != nil || len(p.Instrs) != 24 || cap(p.Instrs) != 24 {
		t.Errorf("reserved build: %v, %d instructions, capacity %d; want 24, 24", err, len(p.Instrs), cap(p.Instrs))
	}
}

// An operand found valid on a DMA queue is checked again on a compute
// engine, where partition starts are restricted: the checker's memory of
// valid tiles keys on both.
func TestSeenTileRecheckedOffDMA(t *testing.T) {
	for _, stream := range []bool{false, true} {
		var b *Builder
		if stream {
			b = NewStreamBuilder(Trn2(), "seen", &recorder{failAt: -1})
		} else {
			b = NewBuilder(Trn2(), "seen")
		}
		x := b.Input("X", BF16, 3, 64)
		sb := b.SBUFPool("sb", 2, 128)
		tile := sb.Tile(BF16, 3, 64)
		tile.Start = 5
		other := sb.Tile(BF16, 3, 64)
		b.Load(tile, x.Tile(0, 0, 3, 64))
		b.Load(tile, x.Tile(0, 0, 3, 64))
		b.TensorCopy(Vector, other, tile)
		err := b.Err()
		if !stream {
			_, err = b.Program()
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Rule != rulePartStart || ve.Index != 2 {
			t.Errorf("stream=%v: got %v, want rule %s at instr 2", stream, err, rulePartStart)
		}
	}
}
