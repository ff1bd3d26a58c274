#!/usr/bin/env bash
# Builds the runtime with the `fast-runtime` feature (one-minute BABE epochs, two-session eras;
# the same `spec_version`) as a plain Wasm file alone in a directory, for
# `dsync-node --wasm-runtime-overrides <dir>`: every node of a test network started with it runs
# the fast runtime from genesis (BABE takes its epoch length from the runtime at genesis), so
# sessions and eras turn within a test. Test networks only. Prints the directory.
# Needs the node built first (scripts/wasm-variant.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
shopt -s inherit_errexit
source scripts/wasm-variant.sh

wasm="$(build_variant fast '"fast-runtime"')"
out="$wbuild/dsync-runtime-fast/overrides"
rm -rf "$out" && mkdir -p "$out"
cp "$wasm" "$out/"
echo "$out"
