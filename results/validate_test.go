package results

import (
	"bytes"
	"encoding/csv"
	"math"
	"strings"
	"testing"
)

const validateInput = `target,kernel,variant,measured_us,host_overhead_us,M,note
h100,matmul,,100,10,64,a
h100,matmul,,200,0,128,b
a100,attention,fa2,50,0,,c
h100,matmul,,80,0,256,d
`

func TestValidate(t *testing.T) {
	ms, err := ReadMeasured(strings.NewReader(validateInput), "v.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Device predictions: 90 (+10 host = 100, error 0%), 210 (+5%), 40
	// (−20%), and a row that cannot be modelled.
	pred := map[int]Prediction{
		2: {DeviceUs: 90, Detail: "tile a"},
		3: {DeviceUs: 210},
		4: {DeviceUs: 40},
		5: {Reason: "no model for M=256"},
	}
	v := Validate(ms, func(m Measured) Prediction { return pred[m.Line] })
	if v.Modelled != 3 || v.Unmodelled != 1 || !vnear(v.MAPE, 25.0/3) {
		t.Errorf("modelled %d, unmodelled %d, MAPE %v; want 3, 1, 8.33", v.Modelled, v.Unmodelled, v.MAPE)
	}
	want := []GroupStat{
		{Target: "h100", Kernel: "matmul", Rows: 2, Unmodelled: 1, MAPE: 2.5, MeanPct: 2.5, MaxAbsPct: 5},
		{Target: "a100", Kernel: "attention", Variant: "fa2", Rows: 1, MAPE: 20, MeanPct: -20, MaxAbsPct: 20},
	}
	if len(v.Groups) != len(want) {
		t.Fatalf("groups %+v", v.Groups)
	}
	for i, g := range v.Groups {
		w := want[i]
		if g.Target != w.Target || g.Kernel != w.Kernel || g.Variant != w.Variant || g.Rows != w.Rows || g.Unmodelled != w.Unmodelled ||
			!vnear(g.MAPE, w.MAPE) || !vnear(g.MeanPct, w.MeanPct) || !vnear(g.MaxAbsPct, w.MaxAbsPct) {
			t.Errorf("group %d = %+v, want %+v", i, g, w)
		}
	}
	if r := v.Rows[0]; r.PredictedUs != 100 || r.ErrorPct != 0 || r.Detail != "tile a" {
		t.Errorf("row 0 %+v", r)
	}
	if r := v.Rows[3]; !math.IsNaN(r.PredictedUs) || r.Reason == "" {
		t.Errorf("unmodelled row %+v", r)
	}

	var out bytes.Buffer
	if err := v.Print(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"not modelled (1 rows)", "line 5 h100 matmul - M=256: no model for M=256", "overall MAPE 8.3% over 3 modelled rows (1 not modelled)", "+5.0", "-20.0"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("printed table lacks %q:\n%s", s, out.String())
		}
	}

	out.Reset()
	if err := v.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantRecs := [][]string{
		{"target", "kernel", "variant", "measured_us", "host_overhead_us", "M", "note", "predicted_us", "error_pct", "not_modelled", "bound"},
		{"h100", "matmul", "", "100", "10", "64", "a", "100", "0.00", "", ""},
		{"h100", "matmul", "", "200", "0", "128", "b", "210", "5.00", "", ""},
		{"a100", "attention", "fa2", "50", "0", "", "c", "40", "-20.00", "", ""},
		{"h100", "matmul", "", "80", "0", "256", "d", "", "", "no model for M=256", ""},
	}
	if len(recs) != len(wantRecs) {
		t.Fatalf("output CSV %v", recs)
	}
	for i := range recs {
		if strings.Join(recs[i], "|") != strings.Join(wantRecs[i], "|") {
			t.Errorf("output row %d = %v, want %v", i, recs[i], wantRecs[i])
		}
	}
}

// Upper-bound rows are scored hold / exceed, apart from the MAPE, and the
// summary CSV carries both per group and overall.
func TestValidateUpperBounds(t *testing.T) {
	const in = `target,kernel,variant,measured_us,confidence
h100,matmul,,100,exact
h100,matmul,,100,upper-bound
h100,matmul,,100,upper-bound
a100,attention,fa2,50,upper-bound
a100,attention,fa2,50,exact
h100,rope,,10,exact
`
	ms, err := ReadMeasured(strings.NewReader(in), "u.csv")
	if err != nil {
		t.Fatal(err)
	}
	// 110 (+10%), 90 (holds), 120 (exceeds), 50 (holds: equal), 40 (−20%).
	pred := map[int]float64{2: 110, 3: 90, 4: 120, 5: 50, 6: 40}
	v := Validate(ms, func(m Measured) Prediction {
		if m.Kernel == "rope" {
			return Prediction{Reason: "no model"}
		}
		return Prediction{DeviceUs: pred[m.Line]}
	})
	if v.Modelled != 2 || v.Bounds != 3 || v.BoundsHeld != 2 || !vnear(v.MAPE, 15) {
		t.Fatalf("modelled %d, bounds %d held %d, MAPE %v; want 2, 3, 2, 15", v.Modelled, v.Bounds, v.BoundsHeld, v.MAPE)
	}
	tests := []struct {
		g                  int
		rows, bounds, held int
		mape               float64
	}{{0, 1, 2, 1, 10}, {1, 1, 1, 1, 20}}
	for _, tc := range tests {
		g := v.Groups[tc.g]
		if g.Rows != tc.rows || g.Bounds != tc.bounds || g.BoundsHeld != tc.held || !vnear(g.MAPE, tc.mape) {
			t.Errorf("group %d = %+v, want rows %d bounds %d held %d MAPE %v", tc.g, g, tc.rows, tc.bounds, tc.held, tc.mape)
		}
	}
	if r := v.Rows[2]; !r.Bound || r.Holds || !vnear(r.ErrorPct, 20) {
		t.Errorf("exceeded bound row %+v", r)
	}
	var out bytes.Buffer
	if err := v.Print(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"bound holds", "bound exceeded", "1/2", "upper bounds: 2 of 3 hold", "overall MAPE 15.0% over 2 modelled rows"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("printed table lacks %q:\n%s", s, out.String())
		}
	}
	out.Reset()
	if err := v.WriteSummaryCSV(&out); err != nil {
		t.Fatal(err)
	}
	want := "target,kernel,variant,rows,not_modelled,mape_pct,mean_error_pct,max_abs_error_pct,bounds,bounds_held\n" +
		"h100,matmul,,1,0,10.00,10.00,10.00,2,1\n" +
		"a100,attention,fa2,1,0,20.00,-20.00,20.00,1,1\n" +
		"h100,rope,,0,1,,,,0,0\n" +
		"all,,,2,1,15.00,-5.00,20.00,3,2\n"
	if out.String() != want {
		t.Errorf("summary CSV:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	empty := Validate(nil, nil)
	if err := empty.WriteSummaryCSV(&out); err != nil || !strings.HasSuffix(out.String(), "all,,,0,0,,,,0,0\n") {
		t.Errorf("empty summary %q, %v", out.String(), err)
	}
}

func TestValidateRejectsBadPredictions(t *testing.T) {
	ms, _ := ReadMeasured(strings.NewReader("target,kernel,measured_us\nh100,matmul,5\n"), "x.csv")
	v := Validate(ms, func(Measured) Prediction { return Prediction{DeviceUs: math.NaN()} })
	if v.Unmodelled != 1 || !math.IsNaN(v.MAPE) || !strings.Contains(v.Rows[0].Reason, "invalid") {
		t.Errorf("%+v", v)
	}
}

func vnear(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }
