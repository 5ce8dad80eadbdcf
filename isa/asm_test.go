package isa

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func printString(t testing.TB, p *Program) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Print(&buf, p); err != nil {
		t.Fatalf("Print: %v", err)
	}
	return buf.String()
}

// validProgramText is validProgram as assembly, written by hand from the
// format described in asm.go.
const validProgramText = `.program demo
.tensor A input bf16 [256,512]
.tensor C output bf16 [128,512]
.site 0 kernels.demo /src/trnsim/kernels/demo.go:12
nc_matmul tensor psum[0:128]@0 fp32 {1x512} <- sbuf[0:128]@0 bf16 {1x128}, sbuf[0:128]@256 bf16 {1x512} acc=0 ; site 0 demo.go:12
nc_transpose tensor psum[0:64]@2048 fp32 {1x128} <- sbuf[0:128]@2048 bf16 {1x64} ; site 0 demo.go:12
activation scalar sbuf[0:128]@4096 fp32 {1x512} <- psum[0:128]@0 fp32 {1x512}, sbuf[0:128]@8192 fp32 {1x1} act=exp imm0=1 red=sbuf[0:128]@8196 fp32 {1x1} ; site 0 demo.go:12
tensor_tensor vector sbuf[0:128]@12288 bf16 {1x512} <- sbuf[0:128]@256 bf16 {1x512}, sbuf[0:128]@16384 bf16 {1x512} alu0=add ; site 0 demo.go:12
tensor_scalar vector sbuf[0:128]@12288 bf16 {1x512} <- sbuf[0:128]@256 bf16 {1x512}, sbuf[0:128]@8192 fp32 {1x1} alu0=multiply alu1=add imm1=2 ; site 0 demo.go:12
tensor_reduce vector sbuf[0:128]@20480 fp32 {1x4} <- sbuf[0:128]@256 bf16 {128x4,1x128} alu0=max axes=1 ; site 0 demo.go:12
tensor_copy vector sbuf[0:128]@4096 bf16 {1x512} <- psum[0:128]@0 fp32 {1x512} ; site 0 demo.go:12
memset gpsimd sbuf[96:128]@24576 fp32 {1x64} imm0=-3 ; site 0 demo.go:12
iota gpsimd sbuf[0:128]@28672 int32 {1x64} base=5 pmul=1 fmul=-1 ; site 0 demo.go:12
affine_select gpsimd sbuf[0:128]@32768 fp32 {1x64} <- sbuf[0:128]@36864 fp32 {1x64} imm0=-30000 base=0 pmul=1 fmul=-1 cmp=ge ; site 0 demo.go:12
dma_copy dma.3 sbuf[0:128]@40960 bf16 {1x512} <- hbm:A[0:128:512]@0 bf16 {1x512} ; site 0 demo.go:12
dma_copy dma.4 hbm:C[0:128:512]@0 bf16 {1x512} <- sbuf[0:128]@12288 bf16 {1x512} ; site 0 demo.go:12
`

func TestPrintFormat(t *testing.T) {
	if got := printString(t, validProgram()); got != validProgramText {
		t.Errorf("Print:\n%s\nwant:\n%s", got, validProgramText)
	}
	p, err := Parse(strings.NewReader(validProgramText))
	if err != nil {
		t.Fatal(err)
	}
	if want := validProgram(); !reflect.DeepEqual(p, want) {
		t.Errorf("Parse(text) = %+v\nwant %+v", p, want)
	}
}

func TestAPString(t *testing.T) {
	cases := []struct {
		ap   AP
		want string
	}{
		{sbufAP(32, 32, 256, BF16, Dim{512, 2}, row(128)), "sbuf[32:64]@256 bf16 {512x2,1x128}"},
		{psumAP(0, 128, 2048, FP32, row(512)), "psum[0:128]@2048 fp32 {1x512}"},
		{hbmAP(2, 64, 4096, 100, FP8E4M3, Dim{-1, 7}), "hbm:#2[0:64:4096]@100 fp8e4m3 {-1x7}"},
		{AP{}, "none[0:0]@0 fp32 {}"},
		{AP{Mem: 9, DType: 77, NFree: 9}, "none9[0:0]@0 dtype(77) {0x0,0x0,0x0,0x0}"},
	}
	for _, tc := range cases {
		if got := tc.ap.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// TestAPStringParses: AP.String is the operand syntax Parse reads.
func TestAPStringParses(t *testing.T) {
	ap := hbmAP(0, 64, 4096, 100, FP8E4M3, Dim{-1, 7}, Dim{3, 2})
	text := ".tensor T input fp8e4m3 [1000000]\ndma_copy dma.1 " + ap.String() + " <- " + ap.String() + "\n"
	p, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Instrs[0].Dst; got != ap {
		t.Errorf("parsed %+v, want %+v", got, ap)
	}
}

func TestRoundTripVariants(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(p *Program)
	}{
		{"as built", func(p *Program) {}},
		{"no sites", func(p *Program) {
			p.Sites = nil
			for i := range p.Instrs {
				p.Instrs[i].Site = -1
			}
		}},
		{"empty program", func(p *Program) { *p = Program{} }},
		{"odd names", func(p *Program) {
			p.Name = "a b;c\"d"
			p.Tensors[0].Name = "my tensor"
			p.Tensors[1].Name = "" // referenced as #1
			p.Sites[0] = Site{Func: "", File: "C:\\dir with space\\k.go", Line: -3}
		}},
		{"duplicate tensor names", func(p *Program) { p.Tensors[1].Name = "A" }},
		{"flags and floats", func(p *Program) {
			in := &p.Instrs[iTT]
			in.Accumulate, in.DoubleRow, in.Negate = true, true, true
			in.Imm = [2]float32{float32(math.Copysign(0, -1)), float32(math.Inf(-1))}
			in.Axes = 255
			in.Queue = 7
			in.Affine = Affine{Base: math.MinInt, PMul: math.MaxInt, FMul: [4]int{0, 0, 0, 9}, Cmp: CmpEQ}
			p.Instrs[iMemset].Imm[0] = math.SmallestNonzeroFloat32
			p.Instrs[iAct].Imm = [2]float32{math.MaxFloat32, 1.0 / 3}
		}},
		{"fields outside their memory", func(p *Program) {
			p.Instrs[iTT].Dst.Tensor = 3
			p.Instrs[iTT].Dst.PStride = -4
			p.Instrs[iLoad].Src[0].Start = 5
			p.Instrs[iTT].Src[2] = AP{Parts: 2}
			p.Instrs[iMemset].Dst.NFree, p.Instrs[iMemset].Dst.Free[0] = 0, Dim{}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validProgram()
			tc.mutate(p)
			text := printString(t, p)
			q, err := Parse(strings.NewReader(text))
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, text)
			}
			if !reflect.DeepEqual(p, q) {
				t.Errorf("round trip differs:\n%s\nwant %+v\ngot  %+v", text, p, q)
			}
		})
	}
}

// randomProgram builds a program with arbitrary (mostly invalid) field
// values: the assembly must carry every one of them.
func randomProgram(rng *rand.Rand) *Program {
	strs := []string{"", "AT", "a b", "x;y", `q"q`, "é", "\x00", "\xff", "A.b-c", "#1", "[", "a:b:3", "Ω_1", "\u00a0"}
	str := func() string { return strs[rng.IntN(len(strs))] }
	ints := []int{0, 1, -1, 2, 127, 128, 512, 65535, 65536, -32768, math.MaxInt, math.MinInt}
	num := func() int {
		if rng.IntN(2) == 0 {
			return ints[rng.IntN(len(ints))]
		}
		return int(rng.Int64()) >> rng.IntN(64)
	}
	flt := func() float32 {
		for {
			f := math.Float32frombits(rng.Uint32())
			if rng.IntN(3) == 0 {
				f = float32(rng.IntN(9)) / 4
			}
			if f == f { // NaN never equals itself: DeepEqual cannot compare it
				return f
			}
		}
	}
	p := &Program{Name: str()}
	for range rng.IntN(4) {
		var shape []int
		for range rng.IntN(4) {
			shape = append(shape, num())
		}
		p.Tensors = append(p.Tensors, TensorDecl{Name: str(), Kind: TensorKind(rng.IntN(3)), DType: DType(rng.IntN(int(numDTypes))), Shape: shape})
	}
	for range rng.IntN(3) {
		p.Sites = append(p.Sites, Site{Func: str(), File: str(), Line: num()})
	}
	ap := func() AP {
		if rng.IntN(3) == 0 {
			return AP{}
		}
		a := AP{Mem: Memory(rng.IntN(4)), DType: DType(rng.IntN(int(numDTypes))), Tensor: int32(num()), Offset: num(),
			Start: int32(num()), Parts: int32(num()), PStride: num(), NFree: uint8(rng.IntN(MaxFreeDims + 1))}
		if rng.IntN(2) == 0 {
			a.Tensor = int32(rng.IntN(len(p.Tensors) + 1))
		}
		for d := range a.NFree {
			a.Free[d] = Dim{Stride: int32(num()), Count: int32(num())}
		}
		return a
	}
	for range rng.IntN(6) {
		in := Instr{
			Op: Opcode(rng.IntN(int(NumOpcodes))), Engine: Engine(rng.IntN(int(NumEngines))), Queue: uint8(rng.Uint32()),
			Dst: ap(), Src: [3]AP{ap(), ap(), ap()}, Red: ap(),
			Act: ActFunc(rng.IntN(int(NumActFuncs))), ALU: [2]ALUOp{ALUOp(rng.IntN(int(NumALUOps))), ALUOp(rng.IntN(int(NumALUOps)))},
			Imm:    [2]float32{flt(), flt()},
			Affine: Affine{Base: num(), PMul: num(), FMul: [4]int{num(), num(), num(), num()}, Cmp: CmpOp(rng.IntN(int(NumCmpOps)))},
			Axes:   uint8(rng.Uint32()), Negate: rng.IntN(2) == 0, Accumulate: rng.IntN(2) == 0, DoubleRow: rng.IntN(2) == 0,
			Site: int32(rng.IntN(len(p.Sites)+2) - 1),
		}
		p.Instrs = append(p.Instrs, in)
	}
	return p
}

func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	n := 2000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		p := randomProgram(rng)
		text := printString(t, p)
		q, err := Parse(strings.NewReader(text))
		if err != nil {
			t.Fatalf("program %d: Parse: %v\n%s", i, err, text)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("program %d: round trip differs:\n%s\nwant %+v\ngot  %+v", i, text, p, q)
		}
	}
}

func TestPrintRefuses(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(p *Program)
		want   string
	}{
		{"opcode", func(p *Program) { p.Instrs[2].Op = 99 }, "isa.Print: instr 2: opcode 99 has no assembly name"},
		{"engine", func(p *Program) { p.Instrs[0].Engine = 9 }, "isa.Print: instr 0: engine 9 has no assembly name"},
		{"activation", func(p *Program) { p.Instrs[iAct].Act = 99 }, "isa.Print: instr 2: activation function 99 has no assembly name"},
		{"alu", func(p *Program) { p.Instrs[iTT].ALU[1] = 99 }, "isa.Print: instr 3: ALU op 99 has no assembly name"},
		{"cmp", func(p *Program) { p.Instrs[iSelect].Affine.Cmp = 99 }, "isa.Print: instr 9: comparison 99 has no assembly name"},
		{"memory", func(p *Program) { p.Instrs[iTT].Dst.Mem = 9 }, "isa.Print: instr 3: dst operand has memory 9, dtype 1, 1 free dims: no assembly form"},
		{"free dims", func(p *Program) { p.Instrs[iTT].Src[0].NFree = 5 }, "isa.Print: instr 3: data1 operand has memory 2, dtype 1, 5 free dims: no assembly form"},
		{"dim beyond NFree", func(p *Program) { p.Instrs[iTT].Src[1].Free[3].Count = 1 }, "isa.Print: instr 3: data2 operand sets free dimension 3 beyond its 1"},
		{"tensor dtype", func(p *Program) { p.Tensors[1].DType = 50 }, `isa.Print: tensor 1 "C": kind 1 or dtype 50 has no assembly name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validProgram()
			tc.mutate(p)
			err := Print(&bytes.Buffer{}, p)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Print error %v, want %s", err, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const mm = "memset vector sbuf[0:128]@0 fp32 {1x4}"
	cases := []struct {
		name string
		text string
		line int
		at   string // the error's column is where this first occurs in the line ("" for column 0)
		msg  string
	}{
		{"unknown opcode", "bogus tensor x", 1, "bogus", `unknown opcode "bogus" (allowed: nc_matmul, nc_transpose, activation, tensor_tensor, tensor_scalar, tensor_reduce, tensor_copy, memset, iota, affine_select, dma_copy, bn_stats, bn_aggr)`},
		{"unknown engine", "memset sideways _", 1, "sideways", `unknown engine "sideways" (allowed: tensor, vector, scalar, gpsimd, dma)`},
		{"unknown directive", "; header\n\n  .foo bar", 3, ".foo", `unknown directive ".foo" (allowed: .program, .tensor, .site)`},
		{"second program", ".program a\n.program b", 2, ".program", "second .program directive"},
		{"unknown dtype", ".tensor A input bf17 [1]", 1, "bf17", `unknown dtype "bf17" (allowed: fp32, bf16, fp16, fp8e4m3, fp8e5m2, int32, fp8)`},
		{"unknown kind", ".tensor A sideways bf16 [1]", 1, "sideways", `unknown tensor kind "sideways" (allowed: input, output, scratch)`},
		{"bad dimension", ".tensor A input bf16 [1,x]", 1, "x", `want dimension (an integer), found "x]"`},
		{"unclosed shape", ".tensor A input bf16 [1", 1, "", "want ',', found end of line"},
		{"site out of order", ".site 1 f a.go:3", 1, "1", "site 1 out of order: want site 0 next"},
		{"site without line", ".site 0 f a.go", 1, "a.go", `want FILE:LINE, found "a.go"`},
		{"site bad line", ".site 0 f a.go:x", 1, "x", `want a line number, found "x"`},
		{"unknown tensor", "dma_copy dma.0 sbuf[0:1]@0 bf16 {1x1} <- hbm:Q[0:1]@0 bf16 {1x1}", 1, "Q", `unknown tensor "Q" (declare it with .tensor first, or write #INDEX)`},
		{"bad float", mm + " imm0=abc", 1, "abc", `imm0: want a float32, found "abc"`},
		{"float out of range", mm + " imm0=1e39", 1, "1e39", `imm0: want a float32, found "1e39"`},
		{"duplicate attribute", mm + " imm0=1 imm0=2", 1, "imm0=2", "attribute imm0 given twice"},
		{"unknown attribute", mm + " colour=red", 1, "colour", `unknown attribute "colour" (allowed: acc, double_row, act, alu0, alu1, imm0, imm1, axes, negate, base, pmul, fmul, cmp, red)`},
		{"attribute without value", mm + " trailing", 1, "trailing", `want attribute key=value, found "trailing"`},
		{"too many free dims", "memset vector sbuf[0:128]@0 fp32 {1x4,1x4,1x4,1x4,1x4}", 1, "1x4}", "more than 4 free dimensions"},
		{"queue range", "dma_copy dma.256 _", 1, "256", "queue 256 out of range 0..255"},
		{"int overflow", "memset vector sbuf[0:128]@99999999999999999999 fp32 {1x4}", 1, "9999", "offset 99999999999999999999 out of range"},
		{"site not a number", mm + " ; site zz", 1, "zz", `want site (an integer), found "zz"`},
		{"site out of int32", mm + " ; site 3000000000", 1, "3000000000", "site 3000000000 out of range -2147483648..2147483647"},
		{"too many sources", "tensor_tensor vector _ <- _, _, _, _", 1, "_, _\n", "more than 3 sources"},
		{"missing offset", "memset vector sbuf[0:128] fp32 {1x4}", 1, " fp32", `want '@', found " fp32 {1x4}"`},
		{"unterminated quote", `.program "abc`, 1, `"abc`, "program name: malformed quoted string"},
		{"trailing junk", mm + "!", 1, "!", `want attribute key=value, found "!"`},
		{"directive junk", ".program a b", 1, "b", `unexpected "b"`},
		{"bool range", "nc_matmul tensor _ acc=2", 1, "2", "acc 2 out of range 0..1"},
		{"fmul count", "iota gpsimd _ fmul=1,2,3,4,5", 1, "5", "fmul: more than 4 coefficients"},
		{"missing x", "memset vector sbuf[0:128]@0 fp32 {1*4}", 1, "*", `want 'x', found "*4}"`},
		{"missing dtype", "memset vector sbuf[0:128]@0 {1x4}", 1, "{", `unknown dtype "" (allowed: fp32, bf16, fp16, fp8e4m3, fp8e5m2, int32, fp8)`},
		{"bad memory", "memset vector dram[0:1]@0 fp32 {1x4}", 1, "dram", `unknown memory "dram" (allowed: none, hbm, sbuf, psum)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.text))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("want a *SyntaxError, got %v", err)
			}
			line := strings.Split(tc.text, "\n")[tc.line-1]
			col := len(line) + 1 // the end of the line
			if tc.at == "_, _\n" {
				col = strings.LastIndex(line, "_") + 1
			} else if tc.at != "" {
				col = strings.Index(line, tc.at) + 1
			}
			if se.Line != tc.line || se.Col != col || se.Msg != tc.msg {
				t.Errorf("got line %d col %d: %s\nwant line %d col %d: %s", se.Line, se.Col, se.Msg, tc.line, col, tc.msg)
			}
		})
	}
}

func TestParseLongLine(t *testing.T) {
	text := "; ok\n" + strings.Repeat("x", asmMaxLine+1)
	_, err := Parse(strings.NewReader(text))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || se.Col != 0 {
		t.Fatalf("got %v, want a syntax error on line 2", err)
	}
}

func TestParseAccepts(t *testing.T) {
	// Hand-written input: aliases, blank lines, comments, CRLF, optional
	// parts left out.
	text := "; hand written\r\n" +
		".tensor X scratch fp8 [ 4 , 8 ]\r\n" +
		"\r\n" +
		"dma_copy dma sbuf[0:4]@0 float32 {1x8} <- hbm:#0[0:4:8]@0 fp8 {1x8}   ; site\t0 is not declared\r\n" +
		"memset vector _\n" +
		"nc_matmul tensor _ ; a comment that is not a site\n"
	p, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := &Program{
		Tensors: []TensorDecl{{Name: "X", Kind: Scratch, DType: FP8E4M3, Shape: []int{4, 8}}},
		Instrs: []Instr{
			{Op: OpDMA, Engine: DMA, Dst: sbufAP(0, 4, 0, FP32, row(8)), Src: [3]AP{hbmAP(0, 4, 8, 0, FP8E4M3, row(8))}, Site: 0},
			{Op: OpMemset, Engine: Vector, Site: -1},
			{Op: OpMatmul, Engine: Tensor, Site: -1},
		},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	cases := []struct {
		err  SyntaxError
		want string
	}{
		{SyntaxError{Line: 3, Col: 7, Msg: "m"}, "assembly line 3, column 7: m"},
		{SyntaxError{Line: 9, Msg: "m"}, "assembly line 9: m"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func hasNaN(p *Program) bool {
	for _, in := range p.Instrs {
		if in.Imm[0] != in.Imm[0] || in.Imm[1] != in.Imm[1] {
			return true
		}
	}
	return false
}

func FuzzParse(f *testing.F) {
	f.Add(validProgramText)
	f.Add(".program x\n.tensor \"a b\" output fp16 [3]\n.site 0 \"\" \"\":0\nactivation scalar _ <- psum:#7[-1:5:2]@-3 fp8e5m2 {0x1} act=silu imm0=NaN imm1=-Inf red=none[0:0]@0 fp32 {} ; site 0\n")
	f.Add("tensor_reduce vector _ alu0=add axes=2 negate=1 base=-4 pmul=3 fmul=1,2,3,4 cmp=gt double_row=1 acc=1 alu1=max ; site 9\n")
	rng := rand.New(rand.NewPCG(7, 7))
	for range 4 {
		var buf bytes.Buffer
		if err := Print(&buf, randomProgram(rng)); err == nil {
			f.Add(buf.String())
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(strings.NewReader(text))
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error is not a *SyntaxError: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := Print(&buf, p); err != nil {
			t.Fatalf("Print of a parsed program: %v", err)
		}
		first := buf.String()
		q, err := Parse(strings.NewReader(first))
		if err != nil {
			t.Fatalf("Parse of printed text: %v\n%s", err, first)
		}
		if !hasNaN(p) && !reflect.DeepEqual(p, q) {
			t.Fatalf("Print→Parse is not a fixed point:\n%s\nwant %+v\ngot  %+v", first, p, q)
		}
		buf.Reset()
		if err := Print(&buf, q); err != nil {
			t.Fatal(err)
		}
		if buf.String() != first {
			t.Fatalf("printed text changed:\n%s\nthen\n%s", first, buf.String())
		}
		_ = p.Validate(Trn2()) // never panics on parsed input
	})
}

func BenchmarkPrintParse(b *testing.B) {
	p := validProgram()
	for len(p.Instrs) < 1<<12 {
		p.Instrs = append(p.Instrs, p.Instrs...)
	}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Print(&buf, p); err != nil {
			b.Fatal(err)
		}
		if _, err := Parse(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.Instrs)), "instrs/op")
}

// TestPrintResolvesSites: a Builder program printed without Resolve keeps
// its kernel lines, and Print does not change the program.
func TestPrintResolvesSites(t *testing.T) {
	b := NewBuilder(Trn2(), "sites")
	sb := b.SBUFPool("sb", 1, 2048)
	x := sb.Tile(FP32, 128, 64)
	b.Memset(Vector, x, 1) // the line the assembly must name
	p, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	text := printString(t, p)
	if p.Sites[0].File != "" {
		t.Errorf("Print resolved the program's own sites")
	}
	if !strings.Contains(text, "isa.TestPrintResolvesSites ") || !strings.Contains(text, "; site 0 asm_test.go:") {
		t.Errorf("printed text does not name the kernel line:\n%s", text)
	}
	q, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	p.Resolve()
	p.Sites[0].PC = 0
	p.valid = nil // Builder's validated mark is not part of the text
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip differs:\nwant %+v\ngot  %+v", p, q)
	}
}

// TestParseInstrLimit: Parse stops at MaxAsmInstrs instructions with a
// syntax error on the first line over it, instead of storing any number
// (a 5 M-instruction file used to take 6 GB).
func TestParseInstrLimit(t *testing.T) {
	const head = ".program p\n.tensor X input fp32 [4]\n"
	instr := "memset gpsimd sbuf[0:1]@0 fp32{1x4} imm0=0\n"
	for _, tt := range []struct {
		n, limit int
		wantErr  bool
	}{{3, 3, false}, {4, 3, true}, {1, 1, false}, {0, 1, false}} {
		src := head + strings.Repeat(instr, tt.n)
		p, err := parse(strings.NewReader(src), tt.limit)
		if !tt.wantErr {
			if err != nil || len(p.Instrs) != tt.n {
				t.Errorf("%d instructions, limit %d: %v", tt.n, tt.limit, err)
			}
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != 3+tt.limit || !strings.Contains(err.Error(), fmt.Sprintf("more than %d instructions", tt.limit)) {
			t.Errorf("%d instructions, limit %d: err = %v, want a syntax error on line %d", tt.n, tt.limit, err, 3+tt.limit)
		}
	}
	if MaxAsmInstrs != 1<<22 {
		t.Errorf("MaxAsmInstrs = %d, want 4 Mi (kernels.MaxInstrs)", MaxAsmInstrs)
	}
}
