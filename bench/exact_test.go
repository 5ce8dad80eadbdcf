package bench

import (
	"bytes"
	"context"
	"testing"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// TestExactSuites: every suite swept on the default targets gives the same
// rows, bit for bit, with kernel loops fast-forwarded and with every
// instruction timed (Exact). make regress checks the baseline suite
// against its committed figures; this checks the rest (layers of served
// models, long attention, the matmul ladder) on every NeuronCore
// generation and chip. Not under -short: the exact sweeps take minutes.
func TestExactSuites(t *testing.T) {
	if testing.Short() {
		t.Skip("sweeps every suite twice, the second time without fast-forward")
	}
	for _, name := range SuiteNames() {
		if name == "baseline" {
			continue // make regress
		}
		t.Run(name, func(t *testing.T) {
			s, err := SuiteByName(name)
			if err != nil {
				t.Fatal(err)
			}
			ws, _, err := s.Workloads(kernels.Builtin())
			if err != nil {
				t.Fatal(err)
			}
			var ts []Target
			for _, n := range DefaultTargets() {
				tg, err := TargetByName(n, "")
				if err != nil {
					t.Fatal(err)
				}
				ts = append(ts, tg)
			}
			sweepBothWays(t, ws, ts)
		})
	}
}

// TestExactWorkloads: the same as TestExactSuites on workloads whose loops
// fast-forward in other ways: served-model layers of every size and phase,
// every matmul variant and dtype, attention with and without a causal mask
// and grouped heads, ragged shapes whose last iterations differ, on every
// NeuronCore generation and a chip; and each of them timed alone beside
// its build (RunTiming, through neuron.Pipe, which reports steady states
// late).
func TestExactWorkloads(t *testing.T) {
	if testing.Short() {
		t.Skip("times each workload twice, the second time without fast-forward")
	}
	specs := []string{
		"layer:model=llama3-70b,phase=prefill,tokens=8192",
		"layer:model=llama3-8b,phase=prefill,tokens=3000",
		"layer:model=llama3.1-405b,phase=prefill,tokens=2048",
		"layer:model=llama3-70b,phase=decode,batch=64,context=8192",
		"layer:model=llama3-8b,phase=decode,batch=330,context=1000,dtype=fp8e4m3",
		"matmul:M=4096,N=16384,K=4096,variant=tiled",
		"matmul:M=2048,N=8192,K=2048,variant=hoist_load",
		"matmul:M=2048,N=8192,K=2048,variant=block_free",
		"matmul:M=1000,N=30000,K=1100,variant=best",
		"matmul:M=2048,N=16384,K=1024,dtype=fp32",
		"matmul:M=128,N=65536,K=4096,dtype=fp8e4m3",
		"attention:heads=16,kv_heads=16,seqlen=4096,causal=false",
		"attention:batch=3,heads=24,kv_heads=8,seqlen=3000,headdim=64,causal=true",
		"decode_attention:batch=330,heads=64,kv_heads=8,seqlen=1000,headdim=64",
		"rmsnorm:tokens=40000,hidden=3000",
		"silu_mul:tokens=9000,hidden=14336",
		"rope:tokens=20000,heads=40,headdim=64",
	}
	var ts []Target
	for _, n := range []string{"trn1", "trn2", "trn3", "trn2-chip"} {
		tg, err := TargetByName(n, "")
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tg)
	}
	var ws []kernels.Params
	for _, spec := range specs {
		p, err := kernels.Builtin().Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, p)
	}
	sweepBothWays(t, ws, ts)
	// A single run times a program on its own goroutine while it is
	// built (neuron.Pipe), which reports steady states late: the same rows.
	exactTargets := Exact(ts)
	for _, p := range ws {
		for k, tg := range ts {
			piped, err := RunTiming(p, tg)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := Run(p, exactTargets[k])
			if err != nil {
				t.Fatal(err)
			}
			if a, b := csvBytes(t, []results.Row{piped.Row}), csvBytes(t, []results.Row{want}); !bytes.Equal(a, b) {
				t.Errorf("%s on %s, timed beside its build, differs:\nfast  %s\nexact %s", p, tg.Name(), a, b)
			}
		}
	}
}

// sweepBothWays sweeps ws on ts with fast-forward and without (Exact) and
// requires the rows byte for byte equal.
func sweepBothWays(t *testing.T, ws []kernels.Params, ts []Target) {
	t.Helper()
	opts := Options{Unsupported: func(Item, error) {}}
	fast, err := SweepTargets(context.Background(), ws, ts, opts)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := SweepTargets(context.Background(), ws, Exact(ts), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(fast) != len(exact) {
		t.Fatalf("%d rows fast-forwarded, %d exact", len(fast), len(exact))
	}
	for i := range fast {
		a, b := csvBytes(t, fast[i:i+1]), csvBytes(t, exact[i:i+1])
		if !bytes.Equal(a, b) {
			t.Errorf("row %d (%s on %s) differs:\nfast  %s\nexact %s", i, exact[i].Spec, exact[i].Target, a, b)
		}
	}
	t.Logf("%d rows identical", len(fast))
}
