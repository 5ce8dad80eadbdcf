// Package kernels holds the workloads trnsim times. Each kernel is one
// Kernel value, the single place everything about it lives:
//
//   - Params: typed parameters with their domains (Kind, Allowed, Max),
//     defaults, and the tunable subset with each one's legal values (Tune);
//   - Neuron: its NeuronCore program, written with isa.Builder (one per
//     variant), and NeuronVariant, what "best" resolves to;
//   - GPU: its GPU description, the candidate plans (sim/gpu/plan kernels)
//     a GPU library would choose among, with no search in it; package tune
//     times the candidates and keeps the fastest;
//   - Instrs: the size estimate that keeps a workload simulable (MaxInstrs);
//   - FLOPs, Reference (float64) and Tolerance: what the functional check
//     (Check) compares the program's results with;
//   - FromMeasured: how a row of measured data maps onto its parameters;
//   - Parts, for composite workloads (layer), made from typed values.
//
// A Registry holds kernels by name: Builtin returns the built-in ones, and
// Register adds a user's kernel after checking its facets (see
// Registry.Register for which are required). The registry is a value the
// caller passes around; there is no package-level state.
//
// A workload is a kernel plus values for its parameters, written
// "kernel:param=value,..." (Registry.Parse) or made from typed values
// (Kernel.Make). Values are parsed once; Params accessors never panic,
// and Params.Tracked records names a kernel asks for but does not declare
// (Register and the conformance suite, kernels/kernelstest, catch them).
// Every kernel handles any shape its parameters allow: remainder tiles are
// handled, never rejected.
//
// The package sees architecture (isa, sim/gpu/plan), never
// micro-architecture: it imports no timing model (sim/neuron, sim/gpu),
// which a test checks.
//
// Units: shape parameters (M, N, K, seqlen, headdim, tokens, hidden, ...)
// count elements or tokens, never bytes; FLOPs count multiply and add
// separately, by docs/hardware.md B §1.5's conventions (see Kernel.FLOPs); a
// Tolerance is in the output's units (Abs) and relative to the reference
// (Rel); Instrs counts NeuronCore instructions.
//
// Invariants: Parse and Make reject, with a SpecError naming the spec
// (quoted up to a bounded length) and the rule, every workload whose
// values its parameters or the kernel's Check refuse, including one too
// large to simulate (MaxInstrs); a workload that is valid but that a
// target cannot run (fp8 on A100, a kernel without a GPU description) is
// an error that Is ErrUnsupported, never a panic. Check is deterministic
// for a seed: the inputs come from a seeded generator and the program
// runs on isa.Exec.
package kernels
