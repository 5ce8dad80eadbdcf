#!/bin/sh
# A sweep sharded over a Slurm job array, then merged.
#
#   jid=$(sbatch --parsable examples/sharding/slurm-array.sh)
#   sbatch --dependency=afterok:$jid --array=0 examples/sharding/slurm-array.sh merge
#
# Slurm sets SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT in every task
# (and SLURM_ARRAY_TASK_MIN, which -shard auto subtracts, so --array=1-4
# works too); each task runs one shard. The merge step joins the shards in
# the unsharded row order and fails, naming them, if shards are missing.
# OUT must be on a file system every node sees. trnsim must be on PATH.
# examples/sharding/sharding_test.go runs the two trnsim command lines below
# locally with the same variables set.
#SBATCH --job-name=trnsim-sweep
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --time=00:30:00
set -eu
OUT=${OUT:-$PWD/results}
mkdir -p "$OUT"
if [ "${1:-}" = merge ]; then
  trnsim merge -o "$OUT/all.csv" "$OUT"/shard-*.csv
  exit 0
fi
trnsim sweep -suite representative -targets trn2,h100 -shard auto -j 2 -o "$OUT/shard-$SLURM_ARRAY_TASK_ID.csv"
