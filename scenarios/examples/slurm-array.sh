#!/usr/bin/env bash
# Fan a dsim sweep out over a Slurm job array.
#
#   sbatch scenarios/examples/slurm-array.sh
#   # when the array has finished:
#   target/release/dsim merge results/shard-*.jsonl --out results/sweep.jsonl
#
# Task K runs shard K of N (`--shard K/N`): the seeds whose index in the
# range is K modulo N. Each shard file ends with a trailer line; `dsim merge`
# refuses missing, duplicated or truncated shards, and its output is
# byte-identical to one unsharded sweep. `scenarios/tests/shards.rs`
# emulates this array locally in CI.
#SBATCH --job-name=dsim-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=2
#SBATCH --time=01:00:00
#SBATCH --output=results/slurm-%A_%a.log
set -euo pipefail

SHARDS=16
K=${SLURM_ARRAY_TASK_ID:?run me with sbatch --array}
SCENARIO=${SCENARIO:-scenarios/dedup/correct.ron}
SEEDS=${SEEDS:-0..100000}

mkdir -p results
# Exit 1 ("some seeds failed") is a result, not a task failure.
status=0
target/release/dsim sweep "$SCENARIO" --seeds "$SEEDS" \
    --shard "$K/$SHARDS" --jobs "$SLURM_CPUS_PER_TASK" \
    --out "results/shard-$K.jsonl" || status=$?
[ "$status" -le 1 ]
