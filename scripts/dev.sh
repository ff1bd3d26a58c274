#!/usr/bin/env bash
# Set up the machine, build the node and start a development chain (Alice validates alone,
# blocks every 6 s, state kept in a temporary directory). Extra arguments go to the node,
# e.g. `scripts/dev.sh --rpc-external`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
# The whole workspace, as scripts/test.sh selects it, not `-p dsync-node`: a package selected on
# the command line gets its `default` feature, one reached through `default-features = false`
# does not, and a different feature set is a different build. With `-p dsync-node` the runtime,
# the pallets and the primitives (and so the node and the Wasm runtime) would be compiled once
# for this command and once more for the tests. The only extra is aivm (no new dependency).
cargo build --release --locked --workspace
exec "$DSYNC_NODE" --dev --tmp --rpc-cors all "$@"
