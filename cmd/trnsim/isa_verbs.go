package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

func cmdList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "kernels:")
	for _, k := range kernels.Builtin().Kernels() {
		fmt.Fprintf(stdout, "  %s — %s\n", k.Name, k.Doc)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, p := range k.Params {
			allowed := ""
			if len(p.Allowed) > 0 {
				allowed = " {" + strings.Join(p.Allowed, ",") + "}"
			}
			if len(p.Tune) > 0 {
				allowed += " tunable: " + strings.Join(p.Tune, ",")
			}
			fmt.Fprintf(tw, "    %s=%s\t%s%s\n", p.Name, p.Default, p.Doc, allowed)
		}
		tw.Flush()
	}
	fmt.Fprintln(stdout, "targets:")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, name := range bench.AllTargets() {
		t, err := bench.TargetByName(name, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, t.Describe())
	}
	return tw.Flush()
}

// workloadAndArch parses the common "WORKLOAD -target T" arguments of the
// NeuronCore-only verbs.
func workloadAndArch(name string, args []string) (kernels.Params, isa.Arch, error) {
	fs := newFlags(name)
	target := fs.String("target", "trn2", "NeuronCore generation, allowed: trn1, trn2, trn3")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return kernels.Params{}, isa.Arch{}, err
	}
	if len(pos) != 1 {
		return kernels.Params{}, isa.Arch{}, usagef("%s: want one WORKLOAD argument, got %d", name, len(pos))
	}
	p, err := kernels.Builtin().Parse(pos[0])
	if err != nil {
		return kernels.Params{}, isa.Arch{}, usagef("%v", err)
	}
	arch, err := isa.ArchByName(*target)
	if err != nil {
		return kernels.Params{}, isa.Arch{}, usagef("-target: %v", err)
	}
	return p, arch, nil
}

func cmdAsm(args []string, stdout, stderr io.Writer) error {
	p, arch, err := workloadAndArch("asm", args)
	if err != nil {
		return err
	}
	if p.Kernel.Neuron == nil {
		return usagef("asm: kernel %s is composite; run its parts", p.Kernel.Name)
	}
	prog, err := kernels.BuildNeuron(arch, p)
	if err != nil {
		return usagef("%v", err)
	}
	return isa.Print(stdout, prog)
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	p, arch, err := workloadAndArch("check", args)
	if err != nil {
		return err
	}
	return printCheck(stdout, p, arch)
}

// printCheck runs the functional check of p on arch and prints the error
// figures of every output; a failed check is exit status 1.
func printCheck(w io.Writer, p kernels.Params, arch isa.Arch) error {
	if p.Kernel.Neuron == nil {
		return usagef("check: kernel %s is composite; check its parts", p.Kernel.Name)
	}
	if err := checkMemory(arch, p); err != nil {
		return err
	}
	res, err := kernels.Check(arch, p, 1)
	if err != nil {
		return usagef("%v", err)
	}
	fail := false
	fmt.Fprintf(w, "check %s on %s (an element passes when |err| ≤ abs + rel·|ref|)\n", p, arch.Name)
	for _, r := range res {
		verdict := "pass"
		if !r.Pass {
			verdict, fail = "FAIL", true
		}
		fmt.Fprintf(w, "  %-8s max_abs_err=%.3g max_rel_err=%.3g  bound |err| ≤ %s  %s\n",
			r.Tensor, r.MaxAbsErr, r.MaxRelErr, boundText(r.Tol), verdict)
	}
	if fail {
		fmt.Fprintln(w, "FAIL")
		return &exitError{1}
	}
	fmt.Fprintln(w, "PASS")
	return nil
}

// boundText is the bound an element's error is held to, as applied:
// "abs + rel·|ref|" with the numbers, e.g. "0.0044 + 0.0078·|ref|".
func boundText(t kernels.Tolerance) string {
	return fmt.Sprintf("%.3g + %.3g·|ref|", t.Abs, t.Rel)
}
