package bench

import (
	"errors"
	"reflect"
	"runtime"
	"testing"

	"github.com/trnsim/trnsim/kernels"
)

// Streaming the program through the timing model gives the figures the
// stored replay gives, bit for bit, on every kernel and generation; only
// the spans (and the program) are left out.
func TestRunTimingMatchesRunDetailed(t *testing.T) {
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
	for _, target := range []string{"trn1", "trn2", "trn3"} {
		tg := mustTarget(t, target)
		for _, spec := range specs {
			p := mustParse(t, spec)
			t.Run(target+"/"+spec, func(t *testing.T) {
				stored, err := RunDetailed(p, tg)
				if err != nil {
					if errors.Is(err, kernels.ErrUnsupported) {
						return
					}
					t.Fatal(err)
				}
				streamed, err := RunTiming(p, tg)
				if err != nil {
					t.Fatal(err)
				}
				if streamed.Program != nil || streamed.Report.Spans != nil {
					t.Errorf("streamed run kept a program (%v) or %d spans", streamed.Program != nil, len(streamed.Report.Spans))
				}
				if len(stored.Report.Spans) != len(stored.Program.Instrs) || len(stored.Program.Instrs) == 0 {
					t.Fatalf("stored run: %d spans for %d instructions", len(stored.Report.Spans), len(stored.Program.Instrs))
				}
				want := *stored.Report
				want.Spans, want.Sources = nil, nil
				if !reflect.DeepEqual(*streamed.Report, want) {
					t.Errorf("reports differ:\nstreamed %+v\nstored   %+v", *streamed.Report, want)
				}
				if !sameRow(streamed.Row, stored.Row) {
					t.Errorf("rows differ:\nstreamed %+v\nstored   %+v", streamed.Row, stored.Row)
				}
				var n int
				for _, e := range streamed.Report.Engines {
					n += e.Instrs
				}
				if n != len(stored.Program.Instrs) {
					t.Errorf("streamed run counted %d instructions, the program has %d", n, len(stored.Program.Instrs))
				}
			})
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
