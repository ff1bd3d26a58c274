#!/usr/bin/env bash
# The README's two commands share one build: scripts/dev.sh (`cargo build --release --workspace`)
# must compile every crate with the features scripts/test.sh (`cargo test --release --workspace`)
# compiles it with, or whichever runs second compiles those crates, the node and the Wasm
# runtime again (a crate's feature set is part of its build's identity). Both select the whole
# workspace, so they resolve the same features, unless a dev-dependency turns on a feature the
# normal build lacks (resolver 2 adds dev-dependencies' features when tests are built): this
# lists each crate whose features the tests change and fails. Resolves only, builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
features() {
	cargo tree --locked --workspace --edges "$1" --prefix none --format '{p} [{f}]' |
		sed 's/ (\*)$//' | sort -u
}
differ="$(comm -23 <(features normal,build) <(features normal,build,dev))"
if [[ -n "$differ" ]]; then
	echo "dev-dependencies change the features of these crates of the node build (give the" >&2
	echo "normal dependency the same features, or drop them from the dev-dependency):" >&2
	echo "$differ" >&2
	exit 1
fi
echo "the node build and the test build resolve the same features"
