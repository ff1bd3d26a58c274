#!/usr/bin/env bash
# Runs the operators' systemd units (docs/operators/systemd) under a real systemd, with every
# hardening option they set in force, and checks that each service does its job:
#   - dsync-aivm.service serves inference on 127.0.0.1:8710 as the user dsync-aivm;
#   - dsync-validator.service (installed as its comments say: system user, chain spec, env file,
#     state directory, network key made with `key generate-node-key`, session keys inserted with
#     `key insert`) authors and finalises blocks of a one-validator dev chain, runs as `dsync`,
#     serves only the safe RPC methods, refuses to start without its network key, and stops
#     cleanly on `systemctl stop`;
#   - dsync-service-node.service answers DNS on the privileged port 53 (the one capability it
#     keeps), serves the probe endpoint and RPC, runs as `dsync` with no other capability.
# `systemd-analyze security` rates each unit, and the rating must stay at "OK" or better.
#
# The machine need not boot with systemd: systemd runs as PID 1 of a new PID and mount
# namespace (unshare), with the environment variable `container` set so it behaves as in a
# container. Nothing of the host changes: /run, /tmp and /usr/local are fresh tmpfs mounts in
# that namespace, /etc and /var are overlays whose writes land in a scratch directory, every
# unit a boot would start (udev, tmpfiles, sysctl, timers, ...) and every generator are
# masked there, so systemd starts only what the test asks for (journald included, for logs).
# Network namespace shared with the host: the ports used are 9944, 9615, 9955, 30333,
# 8710 and 127.0.0.1:53; they must be free. Needs root (CAP_SYS_ADMIN) and the binaries
# of `cargo build --release` in $CARGO_TARGET_DIR/release.
#
# Usage: scripts/test-operator-units.sh   (about 1 minute; leaves nothing running)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
source scripts/env.sh
bin="$CARGO_TARGET_DIR/release"
units="$root/docs/operators/systemd"

fail() { echo "test-operator-units: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (it starts systemd in its own namespaces)"
for tool in unshare nsenter curl dig; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[ -x /lib/systemd/systemd ] || fail "/lib/systemd/systemd is not installed (apt-get install systemd)"
for b in dsync-node aivm; do [ -x "$bin/$b" ] || fail "$bin/$b missing: cargo build --release --workspace"; done
for port in 9944 9615 9955 30333 8710; do
	if ss -Htln "sport = :$port" | grep -q .; then fail "TCP port $port is in use"; fi
done
if ss -Hun "sport = :53" -l | grep -q .; then fail "UDP port 53 is in use"; fi

# The scratch directory lives outside /tmp (a fresh tmpfs inside the namespace).
work="$(mktemp -d "${HOME:-/root}/.cache/dsync-operator-units.XXXXXX")"
sd_pid=""
unshare_pid=""
cleanup() {
	local status=$?
	if [ -n "$sd_pid" ] && kill -0 "$sd_pid" 2>/dev/null; then
		if [ "$status" -ne 0 ]; then
			echo "--- journal of the sandbox (last 80 lines)" >&2
			nsenter --target "$sd_pid" --mount --pid -- journalctl --no-pager -n 80 -u dsync-aivm -u dsync-validator -u dsync-service-node 2>&1 | sed 's/^/  /' >&2 || true
		fi
		# PID 1 of a namespace only dies of SIGKILL sent from outside; everything in the
		# namespace dies with it.
		kill -KILL "$sd_pid" 2>/dev/null || true
	fi
	[ -n "$unshare_pid" ] && wait "$unshare_pid" 2>/dev/null || true
	if [ "$status" -ne 0 ]; then
		echo "--- systemd's console (last 30 lines)" >&2
		tail -n 30 "$work/systemd.log" 2>/dev/null | sed 's/^/  /' >&2 || true
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT INT TERM

# PID 1 of the namespace: mounts the sandbox, masks everything a boot would start, becomes systemd.
cat > "$work/init.sh" <<'EOF'
#!/bin/sh
set -eu
work="$1"; bin="$2"
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
for d in etc var; do
	mkdir -p "$work/$d.upper" "$work/$d.work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/$d.upper,workdir=$work/$d.work" "/$d"
done
mount -t tmpfs -o mode=0755 tmpfs /usr/local
mkdir -p /usr/local/bin
for b in dsync-node aivm; do
	touch "/usr/local/bin/$b"
	mount --bind -o ro "$bin/$b" "/usr/local/bin/$b"
done
mkdir -p /etc/systemd/system /etc/systemd/system-generators
for g in /lib/systemd/system-generators/* /usr/lib/systemd/system-generators/*; do
	[ -e "$g" ] && ln -sf /dev/null "/etc/systemd/system-generators/$(basename "$g")"
done
for w in /lib/systemd/system/*.target.wants/* /etc/systemd/system/*.target.wants/*; do
	[ -e "$w" ] || [ -L "$w" ] || continue
	u="$(basename "$w")"
	case "$u" in
	systemd-journald.service | systemd-journald.socket | systemd-journald-dev-log.socket) ;;
	*) ln -sf /dev/null "/etc/systemd/system/$u" ;;
	esac
done
rm -rf /etc/systemd/system/*.target.wants
printf '[Unit]\nDescription=DSYNC operator-unit sandbox\n' > /etc/systemd/system/dsync-sandbox.target
exec env -i container=dsync-sandbox PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	/lib/systemd/systemd --system --unit=dsync-sandbox.target --log-target=console --show-status=no
EOF
chmod +x "$work/init.sh"

echo "== systemd in its own PID and mount namespace"
unshare --pid --fork --mount --mount-proc --propagation private --kill-child \
	"$work/init.sh" "$work" "$bin" > "$work/systemd.log" 2>&1 &
unshare_pid=$!
for _ in $(seq 1 100); do
	sd_pid="$(pgrep -P "$unshare_pid" -x systemd || true)"
	[ -n "$sd_pid" ] && break
	sleep 0.1
done
[ -n "$sd_pid" ] || fail "systemd did not start"
sb() { nsenter --target "$sd_pid" --mount --pid -- "$@"; }
for _ in $(seq 1 100); do
	state="$(sb systemctl is-system-running 2>/dev/null || true)"
	case "$state" in running | degraded) break ;; esac
	sleep 0.2
done
case "$state" in running | degraded) ;; *) fail "systemd in the sandbox is '$state'" ;; esac
echo "   systemd $(sb systemctl --version | head -n1 | cut -d' ' -f2) is PID 1 of the sandbox ($state)"

rpc() { # method [params]
	curl -sS --max-time 5 -H 'Content-Type: application/json' http://127.0.0.1:9944 \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$1\",\"params\":${2:-[]}}"
}
header_number() { # [params]: a header's number in hex, empty when the node does not answer
	(rpc chain_getHeader "${1:-[]}" 2>/dev/null || true) | sed -n 's/.*"number":"\(0x[0-9a-f]*\)".*/\1/p'
}
wait_active() { # unit
	for _ in $(seq 1 50); do
		[ "$(sb systemctl is-active "$1" || true)" = active ] && return 0
		sleep 0.2
	done
	fail "$1 is not active: $(sb systemctl status --no-pager "$1" 2>&1 | head -n 20)"
}
main_pid() { sb systemctl show -P MainPID "$1"; }
user_of() { # unit: the user name its main process runs as
	local pid uid
	pid="$(main_pid "$1")"
	[ "$pid" != 0 ] || fail "$1 has no main process"
	uid="$(sb awk '/^Uid:/ {print $2}' "/proc/$pid/status")"
	sb getent passwd "$uid" | cut -d: -f1
}
caps_of() { sb awk '/^CapEff:/ {print $2}' "/proc/$(main_pid "$1")/status"; }
security_ok() { # unit: systemd-analyze security's overall rating must be OK or better
	local line
	line="$(sb systemd-analyze security --no-pager "$1" | tail -n 1)"
	echo "   $1: ${line#→ }"
	echo "$line" | grep -Eq 'exposure level .* [0-9.]+ (OK|SAFE)' || fail "$1: $line"
}
# Installs a unit and its env file the way its header comment says.
install_unit() { # name
	sb install -d -m 0755 /etc/dsync
	sb install -m 0600 "$units/$1.env" "/etc/dsync/$1.env"
	sb install -m 0644 "$units/$1.service" /etc/systemd/system/
}
set_env() { # name key value: what an operator's edit of the env file does
	sb sed -i "s|^$2=.*|$2=$3|" "/etc/dsync/$1.env"
	sb grep -q "^$2=$3\$" "/etc/dsync/$1.env" || fail "$1.env has no $2"
}

echo "== dsync-aivm.service"
sb useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dsync-aivm
install_unit dsync-aivm
sb systemctl daemon-reload
sb systemctl enable --now dsync-aivm
wait_active dsync-aivm
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:8710/health >/dev/null && break; sleep 0.2; done
models="$(curl -sf http://127.0.0.1:8710/v1/models)" || fail "aivm does not answer /v1/models"
echo "$models" | grep -q digits || fail "aivm serves no digits model: $models"
out="$(curl -sf -H 'Content-Type: application/json' http://127.0.0.1:8710/v1/infer \
	-d "{\"model\":\"digits\",\"inputs\":[[$(seq -s, 0 63 | sed 's/[0-9]\+/1/g')]]}")" \
	|| fail "aivm refused an inference under the unit's sandbox"
echo "   inference answered: ${out:0:80}"
[ "$(user_of dsync-aivm)" = dsync-aivm ] || fail "aivm does not run as dsync-aivm"
[ "$(caps_of dsync-aivm)" = 0000000000000000 ] || fail "aivm holds capabilities: $(caps_of dsync-aivm)"
if sb journalctl --no-pager -u dsync-aivm | grep -i 'error'; then fail "aivm logged errors under its unit"; fi
security_ok dsync-aivm

echo "== dsync-validator.service (one-validator dev chain)"
sb useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dsync
install_unit dsync-validator
sb sh -c '/usr/local/bin/dsync-node export-chain-spec --chain dev --raw > /etc/dsync/chain-spec.json.new' 2>/dev/null
sb install -m 0644 /etc/dsync/chain-spec.json.new /etc/dsync/chain-spec.json
sb install -d -o dsync -g dsync -m 0700 /var/lib/dsync-validator
sb systemctl daemon-reload
# Without its network key the validator refuses to start (it never makes up a new identity).
sb systemctl start dsync-validator || true
refused=""
for _ in $(seq 1 50); do
	if sb journalctl --no-pager -u dsync-validator | grep -q NetworkKeyNotFound; then refused=1; break; fi
	sleep 0.2
done
[ -n "$refused" ] || fail "the validator started without a network key: $(sb journalctl --no-pager -u dsync-validator | tail -n 5)"
[ "$(main_pid dsync-validator)" = 0 ] || fail "the validator runs without a network key"
echo "   without /var/lib/dsync-validator/node-key: refused (NetworkKeyNotFound)"
sb systemctl stop dsync-validator
sb systemctl reset-failed dsync-validator 2>/dev/null || true
sb runuser -u dsync -- sh -c 'umask 077; /usr/local/bin/dsync-node key generate-node-key --file /var/lib/dsync-validator/node-key' 2>/dev/null
for k in "babe sr25519" "gran ed25519" "dsyn sr25519"; do
	set -- $k
	sb runuser -u dsync -- /usr/local/bin/dsync-node key insert --base-path /var/lib/dsync-validator \
		--chain /etc/dsync/chain-spec.json --scheme "$2" --key-type "$1" --suri //Alice
done
sb systemctl enable --now dsync-validator
wait_active dsync-validator
best=0 finalized=0
for _ in $(seq 1 120); do
	best=$(( $(header_number) + 0 ))
	fh="$( (rpc chain_getFinalizedHead 2>/dev/null || true) | sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p')"
	[ -n "$fh" ] && finalized=$(( $(header_number "[\"$fh\"]") + 0 ))
	[ "$best" -ge 3 ] && [ "$finalized" -ge 1 ] && break
	sleep 0.5
done
[ "$best" -ge 3 ] && [ "$finalized" -ge 1 ] || fail "the validator did not author and finalise (best $best, finalised $finalized)"
echo "   authoring and finalising under the sandbox: best #$best, finalised #$finalized"
[ "$(user_of dsync-validator)" = dsync ] || fail "the validator does not run as dsync"
[ "$(caps_of dsync-validator)" = 0000000000000000 ] || fail "the validator holds capabilities"
rpc author_rotateKeys | grep -q '"error"' || fail "the validator serves unsafe RPC methods with DSYNC_RPC_METHODS=safe"
echo "   runs as dsync, no capabilities, unsafe RPC refused"
security_ok dsync-validator
sb systemctl stop dsync-validator
result="$(sb systemctl show -P Result dsync-validator)"
[ "$result" = success ] || fail "the validator did not stop cleanly (Result=$result)"
echo "   systemctl stop: clean exit"

echo "== dsync-service-node.service (DNS on port 53, probe endpoint, GPU worker against aivm, storage)"
install_unit dsync-service-node
sb install -d -o dsync -g dsync -m 0700 /var/lib/dsync-service-node
# The operator's edits: this host's address for DNS (port 53 stays), its own name server host.
set_env dsync-service-node DSYNC_DNS_ARGS "--dns-listen-addr 127.0.0.1:53 --dns-ns-host ns1.example.org."
set_env dsync-service-node DSYNC_PROBE_ARGS "--probe-listen-addr 127.0.0.1:9955"
sb systemctl daemon-reload
sb systemctl enable --now dsync-service-node
wait_active dsync-service-node
answer=""
for _ in $(seq 1 100); do
	answer="$(dig +short +time=1 +tries=1 @127.0.0.1 -p 53 dsync. SOA 2>/dev/null || true)"
	case "$answer" in ns1.example.org.*) break ;; esac
	sleep 0.3
done
case "$answer" in ns1.example.org.*) ;; *) fail "no SOA answer on 127.0.0.1:53: $answer" ;; esac
echo "   dig @127.0.0.1 dsync. SOA: $answer"
rpc system_health | grep -q '"result"' || fail "the service node does not answer RPC"
probe_code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9955/ || true)"
[ -n "$probe_code" ] && [ "$probe_code" != 000 ] || fail "the probe endpoint does not answer"
echo "   probe endpoint answers (HTTP $probe_code), RPC answers"
# Storage (DSYNC_STORAGE_ARGS as the env file sets it): the slot directory exists under the state
# directory, and the slot endpoints answer on the probe port (no order 0 on a fresh chain: 404).
sb test -d /var/lib/dsync-service-node/storage/slots || fail "the storage directory was not made"
storage_code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT --data-binary x \
	http://127.0.0.1:9955/dsync/storage/v1/slots/0/0 || true)"
[ "$storage_code" = 404 ] || fail "the slot endpoint answered HTTP $storage_code to an upload for no order (404 expected)"
echo "   storage kept in /var/lib/dsync-service-node/storage; the slot endpoint answers (HTTP 404 for no order)"
[ "$(user_of dsync-service-node)" = dsync ] || fail "the service node does not run as dsync"
# CAP_NET_BIND_SERVICE (bit 10) and nothing else.
[ "$(caps_of dsync-service-node)" = 0000000000000400 ] \
	|| fail "the service node's capabilities are $(caps_of dsync-service-node), not CAP_NET_BIND_SERVICE alone"
echo "   runs as dsync with CAP_NET_BIND_SERVICE alone"
security_ok dsync-service-node
sb systemctl stop dsync-service-node dsync-aivm
echo "== operator units ran under systemd: all checks passed"
