package kernels

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

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

// Param declares one kernel parameter: its name, its domain (Kind plus
// Allowed and Max) and its default.
type Param struct {
	Name    string
	Kind    ParamKind
	Default string
	Allowed []string // EnumParam values; DTypeParam: the dtypes the kernel accepts
	Max     int      // IntParam, CountParam: largest value accepted (0 = no limit)
	Doc     string
	// Tune, when not empty, marks the parameter tunable: it lists the
	// values a search over the kernel's choices tries (each one a legal
	// value of the parameter; Register checks them). A tunable parameter
	// changes how the kernel runs, never what it computes.
	Tune []string
	// TuneVariants, for a tunable parameter of a kernel with a variant
	// parameter, names the variants whose program the parameter changes
	// (empty: every variant). A search holds the parameter at its default
	// for the other variants instead of timing the same program again.
	TuneVariants []string
}

// value is one parameter value, parsed once: the canonical text and the
// typed value of its kind.
type value struct {
	text string
	n    int       // IntParam, CountParam
	b    bool      // BoolParam
	dt   isa.DType // DTypeParam
}

// Params are the validated parameter values of one workload, in the order
// the kernel declares them. Values are parsed once, when the Params are
// made (Parse, Kernel.Make); the accessors only look them up.
type Params struct {
	Kernel *Kernel
	vals   []value
	track  *tracker
}

// tracker records parameter names a kernel's code asked for but did not
// declare (see Params.Tracked).
type tracker struct {
	mu      sync.Mutex
	unknown []string
}

func (p Params) lookup(name string) (value, bool) {
	if p.Kernel != nil {
		for i, d := range p.Kernel.Params {
			if d.Name == name && i < len(p.vals) {
				return p.vals[i], true
			}
		}
	}
	if p.track != nil {
		p.track.mu.Lock()
		if !slices.Contains(p.track.unknown, name) {
			p.track.unknown = append(p.track.unknown, name)
		}
		p.track.mu.Unlock()
	}
	return value{}, false
}

// Tracked returns a copy of p that records every parameter name its
// accessors are asked for that the kernel does not declare; Unknown lists
// them. Register and the conformance test run a kernel's facets on
// tracked Params, so that a misspelt name in kernel code is caught there
// instead of reading as a zero value.
func (p Params) Tracked() Params {
	p.track = &tracker{}
	return p
}

// Unknown returns the undeclared parameter names p's accessors were asked
// for since Tracked (nil for untracked Params).
func (p Params) Unknown() []string {
	if p.track == nil {
		return nil
	}
	p.track.mu.Lock()
	defer p.track.mu.Unlock()
	return slices.Clone(p.track.unknown)
}

// Has reports whether the workload's kernel declares parameter name.
func (p Params) Has(name string) bool {
	if p.Kernel == nil {
		return false
	}
	for _, d := range p.Kernel.Params {
		if d.Name == name {
			return true
		}
	}
	return false
}

// Str returns the canonical text of a parameter ("" for a name the kernel
// does not declare).
func (p Params) Str(name string) string { v, _ := p.lookup(name); return v.text }

// Int returns an integer parameter (0 for a name the kernel does not
// declare or one that is not an integer).
func (p Params) Int(name string) int { v, _ := p.lookup(name); return v.n }

// Bool returns a boolean parameter (false for an undeclared name).
func (p Params) Bool(name string) bool { v, _ := p.lookup(name); return v.b }

// DType returns a dtype parameter (fp32, the zero DType, for an
// undeclared name).
func (p Params) DType(name string) isa.DType { v, _ := p.lookup(name); return v.dt }

// With returns a copy of p with parameter name set to text, parsed and
// validated as Parse does (the kernel's Check included).
func (p Params) With(name, text string) (Params, error) {
	return p.Kernel.make(p.vals, "", []Arg{TextArg(name, text)})
}

// Values returns (name, canonical text) pairs in declaration order.
func (p Params) Values() [][2]string {
	out := make([][2]string, len(p.vals))
	for i, d := range p.Kernel.Params {
		out[i] = [2]string{d.Name, p.vals[i].text}
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
		sb.WriteString(d.Name + "=" + p.vals[i].text)
	}
	return sb.String()
}

// Arg is one parameter value given to Kernel.Make: typed (IntArg, BoolArg,
// DTypeArg) or as text (TextArg, parsed by the parameter's kind).
type Arg struct {
	name  string
	text  string
	typed bool
	v     value
	kind  ParamKind // the kind a typed value is of
}

// IntArg sets integer (or count) parameter name to n.
func IntArg(name string, n int) Arg {
	return Arg{name: name, text: strconv.Itoa(n), typed: true, kind: IntParam, v: value{text: strconv.Itoa(n), n: n}}
}

// BoolArg sets boolean parameter name to b.
func BoolArg(name string, b bool) Arg {
	return Arg{name: name, text: strconv.FormatBool(b), typed: true, kind: BoolParam, v: value{text: strconv.FormatBool(b), b: b}}
}

// DTypeArg sets dtype parameter name to dt.
func DTypeArg(name string, dt isa.DType) Arg {
	return Arg{name: name, text: dt.String(), typed: true, kind: DTypeParam, v: value{text: dt.String(), dt: dt}}
}

// TextArg sets parameter name from text, parsed by the parameter's kind
// (what a workload spec holds).
func TextArg(name, text string) Arg { return Arg{name: name, text: text} }

// SpecError reports a malformed workload spec.
type SpecError struct {
	Spec string
	Msg  string
}

// maxQuotedSpec bounds how much of a spec an error message repeats, so a
// huge spec does not make a huge error line.
const maxQuotedSpec = 120

func (e *SpecError) Error() string {
	s := e.Spec
	if len(s) > maxQuotedSpec {
		cut := maxQuotedSpec
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("workload %q… (%d bytes): %s", s[:cut], len(s), e.Msg)
	}
	return fmt.Sprintf("workload %q: %s", s, e.Msg)
}

// Parse reads a workload spec "kernel:param=value,..." against the
// registry r.
func (r *Registry) Parse(spec string) (Params, error) {
	name, rest, _ := strings.Cut(spec, ":")
	k, err := r.Lookup(strings.TrimSpace(name))
	if err != nil {
		return Params{}, &SpecError{spec, err.Error()}
	}
	var args []Arg
	if rest != "" {
		for _, kv := range strings.Split(rest, ",") {
			key, val, ok := strings.Cut(kv, "=")
			key, val = strings.TrimSpace(key), strings.TrimSpace(val)
			if !ok || key == "" {
				return Params{}, &SpecError{spec, fmt.Sprintf("%q is not param=value (parameters of %s: %s)", clip(kv), k.Name, k.paramNames())}
			}
			args = append(args, TextArg(key, val))
		}
	}
	defs, err := k.defaultValues()
	if err != nil {
		return Params{}, &SpecError{spec, err.Error()}
	}
	return k.make(defs, spec, args)
}

// Make returns the workload of kernel k with args over the defaults,
// validated as Parse validates a spec (domains, the kernel's Check, the
// size limit). Composite workloads build their parts with it.
func (k *Kernel) Make(args ...Arg) (Params, error) {
	defs, err := k.defaultValues()
	if err != nil {
		return Params{}, &SpecError{k.Name, err.Error()}
	}
	return k.make(defs, "", args)
}

// make applies args over base. spec labels errors ("" = built from args).
func (k *Kernel) make(base []value, spec string, args []Arg) (Params, error) {
	if spec == "" {
		var kv []string
		for _, a := range args {
			kv = append(kv, a.name+"="+a.text)
		}
		spec = k.Name
		if len(kv) > 0 {
			spec += ":" + strings.Join(kv, ",")
		}
	}
	p := Params{Kernel: k, vals: slices.Clone(base)}
	seen := map[string]bool{}
	for _, a := range args {
		i := slices.IndexFunc(k.Params, func(d Param) bool { return d.Name == a.name })
		if i < 0 {
			return Params{}, &SpecError{spec, fmt.Sprintf("kernel %s has no parameter %q (allowed: %s)", k.Name, clip(a.name), k.paramNames())}
		}
		if seen[a.name] {
			return Params{}, &SpecError{spec, fmt.Sprintf("parameter %q given twice", a.name)}
		}
		seen[a.name] = true
		v, err := argValue(k, k.Params[i], a)
		if err != nil {
			return Params{}, &SpecError{spec, err.Error()}
		}
		p.vals[i] = v
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

// defaultValues parses every parameter's default.
func (k *Kernel) defaultValues() ([]value, error) {
	vals := make([]value, len(k.Params))
	for i, d := range k.Params {
		v, err := parseValue(k, d, d.Default)
		if err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		vals[i] = v
	}
	return vals, nil
}

// argValue checks one Arg against its declaration.
func argValue(k *Kernel, d Param, a Arg) (value, error) {
	if !a.typed {
		return parseValue(k, d, a.text)
	}
	kindOK := a.kind == d.Kind || (a.kind == IntParam && d.Kind == CountParam)
	if !kindOK {
		return value{}, fmt.Errorf("parameter %s: given a %s, want a %s", d.Name, a.kind, d.Kind)
	}
	// Typed values go through the same domain checks as text.
	return parseValue(k, d, a.text)
}

// String names the kind as error messages use it.
func (kind ParamKind) String() string {
	switch kind {
	case IntParam:
		return "positive integer"
	case DTypeParam:
		return "dtype"
	case BoolParam:
		return "boolean"
	case EnumParam:
		return "choice"
	case CountParam:
		return "non-negative integer"
	}
	return fmt.Sprintf("ParamKind(%d)", uint8(kind))
}

// parseValue validates and canonicalises one value given as text.
func parseValue(k *Kernel, d Param, text string) (value, error) {
	switch d.Kind {
	case IntParam, CountParam:
		n, err := strconv.Atoi(text)
		if d.Kind == IntParam && (err != nil || n <= 0) {
			return value{}, fmt.Errorf("parameter %s=%q: want a positive integer", d.Name, clip(text))
		}
		if d.Kind == CountParam && (err != nil || n < 0) {
			return value{}, fmt.Errorf("parameter %s=%q: want a non-negative integer (0 = automatic)", d.Name, clip(text))
		}
		if d.Max > 0 && n > d.Max {
			return value{}, fmt.Errorf("parameter %s=%d: at most %d", d.Name, n, d.Max)
		}
		return value{text: strconv.Itoa(n), n: n}, nil
	case BoolParam:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return value{}, fmt.Errorf("parameter %s=%q: want true or false", d.Name, clip(text))
		}
		return value{text: strconv.FormatBool(b), b: b}, nil
	case DTypeParam:
		// Compare canonical names, so an alias in the input ("fp8") or in
		// Allowed matches, and the canonical value parses back.
		dt, err := isa.ParseDType(text)
		ok := false
		for _, a := range d.Allowed {
			if ad, aerr := isa.ParseDType(a); aerr == nil && err == nil && ad == dt {
				ok = true
			}
		}
		if !ok {
			return value{}, fmt.Errorf("parameter %s=%q: not a dtype %s accepts (allowed: %s)", d.Name, clip(text), k.Name, strings.Join(d.Allowed, ", "))
		}
		return value{text: dt.String(), dt: dt}, nil
	case EnumParam:
		if !slices.Contains(d.Allowed, text) {
			return value{}, fmt.Errorf("parameter %s=%q: allowed: %s", d.Name, clip(text), strings.Join(d.Allowed, ", "))
		}
		return value{text: text}, nil
	}
	return value{}, fmt.Errorf("parameter %s: unknown kind %d", d.Name, d.Kind)
}

// clip shortens user text quoted inside an error message.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func (k *Kernel) paramNames() string {
	var names []string
	for _, d := range k.Params {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}

// Tunables returns the kernel's tunable parameters (those with Tune
// values), in declaration order.
func (k *Kernel) Tunables() []Param {
	var ps []Param
	for _, d := range k.Params {
		if len(d.Tune) > 0 {
			ps = append(ps, d)
		}
	}
	return ps
}
