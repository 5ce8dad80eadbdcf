package serve

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// E2EColumns is the header of the end-to-end calibration schema
// (results/measured/e2e*.csv, docs/systems.md D6).
var E2EColumns = []string{"target", "chips", "model", "phase", "batch", "input_len", "output_len", "tp", "metric", "value", "unit", "source", "notes"}

// E2ERow is one published end-to-end measurement.
type E2ERow struct {
	Line                      int
	Target, Model, Phase      string
	Chips, Batch, In, Out, TP int // Batch 0: not stated
	Metric                    string
	Value                     float64
	Unit                      string
	Cells                     []string
}

// E2EParseError is a malformed end-to-end CSV: file, line and column.
type E2EParseError struct {
	File   string
	Line   int
	Column string
	Err    error
}

func (e *E2EParseError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: column %s: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *E2EParseError) Unwrap() error { return e.Err }

// IsE2EHeader reports whether a CSV header is the end-to-end schema.
func IsE2EHeader(h []string) bool {
	if len(h) != len(E2EColumns) {
		return false
	}
	for i, c := range E2EColumns {
		if strings.TrimSpace(strings.TrimPrefix(h[i], "\ufeff")) != c {
			return false
		}
	}
	return true
}

// ReadE2E reads an end-to-end calibration CSV; name labels errors.
func ReadE2E(r io.Reader, name string) ([]E2ERow, error) {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &E2EParseError{File: name, Line: pe.Line, Err: pe.Err}
		}
		return nil, &E2EParseError{File: name, Line: 1, Err: err}
	}
	if len(recs) == 0 || !IsE2EHeader(recs[0]) {
		return nil, &E2EParseError{File: name, Line: 1, Err: fmt.Errorf("header: want %s", strings.Join(E2EColumns, ","))}
	}
	var rows []E2ERow
	for i, rec := range recs[1:] {
		line := i + 2
		intAt := func(col int, empty bool) (int, error) {
			s := strings.TrimSpace(rec[col])
			if s == "" && empty {
				return 0, nil
			}
			v, err := strconv.Atoi(s)
			if err != nil || v < 1 || v > 1<<20 {
				return 0, &E2EParseError{File: name, Line: line, Column: E2EColumns[col], Err: fmt.Errorf("%q: want an integer in 1..%d", s, 1<<20)}
			}
			return v, nil
		}
		r := E2ERow{Line: line, Target: rec[0], Model: rec[2], Phase: rec[3], Metric: rec[8], Unit: rec[10], Cells: rec}
		var err error
		if r.Chips, err = intAt(1, false); err != nil {
			return nil, err
		}
		if r.Batch, err = intAt(4, true); err != nil {
			return nil, err
		}
		if r.In, err = intAt(5, false); err != nil {
			return nil, err
		}
		if r.Out, err = intAt(6, false); err != nil {
			return nil, err
		}
		if r.TP, err = intAt(7, false); err != nil {
			return nil, err
		}
		v, perr := strconv.ParseFloat(strings.TrimSpace(rec[9]), 64)
		if perr != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, &E2EParseError{File: name, Line: line, Column: "value", Err: fmt.Errorf("%q: want a positive number", rec[9])}
		}
		r.Value = v
		rows = append(rows, r)
	}
	return rows, nil
}

// E2EPrediction is a measured row with the model's prediction.
type E2EPrediction struct {
	Row       E2ERow
	Predicted float64 // in the row's unit; NaN when not predicted
	ErrPct    float64 // (predicted − measured) / measured · 100
	Detail    string  // the configuration predicted, or why none
}

// family is a metric's kind: ttft, tpot or throughput ("" unknown).
func family(metric string) string {
	switch {
	case strings.HasPrefix(metric, "ttft"):
		return "ttft"
	case strings.HasPrefix(metric, "tpot"):
		return "tpot"
	case strings.HasPrefix(metric, "output_token_throughput"), metric == "tokens_per_second":
		return "throughput"
	}
	return ""
}

// e2eOptions maps a measured row to the configuration that reproduces it:
// the system whose chips the target names (a100: the 80 GB part of the
// calibration sources, p4de), one replica's TP, the dtypes
// the source states (docs/systems.md D6: trn1 int8 weights; TensorRT-LLM
// H100/H200 FP8 weights and KV, A100 FP16), and the batch: as stated,
// 1 for online rows at QPS 2 (D6: the closest analogue of batch-1
// latency), the largest that fits for saturated offline-throughput rows.
func e2eOptions(r E2ERow, overheadUs float64) (Options, string, error) {
	sysName := map[string]string{"trn1": "trn1.32xlarge", "trn2": "trn2.48xlarge", "a100": "p4de.24xlarge",
		"h100": "p5.48xlarge", "h200": "p5en.48xlarge", "b200": "p6-b200.48xlarge"}[r.Target]
	if sysName == "" {
		return Options{}, "", fmt.Errorf("target %q: no system for it", r.Target)
	}
	s, err := SystemByName(sysName)
	if err != nil {
		return Options{}, "", err
	}
	m, err := ModelByName(r.Model)
	if err != nil {
		return Options{}, "", err
	}
	o := Options{Model: m, System: s, TP: r.TP, LNC: 1, Batch: r.Batch, InputLen: r.In, OutputLen: r.Out,
		WeightDType: "bf16", KVDType: "bf16", OverheadUs: overheadUs, PrefillChunk: 8192}
	if o.OverheadUs < 0 {
		o.OverheadUs = DefaultOverheadUs(s.Chip.Vendor)
	}
	switch r.Target {
	case "trn1":
		o.WeightDType = "int8"
	case "h100", "h200", "b200":
		o.WeightDType, o.KVDType = "fp8", "fp8"
	}
	how := "batch stated"
	if o.Batch == 0 {
		switch {
		case family(r.Metric) == "throughput" && strings.Contains(r.Metric, "_qps"):
			return o, "", fmt.Errorf("throughput at a fixed request rate is set by the rate, not the system: not predicted")
		case strings.HasSuffix(r.Metric, "_qps2"):
			o.Batch, how = 1, "batch 1 (QPS 2)"
		case family(r.Metric) == "throughput":
			o.Batch = 1
			mb := o.memory(1).MaxBatch
			if mb < 1 {
				return o, "", fmt.Errorf("not even one sequence fits")
			}
			o.Batch, how = min(mb, 4096), "batch = largest that fits (saturated server)"
		default:
			return o, "", fmt.Errorf("batch not stated (in-flight batching at a request rate): not predicted")
		}
	}
	return o, how, nil
}

// ValidateE2E predicts each row with est. overheadUs < 0 takes the vendor
// default. Rows that cannot be mapped carry the reason in Detail.
func ValidateE2E(rows []E2ERow, est *Estimator, overheadUs float64) []E2EPrediction {
	var out []E2EPrediction
	for _, r := range rows {
		p := E2EPrediction{Row: r, Predicted: math.NaN(), ErrPct: math.NaN()}
		fam := family(r.Metric)
		o, how, err := e2eOptions(r, overheadUs)
		if err == nil && fam == "" {
			err = fmt.Errorf("metric %q: not a ttft, tpot or throughput metric", r.Metric)
		}
		var e Estimate
		if err == nil {
			e, err = est.Run(o)
		}
		if err != nil {
			p.Detail = err.Error()
			out = append(out, p)
			continue
		}
		switch fam {
		case "ttft":
			p.Predicted = e.TTFTms
		case "tpot":
			p.Predicted = e.TPOTms
		case "throughput":
			// One replica's output tokens/s on the row's chips.
			p.Predicted = e.OutTokS / float64(e.Replicas)
		}
		p.ErrPct = (p.Predicted/r.Value - 1) * 100
		p.Detail = fmt.Sprintf("%s tp=%d batch=%d (%s) weights %s kv %s", o.System.Name, o.TP, o.Batch, how, o.WeightDType, o.KVDType)
		out = append(out, p)
	}
	return out
}

// E2EGroup is the mean absolute percentage error of one (target, metric
// family) group.
type E2EGroup struct {
	Target, Family string
	N              int
	MAPE           float64
}

// E2EGroups summarises predictions by target and metric family, sorted.
func E2EGroups(ps []E2EPrediction) []E2EGroup {
	acc := map[[2]string]*E2EGroup{}
	for _, p := range ps {
		if math.IsNaN(p.ErrPct) {
			continue
		}
		k := [2]string{p.Row.Target, family(p.Row.Metric)}
		g := acc[k]
		if g == nil {
			g = &E2EGroup{Target: k[0], Family: k[1]}
			acc[k] = g
		}
		g.N++
		g.MAPE += math.Abs(p.ErrPct)
	}
	var gs []E2EGroup
	for _, g := range acc {
		g.MAPE /= float64(g.N)
		gs = append(gs, *g)
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].Target != gs[j].Target {
			return gs[i].Target < gs[j].Target
		}
		return gs[i].Family < gs[j].Family
	})
	return gs
}

// WriteE2ECSV writes the measured rows with predicted, error_pct and
// detail columns appended.
func WriteE2ECSV(w io.Writer, ps []E2EPrediction) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string{}, E2EColumns...), "predicted", "error_pct", "detail")); err != nil {
		return err
	}
	for _, p := range ps {
		rec := append(append([]string{}, p.Row.Cells...), fnum(p.Predicted), fnum(p.ErrPct), p.Detail)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
