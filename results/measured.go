package results

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Measured is one row of a measured-data CSV (results/measured/README.md):
// a workload shape on a target and the time real hardware took. Integer
// shape fields are 0 where the cell is empty; Causal is "true", "false" or
// "" when not applicable.
type Measured struct {
	Line int // 1-based line of the row in its file

	Target, Kernel, Variant, DType string
	Batch, Heads, KVHeads, M, N, K int
	Seqlen, Headdim                int
	Causal                         string
	MeasuredUs, HostOverheadUs     float64
	Confidence, Source             string
	// Workload, when set, is a full workload spec ("kernel:param=value,…")
	// that overrides the shape columns (the dtype and variant columns
	// still apply unless the spec names them).
	Workload string

	// Header and Cells are the file's columns and this row's cells as
	// read, extra columns included, so that output can repeat them.
	Header []string
	Cells  []string
}

// measuredColumns are the schema's columns; the first three are required.
var measuredColumns = []string{
	"target", "kernel", "measured_us",
	"variant", "dtype", "batch", "heads", "kv_heads", "M", "N", "K", "seqlen", "headdim", "causal",
	"host_overhead_us", "confidence", "source", "workload",
}

// ReadMeasured reads a measured-data CSV. name labels errors. Columns may
// come in any order and extra columns are ignored; target, kernel and
// measured_us are required. A malformed file is a *ParseError naming
// name:line and the column.
func ReadMeasured(r io.Reader, name string) ([]Measured, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{File: name, Line: 1, Err: errors.New("empty file: want a header row")}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := idx[h]; dup && h != "" {
			return nil, &ParseError{File: name, Line: 1, Field: h, Err: errors.New("column given twice")}
		}
		idx[h] = i
	}
	for _, c := range measuredColumns[:3] {
		if _, ok := idx[c]; !ok {
			return nil, &ParseError{File: name, Line: 1, Field: c, Err: fmt.Errorf("required column missing (columns: %s)", strings.Join(measuredColumns, ", "))}
		}
	}
	var out []Measured
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		m := Measured{Line: line, Header: header, Cells: rec}
		if err := m.fill(idx, rec, func(i int) int { _, c := cr.FieldPos(i); return c }); err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.File, pe.Line = name, line
			}
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// fill sets m's fields from rec; errors carry the column's name and
// position (file and line are set by the caller).
func (m *Measured) fill(idx map[string]int, rec []string, col func(int) int) error {
	cell := func(c string) (string, int) {
		i, ok := idx[c]
		if !ok {
			return "", -1
		}
		return strings.TrimSpace(rec[i]), i
	}
	bad := func(c string, i int, format string, args ...any) error {
		return &ParseError{Column: col(i), Field: c, Err: fmt.Errorf(format, args...)}
	}
	text := func(c string, dst *string) {
		*dst, _ = cell(c)
	}
	text("target", &m.Target)
	text("kernel", &m.Kernel)
	text("variant", &m.Variant)
	text("dtype", &m.DType)
	text("confidence", &m.Confidence)
	text("source", &m.Source)
	text("workload", &m.Workload)
	for _, c := range []string{"target", "kernel"} {
		if v, i := cell(c); v == "" {
			return bad(c, i, "empty; want a name")
		}
	}
	ints := []struct {
		c   string
		dst *int
	}{
		{"batch", &m.Batch}, {"heads", &m.Heads}, {"kv_heads", &m.KVHeads},
		{"M", &m.M}, {"N", &m.N}, {"K", &m.K}, {"seqlen", &m.Seqlen}, {"headdim", &m.Headdim},
	}
	for _, f := range ints {
		v, i := cell(f.c)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return bad(f.c, i, "%q: want a non-negative integer or empty", v)
		}
		*f.dst = n
	}
	floats := []struct {
		c        string
		dst      *float64
		required bool
	}{{"measured_us", &m.MeasuredUs, true}, {"host_overhead_us", &m.HostOverheadUs, false}}
	for _, f := range floats {
		v, i := cell(f.c)
		if v == "" {
			if f.required {
				return bad(f.c, i, "empty; want a time in microseconds")
			}
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || (f.required && x == 0) {
			return bad(f.c, i, "%q: want a finite %s number of microseconds", v, map[bool]string{true: "positive", false: "non-negative"}[f.required])
		}
		*f.dst = x
	}
	v, i := cell("causal")
	switch strings.ToLower(v) {
	case "":
	case "true", "1":
		m.Causal = "true"
	case "false", "0":
		m.Causal = "false"
	default:
		return bad("causal", i, "%q: want true, false or empty", v)
	}
	return nil
}

// Group is the (target, kernel, variant) a measured row belongs to in a
// validation.
func (m *Measured) Group() string {
	return m.Target + "/" + m.Kernel + "/" + m.Variant
}

// Shape returns the row's workload shape as "name=value" pairs, e.g.
// "M=64 N=12288 K=12288 batch=1 fp16": the GEMM dimensions, then batch,
// then the attention dimensions, each only where set. The order is the
// same for every kernel, so a new kernel needs nothing here. A row with a
// workload spec shows the spec.
func (m *Measured) Shape() string {
	if m.Workload != "" {
		return m.Workload
	}
	var parts []string
	add := func(name string, v int) {
		if v > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", name, v))
		}
	}
	add("M", m.M)
	add("N", m.N)
	add("K", m.K)
	add("batch", m.Batch)
	add("heads", m.Heads)
	add("kv_heads", m.KVHeads)
	add("seqlen", m.Seqlen)
	add("headdim", m.Headdim)
	if m.Causal == "true" {
		parts = append(parts, "causal")
	}
	if m.DType != "" {
		parts = append(parts, m.DType)
	}
	return strings.Join(parts, " ")
}
