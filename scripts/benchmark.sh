#!/usr/bin/env bash
# Regenerate the weights of the DSYNC pallets from real benchmarks of the runtime.
# Builds dsync-node with `--features runtime-benchmarks` (a separate build: the feature changes
# the runtime) and writes each pallet's `src/weights.rs`. Record the machine and date in
# benchmarks/weights.md after running it.
#   scripts/benchmark.sh [pallet ...]     default: every DSYNC pallet (pallet_tokenomics,
#                                          pallet_node_registry, pallet_proof_of_sync,
#                                          pallet_gpu_jobs, pallet_naming,
#                                          pallet_storage)
#   scripts/benchmark.sh pallet=call,call  only those calls, spliced into the pallet's
#                                          weights.rs by scripts/splice-weights.py (the other
#                                          functions stay; the header notes the partial run)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# A target directory of its own: the Wasm runtime built with `runtime-benchmarks` must never
# overwrite the one the normal node embeds (both live under <target>/release/wbuild).
export CARGO_TARGET_DIR="${BENCH_CARGO_TARGET_DIR:-$CARGO_TARGET_DIR-bench}"
pallets=("$@")
[ ${#pallets[@]} -eq 0 ] && pallets=(pallet_tokenomics pallet_node_registry pallet_proof_of_sync pallet_gpu_jobs pallet_naming pallet_storage)
cargo build --release --locked -p dsync-node --features runtime-benchmarks
for arg in "${pallets[@]}"; do
	pallet="${arg%%=*}"
	calls="*"
	[[ "$arg" == *=* ]] && calls="${arg#*=}"
	name="${pallet#pallet_}"
	dir="pallets/${name//_/-}"
	output="$dir/src/weights.rs"
	[ "$calls" != "*" ] && output="$(mktemp --suffix=.rs)"
	"$CARGO_TARGET_DIR/release/dsync-node" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic "$calls" \
		--steps 50 \
		--repeat 20 \
		--heap-pages 4096 \
		--template scripts/weight-template.hbs \
		--header scripts/weight-header.txt \
		--output "$output"
	if [ "$calls" != "*" ]; then
		scripts/splice-weights.py "$output" "$dir/src/weights.rs" ${calls//,/ }
		rm -f "$output"
	fi
	echo "wrote $dir/src/weights.rs"
done
