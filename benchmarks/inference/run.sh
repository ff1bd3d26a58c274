#!/usr/bin/env bash
# The inference benchmark in one command (see README.md beside this file):
#
#   1. `aivm bench` (in-process engine throughput, every CPU back-end), all cores and 1 thread;
#   2. onnxruntime on the same model (ort_bench.py): float32 and int8 dynamic quantisation;
#   3. the HTTP server under wrk on loopback: checked against the test vectors first, then
#      single-item JSON (latency and throughput), 1024-item JSON batches, 4096-item binary
#      batches;
#   4. everything raw into benchmarks/inference/results-<date>.txt, and a summary table.
#
# Usage: benchmarks/inference/run.sh            # the whole measurement (~2 minutes)
#        benchmarks/inference/run.sh --setup    # only install the Python packages and wrk
#
# Environment (all optional):
#   AIVM             the aivm binary (default ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/aivm;
#                    build it with `cargo build --release -p dsync-aivm`)
#   AIVM_BENCH_VENV  the Python virtual environment (default $HOME/.cache/dsync-aivm-bench-venv)
#   BENCH_SECONDS    timed seconds per in-process measurement (default 3)
#   WRK_SECONDS      seconds per wrk run (default 10)
#   RESULTS          the raw results file (default benchmarks/inference/results-<date>.txt)
# Only 127.0.0.1 is ever contacted (plus the package registries by pip and apt-get).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
AIVM="${AIVM:-${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/aivm}"
VENV="${AIVM_BENCH_VENV:-$HOME/.cache/dsync-aivm-bench-venv}"
BENCH_SECONDS="${BENCH_SECONDS:-3}"
WRK_SECONDS="${WRK_SECONDS:-10}"
RESULTS="${RESULTS:-$HERE/results-$(date -u +%Y-%m-%d-%H%M%S).txt}"
BATCH=4096        # in-process batch (aivm bench, ort_bench.py) and binary HTTP batch
JSON_BATCH=1024   # items per batched JSON request
SETUP_ONLY=0

case "${1:-}" in
	"") ;;
	--setup) SETUP_ONLY=1 ;;
	-h | --help) sed -n '2,21p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "run.sh: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Setup (idempotent)
# ---------------------------------------------------------------------------------------------

if [[ "$SETUP_ONLY" == 0 ]]; then
	[[ -x "$AIVM" ]] || die "no aivm binary at $AIVM
  build it first:  cargo build --release -p dsync-aivm
  (or point AIVM at one: AIVM=/path/to/aivm $0)"
fi

apt_install() { # apt_install PACKAGE...: as root, or through sudo
	local sudo=()
	if [[ "$(id -u)" != 0 ]]; then
		command -v sudo >/dev/null || die "need root (or sudo) to apt-get install $*"
		sudo=(sudo)
	fi
	log "apt-get install $*"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
		|| { "${sudo[@]}" apt-get update -q >/dev/null \
			&& "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; } \
		|| die "apt-get install $* failed"
}

missing=()
for tool in wrk curl; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
[[ ${#missing[@]} == 0 ]] || apt_install "${missing[@]}"

if [[ ! -x "$VENV/bin/python" ]]; then
	log "creating the Python environment $VENV"
	python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
fi
PY="$VENV/bin/python"
want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [[ "$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)" != "$want" ]]; then
	log "pip install -r benchmarks/inference/requirements.txt"
	"$PY" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt"
	echo "$want" >"$VENV/.requirements.sha256"
fi

if [[ "$SETUP_ONLY" == 1 ]]; then
	log "setup done: $PY, $(command -v wrk)"
	exit 0
fi

# ---------------------------------------------------------------------------------------------
# Cleanup: the server and the temporary folder go whatever happens
# ---------------------------------------------------------------------------------------------

WORK="$(mktemp -d "${TMPDIR:-/tmp}/aivm-bench.XXXXXX")"
SERVER_PID=""
cleanup() {
	local status=$?
	if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
	if [[ $status != 0 ]]; then
		echo "run.sh: FAILED (exit $status); what was measured so far is in $RESULTS" >&2
	fi
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

: >"$RESULTS"
out() { tee -a "$RESULTS"; }          # stdout and the results file
section() { printf '\n## %s\n' "$*" | out; }

# ---------------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------------

{
	echo "# aivm inference benchmark, raw results"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -v '^??' || true)" ]]; then
		commit="$commit (with uncommitted changes)"
	fi
	echo "commit: $commit"
	echo "cpu: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
	echo "cpu flags: $(grep -m1 -o -E 'avx512_vnni|avx512f|avx2|avx_vnni' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ' || true)"
	echo "memory: $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB"}')"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "aivm: $AIVM ($("$AIVM" --version 2>&1 | head -1))"
	echo "wrk: $({ wrk -v 2>&1 || true; } | head -1)"
	echo "python: $("$PY" --version 2>&1)"
} | out

# ---------------------------------------------------------------------------------------------
# 1. aivm in-process
# ---------------------------------------------------------------------------------------------

section "aivm bench --seconds $BENCH_SECONDS --batch $BATCH (all cores)"
"$AIVM" bench --seconds "$BENCH_SECONDS" --batch "$BATCH" 2>&1 | out
section "aivm bench --seconds $BENCH_SECONDS --batch $BATCH --threads 1"
"$AIVM" bench --seconds "$BENCH_SECONDS" --batch "$BATCH" --threads 1 2>&1 | out

# ---------------------------------------------------------------------------------------------
# 2. onnxruntime in-process
# ---------------------------------------------------------------------------------------------

section "ort_bench.py --seconds $BENCH_SECONDS --batch $BATCH --threads 0,1"
"$PY" "$HERE/ort_bench.py" --seconds "$BENCH_SECONDS" --batch "$BATCH" --threads 0,1 2>&1 | out

# ---------------------------------------------------------------------------------------------
# 3. The HTTP server
# ---------------------------------------------------------------------------------------------

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
section "aivm --listen 127.0.0.1:$PORT (defaults: all cores, --max-batch 4096, --max-wait-us 0)"
"$AIVM" --listen "127.0.0.1:$PORT" >"$WORK/aivm.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 150); do
	kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/aivm.log" >&2; die "aivm exited at start"; }
	curl -fsS --max-time 1 "$BASE/health" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS --max-time 2 "$BASE/health" >/dev/null || die "aivm did not answer GET /health in 30 s"
"$PY" "$HERE/check_server.py" "$BASE" 2>&1 | out

"$PY" "$HERE/make_bodies.py" "$WORK/bodies" --json-batch "$JSON_BATCH" --binary-batch "$BATCH" \
	>/dev/null

counter() { # counter NAME: a counter from GET /metrics
	curl -fsS --max-time 5 "$BASE/metrics" | awk -v name="$1" '$1 == name {print $2}'
}

# wrk_run SCENARIO THREADS CONNECTIONS SECONDS SCRIPT PATH BODY_FILE: one wrk run, its output and
# a RESULT line (from the script's done()), then the server's engine runs during it (METRICS).
wrk_run() {
	local scenario=$1 threads=$2 connections=$3 seconds=$4 script=$5 path=$6 body=$7
	section "wrk $scenario: -t$threads -c$connections -d${seconds}s --latency $script $path"
	local runs0 items0 runs1 items1
	runs0="$(counter aivm_engine_runs_total)"
	items0="$(counter aivm_inferences_total)"
	AIVM_SCENARIO="$scenario" AIVM_WRK_THREADS="$threads" AIVM_WRK_CONNECTIONS="$connections" \
		AIVM_BODY_FILE="$body" \
		wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout 10s --latency \
		-s "$HERE/$script" "$BASE$path" 2>&1 | out
	runs1="$(counter aivm_engine_runs_total)"
	items1="$(counter aivm_inferences_total)"
	awk -v s="$scenario" -v r0="$runs0" -v r1="$runs1" -v i0="$items0" -v i1="$items1" 'BEGIN {
		r = r1 - r0; i = i1 - i0
		printf "METRICS scenario=%s engine_runs=%d inferences=%d items_per_engine_run=%.1f\n",
			s, r, i, (r > 0 ? i / r : 0) }' | out
	kill -0 "$SERVER_PID" 2>/dev/null || die "aivm died during $scenario (log: $(tail -5 "$WORK/aivm.log"))"
}

B="$WORK/bodies"
wrk_run warm-up 2 8 2 infer_single.lua /v1/infer "$B/single.jsonl"
wrk_run single-json-c8 2 8 "$WRK_SECONDS" infer_single.lua /v1/infer "$B/single.jsonl"
wrk_run single-json-c64 2 64 "$WRK_SECONDS" infer_single.lua /v1/infer "$B/single.jsonl"
wrk_run "batch-json-$JSON_BATCH" 2 4 "$WRK_SECONDS" infer_batch_json.lua /v1/infer \
	"$B/batch-$JSON_BATCH.json"
wrk_run "batch-binary-$BATCH" 2 4 "$WRK_SECONDS" infer_binary.lua "/v1/infer/binary?model=digits" \
	"$B/batch-$BATCH.bin"

section "GET /metrics at the end"
curl -fsS --max-time 5 "$BASE/metrics" | grep -v '^#' | out
section "aivm log"
out <"$WORK/aivm.log"

# ---------------------------------------------------------------------------------------------
# 4. Summary
# ---------------------------------------------------------------------------------------------

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | out
section "summary"
"$PY" "$HERE/summarize.py" "$RESULTS" | tee "$WORK/summary.txt"
cat "$WORK/summary.txt" >>"$RESULTS"
echo
log "raw results: $RESULTS"
if grep -q '^WARNING' "$WORK/summary.txt"; then
	die "wrk saw errors or non-2xx answers (see the WARNING lines): the HTTP numbers are not valid"
fi
