#!/usr/bin/env bash
# The whole test suite, from a fresh clone: setup, unit and runtime integration tests (which
# also build the node binary), then the end-to-end tests against the real node.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
start=$(date +%s)
echo "== module import graphs of the runtime and the node (no cycle, one direction)"
scripts/check-module-graph.py
echo "== one build for scripts/dev.sh and the tests (dev-dependencies change no feature of the node's crates)"
scripts/check-shared-build.sh
echo "== cargo test (release profile: the same build the node uses)"
cargo test --release --locked --workspace
echo "== whole-runtime fuzzer: every committed input and crash replayed (fuzz/README.md)"
fuzz/run.sh replay
echo "== end-to-end tests (dsync-node + @polkadot/api)"
tests/e2e/run.sh
echo "== the local network under faults (zombienet, native provider: validators paused, resumed, restarted)"
zombienet/run.sh
echo "== operator units: every flag of docs/operators/systemd exists in the binaries, systemd accepts the units"
scripts/check-operator-units.sh
echo "== operator units run under systemd with their hardening (systemd as PID 1 of its own namespaces)"
scripts/test-operator-units.sh
# Last, since it rebuilds the aivm binary with the feature (the end-to-end tests use the
# default build). Without a GPU the tests run on Mesa's lavapipe, which the back-end only
# accepts when AIVM_GPU_ALLOW_CPU=1.
echo "== aivm's GPU back-end (cargo feature gpu, wgpu on Vulkan; lavapipe without a GPU)"
mkdir -p "${XDG_RUNTIME_DIR:=/tmp/dsync-xdg-$(id -u)}" && chmod 700 "$XDG_RUNTIME_DIR"
XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" AIVM_GPU_ALLOW_CPU=1 \
	cargo test --release --locked -p dsync-aivm --features gpu
echo "== all tests passed in $(( $(date +%s) - start )) s"
