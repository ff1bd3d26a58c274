#!/usr/bin/env bash
# Runs the dsync-node end-to-end tests (the client's CIDs first, then the dev node, then the
# polkadot-api client, then names over DNS, then Proof of Sync, then GPU jobs, then a runtime
# upgrade by referendum, then the 4-validator network, then a fifth validator joining it).
#
#   tests/e2e/run.sh              # all nine (same as `all`)
#   tests/e2e/run.sh cid          # only cid.test.mjs (the CIDs of `dsync store cid` against the
#                                 # JavaScript IPFS importer, profile unixfs-v1-2025; no node,
#                                 # no try-runtime build when it runs alone)
#   tests/e2e/run.sh dev          # only dev.test.mjs
#   tests/e2e/run.sh papi         # only papi.test.mjs (polkadot-api: descriptors generated from
#                                 # the runtime Wasm with `papi add --wasm` into a temp dir, typed
#                                 # storage, every DSYNC runtime API and a transfer over the new
#                                 # JSON-RPC spec, chainHead_v1 / transaction_v1)
#   tests/e2e/run.sh naming       # only naming.test.mjs (names served over DNS; needs dig)
#   tests/e2e/run.sh pos          # only proof-of-sync.test.mjs (a validator probes, scores,
#                                 # rewards and suspends service nodes)
#   tests/e2e/run.sh gpu          # only gpu-jobs.test.mjs (the same setup, then GPU jobs served
#                                 # by B's off-chain worker and a local aivm); also `gpu-jobs`
#   tests/e2e/run.sh governance   # only governance.test.mjs (4 validators, no sudo: a runtime
#                                 # upgrade by preimage + referendum; builds the upgrade blob
#                                 # with scripts/build-upgrade-runtime.sh)
#   tests/e2e/run.sh multinode    # only multinode.test.mjs
#   tests/e2e/run.sh join         # only validator-join.test.mjs (a fifth validator joins `local`,
#                                 # is elected at the next era, authors and votes; every node runs
#                                 # the fast-runtime build, scripts/build-fast-runtime.sh)
#   tests/e2e/run.sh pos gpu      # several selectors: those suites, in the order given
#
# Every suite but cid ends by restarting one of its nodes with the try-runtime build of the runtime
# (`--wasm-runtime-overrides $DSYNC_TRY_RUNTIME_DIR`) and running every pallet's try_state on the
# final state (lib/try-runtime.mjs). Unless DSYNC_TRY_RUNTIME_DIR is set, it is built here once
# with scripts/build-try-runtime.sh (with --upgrade-test when the governance suite runs);
# DSYNC_E2E_TRY_STATE=0 skips the build and those steps (reported as skipped).
#
# Binary: $DSYNC_NODE, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node
# (not needed when only cid runs). The cid suite runs the client instead: $DSYNC_CLIENT, else
# ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync
# The pos and gpu suites also need the inference server: $AIVM, else
# ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/aivm (cargo build --release -p dsync-aivm)
# The papi suite reads the runtime Wasm the node embeds: $DSYNC_RUNTIME_WASM, else
# ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/wbuild/dsync-runtime/dsync_runtime.compact.compressed.wasm
# DSYNC_E2E_KEEP=1 keeps the temp dirs (logs, base paths) even when the tests pass.
# Exits non-zero if anything fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# --- dependencies: npm ci when node_modules is missing or package-lock.json changed ---------
stamp="node_modules/.dsync-e2e-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -d node_modules || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "[e2e] installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi

# --- tests ----------------------------------------------------------------------------------
files=()
for selector in "${@:-all}"; do
  case "$selector" in
    all) files+=(cid.test.mjs dev.test.mjs papi.test.mjs naming.test.mjs proof-of-sync.test.mjs gpu-jobs.test.mjs governance.test.mjs multinode.test.mjs validator-join.test.mjs) ;;
    cid) files+=(cid.test.mjs) ;;
    dev) files+=(dev.test.mjs) ;;
    papi) files+=(papi.test.mjs) ;;
    naming) files+=(naming.test.mjs) ;;
    pos) files+=(proof-of-sync.test.mjs) ;;
    gpu | gpu-jobs) files+=(gpu-jobs.test.mjs) ;;
    governance) files+=(governance.test.mjs) ;;
    multinode) files+=(multinode.test.mjs) ;;
    join) files+=(validator-join.test.mjs) ;;
    *)
      echo "usage: $0 [all|cid|dev|papi|naming|pos|gpu|governance|multinode|join ...]" >&2
      exit 2
      ;;
  esac
done

# Every suite but cid starts dsync-node (and ends with a try_state step on it).
node_suites=0
for f in "${files[@]}"; do
  [[ "$f" == cid.test.mjs ]] || node_suites=$((node_suites + 1))
done

# --- binaries: dsync-node for the node suites, the dsync client for the cid suite -------------
bin="${DSYNC_NODE:-${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node}"
if ((node_suites > 0)); then
  if [[ ! -x "$bin" ]]; then
    echo "[e2e] dsync-node binary not found or not executable: $bin" >&2
    echo "[e2e] build it (cargo build --release --locked --workspace) or set DSYNC_NODE" >&2
    exit 1
  fi
  echo "[e2e] using $bin"
  "$bin" --version || true
fi
if [[ " ${files[*]} " == *" cid.test.mjs "* ]]; then
  client_bin="${DSYNC_CLIENT:-${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync}"
  if [[ ! -x "$client_bin" ]]; then
    echo "[e2e] dsync client binary not found or not executable: $client_bin" >&2
    echo "[e2e] build it (cargo build --release --locked --workspace) or set DSYNC_CLIENT" >&2
    exit 1
  fi
  echo "[e2e] using $client_bin"
fi

# --- aivm (inference server), for the Proof-of-Sync and GPU-jobs suites ----------------------
aivm_bin="${AIVM:-${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/aivm}"
if [[ " ${files[*]} " == *" proof-of-sync.test.mjs "* || " ${files[*]} " == *" gpu-jobs.test.mjs "* ]]; then
  if [[ ! -x "$aivm_bin" ]]; then
    echo "[e2e] aivm binary not found or not executable: $aivm_bin" >&2
    echo "[e2e] build it (cargo build --release -p dsync-aivm) or set AIVM" >&2
    exit 1
  fi
  echo "[e2e] using $aivm_bin"
fi

# --- the runtime Wasm the node embeds, for the papi suite's descriptors ----------------------
if [[ " ${files[*]} " == *" papi.test.mjs "* ]]; then
  wasm="${DSYNC_RUNTIME_WASM:-${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/wbuild/dsync-runtime/dsync_runtime.compact.compressed.wasm}"
  if [[ ! -f "$wasm" ]]; then
    echo "[e2e] runtime Wasm not found: $wasm" >&2
    echo "[e2e] build the node (cargo build --release --locked --workspace) or set DSYNC_RUNTIME_WASM" >&2
    exit 1
  fi
  echo "[e2e] papi descriptors from $wasm"
fi

# --- the fast runtime (one-minute sessions, same spec_version), for the validator-join suite --
if [[ " ${files[*]} " == *" validator-join.test.mjs "* && -z "${DSYNC_FAST_RUNTIME_DIR:-}" ]]; then
  echo "[e2e] building the fast runtime (scripts/build-fast-runtime.sh)"
  DSYNC_FAST_RUNTIME_DIR="$("$here/../../scripts/build-fast-runtime.sh")"
  export DSYNC_FAST_RUNTIME_DIR
  echo "[e2e] using $DSYNC_FAST_RUNTIME_DIR"
fi

# --- the upgraded runtime (spec_version + 1), for the governance suite ------------------------
if [[ " ${files[*]} " == *" governance.test.mjs "* && -z "${DSYNC_UPGRADE_WASM:-}" ]]; then
  echo "[e2e] building the upgrade runtime (scripts/build-upgrade-runtime.sh)"
  DSYNC_UPGRADE_WASM="$("$here/../../scripts/build-upgrade-runtime.sh")"
  export DSYNC_UPGRADE_WASM
  echo "[e2e] using $DSYNC_UPGRADE_WASM"
fi

# --- the try-runtime Wasm (same spec_version), for every suite's final try_state step ---------
if ((node_suites == 0)); then
  echo "[e2e] no suite runs a node: no try-runtime build"
elif [[ "${DSYNC_E2E_TRY_STATE:-1}" == 0 ]]; then
  unset DSYNC_TRY_RUNTIME_DIR
  echo "[e2e] DSYNC_E2E_TRY_STATE=0: the suites' try_state steps are skipped"
elif [[ -z "${DSYNC_TRY_RUNTIME_DIR:-}" ]]; then
  try_args=()
  if [[ " ${files[*]} " == *" governance.test.mjs "* ]]; then
    # the governance chain ends on the upgrade runtime (spec_version + 1)
    try_args+=(--upgrade-test)
  fi
  echo "[e2e] building the try-runtime Wasm (scripts/build-try-runtime.sh ${try_args[*]})"
  DSYNC_TRY_RUNTIME_DIR="$("$here/../../scripts/build-try-runtime.sh" "${try_args[@]}")"
  export DSYNC_TRY_RUNTIME_DIR
  echo "[e2e] using $DSYNC_TRY_RUNTIME_DIR: $(ls "$DSYNC_TRY_RUNTIME_DIR" | tr '\n' ' ')"
else
  echo "[e2e] using $DSYNC_TRY_RUNTIME_DIR (DSYNC_TRY_RUNTIME_DIR)"
fi

# --- safety net: kill any node process group the tests registered but did not reap ----------
# (lib/node.mjs writes one empty file per spawned node pid into $DSYNC_E2E_PIDDIR and removes
# it when the node exits; anything left at the end is killed here, e.g. if node itself was
# SIGKILLed.)
DSYNC_E2E_PIDDIR="$(mktemp -d "${TMPDIR:-/tmp}/dsync-e2e-pids.XXXXXX")"
export DSYNC_E2E_PIDDIR
cleanup() {
  local f pid
  for f in "$DSYNC_E2E_PIDDIR"/*; do
    [[ -e "$f" ]] || continue
    pid="$(basename "$f")"
    # only if that pid still runs the node (or aivm) binary (never a recycled pid)
    if [[ -r "/proc/$pid/cmdline" ]] &&
      tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -e "$(basename "$bin")" -e "$(basename "$aivm_bin")"; then
      echo "[e2e] killing leftover node / aivm process group $pid" >&2
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DSYNC_E2E_PIDDIR"
}
trap cleanup EXIT

# One file at a time, in the order given (`all`: cid first, then dev); node exits non-zero on any failure.
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
