#!/usr/bin/env bash
# The whole test suite, from a fresh clone: setup, unit and runtime integration tests (which
# also build the node binary), then the end-to-end tests against the real node.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
start=$(date +%s)
echo "== cargo test (release profile: the same build the node uses)"
cargo test --release --locked --workspace
echo "== end-to-end tests (dsync-node + @polkadot/api)"
tests/e2e/run.sh
echo "== all tests passed in $(( $(date +%s) - start )) s"
