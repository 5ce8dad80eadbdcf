package bench

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/trnsim/trnsim/kernels"
)

func mustParse(t *testing.T, spec string) kernels.Params {
	t.Helper()
	p, err := kernels.Builtin().Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustTarget(t *testing.T, name string) Target {
	t.Helper()
	tg, err := TargetByName(name, "")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestRowSaysWhichVariantRan(t *testing.T) {
	tests := []struct {
		spec, target, want string
	}{
		{"matmul:M=256,N=256,K=256", "trn2", "fully_optimized"},
		{"matmul:M=256,N=256,K=256,variant=tiled", "trn1", "tiled"},
		{"attention:seqlen=512,heads=1", "trn2", "optimized"},
		{"attention:seqlen=512,heads=1", "h100", "fa3"},
		{"attention:seqlen=512,heads=1", "a100", "fa2"},
		{"decode_attention:batch=2,seqlen=1024", "trn2", "nosplit"},
		{"decode_attention:batch=2,seqlen=1024,splits=2", "trn2", "splitkv"},
	}
	for _, tc := range tests {
		row, _, err := Run(mustParse(t, tc.spec), mustTarget(t, tc.target))
		if err != nil {
			t.Fatalf("%s on %s: %v", tc.spec, tc.target, err)
		}
		if row.Variant != tc.want {
			t.Errorf("%s on %s: variant %q, want %q", tc.spec, tc.target, row.Variant, tc.want)
		}
	}
}

func TestRowFigures(t *testing.T) {
	p := mustParse(t, "matmul:M=512,N=512,K=512,dtype=bf16")
	tg := mustTarget(t, "trn2")
	row, rep, err := Run(p, tg)
	if err != nil {
		t.Fatal(err)
	}
	// FLOPs by the GEMM convention 2·M·N·K; TFLOPS and % of peak follow
	// from the simulated time and trn2's bf16 peak 2·128·128·2.4 GHz.
	if want := 2.0 * 512 * 512 * 512; row.FLOPs != want {
		t.Errorf("flops %v, want %v", row.FLOPs, want)
	}
	if got, want := row.TimeUs, rep.TimeNs/1e3; got != want {
		t.Errorf("time_us %v, want %v", got, want)
	}
	tflops := row.FLOPs / (row.TimeUs * 1e-6) / 1e12
	if math.Abs(row.TFLOPS/tflops-1) > 1e-12 {
		t.Errorf("tflops %v, want %v", row.TFLOPS, tflops)
	}
	peak := 2 * 128 * 128 * 2.4e9
	if math.Abs(row.PctPeak/(tflops*1e12/peak*100)-1) > 1e-12 {
		t.Errorf("pct_peak %v, want %v", row.PctPeak, tflops*1e12/peak*100)
	}
	// trn2's price: a trn2.48xlarge capacity block over 16 chips of 8
	// cores, with its basis beside the cost.
	if want := 35.76 / 16 / 8; math.Abs(row.PricePerHourUSD-want) > 1e-12 || row.PriceBasis != "capacity-block" ||
		math.Abs(row.CostPerCallUSD-want/3600*row.TimeUs*1e-6) > 1e-18 {
		t.Errorf("cost %v / price %v (%s) on trn2, want %v per core-hour, capacity-block", row.CostPerCallUSD, row.PricePerHourUSD, row.PriceBasis, want)
	}
	if math.IsNaN(row.TensorActivePct) || !math.IsNaN(row.SMOccupancyPct) {
		t.Errorf("NeuronCore row: tensor active %v, sm occupancy %v", row.TensorActivePct, row.SMOccupancyPct)
	}
}

func TestCompositeIsTheSumOfItsParts(t *testing.T) {
	p := mustParse(t, "layer:model=llama3-8b,phase=decode,batch=4,context=1024")
	for _, name := range []string{"trn2", "h100"} {
		res, err := RunDetailed(p, mustTarget(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Parts) == 0 || res.Report != nil {
			t.Fatalf("%s: %d parts, report %v", name, len(res.Parts), res.Report)
		}
		var us, flops float64
		var bytes int64
		for _, pr := range res.Parts {
			n := float64(pr.Part.Count)
			us += n * pr.Result.Row.TimeUs
			flops += n * pr.Result.Row.FLOPs
			bytes += int64(pr.Part.Count) * pr.Result.Row.HBMReadBytes
		}
		r := res.Row
		if math.Abs(r.TimeUs/us-1) > 1e-12 || math.Abs(r.FLOPs/flops-1) > 1e-12 || r.HBMReadBytes != bytes {
			t.Errorf("%s: total time %v flops %v bytes %d, parts sum to %v, %v, %d", name, r.TimeUs, r.FLOPs, r.HBMReadBytes, us, flops, bytes)
		}
		if r.Bound == "" {
			t.Errorf("%s: composite row has no bound", name)
		}
	}
}

func TestUnknownTarget(t *testing.T) {
	if _, err := TargetByName("tpu", ""); err == nil {
		t.Fatal("TargetByName(tpu) succeeded")
	}
}

// A sweep skips (and reports) runs a target does not support — fp8 on an
// A100 — and still returns the rows of the others.
func TestSweepSkipsUnsupported(t *testing.T) {
	ws := []kernels.Params{
		mustParse(t, "matmul:M=256,N=256,K=256,dtype=fp8e4m3"),
		mustParse(t, "matmul:M=256,N=256,K=256,dtype=bf16"),
	}
	var skipped []string
	rows, err := Sweep(context.Background(), ws, []string{"trn2", "a100"}, Options{
		Unsupported: func(it Item, err error) {
			if !errors.Is(err, kernels.ErrUnsupported) {
				t.Errorf("callback with %v, not ErrUnsupported", err)
			}
			skipped = append(skipped, it.Target.Name()+" "+it.Workload.DType("dtype").String())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || len(skipped) != 1 || skipped[0] != "a100 fp8e4m3" {
		t.Fatalf("%d rows, skipped %v; want 3 rows and the a100 fp8 run skipped", len(rows), skipped)
	}
	for _, r := range rows {
		if r.Target == "a100" && r.DType == "fp8e4m3" {
			t.Errorf("row for the unsupported run: %+v", r)
		}
	}
}
