//! The off-chain worker, with the test off-chain externalities (HTTP, local storage), a test
//! transaction pool and an in-memory keystore holding a `dsyn` key: inline and batch jobs
//! computed, committed and revealed; a server answering 500, malformed JSON, a wrong shape or
//! nothing in time; a batch that does not match its hash; retries and resubmissions without
//! double submission.

use crate::{
	mock::*,
	ocw::{
		evaluate_response, infer_url, local_key, request_body, stored_leaves, InferenceError,
		LocalJobs, Observation, AIVM_URL_KEY, MAX_RESPONSE_BYTES, RESUBMIT_AFTER_BLOCKS,
		RETRY_AFTER_BLOCKS,
	},
	*,
};
use codec::{Decode, Encode};
use dsync_aivm_core::bundled::DIGITS_64_128_64_10_HASH;
use dsync_primitives::{hex, probe::KEY_TYPE};
use frame_support::{assert_ok, traits::Hooks, BoundedVec};
use sp_core::{
	offchain::{
		testing::{OffchainState, PendingRequest, TestOffchainExt, TestTransactionPoolExt},
		Externalities as OffchainExternalities, HttpError, HttpRequestId, HttpRequestStatus,
		OffchainDbExt, OffchainWorkerExt, OpaqueNetworkState, StorageKind, Timestamp,
		TransactionPoolExt,
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
		// Other values: no inference request follows.
		expect_download(&mut state.write(), BATCH_URL, request_body(&digit_items(3, 5)));
		GpuJobs::offchain_worker(1);
		assert!(pool_state.read().transactions.is_empty());
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Failed { attempts: 1, retry_at: 1 + RETRY_AFTER_BLOCKS })
		);
		// The wrong length, two blocks later.
		run_to_block(3);
		expect_download(&mut state.write(), BATCH_URL, request_body(&inputs[..128]));
		GpuJobs::offchain_worker(3);
		assert!(pool_state.read().transactions.is_empty());
		assert_eq!(
			records(&provider(1)).get(&id),
			Some(&LocalJob::Failed { attempts: 2, retry_at: 3 + RETRY_AFTER_BLOCKS })
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
			Some(&LocalJob::Failed { attempts: 1, retry_at: 1 + RETRY_AFTER_BLOCKS })
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
			Some(&LocalJob::Failed { attempts: 2, retry_at: 3 + RETRY_AFTER_BLOCKS })
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
			.filter(|(_, record)| matches!(record, LocalJob::Failed { attempts: 1, .. }))
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
		for (attempt, body) in bad_answers.into_iter().enumerate() {
			expect_infer(&mut state.write(), &default_infer(), &input, body);
			GpuJobs::offchain_worker(block);
			assert!(pool_state.read().transactions.is_empty());
			assert_eq!(
				records(&provider(1)).get(&id),
				Some(&LocalJob::Failed {
					attempts: attempt as u32 + 1,
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
