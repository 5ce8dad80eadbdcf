package serve

import (
	"encoding/csv"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// e2eRow is one row of results/measured/e2e*.csv (docs/systems.md D6).
type e2eRow struct {
	target, model, metric string
	batch, in, out, tp    int
	value                 float64
}

func readE2E(t *testing.T, path string) []e2eRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "target,chips,model,phase,batch,input_len,output_len,tp,metric,value,unit,source,notes" {
		t.Fatalf("%s: header %q", path, got)
	}
	var rows []e2eRow
	for _, r := range recs[1:] {
		atoi := func(s string) int { v, _ := strconv.Atoi(s); return v }
		v, err := strconv.ParseFloat(r[9], 64)
		if err != nil {
			t.Fatalf("%s: value %q", path, r[9])
		}
		rows = append(rows, e2eRow{target: r[0], model: r[2], metric: r[8], batch: atoi(r[4]), in: atoi(r[5]), out: atoi(r[6]), tp: atoi(r[7]), value: v})
	}
	return rows
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// calibOptions returns the options reproducing a measured row with no
// serving overhead, and whether the row is one the overhead is calibrated
// on: Trainium rows (trn1.32xlarge, int8 weights, D6) with a stated batch;
// NVIDIA rows on H100/H200 (FP8 weights and KV, D6) that state a batch
// (Azure static batch) or run at QPS 2, taken as batch 1 (D6: "the closest
// GPU analogue of Neuron's batch-1 latency tables").
func calibOptions(t *testing.T, r e2eRow) (Options, bool) {
	m, err := ModelByName("llama3-8b") // Llama-3.1-8B has the same shape (D5)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Model: m, Batch: r.batch, InputLen: r.in, OutputLen: r.out, TP: r.tp, WeightDType: "bf16", KVDType: "bf16", PrefillChunk: 8192, LNC: 1}
	sys := map[string]string{"trn1": "trn1.32xlarge", "h100": "p5.48xlarge", "h200": "p5en.48xlarge"}[r.target]
	if sys == "" {
		return o, false
	}
	if o.System, err = SystemByName(sys); err != nil {
		t.Fatal(err)
	}
	switch {
	case r.target == "trn1" && r.metric == "tpot_p50":
		o.WeightDType = "int8"
		return o, true
	case r.target != "trn1" && (r.metric == "tokens_per_second" && r.batch > 0 || r.metric == "tpot_mean_qps2"):
		o.WeightDType, o.KVDType = "fp8", "fp8"
		if o.Batch == 0 {
			o.Batch = 1
		}
		return o, true
	}
	return o, false
}

// TestDefaultOverheadFromCalibration recomputes the per-step serving
// overheads from the copied calibration files: the median over the
// calibration rows of (measured − modelled device time) per step. For TPOT
// rows that is TPOT − decode step; for static-batch throughput rows it is
// (measured e2e − modelled e2e) / output tokens. The constants must stay
// within 10 % of what the current kernel and collective models give.
func TestDefaultOverheadFromCalibration(t *testing.T) {
	est := NewEstimator()
	res := map[Vendor][]float64{}
	for _, path := range []string{"../results/measured/e2e_measured.csv", "../results/measured/e2e_gpu_measured.csv"} {
		for _, r := range readE2E(t, path) {
			o, ok := calibOptions(t, r)
			if !ok {
				continue
			}
			e, err := est.Run(o)
			if err != nil {
				t.Fatalf("%+v: %v", r, err)
			}
			var perStep float64
			if strings.HasPrefix(r.metric, "tpot") {
				perStep = r.value - e.TPOTms
			} else {
				measE2E := float64(o.Batch*o.OutputLen) / r.value * 1e3
				perStep = (measE2E - e.E2Ems) / float64(o.OutputLen)
			}
			res[o.System.Chip.Vendor] = append(res[o.System.Chip.Vendor], perStep*1e3)
		}
	}
	for _, c := range []struct {
		v    Vendor
		n    int
		have float64
	}{{Trainium, 6, DefaultOverheadTrainiumUs}, {NVIDIA, 8, DefaultOverheadNVIDIAUs}} {
		xs := res[c.v]
		if len(xs) != c.n {
			t.Errorf("%s: %d calibration rows, want %d", c.v, len(xs), c.n)
		}
		med := median(xs)
		t.Logf("%s: per-step residuals %.0f µs, median %.0f µs (constant %.0f)", c.v, xs, med, c.have)
		if math.Abs(c.have-med) > 0.1*math.Abs(med) {
			t.Errorf("%s default overhead %.0f µs: the calibration median is %.0f µs; update the constant", c.v, c.have, med)
		}
	}
}

func docFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
