package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// The acceptance test: on every GPU calibration file the GPU
// model predicts the measurements with an overall MAPE ≤ 10% and no
// (target, kernel, variant) group above 15%, memory-bound kernels included.
func TestValidateGPUCalibration(t *testing.T) {
	run, err := newRunner(nil, bench.AllTargets())
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"../../results/measured/gpu_measured.csv", "../../results/measured/gpu_membound_measured.csv"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ms, err := results.ReadMeasured(bufio.NewReader(f), path)
			if err != nil {
				t.Fatal(err)
			}
			v := results.Validate(ms, predictor(kernels.Builtin(), run))
			for _, r := range v.Rows {
				if r.Reason != "" {
					t.Errorf("line %d not modelled: %s", r.Line, r.Reason)
				}
			}
			if v.MAPE > 10 {
				t.Errorf("overall MAPE %.1f%%, want ≤ 10%%", v.MAPE)
			}
			for _, g := range v.Groups {
				if g.MAPE > 15 {
					t.Errorf("%s/%s/%s MAPE %.1f%%, want ≤ 15%%", g.Target, g.Kernel, g.Variant, g.MAPE)
				}
			}
		})
	}
}

func TestMeasuredWorkload(t *testing.T) {
	ks := kernels.Builtin()
	tests := []struct {
		m    results.Measured
		want string
	}{
		{results.Measured{Target: "h100", Kernel: "matmul", DType: "bf16", Batch: 4, M: 1, N: 2, K: 3}, "matmul:M=1,N=2,K=3,batch=4,dtype=bf16,variant=best"},
		{results.Measured{Target: "trn2", Kernel: "matmul", Variant: "tiled", DType: "fp32", M: 8, N: 8, K: 8}, "matmul:M=8,N=8,K=8,dtype=fp32,variant=tiled"},
		{results.Measured{Target: "h100", Kernel: "attention", Variant: "fa3", DType: "fp16", Batch: 2, Heads: 8, Seqlen: 512, Headdim: 64, Causal: "true"},
			"attention:batch=2,heads=8,seqlen=512,headdim=64,causal=true,dtype=fp16,variant=fa3"},
		{results.Measured{Target: "a100", Kernel: "decode_attention", Variant: "splitkv", DType: "fp16", Batch: 1, Heads: 16, KVHeads: 2, Seqlen: 4096, Headdim: 128},
			"decode_attention:batch=1,heads=16,kv_heads=2,seqlen=4096,headdim=128,dtype=fp16,variant=splitkv"},
		// Row-wise kernels: M rows (times batch), N the row length.
		{results.Measured{Target: "a100", Kernel: "rmsnorm", DType: "bf16", Batch: 1, M: 2048, N: 1024}, "rmsnorm:tokens=2048,hidden=1024,dtype=bf16"},
		{results.Measured{Target: "a100", Kernel: "layernorm", DType: "fp32", Batch: 2, M: 4096, N: 1024}, "layernorm:tokens=8192,hidden=1024,dtype=fp32"},
		{results.Measured{Target: "h100", Kernel: "softmax", DType: "bf16", M: 32768, N: 256}, "softmax:rows=32768,cols=256,dtype=bf16"},
		{results.Measured{Target: "h100", Kernel: "silu_mul", M: 16, N: 14336}, "silu_mul:tokens=16,hidden=14336"},
		{results.Measured{Target: "h100", Kernel: "gelu", M: 16, N: 4096}, "gelu:tokens=16,hidden=4096"},
		{results.Measured{Target: "h100", Kernel: "add", M: 16, N: 4096}, "add:tokens=16,hidden=4096"},
		{results.Measured{Target: "a100", Kernel: "rope", DType: "bf16", Batch: 1, Heads: 40, M: 2048, Seqlen: 2048, Headdim: 16}, "rope:tokens=2048,heads=40,headdim=16,dtype=bf16"},
		{results.Measured{Target: "a100", Kernel: "rope", Heads: 8, Seqlen: 512, Headdim: 64}, "rope:tokens=512,heads=8,headdim=64"},
		// A workload spec overrides the shape columns; the dtype and
		// variant columns fill what it leaves out.
		{results.Measured{Target: "h100", Kernel: "rmsnorm", DType: "fp32", M: 9, N: 9, Workload: "rmsnorm:tokens=64,hidden=4096"}, "rmsnorm:tokens=64,hidden=4096,dtype=fp32"},
		{results.Measured{Target: "h100", Kernel: "matmul", DType: "fp32", Workload: "matmul:M=64,N=64,K=64,dtype=bf16"}, "matmul:M=64,N=64,K=64,dtype=bf16,variant=best"},
		{results.Measured{Target: "h100", Kernel: "layer", Workload: "layer:model=llama3-8b,phase=decode"}, "layer:model=llama3-8b,phase=decode"},
	}
	for _, tc := range tests {
		want, err := ks.Parse(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := measuredWorkload(ks, tc.m)
		if err != nil || got.String() != want.String() {
			t.Errorf("measuredWorkload(%+v) = %v, %v; want %v", tc.m, got, err, want)
		}
	}
	for _, m := range []results.Measured{
		{Kernel: "conv2d"},
		{Kernel: "layer"}, // no FromMeasured facet: needs a workload spec
		{Kernel: "rmsnorm", Workload: "softmax:rows=8"},    // spec of another kernel
		{Kernel: "rmsnorm", Workload: "rmsnorm:tokens=-1"}, // bad spec
		{Kernel: "rmsnorm", DType: "int4", Workload: "rmsnorm:tokens=8"},
		{Kernel: "matmul", DType: "int4", M: 8, N: 8, K: 8},
	} {
		if _, err := measuredWorkload(ks, m); err == nil {
			t.Errorf("%+v: want an error", m)
		}
	}
}

// fp32 attention and decode attention (the dtype the NKI samples time on
// trn1) are predicted on NeuronCores; on a GPU the row is not modelled and
// its reason names the dtypes that are.
func TestValidateFP32Attention(t *testing.T) {
	run, err := newRunner(nil, []string{"trn1", "trn2", "h100"})
	if err != nil {
		t.Fatal(err)
	}
	predict := predictor(kernels.Builtin(), run)
	tests := []struct {
		m      results.Measured
		reason string // "" = modelled
	}{
		{results.Measured{Target: "trn1", Kernel: "attention", DType: "fp32", Batch: 1, Heads: 1, Seqlen: 512, Headdim: 128}, ""},
		{results.Measured{Target: "trn2", Kernel: "decode_attention", DType: "fp32", Batch: 1, Heads: 4, KVHeads: 1, Seqlen: 2048, Headdim: 128}, ""},
		{results.Measured{Target: "h100", Kernel: "attention", DType: "fp32", Batch: 1, Heads: 1, Seqlen: 512, Headdim: 128}, "bf16, fp16"},
		{results.Measured{Target: "h100", Kernel: "decode_attention", DType: "fp32", Batch: 1, Heads: 4, KVHeads: 1, Seqlen: 2048, Headdim: 128}, "bf16 or fp16"},
	}
	for _, tc := range tests {
		p := predict(tc.m)
		if tc.reason == "" && (p.Reason != "" || p.DeviceUs <= 0) {
			t.Errorf("%s %s fp32: %+v, want a prediction", tc.m.Target, tc.m.Kernel, p)
		}
		if tc.reason != "" && !strings.Contains(p.Reason, tc.reason) {
			t.Errorf("%s %s fp32: reason %q, want one naming %q", tc.m.Target, tc.m.Kernel, p.Reason, tc.reason)
		}
	}
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "m.csv")
	data := "target,kernel,variant,dtype,batch,heads,kv_heads,M,N,K,seqlen,headdim,causal,measured_us,host_overhead_us,confidence,source,extra\n" +
		"h100,matmul,,bf16,1,,,4096,4096,4096,,,,175.455,0,exact,xla,1\n" +
		"tpu9,matmul,,bf16,1,,,64,64,64,,,,5,0,exact,nowhere,2\n" +
		"h100,conv2d,,bf16,1,,,,,,,,,5,0,exact,nowhere,3\n"
	if err := os.WriteFile(in, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	sum := filepath.Join(dir, "summary.csv")
	stdout, stderr, code := runCLI("validate", in, "-o", out, "-summary", sum)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"h100", "not modelled (2 rows)", "tpu9", "conv2d", "overall MAPE"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("output lacks %q:\n%s", s, stdout)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != 4 {
		t.Fatalf("output CSV: %v, %d records", err, len(recs))
	}
	n := len(recs[0])
	if recs[0][n-4] != "predicted_us" || recs[0][n-3] != "error_pct" || recs[1][17] != "1" || recs[1][n-4] == "" || recs[2][n-2] == "" {
		t.Errorf("output CSV %v", recs)
	}
	sf, err := os.ReadFile(sum)
	if err != nil {
		t.Fatal(err)
	}
	srecs, err := csv.NewReader(bytes.NewReader(sf)).ReadAll()
	if err != nil || len(srecs) != 5 || srecs[0][5] != "mape_pct" || srecs[1][0] != "h100" || srecs[1][5] == "" || srecs[4][0] != "all" || srecs[4][3] != "1" || srecs[4][4] != "2" {
		t.Errorf("summary CSV %v, %v", srecs, err)
	}

	// Bad input: exit status 2, one line naming the file and line, nothing
	// written.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("target,kernel,measured_us\nh100,matmul,fast\n"), 0o644)
	out2 := filepath.Join(dir, "out2.csv")
	_, stderr, code = runCLI("validate", bad, "-o", out2)
	if code != 2 || !strings.Contains(stderr, "bad.csv:2") || !strings.Contains(stderr, "measured_us") {
		t.Errorf("malformed file: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("output written for a malformed input")
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{not json"), 0o644)
	for _, args := range [][]string{{"validate"}, {"validate", filepath.Join(dir, "none.csv")}, {"validate", in, "-hw", filepath.Join(dir, "none.json")},
		{"validate", in, "-hw", filepath.Join(dir, "bad.json")}, {"validate", in, "-o", out2, "-summary", out2},
		{"validate", bad, "-summary", out2}} {
		if _, _, code := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("output or summary written for bad input")
	}
}

func TestValidatePrintsTables(t *testing.T) {
	fake := func(p kernels.Params, target string) (float64, string, error) { return 100, "fake", nil }
	dir := t.TempDir()
	in := filepath.Join(dir, "m.csv")
	os.WriteFile(in, []byte("target,kernel,M,N,K,measured_us\nh100,matmul,64,64,64,80\n"), 0o644)
	var out bytes.Buffer
	if err := validateFile(in, "", "", fake, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "+25.0") || !strings.Contains(out.String(), "overall MAPE 25.0%") {
		t.Errorf("output:\n%s", out.String())
	}
}

// Any row the reader accepts maps to a workload or an error, never a
// panic, shape columns and workload specs alike.
func FuzzMeasuredWorkload(f *testing.F) {
	f.Add("target,kernel,dtype,M,N,heads,headdim,seqlen,measured_us\nh100,rope,bf16,2048,,40,16,2048,11\n")
	f.Add("target,kernel,measured_us,workload\nh100,rmsnorm,5,\"rmsnorm:tokens=8,hidden=64\"\n")
	f.Add("target,kernel,variant,measured_us,workload\nh100,matmul,fa3,5,\"matmul:M=8,,=\"\n")
	ks := kernels.Builtin()
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := results.ReadMeasured(strings.NewReader(s), "fuzz.csv")
		if err != nil {
			return
		}
		for _, m := range ms {
			p, err := measuredWorkload(ks, m)
			if err == nil && p.Kernel == nil {
				t.Fatalf("row %+v: no error and no workload", m)
			}
		}
	})
}
