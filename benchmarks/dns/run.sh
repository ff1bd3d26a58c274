#!/usr/bin/env bash
# DNS throughput of dsync-node's DNS front-end beside NSD, in one command:
#
#   1. a development node with its DNS server on 127.0.0.1:$DNS_PORT;
#   2. populate.mjs: 2,000 names with one A record each (subnames of bench.dsync), finalised;
#   3. a check that dig gets the right answer for a sample of names;
#   4. dnsperf against the node, then against NSD (Debian package) serving the same 2,000
#      records on 127.0.0.1:$NSD_PORT, same query file, same dnsperf settings;
#   5. raw outputs into benchmarks/dns/results-<date>.txt and the ratio.
#
# Usage: benchmarks/dns/run.sh           (needs dnsperf, nsd, dig, node; ~2 minutes)
# Environment: DSYNC_NODE, COUNT (2000), SECONDS_PER_RUN (20), CLIENTS (10), DNS_PORT (5353),
# NSD_PORT (5354), RESULTS.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$ROOT/scripts/env.sh"
COUNT="${COUNT:-2000}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-20}"
CLIENTS="${CLIENTS:-10}"
DNS_PORT="${DNS_PORT:-5353}"
NSD_PORT="${NSD_PORT:-5354}"
RPC_PORT="${RPC_PORT:-9977}"
RESULTS="${RESULTS:-$HERE/results-$(date -u +%Y-%m-%d-%H%M%S).txt}"
for tool in dnsperf nsd dig node; do
	command -v "$tool" >/dev/null || { echo "dns bench: $tool is missing (apt-get install dnsperf nsd bind9-dnsutils nodejs)" >&2; exit 1; }
done
[ -d "$ROOT/tests/e2e/node_modules" ] || (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/dsync-dns-bench.XXXXXX")"
NODE_PID=""; NSD_PID=""
cleanup() {
	[ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null || true
	[ -n "$NSD_PID" ] && kill "$NSD_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

{
	echo "# DNS benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# machine: $(nproc) vCPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
	echo "# node: $("$DSYNC_NODE" --version)"
	echo "# nsd: $(nsd -v 2>&1 | head -1); dnsperf: $(dnsperf -h 2>&1 | grep -m1 -i version || echo unknown)"
	echo "# $COUNT names, $SECONDS_PER_RUN s per run, $CLIENTS clients"
} | tee "$RESULTS"

"$DSYNC_NODE" --dev --tmp --no-prometheus --no-telemetry --no-mdns --rpc-port "$RPC_PORT" \
	--listen-addr /ip4/127.0.0.1/tcp/0 --dns-listen-addr "127.0.0.1:$DNS_PORT" --dns-rate-limit 0 --dns-rrl-rate 0 \
	>"$WORK/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 1 120); do
	curl -sf -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"system_health"}' \
		"http://127.0.0.1:$RPC_PORT" >/dev/null && break
	sleep 1
done
node "$HERE/populate.mjs" "ws://127.0.0.1:$RPC_PORT" "$COUNT" "$WORK"

# The answers are right before they are fast.
for i in 0 1 $((COUNT / 2)) $((COUNT - 1)); do
	want="10.$(((i >> 16) & 255)).$(((i >> 8) & 255)).$((i & 255))"
	got="$(dig @127.0.0.1 -p "$DNS_PORT" "h$i.bench.dsync" A +short)"
	[ "$got" = "$want" ] || { echo "dns bench: h$i.bench.dsync gave '$got', expected $want" >&2; exit 1; }
done
echo "answers checked" | tee -a "$RESULTS"

perf() {
	dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries.txt" -l "$SECONDS_PER_RUN" -c "$CLIENTS" -q 1000 2>&1
}
echo "## dsync-node" | tee -a "$RESULTS"
perf "$DNS_PORT" | tee "$WORK/dsync.out" | tee -a "$RESULTS"

cat >"$WORK/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1@$NSD_PORT
	server-count: 1
	zonesdir: "$WORK"
	database: ""
	pidfile: "$WORK/nsd.pid"
	xfrdfile: "$WORK/xfrd.state"
	zonelistfile: "$WORK/zone.list"
	username: ""
	logfile: "$WORK/nsd.log"
	verbosity: 0
remote-control:
	control-enable: no
zone:
	name: dsync.
	zonefile: dsync.zone
CONF
nsd -d -c "$WORK/nsd.conf" &
NSD_PID=$!
sleep 2
[ "$(dig @127.0.0.1 -p "$NSD_PORT" h1.bench.dsync A +short)" = "10.0.0.1" ] || { echo "dns bench: NSD does not answer" >&2; cat "$WORK/nsd.log" >&2 || true; exit 1; }
echo "## nsd" | tee -a "$RESULTS"
perf "$NSD_PORT" | tee "$WORK/nsd.out" | tee -a "$RESULTS"

qps() { awk '/Queries per second:/{print $4}' "$1"; }
ours="$(qps "$WORK/dsync.out")"; theirs="$(qps "$WORK/nsd.out")"
ratio="$(awk -v a="$ours" -v b="$theirs" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
echo "summary: dsync-node $ours q/s, nsd $theirs q/s, ratio $ratio" | tee -a "$RESULTS"
