#!/usr/bin/env bash
# Builds the runtime once more with the `upgrade-test` feature (the same runtime, `spec_version`
# one higher) as a compressed Wasm blob, for the end-to-end test of a runtime upgrade by
# referendum (tests/e2e/governance.test.mjs).
#
#   scripts/build-upgrade-runtime.sh     # prints the path of the blob
#
# Needs the node built first (cargo build --release / cargo test --release): it reuses the Wasm
# build project and dependencies the node's build left in the target directory, with the same
# flags, so only the runtime crate itself is compiled again (a few minutes). The node's own Wasm
# blob is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

shopt -s inherit_errexit
source scripts/wasm-variant.sh

# Built once, without the metadata hash (the Wasm builder's second pass), so mode-1
# transactions (`CheckMetadataHash`) are refused once a chain runs it; it serves the upgrade
# test only.
wasm="$(build_variant upgrade-test '"upgrade-test"')"
out="$wbuild/dsync-runtime-upgrade-test/dsync_runtime_upgrade_test.compressed.wasm"
# sp-maybe-compressed-blob's format: its 8-byte magic, then a zstd frame.
{
  printf '\x52\xbc\x53\x76\x46\xdb\x8e\x05'
  zstd -q -19 -c "$wasm"
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
