//! What the off-chain workers of the DSYNC pallets share: the signing key, bounded HTTP
//! exchanges, signed submissions and local-storage keys.
//!
//! - [`DsyncAuthId`]: the one application crypto of the node's `dsyn` sr25519 key
//!   ([`crate::probe::KEY_TYPE`], the key a service node also signs its probe answers with). A
//!   GPU provider's worker signs `commit_result` and `reveal_result` with it, a verifier's worker
//!   `commit_report` and `reveal_report`. The runtime sets `type AuthorityId = DsyncAuthId;` in
//!   both pallets. An operator inserts the key with
//!   `dsync-node key insert --key-type dsyn --scheme sr25519` and registers its public key (as
//!   an account id) as the off-chain key of its node.
//! - [`Observation`], [`http_get`], [`http_post_binary`]: one HTTP exchange within a deadline,
//!   reading at most a given number of bytes of the body. [`http_get`], which fetches URLs chosen
//!   by others (GPU batch inputs, probe endpoints), first asks
//!   [`fetch_allowed`](crate::fetch_policy::fetch_allowed) and makes no request to a host that is
//!   not public unless the operator allows it ([`ALLOW_PRIVATE_FETCH_KEY`]).
//! - [`submit_signed`]: submit a call signed by one keystore account.
//! - [`local_storage_key`]: how the workers name their records in persistent local storage.
//! - [`AIVM_URL_KEY`]: where the node leaves the `aivm` server's URL for the GPU-jobs worker.
//! - [`ALLOW_PRIVATE_FETCH_KEY`], [`private_fetch_allowed`]: the operator's allowance of fetches
//!   from hosts that are not public (`--allow-private-fetch`).
//!
//! The HTTP helpers, [`private_fetch_allowed`] and [`submit_signed`] need the off-chain worker's
//! externalities; everything else is pure.

use crate::{convert::u64_to_u32, fetch_policy::fetch_allowed, probe::crypto};
use alloc::{vec, vec::Vec};
use codec::Encode;
use frame_system::offchain::{
	Account, AppCrypto, CreateSignedTransaction, SendSignedTransaction, Signer,
};
use sp_core::{offchain::StorageKind, sr25519};
use sp_runtime::{
	offchain::{http, Duration, Timestamp},
	MultiSignature, MultiSigner,
};

/// The persistent local-storage key of the `aivm` server's base URL, as raw UTF-8 bytes: the
/// node writes it from `--aivm-url`, the GPU-jobs worker reads it.
pub const AIVM_URL_KEY: &[u8] = b"dsync/aivm-url";

/// The persistent local-storage key of the operator's allowance of fetches from hosts that are
/// not public (loopback, private, link-local, metadata addresses, local names: see
/// [`fetch_policy`](crate::fetch_policy)): one byte, `1` when the node runs with
/// `--allow-private-fetch` (implied by `--dev`), `0` otherwise. The node writes it at every
/// start, so a restart without the flag takes an earlier allowance back; [`http_get`] reads it.
pub const ALLOW_PRIVATE_FETCH_KEY: &[u8] = b"dsync/allow-private-fetch";

/// Whether the node's operator allows fetches from hosts that are not public: the byte under
/// [`ALLOW_PRIVATE_FETCH_KEY`] in persistent local storage is `1` (anything else, or nothing,
/// refuses them).
pub fn private_fetch_allowed() -> bool {
	sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, ALLOW_PRIVATE_FETCH_KEY).as_deref()
		== Some(&[1u8][..])
}

/// The off-chain signer of the DSYNC workers: sr25519 keys of type `dsyn`, bound to the
/// runtime's signing types.
pub struct DsyncAuthId;

/// For runtimes whose signatures are `MultiSignature` (the DSYNC runtime).
impl AppCrypto<MultiSigner, MultiSignature> for DsyncAuthId {
	type RuntimeAppPublic = crypto::Public;
	type GenericPublic = sr25519::Public;
	type GenericSignature = sr25519::Signature;
}

/// For runtimes (and test runtimes) whose signatures are plain sr25519.
impl AppCrypto<sr25519::Public, sr25519::Signature> for DsyncAuthId {
	type RuntimeAppPublic = crypto::Public;
	type GenericPublic = sr25519::Public;
	type GenericSignature = sr25519::Signature;
}

/// What an HTTP request produced.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Observation {
	/// No response: the request could not be made, the connection failed, the deadline passed
	/// or the body could not be read in time.
	Unreachable,
	/// A response.
	Response {
		/// The HTTP status code.
		status: u16,
		/// The round trip, request sent to body read, in milliseconds of the off-chain clock.
		latency_ms: u32,
		/// The body of a `200 OK` response, at most the limit asked for plus one byte (the rest
		/// is not read, so a caller can tell a body over the limit); empty for any other status,
		/// whose body is not read.
		body: Vec<u8>,
	},
	/// No request was made: the URL is not one the workers fetch
	/// ([`fetch_allowed`](crate::fetch_policy::fetch_allowed)), because its host is not public
	/// and the operator does not allow such fetches, or because its scheme or syntax is refused.
	/// Only [`http_get`] and [`http_get_with_headers`] give it. A verifier takes the node as
	/// down (the network cannot reach it), a provider the batch as unavailable.
	Refused,
}

/// `GET url` within `timeout_ms` (request and body together), reading at most `limit + 1`
/// bytes of the body of a `200 OK` answer: [`http_get_with_headers`] without headers.
pub fn http_get(url: &str, limit: usize, timeout_ms: u64) -> Observation {
	http_get_with_headers(url, &[], limit, timeout_ms)
}

/// [`http_get`] with request `headers` (name, value). A verifier's worker sends its probes with
/// the headers of [`ProbeAuth`](crate::probe_auth::ProbeAuth).
///
/// The URL comes from others (a job's client, a service node), so it is checked first:
/// [`Observation::Refused`], without any request, unless
/// [`fetch_allowed`](crate::fetch_policy::fetch_allowed) accepts it, with private hosts allowed
/// only where the operator allows them ([`private_fetch_allowed`]).
pub fn http_get_with_headers(
	url: &str,
	headers: &[(&str, &str)],
	limit: usize,
	timeout_ms: u64,
) -> Observation {
	if fetch_allowed(url, private_fetch_allowed()).is_err() {
		return Observation::Refused;
	}
	let started = sp_io::offchain::timestamp();
	let deadline = started.add(Duration::from_millis(timeout_ms));
	let mut request = http::Request::get(url);
	for &(name, value) in headers {
		request = request.add_header(name, value);
	}
	let pending = request.deadline(deadline).send();
	read_response(pending, started, deadline, limit)
}

/// `POST url` with a binary `body` (`Content-Type: application/octet-stream`) within
/// `timeout_ms`, reading at most `limit + 1` bytes of the body of a `200 OK` answer.
///
/// Not checked by [`fetch_allowed`](crate::fetch_policy::fetch_allowed): its one use posts to
/// the operator's own `aivm` server (`--aivm-url`, [`AIVM_URL_KEY`]), which is on loopback or the
/// operator's network by design, and whose URL nobody else can choose.
pub fn http_post_binary(url: &str, body: Vec<u8>, limit: usize, timeout_ms: u64) -> Observation {
	let started = sp_io::offchain::timestamp();
	let deadline = started.add(Duration::from_millis(timeout_ms));
	let pending = http::Request::post(url, vec![body])
		.add_header("Content-Type", "application/octet-stream")
		.deadline(deadline)
		.send();
	read_response(pending, started, deadline, limit)
}

/// Wait for the response to a request sent at `started`: its status and, for `200 OK`, at most
/// `limit + 1` bytes of the body, before `deadline`.
fn read_response<E>(
	pending: Result<http::PendingRequest, E>,
	started: Timestamp,
	deadline: Timestamp,
	limit: usize,
) -> Observation {
	let Ok(pending) = pending else { return Observation::Unreachable };
	let response = match pending.try_wait(deadline) {
		Ok(Ok(response)) => response,
		_ => return Observation::Unreachable,
	};
	let status = response.code;
	let body = if status == 200 {
		let mut reader = response.body();
		reader.deadline(deadline);
		let body: Vec<u8> = reader.by_ref().take(limit.saturating_add(1)).collect();
		if reader.error().is_some() {
			return Observation::Unreachable;
		}
		body
	} else {
		Vec::new()
	};
	let elapsed = sp_io::offchain::timestamp().diff(&started).millis();
	Observation::Response { status, latency_ms: u64_to_u32(elapsed), body }
}

/// Why [`submit_signed`] submitted nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SubmitError {
	/// No local key could sign for the account (or the transaction could not be built).
	NoSigner,
	/// The transaction pool refused the transaction.
	Refused,
}

/// Submit `call` to the local transaction pool, signed by `account`'s key with the application
/// crypto `C` (the pallet's `AuthorityId`, [`DsyncAuthId`] in the runtime).
pub fn submit_signed<T, C, LocalCall>(
	account: &Account<T>,
	call: LocalCall,
) -> Result<(), SubmitError>
where
	T: CreateSignedTransaction<LocalCall>,
	C: AppCrypto<T::Public, T::Signature>,
	LocalCall: Clone,
{
	let signer = Signer::<T, C>::any_account().with_filter(vec![account.public.clone()]);
	match signer.send_signed_transaction(|_| call.clone()) {
		Some((_, Ok(()))) => Ok(()),
		Some((_, Err(()))) => Err(SubmitError::Refused),
		None => Err(SubmitError::NoSigner),
	}
}

/// The persistent local-storage key `prefix ++ SCALE(key)`. The workers keep their records
/// under their own prefixes (`b"dsync/gpu-jobs/"`, `b"dsync/gpu-jobs/leaves/"`,
/// `b"dsync/pos/"`); a tuple key encodes as its parts one after the other.
pub fn local_storage_key<K: Encode + ?Sized>(prefix: &[u8], key: &K) -> Vec<u8> {
	let mut out = Vec::with_capacity(prefix.len().saturating_add(key.size_hint()));
	out.extend_from_slice(prefix);
	key.encode_to(&mut out);
	out
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_application_crypto::RuntimeAppPublic;
	use sp_core::offchain::testing::{PendingRequest, TestOffchainExt};

	#[test]
	fn local_storage_keys_are_the_prefix_then_the_encoded_key() {
		let node = [1u8; 32];
		let verifier = [2u8; 32];
		let key = local_storage_key(b"dsync/pos/", &(7u32, node, verifier));
		let mut expected = b"dsync/pos/".to_vec();
		expected.extend_from_slice(&7u32.to_le_bytes());
		expected.extend_from_slice(&node);
		expected.extend_from_slice(&verifier);
		assert_eq!(key, expected);
		// One key, or a tuple of one: the same bytes.
		assert_eq!(local_storage_key(b"p/", &node), local_storage_key(b"p/", &(node,)));
		let mut pair = b"p/".to_vec();
		pair.extend_from_slice(&node);
		pair.extend_from_slice(&3u64.to_le_bytes());
		assert_eq!(local_storage_key(b"p/", &(node, 3u64)), pair);
	}

	/// Test externalities with `offchain` as the off-chain worker and its local storage.
	fn offchain_ext(offchain: TestOffchainExt) -> sp_io::TestExternalities {
		use sp_core::offchain::{OffchainDbExt, OffchainWorkerExt};
		let mut ext = sp_io::TestExternalities::default();
		ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
		ext.register_extension(OffchainDbExt::new(offchain));
		ext
	}

	#[test]
	fn a_private_url_gets_no_request_unless_the_operator_allows_it() {
		let (offchain, state) = TestOffchainExt::new();
		let mut ext = offchain_ext(offchain);
		ext.execute_with(|| {
			let url = "http://127.0.0.1:9955/dsync/health";
			let set = |value: &[u8]| {
				sp_io::offchain::local_storage_set(
					StorageKind::PERSISTENT,
					ALLOW_PRIVATE_FETCH_KEY,
					value,
				)
			};
			// No allowance, or one that is not exactly `1`: refused before any request (none is
			// expected, so a request would panic in the test externalities).
			assert!(!private_fetch_allowed());
			assert_eq!(http_get(url, 16, 1_000), Observation::Refused);
			assert_eq!(http_get("http://public@localhost/x", 16, 1_000), Observation::Refused);
			let not_one: [&[u8]; 4] = [&[0], &[2], &[1, 1], &[]];
			for value in not_one {
				set(value);
				assert!(!private_fetch_allowed());
				assert_eq!(http_get(url, 16, 1_000), Observation::Refused);
			}
			assert!(state.read().requests.is_empty());

			// Allowed: the request is made.
			set(&[1]);
			assert!(private_fetch_allowed());
			state.write().expect_request(PendingRequest {
				method: "GET".into(),
				uri: url.into(),
				response: Some(b"ok".to_vec()),
				sent: true,
				..Default::default()
			});
			assert_eq!(
				http_get(url, 16, 1_000),
				Observation::Response { status: 200, latency_ms: 0, body: b"ok".to_vec() }
			);
			// The allowance does not lift the scheme and syntax checks.
			assert_eq!(http_get("ftp://127.0.0.1/x", 16, 1_000), Observation::Refused);
			assert_eq!(http_get("http://[::1/x", 16, 1_000), Observation::Refused);

			// Taken back (the node writes 0 when restarted without the flag): refused again.
			set(&[0]);
			assert_eq!(http_get(url, 16, 1_000), Observation::Refused);
		});
	}

	#[test]
	fn a_public_url_is_fetched_without_an_allowance() {
		let (offchain, state) = TestOffchainExt::new();
		let mut ext = offchain_ext(offchain);
		ext.execute_with(|| {
			let url = "https://data.example/batch.bin";
			state.write().expect_request(PendingRequest {
				method: "GET".into(),
				uri: url.into(),
				response: Some(vec![7; 4]),
				sent: true,
				..Default::default()
			});
			assert_eq!(
				http_get(url, 4, 1_000),
				Observation::Response { status: 200, latency_ms: 0, body: vec![7; 4] }
			);
			assert!(!private_fetch_allowed());
		});
	}

	#[test]
	fn both_signing_types_use_the_dsyn_key() {
		type MultiPublic =
			<DsyncAuthId as AppCrypto<MultiSigner, MultiSignature>>::RuntimeAppPublic;
		type Sr25519Public =
			<DsyncAuthId as AppCrypto<sr25519::Public, sr25519::Signature>>::RuntimeAppPublic;
		assert_eq!(<MultiPublic as RuntimeAppPublic>::ID, crate::probe::KEY_TYPE);
		assert_eq!(<Sr25519Public as RuntimeAppPublic>::ID, crate::probe::KEY_TYPE);
	}
}
