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
//! - [`Observation`], [`http_get`], [`http_post_binary`]: one HTTP exchange within a timeout,
//!   reading at most a given number of bytes of the body; [`http_get_until`] and
//!   [`http_post_binary_until`] take the deadline itself, so a worker with a time budget ends
//!   every exchange (a server that trickles its answer included) by the budget's end.
//!   [`http_get`], which fetches URLs chosen by others (GPU batch inputs, probe endpoints), first
//!   asks [`fetch_allowed`](crate::fetch_policy::fetch_allowed) and makes no request to a host
//!   that is not public unless the operator allows it ([`ALLOW_PRIVATE_FETCH_KEY`]).
//! - [`submit_signed`]: submit a call signed by one keystore account, with the nonce chosen by
//!   [`choose_nonce`] from the account's nonce in state and this node's [`NonceRecord`], so
//!   transactions sent before the earlier ones landed (by a later run, or by the other worker
//!   signing with the same key) take the next nonces, and a gap left by dropped transactions is
//!   filled again after [`NONCE_STALE_AFTER_BLOCKS`] blocks.
//! - [`local_storage_key`]: how the workers name their records in persistent local storage.
//! - [`AIVM_URL_KEY`]: where the node leaves the `aivm` server's URL for the GPU-jobs worker.
//! - [`ALLOW_PRIVATE_FETCH_KEY`], [`private_fetch_allowed`]: the operator's allowance of fetches
//!   from hosts that are not public (`--allow-private-fetch`).
//!
//! The HTTP helpers, [`private_fetch_allowed`] and [`submit_signed`] need the off-chain worker's
//! externalities; everything else is pure.

use crate::{convert::u64_to_u32, fetch_policy::fetch_allowed, probe::crypto};
use alloc::{vec, vec::Vec};
use codec::{Decode, Encode};
use frame_system::offchain::{Account, AppCrypto, CreateSignedTransaction, SubmitTransaction};
use sp_core::{offchain::StorageKind, sr25519};
use sp_runtime::{
	offchain::{
		http,
		storage::StorageValueRef,
		storage_lock::{StorageLock, Time},
		Duration, Timestamp,
	},
	traits::{One, Saturating},
	MultiSignature, MultiSigner, SaturatedConversion,
};

/// The persistent local-storage key of the `aivm` server's base URL, as raw UTF-8 bytes: the
/// node writes it from `--aivm-url`, the GPU-jobs worker reads it.
pub const AIVM_URL_KEY: &[u8] = b"dsync/aivm-url";

/// The persistent local-storage key of the base URL of the node's own storage endpoint, as raw
/// UTF-8 bytes (`http://127.0.0.1:{port}`): the node writes it at every start when it keeps
/// storage (`--storage-dir`) and clears it otherwise; the storage worker reads its proofs from
/// there, and does nothing when it is not set.
pub const STORAGE_URL_KEY: &[u8] = b"dsync/storage-url";

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
	/// Only [`http_get`], [`http_get_until`] and [`http_get_with_headers`] give it. A verifier
	/// takes the node as down (the network cannot reach it), a provider the batch as
	/// unavailable.
	Refused,
}

/// `GET url` within `timeout_ms` (request and body together), reading at most `limit + 1`
/// bytes of the body of a `200 OK` answer: [`http_get_with_headers`] without headers.
pub fn http_get(url: &str, limit: usize, timeout_ms: u64) -> Observation {
	http_get_with_headers(url, &[], limit, timeout_ms)
}

/// [`http_get`] that ends at `deadline` (request and body together) rather than after a
/// timeout: for a worker whose exchanges must all end within its time budget. A deadline
/// already passed makes no request ([`Observation::Unreachable`]).
pub fn http_get_until(url: &str, limit: usize, deadline: Timestamp) -> Observation {
	get_until(url, &[], limit, deadline)
}

/// `GET url` ending at `deadline`, for a URL the node's operator configured (the node's own
/// storage endpoint, [`STORAGE_URL_KEY`]), which is loopback by design: not checked by the fetch
/// policy, unlike [`http_get_until`], whose URLs come from others.
pub fn http_get_local_until(url: &str, limit: usize, deadline: Timestamp) -> Observation {
	let started = sp_io::offchain::timestamp();
	if started >= deadline {
		return Observation::Unreachable;
	}
	let pending = http::Request::get(url).deadline(deadline).send();
	read_response(pending, started, deadline, limit)
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
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(timeout_ms));
	get_until(url, headers, limit, deadline)
}

/// `GET url` with `headers` before `deadline`, checked by
/// [`fetch_allowed`](crate::fetch_policy::fetch_allowed) first.
fn get_until(
	url: &str,
	headers: &[(&str, &str)],
	limit: usize,
	deadline: Timestamp,
) -> Observation {
	if fetch_allowed(url, private_fetch_allowed()).is_err() {
		return Observation::Refused;
	}
	let started = sp_io::offchain::timestamp();
	if started >= deadline {
		return Observation::Unreachable;
	}
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
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(timeout_ms));
	http_post_binary_until(url, body, limit, deadline)
}

/// [`http_post_binary`] that ends at `deadline` (sending, answer and body together) rather
/// than after a timeout. A deadline already passed makes no request
/// ([`Observation::Unreachable`]).
pub fn http_post_binary_until(
	url: &str,
	body: Vec<u8>,
	limit: usize,
	deadline: Timestamp,
) -> Observation {
	let started = sp_io::offchain::timestamp();
	if started >= deadline {
		return Observation::Unreachable;
	}
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

/// The prefix of the persistent local-storage keys of the [`NonceRecord`]s:
/// `b"dsync/nonce/" ++ SCALE(account)` ([`nonce_key`]). One record per signing account, shared
/// by both workers (they sign with the same `dsyn` key).
pub const NONCE_PREFIX: &[u8] = b"dsync/nonce/";

/// The prefix of the persistent local-storage keys of the locks [`submit_signed`] holds while
/// it chooses, uses and records an account's nonce: `b"dsync/nonce-lock/" ++ SCALE(account)`.
pub const NONCE_LOCK_PREFIX: &[u8] = b"dsync/nonce-lock/";

/// Blocks that the account's nonce in state may stand still below this node's [`NonceRecord`]
/// before the record is stale: the transactions it counted were dropped (a restarted node's
/// pool is empty, a pool evicts, a mortal transaction dies) and the next one takes the state
/// nonce again ([`choose_nonce`]).
///
/// Five blocks (30 s at the chain's 6-second blocks): a worker's transaction lands in the next
/// block or two, so a state nonce that stood still for five blocks under pending transactions
/// means they are gone; a shorter wait would take healthy but delayed transactions for dropped
/// ones. It is below the 16-block mortality of the runtime's worker transactions, and a worker
/// that resubmits every `RESUBMIT_AFTER_BLOCKS` (3) blocks fills the gap by its second
/// resubmission at the latest.
pub const NONCE_STALE_AFTER_BLOCKS: u32 = 5;

/// How long, in milliseconds, a run holds an account's nonce lock before another may take it
/// over: [`submit_signed`] holds it only to sign and submit one transaction, so a lock older
/// than this was left by a run that ended while holding it.
pub const NONCE_LOCK_MS: u64 = 2_000;

/// The persistent local-storage key of `account`'s [`NonceRecord`]:
/// `b"dsync/nonce/" ++ SCALE(account)` ([`local_storage_key`]).
pub fn nonce_key<AccountId: Encode>(account: &AccountId) -> Vec<u8> {
	local_storage_key(NONCE_PREFIX, account)
}

/// What this node remembers of the nonces it signed for one account, in persistent local
/// storage under [`nonce_key`]: written by [`submit_signed`] after each submission the pool
/// accepted.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug)]
pub struct NonceRecord<Nonce> {
	/// The nonce of the next transaction this node signs for the account.
	pub next: Nonce,
	/// The account's nonce in the state of the worker's block when the record was written.
	pub state: Nonce,
	/// The block since which the state nonce has stood at `state` below `next`: how long this
	/// node's transactions have been waiting (the block of the submission, when none was
	/// waiting before it or the state nonce had moved).
	pub since: u32,
}

/// The nonce [`choose_nonce`] chose, with what to record once it is used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NonceChoice<Nonce> {
	/// The nonce of the transaction.
	pub nonce: Nonce,
	/// The [`NonceRecord::since`] to record with it.
	pub since: u32,
	/// When the record was stale and the choice fell back to the state nonce: the record's next
	/// nonce, to go on from if the pool refuses the state nonce (a transaction of this node with
	/// it is still there after all).
	pub stale: Option<Nonce>,
}

/// The nonce of the next transaction of an account whose nonce in the state of the worker's
/// `block` is `state`, with `record` the node's [`NonceRecord`] (pure).
///
/// - No record, or none above the state nonce (everything this node sent landed): `state`.
/// - A record above it (transactions of this node not yet on chain, sent by an earlier run or
///   by the other worker): `record.next`, the nonce after them, as long as the state nonce has
///   not stood still for [`NONCE_STALE_AFTER_BLOCKS`] blocks since the record's `since` (the
///   wait restarts whenever the state nonce moves: the transactions are landing).
/// - Stale (the state nonce stood still that long): `state` again, so the next transaction
///   fills the gap the dropped ones left and the later ones can land; [`NonceChoice::stale`]
///   keeps `record.next`.
///
/// The wait is counted from when the state nonce last moved, not from when the record was last
/// written: a worker sending something every block would otherwise never see its record go
/// stale, and a gap once opened would never be filled.
pub fn choose_nonce<Nonce: Copy + Ord>(
	state: Nonce,
	record: Option<&NonceRecord<Nonce>>,
	block: u32,
) -> NonceChoice<Nonce> {
	let fresh = NonceChoice { nonce: state, since: block, stale: None };
	let Some(record) = record.filter(|record| record.next > state) else { return fresh };
	let since = if record.state == state { record.since } else { block };
	if block >= since.saturating_add(NONCE_STALE_AFTER_BLOCKS) {
		NonceChoice { stale: Some(record.next), ..fresh }
	} else {
		NonceChoice { nonce: record.next, since, stale: None }
	}
}

/// Submit `call` to the local transaction pool, signed by `account`'s key with the application
/// crypto `C` (the pallet's `AuthorityId`, [`DsyncAuthId`] in the runtime).
///
/// The nonce is [`choose_nonce`]'s, from the account's nonce in the state of the worker's block
/// and the [`NonceRecord`] under [`nonce_key`]; after the pool accepted the transaction the
/// record says the nonce after it. A stale record's fallback to the state nonce that the pool
/// refuses goes on from the record instead (its transaction with the state nonce is still
/// waiting), and waits [`NONCE_STALE_AFTER_BLOCKS`] again. The choice, the submission and the
/// record are made under a lock in persistent local storage (per account, at most
/// [`NONCE_LOCK_MS`]), so overlapping runs of the workers never take the same nonce.
///
/// The transaction is built by the runtime's
/// [`CreateSignedTransaction`](frame_system::offchain::CreateSignedTransaction), as
/// `frame_system`'s `Signer` does, but with this nonce, and the account's nonce in state is
/// left as it is.
pub fn submit_signed<T, C, LocalCall>(
	account: &Account<T>,
	call: LocalCall,
) -> Result<(), SubmitError>
where
	T: CreateSignedTransaction<LocalCall>,
	C: AppCrypto<T::Public, T::Signature>,
	LocalCall: Clone,
{
	let block: u32 = frame_system::Pallet::<T>::block_number().saturated_into();
	let lock_key = local_storage_key(NONCE_LOCK_PREFIX, &account.id);
	let mut lock =
		StorageLock::<Time>::with_deadline(&lock_key, Duration::from_millis(NONCE_LOCK_MS));
	let _guard = lock.lock();

	let record_key = nonce_key(&account.id);
	let store = StorageValueRef::persistent(&record_key);
	let record = store.get::<NonceRecord<<T as frame_system::Config>::Nonce>>().ok().flatten();
	let state = frame_system::Account::<T>::get(&account.id).nonce;
	let choice = choose_nonce(state, record.as_ref(), block);
	let mut nonce = choice.nonce;
	let mut submitted = sign_and_submit::<T, C, LocalCall>(account, call.clone(), nonce);
	if let (Err(SubmitError::Refused), Some(pending)) = (submitted, choice.stale) {
		// The pool still holds a transaction of this node with the state nonce: the record was
		// not stale. Go on above the waiting transactions (`since` is this block: wait again).
		nonce = pending;
		submitted = sign_and_submit::<T, C, LocalCall>(account, call, nonce);
	}
	submitted?;
	let next = Saturating::saturating_add(nonce, One::one());
	store.set(&NonceRecord { next, state, since: choice.since });
	Ok(())
}

/// Build `call` into a transaction signed by `account` with `nonce` and submit it.
fn sign_and_submit<T, C, LocalCall>(
	account: &Account<T>,
	call: LocalCall,
	nonce: <T as frame_system::Config>::Nonce,
) -> Result<(), SubmitError>
where
	T: CreateSignedTransaction<LocalCall>,
	C: AppCrypto<T::Public, T::Signature>,
{
	let transaction = <T as CreateSignedTransaction<LocalCall>>::create_signed_transaction::<C>(
		call.into(),
		account.public.clone(),
		account.id.clone(),
		nonce,
	)
	.ok_or(SubmitError::NoSigner)?;
	SubmitTransaction::<T, LocalCall>::submit_transaction(transaction)
		.map_err(|()| SubmitError::Refused)
}

/// The persistent local-storage key `prefix ++ SCALE(key)`. The workers keep their records
/// under their own prefixes (`b"dsync/gpu-jobs/"`, `b"dsync/gpu-jobs/leaves/"`,
/// `b"dsync/pos/"`), and share the nonce records ([`NONCE_PREFIX`], [`NONCE_LOCK_PREFIX`]); a
/// tuple key encodes as its parts one after the other.
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
	fn a_deadline_already_passed_makes_no_request() {
		let (offchain, state) = TestOffchainExt::new();
		let mut ext = offchain_ext(offchain);
		ext.execute_with(|| {
			state.write().timestamp = Timestamp::from_unix_millis(5_000);
			let url = "https://data.example/batch.bin";
			// No request is expected: one would panic in the test externalities.
			for deadline in [4_999, 5_000] {
				let deadline = Timestamp::from_unix_millis(deadline);
				assert_eq!(http_get_until(url, 4, deadline), Observation::Unreachable);
				assert_eq!(
					http_post_binary_until(url, vec![1], 4, deadline),
					Observation::Unreachable
				);
			}
			assert!(state.read().requests.is_empty());
			// A deadline ahead: the request is made.
			state.write().expect_request(PendingRequest {
				method: "GET".into(),
				uri: url.into(),
				response: Some(vec![7; 4]),
				sent: true,
				..Default::default()
			});
			assert_eq!(
				http_get_until(url, 4, Timestamp::from_unix_millis(5_001)),
				Observation::Response { status: 200, latency_ms: 0, body: vec![7; 4] }
			);
		});
	}

	/// A record of `next` with the state nonce `state` standing since `since`.
	fn record(next: u32, state: u32, since: u32) -> NonceRecord<u32> {
		NonceRecord { next, state, since }
	}

	#[test]
	fn without_a_record_above_the_state_the_state_nonce_is_taken() {
		assert_eq!(choose_nonce(4, None, 10), NonceChoice { nonce: 4, since: 10, stale: None });
		// Everything this node sent landed (or more: another node signed with the key).
		for next in [2, 4] {
			assert_eq!(
				choose_nonce(4, Some(&record(next, 1, 3)), 10),
				NonceChoice { nonce: 4, since: 10, stale: None }
			);
		}
	}

	#[test]
	fn transactions_still_waiting_are_counted_until_the_record_is_stale() {
		let stale = NONCE_STALE_AFTER_BLOCKS;
		// Sent at block 10 (nonces 0 and 1), none landed yet: the next nonce is 2, the wait
		// counted from block 10.
		let waiting = record(2, 0, 10);
		for block in [10, 11, 10 + stale - 1] {
			assert_eq!(
				choose_nonce(0, Some(&waiting), block),
				NonceChoice { nonce: 2, since: 10, stale: None }
			);
		}
		// The state nonce stood still for `stale` blocks: they were dropped; the state nonce is
		// taken again, the wait restarts, and the record's nonce is kept in case the pool still
		// holds them.
		for block in [10 + stale, 10 + stale + 7] {
			assert_eq!(
				choose_nonce(0, Some(&waiting), block),
				NonceChoice { nonce: 0, since: block, stale: Some(2) }
			);
		}
	}

	#[test]
	fn the_wait_restarts_whenever_the_state_nonce_moves() {
		let stale = NONCE_STALE_AFTER_BLOCKS;
		// Nonces 0..5 sent since block 10; 0 and 1 landed: the rest are landing, the wait
		// restarts at this block (the record's `since` no longer counts).
		let landing = record(5, 0, 10);
		let late = 10 + stale + 3;
		assert_eq!(
			choose_nonce(2, Some(&landing), late),
			NonceChoice { nonce: 5, since: late, stale: None }
		);
		// A worker that sends every block does not keep a stale record alive: the wait counts
		// from when the state nonce last moved, not from the last write.
		let busy = record(9, 2, late);
		assert_eq!(
			choose_nonce(2, Some(&busy), late + stale - 1),
			NonceChoice { nonce: 9, since: late, stale: None }
		);
		assert_eq!(
			choose_nonce(2, Some(&busy), late + stale),
			NonceChoice { nonce: 2, since: late + stale, stale: Some(9) }
		);
	}

	#[test]
	fn nonce_records_have_their_own_keys() {
		let account = [5u8; 32];
		assert_eq!(nonce_key(&account), local_storage_key(NONCE_PREFIX, &account));
		assert_ne!(
			local_storage_key(NONCE_PREFIX, &account),
			local_storage_key(NONCE_LOCK_PREFIX, &account)
		);
		let encoded = record(3, 1, 7).encode();
		assert_eq!(NonceRecord::<u32>::decode(&mut &encoded[..]).ok(), Some(record(3, 1, 7)));
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
