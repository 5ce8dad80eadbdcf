package bench

import (
	"errors"
	"reflect"
	"runtime"
	"testing"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim"
)

// Streaming the program through the timing model gives the figures the
// stored replay gives, bit for bit, on every kernel and generation: without
// spans (RunTiming), and with them (RunDetailed), where the spans and what
// the report's Sources resolve (sites, operands) are the stored replay's
// too, without the program.
func TestRunTimingAndRunDetailedMatchStoredReplay(t *testing.T) {
	specs := []string{
		"matmul:M=512,N=512,K=512",
		"matmul:M=1000,N=700,K=300,variant=tiled",
		"matmul:M=1024,N=2048,K=1024,dtype=fp8",
		"attention:seqlen=1024,heads=2",
		"attention:seqlen=1024,heads=2,causal=false",
		"decode_attention:batch=4,seqlen=4096,splits=4",
		"softmax:rows=1024,cols=4096",
		"rmsnorm:tokens=512,hidden=4096",
		"silu_mul:tokens=512,hidden=4096",
		"rope:tokens=512",
	}
	for _, target := range []string{"trn1", "trn2", "trn3", "trn2-chip"} {
		tg := mustTarget(t, target)
		for _, spec := range specs {
			p := mustParse(t, spec)
			t.Run(target+"/"+spec, func(t *testing.T) {
				stored, err := tg.Time(p)
				if err != nil {
					if errors.Is(err, kernels.ErrUnsupported) {
						return
					}
					t.Fatal(err)
				}
				stored.Report.Target = tg.Name()
				detailed, err := RunDetailed(p, tg)
				if err != nil {
					t.Fatal(err)
				}
				streamed, err := RunTiming(p, tg)
				if err != nil {
					t.Fatal(err)
				}
				if streamed.Program != nil || streamed.Report.Spans.Len() != 0 {
					t.Errorf("streamed run kept a program (%v) or %d spans", streamed.Program != nil, streamed.Report.Spans.Len())
				}
				if detailed.Program != nil {
					t.Error("detailed run kept the program")
				}
				n := len(stored.Program.Instrs)
				if stored.Report.Spans.Len() != n || n == 0 || detailed.Report.Spans.Len() != n {
					t.Fatalf("%d instructions: %d stored spans, %d detailed", n, stored.Report.Spans.Len(), detailed.Report.Spans.Len())
				}
				sameSpans(t, detailed.Report, stored.Report)
				want := *stored.Report
				want.Spans, want.Sources = sim.Spans{}, nil
				for name, got := range map[string]sim.Report{"streamed": *streamed.Report, "detailed": *detailed.Report} {
					got.Spans, got.Sources = sim.Spans{}, nil
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s report differs:\n%+v\nstored %+v", name, got, want)
					}
				}
				if !sameRow(streamed.Row, detailed.Row) {
					t.Errorf("rows differ:\nstreamed %+v\ndetailed %+v", streamed.Row, detailed.Row)
				}
				var sum int
				for _, e := range streamed.Report.Engines {
					sum += e.Instrs
				}
				if sum != n {
					t.Errorf("streamed run counted %d instructions, the program has %d", sum, n)
				}
			})
		}
	}
}

// sameSpans reports where got's spans and sources differ from want's: every
// span, bit for bit, every site's location and every instruction's
// operands.
func sameSpans(t *testing.T, got, want *sim.Report) {
	t.Helper()
	for i := range want.Spans.Len() {
		if g, w := got.Spans.At(i), want.Spans.At(i); !reflect.DeepEqual(g, w) {
			t.Fatalf("span %d: %+v, stored %+v", i, g, w)
		}
	}
	gs, ws := got.Sources, want.Sources
	if gs.NumSites() != ws.NumSites() || gs.NumInstrs() != ws.NumInstrs() {
		t.Fatalf("%d sites, %d instructions; stored %d, %d", gs.NumSites(), gs.NumInstrs(), ws.NumSites(), ws.NumInstrs())
	}
	for h := int32(-1); h <= int32(ws.NumSites()); h++ {
		if g, w := gs.Location(h), ws.Location(h); g != w {
			t.Errorf("site %d: %+v, stored %+v", h, g, w)
		}
	}
	for i := int32(-1); i <= int32(ws.NumInstrs()); i++ {
		if g, w := gs.Operands(i), ws.Operands(i); !reflect.DeepEqual(g, w) {
			t.Fatalf("operands of instruction %d: %+v, stored %+v", i, g, w)
		}
	}
}

// sameRow compares rows field by field, NaN equal to NaN.
func sameRow(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		x, y := va.Field(i), vb.Field(i)
		if x.Kind() == reflect.Float64 {
			if fx, fy := x.Float(), y.Float(); fx != fy && (fx == fx || fy == fy) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(x.Interface(), y.Interface()) {
			return false
		}
	}
	return true
}

// A composite's parts run concurrently; the row is the same bits whatever
// GOMAXPROCS allows.
func TestCompositeSameAtAnyGOMAXPROCS(t *testing.T) {
	p := mustParse(t, "layer:model=llama3-8b,phase=prefill,tokens=256")
	for _, target := range []string{"trn2", "h100"} {
		tg := mustTarget(t, target)
		var rows []Result
		for _, procs := range []int{1, 2, 5} {
			old := runtime.GOMAXPROCS(procs)
			r, err := RunTiming(p, tg)
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r)
		}
		for i := 1; i < len(rows); i++ {
			if !sameRow(rows[i].Row, rows[0].Row) || len(rows[i].Parts) != len(rows[0].Parts) {
				t.Errorf("%s: GOMAXPROCS run %d gives %+v, first %+v", target, i, rows[i].Row, rows[0].Row)
			}
		}
	}
}
