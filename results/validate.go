package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
)

// Prediction is a model's answer for one measured row: the predicted
// device time, or why the row cannot be modelled.
type Prediction struct {
	DeviceUs float64 // predicted device time; Validate adds host_overhead_us
	Reason   string  // non-empty: the row cannot be modelled, and why
	Detail   string  // what ran (variant resolved, tile, splits), for the table
}

// ValidatedRow is a measured row with its prediction.
type ValidatedRow struct {
	Measured
	PredictedUs float64 // device prediction + host_overhead_us; NaN when not modelled
	ErrorPct    float64 // (predicted − measured)/measured·100; NaN when not modelled
	Reason      string
	Detail      string
}

// GroupStat is the error of one (target, kernel, variant) group.
type GroupStat struct {
	Target, Kernel, Variant string
	Rows                    int     // modelled rows
	Unmodelled              int     // rows that could not be modelled
	MAPE                    float64 // mean |error_pct|; NaN with no modelled row
	MeanPct                 float64 // mean signed error_pct (bias)
	MaxAbsPct               float64
}

// Validation is a model's predictions against a measured-data file.
type Validation struct {
	Rows       []ValidatedRow
	Groups     []GroupStat // in order of first appearance
	MAPE       float64     // over every modelled row; NaN with none
	Modelled   int
	Unmodelled int
}

// Validate predicts every row with predict and computes the errors, the
// MAPE per (target, kernel, variant) group and overall.
func Validate(ms []Measured, predict func(Measured) Prediction) Validation {
	var v Validation
	gi := map[string]int{}
	var sum float64
	for _, m := range ms {
		p := predict(m)
		r := ValidatedRow{Measured: m, PredictedUs: math.NaN(), ErrorPct: math.NaN(), Reason: p.Reason, Detail: p.Detail}
		if r.Reason == "" && (math.IsNaN(p.DeviceUs) || math.IsInf(p.DeviceUs, 0) || p.DeviceUs < 0) {
			r.Reason = fmt.Sprintf("model returned an invalid time %v", p.DeviceUs)
		}
		key := m.Group()
		i, ok := gi[key]
		if !ok {
			i = len(v.Groups)
			gi[key] = i
			v.Groups = append(v.Groups, GroupStat{Target: m.Target, Kernel: m.Kernel, Variant: m.Variant, MAPE: math.NaN()})
		}
		g := &v.Groups[i]
		if r.Reason != "" {
			g.Unmodelled++
			v.Unmodelled++
		} else {
			r.PredictedUs = p.DeviceUs + m.HostOverheadUs
			r.ErrorPct = (r.PredictedUs - m.MeasuredUs) / m.MeasuredUs * 100
			a := math.Abs(r.ErrorPct)
			if g.Rows == 0 {
				g.MAPE = 0
			}
			g.Rows++
			g.MAPE += a
			g.MeanPct += r.ErrorPct
			g.MaxAbsPct = math.Max(g.MaxAbsPct, a)
			sum += a
			v.Modelled++
		}
		v.Rows = append(v.Rows, r)
	}
	for i := range v.Groups {
		g := &v.Groups[i]
		if g.Rows > 0 {
			g.MAPE /= float64(g.Rows)
			g.MeanPct /= float64(g.Rows)
		}
	}
	v.MAPE = math.NaN()
	if v.Modelled > 0 {
		v.MAPE = sum / float64(v.Modelled)
	}
	return v
}

// Print writes the per-row table, the rows that could not be modelled with
// their reasons, then the group table and the overall MAPE.
func (v *Validation) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "line\ttarget\tkernel\tvariant\tshape\tran\tpredicted_us\tmeasured_us\terror_pct\t")
	for _, r := range v.Rows {
		if r.Reason != "" {
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%+.1f\t\n",
			r.Line, r.Target, r.Kernel, dash(r.Variant), r.Shape(), dash(r.Detail), r.PredictedUs, r.MeasuredUs, r.ErrorPct)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if v.Unmodelled > 0 {
		fmt.Fprintf(w, "\nnot modelled (%d rows):\n", v.Unmodelled)
		for _, r := range v.Rows {
			if r.Reason != "" {
				fmt.Fprintf(w, "  line %d %s %s %s %s: %s\n", r.Line, r.Target, r.Kernel, dash(r.Variant), r.Shape(), r.Reason)
			}
		}
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tkernel\tvariant\trows\tnot_modelled\tMAPE_pct\tmean_error_pct\tmax_abs_error_pct\t")
	for _, g := range v.Groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t\n", g.Target, g.Kernel, dash(g.Variant), g.Rows, g.Unmodelled,
			pctCell(g.MAPE), pctCell(g.MeanPct), pctCell(g.MaxAbsPct))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\noverall MAPE %s%% over %d modelled rows (%d not modelled)\n", pctCell(v.MAPE), v.Modelled, v.Unmodelled)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func pctCell(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// WriteCSV writes the input columns of every row (as read) followed by
// predicted_us and error_pct; both are empty for a row that could not be
// modelled, and a not_modelled column gives the reason.
func (v *Validation) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	var header []string
	if len(v.Rows) > 0 {
		header = v.Rows[0].Header
	}
	out := append(append([]string(nil), header...), "predicted_us", "error_pct", "not_modelled")
	if err := cw.Write(out); err != nil {
		return err
	}
	for _, r := range v.Rows {
		rec := append([]string(nil), r.Cells...)
		for len(rec) < len(header) {
			rec = append(rec, "")
		}
		if r.Reason != "" {
			rec = append(rec, "", "", r.Reason)
		} else {
			rec = append(rec, strconv.FormatFloat(r.PredictedUs, 'g', 6, 64), strconv.FormatFloat(r.ErrorPct, 'f', 2, 64), "")
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
