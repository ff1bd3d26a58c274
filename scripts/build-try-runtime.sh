#!/usr/bin/env bash
# Builds the runtime once more with the `try-runtime` feature (the same `spec_version` as the
# node's runtime) as a plain Wasm file, into a directory that holds nothing else, for
# `dsync-node --wasm-runtime-overrides <dir>`. A node started with it executes every block whose
# on-chain runtime has the same `spec_version` and `spec_name` with this Wasm instead, which
# implements the `TryRuntime` runtime API: the end-to-end suites (tests/e2e/lib/try-runtime.mjs)
# restart one node of their chain with it and call `TryRuntime_execute_block` and
# `TryRuntime_on_runtime_upgrade` through `state_call`, so every pallet's `try_state` runs on the
# chain's real final state.
#
#   scripts/build-try-runtime.sh                 # prints the directory
#   scripts/build-try-runtime.sh --upgrade-test  # the same, plus the try-runtime build of the
#                                                # upgrade runtime (`upgrade-test`, spec_version
#                                                # one higher, as scripts/build-upgrade-runtime.sh)
#                                                # for the governance suite's upgraded chain
#
# The node picks an override by `spec_version` alone (and ignores it when `spec_name` differs):
# a chain whose runtime has another `spec_version` runs its on-chain code, and two files with the
# same `spec_version` in the directory stop the node at start. Each run rewrites the directory
# with only what it built. The node logs each file it found ("Found wasm override.").
#
# Needs the node built first (cargo build --release / cargo test --release): it reuses the Wasm
# build project and the target directory the node's build left, with the same flags, as
# scripts/build-upgrade-runtime.sh does. Unlike the upgrade runtime, the `try-runtime` feature
# also turns on the `try-runtime` features of frame-support, frame-system, sp-runtime, the
# pallets and whatever depends on them, so the first run compiles most of the runtime's
# dependencies for Wasm anew (their artifacts for the node's blob stay as they are; later runs
# reuse these). The `--upgrade-test` variant then only recompiles the runtime crate.
set -euo pipefail
# `wasm="$(build_variant ...)"` must stop at the first failing command inside the function too.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
source scripts/env.sh

with_upgrade=0
for arg in "$@"; do
  case "$arg" in
    --upgrade-test) with_upgrade=1 ;;
    *)
      echo "usage: $0 [--upgrade-test]" >&2
      exit 2
      ;;
  esac
done

wbuild="$CARGO_TARGET_DIR/release/wbuild"
main="$wbuild/dsync-runtime"
if [[ ! -f "$main/Cargo.toml" || ! -f "$main/Cargo.lock" ]]; then
  echo "no Wasm build project at $main: build the node first (cargo build --release)" >&2
  exit 1
fi

# build_variant <suffix> <features, as the items of a TOML list>: builds the node's Wasm project
# with those features and another package and library name (so its output never replaces the
# node's blob nor the upgrade blob), pointing at this checkout's runtime; prints the path of the
# plain Wasm file cargo wrote.
build_variant() {
  local suffix="$1" features="$2"
  local project="$wbuild/dsync-runtime-$suffix"
  local lib="dsync_runtime_${suffix//-/_}"
  mkdir -p "$project/src"
  # The node's project lists the runtime features the node turned on (`metadata-hash`, which
  # only matters to the Wasm builder); the variant has its own.
  sed -e "s/^features = \[.*\]$/features = [$features]/" \
    -e "s/^name = \"dsync_runtime\"$/name = \"$lib\"/" \
    -e "s/^name = \"dsync-runtime-blob\"$/name = \"dsync-runtime-$suffix-blob\"/" \
    -e "s|^path = .*|path = \"$PWD/runtime\"|" \
    "$main/Cargo.toml" >"$project/Cargo.toml"
  if ! grep -qxF "features = [$features]" "$project/Cargo.toml" ||
    ! grep -qxF "name = \"$lib\"" "$project/Cargo.toml"; then
    echo "unexpected Wasm project manifest $main/Cargo.toml (no features line? library not dsync_runtime?)" >&2
    return 1
  fi
  cp "$main/Cargo.lock" "$project/Cargo.lock" || return 1
  cp "$main/src/lib.rs" "$project/src/lib.rs" || return 1

  # The flags substrate-wasm-builder uses for this toolchain (wasm32v1-none), so whatever was
  # compiled for the node's blob with the same features is reused from the same target directory.
  echo "[try-runtime] building $lib (features $features)" >&2
  env -u CARGO_ENCODED_RUSTFLAGS -u RUSTC \
    CARGO_TARGET_DIR="$main/target" \
    RUSTFLAGS="-C link-arg=--export-table -C link-arg=--export=__heap_base -C link-arg=--import-memory --cfg substrate_runtime " \
    SKIP_WASM_BUILD="" \
    cargo rustc --quiet --target=wasm32v1-none --manifest-path="$project/Cargo.toml" --profile release >&2 ||
    return 1

  local wasm="$main/target/wasm32v1-none/release/$lib.wasm"
  if [[ ! -s "$wasm" ]]; then
    echo "cargo wrote no $wasm" >&2
    return 1
  fi
  echo "$wasm"
}

# The directory holds nothing but the override(s): the node loads every `*.wasm` file in it
# (plain or compressed; the plain file skips a zstd step and decompressing at every start).
out="$wbuild/dsync-runtime-try-runtime/overrides"
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
wasm="$(build_variant try-runtime '"try-runtime"')"
cp "$wasm" "$out.tmp/dsync_runtime_try_runtime.wasm"
if ((with_upgrade)); then
  wasm="$(build_variant try-runtime-upgrade-test '"try-runtime", "upgrade-test"')"
  cp "$wasm" "$out.tmp/dsync_runtime_try_runtime_upgrade_test.wasm"
fi
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
