//! The off-chain worker of a GPU provider: compute the results of its assigned jobs with the
//! local `aivm` inference server, commit to them in the commit window and reveal them once
//! reveals open.
//!
//! It runs on every node, every block, and does something only where the keystore holds `dsyn`
//! keys ([`DsyncAuthId`](dsync_primitives::offchain::DsyncAuthId)) registered as the off-chain
//! key of a node ([`ProviderSource::owner_of_key`]). For each such key it walks the provider's
//! open jobs ([`ProviderJobs`]) and:
//!
//! - **no commitment on chain, commit window open** (checked for the next block, where the
//!   transaction lands): without a local result, it computes one ([`Pallet::infer`]: the inline
//!   input, or the batch downloaded and checked against its hash, posted to
//!   `{aivm_url}/v1/infer/binary`; the result is [`outputs_root`](crate::outputs_root) of the
//!   outputs), draws a salt and submits `commit_result`. At
//!   most [`MAX_INFERENCES_PER_RUN`] inferences per key and run, and none after one that got no
//!   answer ([`InferenceError::Unreachable`]). A failed inference is recorded and
//!   tried again [`RETRY_AFTER_BLOCKS`] blocks later; a commitment that is still not on chain
//!   [`RESUBMIT_AFTER_BLOCKS`] blocks after it was sent is sent again;
//! - **a commitment on chain, no result, reveals open**: it submits `reveal_result` with the local
//!   result and salt (again after [`RESUBMIT_AFTER_BLOCKS`] blocks if needed);
//! - **a one-item job concluded on another result than the one it revealed**, challenge window
//!   open: it challenges the majority once with `resolve_by_execution` (the item is its own
//!   leaf: no claim is needed). Never twice: a failed challenge costs its fee;
//! - **a job of several items and providers with its result on chain**: it keeps the record
//!   ([`LocalJob::Revealed`]) and the result's leaves (under [`leaves_key`], stored when it
//!   computed the result) while the job is open. While its result can still be paid and open
//!   challenges ([`Standing`]) and another result stands in its way (a payable majority other
//!   than it; without one, any other payable result), window open, it opens a `challenge`
//!   (again after [`RESUBMIT_AFTER_BLOCKS`] blocks while still in the way, so it plays one walk
//!   of the tournament after another); another pair's challenge in the way is taken over once
//!   its round ended undecided. While the job is challenged with its result as one side, it
//!   sends that side's nodes for each round once (again after [`RESUBMIT_AFTER_BLOCKS`] blocks
//!   if they are not on chain), before the round ends; at the item, on either side, it
//!   downloads the batch again and sends `resolve_by_execution` with the item's input and
//!   proof, once per walk;
//! - **a one-item job's result on chain otherwise, or the job gone**: it forgets the local
//!   record, and drops the leaves of a job that is gone.
//!
//! The local records of a provider are one map ([`LocalJob`] by job) in persistent local
//! storage under [`local_key`]. The worker reads it, decides, writes it back with a
//! compare-and-set against what it read, and submits its transactions only if that write
//! succeeded, so two overlapping runs never submit the same transaction twice.
//!
//! The HTTP exchanges, the signed submission and the local-storage keys are the shared ones of
//! [`dsync_primitives::offchain`]. No HTTP outcome panics: every failure becomes an
//! [`InferenceError`]. The crate documentation describes the HTTP contract.

use crate::{
	challenge_slice, commitment_of, input_leaf, inputs_root, BatchItem, Call, Challenge,
	Challenges, Config, Job, JobId, JobInput, JobStatus, JobVerdicts, Jobs, LocalJob, Models,
	Pallet, ProviderJobs, ProviderSource, LOG_TARGET,
};
use alloc::{
	collections::{btree_map::BTreeMap, btree_set::BTreeSet},
	string::String,
	vec::Vec,
};
use dsync_aivm_core::{batch_merkle_root, batch_result_hashes, merkle_level, merkle_proof};
use dsync_primitives::{
	convert::u32_to_usize,
	hex,
	offchain::{http_get, http_post_binary, local_storage_key, submit_signed, SubmitError},
};
use frame_support::BoundedVec;
use frame_system::{
	offchain::{Account, Signer},
	pallet_prelude::BlockNumberFor,
};
use sp_core::{offchain::StorageKind, H256};
use sp_runtime::{
	offchain::storage::{StorageRetrievalError, StorageValueRef},
	SaturatedConversion, Saturating,
};

// The local-storage key of the `aivm` server's URL and what an HTTP request produced: the
// shared ones, re-exported where the worker's users look for them.
pub use dsync_primitives::offchain::{Observation, AIVM_URL_KEY};

/// The `aivm` server's base URL when none is configured.
pub const DEFAULT_AIVM_URL: &str = "http://127.0.0.1:8710";

/// The inference endpoint, after the base URL: `aivm`'s binary batch endpoint (raw `i8` items
/// in, raw little-endian `i32` outputs back), which costs the worker no JSON encoding or parsing
/// in the runtime for batches of thousands of items.
pub const INFER_PATH: &str = "/v1/infer/binary";

/// How long one HTTP exchange (a batch download or an inference) may take, request and body
/// together, in milliseconds.
pub const HTTP_TIMEOUT_MS: u64 = 10_000;

/// The longest inference answer read, in bytes; a longer one is malformed.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// Blocks after which a commitment or reveal that is not on chain yet is submitted again.
pub const RESUBMIT_AFTER_BLOCKS: u32 = 3;

/// Blocks after which a failed inference is tried again.
pub const RETRY_AFTER_BLOCKS: u32 = 2;

/// The most inferences one run of the worker starts per key: a block's share of batch jobs for
/// a busy provider (64 jobs of up to 16,384 items). After the first inference that gets no
/// answer (the server or a batch host is down or hangs) the run starts no more, so a dead
/// server costs one [`HTTP_TIMEOUT_MS`] per run, not one per job.
pub const MAX_INFERENCES_PER_RUN: u32 = 64;

/// The prefix of the local-storage keys of the records.
pub const LOCAL_PREFIX: &[u8] = b"dsync/gpu-jobs/";

/// A provider's local records: what it knows about each of its open jobs.
pub type LocalJobs = BTreeMap<JobId, LocalJob>;

/// The persistent local-storage key of `provider`'s records:
/// `b"dsync/gpu-jobs/" ++ SCALE(provider)` ([`local_storage_key`]).
pub fn local_key<AccountId: codec::Encode>(provider: &AccountId) -> Vec<u8> {
	local_storage_key(LOCAL_PREFIX, provider)
}

/// The prefix of the local-storage keys of the leaves a provider keeps for its results.
pub const LEAVES_PREFIX: &[u8] = b"dsync/gpu-jobs/leaves/";

/// The persistent local-storage key of `provider`'s leaves for `job`:
/// `b"dsync/gpu-jobs/leaves/" ++ SCALE((provider, job))`. The value is the SCALE-encoded
/// `Vec<[u8; 32]>` of the items' `result_hash`es: 32 bytes per item (512 KiB for 16,384 items).
pub fn leaves_key<AccountId: codec::Encode>(provider: &AccountId, job: JobId) -> Vec<u8> {
	local_storage_key(LEAVES_PREFIX, &(provider, job))
}

/// The leaves `provider` kept for `job`, if any.
pub fn stored_leaves<AccountId: codec::Encode>(
	provider: &AccountId,
	job: JobId,
) -> Option<Vec<[u8; 32]>> {
	StorageValueRef::persistent(&leaves_key(provider, job))
		.get::<Vec<[u8; 32]>>()
		.ok()
		.flatten()
}

/// Why a job's result could not be computed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum InferenceError {
	/// The job's model is not registered (it cannot happen for an open job).
	UnknownModel,
	/// The `aivm` URL or the batch URL is not usable.
	InvalidUrl,
	/// No answer in time (connection refused, timeout).
	Unreachable,
	/// An answer with a status other than `200 OK`.
	Status(u16),
	/// An answer longer than the limit.
	TooLarge,
	/// An answer that is not `items × output_len` values of 4 bytes.
	WrongShape,
	/// A batch whose length or hash does not match the job.
	InputMismatch,
}

/// The inference endpoint of the server at `base` for the model with id `model_hash`: `base`
/// without trailing slashes, [`INFER_PATH`], then `?model=0x…` (the 64 lowercase hex digits of
/// the hash). `None` unless `base` is an `http(s)://` URL in UTF-8.
pub fn infer_url(base: &[u8], model_hash: &H256) -> Option<String> {
	let mut base = core::str::from_utf8(base).ok()?.trim();
	while let Some(stripped) = base.strip_suffix('/') {
		base = stripped;
	}
	if !crate::is_valid_url(base.as_bytes()) {
		return None;
	}
	let mut url = String::from(base);
	url.push_str(INFER_PATH);
	url.push_str("?model=");
	url.push_str(&hex::encode_0x(model_hash.as_bytes()));
	Some(url)
}

/// The configured base URL of the `aivm` server: the raw bytes under [`AIVM_URL_KEY`] in
/// persistent local storage, or [`DEFAULT_AIVM_URL`].
pub fn aivm_url() -> Vec<u8> {
	sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, AIVM_URL_KEY)
		.filter(|url| !url.is_empty())
		.unwrap_or_else(|| DEFAULT_AIVM_URL.as_bytes().to_vec())
}

/// The body of an inference request: every value of `inputs` (the items back to back) as its
/// two's-complement byte.
pub fn request_body(inputs: &[i8]) -> Vec<u8> {
	inputs.iter().map(|value| value.to_le_bytes()[0]).collect()
}

/// Turn the answer of the inference server into the job's result. Pure, so tests call it with
/// any observation.
///
/// The answer must be `200 OK`, at most [`MAX_RESPONSE_BYTES`], and exactly `items ×
/// output_len` little-endian `i32` values (4 bytes each), item after item. The result is
/// [`outputs_root`](crate::outputs_root) of the outputs, computed here: hashes sent by the
/// server are never used.
pub fn evaluate_response(
	observation: Observation,
	items: usize,
	output_len: usize,
) -> Result<H256, InferenceError> {
	evaluate_leaves(observation, items, output_len).map(|leaves| H256(batch_merkle_root(&leaves)))
}

/// As [`evaluate_response`], but the items' `result_hash`es (the leaves of the result's tree),
/// which a provider keeps to answer a challenge.
pub fn evaluate_leaves(
	observation: Observation,
	items: usize,
	output_len: usize,
) -> Result<Vec<[u8; 32]>, InferenceError> {
	let body = match observation {
		// `http_post_binary` never refuses; treat it as no answer.
		Observation::Unreachable | Observation::Refused => return Err(InferenceError::Unreachable),
		Observation::Response { status: 200, body, .. } => body,
		Observation::Response { status, .. } => return Err(InferenceError::Status(status)),
	};
	if body.len() > MAX_RESPONSE_BYTES {
		return Err(InferenceError::TooLarge);
	}
	let expected = items.checked_mul(output_len).and_then(|values| values.checked_mul(4));
	if output_len == 0 || expected != Some(body.len()) {
		return Err(InferenceError::WrongShape);
	}
	let (values, _) = body.as_chunks::<4>();
	let outputs: Vec<i32> = values.iter().map(|bytes| i32::from_le_bytes(*bytes)).collect();
	Ok(batch_result_hashes(&outputs, output_len))
}

/// Download a batch of `items` items of `input_len` values from `url` (`GET`, within
/// [`HTTP_TIMEOUT_MS`]) and check it against `inputs_hash`.
pub fn fetch_batch(
	url: &[u8],
	items: usize,
	input_len: usize,
	inputs_hash: &H256,
) -> Result<Vec<i8>, InferenceError> {
	let url = core::str::from_utf8(url).map_err(|_| InferenceError::InvalidUrl)?;
	let expected = items.checked_mul(input_len).ok_or(InferenceError::TooLarge)?;
	let body = match http_get(url, expected, HTTP_TIMEOUT_MS) {
		Observation::Unreachable => return Err(InferenceError::Unreachable),
		// A host that is not public (loopback, private, link-local, metadata) without the
		// operator's `--allow-private-fetch`: the batch is unavailable, nothing was fetched.
		Observation::Refused => return Err(InferenceError::InvalidUrl),
		Observation::Response { status: 200, body, .. } => body,
		Observation::Response { status, .. } => return Err(InferenceError::Status(status)),
	};
	if body.len() != expected {
		return Err(InferenceError::InputMismatch);
	}
	let inputs: Vec<i8> = body.iter().map(|byte| i8::from_le_bytes([*byte])).collect();
	if inputs_root(&inputs, input_len) != *inputs_hash {
		return Err(InferenceError::InputMismatch);
	}
	Ok(inputs)
}

impl<T: Config> Pallet<T> {
	/// The off-chain worker's run at block `now`.
	pub(crate) fn run_offchain_worker(now: BlockNumberFor<T>) {
		let mut base: Option<Vec<u8>> = None;
		for account in Signer::<T, T::AuthorityId>::keystore_accounts() {
			let Some(provider) = T::Providers::owner_of_key(&account.id) else { continue };
			let url = base.get_or_insert_with(aivm_url);
			Self::serve(now, &account, &provider, url.as_slice());
		}
	}

	/// Compute the leaves of `job`'s result (the items' `result_hash`es; the result is their
	/// Merkle root) with the `aivm` server at `base`.
	pub fn infer(job: &Job<T>, base: &[u8]) -> Result<Vec<[u8; 32]>, InferenceError> {
		let model = Models::<T>::get(job.model).ok_or(InferenceError::UnknownModel)?;
		let url = infer_url(base, &model.hash).ok_or(InferenceError::InvalidUrl)?;
		let inputs = Self::job_inputs(job, u32_to_usize(model.input_len))?;
		evaluate_leaves(
			http_post_binary(&url, request_body(&inputs), MAX_RESPONSE_BYTES, HTTP_TIMEOUT_MS),
			u32_to_usize(job.items),
			u32_to_usize(model.output_len),
		)
	}

	/// `job`'s inputs (`input_len` values per item): inline, or the batch downloaded and
	/// checked against its hash.
	fn job_inputs(job: &Job<T>, input_len: usize) -> Result<Vec<i8>, InferenceError> {
		match &job.input {
			JobInput::Inline(data) => Ok(data.to_vec()),
			JobInput::Batch { inputs_hash, url, .. } => {
				fetch_batch(url, u32_to_usize(job.items), input_len, inputs_hash)
			},
		}
	}

	/// The transaction that moves `job`'s challenge on for a provider whose result
	/// `revealed` is one of its sides, in a transaction landing at `landing`, with the leaves
	/// the provider kept: its nodes for the round, or (the challenger's side, at the item) the
	/// re-execution. `state` is the provider's record, updated when a call is returned.
	#[allow(clippy::too_many_arguments)]
	fn advance_challenge(
		id: JobId,
		job: &Job<T>,
		challenge: &Challenge<T::AccountId, BlockNumberFor<T>>,
		provider: &T::AccountId,
		revealed: H256,
		state: &mut LocalJob,
		block: u32,
		landing: BlockNumberFor<T>,
	) -> Option<Call<T>> {
		let LocalJob::Revealed { nodes_sent, resolve_sent, .. } = state else { return None };
		if landing >= challenge.round_end {
			return None;
		}
		let mine = if revealed == challenge.result {
			&challenge.result_nodes
		} else {
			&challenge.defender_nodes
		};
		match challenge_slice(job.items, challenge.level, challenge.position) {
			Some((level, first, count)) => {
				let due = mine.is_none()
					&& nodes_sent.is_none_or(|(sent_level, at)| {
						sent_level != challenge.level
							|| block >= at.saturating_add(RESUBMIT_AFTER_BLOCKS)
					});
				if !due {
					return None;
				}
				let Some(leaves) = stored_leaves(provider, id) else {
					log::warn!(target: LOG_TARGET, "job {id}: challenged, but no leaves kept");
					return None;
				};
				let nodes: Vec<H256> = merkle_level(&leaves, level)
					.into_iter()
					.skip(u32_to_usize(first))
					.take(u32_to_usize(count))
					.map(H256)
					.collect();
				let nodes = BoundedVec::try_from(nodes).ok()?;
				*nodes_sent = Some((challenge.level, block));
				// Every walk answers nodes before its item: a new walk may ask again.
				*resolve_sent = false;
				Some(Call::reveal_nodes { job: id, result: revealed, nodes })
			},
			// At the item: either side asks for the re-execution, once per walk (it decides
			// both ways: the side it matches is confirmed, the other proven wrong).
			None if !*resolve_sent => {
				let item = u32_to_usize(challenge.position);
				let batch_item = match &job.input {
					JobInput::Inline(_) => None,
					JobInput::Batch { .. } => {
						let input_len =
							u32_to_usize(Models::<T>::get(job.model).map(|m| m.input_len)?);
						let inputs = Self::job_inputs(job, input_len)
							.map_err(|error| {
								log::warn!(
									target: LOG_TARGET,
									"job {id}: no batch for the challenge: {error:?}"
								)
							})
							.ok()?;
						let input_leaves: Vec<[u8; 32]> =
							inputs.chunks_exact(input_len.max(1)).map(input_leaf).collect();
						let proof = merkle_proof(&input_leaves, item)?;
						let input = inputs.chunks_exact(input_len.max(1)).nth(item)?.to_vec();
						Some(BatchItem {
							input: BoundedVec::try_from(input).ok()?,
							proof: BoundedVec::try_from(
								proof.into_iter().map(H256).collect::<Vec<_>>(),
							)
							.ok()?,
						})
					},
				};
				*resolve_sent = true;
				Some(Call::resolve_by_execution {
					job: id,
					item_index: challenge.position,
					batch_item,
					claims: Default::default(),
				})
			},
			None => None,
		}
	}

	/// What a provider's worker does on a job of several items whose result `revealed` is on
	/// chain: challenge, once, a majority on another result or the other result of a dispute
	/// between two, then play the challenge with the leaves it kept. Returns the call to
	/// submit, updating `state`.
	fn defend_or_challenge(
		id: JobId,
		job: &Job<T>,
		provider: &T::AccountId,
		revealed: H256,
		state: &mut LocalJob,
		block: u32,
		landing: BlockNumberFor<T>,
	) -> Option<Call<T>> {
		match job.status {
			JobStatus::Concluded | JobStatus::Disputed => {
				let LocalJob::Revealed { challenge_sent_at, .. } = state else { return None };
				let due = challenge_sent_at
					.is_none_or(|at| block >= at.saturating_add(RESUBMIT_AFTER_BLOCKS));
				if !due || !Self::contested(id, job, revealed) || landing >= job.dispute_end {
					return None;
				}
				Self::open_challenge(id, provider, revealed, challenge_sent_at, block)
			},
			JobStatus::Challenged => {
				let challenge = Challenges::<T>::get(id)?;
				if revealed == challenge.result || revealed == challenge.defender {
					return Self::advance_challenge(
						id, job, &challenge, provider, revealed, state, block, landing,
					);
				}
				// Another pair's challenge: take over once its round ended undecided.
				let LocalJob::Revealed { challenge_sent_at, .. } = state else { return None };
				let due = challenge_sent_at
					.is_none_or(|at| block >= at.saturating_add(RESUBMIT_AFTER_BLOCKS));
				if !due
					|| landing < challenge.round_end
					|| !Self::contested(id, job, revealed)
					|| landing >= job.dispute_end
				{
					return None;
				}
				Self::open_challenge(id, provider, revealed, challenge_sent_at, block)
			},
			_ => None,
		}
	}

	/// Whether a provider whose result `revealed` is on job `id` has a challenge to open: its
	/// result can still be paid and open challenges, and another result stands in its way (a
	/// payable majority other than it, or without one any other payable result: the
	/// tournament goes on until one result is left).
	fn contested(id: JobId, job: &Job<T>, revealed: H256) -> bool {
		let verdicts = JobVerdicts::<T>::get(id).unwrap_or_default();
		let standing = verdicts.of(revealed);
		if !standing.payable() || standing.stalled {
			return false;
		}
		match job.payable_majority(&verdicts) {
			Some(majority) => majority != revealed,
			None => job.payable_results(&verdicts).iter().any(|other| *other != revealed),
		}
	}

	/// `challenge` with `revealed`, recorded as sent at `block`; nothing without the leaves,
	/// since the provider could not play it.
	fn open_challenge(
		id: JobId,
		provider: &T::AccountId,
		revealed: H256,
		challenge_sent_at: &mut Option<u32>,
		block: u32,
	) -> Option<Call<T>> {
		let key = leaves_key(provider, id);
		sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, &key)?;
		*challenge_sent_at = Some(block);
		Some(Call::challenge { job: id, result: revealed })
	}

	/// One provider's pass over its open jobs (see the module documentation).
	fn serve(now: BlockNumberFor<T>, account: &Account<T>, provider: &T::AccountId, base: &[u8]) {
		let key = local_key(provider);
		let mut store = StorageValueRef::persistent(&key);
		let previous = match store.get::<LocalJobs>() {
			Ok(previous) => previous,
			Err(_) => {
				log::warn!(target: LOG_TARGET, "dropping undecodable local job records");
				store.clear();
				None
			},
		};
		let mut records = previous.clone().unwrap_or_default();
		let mut calls: Vec<Call<T>> = Vec::new();
		let mut open = BTreeSet::new();
		let mut inferences = 0u32;
		// Set when an inference got no answer: the run starts no more.
		let mut unreachable = false;
		let block: u32 = now.saturated_into();
		// Transactions land in the next block at the earliest.
		let landing = now.saturating_add(1u32.into());

		for (id, ()) in ProviderJobs::<T>::iter_prefix(provider) {
			let Some(job) = Jobs::<T>::get(id) else { continue };
			let Some(slot) = job.slot(provider) else { continue };
			if let Some(revealed) = slot.result {
				if Self::challengeable(&job) {
					// Kept while the job is open, with its leaves, for a challenge.
					open.insert(id);
					let mut state = match records.get(&id) {
						Some(state @ LocalJob::Revealed { result, .. }) if *result == revealed => {
							state.clone()
						},
						_ => LocalJob::Revealed {
							result: revealed,
							challenge_sent_at: None,
							nodes_sent: None,
							resolve_sent: false,
						},
					};
					if let Some(call) = Self::defend_or_challenge(
						id, &job, provider, revealed, &mut state, block, landing,
					) {
						calls.push(call);
					}
					records.insert(id, state);
				} else if Self::should_challenge(&job, revealed, landing) {
					open.insert(id);
					if !matches!(records.get(&id), Some(LocalJob::Challenged { .. })) {
						records.insert(id, LocalJob::Challenged { sent_at: block });
						calls.push(Call::resolve_by_execution {
							job: id,
							item_index: 0,
							batch_item: None,
							claims: Default::default(),
						});
					}
				}
				continue;
			}
			open.insert(id);
			match slot.commitment {
				None if job.commit_open(landing) => match records.get(&id).cloned() {
					Some(LocalJob::Computed { result, salt, commit_sent_at, reveal_sent_at }) => {
						if block >= commit_sent_at.saturating_add(RESUBMIT_AFTER_BLOCKS) {
							records.insert(
								id,
								LocalJob::Computed {
									result,
									salt,
									commit_sent_at: block,
									reveal_sent_at,
								},
							);
							let commitment = commitment_of(id, provider, &result, &salt);
							calls.push(Call::commit_result { job: id, commitment });
						}
					},
					Some(LocalJob::Failed { retry_at, .. }) if block < retry_at => {},
					failed_or_new => {
						if inferences >= MAX_INFERENCES_PER_RUN || unreachable {
							continue;
						}
						inferences = inferences.saturating_add(1);
						let attempts = match failed_or_new {
							Some(LocalJob::Failed { attempts, .. }) => attempts,
							_ => 0,
						};
						match Self::infer(&job, base) {
							Ok(leaves) => {
								let result = H256(batch_merkle_root(&leaves));
								if Self::challengeable(&job) {
									StorageValueRef::persistent(&leaves_key(provider, id))
										.set(&leaves);
								}
								let salt = sp_io::offchain::random_seed();
								records.insert(
									id,
									LocalJob::Computed {
										result,
										salt,
										commit_sent_at: block,
										reveal_sent_at: None,
									},
								);
								let commitment = commitment_of(id, provider, &result, &salt);
								calls.push(Call::commit_result { job: id, commitment });
							},
							Err(error) => {
								log::warn!(
									target: LOG_TARGET,
									"job {id}: inference failed: {error:?}"
								);
								unreachable |= error == InferenceError::Unreachable;
								records.insert(
									id,
									LocalJob::Failed {
										attempts: attempts.saturating_add(1),
										retry_at: block.saturating_add(RETRY_AFTER_BLOCKS),
									},
								);
							},
						}
					},
				},
				Some(commitment) if job.reveal_open(landing) => match records.get(&id).cloned() {
					Some(LocalJob::Computed { result, salt, commit_sent_at, reveal_sent_at })
						if commitment_of(id, provider, &result, &salt) == commitment =>
					{
						let due = reveal_sent_at
							.is_none_or(|at| block >= at.saturating_add(RESUBMIT_AFTER_BLOCKS));
						if due {
							records.insert(
								id,
								LocalJob::Computed {
									result,
									salt,
									commit_sent_at,
									reveal_sent_at: Some(block),
								},
							);
							calls.push(Call::reveal_result { job: id, result, salt });
						}
					},
					_ => log::warn!(
						target: LOG_TARGET,
						"job {id}: no local result matches the commitment on chain"
					),
				},
				_ => {},
			}
		}

		records.retain(|id, _| open.contains(id));
		let unchanged = match &previous {
			Some(previous) => *previous == records,
			None => records.is_empty(),
		};
		let ended: Vec<JobId> = previous
			.iter()
			.flat_map(|previous| previous.keys())
			.filter(|id| !records.contains_key(id))
			.copied()
			.collect();
		if !unchanged && !Self::replace_records(&store, previous, &records) {
			// Another run changed the records in between: it submits, this one does not.
			return;
		}
		// The leaves of jobs no longer open (or never kept) are dropped.
		for id in ended {
			StorageValueRef::persistent(&leaves_key(provider, id)).clear();
		}
		for call in calls {
			Self::submit(account, call);
		}
	}

	/// Whether `job` can be challenged with `challenge`: several items and several providers
	/// (with one provider there is no minority). Only then does the worker keep its leaves:
	/// 32 bytes per item until the job ends.
	pub fn challengeable(job: &Job<T>) -> bool {
		job.items > 1 && job.k() > 1
	}

	/// Whether a provider that revealed `revealed` on `job` challenges it in a transaction
	/// landing at `landing`: a one-item job concluded on another result, its window still open.
	pub fn should_challenge(job: &Job<T>, revealed: H256, landing: BlockNumberFor<T>) -> bool {
		job.status == JobStatus::Concluded
			&& job.items == 1
			&& landing < job.dispute_end
			&& job.tally().majority.is_some_and(|majority| majority != revealed)
	}

	/// Write `records` where `previous` was read; false (nothing written) if another run of the
	/// worker changed them in between.
	fn replace_records(
		store: &StorageValueRef<'_>,
		previous: Option<LocalJobs>,
		records: &LocalJobs,
	) -> bool {
		store
			.mutate(|current: Result<Option<LocalJobs>, StorageRetrievalError>| match current {
				Ok(current) if current == previous => Ok(records.clone()),
				_ => Err(()),
			})
			.is_ok()
	}

	/// Submit `call` signed by `account`'s key ([`submit_signed`]).
	fn submit(account: &Account<T>, call: Call<T>) {
		match submit_signed::<T, T::AuthorityId, _>(account, call) {
			Ok(()) => {},
			Err(SubmitError::Refused) => {
				log::warn!(target: LOG_TARGET, "the transaction pool refused a job result")
			},
			Err(SubmitError::NoSigner) => {
				log::warn!(target: LOG_TARGET, "no local key can sign for {:?}", account.id)
			},
		}
	}
}
