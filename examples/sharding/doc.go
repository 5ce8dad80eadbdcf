// Package sharding holds worked examples of a trnsim sweep spread over
// the batch systems users already run — a Kubernetes Indexed Job
// (kubernetes-indexed-job.yaml), a Slurm job array (slurm-array.sh) and a
// GitHub Actions matrix (github-actions.yml) — each running
// `trnsim sweep -shard auto` per task and `trnsim merge` once. Its test
// runs the command lines of each file locally with the variables each
// system sets, and checks the merged file equals an unsharded sweep.
package sharding
