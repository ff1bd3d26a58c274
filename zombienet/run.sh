#!/usr/bin/env bash
# The fault tests of the four-validator local network (zombienet/faults.zndsl), driven by
# zombienet v1 (@zombienet/cli from npm) with its native provider: the four nodes run here as
# plain processes, nothing is downloaded. Scenarios: one of four validators paused (finality
# goes on), two paused (blocks go on, finality stalls), both resumed (finality catches up, no
# finalised block reorganised), a validator killed and restarted on its database (nothing lost).
#
#   zombienet/run.sh        # needs dsync-node built (DSYNC_NODE or the default target dir)
#
# Bounded: zombienet kills its nodes at the end or on a failed assertion; `timeout` bounds the
# whole run and kills the process group (nodes included) if zombienet itself hangs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

stamp="node_modules/.dsync-zombienet-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -d node_modules || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
	echo "[zombienet] installing @zombienet/cli (npm ci)"
	npm ci --ignore-scripts --no-audit --no-fund
	echo "$want" >"$stamp"
fi

export DSYNC_NODE_BIN="${DSYNC_NODE:-${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node}"
if [[ ! -x "$DSYNC_NODE_BIN" ]]; then
	echo "[zombienet] dsync-node not found or not executable: $DSYNC_NODE_BIN" >&2
	exit 1
fi
work="$(mktemp -d -t dsync-zombienet-XXXXXX)"
echo "[zombienet] $DSYNC_NODE_BIN, work dir $work"
status=0
# setsid: its own process group, so `timeout` (and a Ctrl-C) reaches every node it started.
setsid -w timeout -k 30 "${DSYNC_ZOMBIENET_TIMEOUT:-1200}" \
	npx zombienet -p native -l text -d "$work" -f test faults.zndsl || status=$?
# Whatever happened, no node of this run survives it.
pkill -9 -f -- "--base-path $work/" 2>/dev/null || true
if [[ $status -eq 0 && "${DSYNC_E2E_KEEP:-0}" != 1 ]]; then
	rm -rf "$work"
else
	echo "[zombienet] logs kept in $work/logs" >&2
fi
exit $status
