package bench

import (
	"strings"
	"testing"
)

func TestShardFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		count int
		want  Shard
		err   string
	}{
		{"none", nil, 0, Shard{}, "no shard index in the environment (looked for TRNSIM_SHARD_INDEX, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID"},
		{"kubernetes with env count", map[string]string{"JOB_COMPLETION_INDEX": "3", "TRNSIM_SHARD_COUNT": "4"}, 0, Shard{3, 4}, ""},
		{"kubernetes with flag count", map[string]string{"JOB_COMPLETION_INDEX": "0"}, 2, Shard{0, 2}, ""},
		{"kubernetes without count", map[string]string{"JOB_COMPLETION_INDEX": "1"}, 0, Shard{}, "give -shard-count N"},
		{"kubernetes index past count", map[string]string{"JOB_COMPLETION_INDEX": "4", "TRNSIM_SHARD_COUNT": "4"}, 0, Shard{}, "want 0 ≤ i < n"},
		{"flag and env disagree", map[string]string{"JOB_COMPLETION_INDEX": "1", "TRNSIM_SHARD_COUNT": "4"}, 3, Shard{}, "-shard-count 3 disagrees with TRNSIM_SHARD_COUNT=4"},
		{"slurm", map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"}, 0, Shard{2, 3}, ""},
		{"slurm from 1", map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"}, 0, Shard{2, 3}, ""},
		{"slurm bad id", map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "3"}, 0, Shard{}, `SLURM_ARRAY_TASK_ID="x"`},
		{"github matrix", map[string]string{"TRNSIM_SHARD_INDEX": "1", "TRNSIM_SHARD_COUNT": "2"}, 0, Shard{1, 2}, ""},
		{"explicit wins", map[string]string{"TRNSIM_SHARD_INDEX": "0", "TRNSIM_SHARD_COUNT": "2", "SLURM_ARRAY_TASK_ID": "5"}, 0, Shard{0, 2}, ""},
		{"ambiguous", map[string]string{"JOB_COMPLETION_INDEX": "0", "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"}, 2, Shard{}, "both JOB_COMPLETION_INDEX"},
		{"negative", map[string]string{"TRNSIM_SHARD_INDEX": "-1", "TRNSIM_SHARD_COUNT": "2"}, 0, Shard{}, "want 0 ≤ i < n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ShardFromEnv(func(k string) string { return tc.env[k] }, tc.count)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
