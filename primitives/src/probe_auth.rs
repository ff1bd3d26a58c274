//! Authenticated probes: how a verifier signs its probe request, so that a service node's probe
//! endpoint answers the verifiers from a budget of their own, which no flood of anonymous
//! requests can drain.
//!
//! # Why
//!
//! The probe endpoint limits anonymous requests per source and node-wide (it has to: every answer
//! costs a signature and an inference). Left alone, anyone able to send from a few addresses (or
//! many connections) fills those limits, the endpoint answers the verifiers `429` or `503`, and
//! an honest node looks down, is suspended and slashed. So verifiers say who they are, and the
//! endpoint serves them first.
//!
//! # The request
//!
//! A verifier's off-chain worker sends the probe (`GET {endpoint}/dsync/probe/{seed}`,
//! [`crate::probe::probe_url`]) with three headers ([`ProbeAuth::header_values`]):
//!
//! - [`KEY_HEADER`] `X-Dsync-Key: 0x<64 hex digits>`: the verifier's `dsyn` public key (the
//!   off-chain key its validator node registered);
//! - [`BLOCK_HEADER`] `X-Dsync-Block: <decimal>`: the block number the worker runs at;
//! - [`SIGNATURE_HEADER`] `X-Dsync-Signature: 0x<128 hex digits>`: the key's sr25519 signature of
//!   [`request_signing_payload`]`(target, block, seed)` = `SCALE((REQUEST_CONTEXT, target, block,
//!   seed))`, where `target` is the probed node's registered off-chain key (32 bytes) and `seed`
//!   the challenge seed of the URL.
//!
//! [`REQUEST_CONTEXT`] (`dsync/probe-request/v1`) is not the context of the node's signed answer
//! ([`crate::probe::PROBE_CONTEXT`]): a request signature is never an answer signature.
//!
//! # What the endpoint does with it (`node/src/probe.rs`)
//!
//! A request is *authenticated* when, checked in this order (the cheap checks first, the
//! signature last): the three headers are there and well formed ([`ProbeAuth::parse`]), the
//! block is within [`MAX_BLOCK_DISTANCE`] of the node's best block ([`is_fresh`]), the key is a
//! verifier's key ([`ProbeKeysApi::verifier_keys`], read from the chain at most every few
//! seconds, never per request), that key was not answered at that block yet, and the signature
//! verifies for the node's own key and the seed of the URL ([`ProbeAuth::signature_is_valid`]).
//! An authenticated probe is answered from its key's budget: one answer per key and block number.
//! Any other request (no headers, an unknown key, a stale block, a bad signature, a replay) is an
//! anonymous request, under the anonymous limits.
//!
//! # Replays
//!
//! The signature binds the target, the block and the seed: captured headers are worth nothing at
//! another node, with another seed, or a few blocks later. At the same node, for the same block,
//! they are answered once: whoever sends them first (the verifier, normally) uses the key's answer
//! for that block, and every later copy is an anonymous request. An eavesdropper who races the
//! verifier with its own headers takes only that one probe, and the verifier's worker, seeing a
//! busy answer, probes again at its next block with a new signature.

use crate::BlockNumber;
use alloc::{
	string::{String, ToString},
	vec::Vec,
};
use codec::Encode;
use sp_core::sr25519;

/// Domain separation prefix of a probe request's signature.
pub const REQUEST_CONTEXT: &[u8] = b"dsync/probe-request/v1";

/// The header carrying the verifier's `dsyn` public key, `0x` and 64 hex digits.
pub const KEY_HEADER: &str = "X-Dsync-Key";

/// The header carrying the verifier's block number, in decimal.
pub const BLOCK_HEADER: &str = "X-Dsync-Block";

/// The header carrying the request's signature, `0x` and 128 hex digits.
pub const SIGNATURE_HEADER: &str = "X-Dsync-Signature";

/// How far (in blocks, either way) the block of an authenticated probe may be from the best
/// block of the node it probes: verifier and node each follow the chain a little apart, and a
/// request signed longer ago is stale.
pub const MAX_BLOCK_DISTANCE: BlockNumber = 10;

/// The bytes a verifier signs to probe the node whose off-chain key is `target`, at its block
/// `block`, with challenge `seed`: `SCALE((REQUEST_CONTEXT, target, block, seed))`.
pub fn request_signing_payload(
	target: &sr25519::Public,
	block: BlockNumber,
	seed: &[u8; 32],
) -> Vec<u8> {
	(REQUEST_CONTEXT, &target.0, block, seed).encode()
}

/// Whether a probe signed at block `block` is fresh for a node whose best block is `best`: at
/// most [`MAX_BLOCK_DISTANCE`] blocks apart, either way.
pub fn is_fresh(block: BlockNumber, best: BlockNumber) -> bool {
	block.abs_diff(best) <= MAX_BLOCK_DISTANCE
}

/// What authenticates a probe request: the verifier's key, its block and its signature.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProbeAuth {
	/// The verifier's `dsyn` public key.
	pub key: sr25519::Public,
	/// The verifier's block number when it signed.
	pub block: BlockNumber,
	/// The signature of [`request_signing_payload`] by `key`.
	pub signature: sr25519::Signature,
}

impl ProbeAuth {
	/// Whether `signature` is `key`'s signature of the probe of the node whose off-chain key is
	/// `target` with `seed` at `block`.
	pub fn signature_is_valid(&self, target: &sr25519::Public, seed: &[u8; 32]) -> bool {
		use sp_runtime::traits::Verify;
		self.signature
			.verify(&request_signing_payload(target, self.block, seed)[..], &self.key)
	}

	/// The three headers, names and values: the key and the signature as `0x` and lower-case hex,
	/// the block in decimal.
	pub fn header_values(&self) -> [(&'static str, String); 3] {
		[
			(KEY_HEADER, crate::hex::encode_0x(&self.key.0)),
			(BLOCK_HEADER, self.block.to_string()),
			(SIGNATURE_HEADER, crate::hex::encode_0x(&self.signature.0)),
		]
	}

	/// Read the values of the three headers (each trimmed by the caller): the key as 64 and the
	/// signature as 128 hex digits (either case, `0x` optional), the block as 1 to 10 decimal
	/// digits within `u32`. `None` unless all three are well formed.
	pub fn parse(key: &[u8], block: &[u8], signature: &[u8]) -> Option<Self> {
		let key = crate::hex::decode_array::<32>(strip_0x(key))?;
		let signature = crate::hex::decode_array::<64>(strip_0x(signature))?;
		let block = parse_decimal(block)?;
		Some(Self {
			key: sr25519::Public::from_raw(key),
			block,
			signature: sr25519::Signature::from_raw(signature),
		})
	}
}

/// `value` without a leading `0x`.
fn strip_0x(value: &[u8]) -> &[u8] {
	value.strip_prefix(b"0x").unwrap_or(value)
}

/// 1 to 10 decimal digits as a `u32`; `None` for anything else or a number beyond `u32`.
fn parse_decimal(digits: &[u8]) -> Option<u32> {
	if digits.is_empty() || digits.len() > 10 {
		return None;
	}
	digits.iter().try_fold(0u32, |number, digit| {
		if !digit.is_ascii_digit() {
			return None;
		}
		number.checked_mul(10)?.checked_add(u32::from(digit - b'0'))
	})
}

sp_api::decl_runtime_apis! {
	/// The keys whose probes a service node's probe endpoint answers from their own budget.
	///
	/// The runtime implements `ProbeKeysApi<Block>` in its `impl_runtime_apis!` block over the
	/// node registry; the node reads it at its best block, at most every few seconds.
	pub trait ProbeKeysApi {
		/// The registered off-chain (`dsyn`) keys of the `Active` validator nodes, the nodes
		/// Proof of Sync draws its verifiers from (as many as the registry holds validator nodes,
		/// at most its `MaxValidatorNodes`).
		fn verifier_keys() -> Vec<[u8; 32]>;
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair;

	fn signed(verifier: &sr25519::Pair, target: &sr25519::Public, block: u32) -> ProbeAuth {
		let seed = [5u8; 32];
		let signature = verifier.sign(&request_signing_payload(target, block, &seed));
		ProbeAuth { key: verifier.public(), block, signature }
	}

	#[test]
	fn a_signature_binds_the_target_the_block_and_the_seed() {
		let verifier = sr25519::Pair::from_seed(&[1; 32]);
		let target = sr25519::Pair::from_seed(&[2; 32]).public();
		let other = sr25519::Pair::from_seed(&[3; 32]).public();
		let auth = signed(&verifier, &target, 40);
		assert!(auth.signature_is_valid(&target, &[5; 32]));
		assert!(!auth.signature_is_valid(&other, &[5; 32]), "another node");
		assert!(!auth.signature_is_valid(&target, &[6; 32]), "another seed");
		assert!(!ProbeAuth { block: 41, ..auth.clone() }.signature_is_valid(&target, &[5; 32]));
		let forged = ProbeAuth { key: other, ..auth };
		assert!(!forged.signature_is_valid(&target, &[5; 32]), "another key");
	}

	#[test]
	fn the_request_context_is_not_the_answer_context() {
		assert_ne!(REQUEST_CONTEXT, crate::probe::PROBE_CONTEXT);
		let target = sr25519::Public::from_raw([2; 32]);
		let payload = request_signing_payload(&target, 7, &[5; 32]);
		let mut expected = (REQUEST_CONTEXT).encode();
		expected.extend_from_slice(&[2; 32]);
		expected.extend_from_slice(&7u32.to_le_bytes());
		expected.extend_from_slice(&[5; 32]);
		assert_eq!(payload, expected);
	}

	#[test]
	fn headers_round_trip() {
		let verifier = sr25519::Pair::from_seed(&[1; 32]);
		let target = sr25519::Pair::from_seed(&[2; 32]).public();
		let auth = signed(&verifier, &target, 4_000_000_000);
		let [(key_name, key), (block_name, block), (signature_name, signature)] =
			auth.header_values();
		assert_eq!(
			(key_name, block_name, signature_name),
			(KEY_HEADER, BLOCK_HEADER, SIGNATURE_HEADER)
		);
		assert_eq!(key.len(), 66);
		assert_eq!(signature.len(), 130);
		assert_eq!(block, "4000000000");
		let parsed = ProbeAuth::parse(key.as_bytes(), block.as_bytes(), signature.as_bytes());
		assert_eq!(parsed, Some(auth.clone()));
		// Upper case, without the prefix.
		let upper = ProbeAuth::parse(
			key[2..].to_uppercase().as_bytes(),
			block.as_bytes(),
			signature[2..].to_uppercase().as_bytes(),
		);
		assert_eq!(upper, Some(auth));
	}

	#[test]
	fn malformed_headers_are_refused() {
		let key = alloc::format!("0x{}", "ab".repeat(32));
		let signature = alloc::format!("0x{}", "cd".repeat(64));
		let parse = |key: &str, block: &str, signature: &str| {
			ProbeAuth::parse(key.as_bytes(), block.as_bytes(), signature.as_bytes())
		};
		assert!(parse(&key, "12", &signature).is_some());
		assert!(parse(&key[..64], "12", &signature).is_none(), "a short key");
		assert!(parse(&key, "12", &signature[..128]).is_none(), "a short signature");
		assert!(parse(&signature, "12", &key).is_none(), "swapped");
		for block in ["", "-1", "+1", "1.0", "0x10", "4294967296", "12345678901", " 1"] {
			assert!(parse(&key, block, &signature).is_none(), "{block:?}");
		}
		assert_eq!(parse(&key, "4294967295", &signature).map(|auth| auth.block), Some(u32::MAX));
	}

	#[test]
	fn freshness_is_a_distance_either_way() {
		assert!(is_fresh(100, 100));
		assert!(is_fresh(100 - MAX_BLOCK_DISTANCE, 100));
		assert!(is_fresh(100 + MAX_BLOCK_DISTANCE, 100));
		assert!(!is_fresh(100 - MAX_BLOCK_DISTANCE - 1, 100));
		assert!(!is_fresh(100 + MAX_BLOCK_DISTANCE + 1, 100));
		assert!(is_fresh(0, 3));
		assert!(!is_fresh(u32::MAX, 0));
	}
}
