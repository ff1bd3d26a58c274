//! The off-chain worker of a verifier: probe the targets it was drawn for, commit to the
//! reports in the commit window and reveal them in the reveal window.
//!
//! It runs on every node, every block, and does something only where the keystore holds `dsyn`
//! keys ([`DsyncAuthId`](dsync_primitives::offchain::DsyncAuthId)) registered as the off-chain
//! key of a validator node. For each such key and each target of the current epoch it verifies:
//!
//! - **Commit window**, no commitment on chain: without a local record it probes the target
//!   ([`fetch`], then the pure [`evaluate`]), draws a salt from the node's randomness, stores
//!   a [`LocalReport`] in persistent local storage under
//!   [`local_key`] and submits `commit_report` signed by the key; with a local record whose
//!   commitment was sent at least [`RESUBMIT_AFTER_BLOCKS`] blocks ago (and is still not on
//!   chain) it submits it again.
//! - **Reveal window**, a commitment on chain and no report: it submits `reveal_report` with
//!   the local record (again after [`RESUBMIT_AFTER_BLOCKS`] blocks if needed); once the report
//!   is on chain the local record is cleared.
//!
//! A target that holds storage slots must also serve a piece of one of them, fetched from its
//! endpoint and checked against the slot's root on chain ([`fetch_piece`],
//! [`evaluate_retrieval`]): storage that the chain sees proven but nobody can download fails
//! the challenge ([`Pallet::probe`]).
//!
//! Every probe is signed with the verifier's key ([`sign_probe`], the headers of
//! [`ProbeAuth`]), so the node's endpoint answers it from the verifiers' own budget, whatever
//! floods its anonymous limits. A busy answer (`429`, `503`: [`is_busy`]) is no report at first:
//! the worker commits nothing and probes again at its next run, until the first half of the
//! commit window is over ([`Pallet::busy_retry_open`]); after that it counts as a failed probe,
//! so the verifier still commits in time ([`Pallet::probe`]).
//!
//! Every write of the local record is a compare-and-set of the record read before, so two
//! overlapping runs of the worker never submit the same transaction twice. The HTTP exchange,
//! the signed submission and the local-storage key are the shared ones of
//! [`dsync_primitives::offchain`]. Probes made and reports sent are counted in the node's metrics
//! ([`dsync_primitives::worker_metrics`]).

use crate::{
	Assignments, BalanceOf, Call, Config, Epoch, LocalReport, Pallet, Params, Phase, ProbeReport,
	ProofOfSyncParams, RetrievalCheck, StorageRetrieval, Targets, LOG_TARGET,
};
use alloc::vec::Vec;
use codec::{DecodeAll, Encode, MaxEncodedLen};
use dsync_primitives::{
	offchain::{http_get_with_headers, local_storage_key, submit_signed, SubmitError},
	probe::{
		is_valid_endpoint, probe_url, ProbeAnswer, SignedProbeAnswer, MAX_PROBE_RESPONSE_BYTES,
	},
	storage::{
		api::proof_path,
		pieces::{verify_piece, PieceProof},
	},
	traits::NodeRegistry,
	worker_metrics,
};
use frame_system::{
	offchain::{Account, Signer},
	pallet_prelude::BlockNumberFor,
};
use sp_core::{sr25519, H256};
use sp_runtime::{
	offchain::storage::{StorageRetrievalError, StorageValueRef},
	traits::Saturating,
	SaturatedConversion,
};

// What a probe request produced: the shared HTTP observation, re-exported where the worker's
// users look for it.
pub use dsync_primitives::offchain::Observation;
// What authenticates a probe (the verifier's key, block and signature), likewise.
pub use dsync_primitives::probe_auth::ProbeAuth;

/// How long a probe may take, request and body together, in milliseconds.
pub const PROBE_TIMEOUT_MS: u64 = 2_000;

/// Blocks after which a commitment or reveal that is not on chain yet is submitted again.
pub const RESUBMIT_AFTER_BLOCKS: u32 = 3;

/// The prefix of the local-storage keys of [`LocalReport`]s.
pub const LOCAL_PREFIX: &[u8] = b"dsync/pos/";

/// The persistent local-storage key of the report of `verifier` on `node` in `epoch`:
/// `b"dsync/pos/" ++ SCALE((epoch, node, verifier))` ([`local_storage_key`]).
pub fn local_key<AccountId: Encode>(epoch: u32, node: &AccountId, verifier: &AccountId) -> Vec<u8> {
	local_storage_key(LOCAL_PREFIX, &(epoch, node, verifier))
}

/// What [`evaluate`] checks an observation against.
pub struct ProbeContext<'a> {
	/// The target's challenge seed of this epoch.
	pub seed: [u8; 32],
	/// The target's registered off-chain key, if it is an sr25519 key.
	pub node_key: Option<sr25519::Public>,
	/// The verifier's current block number.
	pub current_block: u32,
	/// The latency reported for a node that did not answer.
	pub max_latency_ms: u32,
	/// The lag reported for a node that did not answer properly.
	pub max_lag: u32,
	/// Whether the block `number` of this chain has hash `hash` (asked only for blocks before
	/// `current_block`).
	pub is_canonical: &'a dyn Fn(u32, &H256) -> bool,
}

/// Turn what a probe observed into a report. Pure, so tests call it with any observation.
/// ([`Pallet::probe`] keeps a busy answer, [`is_busy`], from it while it retries; a refused
/// fetch, [`Observation::Refused`], is down like no response.)
///
/// - No response or a status other than 200: *down*: not available, challenge failed, latency
///   `max_latency_ms`, lag `max_lag`, no evidence.
/// - A body longer than `MAX_PROBE_RESPONSE_BYTES` or not exactly one SCALE-encoded
///   [`SignedProbeAnswer`]: *malformed*: available, challenge failed, the measured latency, lag
///   `max_lag`, no evidence.
/// - Otherwise: available, the measured latency, lag `current_block - best_number` (saturating)
///   and the answer as evidence (even with a bad signature: the runtime ignores evidence it
///   cannot verify). The challenge passes when the signature is valid for the node's key, the
///   seed is echoed, the compute result is right, and the best and finalised blocks are
///   believable ([`heads_are_believable`]).
pub fn evaluate(observation: Observation, ctx: &ProbeContext<'_>) -> ProbeReport {
	let down = ProbeReport {
		available: false,
		challenge_ok: false,
		latency_ms: ctx.max_latency_ms,
		sync_lag: ctx.max_lag,
		evidence: None,
	};
	let (latency_ms, body) = match observation {
		Observation::Response { status: 200, latency_ms, body } => (latency_ms, body),
		_ => return down,
	};
	let malformed = ProbeReport {
		available: true,
		challenge_ok: false,
		latency_ms,
		sync_lag: ctx.max_lag,
		evidence: None,
	};
	if body.len() > MAX_PROBE_RESPONSE_BYTES {
		return malformed;
	}
	let Ok(signed) = SignedProbeAnswer::decode_all(&mut &body[..]) else { return malformed };

	let answer = &signed.answer;
	let signature_ok = ctx.node_key.as_ref().is_some_and(|key| signed.signature_is_valid(key));
	let on_chain = heads_are_believable(answer, ctx);
	let challenge_ok =
		signature_ok && answer.seed == ctx.seed && answer.compute_is_correct() && on_chain;
	let sync_lag = ctx.current_block.saturating_sub(answer.best_number);
	ProbeReport { available: true, challenge_ok, latency_ms, sync_lag, evidence: Some(signed) }
}

/// Whether the best and finalised blocks of an answer can be those of a node following this
/// chain, as far as the verifier can tell from its own view at `current_block`:
///
/// - a block before `current_block` must be the block of this chain at that height (best and
///   finalised alike), so a node cannot claim a recent height with a made-up hash;
/// - the best block may be at most one block ahead of the verifier (a block imported by the
///   node while the probe was under way), whose hash cannot be checked yet; anything further
///   ahead cannot exist;
/// - the finalised block is not after the best block.
pub fn heads_are_believable(answer: &ProbeAnswer, ctx: &ProbeContext<'_>) -> bool {
	let known =
		|number: u32, hash: &H256| number >= ctx.current_block || (ctx.is_canonical)(number, hash);
	answer.best_number <= ctx.current_block.saturating_add(1)
		&& answer.finalized_number <= answer.best_number
		&& known(answer.best_number, &answer.best_hash)
		&& known(answer.finalized_number, &answer.finalized_hash)
}

/// Probe `endpoint` with `seed`: `GET {endpoint}/dsync/probe/{seed}` with a deadline of
/// [`PROBE_TIMEOUT_MS`], reading at most `MAX_PROBE_RESPONSE_BYTES + 1` bytes of the body of a
/// `200 OK` answer, with the three headers of `auth` when there is one (an authenticated probe,
/// [`dsync_primitives::probe_auth`]; [`http_get_with_headers`]). An invalid endpoint is
/// [`Observation::Unreachable`].
///
/// The latency is measured with the off-chain clock around the request and the body.
pub fn fetch(endpoint: &[u8], seed: &[u8; 32], auth: Option<&ProbeAuth>) -> Observation {
	if !is_valid_endpoint(endpoint) {
		return Observation::Unreachable;
	}
	let url = probe_url(endpoint, seed);
	let Ok(url) = core::str::from_utf8(&url) else { return Observation::Unreachable };
	let values = auth.map(ProbeAuth::header_values);
	let headers: Vec<(&str, &str)> =
		values.iter().flatten().map(|(name, value)| (*name, value.as_str())).collect();
	http_get_with_headers(url, &headers, MAX_PROBE_RESPONSE_BYTES, PROBE_TIMEOUT_MS)
}

/// The authentication of the probe of the node whose registered off-chain key is `target`, with
/// `seed`, at the verifier's block `block`: the local `dsyn` key `verifier`'s signature of
/// [`request_signing_payload`](dsync_primitives::probe_auth::request_signing_payload). `None`
/// when the keystore cannot sign with `verifier`.
pub fn sign_probe(
	verifier: &sr25519::Public,
	target: &sr25519::Public,
	block: u32,
	seed: &[u8; 32],
) -> Option<ProbeAuth> {
	let payload = dsync_primitives::probe_auth::request_signing_payload(target, block, seed);
	let signature =
		sp_io::crypto::sr25519_sign(dsync_primitives::probe::KEY_TYPE, verifier, &payload)?;
	Some(ProbeAuth { key: *verifier, block, signature })
}

/// The seed of the retrieval check of a target whose challenge seed this epoch is `seed`:
/// `blake2_256("dsync/pos/retrieval" ++ seed)`. Every verifier of the target checks the same
/// piece, so their verdicts agree on what the target served.
pub fn retrieval_seed(seed: &[u8; 32]) -> [u8; 32] {
	let mut preimage = b"dsync/pos/retrieval".to_vec();
	preimage.extend_from_slice(seed);
	sp_io::hashing::blake2_256(&preimage)
}

/// Fetch the piece of `check` from `endpoint`: `GET {endpoint}{proof_path(order, slot, piece)}`
/// (the provider's storage endpoints share its probe endpoint), anonymous, with the probe's
/// deadline, at most one byte more of body than the largest proof (`PieceProof::max_encoded_len`).
pub fn fetch_piece(endpoint: &[u8], check: &RetrievalCheck) -> Observation {
	if !is_valid_endpoint(endpoint) {
		return Observation::Unreachable;
	}
	let Ok(base) = core::str::from_utf8(endpoint) else { return Observation::Unreachable };
	let url = alloc::format!(
		"{}{}",
		base.trim_end_matches('/'),
		proof_path(check.order, check.slot, check.piece)
	);
	http_get_with_headers(&url, &[], PieceProof::max_encoded_len(), PROBE_TIMEOUT_MS)
}

/// Whether what a piece fetch observed is the piece of `check`, and how long it took (in
/// milliseconds, `max_latency_ms` without an answer). Pure, like [`evaluate`]. It passes only
/// for a `200 OK` whose body is exactly one SCALE [`PieceProof`] that verifies against the
/// slot's root and length on chain ([`verify_piece`]): a provider that lost the piece, serves
/// other bytes, or does not answer fails.
pub fn evaluate_retrieval(
	observation: Observation,
	check: &RetrievalCheck,
	max_latency_ms: u32,
) -> (bool, u32) {
	let Observation::Response { status: 200, latency_ms, body } = observation else {
		return (false, max_latency_ms);
	};
	let passed = body.len() <= PieceProof::max_encoded_len()
		&& PieceProof::decode_all(&mut &body[..])
			.is_ok_and(|proof| verify_piece(&check.root, check.len, check.piece, &proof).is_ok());
	(passed, latency_ms)
}

/// The statuses of an endpoint too busy to answer now: `429 Too Many Requests` (a rate limit)
/// and `503 Service Unavailable` (no connection, or no key, to answer with).
pub const BUSY_STATUSES: [u16; 2] = [429, 503];

/// Whether `observation` is a busy answer ([`BUSY_STATUSES`]): the node did not answer now, which
/// is not the same as being down (a flood of anonymous requests causes it).
pub fn is_busy(observation: &Observation) -> bool {
	matches!(observation, Observation::Response { status, .. } if BUSY_STATUSES.contains(status))
}

impl<T: Config> Pallet<T> {
	/// The off-chain worker's run at block `now`.
	pub(crate) fn run_offchain_worker(now: BlockNumberFor<T>) {
		let info = Epoch::<T>::get();
		if !matches!(info.phase, Phase::Assigning { .. } | Phase::Collecting) {
			return;
		}
		let params = Params::<T>::get();
		let in_commit = Self::in_commit_window(&info, &params, now);
		let in_reveal = Self::in_reveal_window(&info, &params, now);
		if !in_commit && !in_reveal {
			return;
		}
		let now: u32 = now.saturated_into();
		let targets = Targets::<T>::get();

		for account in Signer::<T, T::AuthorityId>::keystore_accounts() {
			let Some(verifier) = T::Registry::node_of_key(&account.id) else { continue };
			for node in targets.iter() {
				let Some(assignment) = Assignments::<T>::get(node) else { continue };
				if assignment.epoch != info.index {
					continue;
				}
				let Some(slot) = assignment.slots.iter().find(|slot| slot.verifier == verifier)
				else {
					continue;
				};
				let key = local_key(info.index, node, &verifier);
				match (slot.commitment, slot.report.is_some()) {
					(None, _) if in_commit => {
						Self::commit_offchain(now, &params, &account, node, &assignment.seed, &key)
					},
					(Some(commitment), false) if in_reveal => {
						Self::reveal_offchain(now, &account, node, commitment, &key)
					},
					(Some(_), true) => StorageValueRef::persistent(&key).clear(),
					_ => {},
				}
			}
		}
	}

	/// Probe `node` with `seed` as the verifier whose `dsyn` key is `verifier` (as an account id,
	/// like the keystore's accounts) and turn what it observed into a report; `None` when there is
	/// nothing to report (yet):
	///
	/// - the request is signed with `verifier`'s key for the node's registered key, this block and
	///   `seed` ([`sign_probe`]), so the node answers it from the verifiers' own budget; it goes
	///   unsigned only when the node's key is not an sr25519 key or the keystore cannot sign;
	/// - a busy answer ([`is_busy`]: `429`, `503`) is no report while
	///   [`Pallet::busy_retry_open`]: the worker commits nothing and probes again at its next run,
	///   with a new signature; later it goes to [`evaluate`] like any status other than 200
	///   (down), so the verifier still commits in time and is not absent;
	/// - [`Observation::Refused`] (the endpoint's host is not public: loopback, private,
	///   link-local, metadata, without the operator's `--allow-private-fetch`): [`evaluate`]
	///   takes it as down: a node the network cannot reach is down for it, and its verifiers
	///   still report in time (were it no report, a node could register a private endpoint to
	///   have its verifiers penalised as absent);
	/// - anything else: [`evaluate`].
	///
	/// A storage provider (one that holds a slot, [`StorageRetrieval::retrieval_check`] with
	/// [`retrieval_seed`]) whose probe passed must then serve one piece of it: [`fetch_piece`],
	/// judged by [`evaluate_retrieval`]. A busy answer is retried like the probe's; a piece that
	/// is missing or does not verify fails the challenge (`challenge_ok` false), and the report's
	/// latency is the slower of the two requests. Retrievability thus weighs in the target's
	/// pass rate and latency like the probe itself, through the same majority verdict (every
	/// verifier of the target checks the same piece).
	pub fn probe(
		node: &T::AccountId,
		seed: &[u8; 32],
		params: &ProofOfSyncParams<BalanceOf<T>>,
		verifier: &T::AccountId,
	) -> Option<ProbeReport> {
		let summary = T::Registry::node(node);
		let endpoint = summary.as_ref().map(|summary| summary.endpoint.clone()).unwrap_or_default();
		let node_key =
			summary.as_ref().and_then(|summary| Self::sr25519_key(&summary.offchain_key));
		let current_block: u32 = frame_system::Pallet::<T>::block_number().saturated_into();
		let auth = match (Self::sr25519_key(verifier), node_key.as_ref()) {
			(Some(verifier), Some(target)) => sign_probe(&verifier, target, current_block, seed),
			_ => None,
		};
		let observation = fetch(&endpoint, seed, auth.as_ref());
		worker_metrics::POS_PROBES.inc();
		if is_busy(&observation) && Self::busy_retry_open(params) {
			return None;
		}
		let is_canonical = |number: u32, hash: &H256| -> bool {
			let known = frame_system::BlockHash::<T>::get(BlockNumberFor::<T>::from(number));
			known.as_ref() == hash.as_bytes()
		};
		let ctx = ProbeContext {
			seed: *seed,
			node_key,
			current_block,
			max_latency_ms: params.max_latency_ms,
			max_lag: params.max_lag,
			is_canonical: &is_canonical,
		};
		let mut report = evaluate(observation, &ctx);
		// A storage provider that passed the probe must also serve a piece of what it holds.
		if report.challenge_ok {
			if let Some(check) = T::Storage::retrieval_check(node, &retrieval_seed(seed)) {
				let observation = fetch_piece(&endpoint, &check);
				if is_busy(&observation) && Self::busy_retry_open(params) {
					return None;
				}
				let (passed, latency_ms) =
					evaluate_retrieval(observation, &check, params.max_latency_ms);
				let counter = if passed {
					worker_metrics::POS_RETRIEVAL_PASSED
				} else {
					worker_metrics::POS_RETRIEVAL_FAILED
				};
				counter.inc();
				report.challenge_ok = passed;
				report.latency_ms = report.latency_ms.max(latency_ms);
			}
		}
		Some(report)
	}

	/// Whether a busy answer is still retried rather than reported: before
	/// `start + half_length / 2`, the first half of the commit window. The rest of the window
	/// leaves the verifier's commitment time to land (and to be resubmitted).
	pub fn busy_retry_open(params: &ProofOfSyncParams<BalanceOf<T>>) -> bool {
		let start = Epoch::<T>::get().start;
		let retry: BlockNumberFor<T> = (params.half_length() / 2).into();
		frame_system::Pallet::<T>::block_number() < start.saturating_add(retry)
	}

	/// Commit window, no commitment on chain: probe and commit, or resubmit the commitment.
	fn commit_offchain(
		now: u32,
		params: &ProofOfSyncParams<BalanceOf<T>>,
		account: &Account<T>,
		node: &T::AccountId,
		seed: &[u8; 32],
		key: &[u8],
	) {
		let store = StorageValueRef::persistent(key);
		let previous = store.get::<LocalReport>().ok().flatten();
		let record = match previous.clone() {
			Some(record) if now < record.commit_sent_at.saturating_add(RESUBMIT_AFTER_BLOCKS) => {
				return
			},
			Some(record) => LocalReport { commit_sent_at: now, ..record },
			None => {
				// Nothing to report yet (a busy node): no record, the next run probes again.
				let Some(report) = Self::probe(node, seed, params, &account.id) else { return };
				LocalReport {
					report,
					salt: sp_io::offchain::random_seed(),
					commit_sent_at: now,
					reveal_sent_at: None,
				}
			},
		};
		if !Self::replace_record(&store, previous, record.clone()) {
			return;
		}
		let Some(commitment) =
			Self::report_commitment(&account.id, node, &record.report, &record.salt)
		else {
			return;
		};
		Self::submit(account, Call::commit_report { node: node.clone(), commitment });
	}

	/// Reveal window, a commitment on chain and no report: reveal the local record.
	fn reveal_offchain(
		now: u32,
		account: &Account<T>,
		node: &T::AccountId,
		commitment: H256,
		key: &[u8],
	) {
		let store = StorageValueRef::persistent(key);
		let Ok(Some(record)) = store.get::<LocalReport>() else { return };
		if Self::report_commitment(&account.id, node, &record.report, &record.salt)
			!= Some(commitment)
		{
			log::warn!(target: LOG_TARGET, "local report on {node:?} differs from its commitment");
			return;
		}
		if record
			.reveal_sent_at
			.is_some_and(|at| now < at.saturating_add(RESUBMIT_AFTER_BLOCKS))
		{
			return;
		}
		let updated = LocalReport { reveal_sent_at: Some(now), ..record.clone() };
		if !Self::replace_record(&store, Some(record.clone()), updated) {
			return;
		}
		Self::submit(
			account,
			Call::reveal_report { node: node.clone(), report: record.report, salt: record.salt },
		);
	}

	/// Write `record` where `previous` was read; false (nothing written) if another run of the
	/// worker changed it in between.
	fn replace_record(
		store: &StorageValueRef<'_>,
		previous: Option<LocalReport>,
		record: LocalReport,
	) -> bool {
		store
			.mutate(|current: Result<Option<LocalReport>, StorageRetrievalError>| match current {
				Ok(current) if current == previous => Ok(record),
				_ => Err(()),
			})
			.is_ok()
	}

	/// Submit `call` signed by `account`'s key ([`submit_signed`]); commitments and reveals the
	/// pool accepts are counted in the worker's metrics.
	fn submit(account: &Account<T>, call: Call<T>) {
		let counter = match &call {
			Call::commit_report { .. } => Some(worker_metrics::POS_COMMITTED),
			Call::reveal_report { .. } => Some(worker_metrics::POS_REVEALED),
			_ => None,
		};
		match submit_signed::<T, T::AuthorityId, _>(account, call) {
			Ok(()) => counter.into_iter().for_each(worker_metrics::Counter::inc),
			Err(SubmitError::Refused) => {
				log::warn!(target: LOG_TARGET, "the transaction pool refused a report")
			},
			Err(SubmitError::NoSigner) => {
				log::warn!(target: LOG_TARGET, "no local key can sign for {:?}", account.id)
			},
		}
	}
}
