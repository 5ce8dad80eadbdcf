package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses of trnsim, the same for every verb.
const (
	exitOK       = 0 // success
	exitFail     = 1 // a regression (compare) or a failed functional check (check, run -check)
	exitBadInput = 2 // bad input or usage: one line on stderr naming the input and the rule
	exitInternal = 3 // an internal error: a bug (a recovered panic), a full disk, an I/O error
)

// exitStatusDoc is the table of exit statuses that help prints.
const exitStatusDoc = `exit status: 0 ok; 1 a regression (compare) or a failed check (check, run -check);
  2 bad input or usage (one line naming the input and the rule; nothing half-written);
  3 internal error (a bug, a full disk, an I/O error).`

// helpRequested is what parseFlags returns for -h, -help or --help; run
// prints the verb's usage and exits 0.
type helpRequested struct{ fs *flag.FlagSet }

func (h *helpRequested) Error() string { return h.fs.Name() + ": help requested" }

// verbHelp is what `trnsim VERB -h` prints beyond the verb table's
// synopsis: how it works, examples, and the statuses it exits with.
type verbHelp struct {
	about    string
	examples []string
}

// helpFor returns the help of the named verb.
func helpFor(name string) verbHelp {
	switch name {
	case "list":
		return verbHelp{"Prints every kernel with its parameters, defaults and allowed values, then every target with its peaks and price.",
			[]string{"trnsim list"}}
	case "asm":
		return verbHelp{"Builds the workload's NeuronCore program and prints it as text assembly; `run -asm` times such a file.",
			[]string{"trnsim asm attention:seqlen=512,heads=1 -target trn2 > a.s"}}
	case "check":
		return verbHelp{"Runs the workload's NeuronCore program functionally on seeded random inputs and compares every output\n" +
			"element with the float64 reference: an element passes when |err| ≤ abs + rel·|ref|. The functional run\n" +
			"holds every tensor in memory; a workload whose tensors exceed the stated limit is refused up front.",
			[]string{"trnsim check matmul:M=1000,N=700,K=300,dtype=bf16 -target trn2"}}
	case "run":
		return verbHelp{"Times one workload (kernel:param=value,...) or one text-assembly program (-asm) on every target and prints\n" +
			"them side by side: time (µs), TFLOPS, % of peak, HBM GB/s, the bounding resource, cost. Composite workloads\n" +
			"(layer) add a per-part breakdown; with -format csv that breakdown is the CSV (one row per part).",
			[]string{
				"trnsim run matmul:M=4096,N=4096,K=4096 -target trn2,h100",
				"trnsim run layer:model=llama3-8b,phase=prefill,tokens=4096 -target trn2,h100 -format csv",
				"trnsim run -asm a.s -target trn2 -trace a.json",
				"trnsim run attention:seqlen=4096,heads=1 -target trn2 -check -profile p.pb.gz",
			}}
	case "bench":
		return verbHelp{"The main job: runs a suite on NeuronCores and GPUs and prints time, TFLOPS, bound and cost side by side.\n" +
			"-excerpt prints the README's excerpt instead (a few workloads, simulated µs).",
			[]string{"trnsim bench", "trnsim bench -suite baseline -targets trn2,h100 -o ''", "trnsim bench -excerpt"}}
	case "sweep":
		return verbHelp{"Runs a suite on targets into a results CSV (results/SCHEMA.md), written atomically: an interrupted or\n" +
			"failed sweep leaves no file. Byte-identical output whatever -j or GOMAXPROCS.",
			[]string{"trnsim sweep -suite llm -o results/llm.csv", "trnsim sweep -suite baseline -shard 0/4 -j 2 -o shard0.csv",
				"SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=4 trnsim sweep -suite baseline -shard auto -o shard1.csv"}}
	case "merge":
		return verbHelp{"Joins the shard CSVs of one sweep. Shards written by sweep -shard carry a sidecar (F.csv.shard.json):\n" +
			"they merge into the unsharded sweep's row order whatever the argument order, and an incomplete set,\n" +
			"a shard given twice or shards of different sweeps are errors naming them. Files without sidecars\n" +
			"merge in the order given; a row present twice is an error.",
			[]string{"trnsim merge -o all.csv shard0.csv shard1.csv shard2.csv shard3.csv"}}
	case "tune":
		return verbHelp{"Searches the workload's tunable parameters (the kernel's Param.Tune values: variants, tiles per block,\n" +
			"splits) on each NeuronCore target, and times every candidate plan on each GPU. Spaces of at most 512\n" +
			"configurations are timed completely, larger ones (or -budget) by seeded coordinate descent with restarts;\n" +
			"configurations that do not fit SBUF/PSUM are counted infeasible, not timed. Prints the best\n" +
			"configuration as a workload spec, its speed-up over the default plan and the top-k table; output is\n" +
			"byte-identical for any -j. -o writes a tuned file that -tuned (run, sweep, bench, serve) reads.\n" +
			"A composite workload (layer) tunes each distinct part with tunables.",
			[]string{"trnsim tune matmul:M=4096,N=4096,K=4096,dtype=bf16 -target trn2,h100",
				"trnsim tune matmul:M=8,N=28672,K=4096 -target trn2 -csv all.csv -o tuned.json",
				"trnsim tune layer:model=llama3-70b,phase=decode,batch=8 -target trn2 -o tuned.json",
				"trnsim tune -suite llm -target trn2 -o llm-trn2.json"}}
	case "compare":
		return verbHelp{"The regression gate. BASE and NEW are results CSVs or `go test -bench` output (told apart by content).\n" +
			"It fails (exit 1) when a workload on both sides got slower than -threshold, or when BASE has a\n" +
			"workload NEW lacks; workloads only in NEW are listed, not failed. A time that is not finite and\n" +
			"positive is bad input (exit 2). The report is sorted by slowdown and shows a changed bound (tensor → dma).\n" +
			"In CI run a built binary: `go run` turns every non-zero status into 1.",
			[]string{"trnsim compare results/baseline.csv new.csv -threshold 1%", "trnsim compare base.txt new.txt -format markdown"}}
	case "validate":
		return verbHelp{"Predicts every measured row of a measured-data CSV (results/measured/) and prints the error per row\n" +
			"and the MAPE per (target, kernel, variant).",
			[]string{"trnsim validate results/measured/gpu_measured.csv -o predicted.csv"}}
	case "hw":
		return verbHelp{"Prints a target's hardware configuration (a preset, or a preset with -hw FILE's overrides) as the JSON\n" +
			"that -hw accepts: copy it, edit the fields to change, and pass the file to run, sweep or validate.\n" +
			"`trnsim hw show -h` lists its flags.",
			[]string{"trnsim hw show trn2 > trn2.json", "trnsim hw show h100 -hw h100-tuned.json"}}
	case "serve":
		return verbHelp{"Serves a model on whole systems (chips, interconnect, collectives, prices) and reports TTFT, TPOT,\n" +
			"tokens/s, cost per million tokens and the break-even price. `trnsim serve -h` lists its flags with units.",
			[]string{"trnsim serve -model llama3-70b -systems trn2.48xlarge,p5.48xlarge -tp 8,16 -batch 1,16"}}
	case "calibrate":
		return verbHelp{"Fits the declared, bounded hardware parameters of one target to the measured rows for it (Nelder-Mead on the\n" +
			"log-time error), prints preset and fitted values, per-row errors before and after and the k-fold\n" +
			"cross-validated error, and writes the fit as a -hw file that run, sweep, validate and bench accept.\n" +
			"Rows for other targets are skipped and counted.",
			[]string{"trnsim calibrate results/measured/trainium_measured.csv -target trn2 -o trn2-fitted.json",
				"trnsim calibrate results/measured/gpu_measured.csv -target h100 -o h100-fitted.json"}}
	case "plot":
		return verbHelp{"Charts a results CSV: bars side by side, or a roofline; SVG or PNG by the extension of -o.",
			[]string{"trnsim plot results/llm.csv -o chart.svg -kind bars -metric time_us"}}
	}
	return verbHelp{}
}

// printVerbHelp writes the usage of verb v with its flags (fs; nil for
// none).
func printVerbHelp(w io.Writer, v verb, fs *flag.FlagSet) {
	h := helpFor(v.name)
	fmt.Fprintf(w, "usage: %s\n\n%s\n", strings.TrimSpace("trnsim "+v.name+" "+v.args), v.doc)
	if h.about != "" {
		fmt.Fprintf(w, "\n%s\n", h.about)
	}
	var flags []string
	if fs == nil {
		fs = flag.NewFlagSet(v.name, flag.ContinueOnError)
	}
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  -" + f.Name
		if name != "" {
			line += " " + strings.ToUpper(name)
		}
		line += "\n      " + usage
		if def := f.DefValue; def != "" && def != "false" {
			line += " (default " + def + ")"
		}
		flags = append(flags, line)
	})
	if len(flags) > 0 {
		fmt.Fprintf(w, "\nflags:\n%s\n", strings.Join(flags, "\n"))
	}
	if strings.Contains(v.args, "WORKLOAD") {
		fmt.Fprintln(w, "\nA WORKLOAD is kernel:param=value,... (trnsim list shows every kernel's parameters).")
	}
	if len(h.examples) > 0 {
		fmt.Fprintf(w, "\nexamples:\n  %s\n", strings.Join(h.examples, "\n  "))
	}
	fmt.Fprintf(w, "\n%s\n", exitStatusDoc)
}
