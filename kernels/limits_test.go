package kernels

import (
	"errors"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
)

func TestSizeLimit(t *testing.T) {
	ks := Builtin()
	tooBig := []string{
		"matmul:M=999999999999",
		"matmul:M=1048576,N=1048576,K=65536",
		"attention:seqlen=131072,heads=128,batch=64",
		"softmax:rows=100000000000",
	}
	for _, s := range tooBig {
		_, err := ks.Parse(s)
		if err == nil || !strings.Contains(err.Error(), "too large to simulate") {
			t.Errorf("Parse(%q) = %v, want a too-large error", s, err)
		}
	}
	fine := []string{
		"matmul:M=16384,N=16384,K=16384",
		"attention:seqlen=16384,heads=32",
		"decode_attention:batch=64,seqlen=131072",
		"layer:model=llama3-70b,phase=prefill,tokens=8192",
		"layer:model=llama3-70b,phase=decode,batch=256,context=8192",
		// Timing streams the program: these are above the stored cap.
		"attention:seqlen=131072",
		"attention:seqlen=131072,heads=64",
		"matmul:M=65536,N=65536,K=65536",
		"layer:model=llama3-70b,phase=prefill,tokens=32768",
	}
	for _, s := range fine {
		if _, err := ks.Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

// The estimate is within a factor of two of the real instruction count, so
// the limit means what it says.
func TestEstimateInstrs(t *testing.T) {
	specs := []string{
		"matmul:M=1024,N=2048,K=1024",
		"attention:seqlen=2048,heads=2",
		"decode_attention:batch=4,seqlen=4096",
		"softmax:rows=1024,cols=4096",
		"rmsnorm:tokens=1024,hidden=4096",
		"silu_mul:tokens=512,hidden=14336",
		"rope:tokens=1024",
	}
	for _, s := range specs {
		p, err := Builtin().Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := BuildNeuron(isa.Trn2(), p)
		if err != nil {
			t.Fatal(err)
		}
		est, got := p.Kernel.Instrs(p), float64(len(prog.Instrs))
		if est < got/2 || est > got*2 {
			t.Errorf("%s: estimate %.0f, program has %.0f instructions", s, est, got)
		}
	}
}

// A program far above the stored cap is refused before it is built; timing
// it streams instead (bench.RunTiming).
func TestBuildNeuronRefusesOverStoredCap(t *testing.T) {
	p, err := Builtin().Parse("attention:seqlen=131072")
	if err != nil {
		t.Fatal(err)
	}
	_, err = BuildNeuron(isa.Trn2(), p)
	var ce *isa.StoredCapError
	if !errors.As(err, &ce) || ce.Cap != MaxStoredInstrs {
		t.Fatalf("BuildNeuron: got %v, want a *isa.StoredCapError with cap %d", err, MaxStoredInstrs)
	}
}
