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

wbuild="$CARGO_TARGET_DIR/release/wbuild"
main="$wbuild/dsync-runtime"
if [[ ! -f "$main/Cargo.toml" || ! -f "$main/Cargo.lock" ]]; then
  echo "no Wasm build project at $main: build the node first (cargo build --release)" >&2
  exit 1
fi

project="$wbuild/dsync-runtime-upgrade-test"
mkdir -p "$project/src"
# The node's Wasm project, with the feature on and another library name (so its output never
# replaces the node's blob), pointing at this checkout's runtime. The node's project lists the
# runtime's features the node turned on (`metadata-hash`, which only matters to the Wasm
# builder): this blob is built once, without the metadata hash, so mode-1 transactions
# (`CheckMetadataHash`) are refused once a chain runs it; it serves the upgrade test only.
sed -e 's/^features = \[.*\]$/features = ["upgrade-test"]/' \
  -e 's/^name = "dsync_runtime"$/name = "dsync_runtime_upgrade_test"/' \
  -e 's/^name = "dsync-runtime-blob"$/name = "dsync-runtime-upgrade-test-blob"/' \
  -e "s|^path = .*|path = \"$PWD/runtime\"|" \
  "$main/Cargo.toml" >"$project/Cargo.toml"
grep -q '"upgrade-test"' "$project/Cargo.toml" || {
  echo "unexpected Wasm project manifest $main/Cargo.toml (features not empty?)" >&2
  exit 1
}
cp "$main/Cargo.lock" "$project/Cargo.lock"
cp "$main/src/lib.rs" "$project/src/lib.rs"

# The flags substrate-wasm-builder uses for this toolchain (wasm32v1-none), so the dependencies
# compiled for the node's blob are reused from the same target directory.
env -u CARGO_ENCODED_RUSTFLAGS -u RUSTC \
  CARGO_TARGET_DIR="$main/target" \
  RUSTFLAGS="-C link-arg=--export-table -C link-arg=--export=__heap_base -C link-arg=--import-memory --cfg substrate_runtime " \
  SKIP_WASM_BUILD="" \
  cargo rustc --quiet --target=wasm32v1-none --manifest-path="$project/Cargo.toml" --profile release >&2

wasm="$main/target/wasm32v1-none/release/dsync_runtime_upgrade_test.wasm"
out="$project/dsync_runtime_upgrade_test.compressed.wasm"
# sp-maybe-compressed-blob's format: its 8-byte magic, then a zstd frame.
{
  printf '\x52\xbc\x53\x76\x46\xdb\x8e\x05'
  zstd -q -19 -c "$wasm"
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
