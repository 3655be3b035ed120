#!/usr/bin/env bash
# Fan a dsim sweep out over a Slurm job array. From the repository root:
#
#   cargo build --release
#   sbatch scenarios/examples/slurm-array.sh
#   # when `squeue --me` no longer lists the array:
#   target/release/dsim merge results/shard-*.jsonl --out results/sweep.jsonl
#
# Task K runs shard K of SHARDS (`--shard K/SHARDS`): the seeds whose index
# in the range is K modulo SHARDS. Each shard file ends with a trailer line;
# `dsim merge` refuses a shard that was killed (no trailer), a shard given
# twice, a missing shard and a shard of another sweep, and its output is
# byte-identical to one unsharded sweep. A task that failed or was
# cancelled is re-run on its own, e.g. `sbatch --array=5 <this script>`.
# `cargo xtask slurm` runs all of this on a real one-node Slurm.
#
# Settings, from the environment of `sbatch` (it passes it on):
#   SCENARIO  the scenario file      (default scenarios/dedup/correct.ron)
#   SEEDS     the whole seed range   (default 0..100000)
#   SHARDS    how many shards        (default 16; keep --array at 0-(SHARDS-1))
#   RESULTS   the folder for shards  (default results)
#
# Slurm opens the log before the script runs, so the log's folder must
# already exist: the submit folder always does. (A log under results/
# fails every task when results/ does not exist yet.)
#SBATCH --job-name=dsim-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=2
#SBATCH --time=01:00:00
#SBATCH --output=dsim-sweep-%A_%a.log
set -euo pipefail

K=${SLURM_ARRAY_TASK_ID:?run me with sbatch (as a job array)}
# Not SLURM_ARRAY_TASK_COUNT: re-running one task (--array=5) must still
# run shard 5 of 16.
SHARDS=${SHARDS:-16}
SCENARIO=${SCENARIO:-scenarios/dedup/correct.ron}
SEEDS=${SEEDS:-0..100000}
RESULTS=${RESULTS:-results}
DSIM=target/release/dsim

if [ ! -x "$DSIM" ]; then
  echo "error: no $DSIM in $PWD: run cargo build --release, and sbatch from the repository root" >&2
  exit 2
fi
mkdir -p "$RESULTS"
# Exit 1 ("some seeds failed") is a result, not a task failure; exit 2
# (bad input) is, and the log says why.
status=0
"$DSIM" sweep "$SCENARIO" --seeds "$SEEDS" \
    --shard "$K/$SHARDS" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
    --out "$RESULTS/shard-$K.jsonl" || status=$?
if [ "$status" -gt 1 ]; then exit "$status"; fi
