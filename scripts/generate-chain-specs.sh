#!/usr/bin/env bash
# Regenerate the committed chain specs of the four-validator local network from the runtime's
# `local_testnet` preset. Run after every change of the runtime or its presets; the test
# `node/tests/chain_spec.rs` fails while the committed plain spec is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
if [ "${1:-}" != "--no-build" ]; then
	# The whole workspace, as scripts/dev.sh and scripts/test.sh build it (one shared build).
	cargo build --release --locked --workspace
fi
"$DSYNC_NODE" export-chain-spec --chain local > chain-specs/local.json
"$DSYNC_NODE" export-chain-spec --chain local --raw > chain-specs/local-raw.json
echo "wrote chain-specs/local.json and chain-specs/local-raw.json"
