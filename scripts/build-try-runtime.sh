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

source scripts/wasm-variant.sh

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
