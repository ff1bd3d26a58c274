#!/usr/bin/env bash
# RUSTC_WRAPPER of fuzz/run.sh: compiles the crates below without libFuzzer's coverage
# instrumentation. They are cryptography, hashing and the storage trie: code that every call and
# every block runs (signature checks, storage roots), whose branches say nothing about the
# runtime's logic, and which instrumentation slows several times over. Everything else, the
# runtime and all pallets included, is instrumented.
rustc="$1"
shift
name=""
prev=""
for arg in "$@"; do
	[ "$prev" = "--crate-name" ] && name="$arg"
	prev="$arg"
done
case "$name" in
curve25519_dalek | schnorrkel | merlin | sha2 | sha3 | keccak | blake2 | blake2b_simd | \
	blake2_rfc | twox_hash | xxhash_rust | sp_crypto_hashing | ed25519_zebra | ed25519_dalek | \
	ed25519 | k256 | libsecp256k1 | libsecp256k1_core | secp256k1 | ecdsa | elliptic_curve | \
	digest | block_buffer | subtle | zeroize | rand_core | rand_chacha | ppv_lite86 | \
	crypto_bigint | trie_db | memory_db | hash_db | sp_trie | trie_root | hashbrown | \
	primitive_types | uint | arrayref | constant_time_eq | hmac | pbkdf2 | tiny_keccak | \
	bip39 | ark_std | ark_ff | ark_ec | ark_serialize)
	args=()
	for arg in "$@"; do
		case "$arg" in
		-Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-*) ;;
		*) args+=("$arg") ;;
		esac
	done
	exec "$rustc" "${args[@]}"
	;;
esac
exec "$rustc" "$@"
