//! The off-chain worker, with the test off-chain externalities (HTTP, local storage), a test
//! transaction pool and an in-memory keystore holding a `dsyn` key: the probe of a good, slow,
//! wrongly signed, lagging, unreachable and malformed node, and the commit and reveal
//! transactions it submits. [`TestNetwork`] adds what the test externalities cannot do: time
//! passing during a request (slow nodes, deadlines), refused connections and error statuses.

use crate::{
	mock::*,
	ocw::{
		evaluate, evaluate_retrieval, local_key, retrieval_seed, Observation, ProbeContext,
		RESUBMIT_AFTER_BLOCKS,
	},
	*,
};
use codec::{Decode, Encode, MaxEncodedLen};
use dsync_primitives::{
	probe::{
		compute_challenge, probe_url, ProbeAnswer, SignedProbeAnswer, KEY_TYPE,
		MAX_PROBE_RESPONSE_BYTES,
	},
	storage::{
		api::proof_path,
		pieces::{prove_piece, slot_leaves, slot_root, PieceProof},
	},
};
use frame_support::{assert_ok, traits::Hooks};
use sp_core::{
	offchain::{
		testing::{OffchainState, PendingRequest, TestOffchainExt, TestTransactionPoolExt},
		Duration, Externalities as OffchainExternalities, HttpError, HttpRequestId,
		HttpRequestStatus, OffchainDbExt, OffchainWorkerExt, OpaqueNetworkState, Timestamp,
		TransactionPoolExt,
	},
	sr25519, OpaquePeerId, Pair, H256,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::{
	generic::Preamble,
	offchain::storage::StorageValueRef,
	traits::{Dispatchable, Verify},
};

/// The seed byte of the probed node's key.
const NODE_KEY: u8 = 7;
/// The "random" seed of the test off-chain externalities: the salt of every commitment.
const SALT: [u8; 32] = [9u8; 32];

/// A keystore with one `dsyn` key; returns it with the key's account.
fn keystore() -> (MemoryKeystore, AccountId) {
	let keystore = MemoryKeystore::new();
	let public = keystore
		.sr25519_generate_new(KEY_TYPE, Some("//Verifier"))
		.expect("the memory keystore generates keys");
	(keystore, public.into())
}

/// One validator node (owner `validator(1)`) whose key is `verifier_key`, one service node
/// (owner `service(1)`) whose key is `pair(NODE_KEY)`, one verifier per node.
fn builder(verifier_key: AccountId) -> ExtBuilder {
	ExtBuilder::empty()
		.with_params(|params| params.verifiers_per_node = 1)
		.validator_node(validator(1), verifier_key)
		.service_node(service(1), pair(NODE_KEY).public().into(), 10, NodeStatus::Active)
}

/// The externalities of `builder` with the off-chain, pool and keystore extensions.
fn with_extensions(
	builder: ExtBuilder,
	offchain: TestOffchainExt,
	pool: TestTransactionPoolExt,
	keystore: MemoryKeystore,
) -> sp_io::TestExternalities {
	let mut ext = builder.build();
	ext.register_extension(OffchainWorkerExt::new(TestNetwork::new(offchain.clone())));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	ext
}

/// An answer to `seed` at best block `best_number` (hash `best_hash`), right or wrong.
fn answer(seed: [u8; 32], best_number: u32, best_hash: H256, correct: bool) -> ProbeAnswer {
	let mut compute = compute_challenge(&seed);
	if !correct {
		compute[0] ^= 1;
	}
	ProbeAnswer {
		seed,
		best_number,
		best_hash,
		finalized_number: best_number,
		finalized_hash: best_hash,
		compute,
	}
}

/// `answer` signed by `signer`.
fn signed(signer: &sr25519::Pair, answer: ProbeAnswer) -> SignedProbeAnswer {
	SignedProbeAnswer { signature: signer.sign(&answer.signing_payload()), answer }
}

/// Expect one probe of the standard endpoint with `seed`, answered `200 OK` with `body`.
fn expect_probe(state: &mut OffchainState, seed: &[u8; 32], body: Vec<u8>) {
	let uri = String::from_utf8(probe_url(ENDPOINT, seed)).expect("probe URLs are ASCII");
	state.expect_request(PendingRequest {
		method: "GET".into(),
		uri,
		response: Some(body),
		sent: true,
		..Default::default()
	});
}

/// The challenge seed of `service(1)` this epoch.
fn node_seed() -> [u8; 32] {
	Assignments::<Test>::get(service(1)).expect("the node is assigned").seed
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

/// No block is known to the chain of `evaluate`'s tests.
fn unknown_block(_number: u32, _hash: &H256) -> bool {
	false
}

/// [`unknown_block`], as a `'static` value.
static UNKNOWN_BLOCK: fn(u32, &H256) -> bool = unknown_block;

/// A context for `evaluate`: block 100, maximums 1_100 ms and 12 blocks, no known block.
fn context(seed: [u8; 32], node_key: Option<sr25519::Public>) -> ProbeContext<'static> {
	ProbeContext {
		seed,
		node_key,
		current_block: 100,
		max_latency_ms: 1_100,
		max_lag: 12,
		is_canonical: &UNKNOWN_BLOCK,
	}
}

#[test]
fn a_good_node_is_committed_then_revealed() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let mut ext = with_extensions(builder(verifier_key.clone()), offchain, pool, keystore);
	ext.execute_with(|| {
		run_to_collecting();
		assert_eq!(System::block_number(), 2);
		let seed = node_seed();
		let evidence = signed(&pair(NODE_KEY), answer(seed, 2, H256::repeat_byte(2), true));
		expect_probe(&mut state.write(), &seed, evidence.encode());
		state.write().seed = SALT;

		ProofOfSync::offchain_worker(2);

		let expected = ProbeReport {
			available: true,
			challenge_ok: true,
			latency_ms: 0,
			sync_lag: 0,
			evidence: Some(evidence),
		};
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 1);
		assert_eq!(signer_of(&txs[0], 0), verifier_key);
		// Bound to the epoch, the target and the verifier's node owner (not its key).
		let commitment = expected.commitment(1, &service(1), &validator(1), &SALT);
		assert_eq!(
			txs[0].function,
			RuntimeCall::ProofOfSync(crate::Call::commit_report { node: service(1), commitment })
		);
		let key = local_key(1, &service(1), &validator(1));
		let record = StorageValueRef::persistent(&key).get::<LocalReport>().unwrap().unwrap();
		assert_eq!(
			record,
			LocalReport {
				report: expected.clone(),
				salt: SALT,
				commit_sent_at: 2,
				reveal_sent_at: None
			}
		);

		// The commitment lands on chain; the worker has nothing more to do in this window.
		assert_ok!(txs[0].function.clone().dispatch(RuntimeOrigin::signed(verifier_key.clone())));
		ProofOfSync::offchain_worker(2);
		run_to_block(5);
		ProofOfSync::offchain_worker(5);
		assert_eq!(pool_state.read().transactions.len(), 1);

		// The reveal window: the worker reveals what it committed to.
		run_to_block(6);
		ProofOfSync::offchain_worker(6);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 2);
		assert_eq!(signer_of(&txs[1], 1), verifier_key);
		let RuntimeCall::ProofOfSync(crate::Call::reveal_report { node, report, salt }) =
			txs[1].function.clone()
		else {
			panic!("the second transaction reveals");
		};
		assert_eq!(node, service(1));
		assert_eq!(report, expected);
		assert_eq!(salt, SALT);
		assert_eq!(report.commitment(1, &service(1), &validator(1), &salt), commitment);
		assert_ok!(txs[1].function.clone().dispatch(RuntimeOrigin::signed(verifier_key.clone())));
		let slot = Assignments::<Test>::get(service(1)).unwrap().slots[0].clone();
		assert_eq!(slot.report, Some(expected));

		// Once the report is on chain, the local record is cleared and nothing is resent.
		run_to_block(7);
		ProofOfSync::offchain_worker(7);
		assert_eq!(pool_state.read().transactions.len(), 2);
		assert_eq!(StorageValueRef::persistent(&key).get::<LocalReport>(), Ok(None));

		ProofOfSync::do_try_state().unwrap();
	});
}

#[test]
fn a_commitment_not_on_chain_is_resubmitted_after_three_blocks() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let mut ext = with_extensions(builder(verifier_key.clone()), offchain, pool, keystore);
	ext.execute_with(|| {
		run_to_collecting();
		let seed = node_seed();
		let evidence = signed(&pair(NODE_KEY), answer(seed, 2, H256::zero(), true));
		// One probe only: the resubmission reuses the local record.
		expect_probe(&mut state.write(), &seed, evidence.encode());
		ProofOfSync::offchain_worker(2);
		for block in 3..2 + u64::from(RESUBMIT_AFTER_BLOCKS) {
			run_to_block(block);
			ProofOfSync::offchain_worker(block);
			assert_eq!(pool_state.read().transactions.len(), 1);
		}
		run_to_block(5);
		ProofOfSync::offchain_worker(5);
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 2);
		assert_eq!(txs[0].function, txs[1].function);
		assert_eq!(signer_of(&txs[1], 1), verifier_key);

		// Never committed on chain: nothing to reveal.
		run_to_block(6);
		ProofOfSync::offchain_worker(6);
		assert_eq!(pool_state.read().transactions.len(), 2);
		ProofOfSync::do_try_state().unwrap();
	});
}

#[test]
fn a_wrongly_signed_answer_fails_the_challenge_but_is_kept_as_evidence() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, _pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let mut ext = with_extensions(builder(verifier_key), offchain, pool, keystore);
	ext.execute_with(|| {
		run_to_collecting();
		let seed = node_seed();
		let evidence = signed(&pair(NODE_KEY + 1), answer(seed, 2, H256::zero(), true));
		expect_probe(&mut state.write(), &seed, evidence.encode());
		let report = probe_service(&seed, &Params::<Test>::get());
		assert_eq!(
			report,
			ProbeReport {
				available: true,
				challenge_ok: false,
				latency_ms: 0,
				sync_lag: 0,
				evidence: Some(evidence)
			}
		);
		ProofOfSync::do_try_state().unwrap();
	});
}

#[test]
fn a_lagging_node_reports_its_lag() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, _pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let mut ext = with_extensions(builder(verifier_key), offchain, pool, keystore);
	ext.execute_with(|| {
		run_to_collecting();
		let seed = node_seed();
		let params = Params::<Test>::get();
		// The verifier is at block 30; the node's best block is 10, a block of this chain.
		System::set_block_number(30);
		frame_system::BlockHash::<Test>::insert(10u64, H256::repeat_byte(10));

		let evidence = signed(&pair(NODE_KEY), answer(seed, 10, H256::repeat_byte(10), true));
		expect_probe(&mut state.write(), &seed, evidence.encode());
		let report = probe_service(&seed, &params);
		assert_eq!(
			report,
			ProbeReport {
				available: true,
				challenge_ok: true,
				latency_ms: 0,
				sync_lag: 20,
				evidence: Some(evidence)
			}
		);

		// A best block this chain does not know: the challenge fails too.
		let evidence = signed(&pair(NODE_KEY), answer(seed, 10, H256::repeat_byte(11), true));
		expect_probe(&mut state.write(), &seed, evidence.encode());
		let report = probe_service(&seed, &params);
		assert!(!report.challenge_ok);
		assert_eq!(report.sync_lag, 20);

		// A node one block ahead of the verifier (a block imported during the probe) is
		// accepted, with no lag...
		let evidence = signed(&pair(NODE_KEY), answer(seed, 31, H256::repeat_byte(31), true));
		expect_probe(&mut state.write(), &seed, evidence.encode());
		let report = probe_service(&seed, &params);
		assert!(report.challenge_ok);
		assert_eq!(report.sync_lag, 0);

		// ...but a lagging node cannot hide its lag by claiming a block further ahead.
		let evidence = signed(&pair(NODE_KEY), answer(seed, 35, H256::repeat_byte(35), true));
		expect_probe(&mut state.write(), &seed, evidence.encode());
		let report = probe_service(&seed, &params);
		assert!(!report.challenge_ok);

		// Nor with a made-up finalised block behind a real best block.
		let mut fake_final = answer(seed, 10, H256::repeat_byte(10), true);
		fake_final.finalized_number = 9;
		fake_final.finalized_hash = H256::repeat_byte(99);
		let evidence = signed(&pair(NODE_KEY), fake_final);
		expect_probe(&mut state.write(), &seed, evidence.encode());
		let report = probe_service(&seed, &params);
		assert!(!report.challenge_ok);
		assert_eq!(report.sync_lag, 20);

		// Nor with a finalised block after its best block.
		let mut inverted = answer(seed, 10, H256::repeat_byte(10), true);
		inverted.finalized_number = 11;
		let evidence = signed(&pair(NODE_KEY), inverted);
		expect_probe(&mut state.write(), &seed, evidence.encode());
		let report = probe_service(&seed, &params);
		assert!(!report.challenge_ok);
		ProofOfSync::do_try_state().unwrap();
	});
}

#[test]
fn a_malformed_body_counts_as_available_but_failed() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, _pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let mut ext = with_extensions(builder(verifier_key), offchain, pool, keystore);
	ext.execute_with(|| {
		run_to_collecting();
		let seed = node_seed();
		let params = Params::<Test>::get();
		let malformed = ProbeReport {
			available: true,
			challenge_ok: false,
			latency_ms: 0,
			sync_lag: 12,
			evidence: None,
		};

		expect_probe(&mut state.write(), &seed, b"<html>hello</html>".to_vec());
		assert_eq!(probe_service(&seed, &params), malformed);

		// A valid answer followed by trailing bytes.
		let mut body = signed(&pair(NODE_KEY), answer(seed, 2, H256::zero(), true)).encode();
		body.push(0);
		expect_probe(&mut state.write(), &seed, body);
		assert_eq!(probe_service(&seed, &params), malformed);

		// Too long.
		expect_probe(&mut state.write(), &seed, vec![0u8; MAX_PROBE_RESPONSE_BYTES + 100]);
		assert_eq!(probe_service(&seed, &params), malformed);

		// Empty.
		expect_probe(&mut state.write(), &seed, Vec::new());
		assert_eq!(probe_service(&seed, &params), malformed);
		ProofOfSync::do_try_state().unwrap();
	});
}

#[test]
fn an_unreachable_node_is_reported_down_and_committed() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let mut ext = with_extensions(builder(verifier_key.clone()), offchain, pool, keystore);
	ext.execute_with(|| {
		run_to_collecting();
		// An endpoint no request can be made to: no HTTP request at all (the test
		// externalities would panic on a request without an expected response).
		MockRegistry::update(&service(1), |node| node.endpoint = b"not a url".to_vec());
		state.write().seed = SALT;
		ProofOfSync::offchain_worker(2);

		let down = ProbeReport {
			available: false,
			challenge_ok: false,
			latency_ms: 1_100,
			sync_lag: 12,
			evidence: None,
		};
		let txs = pool_calls(&pool_state.read().transactions);
		assert_eq!(txs.len(), 1);
		assert_eq!(signer_of(&txs[0], 0), verifier_key);
		assert_eq!(
			txs[0].function,
			RuntimeCall::ProofOfSync(crate::Call::commit_report {
				node: service(1),
				commitment: down.commitment(1, &service(1), &validator(1), &SALT),
			})
		);
		ProofOfSync::do_try_state().unwrap();
	});
}

#[test]
fn evaluate_reports_down_for_no_answer_and_error_statuses() {
	sp_io::TestExternalities::default().execute_with(|| {
		let seed = [1u8; 32];
		let ctx = context(seed, Some(pair(NODE_KEY).public()));
		let down = ProbeReport {
			available: false,
			challenge_ok: false,
			latency_ms: 1_100,
			sync_lag: 12,
			evidence: None,
		};
		assert_eq!(evaluate(Observation::Unreachable, &ctx), down);
		let body = signed(&pair(NODE_KEY), answer(seed, 100, H256::zero(), true)).encode();
		for status in [500, 404, 301, 204] {
			let observation = Observation::Response { status, latency_ms: 30, body: body.clone() };
			assert_eq!(evaluate(observation, &ctx), down);
		}
	});
}

#[test]
fn evaluate_keeps_the_latency_of_a_slow_node() {
	sp_io::TestExternalities::default().execute_with(|| {
		let seed = [1u8; 32];
		let ctx = context(seed, Some(pair(NODE_KEY).public()));
		let evidence = signed(&pair(NODE_KEY), answer(seed, 100, H256::zero(), true));
		let observation =
			Observation::Response { status: 200, latency_ms: 5_000, body: evidence.encode() };
		let report = evaluate(observation, &ctx);
		assert_eq!(
			report,
			ProbeReport {
				available: true,
				challenge_ok: true,
				latency_ms: 5_000,
				sync_lag: 0,
				evidence: Some(evidence)
			}
		);
		// Slower than the maximum: worth nothing.
		let aggregate = crate::aggregate::Aggregate::of([&report]);
		assert_eq!(aggregate.quality(&test_params()), Some(sp_runtime::Perbill::zero()));
	});
}

#[test]
fn evaluate_checks_seed_compute_and_key() {
	sp_io::TestExternalities::default().execute_with(|| {
		let seed = [1u8; 32];
		let key = Some(pair(NODE_KEY).public());
		let check = |answer: ProbeAnswer, node_key| {
			let body = signed(&pair(NODE_KEY), answer).encode();
			let observation = Observation::Response { status: 200, latency_ms: 10, body };
			evaluate(observation, &context(seed, node_key)).challenge_ok
		};
		assert!(check(answer(seed, 100, H256::zero(), true), key));
		// Another seed, a wrong compute result, no known key.
		assert!(!check(answer([2u8; 32], 100, H256::zero(), true), key));
		assert!(!check(answer(seed, 100, H256::zero(), false), key));
		assert!(!check(answer(seed, 100, H256::zero(), true), None));
		// An old block unknown to the chain.
		assert!(!check(answer(seed, 99, H256::zero(), true), key));
	});
}

#[test]
fn the_worker_does_nothing_without_keys_or_outside_the_windows() {
	// No key in the keystore.
	let (offchain, _state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (_, verifier_key) = keystore();
	let mut ext = with_extensions(builder(verifier_key), offchain, pool, MemoryKeystore::new());
	ext.execute_with(|| {
		run_to_collecting();
		ProofOfSync::offchain_worker(2);
		assert!(pool_state.read().transactions.is_empty());
	});

	// A key, but the epoch is being paid.
	let (offchain, _state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let mut ext = with_extensions(builder(verifier_key), offchain, pool, keystore);
	ext.execute_with(|| {
		run_to_block(11);
		assert!(matches!(phase(), Phase::Paying { .. } | Phase::Starting));
		ProofOfSync::offchain_worker(11);
		assert!(pool_state.read().transactions.is_empty());
		ProofOfSync::do_try_state().unwrap();
	});
}

/// How a scripted request ends.
#[derive(Clone, Copy)]
enum Network {
	/// The connection cannot be made: sending the request fails.
	ConnectionRefused,
	/// The server answers with this status after `delay_ms` of off-chain time.
	Answers { status: u16, delay_ms: u64 },
}

/// [`TestOffchainExt`] behind a scripted network and a log of the probes' authentication:
///
/// - the headers `X-Dsync-*` are taken off every request and logged ([`ProbeLog`]): the test
///   externalities compare every request with the expected one, headers included, and a probe's
///   signature differs at every run (sr25519 signatures are randomised);
/// - with a `network`, off-chain time passes while the request is under way (so the worker
///   measures the latency and meets its deadline), and the connection can fail or be answered
///   with any status; without one, the test externalities answer at once (with the log's
///   status, when it has one).
///
/// Everything else is the test externalities' own.
struct TestNetwork {
	inner: TestOffchainExt,
	network: Option<Network>,
	log: ProbeLog,
}

impl TestNetwork {
	/// `inner` answering, behind a log of its own.
	fn new(inner: TestOffchainExt) -> Self {
		Self { inner, network: None, log: ProbeLog::default() }
	}

	/// `inner` answering, behind `log`.
	fn logged(inner: TestOffchainExt, log: &ProbeLog) -> Self {
		Self { inner, network: None, log: log.clone() }
	}

	/// `inner` behind `network`.
	fn scripted(inner: TestOffchainExt, network: Network) -> Self {
		Self { inner, network: Some(network), log: ProbeLog::default() }
	}
}

impl OffchainExternalities for TestNetwork {
	fn is_validator(&self) -> bool {
		self.inner.is_validator()
	}
	fn network_state(&self) -> Result<OpaqueNetworkState, ()> {
		self.inner.network_state()
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
		id: HttpRequestId,
		name: &str,
		value: &str,
	) -> Result<(), ()> {
		if name.starts_with("X-Dsync-") {
			self.log.headers.lock().unwrap().push((name.into(), value.into()));
			return Ok(());
		}
		self.inner.http_request_add_header(id, name, value)
	}
	fn http_request_write_body(
		&mut self,
		id: HttpRequestId,
		chunk: &[u8],
		deadline: Option<Timestamp>,
	) -> Result<(), HttpError> {
		match self.network {
			Some(Network::ConnectionRefused) => Err(HttpError::IoError),
			_ => self.inner.http_request_write_body(id, chunk, deadline),
		}
	}
	fn http_response_wait(
		&mut self,
		ids: &[HttpRequestId],
		deadline: Option<Timestamp>,
	) -> Vec<HttpRequestStatus> {
		let status = match self.network {
			None => *self.log.status.lock().unwrap(),
			Some(Network::ConnectionRefused) => {
				return ids.iter().map(|_| HttpRequestStatus::IoError).collect()
			},
			Some(Network::Answers { status, delay_ms }) => {
				let answered_at = self.inner.timestamp().add(Duration::from_millis(delay_ms));
				if let Some(deadline) =
					deadline.filter(|deadline| answered_at.unix_millis() > deadline.unix_millis())
				{
					self.inner.sleep_until(deadline);
					return ids.iter().map(|_| HttpRequestStatus::DeadlineReached).collect();
				}
				self.inner.sleep_until(answered_at);
				Some(status)
			},
		};
		self.inner
			.http_response_wait(ids, deadline)
			.into_iter()
			.map(|found| match (found, status) {
				(HttpRequestStatus::Finished(_), Some(status)) => {
					HttpRequestStatus::Finished(status)
				},
				(found, _) => found,
			})
			.collect()
	}
	fn http_response_headers(&mut self, id: HttpRequestId) -> Vec<(Vec<u8>, Vec<u8>)> {
		self.inner.http_response_headers(id)
	}
	fn http_response_read_body(
		&mut self,
		id: HttpRequestId,
		buffer: &mut [u8],
		deadline: Option<Timestamp>,
	) -> Result<usize, HttpError> {
		self.inner.http_response_read_body(id, buffer, deadline)
	}
	fn set_authorized_nodes(&mut self, nodes: Vec<OpaquePeerId>, authorized_only: bool) {
		self.inner.set_authorized_nodes(nodes, authorized_only)
	}
}

/// The probe of `service(1)` over `network`, answered with `body(seed)` when the connection is
/// made.
fn probe_over(network: Network, body: impl FnOnce([u8; 32]) -> Vec<u8>) -> ProbeReport {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, _pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let mut ext = builder(verifier_key).build();
	ext.register_extension(OffchainWorkerExt::new(TestNetwork::scripted(
		offchain.clone(),
		network,
	)));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	ext.execute_with(|| {
		run_to_collecting();
		let seed = node_seed();
		if matches!(network, Network::Answers { .. }) {
			expect_probe(&mut state.write(), &seed, body(seed));
		}
		let report = probe_service(&seed, &Params::<Test>::get());
		ProofOfSync::do_try_state().unwrap();
		report
	})
}

/// A good answer of `service(1)` to `seed` at block 2.
fn good_answer_body(seed: [u8; 32]) -> Vec<u8> {
	signed(&pair(NODE_KEY), answer(seed, 2, H256::repeat_byte(2), true)).encode()
}

#[test]
fn a_slow_node_is_measured_over_the_network() {
	let params = ExtBuilder::default().build().execute_with(Params::<Test>::get);
	// 1.5 s: inside the 2 s deadline, so available and correct, with the latency measured.
	let report = probe_over(Network::Answers { status: 200, delay_ms: 1_500 }, good_answer_body);
	assert!(report.available && report.challenge_ok);
	assert_eq!(report.latency_ms, 1_500);
	assert_eq!(report.sync_lag, 0);
	// The latency counts against the node's quality in the aggregation.
	assert!(u64::from(report.latency_ms) > u64::from(params.max_latency_ms) / 2);

	// 2.5 s: past the deadline, so the node is down.
	let report = probe_over(Network::Answers { status: 200, delay_ms: 2_500 }, good_answer_body);
	assert_eq!(
		report,
		ProbeReport {
			available: false,
			challenge_ok: false,
			latency_ms: params.max_latency_ms,
			sync_lag: params.max_lag,
			evidence: None,
		}
	);
}

#[test]
fn a_node_whose_endpoint_is_down_or_failing_is_reported_down() {
	let params = ExtBuilder::default().build().execute_with(Params::<Test>::get);
	let down = ProbeReport {
		available: false,
		challenge_ok: false,
		latency_ms: params.max_latency_ms,
		sync_lag: params.max_lag,
		evidence: None,
	};
	assert_eq!(probe_over(Network::ConnectionRefused, |_| Vec::new()), down);
	// (A busy answer, 429 or 503, is no report at first: see the tests of busy nodes below.)
	for status in [500, 404] {
		let report = probe_over(Network::Answers { status, delay_ms: 20 }, good_answer_body);
		assert_eq!(report, down);
	}
}

// ---------------------------------------------------------------------------------------------
// Authenticated probes and busy nodes.

/// The probe of `service(1)` as its verifier's worker makes it: signed with `validator(1)`'s
/// registered key (the keystore's key in these tests); `None` when there is nothing to report.
fn try_probe_service(seed: &[u8; 32], params: &ProofOfSyncParams<Balance>) -> Option<ProbeReport> {
	let verifier = MockRegistry::node(&validator(1)).expect("the verifier's node").offchain_key;
	ProofOfSync::probe(&service(1), seed, params, &verifier)
}

/// [`try_probe_service`] of a node that gave something to report.
fn probe_service(seed: &[u8; 32], params: &ProofOfSyncParams<Balance>) -> ProbeReport {
	try_probe_service(seed, params).expect("something to report")
}

/// What [`TestNetwork`] saw, and the status it answers with.
#[derive(Clone, Default)]
struct ProbeLog {
	/// The authentication headers (`X-Dsync-*`) of every request, in order.
	headers: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
	/// The status every answer gets instead of the inner externalities' (none: theirs).
	status: std::sync::Arc<std::sync::Mutex<Option<u16>>>,
}

impl ProbeLog {
	/// Answer every request with `status` from now on (`None`: as the inner externalities do).
	fn answer_with(&self, status: Option<u16>) {
		*self.status.lock().unwrap() = status;
	}

	/// The authentication headers seen so far.
	fn headers(&self) -> Vec<(String, String)> {
		self.headers.lock().unwrap().clone()
	}
}

/// The externalities of `builder` with the off-chain extensions behind `log`, a test pool and
/// `keystore`.
fn with_logged_extensions(
	builder: ExtBuilder,
	offchain: TestOffchainExt,
	pool: TestTransactionPoolExt,
	keystore: MemoryKeystore,
	log: &ProbeLog,
) -> sp_io::TestExternalities {
	let mut ext = builder.build();
	ext.register_extension(OffchainWorkerExt::new(TestNetwork::logged(offchain.clone(), log)));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	ext
}

/// The one transaction in the pool commits a report on `service(1)`.
fn commits_on_service(transactions: &[Vec<u8>]) -> bool {
	let txs = pool_calls(transactions);
	txs.len() == 1
		&& matches!(
			&txs[0].function,
			RuntimeCall::ProofOfSync(crate::Call::commit_report { node, .. }) if *node == service(1)
		)
}

/// The probe carries the three authentication headers: the worker's `dsyn` key, its block, and
/// the key's signature of the probed node's key, that block and the seed, which the node checks
/// before answering from the verifiers' own budget.
#[test]
fn a_probe_carries_the_verifiers_signature() {
	use dsync_primitives::probe_auth::{BLOCK_HEADER, KEY_HEADER, SIGNATURE_HEADER};
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let log = ProbeLog::default();
	let mut ext =
		with_logged_extensions(builder(verifier_key.clone()), offchain, pool, keystore, &log);
	ext.execute_with(|| {
		run_to_collecting();
		let seed = node_seed();
		let evidence = signed(&pair(NODE_KEY), answer(seed, 2, H256::repeat_byte(2), true));
		expect_probe(&mut state.write(), &seed, evidence.encode());
		ProofOfSync::offchain_worker(2);
		assert!(commits_on_service(&pool_state.read().transactions));

		let headers = log.headers();
		let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
		assert_eq!(names, [KEY_HEADER, BLOCK_HEADER, SIGNATURE_HEADER]);
		let verifier = sr25519::Public::from_raw(*AsRef::<[u8; 32]>::as_ref(&verifier_key));
		assert_eq!(headers[0].1, format!("0x{}", dsync_primitives::hex::encode(&verifier.0)));
		assert_eq!(headers[1].1, "2");
		let auth = crate::ocw::ProbeAuth::parse(
			headers[0].1.as_bytes(),
			headers[1].1.as_bytes(),
			headers[2].1.as_bytes(),
		)
		.expect("well-formed headers");
		assert_eq!((auth.key, auth.block), (verifier, 2));
		// Signed by the worker's key for the probed node, this block and this seed only.
		assert!(auth.signature_is_valid(&pair(NODE_KEY).public(), &seed));
		assert!(!auth.signature_is_valid(&pair(NODE_KEY + 1).public(), &seed));
		assert!(!auth.signature_is_valid(&pair(NODE_KEY).public(), &[0u8; 32]));
		ProofOfSync::do_try_state().unwrap();
	});
}

/// A `429` or `503` answer says the node is busy (its anonymous limits flooded), not down: the
/// worker sends no report on it, keeps no record, and probes it again at its next run, which
/// the node answers.
#[test]
fn a_busy_answer_is_no_report_and_the_node_is_probed_again() {
	for busy in crate::ocw::BUSY_STATUSES {
		let (offchain, state) = TestOffchainExt::new();
		let (pool, pool_state) = TestTransactionPoolExt::new();
		let (keystore, verifier_key) = keystore();
		let log = ProbeLog::default();
		// 20-block epochs: busy answers are retried until block 6 (start 1 + 20 / 4).
		let builder = builder(verifier_key).with_params(|params| params.epoch_length = 20);
		let mut ext = with_logged_extensions(builder, offchain, pool, keystore, &log);
		ext.execute_with(|| {
			run_to_collecting();
			let seed = node_seed();
			let key = local_key(1, &service(1), &validator(1));

			log.answer_with(Some(busy));
			expect_probe(&mut state.write(), &seed, Vec::new());
			assert!(ProofOfSync::busy_retry_open(&Params::<Test>::get()));
			ProofOfSync::offchain_worker(2);
			assert!(pool_state.read().transactions.is_empty(), "no report on a busy node");
			assert_eq!(StorageValueRef::persistent(&key).get::<LocalReport>(), Ok(None));
			expect_probe(&mut state.write(), &seed, Vec::new());
			assert_eq!(try_probe_service(&seed, &Params::<Test>::get()), None);

			// The next run probes again (signed anew, at its own block) and commits the answer.
			run_to_block(3);
			log.answer_with(None);
			let evidence = signed(&pair(NODE_KEY), answer(seed, 3, H256::repeat_byte(3), true));
			expect_probe(&mut state.write(), &seed, evidence.encode());
			ProofOfSync::offchain_worker(3);
			assert!(commits_on_service(&pool_state.read().transactions));
			let record = StorageValueRef::persistent(&key).get::<LocalReport>().unwrap().unwrap();
			assert!(record.report.available && record.report.challenge_ok);
			let blocks: Vec<String> = log
				.headers()
				.into_iter()
				.filter(|(name, _)| name == dsync_primitives::probe_auth::BLOCK_HEADER)
				.map(|(_, block)| block)
				.collect();
			assert_eq!(blocks, ["2", "2", "3"]);
			ProofOfSync::do_try_state().unwrap();
		});
	}
}

/// A node still busy once the first half of the commit window is over is reported like a
/// node that did not answer, so the verifier commits in time and is never absent because of
/// the node.
#[test]
fn a_node_busy_past_the_retries_is_reported_down() {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let log = ProbeLog::default();
	// 10-block epochs starting at block 1: busy answers are retried until block 3.
	let mut ext = with_logged_extensions(builder(verifier_key), offchain, pool, keystore, &log);
	ext.execute_with(|| {
		run_to_collecting();
		let seed = node_seed();
		let params = Params::<Test>::get();
		log.answer_with(Some(503));
		expect_probe(&mut state.write(), &seed, Vec::new());
		ProofOfSync::offchain_worker(2);
		assert!(pool_state.read().transactions.is_empty());

		run_to_block(3);
		assert!(!ProofOfSync::busy_retry_open(&params));
		expect_probe(&mut state.write(), &seed, Vec::new());
		ProofOfSync::offchain_worker(3);
		assert!(commits_on_service(&pool_state.read().transactions));
		let key = local_key(1, &service(1), &validator(1));
		let record = StorageValueRef::persistent(&key).get::<LocalReport>().unwrap().unwrap();
		assert_eq!(
			record.report,
			ProbeReport {
				available: false,
				challenge_ok: false,
				latency_ms: params.max_latency_ms,
				sync_lag: params.max_lag,
				evidence: None,
			}
		);
		ProofOfSync::do_try_state().unwrap();
	});
}

// ---------------------------------------------------------------------------------------------
// Storage providers: a piece of what they hold, fetched and checked against the chain.

/// The length of the stored slot of these tests: four pieces, the last one short.
const SLOT_LEN: u64 = 1_000;

/// The bytes of the stored slot (`salt` varies them) and the check of its piece `piece`.
fn stored_slot(salt: u8, piece: u64) -> (Vec<u8>, RetrievalCheck) {
	let data: Vec<u8> = (0..SLOT_LEN as u32).map(|i| (i % 251) as u8 ^ salt).collect();
	let root = slot_root(&data);
	(data, RetrievalCheck { order: 4, slot: 1, piece, root, len: SLOT_LEN })
}

/// The SCALE proof of piece `piece` of `data`, as the provider's endpoint serves it.
fn piece_body(data: &[u8], piece: u64) -> Vec<u8> {
	let leaves = slot_leaves(data);
	prove_piece(data, &leaves, piece).expect("a piece of the slot").encode()
}

/// Expect the fetch of `check`'s piece from the standard endpoint, answered with `body`.
fn expect_piece(state: &mut OffchainState, check: &RetrievalCheck, body: Vec<u8>) {
	let endpoint = core::str::from_utf8(ENDPOINT).expect("an ASCII endpoint");
	state.expect_request(PendingRequest {
		method: "GET".into(),
		uri: format!("{endpoint}{}", proof_path(check.order, check.slot, check.piece)),
		response: Some(body),
		sent: true,
		..Default::default()
	});
}

/// The report `service(1)`'s verifier commits to when the node answers the probe well and
/// holds `check`, and answers the piece fetch with `piece` (`None`: the worker must not fetch).
fn report_of_storage_provider(
	check: Option<RetrievalCheck>,
	piece: impl FnOnce(&RetrievalCheck) -> Vec<u8>,
) -> ProbeReport {
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let (keystore, verifier_key) = keystore();
	let mut ext = with_extensions(builder(verifier_key), offchain, pool, keystore);
	ext.execute_with(|| {
		MockStorage::reset();
		if let Some(check) = check {
			MockStorage::hold(service(1), check);
		}
		run_to_collecting();
		let seed = node_seed();
		expect_probe(&mut state.write(), &seed, good_answer_body(seed));
		if let Some(check) = check.as_ref() {
			expect_piece(&mut state.write(), check, piece(check));
		}
		ProofOfSync::offchain_worker(2);
		assert!(commits_on_service(&pool_state.read().transactions));
		// The same piece for every verifier of the target: chosen by its seed alone.
		assert_eq!(MockStorage::seeds(), vec![retrieval_seed(&seed)]);
		let key = local_key(1, &service(1), &validator(1));
		let record = StorageValueRef::persistent(&key).get::<LocalReport>().unwrap().unwrap();
		ProofOfSync::do_try_state().unwrap();
		record.report
	})
}

#[test]
fn a_storage_provider_passes_only_by_serving_the_piece_it_holds() {
	let (data, check) = stored_slot(0, 2);
	let report = report_of_storage_provider(Some(check), |check| piece_body(&data, check.piece));
	assert!(report.available && report.challenge_ok, "{report:?}");

	// Attack: a provider that proves its slot to the chain but serves other bytes (or lost
	// them): it answers the probe perfectly and still fails the challenge.
	let (other, _) = stored_slot(1, 2);
	let report = report_of_storage_provider(Some(check), |check| piece_body(&other, check.piece));
	assert!(report.available && !report.challenge_ok, "{report:?}");
	assert!(report.evidence.is_some(), "the probe answer is still kept");
	// Another piece of the right slot than the one asked for.
	let report = report_of_storage_provider(Some(check), |_| piece_body(&data, 1));
	assert!(!report.challenge_ok);
	// Not a proof at all (a web page where the piece should be).
	let report = report_of_storage_provider(Some(check), |_| b"<html>gone</html>".to_vec());
	assert!(!report.challenge_ok);

	// A node that holds nothing is asked for nothing (no second request is expected).
	let report = report_of_storage_provider(None, |_| Vec::new());
	assert!(report.challenge_ok);
}

#[test]
fn evaluate_retrieval_checks_the_piece_against_the_root() {
	let (data, check) = stored_slot(0, 3);
	let good = piece_body(&data, 3);
	let answer = |status: u16, latency_ms: u32, body: Vec<u8>| {
		evaluate_retrieval(Observation::Response { status, latency_ms, body }, &check, 1_100)
	};
	assert_eq!(answer(200, 40, good.clone()), (true, 40));
	// The last piece is short: the proof of any other piece has the wrong length or path.
	assert_eq!(answer(200, 40, piece_body(&data, 0)), (false, 40));
	// One byte of the piece changed.
	let mut proof = PieceProof::decode(&mut &good[..]).unwrap();
	proof.piece[0] ^= 1;
	assert_eq!(answer(200, 40, proof.encode()), (false, 40));
	// A sibling dropped from the path.
	let mut proof = PieceProof::decode(&mut &good[..]).unwrap();
	proof.path.pop();
	assert_eq!(answer(200, 40, proof.encode()), (false, 40));
	// Trailing bytes, an empty body, a body longer than any proof.
	let mut trailing = good.clone();
	trailing.push(0);
	assert_eq!(answer(200, 40, trailing), (false, 40));
	assert_eq!(answer(200, 40, Vec::new()), (false, 40));
	assert_eq!(answer(200, 40, vec![0u8; PieceProof::max_encoded_len() + 1]), (false, 40));
	// Not served: an error status or no answer counts the worst latency.
	for status in [404, 500, 503] {
		assert_eq!(answer(status, 40, good.clone()), (false, 1_100));
	}
	assert_eq!(evaluate_retrieval(Observation::Unreachable, &check, 1_100), (false, 1_100));
	// The largest proof (a whole piece, the deepest path) is exactly the bound.
	let largest = PieceProof {
		piece: vec![7u8; 256].try_into().unwrap(),
		path: vec![[1u8; 32]; 31].try_into().unwrap(),
	};
	assert_eq!(largest.encode().len(), PieceProof::max_encoded_len());
}
