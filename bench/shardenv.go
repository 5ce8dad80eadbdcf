package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// ShardEnvSource is one batch system's way of telling a task its index and
// the number of tasks.
type ShardEnvSource struct {
	System string // what error messages call it
	Index  string // the variable holding the task's index
	Count  string // the variable holding the number of tasks ("": none)
	Min    string // the variable holding the first index, subtracted ("": 0)
}

// ShardEnvSources are the variables `-shard auto` reads, in the order they
// are tried:
//
//   - Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX; the job's
//     completions are not in the environment, so the count comes from
//     TRNSIM_SHARD_COUNT or the -shard-count flag.
//   - Slurm job arrays set SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT
//     (and SLURM_ARRAY_TASK_MIN, subtracted, so --array=1-4 works).
//   - GitHub Actions has no built-in matrix index: a workflow sets
//     TRNSIM_SHARD_INDEX and TRNSIM_SHARD_COUNT from its matrix
//     (examples/sharding/github-actions.yml). Any other system can set
//     them too.
func ShardEnvSources() []ShardEnvSource {
	return []ShardEnvSource{
		{System: "trnsim (TRNSIM_SHARD_INDEX, e.g. a GitHub Actions matrix)", Index: "TRNSIM_SHARD_INDEX", Count: "TRNSIM_SHARD_COUNT"},
		{System: "Kubernetes Indexed Job", Index: "JOB_COMPLETION_INDEX", Count: "TRNSIM_SHARD_COUNT"},
		{System: "Slurm job array", Index: "SLURM_ARRAY_TASK_ID", Count: "SLURM_ARRAY_TASK_COUNT", Min: "SLURM_ARRAY_TASK_MIN"},
	}
}

// ShardFromEnv resolves `-shard auto` from the environment getenv reads:
// the first source of ShardEnvSources whose index variable is set. count,
// when positive (a -shard-count flag), gives the number of shards and
// must agree with a count the environment also gives. It fails, naming
// every variable it looked for, when no index is set, and when two
// systems' index variables are set at once (an ambiguous environment).
func ShardFromEnv(getenv func(string) string, count int) (Shard, error) {
	var found []ShardEnvSource
	for _, s := range ShardEnvSources() {
		if getenv(s.Index) != "" {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		var names []string
		for _, s := range ShardEnvSources() {
			names = append(names, s.Index)
		}
		return Shard{}, fmt.Errorf("-shard auto: no shard index in the environment (looked for %s; "+
			"or give -shard i/n)", strings.Join(names, ", "))
	}
	if len(found) > 1 && !(found[0].Index == "TRNSIM_SHARD_INDEX") {
		return Shard{}, fmt.Errorf("-shard auto: both %s (%s) and %s (%s) are set; set TRNSIM_SHARD_INDEX to choose",
			found[0].Index, found[0].System, found[1].Index, found[1].System)
	}
	s := found[0]
	num := func(name string) (int, error) {
		v := getenv(name)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("-shard auto: %s=%q (%s): want an integer", name, v, s.System)
		}
		return n, nil
	}
	i, err := num(s.Index)
	if err != nil {
		return Shard{}, err
	}
	if s.Min != "" && getenv(s.Min) != "" {
		m, err := num(s.Min)
		if err != nil {
			return Shard{}, err
		}
		i -= m
	}
	n := count
	if s.Count != "" && getenv(s.Count) != "" {
		envN, err := num(s.Count)
		if err != nil {
			return Shard{}, err
		}
		if count > 0 && envN != count {
			return Shard{}, fmt.Errorf("-shard auto: -shard-count %d disagrees with %s=%d", count, s.Count, envN)
		}
		n = envN
	}
	if n <= 0 {
		return Shard{}, fmt.Errorf("-shard auto: %s=%d is set but not the number of shards: set %s or give -shard-count N", s.Index, i, s.Count)
	}
	sh := Shard{I: i, N: n}
	if err := sh.validate(); err != nil {
		return Shard{}, fmt.Errorf("-shard auto from %s: %v", s.System, err)
	}
	return sh, nil
}
