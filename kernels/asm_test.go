package kernels_test

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

// smallSpecs returns workload specs for k at small shapes: every integer
// parameter above 256 scaled down to 256 ("small"), to 200 ("ragged": not a
// multiple of a 128 tile) and to 130 ("tile+2"); with the small shape,
// every allowed dtype, every enum value and the other value of every
// boolean. Specs the kernel's Check rejects are reported and dropped.
func smallSpecs(t *testing.T, ks *kernels.Registry, k *kernels.Kernel) []kernels.Params {
	t.Helper()
	specOf := func(v map[string]string) string {
		var kv []string
		for _, d := range k.Params { // declaration order: deterministic specs
			if val, ok := v[d.Name]; ok {
				kv = append(kv, d.Name+"="+val)
			}
		}
		return k.Name + ":" + strings.Join(kv, ",")
	}
	shape := func(to int) map[string]string {
		m := map[string]string{}
		for _, d := range k.Params {
			if d.Kind != kernels.IntParam {
				continue
			}
			if n, err := strconv.Atoi(d.Default); err == nil && n > 256 {
				m[d.Name] = strconv.Itoa(to)
			}
		}
		// Shrink counts such as batch and heads to 8 where the kernel
		// accepts it, one at a time: small programs, same code paths.
		for _, d := range k.Params {
			if n, err := strconv.Atoi(d.Default); d.Kind != kernels.IntParam || err != nil || n <= 8 || n > 256 {
				continue
			}
			m[d.Name] = "8"
			if _, err := ks.Parse(specOf(m)); err != nil {
				delete(m, d.Name)
			}
		}
		return m
	}
	variants := []map[string]string{shape(256), shape(200), shape(130)}
	for _, d := range k.Params {
		switch d.Kind {
		case kernels.DTypeParam, kernels.EnumParam:
			for _, a := range d.Allowed {
				if a != d.Default {
					v := shape(256)
					v[d.Name] = a
					variants = append(variants, v)
				}
			}
		case kernels.BoolParam:
			v := shape(256)
			if b, _ := strconv.ParseBool(d.Default); b {
				v[d.Name] = "false"
			} else {
				v[d.Name] = "true"
			}
			variants = append(variants, v)
		}
	}
	var out []kernels.Params
	seen := map[string]bool{}
	for _, v := range variants {
		spec := specOf(v)
		p, err := ks.Parse(spec)
		if err != nil {
			t.Logf("skipping %s: %v", spec, err)
			continue
		}
		if !seen[p.String()] {
			seen[p.String()] = true
			out = append(out, p)
		}
	}
	return out
}

// forEachProgram builds every kernel with a NeuronCore builder at
// smallSpecs on every generation. A build that is ErrUnsupported (a GPU
// variant such as fa3 asked of a NeuronCore) skips the case, naming why;
// any other build error fails it.
func forEachProgram(t *testing.T, f func(t *testing.T, arch isa.Arch, prog *isa.Program)) {
	ks := kernels.Builtin()
	for _, k := range ks.Kernels() {
		if k.Neuron == nil {
			continue // composite workloads build their parts
		}
		t.Run(k.Name, func(t *testing.T) {
			specs := smallSpecs(t, ks, k)
			if len(specs) == 0 {
				t.Fatalf("no small spec of %s passes its Check", k.Name)
			}
			for _, p := range specs {
				for _, arch := range isa.Archs() {
					t.Run(arch.Name+"/"+p.String(), func(t *testing.T) {
						prog, err := kernels.BuildNeuron(arch, p)
						var ve *isa.ValidationError
						if errors.As(err, &ve) {
							t.Fatalf("%s on %s emits an invalid instruction: %v", p, arch.Name, err)
						}
						if errors.Is(err, kernels.ErrUnsupported) {
							t.Skipf("%s does not run on a NeuronCore: %v", p, err)
						}
						if err != nil {
							t.Fatalf("%s does not build on %s: %v", p, arch.Name, err)
						}
						f(t, arch, prog)
					})
				}
			}
		})
	}
}

// TestKernelsValidate: every built-in kernel's program satisfies the
// layout and access rules of every generation it builds for.
func TestKernelsValidate(t *testing.T) {
	forEachProgram(t, func(t *testing.T, arch isa.Arch, prog *isa.Program) {
		if len(prog.Instrs) == 0 {
			t.Errorf("empty program")
		}
		if err := prog.Validate(arch); err != nil {
			t.Error(err)
		}
	})
}

// TestKernelsAsmRoundTrip: `trnsim asm` output parses back to the same
// Program for every built-in kernel (program counters aside: text keeps
// function, file and line).
func TestKernelsAsmRoundTrip(t *testing.T) {
	forEachProgram(t, func(t *testing.T, arch isa.Arch, prog *isa.Program) {
		prog.Resolve()
		for i := range prog.Sites {
			prog.Sites[i].PC = 0
		}
		var buf bytes.Buffer
		if err := isa.Print(&buf, prog); err != nil {
			t.Fatal(err)
		}
		got, err := isa.Parse(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("Parse of printed program: %v", err)
		}
		if !programsEqual(got, prog) {
			for i := range min(len(got.Instrs), len(prog.Instrs)) {
				if got.Instrs[i] != prog.Instrs[i] {
					t.Fatalf("instr %d differs:\nprinted %s\nwant %+v\ngot  %+v", i, strings.Split(buf.String(), "\n")[len(prog.Tensors)+len(prog.Sites)+1+i], prog.Instrs[i], got.Instrs[i])
				}
			}
			t.Fatalf("parsed program differs from the original (header, tensors, sites or length)")
		}
		if err := got.Validate(arch); err != nil {
			t.Errorf("parsed program: %v", err)
		}
	})
}

// programsEqual is reflect.DeepEqual for programs, comparing instructions
// with == (Instr is comparable), which is much faster under -race.
func programsEqual(a, b *isa.Program) bool {
	return a.Name == b.Name && reflect.DeepEqual(a.Tensors, b.Tensors) &&
		(a.Sites == nil) == (b.Sites == nil) && slices.Equal(a.Sites, b.Sites) &&
		(a.Instrs == nil) == (b.Instrs == nil) && slices.Equal(a.Instrs, b.Instrs)
}
