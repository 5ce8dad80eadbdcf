package kernels

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/trnsim/trnsim/isa"
)

// ParamKind is the type of a kernel parameter's value.
type ParamKind uint8

const (
	IntParam   ParamKind = iota // a positive integer
	DTypeParam                  // an isa dtype name
	BoolParam                   // true/false (also 1/0)
	EnumParam                   // one of Param.Allowed
	CountParam                  // a non-negative integer; 0 means "choose automatically" or "same as another parameter"
)

// Param declares one kernel parameter.
type Param struct {
	Name    string
	Kind    ParamKind
	Default string
	Allowed []string // EnumParam values; DTypeParam: the dtypes the kernel accepts
	Max     int      // IntParam: largest value accepted (0 = no limit)
	Doc     string
}

// Params are the validated parameter values of one workload, in the order
// the kernel declares them.
type Params struct {
	Kernel *Kernel
	vals   []string
}

func (p Params) index(name string) int {
	for i, d := range p.Kernel.Params {
		if d.Name == name {
			return i
		}
	}
	panic(fmt.Sprintf("kernels: %s has no parameter %q", p.Kernel.Name, name))
}

// Has reports whether the workload's kernel declares parameter name.
func (p Params) Has(name string) bool {
	for _, d := range p.Kernel.Params {
		if d.Name == name {
			return true
		}
	}
	return false
}

// Str returns the value of a parameter as written.
func (p Params) Str(name string) string { return p.vals[p.index(name)] }

// Int returns an integer parameter.
func (p Params) Int(name string) int {
	v, _ := strconv.Atoi(p.Str(name))
	return v
}

// Bool returns a boolean parameter.
func (p Params) Bool(name string) bool {
	v, _ := strconv.ParseBool(p.Str(name))
	return v
}

// DType returns a dtype parameter.
func (p Params) DType(name string) isa.DType {
	d, _ := isa.ParseDType(p.Str(name))
	return d
}

// With returns a copy of p with parameter name set to value (validated).
func (p Params) With(name, value string) (Params, error) {
	q := Params{Kernel: p.Kernel, vals: append([]string(nil), p.vals...)}
	i := p.index(name)
	v, err := checkValue(p.Kernel, p.Kernel.Params[i], value)
	if err != nil {
		return Params{}, err
	}
	q.vals[i] = v
	return q, nil
}

// Values returns (name, value) pairs in declaration order.
func (p Params) Values() [][2]string {
	out := make([][2]string, len(p.vals))
	for i, d := range p.Kernel.Params {
		out[i] = [2]string{d.Name, p.vals[i]}
	}
	return out
}

// String returns the canonical workload spec with every parameter.
func (p Params) String() string {
	var sb strings.Builder
	sb.WriteString(p.Kernel.Name)
	for i, d := range p.Kernel.Params {
		if i == 0 {
			sb.WriteByte(':')
		} else {
			sb.WriteByte(',')
		}
		sb.WriteString(d.Name + "=" + p.vals[i])
	}
	return sb.String()
}

// SpecError reports a malformed workload spec.
type SpecError struct {
	Spec string
	Msg  string
}

func (e *SpecError) Error() string { return fmt.Sprintf("workload %q: %s", e.Spec, e.Msg) }

// Parse reads a workload spec "kernel:param=value,..." against the
// registry ks (see All).
func Parse(ks []*Kernel, spec string) (Params, error) {
	name, rest, _ := strings.Cut(spec, ":")
	k, err := Lookup(ks, strings.TrimSpace(name))
	if err != nil {
		return Params{}, &SpecError{spec, err.Error()}
	}
	p := Params{Kernel: k, vals: make([]string, len(k.Params))}
	for i, d := range k.Params {
		p.vals[i] = d.Default
	}
	seen := map[string]bool{}
	if rest != "" {
		for _, kv := range strings.Split(rest, ",") {
			key, val, ok := strings.Cut(kv, "=")
			key, val = strings.TrimSpace(key), strings.TrimSpace(val)
			if !ok || key == "" {
				return Params{}, &SpecError{spec, fmt.Sprintf("%q is not param=value (parameters of %s: %s)", kv, k.Name, k.paramNames())}
			}
			i := -1
			for j, d := range k.Params {
				if d.Name == key {
					i = j
				}
			}
			if i < 0 {
				return Params{}, &SpecError{spec, fmt.Sprintf("kernel %s has no parameter %q (allowed: %s)", k.Name, key, k.paramNames())}
			}
			if seen[key] {
				return Params{}, &SpecError{spec, fmt.Sprintf("parameter %q given twice", key)}
			}
			seen[key] = true
			v, err := checkValue(k, k.Params[i], val)
			if err != nil {
				return Params{}, &SpecError{spec, err.Error()}
			}
			p.vals[i] = v
		}
	}
	if k.Check != nil {
		if err := k.Check(p); err != nil {
			return Params{}, &SpecError{spec, err.Error()}
		}
	}
	if err := checkSize(p); err != nil {
		return Params{}, &SpecError{spec, err.Error()}
	}
	return p, nil
}

// checkValue validates and canonicalises one value.
func checkValue(k *Kernel, d Param, val string) (string, error) {
	switch d.Kind {
	case IntParam:
		n, err := strconv.Atoi(val)
		if err != nil || n <= 0 {
			return "", fmt.Errorf("parameter %s=%q: want a positive integer", d.Name, val)
		}
		if d.Max > 0 && n > d.Max {
			return "", fmt.Errorf("parameter %s=%d: at most %d", d.Name, n, d.Max)
		}
		return strconv.Itoa(n), nil
	case CountParam:
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return "", fmt.Errorf("parameter %s=%q: want a non-negative integer (0 = automatic)", d.Name, val)
		}
		if d.Max > 0 && n > d.Max {
			return "", fmt.Errorf("parameter %s=%d: at most %d", d.Name, n, d.Max)
		}
		return strconv.Itoa(n), nil
	case BoolParam:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return "", fmt.Errorf("parameter %s=%q: want true or false", d.Name, val)
		}
		return strconv.FormatBool(b), nil
	case DTypeParam:
		// Compare canonical names, so an alias in the input ("fp8") or in
		// Allowed matches, and the canonical value parses back.
		dt, err := isa.ParseDType(val)
		ok := false
		for _, a := range d.Allowed {
			if ad, aerr := isa.ParseDType(a); aerr == nil && err == nil && ad == dt {
				ok = true
			}
		}
		if !ok {
			return "", fmt.Errorf("parameter %s=%q: not a dtype %s accepts (allowed: %s)", d.Name, val, k.Name, strings.Join(d.Allowed, ", "))
		}
		return dt.String(), nil
	case EnumParam:
		if !contains(d.Allowed, val) {
			return "", fmt.Errorf("parameter %s=%q: allowed: %s", d.Name, val, strings.Join(d.Allowed, ", "))
		}
		return val, nil
	}
	return "", fmt.Errorf("parameter %s: unknown kind", d.Name)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
