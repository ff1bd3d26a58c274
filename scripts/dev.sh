#!/usr/bin/env bash
# Set up the machine, build the node and start a development chain (Alice validates alone,
# blocks every 6 s, state kept in a temporary directory). Extra arguments go to the node,
# e.g. `scripts/dev.sh --rpc-external`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
cargo build --release --locked -p dsync-node
exec "$DSYNC_NODE" --dev --tmp --rpc-cors all "$@"
