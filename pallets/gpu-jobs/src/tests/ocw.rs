//! The off-chain worker, with the test off-chain externalities (HTTP, local storage), a test
//! transaction pool and an in-memory keystore holding a `dsyn` key: inline and batch jobs
//! computed, committed and revealed; a server answering 500, malformed JSON, a wrong shape or
//! nothing in time; a batch that does not match its hash; retries and resubmissions without
//! double submission. With a clock ([`Scripted`]): answers sent before any download, a batch
//! host that never answers or trickles its answer held to the run's budget, inferences in
//! commit-deadline order; nonces of runs before the previous transactions landed, and after
//! they were dropped. The vote `INPUT_UNAVAILABLE`: cast for a batch host that never answers
//! (after the attempts) or serves wrong bytes (at once near the commit deadline), never for an
//! inline job, the provider's own server (which never counts toward it) or a download cut short
//! by the budget; never a side of
//! a walk; disproved at item 0 by a provider with a real result.

use crate::{
	mock::*,
	ocw::{
		evaluate_response, infer_url, local_key, request_body, stored_leaves, InferenceError,
		LocalJobs, Observation, AIVM_URL_KEY, INFERENCE_BUDGET_MS, MAX_RESPONSE_BYTES,
		MIN_FAIR_DOWNLOAD_MS, RESUBMIT_AFTER_BLOCKS, RETRY_AFTER_BLOCKS,
		UNAVAILABLE_AFTER_ATTEMPTS, UNAVAILABLE_MARGIN_BLOCKS,
	},
	*,
};
use codec::{Decode, Encode};
use dsync_aivm_core::bundled::DIGITS_64_128_64_10_HASH;
use dsync_primitives::{
	hex,
	offchain::{nonce_key, NonceRecord, NONCE_STALE_AFTER_BLOCKS},
	probe::KEY_TYPE,
};
use frame_support::{assert_ok, traits::Hooks, BoundedVec};
use sp_core::{
	offchain::{
		testing::{OffchainState, PendingRequest, TestOffchainExt, TestTransactionPoolExt},
		Duration, Externalities as OffchainExternalities, HttpError, HttpRequestId,
		HttpRequestStatus, OffchainDbExt, OffchainWorkerExt, OpaqueNetworkState, StorageKind,
		Timestamp, TransactionPoolExt,
	},
	OpaquePeerId, H256,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::{
	generic::Preamble,
	offchain::storage::StorageValueRef,
	traits::{Dispatchable, Verify},
	Perbill,
};
use std::sync::{Arc, Mutex};

/// The "random" seed of the test off-chain externalities: the salt of every commitment.
const OCW_SALT: [u8; 32] = [9u8; 32];
/// The inference endpoint of the default `aivm` URL.
/// The inference URL of the digits model at `base`.
fn infer_at(base: &str) -> String {
	format!("{base}/v1/infer/binary?model={}", hex::encode_0x(&DIGITS_64_128_64_10_HASH))
}

/// The inference URL of the digits model at the default server.
fn default_infer() -> String {
	infer_at("http://127.0.0.1:8710")
}
/// Where the batches of the tests are.
const BATCH_URL: &str = "https://data.example/batch.bin";

/// A keystore with one `dsyn` key; returns it with the key's account.
fn keystore() -> (MemoryKeystore, AccountId) {
	let keystore = MemoryKeystore::new();
	let public = keystore
		.sr25519_generate_new(KEY_TYPE, Some("//Provider"))
		.expect("the memory keystore generates keys");
	(keystore, public.into())
}

/// `provider(1)`, whose key is `key`, is the only provider.
fn builder(key: AccountId) -> ExtBuilder {
	ExtBuilder::empty().provider(provider(1), key, Perbill::one())
}

/// The externalities of `builder` with `worker` as the off-chain worker extension, `db`'s local
/// storage, the pool and the keystore.
fn ext_with<O: OffchainExternalities + 'static>(
	builder: ExtBuilder,
	worker: O,
	db: TestOffchainExt,
	pool: TestTransactionPoolExt,
	keystore: MemoryKeystore,
) -> sp_io::TestExternalities {
	let mut ext = builder.build();
	ext.register_extension(OffchainWorkerExt::new(worker));
	ext.register_extension(OffchainDbExt::new(db));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	ext
}

/// An HTTP layer that never gives a good answer: every request finishes with `status`, or
/// reaches its deadline when `status` is `None`. Everything else is the test externalities'.
struct Faulty {
	inner: TestOffchainExt,
	status: Option<u16>,
}

impl OffchainExternalities for Faulty {
	fn is_validator(&self) -> bool {
		self.inner.is_validator()
	}
	fn network_state(&self) -> Result<OpaqueNetworkState, ()> {
		Err(())
	}
	fn timestamp(&mut self) -> Timestamp {
		self.inner.timestamp()
	}
	fn sleep_until(&mut self, deadline: Timestamp) {
		self.inner.sleep_until(deadline)
	}
	fn random_seed(&mut self) -> [u8; 32] {
		self.inner.random_seed()
	}
	fn http_request_start(
		&mut self,
		method: &str,
		uri: &str,
		meta: &[u8],
	) -> Result<HttpRequestId, ()> {
		self.inner.http_request_start(method, uri, meta)
	}
	fn http_request_add_header(
		&mut self,
		request_id: HttpRequestId,
		name: &str,
		value: &str,
	) -> Result<(), ()> {
		self.inner.http_request_add_header(request_id, name, value)
	}
	fn http_request_write_body(
		&mut self,
		request_id: HttpRequestId,
		chunk: &[u8],
		deadline: Option<Timestamp>,
	) -> Result<(), HttpError> {
		self.inner.http_request_write_body(request_id, chunk, deadline)
	}
	fn http_response_wait(
		&mut self,
		ids: &[HttpRequestId],
		_deadline: Option<Timestamp>,
	) -> Vec<HttpRequestStatus> {
		ids.iter()
			.map(|_| match self.status {
				Some(code) => HttpRequestStatus::Finished(code),
				None => HttpRequestStatus::DeadlineReached,
			})
			.collect()
	}
	fn http_response_headers(&mut self, _request_id: HttpRequestId) -> Vec<(Vec<u8>, Vec<u8>)> {
		Vec::new()
	}
	fn http_response_read_body(
		&mut self,
		_request_id: HttpRequestId,
		_buffer: &mut [u8],
		_deadline: Option<Timestamp>,
	) -> Result<usize, HttpError> {
		Err(HttpError::IoError)
	}
	fn set_authorized_nodes(&mut self, _nodes: Vec<OpaquePeerId>, _authorized_only: bool) {}
}

/// One HTTP request the worker made, as [`Scripted`] saw it.
#[derive(Clone, Debug)]
struct Seen {
	/// The request's URI.
	uri: String,
	/// The number of transactions in the pool when the request started.
	pool_len: usize,
	/// The last deadline the worker waited for the answer or read its body with.
	deadline: Option<Timestamp>,
}

/// How [`Scripted`] answers a URI it stalls.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stall {
	/// No answer: the wait lasts until the worker's deadline.
	Silent,
	/// `200 OK` at once, then the body one byte every [`TRICKLE_STEP_MS`], until the worker's
	/// deadline.
	Trickle,
}

/// How long [`Stall::Trickle`] takes per byte of the body.
const TRICKLE_STEP_MS: u64 = 500;

/// The test externalities' HTTP with a clock and a log. A request to a URI of `stalls` is
/// answered as its [`Stall`] says (without the test externalities, which expect nothing for
/// it); any other by the test externalities (its expected request), `delay_ms` later on the
/// clock, or not at all if that is past the worker's deadline. Every request is logged.
struct Scripted {
	inner: TestOffchainExt,
	stalls: Vec<(String, Stall)>,
	delay_ms: u64,
	pool_len: Box<dyn Fn() -> usize + Send>,
	log: Arc<Mutex<Vec<Seen>>>,
	/// The requests started: id, entry in the log, stall.
	requests: Vec<(HttpRequestId, usize, Option<Stall>)>,
	/// The id of the last stalled request (they count down from the top, clear of the ids of
	/// the test externalities).
	last_stalled: u16,
}

impl Scripted {
	/// Over `inner`, with `pool_len` counting the pool's transactions; the log is returned too.
	fn new(
		inner: TestOffchainExt,
		pool_len: impl Fn() -> usize + Send + 'static,
		stalls: Vec<(String, Stall)>,
		delay_ms: u64,
	) -> (Self, Arc<Mutex<Vec<Seen>>>) {
		let log = Arc::new(Mutex::new(Vec::new()));
		let scripted = Scripted {
			inner,
			stalls,
			delay_ms,
			pool_len: Box::new(pool_len),
			log: log.clone(),
			requests: Vec::new(),
			last_stalled: u16::MAX,
		};
		(scripted, log)
	}

	/// The log entry and stall of request `id` (the latest request with the id: the test
	/// externalities reuse the ids of requests they are done with).
	fn request(&self, id: HttpRequestId) -> Option<(usize, Option<Stall>)> {
		self.requests
			.iter()
			.rev()
			.find(|(known, ..)| *known == id)
			.map(|(_, entry, stall)| (*entry, *stall))
	}

	/// Log `deadline` as the last one of the request logged at `entry`.
	fn note_deadline(&self, entry: usize, deadline: Option<Timestamp>) {
		if let Some(seen) = self.log.lock().expect("the log is not poisoned").get_mut(entry) {
			seen.deadline = deadline;
		}
	}

	/// Move the clock on to `deadline` (a wait that lasts until it), if it is ahead.
	fn wait_until(&mut self, deadline: Option<Timestamp>) {
		let now = self.inner.timestamp();
		if let Some(deadline) = deadline {
			self.inner.sleep_until(deadline.max(now));
		}
	}
}

impl OffchainExternalities for Scripted {
	fn is_validator(&self) -> bool {
		self.inner.is_validator()
	}
	fn network_state(&self) -> Result<OpaqueNetworkState, ()> {
		Err(())
	}
	fn timestamp(&mut self) -> Timestamp {
		self.inner.timestamp()
	}
	fn sleep_until(&mut self, deadline: Timestamp) {
		self.inner.sleep_until(deadline)
	}
	fn random_seed(&mut self) -> [u8; 32] {
		self.inner.random_seed()
	}
	fn http_request_start(
		&mut self,
		method: &str,
		uri: &str,
		meta: &[u8],
	) -> Result<HttpRequestId, ()> {
		let stall = self
			.stalls
			.iter()
			.find(|(stalled, _)| stalled.as_str() == uri)
			.map(|(_, stall)| *stall);
		let id = match stall {
			Some(_) => {
				self.last_stalled = self.last_stalled.saturating_sub(1);
				HttpRequestId(self.last_stalled)
			},
			None => self.inner.http_request_start(method, uri, meta)?,
		};
		let seen = Seen { uri: uri.into(), pool_len: (self.pool_len)(), deadline: None };
		let mut log = self.log.lock().expect("the log is not poisoned");
		self.requests.push((id, log.len(), stall));
		log.push(seen);
		Ok(id)
	}
	fn http_request_add_header(
		&mut self,
		request_id: HttpRequestId,
		name: &str,
		value: &str,
	) -> Result<(), ()> {
		match self.request(request_id) {
			Some((_, Some(_))) => Ok(()),
			_ => self.inner.http_request_add_header(request_id, name, value),
		}
	}
	fn http_request_write_body(
		&mut self,
		request_id: HttpRequestId,
		chunk: &[u8],
		deadline: Option<Timestamp>,
	) -> Result<(), HttpError> {
		match self.request(request_id) {
			Some((_, Some(_))) => Ok(()),
			_ => self.inner.http_request_write_body(request_id, chunk, deadline),
		}
	}
	fn http_response_wait(
		&mut self,
		ids: &[HttpRequestId],
		deadline: Option<Timestamp>,
	) -> Vec<HttpRequestStatus> {
		let mut statuses = Vec::new();
		for id in ids {
			let Some((entry, stall)) = self.request(*id) else {
				statuses.push(HttpRequestStatus::Invalid);
				continue;
			};
			self.note_deadline(entry, deadline);
			let status = match stall {
				Some(Stall::Silent) => {
					self.wait_until(deadline);
					HttpRequestStatus::DeadlineReached
				},
				Some(Stall::Trickle) => HttpRequestStatus::Finished(200),
				None => {
					let answered = self.inner.timestamp().add(Duration::from_millis(self.delay_ms));
					if deadline.is_some_and(|deadline| answered > deadline) {
						self.wait_until(deadline);
						HttpRequestStatus::DeadlineReached
					} else {
						self.inner.sleep_until(answered);
						self.inner
							.http_response_wait(&[*id], deadline)
							.pop()
							.unwrap_or(HttpRequestStatus::Invalid)
					}
				},
			};
			statuses.push(status);
		}
		statuses
	}
	fn http_response_headers(&mut self, request_id: HttpRequestId) -> Vec<(Vec<u8>, Vec<u8>)> {
		match self.request(request_id) {
			Some((_, Some(_))) => Vec::new(),
			_ => self.inner.http_response_headers(request_id),
		}
	}
	fn http_response_read_body(
		&mut self,
		request_id: HttpRequestId,
		buffer: &mut [u8],
		deadline: Option<Timestamp>,
	) -> Result<usize, HttpError> {
		match self.request(request_id) {
			Some((entry, Some(Stall::Trickle))) => {
				self.note_deadline(entry, deadline);
				let next = self.inner.timestamp().add(Duration::from_millis(TRICKLE_STEP_MS));
				if deadline.is_some_and(|deadline| next > deadline) {
					self.wait_until(deadline);
					return Err(HttpError::DeadlineReached);
				}
				self.inner.sleep_until(next);
				match buffer.first_mut() {
					Some(byte) => {
						*byte = 0;
						Ok(1)
					},
					None => Ok(0),
				}
			},
			Some((_, Some(Stall::Silent))) => Err(HttpError::IoError),
			_ => self.inner.http_response_read_body(request_id, buffer, deadline),
		}
	}
	fn set_authorized_nodes(&mut self, _nodes: Vec<OpaquePeerId>, _authorized_only: bool) {}
}

/// What the `aivm` binary endpoint answers for `outputs`: each value little-endian.
fn answer(outputs: &[i32]) -> Vec<u8> {
	outputs.iter().flat_map(|value| value.to_le_bytes()).collect()
}

/// Expect one inference request to `url` for `inputs` of the digits model, answered `200 OK`
/// with `response`.
fn expect_infer(state: &mut OffchainState, url: &str, inputs: &[i8], response: Vec<u8>) {
	state.expect_request(PendingRequest {
		method: "POST".into(),
		uri: url.into(),
		headers: vec![("Content-Type".into(), "application/octet-stream".into())],
		body: request_body(inputs),
		response: Some(response),
		sent: true,
		..Default::default()
	});
}

/// Expect one download of `url`, answered `200 OK` with `body`.
fn expect_download(state: &mut OffchainState, url: &str, body: Vec<u8>) {
	state.expect_request(PendingRequest {
		method: "GET".into(),
		uri: url.into(),
		response: Some(body),
		sent: true,
		..Default::default()
	});
}

/// Decode the transactions in the pool.
fn pool_calls(transactions: &[Vec<u8>]) -> Vec<Extrinsic> {
	transactions
		.iter()
		.map(|tx| Extrinsic::decode(&mut &tx[..]).expect("the pool holds our extrinsics"))
		.collect()
}

/// The signer of `tx`, after checking its signature of `(call, nonce)`.
fn signer_of(tx: &Extrinsic, nonce: u32) -> AccountId {
	let Preamble::Signed(signer, signature, ()) = &tx.preamble else {
		panic!("the off-chain worker submits signed transactions");
	};
	assert!(signature.verify(&(&tx.function, nonce).encode()[..], signer));
	signer.clone()
}

/// The nonce `tx` was signed with: the one its signature of `(call, nonce)` verifies for.
fn nonce_of(tx: &Extrinsic) -> u32 {
	let Preamble::Signed(signer, signature, ()) = &tx.preamble else {
		panic!("the off-chain worker submits signed transactions");
	};
	(0..64u32)
		.find(|nonce| signature.verify(&(&tx.function, *nonce).encode()[..], signer))
		.expect("signed with a nonce below 64")
}

/// The local records of `owner`.
fn records(owner: &AccountId) -> LocalJobs {
	StorageValueRef::persistent(&local_key(owner))
		.get::<LocalJobs>()
		.expect("the records decode")
		.unwrap_or_default()
}

#[test]
fn an_inline_job_is_computed_committed_and_revealed() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key.clone()), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let input = digit_items(2, 1);
		let truth = digit_result(&input);
		let id = post(&ALICE, inline(input.clone()), 1, 100);
		expect_infer(&mut state.write(), &default_infer(), &input, answer(&digit_outputs(&input)));
		state.write().seed = OCW_SALT;

		GpuJobs::offchain_worker(1);

		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 1);
		assert_eq!(signer_of(&txs[0], 0), key);
		let commitment = commitment_of(id, &provider(1), &truth, &OCW_SALT);
		assert_eq!(
			txs[0].function,
			RuntimeCall::GpuJobs(crate::Call::commit_result { job: id, commitment })
		);
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Computed {
				result: truth,
				salt: OCW_SALT,
				commit_sent_at: 1,
				reveal_sent_at: None
			})
		);

		// The commitment lands; the only provider committed, so reveals open at once.
		assert_ok!(txs[0].function.clone().dispatch(RuntimeOrigin::signed(key.clone())));
		GpuJobs::offchain_worker(1);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 2);
		assert_eq!(signer_of(&txs[1], 1), key);
		assert_eq!(
			txs[1].function,
			RuntimeCall::GpuJobs(crate::Call::reveal_result {
				job: id,
				result: truth,
				salt: OCW_SALT
			})
		);
		// Not sent twice.
		GpuJobs::offchain_worker(1);
		assert_eq!(pool_state.read().transactions.len(), 2);

		// The reveal lands and concludes the job: the worker has nothing more to send.
		assert_ok!(txs[1].function.clone().dispatch(RuntimeOrigin::signed(key.clone())));
		assert!(matches!(last_event(), Event::JobConcluded { result, .. } if result == truth));
		next_block();
		GpuJobs::offchain_worker(2);
		assert_eq!(pool_state.read().transactions.len(), 2);
		// Paid at the end of the challenge window; the record is forgotten.
		run_to_dispute_end(id);
		assert!(matches!(last_event(), Event::JobSettled { result, .. } if result == truth));
		GpuJobs::offchain_worker(now());
		assert_eq!(pool_state.read().transactions.len(), 2);
		assert!(records(&provider(1)).is_empty());
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_batch_is_downloaded_checked_and_sent_to_the_configured_server() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		sp_io::offchain::local_storage_set(
			StorageKind::PERSISTENT,
			AIVM_URL_KEY,
			b"http://10.0.0.5:9000/",
		);
		let inputs = digit_items(3, 4);
		let truth = digit_result(&inputs);
		let id = post(&ALICE, batch(3, inputs_root(&inputs, 64), BATCH_URL), 1, 100);
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		expect_infer(
			&mut state.write(),
			&infer_at("http://10.0.0.5:9000"),
			&inputs,
			answer(&digit_outputs(&inputs)),
		);
		state.write().seed = OCW_SALT;

		GpuJobs::offchain_worker(1);

		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 1);
		let commitment = commitment_of(id, &provider(1), &truth, &OCW_SALT);
		assert_eq!(
			txs[0].function,
			RuntimeCall::GpuJobs(crate::Call::commit_result { job: id, commitment })
		);
		// One provider: nobody can challenge it, so no leaves are kept.
		assert_eq!(stored_leaves(&provider(1), id), None);
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_batch_that_does_not_match_its_hash_is_not_computed() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let inputs = digit_items(3, 4);
		let id = post(&ALICE, batch(3, inputs_root(&inputs, 64), BATCH_URL), 1, 100);
		state.write().seed = OCW_SALT;
		// Other values: no inference request follows.
		expect_download(&mut state.write(), BATCH_URL, request_body(&digit_items(3, 5)));
		GpuJobs::offchain_worker(1);
		assert!(pool_state.read().transactions.is_empty());
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Failed { input_failures: 1, retry_at: 1 + RETRY_AFTER_BLOCKS })
		);
		// The wrong length, two blocks later: no inference either, and the input has now
		// failed `UNAVAILABLE_AFTER_ATTEMPTS` times, so it is voted unavailable.
		run_to_block(3);
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs[..128]));
		GpuJobs::offchain_worker(3);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 1);
		let commitment = commitment_of(id, &provider(1), &INPUT_UNAVAILABLE, &OCW_SALT);
		assert_eq!(
			txs[0].function,
			RuntimeCall::GpuJobs(crate::Call::commit_result { job: id, commitment })
		);
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Computed {
				result: INPUT_UNAVAILABLE,
				salt: OCW_SALT,
				commit_sent_at: 3,
				reveal_sent_at: None
			})
		);
		GpuJobs::do_try_state().unwrap();
	});
}

/// A provider whose own inference server failed once, then the batch host once, is one
/// failure of the input's own short of the vote: before, every failure counted, so a passing
/// fault of the host right after one of its own server made it vote the input unavailable.
#[test]
fn a_failure_of_the_providers_own_server_does_not_bring_the_vote_closer() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let inputs = digit_items(3, 4);
		let id = post(&ALICE, batch(3, inputs_root(&inputs, 64), BATCH_URL), 1, 100);
		state.write().seed = OCW_SALT;
		// The batch downloads; the provider's own server answers garbage.
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		expect_infer(&mut state.write(), &default_infer(), &inputs, b"busy".to_vec());
		GpuJobs::offchain_worker(1);
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Failed { input_failures: 0, retry_at: 1 + RETRY_AFTER_BLOCKS })
		);
		// Then the host serves wrong bytes once: tried again, not voted.
		run_to_block(3);
		expect_download(&mut state.write(), BATCH_URL, request_body(&digit_items(3, 5)));
		GpuJobs::offchain_worker(3);
		assert!(pool_state.read().transactions.is_empty());
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Failed { input_failures: 1, retry_at: 3 + RETRY_AFTER_BLOCKS })
		);
		// A second failure of the input's own is voted on.
		run_to_block(5);
		expect_download(&mut state.write(), BATCH_URL, request_body(&digit_items(3, 5)));
		GpuJobs::offchain_worker(5);
		let commitment = commitment_of(id, &provider(1), &INPUT_UNAVAILABLE, &OCW_SALT);
		assert_eq!(
			pool_calls(&pool_state.read().transactions)[0].function,
			RuntimeCall::GpuJobs(crate::Call::commit_result { job: id, commitment })
		);
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_server_error_is_retried_later_without_submitting() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let faulty = Faulty { inner: offchain.clone(), status: Some(500) };
	let mut ext = ext_with(builder(key), faulty, offchain, pool, keystore);
	ext.execute_with(|| {
		let id = post(&ALICE, inline(digit_items(1, 1)), 1, 100);
		GpuJobs::offchain_worker(1);
		assert!(pool_state.read().transactions.is_empty());
		assert_eq!(state.read().requests.len(), 1);
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Failed { input_failures: 0, retry_at: 1 + RETRY_AFTER_BLOCKS })
		);
		// Not before the retry block.
		next_block();
		GpuJobs::offchain_worker(2);
		assert_eq!(state.read().requests.len(), 1);
		next_block();
		GpuJobs::offchain_worker(3);
		assert_eq!(state.read().requests.len(), 2);
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Failed { input_failures: 0, retry_at: 3 + RETRY_AFTER_BLOCKS })
		);
		assert!(pool_state.read().transactions.is_empty());
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_server_that_never_answers_times_out_without_submitting() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let faulty = Faulty { inner: offchain.clone(), status: None };
	let mut ext = ext_with(builder(key), faulty, offchain, pool, keystore);
	ext.execute_with(|| {
		let id = post(&ALICE, inline(digit_items(1, 1)), 1, 100);
		let other = post(&ALICE, inline(digit_items(1, 2)), 1, 100);
		GpuJobs::offchain_worker(1);
		assert!(pool_state.read().transactions.is_empty());
		// The first inference gets no answer: the run tries no other job.
		assert_eq!(state.read().requests.len(), 1);
		let failed: Vec<JobId> = records(&provider(1))
			.iter()
			.filter(|(_, record)| matches!(record, LocalJob::Failed { input_failures: 0, .. }))
			.map(|(job, _)| *job)
			.collect();
		assert_eq!(failed.len(), 1);
		assert_eq!(records(&provider(1)).len(), 1);
		// The next run tries the other job.
		next_block();
		GpuJobs::offchain_worker(2);
		assert_eq!(state.read().requests.len(), 2);
		assert!(records(&provider(1)).contains_key(&id));
		assert!(records(&provider(1)).contains_key(&other));
		// The commit window closes: the jobs are left alone and end as no-shows.
		run_to_block(16);
		GpuJobs::offchain_worker(16);
		assert_eq!(state.read().requests.len(), 2);
		run_to_block(21);
		assert!(events()
			.iter()
			.any(|event| matches!(event, Event::JobExpired { job, .. } if *job == id)));
		assert!(matches!(last_event(), Event::JobExpired { .. }));
		GpuJobs::offchain_worker(21);
		assert!(records(&provider(1)).is_empty());
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn malformed_or_wrongly_shaped_answers_are_not_submitted() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let input = digit_items(2, 1);
		let outputs = digit_outputs(&input);
		let id = post(&ALICE, inline(input.clone()), 1, 100);
		let bad_answers = [
			// An error page served with `200 OK`.
			b"<html>busy</html>".to_vec(),
			// The JSON answer of the other endpoint.
			format!("{{\"outputs\":{:?}}}", outputs).into_bytes(),
			Vec::new(),
			// One item instead of two.
			answer(&outputs[..10]),
			// Nineteen values.
			answer(&outputs[..19]),
			// A value cut short.
			answer(&outputs)[..79].to_vec(),
		];
		let mut block = 1;
		for body in bad_answers {
			expect_infer(&mut state.write(), &default_infer(), &input, body);
			GpuJobs::offchain_worker(block);
			assert!(pool_state.read().transactions.is_empty());
			assert_eq!(
				records(&provider(1)).get(&id),
				Some(&LocalJob::Failed {
					input_failures: 0,
					retry_at: block as u32 + RETRY_AFTER_BLOCKS
				})
			);
			block += u64::from(RETRY_AFTER_BLOCKS);
			run_to_block(block);
		}
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_commitment_not_on_chain_is_resubmitted_without_recomputing() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key.clone()), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let input = digit_items(1, 2);
		post(&ALICE, inline(input.clone()), 1, 100);
		// One inference only.
		expect_infer(&mut state.write(), &default_infer(), &input, answer(&digit_outputs(&input)));
		GpuJobs::offchain_worker(1);
		for block in 2..1 + u64::from(RESUBMIT_AFTER_BLOCKS) {
			run_to_block(block);
			GpuJobs::offchain_worker(block);
			assert_eq!(pool_state.read().transactions.len(), 1);
		}
		run_to_block(4);
		GpuJobs::offchain_worker(4);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 2);
		assert_eq!(txs[0].function, txs[1].function);
		assert_eq!(signer_of(&txs[1], 1), key);
		GpuJobs::do_try_state().unwrap();
	});
}

/// Where a batch host that stalls is.
const SLOW_URL: &str = "https://slow.example/batch.bin";

/// `ALICE` posts `input` on the digits model for one provider, with its deadline at `deadline`;
/// returns the job id.
fn post_until(input: JobInput<MaxInlineInput, MaxUrlLen>, deadline: u64) -> JobId {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(GpuJobs::post_job(RuntimeOrigin::signed(ALICE), DIGITS, input, 1, 100, deadline));
	id
}

#[test]
fn answers_go_out_before_a_stalling_batch_host_which_costs_at_most_the_budget() {
	for stall in [Stall::Silent, Stall::Trickle] {
		let (offchain, state) = TestOffchainExt::new();
		let (pool, pool_state) = TestTransactionPoolExt::new();
		let (keystore, key) = keystore();
		let pool_len = {
			let pool_state = pool_state.clone();
			move || pool_state.read().transactions.len()
		};
		let (scripted, log) =
			Scripted::new(offchain.clone(), pool_len, vec![(SLOW_URL.into(), stall)], 0);
		let mut ext = ext_with(builder(key.clone()), scripted, offchain, pool, keystore);
		ext.execute_with(|| {
			// A job whose commitment lands: its reveal is due.
			let input = digit_items(2, 1);
			let truth = digit_result(&input);
			let answered = post(&ALICE, inline(input.clone()), 1, 100);
			let outputs = answer(&digit_outputs(&input));
			expect_infer(&mut state.write(), &default_infer(), &input, outputs);
			state.write().seed = OCW_SALT;
			GpuJobs::offchain_worker(1);
			let commit = pool_calls(&pool_state.read().transactions).remove(0);
			assert_ok!(commit.function.dispatch(RuntimeOrigin::signed(key.clone())));
			// A client's batch whose host never answers, or trickles its answer.
			let inputs = digit_items(2, 4);
			let stalled = post(&ALICE, batch(2, inputs_root(&inputs, 64), SLOW_URL), 1, 100);

			next_block();
			let budget_end =
				sp_io::offchain::timestamp().add(Duration::from_millis(INFERENCE_BUDGET_MS));
			GpuJobs::offchain_worker(2);

			// The reveal is in the pool, and was there before the batch was asked for.
			let txs = pool_calls(&pool_state.read().transactions);
			assert_eq!(txs.len(), 2);
			assert_eq!(
				txs[1].function,
				RuntimeCall::GpuJobs(crate::Call::reveal_result {
					job: answered,
					result: truth,
					salt: OCW_SALT
				})
			);
			let seen = log.lock().unwrap().clone();
			let asked = seen.iter().find(|seen| seen.uri == SLOW_URL).expect("the batch is asked");
			assert_eq!(asked.pool_len, 2, "{stall:?}");
			// The download ended by the budget's end, and so did the run.
			assert!(asked.deadline.is_some_and(|deadline| deadline <= budget_end), "{stall:?}");
			assert!(sp_io::offchain::timestamp() <= budget_end, "{stall:?}");
			// An unavailable batch is a failure, tried again later.
			assert_eq!(
				records(&provider(1)).get(&stalled),
				Some(&LocalJob::Failed { input_failures: 1, retry_at: 2 + RETRY_AFTER_BLOCKS })
			);
			GpuJobs::do_try_state().unwrap();
		});
	}
}

#[test]
fn inferences_go_earliest_commit_deadline_first_within_the_budget() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let pool_len = {
		let pool_state = pool_state.clone();
		move || pool_state.read().transactions.len()
	};
	// Every inference takes the whole budget: one per run.
	let (scripted, log) = Scripted::new(offchain.clone(), pool_len, vec![], INFERENCE_BUDGET_MS);
	let mut ext = ext_with(builder(key), scripted, offchain, pool, keystore);
	ext.execute_with(|| {
		let (late_input, early_input) = (digit_items(1, 1), digit_items(1, 2));
		// The first job's commit window closes later than the second's.
		let late = post_until(inline(late_input.clone()), now() + 40);
		let early = post_until(inline(early_input.clone()), now() + 12);
		assert!(late < early);
		let outputs = answer(&digit_outputs(&early_input));
		expect_infer(&mut state.write(), &default_infer(), &early_input, outputs);
		GpuJobs::offchain_worker(1);

		let committed = |index: usize| match pool_calls(&pool_state.read().transactions)
			.get(index)
			.map(|tx| tx.function.clone())
		{
			Some(RuntimeCall::GpuJobs(crate::Call::commit_result { job, .. })) => Some(job),
			_ => None,
		};
		assert_eq!(pool_state.read().transactions.len(), 1);
		assert_eq!(committed(0), Some(early));
		assert_eq!(log.lock().unwrap().len(), 1);
		assert!(matches!(records(&provider(1)).get(&early), Some(LocalJob::Computed { .. })));
		// Not tried, so no failure to wait out.
		assert_eq!(records(&provider(1)).get(&late), None);

		// The next run computes the other.
		next_block();
		let outputs = answer(&digit_outputs(&late_input));
		expect_infer(&mut state.write(), &default_infer(), &late_input, outputs);
		GpuJobs::offchain_worker(2);
		assert_eq!(pool_state.read().transactions.len(), 2);
		assert_eq!(committed(1), Some(late));
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn runs_before_the_previous_transactions_landed_take_the_next_nonces() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key.clone()), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		// Three runs, each committing a new job; none of their transactions lands.
		for (seed, block) in [(1, 1), (2, 1), (3, 2)] {
			run_to_block(block);
			let input = digit_items(1, seed);
			post(&ALICE, inline(input.clone()), 1, 100);
			let outputs = answer(&digit_outputs(&input));
			expect_infer(&mut state.write(), &default_infer(), &input, outputs);
			GpuJobs::offchain_worker(block);
		}
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.iter().map(nonce_of).collect::<Vec<_>>(), vec![0, 1, 2]);
		assert_eq!(System::account_nonce(&key), 0);
		let record = StorageValueRef::persistent(&nonce_key(&key)).get::<NonceRecord<u32>>();
		assert_eq!(record, Ok(Some(NonceRecord { next: 3, state: 0, since: 1 })));
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_resubmission_after_the_record_went_stale_takes_the_state_nonce() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key.clone()), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let input = digit_items(1, 3);
		let id = post(&ALICE, inline(input.clone()), 1, 100);
		expect_infer(&mut state.write(), &default_infer(), &input, answer(&digit_outputs(&input)));
		// The commitment never lands (dropped by the pool): the worker sends it again every
		// few blocks, the state nonce standing at 0.
		let last = 1 + u64::from(NONCE_STALE_AFTER_BLOCKS + RESUBMIT_AFTER_BLOCKS);
		let mut sent: Vec<(u64, u32)> = Vec::new();
		for block in 1..=last {
			run_to_block(block);
			GpuJobs::offchain_worker(block);
			let txs = pool_calls(&pool_state.read().transactions);
			sent.extend(txs[sent.len()..].iter().map(|tx| (block, nonce_of(tx))));
		}
		let stale_from = 1 + u64::from(NONCE_STALE_AFTER_BLOCKS);
		let (fresh, stale): (Vec<_>, Vec<_>) =
			sent.iter().partition(|(block, _)| *block < stale_from);
		// While the record is fresh, each goes out above the ones waiting...
		assert!(fresh.len() >= 2, "{sent:?}");
		let nonces: Vec<u32> = fresh.iter().map(|(_, nonce)| *nonce).collect();
		assert_eq!(nonces, (0..fresh.len() as u32).collect::<Vec<_>>());
		// ...then the state nonce again, which can land.
		let (block, nonce) = *stale.first().expect("a resubmission once the record is stale");
		assert_eq!(nonce, 0);
		let record = StorageValueRef::persistent(&nonce_key(&key)).get::<NonceRecord<u32>>();
		assert_eq!(record, Ok(Some(NonceRecord { next: 1, state: 0, since: block as u32 })));

		// It lands: the reveal takes the next nonce.
		let commit = pool_calls(&pool_state.read().transactions).pop().unwrap();
		System::inc_account_nonce(&key);
		assert_ok!(commit.function.dispatch(RuntimeOrigin::signed(key.clone())));
		GpuJobs::offchain_worker(now());
		let txs = pool_calls(&pool_state.read().transactions);
		let reveal = txs.last().unwrap();
		assert!(matches!(
			&reveal.function,
			RuntimeCall::GpuJobs(crate::Call::reveal_result { job, .. }) if *job == id
		));
		assert_eq!(nonce_of(reveal), 1);
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn the_worker_does_nothing_without_a_registered_key_or_an_open_window() {
	// A key the source does not know.
	let (offchain, _state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (local_keys, _key) = keystore();
	let mut ext =
		ext_with(ExtBuilder::empty().providers(1), offchain.clone(), offchain, pool, local_keys);
	ext.execute_with(|| {
		post(&ALICE, inline(digit_items(1, 1)), 1, 100);
		GpuJobs::offchain_worker(1);
		assert!(pool_state.read().transactions.is_empty());
	});

	// A registered key, but the commit window closes before a transaction could land.
	let (offchain, _state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		post(&ALICE, inline(digit_items(1, 1)), 1, 100);
		run_to_block(16);
		GpuJobs::offchain_worker(16);
		assert!(pool_state.read().transactions.is_empty());
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn evaluate_response_checks_status_size_and_shape() {
	let outputs: Vec<i32> = (0..20).collect();
	let root = outputs_root(&outputs, 10);
	let ok = |body: Vec<u8>| Observation::Response { status: 200, latency_ms: 0, body };
	assert_eq!(evaluate_response(ok(answer(&outputs)), 2, 10), Ok(root));
	assert_eq!(
		evaluate_response(Observation::Unreachable, 2, 10),
		Err(InferenceError::Unreachable)
	);
	for status in [500, 404, 503, 204] {
		let observation = Observation::Response { status, latency_ms: 0, body: answer(&outputs) };
		assert_eq!(evaluate_response(observation, 2, 10), Err(InferenceError::Status(status)));
	}
	assert_eq!(
		evaluate_response(ok(vec![b' '; MAX_RESPONSE_BYTES + 1]), 2, 10),
		Err(InferenceError::TooLarge)
	);
	assert_eq!(evaluate_response(ok(b"null".to_vec()), 2, 10), Err(InferenceError::WrongShape));
	assert_eq!(evaluate_response(ok(answer(&outputs)), 3, 10), Err(InferenceError::WrongShape));
	assert_eq!(evaluate_response(ok(answer(&outputs)), 1, 10), Err(InferenceError::WrongShape));
	assert_eq!(evaluate_response(ok(Vec::new()), 0, 0), Err(InferenceError::WrongShape));
	// The same bytes read as 4 items of 5 values: another root, never another job's shape.
	assert_eq!(evaluate_response(ok(answer(&outputs)), 4, 5), Ok(outputs_root(&outputs, 5)));
	// One item: the result is the item's `result_hash`.
	let one: Vec<i32> = (0..10).collect();
	assert_eq!(
		evaluate_response(ok(answer(&one)), 1, 10),
		Ok(H256(dsync_aivm_core::result_hash(&one)))
	);
}

#[test]
fn the_request_body_and_urls_follow_the_contract() {
	assert_eq!(request_body(&[1, -2, 3, 127, -128]), vec![1, 0xfe, 3, 0x7f, 0x80]);
	assert_eq!(hex::encode_0x(&[0x00, 0x0f, 0xff]), "0x000fff");
	let model = H256(DIGITS_64_128_64_10_HASH);
	assert_eq!(infer_url(b"http://127.0.0.1:8710", &model), Some(default_infer()));
	assert_eq!(infer_url(b"http://127.0.0.1:8710//", &model), Some(default_infer()));
	assert_eq!(
		infer_url(b"https://aivm.example/api", &H256::repeat_byte(0xab)).as_deref(),
		Some(format!("https://aivm.example/api/v1/infer/binary?model=0x{}", "ab".repeat(32)))
			.as_deref()
	);
	assert_eq!(infer_url(b"127.0.0.1:8710", &model), None);
	assert_eq!(infer_url(&[0xff, 0xfe], &model), None);
}

#[test]
fn a_provider_outvoted_on_a_one_item_job_challenges_once() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let others = [provider(2), provider(3)];
	let builder = others
		.iter()
		.fold(builder(key.clone()), |b, who| b.provider(who.clone(), key_of(who), Perbill::one()));
	let mut ext = ext_with(builder, offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let input = digit_items(1, 7);
		let truth = digit_result(&input);
		let wrong = H256::repeat_byte(0x66);
		let id = post(&ALICE, inline(input.clone()), 3, 100);
		// The other two agree on a wrong result.
		for who in &others {
			assert_ok!(commit(who, id, wrong));
		}
		// This node's worker computes the truth, commits and reveals.
		expect_infer(&mut state.write(), &default_infer(), &input, answer(&digit_outputs(&input)));
		GpuJobs::offchain_worker(1);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_ok!(txs[0].function.clone().dispatch(RuntimeOrigin::signed(key.clone())));
		GpuJobs::offchain_worker(1);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_ok!(txs[1].function.clone().dispatch(RuntimeOrigin::signed(key.clone())));
		for who in &others {
			assert_ok!(reveal(who, id, wrong));
		}
		assert_eq!(last_event(), Event::JobConcluded { job: id, result: wrong, payable_at: 31 });

		// The next run challenges the majority: item 0, no claim.
		next_block();
		GpuJobs::offchain_worker(2);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 3);
		assert_eq!(
			txs[2].function,
			RuntimeCall::GpuJobs(crate::Call::resolve_by_execution {
				job: id,
				item_index: 0,
				batch_item: None,
				claims: Default::default(),
			})
		);
		assert_eq!(records(&provider(1)).get(&id), Some(&LocalJob::Challenged { sent_at: 2 }));
		// Never sent twice, landed or not.
		next_block();
		GpuJobs::offchain_worker(3);
		assert_eq!(pool_state.read().transactions.len(), 3);

		// It lands: the truth is paid, the majority penalised; the record is forgotten.
		assert_ok!(txs[2].function.clone().dispatch(RuntimeOrigin::signed(key.clone())));
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, ref winners, .. }
				if result == truth && *winners == vec![provider(1)]
		));
		GpuJobs::offchain_worker(3);
		assert!(records(&provider(1)).is_empty());
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_provider_on_the_majority_side_or_of_a_batch_does_not_challenge() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 7);
		let truth = digit_result(&input);
		let wrong = H256::repeat_byte(0x66);
		let id = post(&ALICE, inline(input), 3, 100);
		let drawn = providers_of(id);
		play(
			id,
			&[(drawn[0].clone(), truth), (drawn[1].clone(), wrong), (drawn[2].clone(), wrong)],
		);
		let job = Jobs::<Test>::get(id).unwrap();
		// The outvoted provider challenges, the majority does not, nor anyone once the window
		// closed.
		assert!(GpuJobs::should_challenge(&job, truth, 2));
		assert!(!GpuJobs::should_challenge(&job, wrong, 2));
		assert!(!GpuJobs::should_challenge(&job, truth, job.dispute_end));
		// Several items: the worker opens a `challenge` instead (see the batch tests below).
		let mut batch_job = job.clone();
		batch_job.items = 2;
		assert!(!GpuJobs::should_challenge(&batch_job, truth, 2));
		// Not concluded (disputed, or still revealing).
		let mut disputed = job;
		disputed.status = JobStatus::Disputed;
		assert!(!GpuJobs::should_challenge(&disputed, truth, 2));
	});
}

// ---------------------------------------------------------------------------------------------
// Challenges of a batch job's majority: the worker keeps its leaves and plays its side.

/// A 300-item batch (two rounds of nodes) posted to `provider(1)` (this node's worker) and
/// providers 2 and 3. The worker computes it (downloading the batch) and reveals; provider 2
/// reveals `second`, provider 3 `third`. Returns the job, the inputs and the true leaves.
fn revealed_batch(
	expect: &dyn Fn(&[i8]),
	pool: &dyn Fn() -> Vec<Extrinsic>,
	key: &AccountId,
	second: impl Fn(H256) -> H256,
	third: impl Fn(H256) -> H256,
) -> (JobId, Vec<i8>, Vec<[u8; 32]>) {
	let inputs = digit_items(300, 5);
	let leaves = dsync_aivm_core::batch_result_hashes(&digit_outputs(&inputs), 10);
	let truth = H256(dsync_aivm_core::batch_merkle_root(&leaves));
	let id = post(&ALICE, batch(300, inputs_root(&inputs, 64), BATCH_URL), 3, 5_000);
	assert_ok!(commit(&provider(2), id, second(truth)));
	assert_ok!(commit(&provider(3), id, third(truth)));
	expect(&inputs);
	for _ in 0..2 {
		GpuJobs::offchain_worker(now());
		let tx = pool().pop().expect("a transaction");
		assert_ok!(tx.function.dispatch(RuntimeOrigin::signed(key.clone())));
	}
	assert_ok!(reveal(&provider(2), id, second(truth)));
	assert_ok!(reveal(&provider(3), id, third(truth)));
	// The worker keeps the leaves of its result.
	assert_eq!(stored_leaves(&provider(1), id), Some(leaves.clone()));
	(id, inputs, leaves)
}

/// Run the worker at the current block; returns the call it submitted, if any.
fn worker_call(pool: &dyn Fn() -> Vec<Extrinsic>) -> Option<RuntimeCall> {
	let before = pool().len();
	GpuJobs::offchain_worker(now());
	let txs = pool();
	assert!(txs.len() <= before + 1, "one transaction per run here");
	(txs.len() > before).then(|| txs[before].function.clone())
}

/// The nodes of `leaves` for the current round of job `id`'s challenge.
fn round_nodes(id: JobId, leaves: &[[u8; 32]]) -> BoundedVec<H256, MaxChallengeNodes> {
	let challenge = Challenges::<Test>::get(id).expect("challenged");
	let (level, first, count) = challenge_slice(300, challenge.level, challenge.position).unwrap();
	let nodes: Vec<H256> = dsync_aivm_core::merkle_level(leaves, level)
		.into_iter()
		.skip(first as usize)
		.take(count as usize)
		.map(H256)
		.collect();
	BoundedVec::try_from(nodes).unwrap()
}

#[test]
fn an_outvoted_provider_challenges_a_batch_majority_down_to_the_item_and_wins() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let builder = [provider(2), provider(3)]
		.iter()
		.fold(builder(key.clone()), |b, who| b.provider(who.clone(), key_of(who), Perbill::one()));
	let mut ext = ext_with(builder, offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let pool = || pool_calls(&pool_state.read().transactions);
		let expect = |inputs: &[i8]| {
			expect_download(&mut state.write(), BATCH_URL, request_body(inputs));
			let outputs = answer(&digit_outputs(inputs));
			expect_infer(&mut state.write(), &default_infer(), inputs, outputs);
		};
		let inputs = digit_items(300, 5);
		let mut wrong_leaves = dsync_aivm_core::batch_result_hashes(&digit_outputs(&inputs), 10);
		wrong_leaves[200] = [0xee; 32];
		let wrong = H256(dsync_aivm_core::batch_merkle_root(&wrong_leaves));
		let (id, inputs, leaves) = revealed_batch(&expect, &pool, &key, |_| wrong, |_| wrong);
		let truth = H256(dsync_aivm_core::batch_merkle_root(&leaves));
		assert_eq!(last_event(), Event::JobConcluded { job: id, result: wrong, payable_at: 31 });

		// Outvoted: the worker opens the challenge, once.
		next_block();
		let call = worker_call(&pool).expect("a challenge");
		assert_eq!(call, RuntimeCall::GpuJobs(crate::Call::challenge { job: id, result: truth }));
		assert_eq!(worker_call(&pool), None);
		assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));

		// Two rounds: the worker reveals its nodes, once a round; the majority answers.
		for level in [9, 2] {
			let call = worker_call(&pool).expect("the worker's nodes");
			assert_eq!(
				call,
				RuntimeCall::GpuJobs(crate::Call::reveal_nodes {
					job: id,
					result: truth,
					nodes: round_nodes(id, &leaves),
				})
			);
			assert_eq!(worker_call(&pool), None);
			assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
			assert_eq!(last_event(), Event::ChallengeAnswered { job: id, result: truth, level });
			assert_ok!(GpuJobs::reveal_nodes(
				RuntimeOrigin::signed(BOB),
				id,
				wrong,
				round_nodes(id, &wrong_leaves)
			));
		}
		assert_eq!(Challenges::<Test>::get(id).map(|c| (c.level, c.position)), Some((0, 200)));

		// At the item, the worker downloads the batch again and asks for the re-execution.
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		let call = worker_call(&pool).expect("the re-execution");
		let input_leaves: Vec<[u8; 32]> = inputs.chunks(64).map(input_leaf).collect();
		let item = BatchItem {
			input: BoundedVec::try_from(inputs[200 * 64..201 * 64].to_vec()).unwrap(),
			proof: BoundedVec::try_from(
				dsync_aivm_core::merkle_proof(&input_leaves, 200)
					.unwrap()
					.into_iter()
					.map(H256)
					.collect::<Vec<_>>(),
			)
			.unwrap(),
		};
		assert_eq!(
			call,
			RuntimeCall::GpuJobs(crate::Call::resolve_by_execution {
				job: id,
				item_index: 200,
				batch_item: Some(item),
				claims: Default::default(),
			})
		);
		assert_eq!(worker_call(&pool), None);
		assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, ref winners, .. }
				if result == truth && *winners == vec![provider(1)]
		));

		// The job ended: the record and the leaves are dropped.
		assert_eq!(worker_call(&pool), None);
		assert!(records(&provider(1)).is_empty());
		assert_eq!(stored_leaves(&provider(1), id), None);
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_majority_provider_defends_its_batch_result_and_is_paid() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let builder = [provider(2), provider(3)]
		.iter()
		.fold(builder(key.clone()), |b, who| b.provider(who.clone(), key_of(who), Perbill::one()));
	let mut ext = ext_with(builder, offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let pool = || pool_calls(&pool_state.read().transactions);
		let expect = |inputs: &[i8]| {
			expect_download(&mut state.write(), BATCH_URL, request_body(inputs));
			let outputs = answer(&digit_outputs(inputs));
			expect_infer(&mut state.write(), &default_infer(), inputs, outputs);
		};
		let inputs = digit_items(300, 5);
		let mut bad_leaves = dsync_aivm_core::batch_result_hashes(&digit_outputs(&inputs), 10);
		bad_leaves[7] = [0x11; 32];
		let bad = H256(dsync_aivm_core::batch_merkle_root(&bad_leaves));
		// Provider 2 agrees with the worker; provider 3 is wrong at item 7.
		let (id, _, leaves) = revealed_batch(&expect, &pool, &key, |truth| truth, |_| bad);
		let truth = H256(dsync_aivm_core::batch_merkle_root(&leaves));
		// On the majority side: no challenge.
		next_block();
		assert_eq!(worker_call(&pool), None);

		// Provider 3 challenges; the worker answers each round.
		assert_ok!(GpuJobs::challenge(RuntimeOrigin::signed(key_of(&provider(3))), id, bad));
		for _ in 0..2 {
			assert_ok!(GpuJobs::reveal_nodes(
				RuntimeOrigin::signed(BOB),
				id,
				bad,
				round_nodes(id, &bad_leaves)
			));
			let call = worker_call(&pool).expect("the worker's nodes");
			assert_eq!(
				call,
				RuntimeCall::GpuJobs(crate::Call::reveal_nodes {
					job: id,
					result: truth,
					nodes: round_nodes(id, &leaves),
				})
			);
			assert_eq!(worker_call(&pool), None);
			assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		}
		assert_eq!(Challenges::<Test>::get(id).map(|c| (c.level, c.position)), Some((0, 7)));
		// At the item the majority's worker asks for the re-execution itself (it decides
		// both ways), downloading the batch again for the item's input.
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		let call = worker_call(&pool).expect("the worker's re-execution");
		assert!(matches!(
			call,
			RuntimeCall::GpuJobs(crate::Call::resolve_by_execution { job, item_index: 7, .. })
				if job == id
		));
		assert_eq!(worker_call(&pool), None);
		assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		assert!(events().contains(&Event::ChallengeDecided {
			job: id,
			confirmed: Some(truth),
			proven_wrong: vec![bad],
		}));
		// The challenger is proven wrong; the majority waits for its dispute end, unchallenged.
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Concluded);
		next_block();
		assert_eq!(worker_call(&pool), None);

		// Paid at the dispute end, the challenger penalised as wrong, records dropped.
		run_to_dispute_end(id);
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, ref winners, .. }
				if result == truth && winners.contains(&provider(1))
		));
		assert!(MockSource::penalties().contains(&(provider(3), PenaltyReason::WrongResult)));
		assert_eq!(worker_call(&pool), None);
		assert!(records(&provider(1)).is_empty());
		assert_eq!(stored_leaves(&provider(1), id), None);
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_provider_in_a_dispute_between_two_batch_results_opens_the_walk() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let builder = builder(key.clone()).provider(provider(2), key_of(&provider(2)), Perbill::one());
	let mut ext = ext_with(builder, offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let pool = || pool_calls(&pool_state.read().transactions);
		let inputs = digit_items(300, 5);
		let leaves = dsync_aivm_core::batch_result_hashes(&digit_outputs(&inputs), 10);
		let truth = H256(dsync_aivm_core::batch_merkle_root(&leaves));
		let wrong = H256::repeat_byte(0x42);
		let id = post(&ALICE, batch(300, inputs_root(&inputs, 64), BATCH_URL), 2, 5_000);
		assert_ok!(commit(&provider(2), id, wrong));
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		expect_infer(
			&mut state.write(),
			&default_infer(),
			&inputs,
			answer(&digit_outputs(&inputs)),
		);
		for _ in 0..2 {
			let call = worker_call(&pool).expect("commit, then reveal");
			assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		}
		assert_ok!(reveal(&provider(2), id, wrong));
		assert_eq!(last_event(), Event::JobDisputed { job: id, dispute_end: 31 });

		next_block();
		let call = worker_call(&pool).expect("the challenge");
		assert_eq!(call, RuntimeCall::GpuJobs(crate::Call::challenge { job: id, result: truth }));
		assert_eq!(worker_call(&pool), None);
		assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		assert!(matches!(
			last_event(),
			Event::ChallengeOpened { result, defender, .. } if result == truth && defender == wrong
		));
		// Its first round's nodes follow.
		let call = worker_call(&pool).expect("the worker's nodes");
		assert!(matches!(
			call,
			RuntimeCall::GpuJobs(crate::Call::reveal_nodes { result, .. }) if result == truth
		));
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn an_honest_minority_takes_over_a_stalled_challenge() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let others: Vec<AccountId> = (2..=5).map(provider).collect();
	let builder = others
		.iter()
		.fold(builder(key.clone()), |b, who| b.provider(who.clone(), key_of(who), Perbill::one()));
	let mut ext = ext_with(builder, offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let pool = || pool_calls(&pool_state.read().transactions);
		let inputs = digit_items(300, 5);
		let leaves = dsync_aivm_core::batch_result_hashes(&digit_outputs(&inputs), 10);
		let truth = H256(dsync_aivm_core::batch_merkle_root(&leaves));
		let (wrong, garbage) = (H256::repeat_byte(0x42), H256::repeat_byte(0x99));
		let id = post(&ALICE, batch(300, inputs_root(&inputs, 64), BATCH_URL), 5, 5_000);
		let plays = [wrong, wrong, wrong, garbage];
		for (who, result) in others.iter().zip(plays) {
			assert_ok!(commit(who, id, result));
		}
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		expect_infer(
			&mut state.write(),
			&default_infer(),
			&inputs,
			answer(&digit_outputs(&inputs)),
		);
		for _ in 0..2 {
			let call = worker_call(&pool).expect("commit, then reveal");
			assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		}
		for (who, result) in others.iter().zip(plays) {
			assert_ok!(reveal(who, id, result));
		}
		assert!(matches!(last_event(), Event::JobConcluded { result, .. } if result == wrong));
		// A colluder's garbage result challenges first and stalls.
		assert_ok!(GpuJobs::challenge(RuntimeOrigin::signed(provider(5)), id, garbage));

		// While it may still answer, the worker waits.
		next_block();
		assert_eq!(worker_call(&pool), None);
		// Once its round is over, the worker opens its own challenge, once.
		let round_end = Challenges::<Test>::get(id).unwrap().round_end;
		run_to_block(round_end - 1);
		let call = worker_call(&pool).expect("the take-over");
		assert_eq!(call, RuntimeCall::GpuJobs(crate::Call::challenge { job: id, result: truth }));
		assert_eq!(worker_call(&pool), None);
		next_block();
		assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		assert!(events().contains(&Event::ChallengeAbandoned { job: id }));
		assert_eq!(Challenges::<Test>::get(id).map(|c| c.result), Some(truth));
		// Then it plays it.
		let call = worker_call(&pool).expect("the worker's nodes");
		assert!(matches!(
			call,
			RuntimeCall::GpuJobs(crate::Call::reveal_nodes { result, .. }) if result == truth
		));
		GpuJobs::do_try_state().unwrap();
	});
}

// ---------------------------------------------------------------------------------------------
// The vote `INPUT_UNAVAILABLE`: cast when a batch's input cannot be had for a reason of its
// own, never for the provider's own failures; never a side of a walk; disproved by a provider
// that computed a real result.

#[test]
fn a_batch_host_that_never_answers_is_voted_unavailable_after_the_attempts() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let pool_len = {
		let pool_state = pool_state.clone();
		move || pool_state.read().transactions.len()
	};
	let (scripted, log) =
		Scripted::new(offchain.clone(), pool_len, vec![(SLOW_URL.into(), Stall::Silent)], 0);
	let mut ext = ext_with(builder(key.clone()), scripted, offchain, pool, keystore);
	ext.execute_with(|| {
		let inputs = digit_items(2, 4);
		let id = post(&ALICE, batch(2, inputs_root(&inputs, 64), SLOW_URL), 1, 100);
		state.write().seed = OCW_SALT;

		// The first attempts fail, each recorded and tried again later.
		let mut block = now();
		for attempt in 1..UNAVAILABLE_AFTER_ATTEMPTS {
			run_to_block(block);
			GpuJobs::offchain_worker(block);
			assert!(pool_state.read().transactions.is_empty());
			assert_eq!(
				records(&provider(1)).get(&id),
				Some(&LocalJob::Failed {
					input_failures: attempt,
					retry_at: block as u32 + RETRY_AFTER_BLOCKS
				})
			);
			// Not before the retry block.
			next_block();
			GpuJobs::offchain_worker(now());
			assert_eq!(log.lock().unwrap().len(), attempt as usize);
			block += u64::from(RETRY_AFTER_BLOCKS);
		}

		// The last one votes the input unavailable: a fresh salt, committed like a result.
		run_to_block(block);
		GpuJobs::offchain_worker(block);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 1);
		let commitment = commitment_of(id, &provider(1), &INPUT_UNAVAILABLE, &OCW_SALT);
		assert_eq!(
			txs[0].function,
			RuntimeCall::GpuJobs(crate::Call::commit_result { job: id, commitment })
		);
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Computed {
				result: INPUT_UNAVAILABLE,
				salt: OCW_SALT,
				commit_sent_at: block as u32,
				reveal_sent_at: None
			})
		);
		// Each attempt asked the host once; the `aivm` server was never asked, and no leaves
		// are kept.
		let seen = log.lock().unwrap().clone();
		assert_eq!(seen.len(), UNAVAILABLE_AFTER_ATTEMPTS as usize);
		assert!(seen.iter().all(|seen| seen.uri == SLOW_URL));
		assert_eq!(stored_leaves(&provider(1), id), None);

		// The commitment lands: the vote is revealed like a result.
		assert_ok!(txs[0].function.clone().dispatch(RuntimeOrigin::signed(key.clone())));
		GpuJobs::offchain_worker(block);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 2);
		assert_eq!(
			txs[1].function,
			RuntimeCall::GpuJobs(crate::Call::reveal_result {
				job: id,
				result: INPUT_UNAVAILABLE,
				salt: OCW_SALT
			})
		);
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn wrong_batch_bytes_near_the_commit_deadline_are_voted_unavailable_at_once() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(builder(key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let inputs = digit_items(3, 4);
		let root = inputs_root(&inputs, 64);
		let near = post(&ALICE, batch(3, root, BATCH_URL), 1, 100);
		// The same batch for a job whose commit window closes much later.
		let far = post_until(batch(3, root, BATCH_URL), now() + 40);
		state.write().seed = OCW_SALT;
		// The first block whose transactions land within the margin of `near`'s commit
		// deadline: a retry would land too late.
		let block = Jobs::<Test>::get(near).unwrap().commit_deadline
			- 1 - u64::from(UNAVAILABLE_MARGIN_BLOCKS);
		run_to_block(block);
		// Both downloads answer other values: no inference request follows.
		for _ in 0..2 {
			expect_download(&mut state.write(), BATCH_URL, request_body(&digit_items(3, 5)));
		}
		GpuJobs::offchain_worker(block);

		// `near` is voted on its first failure; `far` is tried again later.
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 1);
		let commitment = commitment_of(near, &provider(1), &INPUT_UNAVAILABLE, &OCW_SALT);
		assert_eq!(
			txs[0].function,
			RuntimeCall::GpuJobs(crate::Call::commit_result { job: near, commitment })
		);
		assert_eq!(
			records(&provider(1)).get(&near),
			Some(&LocalJob::Computed {
				result: INPUT_UNAVAILABLE,
				salt: OCW_SALT,
				commit_sent_at: block as u32,
				reveal_sent_at: None
			})
		);
		assert_eq!(
			records(&provider(1)).get(&far),
			Some(&LocalJob::Failed {
				input_failures: 1,
				retry_at: block as u32 + RETRY_AFTER_BLOCKS
			})
		);
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn an_inline_job_is_never_voted_unavailable_even_with_the_server_down() {
	let (offchain, _state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let faulty = Faulty { inner: offchain.clone(), status: None };
	let mut ext = ext_with(builder(key), faulty, offchain, pool, keystore);
	ext.execute_with(|| {
		let id = post(&ALICE, inline(digit_items(1, 1)), 1, 100);
		let commit_deadline = Jobs::<Test>::get(id).unwrap().commit_deadline;
		// Every attempt of the commit window fails, the last ones within the margin of its
		// close: never a commitment.
		let (mut block, mut attempts) = (now(), 0);
		while block + 1 < commit_deadline {
			run_to_block(block);
			GpuJobs::offchain_worker(block);
			attempts += 1;
			assert!(pool_state.read().transactions.is_empty());
			assert_eq!(
				records(&provider(1)).get(&id),
				Some(&LocalJob::Failed {
					input_failures: 0,
					retry_at: block as u32 + RETRY_AFTER_BLOCKS
				})
			);
			block += u64::from(RETRY_AFTER_BLOCKS);
		}
		// Past the attempts, the last one within the margin.
		assert!(attempts > UNAVAILABLE_AFTER_ATTEMPTS);
		let last = block - u64::from(RETRY_AFTER_BLOCKS);
		assert!(commit_deadline <= last + 1 + u64::from(UNAVAILABLE_MARGIN_BLOCKS));
		// The window closed: nothing more.
		run_to_block(commit_deadline);
		GpuJobs::offchain_worker(commit_deadline);
		assert!(pool_state.read().transactions.is_empty());
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_batch_is_not_voted_unavailable_when_the_providers_own_server_is_down() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let pool_len = {
		let pool_state = pool_state.clone();
		move || pool_state.read().transactions.len()
	};
	// The batch downloads fine; the `aivm` server never answers.
	let (scripted, log) =
		Scripted::new(offchain.clone(), pool_len, vec![(default_infer(), Stall::Silent)], 0);
	let mut ext = ext_with(builder(key), scripted, offchain, pool, keystore);
	ext.execute_with(|| {
		let inputs = digit_items(2, 4);
		let id = post(&ALICE, batch(2, inputs_root(&inputs, 64), BATCH_URL), 1, 100);
		let commit_deadline = Jobs::<Test>::get(id).unwrap().commit_deadline;
		// Every attempt, past `UNAVAILABLE_AFTER_ATTEMPTS` and within the margin of the
		// window's close: a failure of the provider's own, never voted on.
		let (mut block, mut attempts) = (now(), 0);
		while block + 1 < commit_deadline {
			run_to_block(block);
			expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
			GpuJobs::offchain_worker(block);
			attempts += 1;
			assert!(pool_state.read().transactions.is_empty());
			assert_eq!(
				records(&provider(1)).get(&id),
				Some(&LocalJob::Failed {
					input_failures: 0,
					retry_at: block as u32 + RETRY_AFTER_BLOCKS
				})
			);
			block += u64::from(RETRY_AFTER_BLOCKS);
		}
		assert!(attempts > UNAVAILABLE_AFTER_ATTEMPTS);
		// Each attempt downloaded the batch, then asked the server.
		let seen = log.lock().unwrap().clone();
		assert_eq!(seen.len(), 2 * attempts as usize);
		assert!(seen
			.chunks(2)
			.all(|pair| pair[0].uri == BATCH_URL && pair[1].uri == default_infer()));
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_download_cut_short_by_the_budget_is_not_voted_on() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let pool_len = {
		let pool_state = pool_state.clone();
		move || pool_state.read().transactions.len()
	};
	// Every inference takes most of the budget, leaving less than `MIN_FAIR_DOWNLOAD_MS` to a
	// download after it; the batch host never answers.
	let delay = INFERENCE_BUDGET_MS - MIN_FAIR_DOWNLOAD_MS / 2;
	let (scripted, log) =
		Scripted::new(offchain.clone(), pool_len, vec![(SLOW_URL.into(), Stall::Silent)], delay);
	let mut ext = ext_with(builder(key), scripted, offchain, pool, keystore);
	ext.execute_with(|| {
		// An inline job first (the same commit deadline, a lower id), then the batch job.
		let input = digit_items(1, 3);
		let inline_job = post(&ALICE, inline(input.clone()), 1, 100);
		let inputs = digit_items(2, 4);
		let stalled = post(&ALICE, batch(2, inputs_root(&inputs, 64), SLOW_URL), 1, 100);
		// Within the margin of both jobs' commit deadline: a fair failure would be voted on.
		let block = Jobs::<Test>::get(stalled).unwrap().commit_deadline
			- 1 - u64::from(UNAVAILABLE_MARGIN_BLOCKS);
		run_to_block(block);
		expect_infer(&mut state.write(), &default_infer(), &input, answer(&digit_outputs(&input)));
		GpuJobs::offchain_worker(block);

		// The inline job's commitment only; the batch was asked, with too little time.
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 1);
		assert!(matches!(
			txs[0].function,
			RuntimeCall::GpuJobs(crate::Call::commit_result { job, .. }) if job == inline_job
		));
		assert!(log.lock().unwrap().iter().any(|seen| seen.uri == SLOW_URL));
		// Not the input's fault: it does not count toward the vote either.
		assert_eq!(
			records(&provider(1)).get(&stalled),
			Some(&LocalJob::Failed {
				input_failures: 0,
				retry_at: block as u32 + RETRY_AFTER_BLOCKS
			})
		);
		GpuJobs::do_try_state().unwrap();
	});
}

/// A builder with this node's provider and `provider(2)` and `provider(3)`.
fn three_providers(key: &AccountId) -> ExtBuilder {
	[provider(2), provider(3)]
		.iter()
		.fold(builder(key.clone()), |b, who| b.provider(who.clone(), key_of(who), Perbill::one()))
}

#[test]
fn a_provider_that_voted_the_input_unavailable_never_challenges() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(three_providers(&key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let pool = || pool_calls(&pool_state.read().transactions);
		let inputs = digit_items(3, 5);
		let truth = digit_result(&inputs);
		let id = post(&ALICE, batch(3, inputs_root(&inputs, 64), BATCH_URL), 3, 5_000);
		state.write().seed = OCW_SALT;
		for who in [provider(2), provider(3)] {
			assert_ok!(commit(&who, id, truth));
		}
		// This node's worker gets other bytes every time: it votes the input unavailable.
		for attempt in 1..=UNAVAILABLE_AFTER_ATTEMPTS {
			expect_download(&mut state.write(), BATCH_URL, request_body(&digit_items(3, 6)));
			let call = worker_call(&pool);
			if attempt < UNAVAILABLE_AFTER_ATTEMPTS {
				assert_eq!(call, None);
				run_to_block(now() + u64::from(RETRY_AFTER_BLOCKS));
				continue;
			}
			let commitment = commitment_of(id, &provider(1), &INPUT_UNAVAILABLE, &OCW_SALT);
			assert_eq!(
				call,
				Some(RuntimeCall::GpuJobs(crate::Call::commit_result { job: id, commitment }))
			);
			assert_ok!(call.unwrap().dispatch(RuntimeOrigin::signed(key.clone())));
		}
		let call = worker_call(&pool).expect("the vote's reveal");
		assert_eq!(
			call,
			RuntimeCall::GpuJobs(crate::Call::reveal_result {
				job: id,
				result: INPUT_UNAVAILABLE,
				salt: OCW_SALT
			})
		);
		assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		for who in [provider(2), provider(3)] {
			assert_ok!(reveal(&who, id, truth));
		}
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!((job.status, job.tally().majority), (JobStatus::Concluded, Some(truth)));

		// Outvoted, but the vote is never a side of a walk: no challenge, no leaves.
		next_block();
		assert_eq!(worker_call(&pool), None);
		run_to_block(now() + u64::from(RESUBMIT_AFTER_BLOCKS));
		assert_eq!(worker_call(&pool), None);
		assert_eq!(stored_leaves(&provider(1), id), None);
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Revealed {
				result: INPUT_UNAVAILABLE,
				challenge_sent_at: None,
				nodes_sent: None,
				resolve_sent: false
			})
		);
		GpuJobs::do_try_state().unwrap();
	});
}

/// Job `id`, a batch of `inputs` posted to this node's provider and providers 2 and 3: the two
/// others vote the input unavailable, this node's worker computes the truth (`expect` expects
/// the batch's download and the inference), commits and reveals it; the job concludes on the
/// vote.
fn outvoted_by_the_vote(
	expect: &dyn Fn(&[i8]),
	pool: &dyn Fn() -> Vec<Extrinsic>,
	key: &AccountId,
	id: JobId,
	inputs: &[i8],
) {
	for who in [provider(2), provider(3)] {
		assert_ok!(commit(&who, id, INPUT_UNAVAILABLE));
	}
	expect(inputs);
	for _ in 0..2 {
		let call = worker_call(pool).expect("commit, then reveal");
		assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
	}
	for who in [provider(2), provider(3)] {
		assert_ok!(reveal(&who, id, INPUT_UNAVAILABLE));
	}
	let job = Jobs::<Test>::get(id).unwrap();
	assert_eq!(job.status, JobStatus::Concluded);
	assert_eq!(job.tally().majority, Some(INPUT_UNAVAILABLE));
}

#[test]
fn a_provider_with_a_real_result_proves_a_batch_available_against_the_vote() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(three_providers(&key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let pool = || pool_calls(&pool_state.read().transactions);
		let inputs = digit_items(3, 5);
		let leaves = dsync_aivm_core::batch_result_hashes(&digit_outputs(&inputs), 10);
		let truth = H256(dsync_aivm_core::batch_merkle_root(&leaves));
		let id = post(&ALICE, batch(3, inputs_root(&inputs, 64), BATCH_URL), 3, 5_000);
		let expect = |inputs: &[i8]| {
			expect_download(&mut state.write(), BATCH_URL, request_body(inputs));
			let outputs = answer(&digit_outputs(inputs));
			expect_infer(&mut state.write(), &default_infer(), inputs, outputs);
		};
		outvoted_by_the_vote(&expect, &pool, &key, id, &inputs);
		assert_eq!(stored_leaves(&provider(1), id), Some(leaves.clone()));
		let job = Jobs::<Test>::get(id).unwrap();
		assert!(GpuJobs::confirms_own_result(id, &job, truth, now() + 1));
		assert!(!GpuJobs::confirms_own_result(id, &job, INPUT_UNAVAILABLE, now() + 1));
		assert!(!GpuJobs::confirms_own_result(id, &job, truth, job.dispute_end));

		// Item 0, its input and proof from the batch downloaded again, and the worker's own
		// claim (no claim for the vote); no `challenge`.
		next_block();
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		let call = worker_call(&pool).expect("the re-execution");
		let input_leaves: Vec<[u8; 32]> = inputs.chunks(64).map(input_leaf).collect();
		let input_proof = dsync_aivm_core::merkle_proof(&input_leaves, 0).unwrap();
		let leaf_proof = dsync_aivm_core::merkle_proof(&leaves, 0).unwrap();
		let expected = RuntimeCall::GpuJobs(crate::Call::resolve_by_execution {
			job: id,
			item_index: 0,
			batch_item: Some(batch_item(inputs[..64].to_vec(), input_proof)),
			claims: BoundedVec::try_from(vec![claim(truth, H256(leaves[0]), leaf_proof)]).unwrap(),
		});
		assert_eq!(call, expected);
		let sent_at = now() as u32;
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Revealed {
				result: truth,
				challenge_sent_at: Some(sent_at),
				nodes_sent: None,
				resolve_sent: false
			})
		);
		// Not again while it may still land...
		for _ in 1..RESUBMIT_AFTER_BLOCKS {
			next_block();
			assert_eq!(worker_call(&pool), None);
		}
		// ...then again, while the job still stands on the vote.
		next_block();
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		assert_eq!(worker_call(&pool), Some(expected));
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_provider_proves_a_one_item_batch_available_against_the_vote() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(three_providers(&key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let pool = || pool_calls(&pool_state.read().transactions);
		let inputs = digit_items(1, 6);
		let id = post(&ALICE, batch(1, inputs_root(&inputs, 64), BATCH_URL), 3, 100);
		let expect = |inputs: &[i8]| {
			expect_download(&mut state.write(), BATCH_URL, request_body(inputs));
			let outputs = answer(&digit_outputs(inputs));
			expect_infer(&mut state.write(), &default_infer(), inputs, outputs);
		};
		outvoted_by_the_vote(&expect, &pool, &key, id, &inputs);

		// Item 0 with its input (a one-item batch: an empty proof), no claim: the result is
		// its own leaf. No leaves are kept for one item.
		next_block();
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		let call = worker_call(&pool).expect("the re-execution");
		let expected = RuntimeCall::GpuJobs(crate::Call::resolve_by_execution {
			job: id,
			item_index: 0,
			batch_item: Some(batch_item(inputs.clone(), Vec::new())),
			claims: Default::default(),
		});
		assert_eq!(call, expected);
		assert_eq!(stored_leaves(&provider(1), id), None);
		let sent_at = now() as u32;
		assert_eq!(records(&provider(1)).get(&id), Some(&LocalJob::Challenged { sent_at }));
		for _ in 1..RESUBMIT_AFTER_BLOCKS {
			next_block();
			assert_eq!(worker_call(&pool), None);
		}
		next_block();
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		assert_eq!(worker_call(&pool), Some(expected));
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn a_provider_outvoted_on_a_one_item_batch_job_challenges_with_the_item() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(three_providers(&key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let pool = || pool_calls(&pool_state.read().transactions);
		let inputs = digit_items(1, 7);
		let truth = digit_result(&inputs);
		let wrong = H256::repeat_byte(0x66);
		let id = post(&ALICE, batch(1, inputs_root(&inputs, 64), BATCH_URL), 3, 100);
		for who in [provider(2), provider(3)] {
			assert_ok!(commit(&who, id, wrong));
		}
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		expect_infer(
			&mut state.write(),
			&default_infer(),
			&inputs,
			answer(&digit_outputs(&inputs)),
		);
		for _ in 0..2 {
			let call = worker_call(&pool).expect("commit, then reveal");
			assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		}
		for who in [provider(2), provider(3)] {
			assert_ok!(reveal(&who, id, wrong));
		}
		assert_eq!(last_event(), Event::JobConcluded { job: id, result: wrong, payable_at: 31 });

		// The challenge carries the item, downloaded again: the chain needs it for a batch.
		next_block();
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		let call = worker_call(&pool).expect("the challenge");
		assert_eq!(
			call,
			RuntimeCall::GpuJobs(crate::Call::resolve_by_execution {
				job: id,
				item_index: 0,
				batch_item: Some(batch_item(inputs.clone(), Vec::new())),
				claims: Default::default(),
			})
		);
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Challenged { sent_at: now() as u32 })
		);
		// Never twice.
		run_to_block(now() + u64::from(RESUBMIT_AFTER_BLOCKS));
		assert_eq!(worker_call(&pool), None);

		// It lands: the truth is paid.
		assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, ref winners, .. }
				if result == truth && *winners == vec![provider(1)]
		));
		GpuJobs::do_try_state().unwrap();
	});
}

#[test]
fn the_vote_is_neither_challenged_nor_challenges_and_is_disproved_only_when_claimable() {
	ExtBuilder::default().build_and_execute(|| {
		let vote = INPUT_UNAVAILABLE;
		let (truth, other) = (H256::repeat_byte(0x11), H256::repeat_byte(0x22));
		let root = H256::repeat_byte(0x33);
		// One item: the vote is the majority.
		let one = post(&ALICE, batch(1, root, BATCH_URL), 3, 100);
		let drawn = providers_of(one);
		play(one, &[(drawn[0].clone(), truth), (drawn[1].clone(), vote), (drawn[2].clone(), vote)]);
		let job = Jobs::<Test>::get(one).unwrap();
		assert_eq!(job.status, JobStatus::Concluded);
		// No challenge of the vote's majority: it is disproved instead.
		assert!(!GpuJobs::should_challenge(&job, truth, now() + 1));
		assert!(GpuJobs::confirms_own_result(one, &job, truth, now() + 1));
		assert!(!GpuJobs::confirms_own_result(one, &job, vote, now() + 1));

		// One item, a real majority: the vote never challenges it.
		let two = post(&ALICE, batch(1, root, BATCH_URL), 3, 100);
		let drawn = providers_of(two);
		play(
			two,
			&[(drawn[0].clone(), truth), (drawn[1].clone(), truth), (drawn[2].clone(), vote)],
		);
		let job = Jobs::<Test>::get(two).unwrap();
		assert!(!GpuJobs::should_challenge(&job, vote, now() + 1));
		assert!(!GpuJobs::confirms_own_result(two, &job, vote, now() + 1));

		// Several items, the vote the majority and another real result beside the worker's:
		// it could not claim the other, so it does nothing; with one item it can (no claims).
		let five = |items: u32| {
			let id = post(&ALICE, batch(items, root, BATCH_URL), 5, 100);
			let drawn = providers_of(id);
			let plays = [truth, other, vote, vote, vote];
			let results: Vec<(AccountId, H256)> = drawn.into_iter().zip(plays).collect();
			play(id, &results);
			(id, Jobs::<Test>::get(id).unwrap())
		};
		let (id, job) = five(3);
		assert_eq!(job.tally().majority, Some(vote));
		assert!(!GpuJobs::confirms_own_result(id, &job, truth, now() + 1));
		let (id, job) = five(1);
		assert!(GpuJobs::confirms_own_result(id, &job, truth, now() + 1));
		// Neither an inline job (it never stands on the vote) nor a job not concluded.
		let mut inline_job = job.clone();
		inline_job.input = inline(digit_items(1, 1));
		assert!(!GpuJobs::confirms_own_result(id, &inline_job, truth, now() + 1));
		let mut revealing = job;
		revealing.status = JobStatus::Revealing;
		assert!(!GpuJobs::confirms_own_result(id, &revealing, truth, now() + 1));
	});
}

/// Colluders that reveal two different garbage results and then stop answering their walks
/// (both forfeited) cannot keep the honest result unpaid: the honest provider's worker, which
/// holds only its own leaves, re-executes item 0 with its own claim alone, and is paid.
#[test]
fn the_last_result_standing_is_confirmed_by_its_provider_and_paid() {
	confirm_the_last_result_standing(false);
}

/// The same, when the last liar goes silent in its walk against the honest result: once the
/// round ended (the challenge is not closed yet: nobody else is left to open one), the worker
/// confirms its result at once, the re-execution closing the challenge with the liar's forfeit.
#[test]
fn the_last_result_standing_is_confirmed_once_the_last_walk_stalled() {
	confirm_the_last_result_standing(true);
}

/// Both garbage results out (the second, with `silent_last_walk`, by a walk whose round ended
/// with the honest side's nodes in and the liar silent); the honest worker's re-execution.
fn confirm_the_last_result_standing(silent_last_walk: bool) {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, key) = keystore();
	let mut ext = ext_with(three_providers(&key), offchain.clone(), offchain, pool, keystore);
	ext.execute_with(|| {
		let pool = || pool_calls(&pool_state.read().transactions);
		let inputs = digit_items(3, 7);
		let leaves = dsync_aivm_core::batch_result_hashes(&digit_outputs(&inputs), 10);
		let truth = H256(dsync_aivm_core::batch_merkle_root(&leaves));
		let id = post(&ALICE, batch(3, inputs_root(&inputs, 64), BATCH_URL), 3, 5_000);
		let garbage = [H256::repeat_byte(0x71), H256::repeat_byte(0x72)];
		for (who, result) in [provider(2), provider(3)].into_iter().zip(garbage) {
			assert_ok!(commit(&who, id, result));
		}
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		let outputs = answer(&digit_outputs(&inputs));
		expect_infer(&mut state.write(), &default_infer(), &inputs, outputs);
		for _ in 0..2 {
			let call = worker_call(&pool).expect("commit, then reveal");
			assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		}
		for (who, result) in [provider(2), provider(3)].into_iter().zip(garbage) {
			assert_ok!(reveal(&who, id, result));
		}
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.status, JobStatus::Disputed);
		// Against a payable other result the worker walks; once both forfeited, it confirms.
		assert!(!GpuJobs::confirms_own_result(id, &job, truth, now() + 1));
		let mut verdicts = GpuJobs::verdicts_of(id, &job);
		let forfeited = if silent_last_walk { &garbage[..1] } else { &garbage[..] };
		for result in forfeited {
			verdicts.update(*result, |standing| standing.forfeited = true);
		}
		JobVerdicts::<Test>::insert(id, verdicts);
		if silent_last_walk {
			// The walk against the second: the honest side answered, the liar did not, and
			// the round ends at the next block.
			let nodes =
				BoundedVec::try_from(leaves.iter().copied().map(H256).collect::<Vec<_>>()).unwrap();
			Challenges::<Test>::insert(
				id,
				Challenge {
					by: provider(1),
					result: truth,
					defender: garbage[1],
					level: 2,
					position: 0,
					result_node: truth,
					defender_node: garbage[1],
					result_nodes: Some(nodes),
					defender_nodes: None,
					round_end: now() + 1,
					period: 4,
				},
			);
			Jobs::<Test>::mutate(id, |job| job.as_mut().unwrap().status = JobStatus::Challenged);
			let job = Jobs::<Test>::get(id).unwrap();
			assert!(!GpuJobs::confirms_own_result(id, &job, truth, now() + 1));
		} else {
			assert!(GpuJobs::confirms_own_result(id, &job, truth, now() + 1));
		}

		next_block();
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs));
		let call = worker_call(&pool).expect("the re-execution");
		let input_leaves: Vec<[u8; 32]> = inputs.chunks(64).map(input_leaf).collect();
		let expected = RuntimeCall::GpuJobs(crate::Call::resolve_by_execution {
			job: id,
			item_index: 0,
			batch_item: Some(batch_item(
				inputs[..64].to_vec(),
				dsync_aivm_core::merkle_proof(&input_leaves, 0).unwrap(),
			)),
			claims: BoundedVec::try_from(vec![claim(
				truth,
				H256(leaves[0]),
				dsync_aivm_core::merkle_proof(&leaves, 0).unwrap(),
			)])
			.unwrap(),
		});
		assert_eq!(call, expected);
		assert_ok!(call.dispatch(RuntimeOrigin::signed(key.clone())));
		if silent_last_walk {
			assert!(events().contains(&Event::ChallengeForfeited { job: id, result: garbage[1] }));
		}
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, paid: 5_000, .. } if result == truth
		));
		GpuJobs::do_try_state().unwrap();
	});
}
