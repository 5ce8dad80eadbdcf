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
	// Bound is set for a row whose confidence is "upper-bound": its
	// measured_us bounds the time from above, so it is scored as Holds
	// (predicted ≤ measured) or not, apart from the percentage errors.
	Bound bool
	Holds bool
}

// UpperBound is the confidence of a measured row whose time is an upper
// bound on the kernel's time (e.g. a wall time that includes unknown host
// work): validate scores it hold / exceed rather than as an error.
const UpperBound = "upper-bound"

// GroupStat is the error of one (target, kernel, variant) group.
type GroupStat struct {
	Target, Kernel, Variant string
	Rows                    int     // modelled rows
	Unmodelled              int     // rows that could not be modelled
	MAPE                    float64 // mean |error_pct|; NaN with no modelled row
	MeanPct                 float64 // mean signed error_pct (bias); NaN with no modelled row
	MaxAbsPct               float64 // NaN with no modelled row
	Bounds                  int     // upper-bound rows modelled
	BoundsHeld              int     // of which the prediction ≤ the bound
}

// Validation is a model's predictions against a measured-data file.
type Validation struct {
	Rows       []ValidatedRow
	Groups     []GroupStat // in order of first appearance
	MAPE       float64     // over every modelled row; NaN with none
	Modelled   int         // rows scored as a percentage error
	Unmodelled int
	Bounds     int // upper-bound rows modelled (not in MAPE)
	BoundsHeld int // of which the prediction ≤ the bound
}

// Validate predicts every row with predict and computes the errors, the
// MAPE per (target, kernel, variant) group and overall. Rows whose
// confidence is UpperBound are scored hold / exceed and counted apart: they
// are not in the MAPE.
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
		} else if m.Confidence == UpperBound {
			r.PredictedUs = p.DeviceUs + m.HostOverheadUs
			r.ErrorPct = (r.PredictedUs - m.MeasuredUs) / m.MeasuredUs * 100
			r.Bound, r.Holds = true, r.PredictedUs <= m.MeasuredUs
			g.Bounds++
			v.Bounds++
			if r.Holds {
				g.BoundsHeld++
				v.BoundsHeld++
			}
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
		} else {
			g.MeanPct, g.MaxAbsPct = math.NaN(), math.NaN()
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
		errCell := fmt.Sprintf("%+.1f", r.ErrorPct)
		if r.Bound {
			errCell = "bound exceeded"
			if r.Holds {
				errCell = "bound holds"
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%s\t\n",
			r.Line, r.Target, r.Kernel, dash(r.Variant), r.Shape(), dash(r.Detail), r.PredictedUs, r.MeasuredUs, errCell)
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
	fmt.Fprintln(tw, "target\tkernel\tvariant\trows\tnot_modelled\tMAPE_pct\tmean_error_pct\tmax_abs_error_pct\tbounds_held\t")
	for _, g := range v.Groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n", g.Target, g.Kernel, dash(g.Variant), g.Rows, g.Unmodelled,
			pctCell(g.MAPE), pctCell(g.MeanPct), pctCell(g.MaxAbsPct), boundsCell(g.BoundsHeld, g.Bounds))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\noverall MAPE %s%% over %d modelled rows (%d not modelled)\n", pctCell(v.MAPE), v.Modelled, v.Unmodelled)
	if err == nil && v.Bounds > 0 {
		_, err = fmt.Fprintf(w, "upper bounds: %d of %d hold (prediction ≤ bound), %d exceeded\n", v.BoundsHeld, v.Bounds, v.Bounds-v.BoundsHeld)
	}
	return err
}

// boundsCell is "held/bounds" or "-" for a group without upper-bound rows.
func boundsCell(held, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", held, n)
}

// WriteSummaryCSV writes the group table as CSV, one row per (target,
// kernel, variant) group and a last row "all" with the overall figures:
// target,kernel,variant,rows,not_modelled,mape_pct,mean_error_pct,
// max_abs_error_pct,bounds,bounds_held. Percentages are empty where a
// group has no modelled row; rows counts the rows in the MAPE, bounds the
// upper-bound rows scored apart.
func (v *Validation) WriteSummaryCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cell := func(x float64) string {
		if math.IsNaN(x) {
			return ""
		}
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	if err := cw.Write([]string{"target", "kernel", "variant", "rows", "not_modelled", "mape_pct", "mean_error_pct", "max_abs_error_pct", "bounds", "bounds_held"}); err != nil {
		return err
	}
	for _, g := range v.Groups {
		if err := cw.Write([]string{g.Target, g.Kernel, g.Variant, strconv.Itoa(g.Rows), strconv.Itoa(g.Unmodelled),
			cell(g.MAPE), cell(g.MeanPct), cell(g.MaxAbsPct), strconv.Itoa(g.Bounds), strconv.Itoa(g.BoundsHeld)}); err != nil {
			return err
		}
	}
	mean, maxAbs := math.NaN(), math.NaN()
	if v.Modelled > 0 {
		var sum float64
		maxAbs = 0
		for _, r := range v.Rows {
			if r.Reason == "" && !r.Bound {
				sum += r.ErrorPct
				maxAbs = math.Max(maxAbs, math.Abs(r.ErrorPct))
			}
		}
		mean = sum / float64(v.Modelled)
	}
	if err := cw.Write([]string{"all", "", "", strconv.Itoa(v.Modelled), strconv.Itoa(v.Unmodelled),
		cell(v.MAPE), cell(mean), cell(maxAbs), strconv.Itoa(v.Bounds), strconv.Itoa(v.BoundsHeld)}); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
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
// modelled, and a not_modelled column gives the reason. An upper-bound
// row's error_pct is its margin (negative: the bound holds); its bound
// column says "holds" or "exceeded" (empty for other rows).
func (v *Validation) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	var header []string
	if len(v.Rows) > 0 {
		header = v.Rows[0].Header
	}
	out := append(append([]string(nil), header...), "predicted_us", "error_pct", "not_modelled", "bound")
	if err := cw.Write(out); err != nil {
		return err
	}
	for _, r := range v.Rows {
		rec := append([]string(nil), r.Cells...)
		for len(rec) < len(header) {
			rec = append(rec, "")
		}
		bound := ""
		if r.Bound {
			bound = "exceeded"
			if r.Holds {
				bound = "holds"
			}
		}
		if r.Reason != "" {
			rec = append(rec, "", "", r.Reason, "")
		} else {
			rec = append(rec, strconv.FormatFloat(r.PredictedUs, 'g', 6, 64), strconv.FormatFloat(r.ErrorPct, 'f', 2, 64), "", bound)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
