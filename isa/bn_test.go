package isa

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBNStatsRow(t *testing.T) {
	cases := []struct {
		x    []float32
		want [6]float32
	}{
		// even 1, 3, 5: mean 3, M2 = 4+0+4; odd 2, 4: mean 3, M2 = 1+1.
		{[]float32{1, 2, 3, 4, 5}, [6]float32{3, 3, 8, 2, 3, 2}},
		// one element: no odd elements.
		{[]float32{-7}, [6]float32{1, -7, 0, 0, 0, 0}},
		{[]float32{2, 2, 2, 2}, [6]float32{2, 2, 0, 2, 2, 0}},
	}
	for _, tc := range cases {
		var got [6]float32
		bnStatsRow(tc.x, got[:])
		if got != tc.want {
			t.Errorf("bn_stats %v = %v, want %v", tc.x, got, tc.want)
		}
	}
}

func TestBNAggrRow(t *testing.T) {
	cases := []struct {
		name      string
		t         []float32
		mean, vr  float32
		tolerance float64
	}{
		{"1..5 from one bn_stats", []float32{3, 3, 8, 2, 3, 2}, 3, 2, 0},
		{"empty triples skipped", []float32{1, -7, 0, 0, 0, 0}, -7, 0, 0},
		// {1,3} and {10,20}: all four mean 8.5, variance (56.25+30.25+2.25+132.25)/4.
		{"two chunks", []float32{1, 1, 0, 1, 3, 0, 1, 10, 0, 1, 20, 0}, 8.5, 55.25, 0},
		{"nothing", []float32{0, 0, 0}, 0, 0, 0},
	}
	for _, tc := range cases {
		m, v := bnAggrRow(tc.t)
		if m != tc.mean || v != tc.vr {
			t.Errorf("%s: bn_aggr = (%v, %v), want (%v, %v)", tc.name, m, v, tc.mean, tc.vr)
		}
	}
}

// TestBNExec runs bn_stats over ≤ 512-column chunks and bn_aggr through
// Exec and checks mean and variance against float64.
func TestBNExec(t *testing.T) {
	for _, tc := range []struct {
		rows, cols int
		dt         DType
	}{
		{5, 1000, FP32}, // 512 + 488, the layernorm tutorial's row
		{3, 513, FP32},  // a last chunk of one element: its odd triple is empty
		{128, 64, BF16}, // one chunk, bf16 input
	} {
		b := NewBuilder(Trn1(), "bn")
		x := b.Input("x", tc.dt, tc.rows, tc.cols)
		out := b.Output("out", FP32, tc.rows, BNAggrWidth)
		pool := b.SBUFPool("sb", 1, tc.cols*4+64*4)
		xt := pool.Tile(tc.dt, tc.rows, tc.cols)
		b.Load(xt, x.Tile(0, 0, tc.rows, tc.cols))
		st := b.SBUFPool("st", 1, 64*4).Tile(FP32, tc.rows, 32)
		k := 0
		for c0 := 0; c0 < tc.cols; c0 += BNStatsFMax {
			b.BNStats(st.Cols(BNStatsWidth*k, BNStatsWidth), xt.Cols(c0, min(BNStatsFMax, tc.cols-c0)))
			k++
		}
		agg := b.SBUFPool("agg", 1, 8).Tile(FP32, tc.rows, BNAggrWidth)
		b.BNAggr(agg, st.Cols(0, BNStatsWidth*k))
		b.Store(out.Tile(0, 0, tc.rows, BNAggrWidth), agg)
		p, err := b.Program()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, uint64(tc.cols)))
		in := make([]float32, tc.rows*tc.cols)
		for i := range in {
			in[i] = tc.dt.Round(float32(rng.Float64()*4 - 1))
		}
		res, err := Exec(p, Trn1(), map[string][]float32{"x": in})
		if err != nil {
			t.Fatal(err)
		}
		for r := range tc.rows {
			row := in[r*tc.cols : (r+1)*tc.cols]
			var s, s2 float64
			for _, v := range row {
				s += float64(v)
			}
			mean := s / float64(tc.cols)
			for _, v := range row {
				s2 += (float64(v) - mean) * (float64(v) - mean)
			}
			vr := s2 / float64(tc.cols)
			got := res["out"][r*2 : r*2+2]
			// fp32 Welford and pairwise combination: a few ulps per
			// element of the row at most.
			tol := float64(tc.cols) * math.Pow(2, -23)
			if math.Abs(float64(got[0])-mean) > tol || math.Abs(float64(got[1])-vr) > tol*vr {
				t.Errorf("%d×%d %s row %d: (mean, var) = %v, want (%.7g, %.7g)", tc.rows, tc.cols, tc.dt, r, got, mean, vr)
			}
		}
	}
}

func TestBNValidate(t *testing.T) {
	sb := func(off, n int) AP { return sbufAP(0, 128, off, FP32, row(n)) }
	cases := []struct {
		name string
		in   Instr
		rule string // "" for a valid instruction
	}{
		{"bn_stats 512", Instr{Op: OpBNStats, Engine: Vector, Dst: sb(4096, 6), Src: [3]AP{sb(0, 512)}}, ""},
		{"bn_aggr of two", Instr{Op: OpBNAggr, Engine: Vector, Dst: sb(4096, 2), Src: [3]AP{sb(0, 12)}}, ""},
		{"bn_stats on scalar", Instr{Op: OpBNStats, Engine: Scalar, Dst: sb(4096, 6), Src: [3]AP{sb(0, 512)}}, "engine"},
		{"bn_stats dst of 2", Instr{Op: OpBNStats, Engine: Vector, Dst: sb(4096, 2), Src: [3]AP{sb(0, 512)}}, "bn-shape"},
		{"bn_aggr dst of 6", Instr{Op: OpBNAggr, Engine: Vector, Dst: sb(4096, 6), Src: [3]AP{sb(0, 12)}}, "bn-shape"},
		{"bn_stats partitions", Instr{Op: OpBNStats, Engine: Vector, Dst: sbufAP(0, 64, 4096, FP32, row(6)), Src: [3]AP{sb(0, 512)}}, "bn-shape"},
		{"bn_aggr with a second source", Instr{Op: OpBNAggr, Engine: Vector, Dst: sb(4096, 2), Src: [3]AP{sb(0, 12), sb(64, 12)}}, "operands"},
	}
	for _, tc := range cases {
		p := &Program{Name: "bn", Instrs: []Instr{tc.in}}
		p.Instrs[0].Site = -1
		err := p.Validate(Trn1())
		var ve *ValidationError
		switch {
		case tc.rule == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.rule != "" && (!errors.As(err, &ve) || ve.Rule != tc.rule):
			t.Errorf("%s: %v, want rule %q", tc.name, err, tc.rule)
		}
	}
}

func TestBNAsmRoundTrip(t *testing.T) {
	b := NewBuilder(Trn2(), "bn")
	pool := b.SBUFPool("sb", 1, 4096)
	x := pool.Tile(FP32, 128, 1000)
	st := b.SBUFPool("st", 1, 64).Tile(FP32, 128, 12)
	agg := b.SBUFPool("agg", 1, 8).Tile(FP32, 128, 2)
	b.Memset(Vector, x, 1)
	b.BNStats(st.Cols(0, 6), x.Cols(0, 512))
	b.BNStats(st.Cols(6, 6), x.Cols(512, 488))
	b.BNAggr(agg, st)
	p, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Print(&buf, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nbn_stats vector ", "\nbn_aggr vector "} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("assembly lacks %q:\n%s", want, buf.String())
		}
	}
	q, err := Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Instrs) != len(p.Instrs) {
		t.Fatalf("parsed %d instructions, printed %d", len(q.Instrs), len(p.Instrs))
	}
	for i := range p.Instrs {
		a, c := p.Instrs[i], q.Instrs[i]
		a.Site, c.Site = 0, 0
		if a != c {
			t.Errorf("instruction %d: parsed %+v, printed %+v", i, c, a)
		}
	}
}
