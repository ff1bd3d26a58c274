#!/usr/bin/env bash
# Settled GPU-job throughput on a local chain: jobs and inferences posted, concluded and paid
# per second with batch jobs. It runs the GPU-jobs end-to-end suite (`tests/e2e/run.sh gpu`: a
# validator, a GPU service node scored by Proof of Sync, aivm) with its benchmark step switched
# on, whose driver is settle-bench.mjs beside this script: a client posts
# DSYNC_BENCH_JOBS_PER_BLOCK batch jobs of DSYNC_BENCH_ITEMS digits (k = 1) at every block for
# DSYNC_BENCH_BLOCKS blocks; the provider's off-chain worker computes them with aivm,
# commits and reveals; each is paid when its challenge window ends. Results (with every block's
# counts and timestamps) go to DSYNC_BENCH_OUT (default benchmarks/settlement/results.json);
# record them in benchmarks/settlement.md with the machine and date.
#
#   benchmarks/settlement/run.sh
#   DSYNC_BENCH_JOBS_PER_BLOCK=24 DSYNC_BENCH_BLOCKS=30 benchmarks/settlement/run.sh
#
# Needs what the end-to-end tests need: the release dsync-node and aivm (scripts/test.sh or
# `cargo build --release --locked --workspace`) and Node.js.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
export DSYNC_BENCH_SETTLE=1
export DSYNC_BENCH_OUT="${DSYNC_BENCH_OUT:-$PWD/benchmarks/settlement/results.json}"
exec tests/e2e/run.sh gpu
