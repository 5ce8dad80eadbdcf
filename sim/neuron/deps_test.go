package neuron

import (
	"math"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

// TestGatherDeps checks that the dependencies gather raises as it adds
// each operand's entries (operands.all and operands.stat) are those
// tracker.deps computes over the finished entry lists, instruction by
// instruction of built-in workloads on every generation: stationary and
// accumulating matmuls, overlapping views, HBM tensors tracked from their
// first write.
func TestGatherDeps(t *testing.T) {
	specs := []string{
		"matmul:M=512,N=1024,K=384,batch=1,dtype=bf16,variant=tiled",
		"attention:seqlen=1024",
		"softmax:rows=1024,cols=4096",
		"rmsnorm:tokens=8",
		"layernorm",
		"rope",
		"decode_attention",
		"add",
	}
	for _, target := range []string{"trn1", "trn2"} {
		c := preset(t, target)
		for _, spec := range specs {
			t.Run(target+"/"+spec, func(t *testing.T) {
				p, err := kernels.Builtin().Parse(spec)
				if err != nil {
					t.Fatal(err)
				}
				prog, err := kernels.BuildNeuron(c.Arch(), p)
				if err != nil {
					t.Fatal(err)
				}
				r := newRunner(prog, c)
				for i := range prog.Instrs {
					in := &prog.Instrs[i]
					lane := int8(in.Engine)
					if in.Engine == isa.DMA {
						lane = laneDMA0 + int8(int(in.Queue)%c.DMAQueues)
					}
					if err := r.gather(in, lane); err != nil {
						t.Fatal(err)
					}
					o := &r.o
					all, stat := r.tr.deps(o, lane)
					got := o.all
					got.raise(o.extra.t, o.extra.lane)
					if got != all || o.stat != stat {
						t.Fatalf("instruction %d (%s): gather's deps %v, %v; tracker.deps %v, %v", i, in.Op, got, o.stat, all, stat)
					}
					if err := r.step(i); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

// deps returns the data dependencies of an instruction on lane with
// operands o, computed over its finished entry lists: all of them, and
// those of the matmul stationary (the first o.nStat reads) alone. It is
// the reference TestGatherDeps checks addOperand against (addOperand
// raises the same dependencies as it adds each entry). A read waits for the writers of its regions and of
// the regions overlapping them (readDepOne), a write for their writers and
// readers (writeDepOne).
func (t *tracker) deps(o *operands, lane int8) (all, stat dep) {
	all = dep{t: math.Inf(-1), lane: -1}
	stat = all
	ents := t.entries
	for k := 0; k < o.nrd; k++ {
		d := &all
		if k < o.nStat {
			d = &stat
		}
		i := o.rd[k]
		e := &ents[i]
		readDepOne(e, lane, d)
		if e.overlapped {
			for _, j := range t.adj[i] {
				readDepOne(&ents[j], lane, d)
			}
		}
	}
	for k := 0; k < o.nwr; k++ {
		i := o.wr[k]
		e := &ents[i]
		writeDepOne(e, lane, &all)
		if e.overlapped {
			for _, j := range t.adj[i] {
				writeDepOne(&ents[j], lane, &all)
			}
		}
	}
	all.raise(o.extra.t, o.extra.lane)
	return all, stat
}
