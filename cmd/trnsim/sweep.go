package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// cmdSweep runs a suite over targets into a results CSV, written
// atomically: an interrupted or failed sweep leaves no file (and an
// existing one untouched).
func cmdSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep")
	suiteName := fs.String("suite", "", "`SUITE` to run (required), allowed: "+strings.Join(bench.SuiteNames(), ", "))
	var tf targetFlags
	tf.register(fs, strings.Join(bench.DefaultTargets(), ","))
	fs.StringVar(&tf.targets, "targets", tf.targets, "same as -target")
	var tuned tunedFlag
	tuned.register(fs)
	shardFlag := fs.String("shard", "", "run only shard `i/n` of the sweep, 0 ≤ i < n (item k belongs to shard k mod n); empty: all; "+
		"auto: i and n from the batch system's environment (Kubernetes Indexed Jobs, Slurm arrays, TRNSIM_SHARD_INDEX/COUNT)")
	shardCount := fs.Int("shard-count", 0, "with -shard auto: the number of shards `N`, where the environment does not give it (Kubernetes)")
	jobs := fs.Int("j", 0, "`N` runs in parallel (0: one per CPU); the output does not depend on it")
	out := fs.String("o", "", "output results CSV `FILE` (required; - for standard output)")
	exact := fs.Bool("exact", false, exactUsage)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("sweep: unexpected argument %q (want flags only)", pos[0])
	}
	if *suiteName == "" {
		return usagef("sweep: -suite is required (one of %s)", strings.Join(bench.SuiteNames(), ", "))
	}
	if *out == "" {
		return usagef("sweep: -o FILE.csv is required")
	}
	if *jobs < 0 {
		return usagef("sweep: -j %d: want 0 (one per CPU) or more", *jobs)
	}
	suite, err := bench.SuiteByName(*suiteName)
	if err != nil {
		return usagef("sweep: -suite: %v", err)
	}
	shard, err := sweepShard(*shardFlag, *shardCount)
	if err != nil {
		return err
	}
	targets, err := tf.resolve()
	if err != nil {
		return err
	}
	if targets, err = tuned.apply(targets); err != nil {
		return err
	}
	if *exact {
		targets = bench.Exact(targets)
	}
	if err := checkOutput("-o", *out); err != nil {
		return err
	}
	ws, pending, err := suite.Workloads(kernels.Builtin())
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		fmt.Fprintf(stderr, "trnsim sweep: skipping %d workloads of kernels not built in yet:\n  %s\n", len(pending), strings.Join(pending, "\n  "))
	}

	// An interrupt stops the sweep between runs and writes nothing; a
	// second one kills the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	graceful := procInterrupts.stopsOnItsOwn()
	// The item index of every row, for the shard sidecar: the shard's
	// items less those the target does not support.
	unsupported := map[int]bool{}
	note := noteUnsupported(stderr, "sweep")
	opts := bench.Options{Jobs: *jobs, Shard: shard, Unsupported: func(it bench.Item, err error) {
		unsupported[it.Index] = true
		note(it, err)
	}}
	tty := isTerminal(stderr)
	if tty {
		opts.Progress = func(p bench.Progress) {
			fmt.Fprintf(stderr, "\r\033[K[%d/%d] %s %s", p.Done, p.Total, p.Item.Target.Name(), p.Item.Workload)
		}
	}
	rows, err := bench.SweepTargets(ctx, ws, targets, opts)
	graceful()
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "trnsim sweep: interrupted; nothing written\n")
		return &exitError{130} // the shell's status for a process stopped by SIGINT
	}
	if err != nil {
		return fmt.Errorf("sweep %s: %w (nothing written)", suite.Name, err)
	}
	write := func(w io.Writer) error { return results.WriteCSV(w, rows) }
	if *out == "-" {
		return write(stdout)
	}
	if err := writeOutput(*out, stdout, write); err != nil {
		return err
	}
	if shard.N > 0 {
		info := results.ShardInfo{Index: shard.I, Count: shard.N, Suite: suite.Name, Schema: results.SchemaVersion, Options: sweepOptions(&tf, &tuned)}
		if err := writeShardSidecar(*out, stdout, info, ws, targets, shard, unsupported); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %d rows (suite %s, shard %s) to %s\n", len(rows), suite.Name, shard, *out)
	return nil
}

// sweepShard returns the shard a sweep runs: all of it (flag empty), i/n
// as given, or i/n from the batch system's environment (flag "auto", with
// count where the environment lacks it).
func sweepShard(flag string, count int) (bench.Shard, error) {
	if count != 0 && flag != "auto" {
		return bench.Shard{}, usagef("sweep: -shard-count %d goes with -shard auto", count)
	}
	switch flag {
	case "":
		return bench.Shard{}, nil
	case "auto":
		shard, err := bench.ShardFromEnv(os.Getenv, count)
		if err != nil {
			return bench.Shard{}, usagef("sweep: %v", err)
		}
		return shard, nil
	}
	shard, err := bench.ParseShard(flag)
	if err != nil {
		return bench.Shard{}, usagef("sweep: -shard: %v", err)
	}
	return shard, nil
}

// writeShardSidecar writes the sidecar of shard file out: info with the
// targets and the item index of every row the shard wrote (its items less
// the unsupported ones), which merge checks and orders by.
func writeShardSidecar(out string, stdout io.Writer, info results.ShardInfo, ws []kernels.Params, targets []bench.Target, shard bench.Shard, unsupported map[int]bool) error {
	for _, t := range targets {
		info.Targets = append(info.Targets, t.Name())
	}
	for _, it := range bench.Items(ws, targets, shard) {
		if !unsupported[it.Index] {
			info.Items = append(info.Items, it.Index)
		}
	}
	return writeOutput(results.ShardSidecar(out), stdout, func(w io.Writer) error { return results.WriteShardInfo(w, info) })
}

// isTerminal reports whether w is a terminal, for progress output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && fileIsTerminal(f)
}

// sweepOptions names the options of a sweep that change its numbers, for
// the shard sidecar ("" when none is set).
func sweepOptions(tf *targetFlags, tuned *tunedFlag) string {
	var o []string
	if tf.hw.file != "" {
		o = append(o, "hw="+tf.hw.file)
	}
	for _, k := range sortedKeys(tf.hw.byTgt) {
		o = append(o, "hw="+k+"="+tf.hw.byTgt[k])
	}
	for _, k := range sortedKeys(tf.price) {
		o = append(o, "price="+k+"="+tf.price[k])
	}
	if tuned.file != "" {
		o = append(o, "tuned="+tuned.file)
	}
	return strings.Join(o, " ")
}
