package results

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestReadMeasuredCalibrationFiles(t *testing.T) {
	for _, tc := range []struct {
		file  string
		rows  int
		first Measured
	}{
		{"measured/gpu_measured.csv", 73, Measured{Line: 2, Target: "a100", Kernel: "matmul", DType: "fp16", Batch: 1, M: 64, N: 12288, K: 12288, MeasuredUs: 190, HostOverheadUs: 21, Confidence: "exact"}},
		{"measured/trainium_measured.csv", 6, Measured{Line: 2, Target: "trn2", Kernel: "matmul", Variant: "tiled", DType: "fp32", Batch: 1, M: 4096, N: 8192, K: 8192, MeasuredUs: 39890, Confidence: "chart"}},
	} {
		f, err := os.Open(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := ReadMeasured(f, tc.file)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != tc.rows {
			t.Fatalf("%s: %d rows, want %d", tc.file, len(ms), tc.rows)
		}
		got := ms[0]
		got.Header, got.Cells, got.Source = nil, nil, ""
		if !reflect.DeepEqual(got, tc.first) {
			t.Errorf("%s first row\n got %+v\nwant %+v", tc.file, got, tc.first)
		}
	}
}

func TestReadMeasuredColumns(t *testing.T) {
	// Any column order; extra columns kept in Cells; causal normalised.
	in := "kernel,extra,measured_us,target,causal,kv_heads\nattention,x,12.5,h100,1,\n"
	ms, err := ReadMeasured(strings.NewReader(in), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	m := ms[0]
	if m.Kernel != "attention" || m.Target != "h100" || m.MeasuredUs != 12.5 || m.Causal != "true" || m.KVHeads != 0 || m.Line != 2 {
		t.Errorf("row %+v", m)
	}
	if len(m.Cells) != 6 || m.Cells[1] != "x" || len(m.Header) != 6 {
		t.Errorf("cells %v header %v", m.Cells, m.Header)
	}
	if g := m.Group(); g != "h100/attention/" {
		t.Errorf("group %q", g)
	}
}

func TestReadMeasuredErrors(t *testing.T) {
	const head = "target,kernel,measured_us,batch,causal,host_overhead_us\n"
	tests := []struct {
		name, in string
		line     int
		field    string
	}{
		{"empty file", "", 1, ""},
		{"missing required column", "target,kernel\nh100,matmul\n", 1, "measured_us"},
		{"duplicate column", "target,target,kernel,measured_us\n", 1, "target"},
		{"bad integer", head + "h100,matmul,1,1,,\nh100,matmul,1,two,,\n", 3, "batch"},
		{"negative integer", head + "h100,matmul,1,-1,,\n", 2, "batch"},
		{"empty time", head + "h100,matmul,,1,,\n", 2, "measured_us"},
		{"zero time", head + "h100,matmul,0,1,,\n", 2, "measured_us"},
		{"NaN time", head + "h100,matmul,NaN,1,,\n", 2, "measured_us"},
		{"bad overhead", head + "h100,matmul,5,1,,-3\n", 2, "host_overhead_us"},
		{"bad causal", head + "h100,attention,5,1,maybe,\n", 2, "causal"},
		{"empty target", head + ",matmul,5,1,,\n", 2, "target"},
		{"wrong field count", head + "h100,matmul,5\n", 2, ""},
		{"bare quote", head + "h100,mat\"mul,5,1,,\n", 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMeasured(strings.NewReader(tc.in), "m.csv")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.File != "m.csv" || pe.Line != tc.line || pe.Field != tc.field {
				t.Errorf("error %q: file %s line %d field %q, want line %d field %q", err, pe.File, pe.Line, pe.Field, tc.line, tc.field)
			}
			if !strings.HasPrefix(err.Error(), "m.csv:") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

func FuzzReadMeasured(f *testing.F) {
	data, err := os.ReadFile("measured/gpu_measured.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data[:2000]))
	f.Add("target,kernel,measured_us\nh100,matmul,1e3\n")
	f.Add("target,kernel,measured_us,causal\nh100,attention,\"5\",true\n")
	f.Add("target,kernel,measured_us,confidence,workload\nh100,rmsnorm,5,upper-bound,\"rmsnorm:tokens=8,hidden=64\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ReadMeasured(strings.NewReader(s), "fuzz.csv")
		if err != nil {
			return
		}
		for _, m := range ms {
			if !(m.MeasuredUs > 0) || m.Target == "" || m.Kernel == "" || m.Line < 2 {
				t.Fatalf("accepted row %+v", m)
			}
			_ = m.Shape()
		}
	})
}

func TestMeasuredShape(t *testing.T) {
	tests := []struct {
		m    Measured
		want string
	}{
		{Measured{Kernel: "matmul", M: 64, N: 12288, K: 12288, Batch: 1, DType: "fp16"}, "M=64 N=12288 K=12288 batch=1 fp16"},
		{Measured{Kernel: "attention", Batch: 2, Heads: 8, Seqlen: 512, Headdim: 64, Causal: "true", DType: "bf16"}, "batch=2 heads=8 seqlen=512 headdim=64 causal bf16"},
		{Measured{Kernel: "decode_attention", Batch: 1, Heads: 16, KVHeads: 2, Seqlen: 4096, Headdim: 128, Causal: "false"}, "batch=1 heads=16 kv_heads=2 seqlen=4096 headdim=128"},
		{Measured{Kernel: "rmsnorm"}, ""},
		{Measured{Kernel: "rmsnorm", M: 5, Workload: "rmsnorm:tokens=8"}, "rmsnorm:tokens=8"},
	}
	for _, tc := range tests {
		if got := tc.m.Shape(); got != tc.want {
			t.Errorf("%s Shape() = %q, want %q", tc.m.Kernel, got, tc.want)
		}
	}
}
