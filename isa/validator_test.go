package isa

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestAPLayout pins the sizes that let a long program stream through the
// cache: a timing run reads every instruction once.
func TestAPLayout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"Dim", unsafe.Sizeof(Dim{}), 8},
		{"AP", unsafe.Sizeof(AP{}), 64},
	} {
		if tc.got != tc.want {
			t.Errorf("sizeof(%s) = %d bytes, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestNarrow(t *testing.T) {
	for _, tc := range []struct {
		in   int
		want int32
	}{
		{0, 0},
		{-7, -7},
		{65535, 65535},
		{math.MaxInt32, math.MaxInt32},
		{math.MaxInt32 + 1, math.MaxInt32},
		{math.MinInt32, math.MinInt32},
		{math.MinInt32 - 1, math.MinInt32},
		{1 << 40, math.MaxInt32},
		{math.MinInt, math.MinInt32},
	} {
		if got := Narrow(tc.in); got != tc.want {
			t.Errorf("Narrow(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestValidateRejectsSaturated checks that the values Narrow saturates to
// are refused on HBM patterns, whose fields are otherwise unbounded: a
// number an AP cannot hold must become an error, not a different access.
func TestValidateRejectsSaturated(t *testing.T) {
	// A tensor large enough that the saturated patterns stay in bounds, so
	// only the saturation rule can reject them.
	big := TensorDecl{Name: "Big", Kind: Input, DType: BF16, Shape: []int{4, 1 << 33}}
	for _, tc := range []struct {
		name   string
		mutate func(a *AP)
		rule   string
	}{
		{"rows", func(a *AP) { a.Parts, a.PStride = math.MaxInt32, 1 }, rulePartCount},
		{"count", func(a *AP) { a.Parts = 1; a.Free[0].Count = math.MaxInt32 }, ruleFreeCount},
		{"stride max", func(a *AP) { a.Free[0] = Dim{Stride: math.MaxInt32, Count: 2} }, ruleFreeStride},
		{"stride min", func(a *AP) { a.Offset = 1 << 32; a.Free[0] = Dim{Stride: math.MinInt32, Count: 2} }, ruleFreeStride},
		{"stride below max", func(a *AP) { a.Free[0] = Dim{Stride: math.MaxInt32 - 1, Count: 2} }, ruleDMAElems},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validProgram()
			p.Tensors = append(p.Tensors, big)
			src := &p.Instrs[iLoad].Src[0]
			src.Tensor, src.Offset = int32(len(p.Tensors)-1), 0
			tc.mutate(src)
			var ve *ValidationError
			if err := p.Validate(Trn2()); !errors.As(err, &ve) || ve.Index != iLoad || ve.Rule != tc.rule {
				t.Fatalf("Validate = %v, want rule %q at instr %d", err, tc.rule, iLoad)
			}
		})
	}
}

// TestValidatorMatchesValidate breaks one field of one instruction of a
// long valid program at a time and checks that walking the program with a
// Validator stops at the same instruction with the same error as Validate.
func TestValidatorMatchesValidate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 11))
	base := validProgram()
	for len(base.Instrs) < 64 {
		base.Instrs = append(base.Instrs, base.Instrs...)
	}
	breaks := []func(in *Instr){
		func(in *Instr) { in.Dst.Offset = -4 },
		func(in *Instr) { in.Dst.Parts = 129 },
		func(in *Instr) { in.Src[0].NFree = 5 },
		func(in *Instr) { in.Red.Offset = 8 },
		func(in *Instr) { in.Engine = DMA },
		func(in *Instr) { in.Site = 9 },
		func(in *Instr) {},
	}
	for trial := range 200 {
		p := *base
		p.Instrs = append([]Instr(nil), base.Instrs...)
		for range 1 + rng.IntN(2) {
			breaks[rng.IntN(len(breaks))](&p.Instrs[rng.IntN(len(p.Instrs))])
		}
		want := p.Validate(Trn1())
		v, err := p.Validator(Trn1())
		if err != nil {
			t.Fatalf("trial %d: tensors: %v", trial, err)
		}
		var got error
		for i := range p.Instrs {
			if got = v.Check(i); got != nil {
				break
			}
		}
		if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
			t.Fatalf("trial %d: Validator gives %v, Validate %v", trial, got, want)
		}
	}
}

func TestValidatorTensorError(t *testing.T) {
	p := validProgram()
	p.Tensors[1].Name = "A"
	var ve *ValidationError
	if _, err := p.Validator(Trn2()); !errors.As(err, &ve) || ve.Index != -1 || ve.Rule != ruleTensorName {
		t.Fatalf("Validator = %v, want rule %q on a tensor", err, ruleTensorName)
	}
}

func TestValidatedFor(t *testing.T) {
	build := func() *Program {
		b := NewBuilder(Trn2(), "mark")
		x := b.Input("x", BF16, 128, 64)
		y := b.Output("y", BF16, 128, 64)
		tile := b.SBUFPool("sb", 1, 128).Tile(BF16, 128, 64)
		b.Load(tile, x.Tile(0, 0, 128, 64))
		b.Store(y.Tile(0, 0, 128, 64), tile)
		p, err := b.Program()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		edit func(p *Program) *Program
		arch Arch
		want bool
	}{
		{"as built", func(p *Program) *Program { return p }, Trn2(), true},
		{"copy of the struct", func(p *Program) *Program { q := *p; return &q }, Trn2(), true},
		{"other generation", func(p *Program) *Program { return p }, Trn3(), false},
		{"changed arch", func(p *Program) *Program { return p }, func() Arch { a := Trn2(); a.SBUFPartitionBytes = 1024; return a }(), false},
		{"instruction appended", func(p *Program) *Program { p.Instrs = append(p.Instrs, p.Instrs[0]); return p }, Trn2(), false},
		{"instruction dropped", func(p *Program) *Program { p.Instrs = p.Instrs[:1]; return p }, Trn2(), false},
		{"instructions copied", func(p *Program) *Program { p.Instrs = append([]Instr(nil), p.Instrs...); return p }, Trn2(), false},
		{"tensor added", func(p *Program) *Program {
			p.Tensors = append(p.Tensors, TensorDecl{Name: "z", DType: BF16, Shape: []int{1}})
			return p
		}, Trn2(), false},
		{"site dropped", func(p *Program) *Program { p.Sites = p.Sites[:0]; return p }, Trn2(), false},
		{"hand-built", func(p *Program) *Program {
			return &Program{Name: p.Name, Tensors: p.Tensors, Instrs: p.Instrs, Sites: p.Sites}
		}, Trn2(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.edit(build()).ValidatedFor(tc.arch); got != tc.want {
				t.Errorf("ValidatedFor = %v, want %v", got, tc.want)
			}
		})
	}
}
