#!/usr/bin/env bash
# DNS throughput of dsync-node's DNS front-end beside NSD, in one command:
#
#   1. a development node with its DNS server on 127.0.0.1:$DNS_PORT;
#   2. populate.mjs: 2,000 names with one A record each (subnames of bench.dsync), finalised;
#   3. a check that dig gets the right answer for a sample of names;
#   4. dnsperf against the node, then against NSD (Debian package) serving the same 2,000
#      records on 127.0.0.1:$NSD_PORT, same query file, same dnsperf settings;
#   5. random names that do not exist (a random-subdomain flood of unique names), against both;
#   6. the node under that flood at dnsperf's full rate while a second client asks the existing
#      names at a steady 500 queries/s (every one must be answered) and slots.mjs watches that
#      every BABE slot still gets its block;
#   7. raw outputs into benchmarks/dns/results-<date>.txt and the ratios.
#
# Usage: benchmarks/dns/run.sh           (needs dnsperf, nsd, dig, node; ~5 minutes)
# Environment: DSYNC_NODE, COUNT (2000), RANDOM_NAMES (1,000,000), SECONDS_PER_RUN (20),
# CLIENTS (20), DNS_PORT (5353), NSD_PORT (5354), RESULTS.
# Per-source limits are off on both servers (every query comes from one address): the node's
# --dns-rate-limit 0 --dns-rrl-rate 0, NSD's rrl-ratelimit: 0.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$ROOT/scripts/env.sh"
COUNT="${COUNT:-2000}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-20}"
CLIENTS="${CLIENTS:-20}"
RANDOM_NAMES="${RANDOM_NAMES:-1000000}"
# Serving threads: the node's UDP workers, as many as NSD's `server-count`.
UDP_WORKERS="${UDP_WORKERS:-1}"
DNS_PORT="${DNS_PORT:-5353}"
NSD_PORT="${NSD_PORT:-5354}"
RPC_PORT="${RPC_PORT:-9977}"
RESULTS="${RESULTS:-$HERE/results-$(date -u +%Y-%m-%d-%H%M%S).txt}"
for tool in dnsperf nsd dig node; do
	command -v "$tool" >/dev/null || { echo "dns bench: $tool is missing (apt-get install dnsperf nsd bind9-dnsutils nodejs)" >&2; exit 1; }
done
[ -d "$ROOT/tests/e2e/node_modules" ] || (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/dsync-dns-bench.XXXXXX")"
NODE_PID=""; NSD_PID=""; SLOTS_PID=""; FLOOD_PID=""
cleanup() {
	[ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null || true
	[ -n "$NSD_PID" ] && kill "$NSD_PID" 2>/dev/null || true
	[ -n "$SLOTS_PID" ] && kill "$SLOTS_PID" 2>/dev/null || true
	[ -n "$FLOOD_PID" ] && kill "$FLOOD_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

{
	echo "# DNS benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# machine: $(nproc) vCPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
	echo "# node: $("$DSYNC_NODE" --version)"
	echo "# nsd: $(nsd -v 2>&1 | head -1); dnsperf: $(dnsperf -h 2>&1 | grep -m1 -i version || echo unknown)"
	echo "# $COUNT names, $RANDOM_NAMES random names, $SECONDS_PER_RUN s per run, $CLIENTS clients"
} | tee "$RESULTS"

"$DSYNC_NODE" --dev --tmp --no-prometheus --no-telemetry --no-mdns --rpc-port "$RPC_PORT" \
	--listen-addr /ip4/127.0.0.1/tcp/0 --dns-listen-addr "127.0.0.1:$DNS_PORT" --dns-rate-limit 0 --dns-rrl-rate 0 --dns-udp-workers "$UDP_WORKERS" \
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

# Unique random names under bench.dsync (none exists): each is asked at most a few times a run.
awk -v n="$RANDOM_NAMES" 'BEGIN { srand(18); for (i = 0; i < n; i++) printf "r%x%07x.bench.dsync A\n", int(rand() * 2147483647), i }' \
	>"$WORK/random.txt"

perf() {
	dnsperf -s 127.0.0.1 -p "$1" -d "${2:-$WORK/queries.txt}" -l "$SECONDS_PER_RUN" -c "$CLIENTS" -q 1000 2>&1
}
# Warm-up, on both servers alike (NSD loads its zone before it serves; the node reads each name
# once from state on its first query and keeps it until a block changes it).
warm() { dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries.txt" -l 5 -c "$CLIENTS" -q 1000 >/dev/null 2>&1 || true; }
warm "$DNS_PORT"
echo "## dsync-node, existing names" | tee -a "$RESULTS"
perf "$DNS_PORT" | tee "$WORK/dsync.out" | tee -a "$RESULTS"
echo "## dsync-node, random names that do not exist" | tee -a "$RESULTS"
perf "$DNS_PORT" "$WORK/random.txt" | tee "$WORK/dsync-random.out" | tee -a "$RESULTS"

echo "## dsync-node under a random-name flood: legitimate queries at 500/s, block slots watched" | tee -a "$RESULTS"
node "$HERE/slots.mjs" "ws://127.0.0.1:$RPC_PORT" "$((SECONDS_PER_RUN + 4))" >"$WORK/slots.out" 2>&1 &
SLOTS_PID=$!
sleep 2
perf "$DNS_PORT" "$WORK/random.txt" >"$WORK/flood.out" &
FLOOD_PID=$!
dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/queries.txt" -l "$((SECONDS_PER_RUN - 2))" -c 1 -Q 500 \
	>"$WORK/legit.out" 2>&1 || true
wait "$FLOOD_PID" || true
slots_ok=yes
wait "$SLOTS_PID" || slots_ok=no
{ echo "### flood"; cat "$WORK/flood.out"; echo "### legitimate"; cat "$WORK/legit.out"; echo "### slots"; cat "$WORK/slots.out"; } >>"$RESULTS"

cat >"$WORK/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1@$NSD_PORT
	server-count: $UDP_WORKERS
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
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
warm "$NSD_PORT"
echo "## nsd, existing names" | tee -a "$RESULTS"
perf "$NSD_PORT" | tee "$WORK/nsd.out" | tee -a "$RESULTS"
echo "## nsd, random names that do not exist" | tee -a "$RESULTS"
perf "$NSD_PORT" "$WORK/random.txt" | tee "$WORK/nsd-random.out" | tee -a "$RESULTS"

qps() { awk '/Queries per second:/{print $4}' "$1"; }
lost() { awk '/Queries lost:/{print $3, $4}' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
{
	echo "summary, existing names: dsync-node $(qps "$WORK/dsync.out") q/s (lost $(lost "$WORK/dsync.out")), nsd $(qps "$WORK/nsd.out") q/s (lost $(lost "$WORK/nsd.out")), ratio $(ratio "$(qps "$WORK/dsync.out")" "$(qps "$WORK/nsd.out")")"
	echo "summary, random names: dsync-node $(qps "$WORK/dsync-random.out") q/s (lost $(lost "$WORK/dsync-random.out")), nsd $(qps "$WORK/nsd-random.out") q/s (lost $(lost "$WORK/nsd-random.out")), ratio $(ratio "$(qps "$WORK/dsync-random.out")" "$(qps "$WORK/nsd-random.out")")"
	echo "summary, flood: $(qps "$WORK/flood.out") q/s of random names (lost $(lost "$WORK/flood.out")); legitimate: $(qps "$WORK/legit.out") q/s, lost $(lost "$WORK/legit.out"); slots: $(cat "$WORK/slots.out") (all slots filled: $slots_ok)"
} | tee -a "$RESULTS"
