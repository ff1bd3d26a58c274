#!/usr/bin/env bash
# One-time (idempotent) machine setup for building and testing the DSYNC node:
# system packages, the pinned Rust toolchain with its Wasm target, and the npm packages
# of the end-to-end tests. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v protoc >/dev/null 2>&1 || need_apt+=(protobuf-compiler)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
# dig, for the DNS end-to-end tests.
command -v dig >/dev/null 2>&1 || need_apt+=(bind9-dnsutils)
# Headless Chromium loads a `.dsync` website in the end-to-end tests (driven by playwright-core).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# NSD, the reference authoritative DNS server the naming suite compares the node's answers with
# (run by the test on its own port; the package's system service is disabled below).
[ -x /usr/sbin/nsd ] || need_apt+=(nsd)
# The end-to-end runtime-upgrade test compresses the upgraded runtime as the node expects.
command -v zstd >/dev/null 2>&1 || need_apt+=(zstd)
# aivm's GPU back-end (cargo feature `gpu`) runs on Vulkan; Mesa's lavapipe is a software
# Vulkan device, so its tests run bit for bit on machines without a GPU.
dpkg -s libvulkan1 >/dev/null 2>&1 || need_apt+=(libvulkan1)
dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || need_apt+=(mesa-vulkan-drivers)
if [ ${#need_apt[@]} -gt 0 ]; then
	echo "setup: installing ${need_apt[*]}"
	SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
	if [[ " ${need_apt[*]} " == *" nsd "* ]] && command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl disable --now nsd >/dev/null 2>&1 || true
	fi
fi

# The toolchain and targets pinned in rust-toolchain.toml (rustup installs what is missing).
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
rustup toolchain list | grep -q "^${toolchain}" || rustup toolchain install "$toolchain" --profile minimal
rustup target list --installed --toolchain "$toolchain" | grep -q '^wasm32v1-none$' \
	|| rustup target add wasm32v1-none --toolchain "$toolchain"
rustup component list --installed --toolchain "$toolchain" | grep -q '^rustfmt' \
	|| rustup component add rustfmt clippy --toolchain "$toolchain"

# End-to-end test dependencies (@polkadot/api), exactly as locked.
if [ -f tests/e2e/package-lock.json ]; then
	if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
		(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi
