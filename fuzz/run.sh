#!/usr/bin/env bash
# The whole-runtime fuzzer (fuzz/README.md), built with libFuzzer's coverage instrumentation into
# its own target directory ($DSYNC_FUZZ_TARGET_DIR, default ~/.cache/dsync-fuzz-target).
#
#   fuzz/run.sh replay              every committed input (corpus/runtime, crashes/runtime) once;
#                                   fails on the first crash (CI runs this)
#   fuzz/run.sh campaign SECONDS    fuzz for SECONDS (new inputs into $DSYNC_FUZZ_CORPUS, crashes
#                                   into crashes/runtime, counters into $DSYNC_FUZZ_STATS)
#   fuzz/run.sh seeds               regenerate the seed corpus (corpus/runtime/seed-*)
#   fuzz/run.sh build               only build
#
# Environment: DSYNC_FUZZ_SLOW_CHECKS_EVERY (see src/invariants.rs; the campaign's default 16),
# DSYNC_FUZZ_MAX_BLOCKS (blocks per input, 1 to 48, default 48; see src/lib.rs),
# DSYNC_FUZZ_TIME_FACTOR (weights scale for the time check, see src/lib.rs),
# DSYNC_FUZZ_TIME=record (record calls over their weight instead of failing), DSYNC_FUZZ_STATS
# (counters file), DSYNC_FUZZ_CORPUS (campaign corpus, default a copy of corpus/runtime under
# $TMPDIR), extra libFuzzer flags after the mode's arguments.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export CARGO_TARGET_DIR="${DSYNC_FUZZ_TARGET_DIR:-$HOME/.cache/dsync-fuzz-target}"
# The fuzzer runs the runtime natively: no Wasm blob.
export SKIP_WASM_BUILD=1
TARGET="$(rustc -vV | sed -n 's/^host: //p')"
BIN="$CARGO_TARGET_DIR/$TARGET/release/runtime"

build() {
	# libFuzzer's coverage (what cargo-fuzz passes, without a sanitizer and without comparison
	# tracing, which took a third of the time: the inputs are structured, few comparisons need
	# solving byte by byte). `--target` keeps build scripts and proc macros uninstrumented.
	RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table" \
		RUSTC_WRAPPER="$HERE/rustc-wrapper.sh" \
		cargo build --release --locked --features libfuzzer --bin runtime --target "$TARGET"
}

mode="${1:-replay}"
shift || true
case "$mode" in
build) build ;;
seeds)
	build
	rm -f corpus/runtime/seed-*
	DSYNC_FUZZ_WRITE_SEEDS="$HERE/corpus/runtime" "$BIN"
	;;
replay)
	build
	started=$(date +%s)
	# The instrumented native build is a proxy for the Wasm the weights were measured with, and a
	# replay must not fail on a busy machine: here a call may take up to twice its weight, which
	# still catches a weight that misses a loop (campaigns record the real ratios).
	export DSYNC_FUZZ_TIME_FACTOR="${DSYNC_FUZZ_TIME_FACTOR:-2}"
	# -runs=0: run every input of the directories once, then stop; a crash stops it, non-zero.
	"$BIN" -runs=0 -timeout=120 -rss_limit_mb=4096 "$@" corpus/runtime crashes/runtime
	echo "fuzz replay: $(ls corpus/runtime crashes/runtime | grep -vc '^\(\.gitkeep\|\)$\|:$') inputs passed in $(( $(date +%s) - started )) s"
	;;
campaign)
	seconds="${1:?usage: fuzz/run.sh campaign SECONDS [libFuzzer flags]}"
	shift
	build
	corpus="${DSYNC_FUZZ_CORPUS:-${TMPDIR:-/tmp}/dsync-fuzz-corpus}"
	mkdir -p "$corpus"
	export DSYNC_FUZZ_SLOW_CHECKS_EVERY="${DSYNC_FUZZ_SLOW_CHECKS_EVERY:-16}"
	cp -n corpus/runtime/* "$corpus"/ 2>/dev/null || true
	# Slow inputs are not findings (a block and its checks take milliseconds): never reported.
	"$BIN" -max_total_time="$seconds" -timeout=120 -rss_limit_mb=4096 -max_len=8192 \
		-report_slow_units=1000000 -artifact_prefix="$HERE/crashes/runtime/" \
		-print_final_stats=1 "$@" "$corpus"
	;;
*)
	echo "usage: fuzz/run.sh [replay|campaign SECONDS|seeds|build]" >&2
	exit 2
	;;
esac
