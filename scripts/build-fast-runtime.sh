#!/usr/bin/env bash
# Builds the runtime with the `fast-runtime` feature (one-minute BABE epochs, two-session eras;
# the same `spec_version`) as a plain Wasm file alone in a directory, for
# `dsync-node --wasm-runtime-overrides <dir>`: every node of a test network started with it runs
# the fast runtime from genesis (BABE takes its epoch length from the runtime at genesis), so
# sessions and eras turn within a test. Test networks only. Prints the directory.
# Needs the node built first: it reuses the node's Wasm project and target directory, as
# scripts/build-upgrade-runtime.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
wbuild="$CARGO_TARGET_DIR/release/wbuild"
main="$wbuild/dsync-runtime"
if [[ ! -f "$main/Cargo.toml" || ! -f "$main/Cargo.lock" ]]; then
	echo "no Wasm build project at $main: build the node first (cargo build --release --locked --workspace)" >&2
	exit 1
fi
project="$wbuild/dsync-runtime-fast"
mkdir -p "$project/src"
sed -e 's/^features = \[.*\]$/features = ["fast-runtime"]/' \
	-e 's/^name = "dsync_runtime"$/name = "dsync_runtime_fast"/' \
	-e 's/^name = "dsync-runtime-blob"$/name = "dsync-runtime-fast-blob"/' \
	-e "s|^path = .*|path = \"$PWD/runtime\"|" \
	"$main/Cargo.toml" >"$project/Cargo.toml"
grep -q '"fast-runtime"' "$project/Cargo.toml" || {
	echo "unexpected Wasm project manifest $main/Cargo.toml (no features line?)" >&2
	exit 1
}
cp "$main/Cargo.lock" "$project/Cargo.lock"
cp "$main/src/lib.rs" "$project/src/lib.rs"
env -u CARGO_ENCODED_RUSTFLAGS -u RUSTC \
	CARGO_TARGET_DIR="$main/target" \
	RUSTFLAGS="-C link-arg=--export-table -C link-arg=--export=__heap_base -C link-arg=--import-memory --cfg substrate_runtime " \
	SKIP_WASM_BUILD="" \
	cargo rustc --quiet --target=wasm32v1-none --manifest-path="$project/Cargo.toml" --profile release >&2
out="$project/overrides"
rm -rf "$out" && mkdir -p "$out"
cp "$main/target/wasm32v1-none/release/dsync_runtime_fast.wasm" "$out/"
echo "$out"
