//! The Proof-of-Sync probe protocol, shared by the runtime (verifier off-chain workers and the
//! on-chain checks of revealed evidence) and the node (the service-node side of the probe).
//!
//! # The exchange
//!
//! 1. Each epoch the runtime draws, for every service node it probes, a fresh 32-byte challenge
//!    `seed` and `k` verifiers among the active validators.
//! 2. A verifier's off-chain worker sends `GET {endpoint}/dsync/probe/{seed as 64 hex digits}` to
//!    the node's registered probe endpoint ([`probe_url`]).
//! 3. The node answers `200 OK` with the SCALE encoding of a [`SignedProbeAnswer`] (at most
//!    [`MAX_PROBE_RESPONSE_BYTES`] bytes, `Content-Type: application/octet-stream`): its best and
//!    finalised block, the seed, the result of the compute challenge ([`compute_challenge`]) and
//!    an sr25519 signature with the node's registered off-chain key ([`KEY_TYPE`]) over
//!    [`ProbeAnswer::signing_payload`].
//! 4. The verifier checks the signature, the seed, the compute result and the sync lag against
//!    its own view of the chain, and measures the round trip. Its report carries the signed answer
//!    as evidence, so the runtime can re-check the parts that are provable: an answer signed with
//!    the node's key that carries a wrong compute result is proof of a wrong answer.
//!
//! The key type is `dsyn`. Operators put the key into the node keystore with
//! `dsync-node key insert --key-type dsyn --scheme sr25519` (or the `author_insertKey` RPC).

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{crypto::KeyTypeId, H256};

use crate::BlockNumber;

/// The key type of Proof-of-Sync keys in the node keystore: `dsyn`.
///
/// A service node signs its probe answers with it; a validator's off-chain worker signs its
/// verification reports with it.
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"dsyn");

/// Application crypto of the Proof-of-Sync key: sr25519 under [`KEY_TYPE`].
pub mod crypto {
	use super::KEY_TYPE;
	use sp_application_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, KEY_TYPE);
}

/// Domain separation prefix of every probe signature.
pub const PROBE_CONTEXT: &[u8] = b"dsync/probe/v1";

/// The path prefix of the probe endpoint; the hex-encoded seed follows it.
pub const PROBE_PATH: &str = "/dsync/probe/";

/// Upper bound of a probe answer's body, in bytes. A longer body is malformed.
pub const MAX_PROBE_RESPONSE_BYTES: usize = 512;

/// The model of the compute challenge: the network's digits classifier
/// ([`dsync_aivm_core::bundled::DIGITS_64_128_64_10`]).
pub const CHALLENGE_MODEL: &[u8] = dsync_aivm_core::bundled::DIGITS_64_128_64_10;

/// The input of the compute challenge for `seed`: 64 pixel values `0..=16` (what the digits
/// model reads), value `i` being byte `i % 32` of `h[i / 32]` modulo 17, where
/// `h[j] = blake2_256(SCALE((PROBE_CONTEXT, seed, j as u8)))`.
pub fn challenge_input(seed: &[u8; 32]) -> [i8; 64] {
	let halves =
		[0u8, 1].map(|j| sp_crypto_hashing::blake2_256(&(PROBE_CONTEXT, seed, j).encode()));
	let mut input = [0i8; 64];
	for (i, value) in input.iter_mut().enumerate() {
		let byte = halves.get(i / 32).and_then(|half| half.get(i % 32)).copied().unwrap_or(0);
		// At most 16, so the cast is exact.
		*value = (byte % 17) as i8;
	}
	input
}

/// The compute challenge: one inference of the deterministic inference core, the
/// [`CHALLENGE_MODEL`] on [`challenge_input`]`(seed)`, answered as its result hash
/// ([`dsync_aivm_core::result_hash`] of the ten logits).
///
/// Deterministic and bit-exact on every machine, so the verifier's worker and the runtime
/// recompute it (about 17,000 integer multiply-adds) and a node's `aivm` server gives the same
/// hash for the same input. Were the bundled model ever unreadable, the answer would be 32 zero
/// bytes, the same for everyone.
pub fn compute_challenge(seed: &[u8; 32]) -> [u8; 32] {
	let input = challenge_input(seed);
	dsync_aivm_core::Model::parse(CHALLENGE_MODEL)
		.ok()
		.and_then(|model| model.evaluate(&input).ok())
		.map(|logits| dsync_aivm_core::result_hash(&logits))
		.unwrap_or_default()
}

/// What a service node answers to a probe, before its signature.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct ProbeAnswer {
	/// The challenge seed the verifier sent, echoed.
	pub seed: [u8; 32],
	/// The node's best block number.
	pub best_number: BlockNumber,
	/// The node's best block hash.
	pub best_hash: H256,
	/// The node's last finalised block number.
	pub finalized_number: BlockNumber,
	/// The node's last finalised block hash.
	pub finalized_hash: H256,
	/// The node's result of [`compute_challenge`] for `seed`.
	pub compute: [u8; 32],
}

impl ProbeAnswer {
	/// The bytes the node signs: `PROBE_CONTEXT ++ SCALE(answer)`.
	pub fn signing_payload(&self) -> alloc::vec::Vec<u8> {
		(PROBE_CONTEXT, self).encode()
	}

	/// Whether the compute result is the right one for the echoed seed.
	pub fn compute_is_correct(&self) -> bool {
		self.compute == compute_challenge(&self.seed)
	}
}

/// A probe answer with the node's signature: the body of a probe response and the evidence a
/// verifier reveals on chain.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct SignedProbeAnswer {
	/// The answer.
	pub answer: ProbeAnswer,
	/// sr25519 signature of [`ProbeAnswer::signing_payload`] by the node's registered
	/// off-chain key.
	pub signature: sp_core::sr25519::Signature,
}

impl SignedProbeAnswer {
	/// Whether `signature` is a valid signature of the answer by `public`.
	pub fn signature_is_valid(&self, public: &sp_core::sr25519::Public) -> bool {
		use sp_runtime::traits::Verify;
		self.signature.verify(&self.answer.signing_payload()[..], public)
	}
}

/// The URL a verifier requests to probe `endpoint` with `seed`:
/// `{endpoint without trailing '/'}/dsync/probe/{64 lowercase hex digits}`.
pub fn probe_url(endpoint: &[u8], seed: &[u8; 32]) -> alloc::vec::Vec<u8> {
	let mut url = endpoint.to_vec();
	while url.last() == Some(&b'/') {
		url.pop();
	}
	url.extend_from_slice(PROBE_PATH.as_bytes());
	crate::hex::extend(&mut url, seed);
	url
}

/// Parse the 64 hex digits of a seed (either case). `None` unless exactly 64 hex digits.
pub fn parse_seed(hex: &[u8]) -> Option<[u8; 32]> {
	crate::hex::decode_array(hex)
}

/// Whether `endpoint` is an acceptable probe endpoint: `http://` or `https://` followed by at
/// least a host, printable ASCII without spaces, quotes, angle brackets or backslashes, and no
/// query or fragment (the probe path is appended to it).
pub fn is_valid_endpoint(endpoint: &[u8]) -> bool {
	let rest = if let Some(rest) = endpoint.strip_prefix(b"http://") {
		rest
	} else if let Some(rest) = endpoint.strip_prefix(b"https://") {
		rest
	} else {
		return false;
	};
	!rest.is_empty()
		&& rest.first() != Some(&b'/')
		&& rest.iter().all(|c| {
			c.is_ascii_graphic() && !matches!(c, b'"' | b'<' | b'>' | b'\\' | b'?' | b'#' | b'`')
		})
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair;

	fn answer() -> ProbeAnswer {
		let seed = [7u8; 32];
		ProbeAnswer {
			seed,
			best_number: 10,
			best_hash: H256::repeat_byte(1),
			finalized_number: 8,
			finalized_hash: H256::repeat_byte(2),
			compute: compute_challenge(&seed),
		}
	}

	#[test]
	fn the_compute_challenge_is_one_inference_of_the_digits_model() {
		let seed = [7u8; 32];
		let input = challenge_input(&seed);
		assert!(input.iter().all(|v| (0..=16).contains(v)));
		assert_ne!(input, challenge_input(&[8u8; 32]));
		let model =
			dsync_aivm_core::Model::parse(CHALLENGE_MODEL).expect("the bundled model parses");
		let logits = model.evaluate(&input).expect("64 inputs");
		assert_eq!(logits.len(), 10);
		assert_eq!(compute_challenge(&seed), dsync_aivm_core::result_hash(&logits));
		assert_ne!(compute_challenge(&seed), [0u8; 32]);
	}

	#[test]
	fn compute_challenge_is_deterministic_and_seed_dependent() {
		assert_eq!(compute_challenge(&[1; 32]), compute_challenge(&[1; 32]));
		assert_ne!(compute_challenge(&[1; 32]), compute_challenge(&[2; 32]));
		assert!(answer().compute_is_correct());
		let mut wrong = answer();
		wrong.compute[0] ^= 1;
		assert!(!wrong.compute_is_correct());
	}

	#[test]
	fn signatures_verify_only_with_the_signing_key() {
		let pair = sp_core::sr25519::Pair::from_seed(&[3; 32]);
		let other = sp_core::sr25519::Pair::from_seed(&[4; 32]);
		let answer = answer();
		let signed = SignedProbeAnswer { signature: pair.sign(&answer.signing_payload()), answer };
		assert!(signed.signature_is_valid(&pair.public()));
		assert!(!signed.signature_is_valid(&other.public()));
		let mut tampered = signed.clone();
		tampered.answer.best_number += 1;
		assert!(!tampered.signature_is_valid(&pair.public()));
		// The encoding is fixed-size and below the response bound.
		assert_eq!(signed.encode().len(), SignedProbeAnswer::max_encoded_len());
		assert!(signed.encode().len() <= MAX_PROBE_RESPONSE_BYTES);
	}

	#[test]
	fn probe_urls_round_trip_the_seed() {
		let seed: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(37));
		let url = probe_url(b"http://127.0.0.1:9955//", &seed);
		let url = core::str::from_utf8(&url).unwrap();
		let hex = url.strip_prefix("http://127.0.0.1:9955/dsync/probe/").unwrap();
		assert_eq!(parse_seed(hex.as_bytes()), Some(seed));
		assert_eq!(parse_seed(hex.to_uppercase().as_bytes()), Some(seed));
		assert_eq!(parse_seed(&hex.as_bytes()[1..]), None);
		assert_eq!(parse_seed(&[b'g'; 64]), None);
	}

	#[test]
	fn endpoints_are_validated() {
		assert!(is_valid_endpoint(b"http://127.0.0.1:9955"));
		assert!(is_valid_endpoint(b"https://probe.example.org/node-1/"));
		for bad in [
			&b""[..],
			b"ftp://host",
			b"http://",
			b"http:///path",
			b"http://host name",
			b"http://host?x=1",
			b"http://host#frag",
			b"http://h\xc3\xa9",
			b"http://host\n",
		] {
			assert!(!is_valid_endpoint(bad), "{:?}", bad);
		}
	}
}
