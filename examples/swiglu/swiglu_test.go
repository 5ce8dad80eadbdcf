package swiglu

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/kernels/kernelstest"
	nc "github.com/trnsim/trnsim/sim/neuron" // the package's neuron is its program
)

// TestMain runs what `go run ./examples/swiglu/cmd/swiglu` runs.
func TestMainOutput(t *testing.T) {
	var buf bytes.Buffer
	dir := t.TempDir()
	opts := Options{Trace: filepath.Join(dir, "t.json"), Profile: filepath.Join(dir, "p.pb.gz")}
	if err := Main(&buf, opts); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{opts.Trace, opts.Profile} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, want := range []string{"check swiglu_mlp", ": pass", "trn2  swiglu_mlp", "h100  swiglu_mlp", "TFLOP/s"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestConformance runs the suite every kernel passes over a registry
// holding this kernel (kernels' own test runs it over the built-ins).
func TestConformance(t *testing.T) {
	reg := kernels.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	kernelstest.Run(t, reg)
}

// The check can fail: a reference off by 2% or with Wd read transposed
// is caught.
func TestCheckCatchesWrongResults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wrong func(p kernels.Params, in map[string][]float32, out []float64)
	}{
		{"2% high", func(_ kernels.Params, _ map[string][]float32, out []float64) {
			for i := range out {
				out[i] *= 1.02
			}
		}},
		{"last token dropped", func(p kernels.Params, _ map[string][]float32, out []float64) {
			H := p.Int("hidden")
			clear(out[len(out)-H:])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := Kernel()
			k.Reference = func(p kernels.Params, in map[string][]float32) map[string][]float64 {
				want := reference(p, in)
				tc.wrong(p, in, want["OUT"])
				return want
			}
			reg := kernels.NewRegistry()
			if err := reg.Register(k); err != nil {
				t.Fatal(err)
			}
			p, err := reg.Parse("swiglu_mlp:tokens=200,hidden=300,intermediate=260")
			if err != nil {
				t.Fatal(err)
			}
			res, err := kernels.Check(isa.Trn2(), p, 1)
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Pass {
				t.Errorf("a wrong reference passes (max_abs_err %.3g, tolerance %.3g)", res[0].MaxAbsErr, res[0].Tol.Abs)
			}
		})
	}
}

// The size estimate is within a factor of two of the program.
func TestInstrs(t *testing.T) {
	reg := kernels.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"swiglu_mlp", "swiglu_mlp:tokens=200,hidden=300,intermediate=260", "swiglu_mlp:tokens=1,hidden=1,intermediate=1"} {
		p, err := reg.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := kernels.BuildNeuron(isa.Trn2(), p)
		if err != nil {
			t.Fatal(err)
		}
		est, got := p.Kernel.Instrs(p), float64(len(prog.Instrs))
		if est < got/2 || est > 2*got {
			t.Errorf("%s: estimate %.0f, program has %.0f instructions", spec, est, got)
		}
	}
}

// TestFastForward: the token-tile Loop fast-forwards on a long call, and
// the report is the one timing every instruction gives, bit for bit.
func TestFastForward(t *testing.T) {
	reg := kernels.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	p, err := reg.Parse("swiglu_mlp:tokens=8192,hidden=1024,intermediate=2816")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := nc.Preset("trn2")
	if err != nil {
		t.Fatal(err)
	}
	full, _, _ := kernelstest.Stream(t, cfg, p, false)
	fast, skipped, _ := kernelstest.Stream(t, cfg, p, true)
	if !reflect.DeepEqual(full, fast) {
		t.Errorf("fast-forwarded report differs:\n%+v\nfull %+v", fast, full)
	}
	if skipped == 0 {
		t.Error("nothing fast-forwarded")
	}
}
