package kernels

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Registry is a set of kernels by name, in registration order: the
// built-in kernels (Builtin) plus any a user registers. It is a value its
// owner passes around, never a package variable.
type Registry struct {
	ks []*Kernel
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Builtin returns a new registry holding the built-in kernels, in the order
// `trnsim list` shows them.
func Builtin() *Registry {
	r := NewRegistry()
	mm, att, dec := matmulKernel(), attentionKernel(), decodeAttentionKernel()
	rms, add, silu, rope := rmsnormKernel(), addKernel(), siluMulKernel(), ropeKernel()
	layer := layerKernel(layerKernels{matmul: mm, attention: att, decode: dec, rmsnorm: rms, add: add, siluMul: silu, rope: rope})
	for _, k := range []*Kernel{mm, att, dec, rms, layernormKernel(), softmaxKernel(), silu, geluKernel(), add, rope, layer} {
		if err := r.Register(k); err != nil {
			// The built-ins are fixed code; the conformance test
			// registers them, so this is unreachable from user input.
			panic("kernels: built-in " + err.Error())
		}
	}
	return r
}

// Kernels returns the registered kernels in registration order.
func (r *Registry) Kernels() []*Kernel { return slices.Clone(r.ks) }

// Lookup finds a kernel by name.
func (r *Registry) Lookup(name string) (*Kernel, error) {
	var names []string
	for _, k := range r.ks {
		if k.Name == name {
			return k, nil
		}
		names = append(names, k.Name)
	}
	return nil, fmt.Errorf("unknown kernel %q (allowed: %s)", clip(name), strings.Join(names, ", "))
}

// FacetError says a kernel was refused by Register: it lacks a required
// facet, or a facet is malformed.
type FacetError struct {
	Kernel string // the kernel's name
	Facet  string // "Name", "Params", "FLOPs", "Neuron", "Instrs", ...
	Msg    string
}

func (e *FacetError) Error() string {
	return fmt.Sprintf("kernel %q: facet %s: %s", e.Kernel, e.Facet, e.Msg)
}

var kernelName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Register adds k to r. It refuses, with a *FacetError naming the facet, a
// kernel that lacks a required facet or declares a malformed one:
//
//   - every kernel needs a Name (lower case, [a-z][a-z0-9_]*, not yet
//     registered), a Doc, Params whose names are unique and whose
//     defaults and Tune values are legal, and FLOPs;
//   - a composite kernel (Parts set) needs nothing else and may have no
//     Neuron, GPU, Instrs, Reference or Tolerance of its own;
//   - any other kernel needs Neuron, Instrs, Reference and Tolerance: every
//     kernel runs on a NeuronCore, is checked numerically and is
//     size-limited.
//
// Optional: Check, NeuronVariant, Inputs, FromMeasured, and GPU (without
// it, GPU targets report ErrUnsupported for the kernel).
//
// Register also evaluates Check, FLOPs, Instrs (or Parts) on the defaults
// with tracked Params, refusing a kernel whose code asks for a parameter it
// does not declare.
func (r *Registry) Register(k *Kernel) error {
	if k == nil {
		return &FacetError{Facet: "Name", Msg: "nil kernel"}
	}
	bad := func(facet, format string, args ...any) error {
		return &FacetError{Kernel: k.Name, Facet: facet, Msg: fmt.Sprintf(format, args...)}
	}
	if !kernelName.MatchString(k.Name) {
		return bad("Name", "want a lower-case name of letters, digits and _ starting with a letter")
	}
	if _, err := r.Lookup(k.Name); err == nil {
		return bad("Name", "already registered")
	}
	if k.Doc == "" {
		return bad("Doc", "missing")
	}
	seen := map[string]bool{}
	for _, d := range k.Params {
		if d.Name == "" || strings.ContainsAny(d.Name, ",=: \t") {
			return bad("Params", "parameter name %q: want a non-empty name without , = : or spaces", d.Name)
		}
		if seen[d.Name] {
			return bad("Params", "parameter %q declared twice", d.Name)
		}
		seen[d.Name] = true
		if _, err := parseValue(k, d, d.Default); err != nil {
			return bad("Params", "default: %v", err)
		}
		for _, v := range d.Tune {
			if _, err := parseValue(k, d, v); err != nil {
				return bad("Params", "tune value: %v", err)
			}
		}
		for _, v := range d.TuneVariants {
			i := slices.IndexFunc(k.Params, func(q Param) bool { return q.Name == "variant" })
			if i < 0 || !slices.Contains(k.Params[i].Allowed, v) {
				return bad("Params", "parameter %s: TuneVariants value %q is not a variant of %s", d.Name, v, k.Name)
			}
		}
	}
	if k.FLOPs == nil {
		return bad("FLOPs", "missing")
	}
	if k.Parts != nil {
		for _, f := range []struct {
			name string
			set  bool
		}{{"Neuron", k.Neuron != nil}, {"GPU", k.GPU != nil}, {"Instrs", k.Instrs != nil},
			{"Reference", k.Reference != nil}, {"Tolerance", k.Tolerance != nil}} {
			if f.set {
				return bad(f.name, "a composite kernel (Parts) has none of its own: its parts have it")
			}
		}
	} else {
		for _, f := range []struct {
			name string
			set  bool
		}{{"Neuron", k.Neuron != nil}, {"Instrs", k.Instrs != nil},
			{"Reference", k.Reference != nil}, {"Tolerance", k.Tolerance != nil}} {
			if !f.set {
				return bad(f.name, "missing (required of every non-composite kernel)")
			}
		}
	}
	if err := probe(k); err != nil {
		return err
	}
	r.ks = append(r.ks, k)
	return nil
}

// probe runs the cheap facets on the defaults with tracked Params.
func probe(k *Kernel) error {
	defs, err := k.defaultValues()
	if err != nil {
		return &FacetError{Kernel: k.Name, Facet: "Params", Msg: err.Error()}
	}
	p := Params{Kernel: k, vals: defs}.Tracked()
	step := func(facet string, run func() error) error {
		if err := run(); err != nil {
			return &FacetError{Kernel: k.Name, Facet: facet, Msg: err.Error()}
		}
		if u := p.Unknown(); len(u) > 0 {
			return &FacetError{Kernel: k.Name, Facet: facet, Msg: fmt.Sprintf("asks for undeclared parameter(s) %s (declared: %s)", strings.Join(u, ", "), k.paramNames())}
		}
		return nil
	}
	if k.Check != nil {
		if err := step("Check", func() error { return k.Check(p) }); err != nil {
			return err
		}
	}
	if err := step("FLOPs", func() error {
		if f := k.FLOPs(p); math.IsNaN(f) || f < 0 || math.IsInf(f, 0) {
			return fmt.Errorf("%v FLOPs on the defaults, want a finite non-negative number", f)
		}
		return nil
	}); err != nil {
		return err
	}
	if k.Parts != nil {
		return step("Parts", func() error { _, err := k.Parts(p); return err })
	}
	return step("Instrs", func() error {
		if n := k.Instrs(p); !(n >= 1) || math.IsInf(n, 0) {
			return fmt.Errorf("estimate %v on the defaults, want at least 1", n)
		}
		return nil
	})
}

// IsFacetError reports whether err is a *FacetError for facet.
func IsFacetError(err error, facet string) bool {
	var fe *FacetError
	return errors.As(err, &fe) && fe.Facet == facet
}
