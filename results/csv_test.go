package results

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite SCHEMA.md from schema.go")

// randomRow fills every field of a Row through reflection, so a field added
// to Row without a schema column fails the round trip below.
func randomRow(rng *rand.Rand) Row {
	var r Row
	v := reflect.ValueOf(&r).Elem()
	texts := []string{"matmul", "trn2", "a, b", `say "hi"`, " lead", "µs", "x=1,y=2"}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.String:
			switch name {
			case "Causal":
				f.SetString([]string{"", "true", "false"}[rng.IntN(3)])
			case "PriceBasis":
				f.SetString([]string{"", "on-demand", "capacity-block", "user"}[rng.IntN(4)])
			case "Unit":
				f.SetString([]string{UnitCore, UnitChip, UnitGPU, UnitInstance}[rng.IntN(4)])
			case "Kernel", "Target", "Spec":
				f.SetString(texts[rng.IntN(len(texts))] + strconv.Itoa(rng.IntN(100)))
			default:
				if rng.IntN(4) > 0 {
					f.SetString(texts[rng.IntN(len(texts))])
				}
			}
		case reflect.Int:
			if rng.IntN(3) > 0 {
				f.SetInt(int64(1 + rng.IntN(1<<20)))
			}
		case reflect.Int64:
			f.SetInt(rng.Int64N(1 << 50))
		case reflect.Float64:
			f.SetFloat(randomFloat(rng))
		default:
			panic("randomRow: add a case for " + f.Kind().String())
		}
	}
	return r
}

func randomFloat(rng *rand.Rand) float64 {
	switch rng.IntN(8) {
	case 0:
		return math.NaN()
	case 1:
		return 0
	case 2:
		return math.Copysign(0, -1)
	case 3:
		return math.Ldexp(rng.Float64(), -60) // tiny: 'g' switches to an exponent
	case 4:
		return math.Ldexp(rng.Float64(), 60)
	case 5:
		return float64(rng.IntN(1000))
	}
	return (rng.Float64() - 0.5) * 1e4
}

// sameRow compares every field; floats bit for bit, NaN equal to NaN.
func sameRow(a, b Row) (string, bool) {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := 0; i < va.NumField(); i++ {
		fa, fb := va.Field(i), vb.Field(i)
		same := false
		if fa.Kind() == reflect.Float64 {
			x, y := fa.Float(), fb.Float()
			same = math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
		} else {
			same = fa.Interface() == fb.Interface()
		}
		if !same {
			return va.Type().Field(i).Name, false
		}
	}
	return "", true
}

func TestCSVRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]Row, 200)
	for i := range rows {
		rows[i] = randomRow(rng)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(bytes.NewReader(buf.Bytes()), "rt.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, wrote %d", len(got), len(rows))
	}
	for i := range rows {
		if f, ok := sameRow(rows[i], got[i]); !ok {
			t.Fatalf("row %d: field %s changed in the round trip: wrote %+v, read %+v", i, f, rows[i], got[i])
		}
	}
	// Writing what was read gives the same bytes: deterministic output.
	var again bytes.Buffer
	if err := WriteCSV(&again, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("second write differs from the first")
	}
}

// TestCSVCells checks the bytes of hand-made rows: what pandas will see.
func TestCSVCells(t *testing.T) {
	nan := math.NaN()
	r := Row{
		Kernel: "matmul", Variant: "tiled", Target: "trn2", Unit: UnitCore, DType: "bf16", Batch: 1, M: 512, N: 1024, K: 384,
		Spec:   "matmul:M=512,N=1024,K=384,batch=1,dtype=bf16,variant=tiled",
		TimeUs: 12.5, Cycles: 17500, ClockGHz: 1.4, FLOPs: 2 * 512 * 1024 * 384, TFLOPS: 0.0322122547, PctPeak: 3.5,
		HBMReadBytes: 1 << 20, HBMWriteBytes: 0, HBMGBps: 1e-7, PctHBM: 1e21,
		TensorActivePct: 50, VectorActivePct: nan, ScalarActivePct: nan, GpSimdActivePct: nan, DMAActivePct: 99.93,
		SMOccupancyPct: nan, TensorPipePct: nan, MUFUPct: nan, Bound: "dma",
		PricePerHourUSD: nan, CostPerCallUSD: nan, CostPerTFLOPUSD: nan,
	}
	want := map[string]string{
		"kernel": "matmul", "heads": "", "kv_heads": "", "seqlen": "", "causal": "", "batch": "1", "M": "512",
		"spec":    "matmul:M=512,N=1024,K=384,batch=1,dtype=bf16,variant=tiled",
		"time_us": "12.5", "cycles": "17500", "flops": "402653184", "tflops": "0.0322122547",
		"pct_peak": "3.5", "mfu_estimated_percent": "3.5", "hbm_read_bytes": "1048576", "hbm_write_bytes": "0",
		"hbm_gbps": "1e-07", "mbu_estimated_percent": "1e+21", "vector_active_time_percent": "",
		"dma_active_time_percent": "99.93", "price_per_hour_usd": "", "schema_version": "2", "unit": "core", "price_basis": "",
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Row{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"matmul:M=512,N=1024,K=384,batch=1,dtype=bf16,variant=tiled"`) {
		t.Errorf("spec with commas is not quoted:\n%s", buf.String())
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range recs[0] {
		if w, ok := want[name]; ok && recs[1][i] != w {
			t.Errorf("column %s: cell %q, want %q", name, recs[1][i], w)
		}
	}
}

func TestWriteCSVRejects(t *testing.T) {
	ok := Row{Kernel: "matmul", Target: "trn2", Unit: UnitCore, Spec: "matmul:M=1"}
	tests := []struct {
		name string
		edit func(*Row)
		want string
	}{
		{"infinite float", func(r *Row) { r.TFLOPS = math.Inf(1) }, "column tflops: +Inf is not a finite number"},
		{"negative shape", func(r *Row) { r.M = -1 }, "column M: -1 is negative"},
		{"negative count", func(r *Row) { r.Cycles = -5 }, "column cycles: -5 is negative"},
		{"empty target", func(r *Row) { r.Target = "" }, "column target: empty"},
		{"bad causal", func(r *Row) { r.Causal = "yes" }, `column causal: "yes" is not allowed`},
		{"newline in spec", func(r *Row) { r.Spec = "a\nb" }, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			var buf bytes.Buffer
			err := WriteCSV(&buf, []Row{ok, r})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "row 2") {
				t.Fatalf("err = %v, want row 2 and %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

// validCSV returns a header and one valid row, as cells.
func validCSV(t *testing.T) [][]string {
	t.Helper()
	var buf bytes.Buffer
	r := Row{Kernel: "matmul", Target: "trn2", Unit: UnitCore, Spec: "matmul:M=1", M: 1, TimeUs: 2, PctPeak: 3, TFLOPS: math.NaN()}
	if err := WriteCSV(&buf, []Row{r}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func encode(recs [][]string) string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(recs)
	return buf.String()
}

func TestReadCSVErrors(t *testing.T) {
	col := func(recs [][]string, name string) int {
		for i, h := range recs[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	// Column offsets in the data line: the byte after the comma before the
	// cell; the kernel column is first so its cell starts at byte 1.
	tests := []struct {
		name string
		edit func(recs [][]string) [][]string
		want string
	}{
		{"empty file", func([][]string) [][]string { return nil }, "in.csv:1: empty file; want a header with the schema version 2 columns: kernel, variant,"},
		{"unknown column", func(r [][]string) [][]string { r[0][1] = "varaint"; return r }, `in.csv:1:8: unknown column "varaint" (schema version 2 columns: kernel,`},
		{"missing column", func(r [][]string) [][]string {
			i := col(r, "tflops")
			r[0] = append(r[0][:i:i], r[0][i+1:]...)
			r[1] = append(r[1][:i:i], r[1][i+1:]...)
			return r
		}, "in.csv:1: missing columns tflops (schema version 2 columns:"},
		{"repeated column", func(r [][]string) [][]string { r[0][1] = "kernel"; return r }, `in.csv:1:8: column "kernel" appears twice`},
		{"not a number", func(r [][]string) [][]string { r[1][col(r, "time_us")] = "12 us"; return r }, `column time_us: "12 us" is not a finite number`},
		{"NaN spelled out", func(r [][]string) [][]string { r[1][col(r, "tflops")] = "NaN"; return r }, `column tflops: "NaN" is not a finite number`},
		{"thousands separator", func(r [][]string) [][]string { r[1][col(r, "cycles")] = "1,000"; return r }, `column cycles: "1,000" is not an integer ≥ 0`},
		{"zero shape", func(r [][]string) [][]string { r[1][col(r, "M")] = "0"; return r }, `column M: "0" is not a positive integer`},
		{"empty kernel", func(r [][]string) [][]string { r[1][0] = ""; return r }, "in.csv:2:1: column kernel: empty"},
		{"other version", func(r [][]string) [][]string { r[1][col(r, "schema_version")] = "1"; return r }, "column schema_version: schema_version 1: this trnsim reads version 2 only"},
		{"alias differs", func(r [][]string) [][]string { r[1][col(r, "mfu_estimated_percent")] = "4"; return r }, `column mfu_estimated_percent: "4" differs from pct_peak "3"`},
		{"short line", func(r [][]string) [][]string { r[1] = r[1][:3]; return r }, "in.csv:2:1: wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := encode(tt.edit(validCSV(t)))
			_, err := ReadCSV(strings.NewReader(in), "in.csv")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("err is %T, want *ParseError", err)
			}
		})
	}
	// The exact position of a bad cell: line 2, the column where the cell
	// starts.
	recs := validCSV(t)
	i := col(recs, "time_us")
	recs[1][i] = "x"
	line := encode(recs[1:])
	wantCol := strings.Index(line, ",x,") + 2
	_, err := ReadCSV(strings.NewReader(encode(recs)), "in.csv")
	if want := "in.csv:2:" + strconv.Itoa(wantCol) + ": column time_us:"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want prefix %q", err, want)
	}
}

func TestReadCSVHeaderOrderAndBOM(t *testing.T) {
	recs := validCSV(t)
	// Swap two columns in header and row: still readable.
	for _, rec := range recs {
		rec[0], rec[2] = rec[2], rec[0]
	}
	in := "\ufeff" + encode(recs)
	rows, err := ReadCSV(strings.NewReader(in), "in.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Kernel != "matmul" || rows[0].Target != "trn2" || rows[0].TimeUs != 2 || !math.IsNaN(rows[0].TFLOPS) {
		t.Errorf("rows = %+v", rows)
	}
	// A header alone is an empty result, not an error.
	rows, err = ReadCSV(strings.NewReader(encode(recs[:1])), "in.csv")
	if err != nil || len(rows) != 0 {
		t.Errorf("header only: rows %v, err %v", rows, err)
	}
}

// TestSchemaDocUpToDate keeps SCHEMA.md generated from Columns; run
// `go test ./results -run TestSchemaDoc -update` after changing the schema.
func TestSchemaDocUpToDate(t *testing.T) {
	var buf bytes.Buffer
	if err := writeSchemaDoc(&buf); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("SCHEMA.md", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, buf.Bytes()) {
		t.Error("SCHEMA.md is out of date: run go test ./results -run TestSchemaDoc -update")
	}
}

// docColumn is one row of SCHEMA.md's table.
type docColumn struct{ name, unit, kind string }

// readSchemaDoc parses the column table of SCHEMA.md, independently of
// the code that generated it.
func readSchemaDoc(t *testing.T) []docColumn {
	t.Helper()
	b, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?m)^\\| (\\d+) \\| `([^`]+)` \\| ([^|]*) \\| ([^|]*) \\|")
	var out []docColumn
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out = append(out, docColumn{m[2], strings.TrimSpace(m[3]), strings.TrimSpace(m[4])})
	}
	return out
}

// plainNumber is what pandas reads as a float with no clean-up and what
// we allow in numeric cells: no NaN/inf words, no separators, no units.
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?$`)

// TestCSVMatchesSchemaDoc writes rows and checks every cell against the
// documented schema: header names and order, numeric cells empty or plain
// numbers, integer kinds integral, restricted text within its values.
func TestCSVMatchesSchemaDoc(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := make([]Row, 100)
	for i := range rows {
		rows[i] = randomRow(rng)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	checkAgainstSchemaDoc(t, readSchemaDoc(t), buf.Bytes())
}

// checkAgainstSchemaDoc checks CSV data cell by cell against the table of
// SCHEMA.md.
func checkAgainstSchemaDoc(t *testing.T, doc []docColumn, data []byte) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(doc) == 0 || len(recs[0]) != len(doc) {
		t.Fatalf("header has %d columns, SCHEMA.md documents %d", len(recs[0]), len(doc))
	}
	for i, d := range doc {
		if recs[0][i] != d.name {
			t.Errorf("column %d is %q, SCHEMA.md says %q", i+1, recs[0][i], d.name)
		}
	}
	for _, rec := range recs[1:] {
		for i, cell := range rec {
			d := doc[i]
			switch {
			case d.kind == "number or empty":
				if cell != "" && !plainNumber.MatchString(cell) {
					t.Errorf("column %s: %q is not a plain number", d.name, cell)
				}
			case d.kind == "integer > 0 or empty":
				if n, err := strconv.Atoi(cell); cell != "" && (err != nil || n <= 0) {
					t.Errorf("column %s: %q is not a positive integer", d.name, cell)
				}
			case d.kind == "integer ≥ 0" || d.kind == "integer":
				if n, err := strconv.ParseInt(cell, 10, 64); err != nil || n < 0 {
					t.Errorf("column %s: %q is not an integer ≥ 0", d.name, cell)
				}
			case d.kind == "text, never empty":
				if cell == "" {
					t.Errorf("column %s: empty", d.name)
				}
			case strings.HasPrefix(d.kind, "one of "):
				allowed := strings.Split(strings.TrimPrefix(d.kind, "one of "), ", ")
				v := "`" + cell + "`"
				if cell == "" {
					v = "empty"
				}
				if !contains(allowed, v) {
					t.Errorf("column %s: %q is not one of %v", d.name, cell, allowed)
				}
			case d.kind == "text":
			default:
				t.Errorf("column %s: SCHEMA.md kind %q not understood by this test", d.name, d.kind)
			}
			if d.name == "schema_version" && cell != strconv.Itoa(SchemaVersion) {
				t.Errorf("schema_version %q", cell)
			}
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "half a fi")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	checkDir := func(want string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil || string(b) != want {
			t.Errorf("file holds %q (%v), want %q", b, err, want)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Errorf("directory holds %d entries, want only out.csv (no temporary files)", len(ents))
		}
	}
	checkDir("old")

	func() {
		defer func() { recover() }()
		WriteFileAtomic(path, func(w io.Writer) error { panic("interrupted") })
	}()
	checkDir("old")

	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	checkDir("new")
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode())
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x.csv"), func(io.Writer) error { return nil }); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func FuzzReadCSV(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Row{randomRow(rng), randomRow(rng)}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.String())
	f.Add(strings.Join(ColumnNames(), ",") + "\n")
	f.Add("kernel\n\"unterminated\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ReadCSV(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ParseError", err, err)
			}
			return
		}
		// Whatever reads must write and read back to the same rows.
		var out bytes.Buffer
		if err := WriteCSV(&out, rows); err != nil {
			t.Fatalf("rows read from the input do not write: %v", err)
		}
		again, err := ReadCSV(&out, "again.csv")
		if err != nil {
			t.Fatalf("re-reading what was written: %v", err)
		}
		if len(again) != len(rows) {
			t.Fatalf("%d rows, then %d", len(rows), len(again))
		}
		for i := range rows {
			if f, ok := sameRow(rows[i], again[i]); !ok {
				t.Fatalf("row %d field %s changed", i, f)
			}
		}
	})
}

// tracker records the temporary files WriteFileAtomicTracked reports.
type tracker struct{ added, removed []string }

func (t *tracker) Add(p string)    { t.added = append(t.added, p) }
func (t *tracker) Remove(p string) { t.removed = append(t.removed, p) }

// TestWriteFileAtomicSymlink: an output path that is a symbolic link is
// written through (the link stays a link, its target gets the data; it
// used to be replaced by a plain file), also a dangling link and a chain.
func TestWriteFileAtomicSymlink(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(sub, "real.csv")
	os.WriteFile(real, []byte("old"), 0o644)
	link := filepath.Join(dir, "link.csv")
	chain := filepath.Join(dir, "chain.csv")
	dangling := filepath.Join(dir, "dangling.csv")
	os.Symlink("sub/real.csv", link)
	os.Symlink("link.csv", chain)
	os.Symlink("sub/new.csv", dangling)
	for _, tt := range []struct{ path, target, data string }{
		{link, real, "via link"}, {chain, real, "via chain"}, {dangling, filepath.Join(sub, "new.csv"), "via dangling"},
	} {
		var tr tracker
		if err := WriteFileAtomicTracked(tt.path, &tr, func(w io.Writer) error { _, err := io.WriteString(w, tt.data); return err }); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(tt.path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link", tt.path)
		}
		if b, _ := os.ReadFile(tt.target); string(b) != tt.data {
			t.Errorf("%s holds %q, want %q", tt.target, b, tt.data)
		}
		if len(tr.added) != 1 || len(tr.removed) != 1 || tr.added[0] != tr.removed[0] || filepath.Dir(tr.added[0]) != sub {
			t.Errorf("tracker saw added %v removed %v, want one temporary file in %s", tr.added, tr.removed, sub)
		}
	}
	loop := filepath.Join(dir, "loop.csv")
	os.Symlink("loop.csv", loop)
	if err := WriteFileAtomic(loop, func(io.Writer) error { return nil }); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("symlink loop: %v", err)
	}
}
