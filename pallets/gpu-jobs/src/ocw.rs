//! The off-chain worker of a GPU provider: compute the results of its assigned jobs with the
//! local `aivm` inference server, commit to them in the commit window and reveal them once
//! reveals open.
//!
//! It runs on every node, every block, and does something only where the keystore holds `dsyn`
//! keys ([`DsyncAuthId`](dsync_primitives::offchain::DsyncAuthId)) registered as the off-chain
//! key of a node ([`ProviderSource::owner_of_key`]). A run has two phases, so that nothing a
//! client controls (a batch URL that answers nothing, wrong bytes or trickles data) delays the
//! transactions whose windows are short:
//!
//! 1. **Answers**, without any HTTP exchange, for every key: the worker walks the provider's open
//!    jobs ([`ProviderJobs`]), builds every call that needs no inference (reveals, commitments of
//!    results already computed, challenges and challenge answers), writes its records and
//!    submits those calls at once.
//! 2. **Computations**, within a time budget of [`INFERENCE_BUDGET_MS`] from the run's start:
//!    first the re-executions of a batch job's item, which need the item's input and proof from
//!    the batch (a challenge's item, item 0 of a one-item job it challenges, item 0 against a
//!    majority of the vote [`INPUT_UNAVAILABLE`]), then the inferences of the jobs without a
//!    result, earliest commit deadline first (ties by job id); an input that cannot be had may
//!    be voted unavailable instead (below). No inference starts once the budget is spent, and
//!    every batch download and inference request ends by the budget's end at the latest, so a
//!    host that never answers or trickles its answer holds the worker no longer than the
//!    budget. The commitments (votes included) and re-executions are submitted at the end of
//!    the phase.
//!
//! For each open job:
//!
//! - **no commitment on chain, commit window open** (checked for the next block, where the
//!   transaction lands): without a local result, it computes one in phase 2 ([`Pallet::infer`]:
//!   the inline input, or the batch downloaded and checked against its hash, posted to
//!   `{aivm_url}/v1/infer/binary`; the result is [`outputs_root`](crate::outputs_root) of the
//!   outputs), draws a salt and submits `commit_result`. At most [`MAX_INFERENCES_PER_RUN`]
//!   inferences per key and run, and none after one that the `aivm` server did not answer
//!   ([`InferenceError::Unreachable`]: every other would wait as long); a batch host that does
//!   not answer fails that job only ([`InferenceError::BatchUnreachable`]). A failed inference
//!   is recorded and tried again [`RETRY_AFTER_BLOCKS`] blocks later; a commitment that is still
//!   not on chain [`RESUBMIT_AFTER_BLOCKS`] blocks after it was sent is sent again (phase 1);
//! - **the same, a batch whose input cannot be had**: when obtaining a batch fails for a reason
//!   of the input's own (its host gave no answer in a download given at least
//!   [`MIN_FAIR_DOWNLOAD_MS`], answered another status than `200 OK`, sent bytes of another
//!   length or hash; its URL is refused: see [`InferenceError`]) and either the job has failed
//!   [`UNAVAILABLE_AFTER_ATTEMPTS`] times now or its commit window closes within
//!   [`UNAVAILABLE_MARGIN_BLOCKS`] blocks of the landing block, it votes the input unavailable
//!   ([`Pallet::votes_unavailable`]): it records [`INPUT_UNAVAILABLE`] as its result
//!   ([`LocalJob::Computed`], a fresh salt, no leaves) and commits to it, then reveals it like a
//!   result. Never for an inline input (on chain, so never unavailable), nor for a failure of
//!   its own (its `aivm` server, the run's budget): those stay failures, and at the deadline the
//!   provider is a no-show;
//! - **a commitment on chain, no result, reveals open**: it submits `reveal_result` with the local
//!   result and salt (again after [`RESUBMIT_AFTER_BLOCKS`] blocks if needed);
//! - **a one-item job concluded on another result than the one it revealed**, challenge window
//!   open: it challenges the majority once with `resolve_by_execution` (the item is its own
//!   leaf: no claim is needed; a batch's item and its proof come from the batch, downloaded
//!   again in phase 2). Never twice: a failed challenge costs its fee. Neither the vote nor a
//!   majority of the vote is challenged so (see below);
//! - **a batch job concluded on the vote [`INPUT_UNAVAILABLE`], its own revealed result a real
//!   one** (still payable), dispute window open, and no other real result revealed but its own
//!   (for several items: it can claim only its own leaves; one item's results are their own
//!   leaves): it proves the input available ([`Pallet::confirms_own_result`]) with
//!   `resolve_by_execution` at item 0, in phase 2, with the item's input and proof from the
//!   batch downloaded again and, for several items, its own claim (leaf 0 and its proof from
//!   the leaves it kept). It is recorded (the record's `challenge_sent_at`, or
//!   [`LocalJob::Challenged`] for one item) and sent again after [`RESUBMIT_AFTER_BLOCKS`]
//!   blocks while the job still stands so;
//! - **a job of several items and providers with its result on chain**: it keeps the record
//!   ([`LocalJob::Revealed`]) and the result's leaves (under [`leaves_key`], stored when it
//!   computed the result) while the job is open. While its result can still be paid and open
//!   challenges ([`Standing`]) and another result stands in its way (a payable majority other
//!   than it; without one, any other payable result), window open, it opens a `challenge`
//!   (again after [`RESUBMIT_AFTER_BLOCKS`] blocks while still in the way, so it plays one walk
//!   of the tournament after another); another pair's challenge in the way is taken over once
//!   its round ended undecided. While the job is challenged with its result as one side, it
//!   sends that side's nodes for each round once (again after [`RESUBMIT_AFTER_BLOCKS`] blocks
//!   if they are not on chain), before the round ends; at the item, on either side, it sends
//!   `resolve_by_execution` once per walk: at once for an inline input, in phase 2 for a batch
//!   (downloaded again for the item's input and proof). The vote [`INPUT_UNAVAILABLE`] is never
//!   a side of a walk: a provider that revealed it opens no challenge and answers no round,
//!   and a result of its own never challenges the vote (the chain refuses both; a majority of
//!   the vote is disproved by the re-execution above instead). Once every other real result
//!   is eliminated (proven wrong, or forfeited a walk: also the walk whose round just ended
//!   with the other side silent, which the re-execution closes first), it confirms its own
//!   result the same way: `resolve_by_execution` at item 0 with its own claim alone, so
//!   colluders that stop answering cannot keep the last result standing unpaid;
//! - **a one-item job's result on chain otherwise, or the job gone**: it forgets the local
//!   record, and drops the leaves of a job that is gone.
//!
//! The local records of a provider are one map ([`LocalJob`] by job) in persistent local
//! storage under [`local_key`]. Phase 1 writes it back with a compare-and-set against what it
//! read, phase 2 the records of the jobs it served with a compare-and-set of each against what
//! phase 1 left; each submits its transactions only if its write succeeded, so two overlapping
//! runs never submit the same transaction twice.
//!
//! The worker counts what it does in the node's metrics ([`dsync_primitives::worker_metrics`]:
//! jobs seen, inputs fetched, inferences, commitments and reveals sent, failures by reason, the
//! milliseconds of the fetch and inference stages).
//!
//! The HTTP exchanges, the signed submission and the local-storage keys are the shared ones of
//! [`dsync_primitives::offchain`]. Its [`submit_signed`] takes each transaction's nonce from the
//! account's nonce in state and the nonces this node already used, so a run whose block does
//! not hold the previous run's transactions yet sends the next nonces, and a transaction
//! dropped from the pool leaves no gap for long. No HTTP outcome panics: every failure becomes
//! an [`InferenceError`]. The crate documentation describes the HTTP contract.

use crate::{
	challenge_slice, commitment_of, input_leaf, inputs_root, BatchItem, Call, Challenge,
	Challenges, Config, Job, JobId, JobInput, JobStatus, JobVerdicts, Jobs, LocalJob, Models,
	Pallet, ProviderJobs, ProviderSource, ResultClaim, Verdicts, INPUT_UNAVAILABLE, LOG_TARGET,
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
	offchain::{
		http_get_until, http_post_binary_until, local_storage_key, submit_signed, SubmitError,
	},
	worker_metrics,
};
use frame_support::BoundedVec;
use frame_system::{
	offchain::{Account, Signer},
	pallet_prelude::BlockNumberFor,
};
use sp_core::{offchain::StorageKind, H256};
use sp_runtime::{
	offchain::{
		storage::{StorageRetrievalError, StorageValueRef},
		Duration, Timestamp,
	},
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
/// together, in milliseconds; within a run it ends by the end of the run's budget
/// ([`INFERENCE_BUDGET_MS`]) if that comes first.
pub const HTTP_TIMEOUT_MS: u64 = 10_000;

/// The time budget of a run's second phase (downloads and inferences), in milliseconds of the
/// off-chain clock from the run's start: no inference or download starts after it, and every
/// HTTP exchange of the phase ends by it.
///
/// Four seconds: the chain makes a block every six seconds and the worker runs once the block is
/// imported, so the commitments of a run are in the pool before the next block is authored and
/// land in it, and runs seldom overlap. That is ample for an honest batch (at most 16,384 items
/// of at most a few KiB each, downloaded and run through the local server), and it is all that a
/// batch host that never answers or trickles its answer can take from a run: the answers of
/// phase 1 are already sent, and later runs go on with the other jobs.
pub const INFERENCE_BUDGET_MS: u64 = 4_000;

/// The longest inference answer read, in bytes; a longer one is malformed.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// Blocks after which a commitment or reveal that is not on chain yet is submitted again.
pub const RESUBMIT_AFTER_BLOCKS: u32 = 3;

/// Blocks after which a failed inference is tried again.
pub const RETRY_AFTER_BLOCKS: u32 = 2;

/// Failed attempts to obtain a batch input, for a reason of the input's own (this one
/// included), after which it is voted unavailable ([`INPUT_UNAVAILABLE`]).
///
/// Two: one passing fault of the host or of the network (a restart, a dropped connection) is
/// tried again [`RETRY_AFTER_BLOCKS`] blocks later rather than voted, while a host that never
/// answers or serves wrong bytes is voted after two runs, long before the commit window of a
/// job posted with the shortest deadline closes. Only failures of the input's own count: a
/// provider whose own inference server failed first still needs two failures of the input.
pub const UNAVAILABLE_AFTER_ATTEMPTS: u32 = 2;

/// Blocks between the landing block of a transaction and the job's commit deadline within
/// which a first failure of the input's own is voted at once: when `commit_deadline` is at most
/// `landing + UNAVAILABLE_MARGIN_BLOCKS`, a retry [`RETRY_AFTER_BLOCKS`] blocks later would land
/// too late to commit, and the provider, who did its part, would take a `NoShow` miss for the client's
/// input.
///
/// Two, [`RETRY_AFTER_BLOCKS`]: the last landing block a retry could still reach is voted on
/// instead of retried. (It cannot be less, checked at compile time.)
pub const UNAVAILABLE_MARGIN_BLOCKS: u32 = 2;

// A failure that is not voted on can still be retried in the commit window.
const _: () = assert!(UNAVAILABLE_MARGIN_BLOCKS >= RETRY_AFTER_BLOCKS);

/// The least time, in milliseconds, a batch download must have been given for a host that did
/// not answer in it to count against the input ([`InferenceError::BatchUnreachable`] as a
/// failure of the input's own, which may be voted [`INPUT_UNAVAILABLE`]).
///
/// Half the run's budget ([`INFERENCE_BUDGET_MS`]): a download ends by the budget's end, so
/// one started late in a busy run has little time, and its failure is the provider's lack of
/// time, not the host's. Two seconds is ample for an honest batch (at most
/// [`MAX_BATCH_INPUT_BYTES`](crate::MAX_BATCH_INPUT_BYTES), 1 MiB). A download cut shorter fails
/// like an inference, tried again later and never voted on.
pub const MIN_FAIR_DOWNLOAD_MS: u64 = INFERENCE_BUDGET_MS / 2;

/// The most inferences one run of the worker starts per key: a block's share of batch jobs for
/// a busy provider (64 jobs of up to 16,384 items), within the run's budget
/// ([`INFERENCE_BUDGET_MS`]). After the first inference that the `aivm` server does not answer
/// (down or hanging) the run starts no more, since every other would wait as long.
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
///
/// Obtaining a batch's input ([`fetch_batch`]) fails with [`Self::BatchUnreachable`],
/// [`Self::InvalidUrl`] (a URL that is not UTF-8 or that the fetch policy refuses),
/// [`Self::Status`], [`Self::TooLarge`] or [`Self::InputMismatch`]: failures of the input's own,
/// which a provider may vote [`INPUT_UNAVAILABLE`] on (a silent host only when the download had
/// at least [`MIN_FAIR_DOWNLOAD_MS`]). The same variants from the `aivm` server, the model or the
/// run's budget are the provider's own and are never voted on.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum InferenceError {
	/// The job's model is not registered (it cannot happen for an open job).
	UnknownModel,
	/// The `aivm` URL or the batch URL is not usable.
	InvalidUrl,
	/// The `aivm` server gave no answer in time (connection refused, timeout): the run starts
	/// no other inference.
	Unreachable,
	/// The batch's host gave no answer in time (connection refused, nothing or too little sent
	/// before the deadline): the batch is unavailable for now, the other jobs go on.
	BatchUnreachable,
	/// The run's budget ([`INFERENCE_BUDGET_MS`]) ended before the inference could be asked:
	/// nothing is recorded, the next run tries again.
	OutOfTime,
	/// An answer with a status other than `200 OK`.
	Status(u16),
	/// An answer longer than the limit.
	TooLarge,
	/// An answer that is not `items × output_len` values of 4 bytes.
	WrongShape,
	/// A batch whose length or hash does not match the job.
	InputMismatch,
}

impl InferenceError {
	/// The error's `reason` label in the node's `dsync_gpu_failures_total`
	/// ([`worker_metrics::GPU_FAILURES`]).
	pub fn metric_label(&self) -> &'static str {
		match self {
			Self::UnknownModel => "unknown_model",
			Self::InvalidUrl => "invalid_url",
			Self::Unreachable => "aivm_unreachable",
			Self::BatchUnreachable => "batch_unreachable",
			Self::OutOfTime => "out_of_time",
			Self::Status(_) => "status",
			Self::TooLarge => "too_large",
			Self::WrongShape => "wrong_shape",
			Self::InputMismatch => "input_mismatch",
		}
	}

	/// Count the failure in the worker's metrics.
	fn count(&self) {
		if let Some(counter) = worker_metrics::gpu_failure(self.metric_label()) {
			counter.inc();
		}
	}
}

/// Milliseconds from `start` to now on the off-chain clock.
fn millis_since(start: Timestamp) -> u64 {
	sp_io::offchain::timestamp().diff(&start).millis()
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

/// Download a batch of `items` items of `input_len` values from `url` (`GET`, ending by
/// `deadline`) and check it against `inputs_hash`.
pub fn fetch_batch(
	url: &[u8],
	items: usize,
	input_len: usize,
	inputs_hash: &H256,
	deadline: Timestamp,
) -> Result<Vec<i8>, InferenceError> {
	let url = core::str::from_utf8(url).map_err(|_| InferenceError::InvalidUrl)?;
	let expected = items.checked_mul(input_len).ok_or(InferenceError::TooLarge)?;
	let body = match http_get_until(url, expected, deadline) {
		Observation::Unreachable => return Err(InferenceError::BatchUnreachable),
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

/// The end of the time budget of a run that starts now: [`INFERENCE_BUDGET_MS`] on the
/// off-chain clock.
pub fn budget_end() -> Timestamp {
	sp_io::offchain::timestamp().add(Duration::from_millis(INFERENCE_BUDGET_MS))
}

/// Whether the budget ending at `budget_end` is spent.
fn budget_spent(budget_end: Timestamp) -> bool {
	sp_io::offchain::timestamp() >= budget_end
}

/// The deadline of an HTTP exchange that starts now in a run whose budget ends at `budget_end`:
/// [`HTTP_TIMEOUT_MS`] from now, or the budget's end if that comes first.
fn exchange_deadline(budget_end: Timestamp) -> Timestamp {
	let timeout = sp_io::offchain::timestamp().add(Duration::from_millis(HTTP_TIMEOUT_MS));
	core::cmp::min(timeout, budget_end)
}

/// What the worker sends on a job whose result is on chain.
enum Answer<T: Config> {
	/// A call built at once, sent in the run's first phase.
	Call(Call<T>),
	/// `resolve_by_execution` at the item with index `item` of a batch job: the item's input
	/// and proof come from the batch, downloaded in the run's second phase.
	Reexecute {
		/// The item.
		item: u32,
		/// The claims the call carries (the provider's own, or none).
		claims: Vec<ResultClaim>,
		/// The job's record once the call is sent.
		sent: LocalJob,
	},
}

/// `resolve_by_execution` at an item of a batch job, which the second phase downloads the batch
/// for (the item's input and proof).
struct Reexecution<T: Config> {
	/// The job's id.
	id: JobId,
	/// The job.
	job: Job<T>,
	/// The item.
	item: u32,
	/// The claims the call carries.
	claims: Vec<ResultClaim>,
	/// The job's record once the call is sent (phase 1 left the record as it was: the call is
	/// sent only once the batch is had).
	sent: LocalJob,
}

/// What the first phase of a provider's run leaves to the second: the work that needs HTTP.
struct Deferred<T: Config> {
	/// The records as the first phase left them in local storage: what the second phase's
	/// compare-and-set expects of the records it writes.
	records: LocalJobs,
	/// The re-executions of batch jobs' items: a challenge's item, item 0 of a one-item job
	/// challenged, item 0 against a majority of the vote [`INPUT_UNAVAILABLE`].
	reexecutions: Vec<Reexecution<T>>,
	/// Jobs whose result is to be computed (`(job id, job, input failures so far)`).
	inferences: Vec<(JobId, Job<T>, u32)>,
}

/// Why a computation failed: obtaining the batch's input (the client's side) or anything else
/// (the provider's side).
#[derive(Clone, PartialEq, Eq, Debug)]
enum Failure {
	/// The batch's input could not be obtained for a reason of its own: its host, its URL or
	/// its bytes (see [`InferenceError`]). May be voted [`INPUT_UNAVAILABLE`].
	Input(InferenceError),
	/// The model, the provider's `aivm` server, the run's budget, or a batch download cut
	/// shorter than [`MIN_FAIR_DOWNLOAD_MS`] by the budget. Never voted on.
	Compute(InferenceError),
}

impl Failure {
	/// The error, wherever it came from.
	fn error(self) -> InferenceError {
		match self {
			Self::Input(error) | Self::Compute(error) => error,
		}
	}
}

/// The claim of the result `root` at `item`: its leaf there and the leaf's Merkle proof, from
/// `leaves` (the leaves a provider kept for `root`); `None` if they are not `root`'s or the item
/// is not among them.
fn claim_of(root: H256, leaves: &[[u8; 32]], item: u32) -> Option<ResultClaim> {
	if H256(batch_merkle_root(leaves)) != root {
		log::warn!(target: LOG_TARGET, "the leaves kept are not those of {root:?}");
		return None;
	}
	let index = u32_to_usize(item);
	let leaf = *leaves.get(index)?;
	let proof = merkle_proof(leaves, index)?;
	Some(ResultClaim {
		root,
		leaf: H256(leaf),
		proof: BoundedVec::try_from(proof.into_iter().map(H256).collect::<Vec<_>>()).ok()?,
	})
}

impl<T: Config> Pallet<T> {
	/// The off-chain worker's run at block `now`: phase 1 (answers) for every key, then phase 2
	/// (downloads and inferences) for every key, within one budget from the run's start.
	pub(crate) fn run_offchain_worker(now: BlockNumberFor<T>) {
		let budget_end = budget_end();
		let mut deferred = Vec::new();
		for account in Signer::<T, T::AuthorityId>::keystore_accounts() {
			let Some(provider) = T::Providers::owner_of_key(&account.id) else { continue };
			if let Some(work) = Self::answer(now, &account, &provider) {
				deferred.push((account, provider, work));
			}
		}
		if deferred.is_empty() {
			return;
		}
		let base = aivm_url();
		// Set when the `aivm` server did not answer: no other inference starts in this run.
		let mut server_down = false;
		for (account, provider, work) in deferred {
			Self::compute(now, &account, &provider, &base, work, budget_end, &mut server_down);
		}
	}

	/// Compute the leaves of `job`'s result (the items' `result_hash`es; the result is their
	/// Merkle root) with the `aivm` server at `base`, every HTTP exchange ending by
	/// `budget_end` at the latest ([`InferenceError::OutOfTime`] when the download left no time
	/// to ask the server).
	pub fn infer(
		job: &Job<T>,
		base: &[u8],
		budget_end: Timestamp,
	) -> Result<Vec<[u8; 32]>, InferenceError> {
		Self::try_infer(job, base, budget_end).map_err(Failure::error)
	}

	/// [`Self::infer`], telling a failure to obtain the batch's input, of the input's own
	/// ([`Failure::Input`]), from any other ([`Failure::Compute`]): the model and the `aivm`
	/// URL are checked before the download, and a host that did not answer a download given
	/// less than [`MIN_FAIR_DOWNLOAD_MS`] is not held against the input.
	fn try_infer(
		job: &Job<T>,
		base: &[u8],
		budget_end: Timestamp,
	) -> Result<Vec<[u8; 32]>, Failure> {
		let model =
			Models::<T>::get(job.model).ok_or(Failure::Compute(InferenceError::UnknownModel))?;
		let url =
			infer_url(base, &model.hash).ok_or(Failure::Compute(InferenceError::InvalidUrl))?;
		let given = exchange_deadline(budget_end).diff(&sp_io::offchain::timestamp()).millis();
		let input_len = u32_to_usize(model.input_len);
		let fetch_start = sp_io::offchain::timestamp();
		let inputs = Self::job_inputs(job, input_len, budget_end).map_err(|error| match error {
			// Cut short by the budget: the provider's lack of time, not the host's silence.
			InferenceError::BatchUnreachable if given < MIN_FAIR_DOWNLOAD_MS => {
				Failure::Compute(error)
			},
			error => Failure::Input(error),
		})?;
		worker_metrics::GPU_FETCHED.inc();
		worker_metrics::GPU_FETCH_MILLIS.add(millis_since(fetch_start));
		if budget_spent(budget_end) {
			return Err(Failure::Compute(InferenceError::OutOfTime));
		}
		let deadline = exchange_deadline(budget_end);
		let infer_start = sp_io::offchain::timestamp();
		let leaves = evaluate_leaves(
			http_post_binary_until(&url, request_body(&inputs), MAX_RESPONSE_BYTES, deadline),
			u32_to_usize(job.items),
			u32_to_usize(model.output_len),
		)
		.map_err(Failure::Compute)?;
		worker_metrics::GPU_INFERRED.inc();
		worker_metrics::GPU_INFER_MILLIS.add(millis_since(infer_start));
		Ok(leaves)
	}

	/// `job`'s inputs (`input_len` values per item): inline, or the batch downloaded (ending by
	/// `budget_end` at the latest) and checked against its hash.
	fn job_inputs(
		job: &Job<T>,
		input_len: usize,
		budget_end: Timestamp,
	) -> Result<Vec<i8>, InferenceError> {
		match &job.input {
			JobInput::Inline(data) => Ok(data.to_vec()),
			JobInput::Batch { inputs_hash, url, .. } => fetch_batch(
				url,
				u32_to_usize(job.items),
				input_len,
				inputs_hash,
				exchange_deadline(budget_end),
			),
		}
	}

	/// `resolve_by_execution` at the item with index `item` of the batch job `id`, with the
	/// item's input and its proof from the batch, downloaded again (ending by `budget_end` at
	/// the latest), and `claims`; `None` if the batch could not be had.
	fn reexecution(
		id: JobId,
		job: &Job<T>,
		item: u32,
		claims: Vec<ResultClaim>,
		budget_end: Timestamp,
	) -> Option<Call<T>> {
		let input_len = u32_to_usize(Models::<T>::get(job.model).map(|m| m.input_len)?);
		let inputs = match Self::job_inputs(job, input_len, budget_end) {
			Ok(inputs) => inputs,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "job {id}: no batch to re-execute: {error:?}");
				return None;
			},
		};
		let index = u32_to_usize(item);
		let input_leaves: Vec<[u8; 32]> =
			inputs.chunks_exact(input_len.max(1)).map(input_leaf).collect();
		let proof = merkle_proof(&input_leaves, index)?;
		let input = inputs.chunks_exact(input_len.max(1)).nth(index)?.to_vec();
		let batch_item = BatchItem {
			input: BoundedVec::try_from(input).ok()?,
			proof: BoundedVec::try_from(proof.into_iter().map(H256).collect::<Vec<_>>()).ok()?,
		};
		Some(Call::resolve_by_execution {
			job: id,
			item_index: item,
			batch_item: Some(batch_item),
			claims: BoundedVec::try_from(claims).ok()?,
		})
	}

	/// The transaction that moves `job`'s challenge on for a provider whose result
	/// `revealed` is one of its sides, in a transaction landing at `landing`, with the leaves
	/// the provider kept: its nodes for the round, or (either side, at the item) the
	/// re-execution. `state` is the provider's record, updated when a call is returned (a
	/// batch's re-execution is recorded by the second phase, once its item is downloaded).
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
	) -> Option<Answer<T>> {
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
				Some(Answer::Call(Call::reveal_nodes { job: id, result: revealed, nodes }))
			},
			// At the item: either side asks for the re-execution, once per walk (it decides
			// both ways: the side it matches is confirmed, the other proven wrong). A batch's
			// item is downloaded in the run's second phase, which records it as sent.
			None if !*resolve_sent => match &job.input {
				JobInput::Inline(_) => {
					*resolve_sent = true;
					Some(Answer::Call(Call::resolve_by_execution {
						job: id,
						item_index: challenge.position,
						batch_item: None,
						claims: Default::default(),
					}))
				},
				JobInput::Batch { .. } => {
					let mut sent = state.clone();
					if let LocalJob::Revealed { resolve_sent, .. } = &mut sent {
						*resolve_sent = true;
					}
					Some(Answer::Reexecute { item: challenge.position, claims: Vec::new(), sent })
				},
			},
			None => None,
		}
	}

	/// What a provider's worker does on a job of several items whose result `revealed` is on
	/// chain: challenge, once, a majority on another result or the other result of a dispute
	/// between two, then play the challenge with the leaves it kept; or disprove a majority of
	/// the vote [`INPUT_UNAVAILABLE`] at item 0. Nothing for a provider whose result is the
	/// vote: it is never a side of a walk. Returns what to submit, updating `state`.
	fn defend_or_challenge(
		id: JobId,
		job: &Job<T>,
		provider: &T::AccountId,
		revealed: H256,
		state: &mut LocalJob,
		block: u32,
		landing: BlockNumberFor<T>,
	) -> Option<Answer<T>> {
		if revealed == INPUT_UNAVAILABLE {
			return None;
		}
		match job.status {
			JobStatus::Concluded | JobStatus::Disputed => {
				let LocalJob::Revealed { challenge_sent_at, .. } = &*state else { return None };
				let due = challenge_sent_at
					.is_none_or(|at| block >= at.saturating_add(RESUBMIT_AFTER_BLOCKS));
				if !due {
					return None;
				}
				if Self::confirms_own_result(id, job, revealed, landing) {
					return Self::confirmation(id, provider, revealed, state, block);
				}
				if !Self::contested(id, job, revealed) || landing >= job.dispute_end {
					return None;
				}
				let LocalJob::Revealed { challenge_sent_at, .. } = state else { return None };
				Self::open_challenge(id, provider, revealed, challenge_sent_at, block)
					.map(Answer::Call)
			},
			JobStatus::Challenged => {
				let challenge = Challenges::<T>::get(id)?;
				if landing >= challenge.round_end {
					// The round ended undecided: the re-execution closes the challenge first,
					// so once the last walk's other side forfeited, the provider's result may
					// be the last standing, confirmed with its own claim before the job ends.
					let LocalJob::Revealed { challenge_sent_at, .. } = &*state else {
						return None;
					};
					let due = challenge_sent_at
						.is_none_or(|at| block >= at.saturating_add(RESUBMIT_AFTER_BLOCKS));
					let mut closed = job.clone();
					let mut verdicts = Self::verdicts_of(id, job);
					Self::settle_closed(&challenge, &mut closed, &mut verdicts, landing);
					if due && Self::confirms_own_result_by(&closed, &verdicts, revealed, landing) {
						return Self::confirmation(id, provider, revealed, state, block);
					}
				}
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
					.map(Answer::Call)
			},
			_ => None,
		}
	}

	/// Whether a provider whose result `revealed` is on job `id` has a challenge to open: its
	/// result can still be paid and open challenges, and another result stands in its way (a
	/// payable majority other than it, or without one any other payable result: the
	/// tournament goes on until one result is left). The vote [`INPUT_UNAVAILABLE`] is never
	/// challenged (the chain refuses it as a side): not with it, nor a majority of it, nor it
	/// as another result.
	fn contested(id: JobId, job: &Job<T>, revealed: H256) -> bool {
		if revealed == INPUT_UNAVAILABLE {
			return false;
		}
		let verdicts = JobVerdicts::<T>::get(id).unwrap_or_default();
		let standing = verdicts.of(revealed);
		if !standing.payable() || standing.stalled {
			return false;
		}
		match job.payable_majority(&verdicts) {
			Some(majority) => majority != revealed && majority != INPUT_UNAVAILABLE,
			None => job
				.payable_results(&verdicts)
				.iter()
				.any(|other| *other != revealed && *other != INPUT_UNAVAILABLE),
		}
	}

	/// Whether a provider whose result `revealed` is on job `id` re-executes item 0 in a
	/// transaction landing at `landing` to have its result confirmed: `revealed` is a real
	/// result (not the vote), still payable and not yet confirmed; the job is a batch job, its
	/// dispute window open at `landing`; and either it concluded on a payable majority of
	/// [`INPUT_UNAVAILABLE`] (the re-execution proves the input available), or it is disputed
	/// and every other result is the vote or eliminated by the disputes (proven wrong, or
	/// forfeited a walk: colluders that stop answering cannot keep the last result standing
	/// unpaid). For several items every other real result must be eliminated: the provider
	/// holds only its own leaves, and the chain asks no claim of an eliminated result or of
	/// the vote (one item's results are their own leaves).
	pub fn confirms_own_result(
		id: JobId,
		job: &Job<T>,
		revealed: H256,
		landing: BlockNumberFor<T>,
	) -> bool {
		let verdicts = JobVerdicts::<T>::get(id).unwrap_or_default();
		Self::confirms_own_result_by(job, &verdicts, revealed, landing)
	}

	/// [`Self::confirms_own_result`] by the disputes' `verdicts`, for a job in `job`'s status.
	fn confirms_own_result_by(
		job: &Job<T>,
		verdicts: &Verdicts<T>,
		revealed: H256,
		landing: BlockNumberFor<T>,
	) -> bool {
		if revealed == INPUT_UNAVAILABLE || landing >= job.dispute_end {
			return false;
		}
		let own = verdicts.of(revealed);
		if !own.payable() || own.confirmed {
			return false;
		}
		let results = job.distinct_results();
		let others_out = results.iter().all(|result| {
			*result == revealed || *result == INPUT_UNAVAILABLE || !verdicts.payable(*result)
		});
		match job.status {
			JobStatus::Concluded => {
				matches!(job.input, JobInput::Batch { .. })
					&& job.payable_majority(verdicts) == Some(INPUT_UNAVAILABLE)
					&& (job.items == 1 || others_out)
			},
			JobStatus::Disputed => results.len() > 1 && others_out,
			_ => false,
		}
	}

	/// The confirmation of the result `revealed` on job `id` of several items by a provider
	/// that computed it ([`Self::confirms_own_result`]: a disproof of a majority of the vote
	/// [`INPUT_UNAVAILABLE`], or the last result standing): `resolve_by_execution` at item 0
	/// with the claim of `revealed` from the leaves it kept (nothing without them), the item's
	/// input (and for a batch its proof, downloaded in phase 2, which records `state` with
	/// `challenge_sent_at` at `block`).
	fn confirmation(
		id: JobId,
		provider: &T::AccountId,
		revealed: H256,
		state: &LocalJob,
		block: u32,
	) -> Option<Answer<T>> {
		let Some(leaves) = stored_leaves(provider, id) else {
			log::warn!(target: LOG_TARGET, "job {id}: a result to confirm, but no leaves kept");
			return None;
		};
		let claim = claim_of(revealed, &leaves, 0)?;
		let mut sent = state.clone();
		if let LocalJob::Revealed { challenge_sent_at, .. } = &mut sent {
			*challenge_sent_at = Some(block);
		}
		Some(Answer::Reexecute { item: 0, claims: alloc::vec![claim], sent })
	}

	/// Whether a provider whose attempt to obtain `job`'s batch input failed for a reason of
	/// the input's own, its `input_failures`-th such failure (this one included), votes
	/// [`INPUT_UNAVAILABLE`] in a transaction landing at `landing`: only for a batch input,
	/// while the commit window is open at `landing`, once [`UNAVAILABLE_AFTER_ATTEMPTS`]
	/// attempts failed so, or when the window closes within [`UNAVAILABLE_MARGIN_BLOCKS`] blocks
	/// of `landing` (a retry would land too late).
	pub fn votes_unavailable(
		job: &Job<T>,
		input_failures: u32,
		landing: BlockNumberFor<T>,
	) -> bool {
		matches!(job.input, JobInput::Batch { .. })
			&& job.commit_open(landing)
			&& (input_failures >= UNAVAILABLE_AFTER_ATTEMPTS
				|| job.commit_deadline <= landing.saturating_add(UNAVAILABLE_MARGIN_BLOCKS.into()))
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

	/// Phase 1 of one provider's run (see the module documentation): walk its open jobs, send
	/// every call that needs no HTTP exchange, and return the work that does, unless there is
	/// none or another run changed the records in between (that run goes on instead).
	fn answer(
		now: BlockNumberFor<T>,
		account: &Account<T>,
		provider: &T::AccountId,
	) -> Option<Deferred<T>> {
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
		let mut reexecutions = Vec::new();
		let mut inferences = Vec::new();
		let block: u32 = now.saturated_into();
		// Transactions land in the next block at the earliest.
		let landing = now.saturating_add(1u32.into());

		for (id, ()) in ProviderJobs::<T>::iter_prefix(provider) {
			let Some(job) = Jobs::<T>::get(id) else { continue };
			let Some((result, commitment)) =
				job.slot(provider).map(|slot| (slot.result, slot.commitment))
			else {
				continue;
			};
			if let Some(revealed) = result {
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
					match Self::defend_or_challenge(
						id, &job, provider, revealed, &mut state, block, landing,
					) {
						Some(Answer::Call(call)) => calls.push(call),
						Some(Answer::Reexecute { item, claims, sent }) => {
							reexecutions.push(Reexecution { id, job, item, claims, sent })
						},
						None => {},
					}
					records.insert(id, state);
				} else if Self::should_challenge(&job, revealed, landing) {
					open.insert(id);
					if !matches!(records.get(&id), Some(LocalJob::Challenged { .. })) {
						let sent = LocalJob::Challenged { sent_at: block };
						if matches!(job.input, JobInput::Inline(_)) {
							records.insert(id, sent);
							calls.push(Call::resolve_by_execution {
								job: id,
								item_index: 0,
								batch_item: None,
								claims: Default::default(),
							});
						} else {
							// The item's input and proof come from the batch, in phase 2.
							reexecutions.push(Reexecution {
								id,
								job,
								item: 0,
								claims: Vec::new(),
								sent,
							});
						}
					}
				} else if job.items == 1 && Self::confirms_own_result(id, &job, revealed, landing) {
					// A one-item batch job concluded on the vote: item 0, its own leaf, no
					// claim; again while the job still stands so.
					open.insert(id);
					let due = match records.get(&id) {
						Some(LocalJob::Challenged { sent_at }) => {
							block >= sent_at.saturating_add(RESUBMIT_AFTER_BLOCKS)
						},
						_ => true,
					};
					if due {
						reexecutions.push(Reexecution {
							id,
							job,
							item: 0,
							claims: Vec::new(),
							sent: LocalJob::Challenged { sent_at: block },
						});
					}
				}
				continue;
			}
			open.insert(id);
			match commitment {
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
					Some(LocalJob::Failed { input_failures, .. }) => {
						inferences.push((id, job, input_failures))
					},
					_ => inferences.push((id, job, 0)),
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
			return None;
		}
		// The leaves of jobs no longer open (or never kept) are dropped.
		for id in ended {
			StorageValueRef::persistent(&leaves_key(provider, id)).clear();
		}
		for call in calls {
			Self::submit(account, call);
		}
		if reexecutions.is_empty() && inferences.is_empty() {
			return None;
		}
		Some(Deferred { records, reexecutions, inferences })
	}

	/// Phase 2 of one provider's run (see the module documentation): the re-executions that
	/// need a batch item, then the inferences, earliest commit deadline first, while the budget
	/// ending at `budget_end` lasts and the `aivm` server at `base` answers (`server_down`, for
	/// every key of the run); then the records of these jobs, each compare-and-set against what
	/// phase 1 left ([`Self::merge_records`]), and the calls.
	fn compute(
		now: BlockNumberFor<T>,
		account: &Account<T>,
		provider: &T::AccountId,
		base: &[u8],
		work: Deferred<T>,
		budget_end: Timestamp,
		server_down: &mut bool,
	) {
		let Deferred { records, reexecutions, mut inferences } = work;
		// The records this phase writes, by job.
		let mut changes = LocalJobs::new();
		let mut calls: Vec<Call<T>> = Vec::new();
		let block: u32 = now.saturated_into();
		// Transactions land in the next block at the earliest.
		let landing = now.saturating_add(1u32.into());

		for Reexecution { id, job, item, claims, sent } in reexecutions {
			if budget_spent(budget_end) {
				break;
			}
			let Some(call) = Self::reexecution(id, &job, item, claims, budget_end) else {
				continue;
			};
			changes.insert(id, sent);
			calls.push(call);
		}

		inferences.sort_by_key(|(id, job, _)| (job.commit_deadline, *id));
		let mut started = 0u32;
		for (id, job, input_failures) in inferences {
			if *server_down || started >= MAX_INFERENCES_PER_RUN || budget_spent(budget_end) {
				break;
			}
			started = started.saturating_add(1);
			if !records.contains_key(&id) {
				// No record yet: the job's first attempt on this node.
				worker_metrics::GPU_SEEN.inc();
			}
			match Self::try_infer(&job, base, budget_end) {
				Ok(leaves) => {
					let result = H256(batch_merkle_root(&leaves));
					if Self::challengeable(&job) {
						StorageValueRef::persistent(&leaves_key(provider, id)).set(&leaves);
					}
					let salt = sp_io::offchain::random_seed();
					changes.insert(
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
				// Not tried: the next run tries again, without waiting for a retry.
				Err(Failure::Compute(InferenceError::OutOfTime)) => {
					InferenceError::OutOfTime.count();
					break;
				},
				Err(failure) => {
					// Only a failure of the input's own counts toward the vote: one of the
					// provider's own inference server never makes it vote sooner.
					let of_input = matches!(failure, Failure::Input(_));
					let input_failures = input_failures.saturating_add(u32::from(of_input));
					let vote = of_input && Self::votes_unavailable(&job, input_failures, landing);
					let error = failure.error();
					error.count();
					log::warn!(target: LOG_TARGET, "job {id}: inference failed: {error:?}");
					*server_down |= error == InferenceError::Unreachable;
					if vote {
						// The input could not be had: vote it unavailable, revealed like a
						// result. No leaves: the vote is no tree.
						log::info!(target: LOG_TARGET, "job {id}: voting its input unavailable");
						let salt = sp_io::offchain::random_seed();
						changes.insert(
							id,
							LocalJob::Computed {
								result: INPUT_UNAVAILABLE,
								salt,
								commit_sent_at: block,
								reveal_sent_at: None,
							},
						);
						let commitment = commitment_of(id, provider, &INPUT_UNAVAILABLE, &salt);
						calls.push(Call::commit_result { job: id, commitment });
					} else {
						changes.insert(
							id,
							LocalJob::Failed {
								input_failures,
								retry_at: block.saturating_add(RETRY_AFTER_BLOCKS),
							},
						);
					}
				},
			}
		}

		if changes.is_empty() {
			return;
		}
		let key = local_key(provider);
		if !Self::merge_records(&StorageValueRef::persistent(&key), &records, &changes) {
			// Another run changed one of these records in between: it submits, this one does
			// not.
			return;
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
	/// Neither with the vote [`INPUT_UNAVAILABLE`] nor against a majority of it (which
	/// [`Self::confirms_own_result`] handles).
	pub fn should_challenge(job: &Job<T>, revealed: H256, landing: BlockNumberFor<T>) -> bool {
		job.status == JobStatus::Concluded
			&& job.items == 1
			&& landing < job.dispute_end
			&& revealed != INPUT_UNAVAILABLE
			&& job
				.tally()
				.majority
				.is_some_and(|majority| majority != revealed && majority != INPUT_UNAVAILABLE)
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

	/// Write the records of `changes` into the provider's records, each where the record of
	/// its job is still what `expected` (the records as phase 1 left them) says; false (nothing
	/// written) if another run changed any of them in between, or wrote the map meanwhile.
	/// Records of other jobs, which a later run's phase 1 may have written, are kept: the work
	/// of a phase 2 is not lost to an unrelated reveal.
	fn merge_records(
		store: &StorageValueRef<'_>,
		expected: &LocalJobs,
		changes: &LocalJobs,
	) -> bool {
		store
			.mutate(|current: Result<Option<LocalJobs>, StorageRetrievalError>| {
				let mut current = current.map_err(|_| ())?.unwrap_or_default();
				for (id, record) in changes {
					if current.get(id) != expected.get(id) {
						return Err(());
					}
					current.insert(*id, record.clone());
				}
				Ok(current)
			})
			.is_ok()
	}

	/// Submit `call` signed by `account`'s key ([`submit_signed`]); commitments and reveals the
	/// pool accepts are counted in the worker's metrics.
	fn submit(account: &Account<T>, call: Call<T>) {
		let counter = match &call {
			Call::commit_result { .. } => Some(worker_metrics::GPU_COMMITTED),
			Call::reveal_result { .. } => Some(worker_metrics::GPU_REVEALED),
			_ => None,
		};
		match submit_signed::<T, T::AuthorityId, _>(account, call) {
			Ok(()) => counter.into_iter().for_each(worker_metrics::Counter::inc),
			Err(SubmitError::Refused) => {
				log::warn!(target: LOG_TARGET, "the transaction pool refused a job result")
			},
			Err(SubmitError::NoSigner) => {
				log::warn!(target: LOG_TARGET, "no local key can sign for {:?}", account.id)
			},
		}
	}
}
