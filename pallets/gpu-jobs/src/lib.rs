//! # GPU-jobs pallet
//!
//! Clients pay for verified inference; GPU providers earn. A client posts an inference job on a
//! registered model with the full price held in escrow; `k` providers drawn by Proof-of-Sync
//! score run it through their off-chain worker and local `aivm` inference server, commit to the
//! result, then reveal it; the majority result is paid through the service-payment trait (burn
//! share applied) once its challenge window has passed, dissenters and no-shows are penalised,
//! and the client gets back whatever was not earned. Without a majority, or to challenge the
//! majority's result, anyone may have one inference re-executed on chain by the deterministic
//! core ([`dsync_aivm_core`]), whose answer decides.
//!
//! ## Overview
//!
//! - **Models.** [`Config::ModelOrigin`] registers `.aivm` files ([`Pallet::register_model`]): the
//!   pallet parses them with [`dsync_aivm_core::Model::parse`], keeps the file for re-execution
//!   ([`ModelCode`]) and records id, hash, shapes and price floor ([`Models`]).
//! - **Posting.** [`Pallet::post_job`] checks the model, the input, the replication `k`, the price
//!   and the deadline, draws `k` distinct providers and holds `k × price` from the client
//!   ([`HoldReason::Escrow`]).
//! - **Commit, reveal.** Each provider commits to its result before the commit deadline
//!   ([`Pallet::commit_result`]) and reveals it afterwards ([`Pallet::reveal_result`]), through its
//!   node's off-chain key. Commit-reveal keeps providers from copying each other.
//! - **Settlement.** When no more results can come (all revealed, or the deadline passed), a result
//!   revealed by more than half of the `k` providers concludes the job; when its challenge window
//!   ends (`dispute_end`) each provider that revealed it is paid `price`, the others are
//!   penalised, the rest of the escrow is released. Without any reveal the job expires and is
//!   refunded; with reveals but no majority it is disputed.
//! - **Disputes and challenges.** [`Pallet::resolve_by_execution`] re-executes one item on chain
//!   and compares it with the revealed results: the matching result is paid, the others are
//!   penalised; if none matches, the client is refunded. On a concluded job it is a challenge:
//!   if the item matches the majority result the call fails ([`Error::MajorityConfirmed`]) and
//!   its caller has paid its fee; otherwise the majority loses as above. A dispute nobody
//!   resolves is refunded, an unchallenged majority paid, at `dispute_end`.
//! - **Expiries.** `on_initialize` settles due jobs itself, at most
//!   [`Config::MaxJobsPerBlockSettled`] per block with a cursor over [`Expiries`]; anyone may
//!   settle a due job earlier with [`Pallet::settle`].
//!
//! ## Terminology
//!
//! - **Item**: one inference: `input_len` values of `i8` in, `output_len` values of `i32` out. A
//!   job has `items >= 1`.
//! - **Result**: what a provider reveals: the Merkle root ([`outputs_root`]) of the items'
//!   `result_hash`es in order. For a one-item job it is the item's `result_hash` itself.
//! - **Provider**: the owner of a service node; it acts through its node's off-chain (`dsyn`) key,
//!   mapped to the owner by [`ProviderSource::owner_of_key`].
//! - **Majority**: a result revealed by more than `k / 2` providers (of all `k`, not of those who
//!   revealed).
//! - **Escrow**: the `k × price` held from the client while the job is open.
//!
//! ## Calls
//!
//! | index | call | origin | what |
//! | --- | --- | --- | --- |
//! | 0 | [`register_model`](Pallet::register_model) | model origin | register an `.aivm` model |
//! | 1 | [`set_model_status`](Pallet::set_model_status) | model origin | (de)activate a model |
//! | 2 | [`set_price_floor`](Pallet::set_price_floor) | model origin | a model's price floor |
//! | 3 | [`post_job`](Pallet::post_job) | signed | post a job, hold its escrow |
//! | 4 | [`commit_result`](Pallet::commit_result) | provider key | commit to a result |
//! | 5 | [`reveal_result`](Pallet::reveal_result) | provider key | reveal the result |
//! | 6 | [`settle`](Pallet::settle) | signed | settle a due job now |
//! | 7 | [`resolve_by_execution`](Pallet::resolve_by_execution) | signed | re-execute an item |
//! | 8 | [`set_parameters`](Pallet::set_parameters) | admin | the timing [`GpuJobsParams`] |
//! | 9 | [`challenge`](Pallet::challenge) | signed | challenge a batch's majority result |
//! | 10 | [`reveal_nodes`](Pallet::reveal_nodes) | signed | one side's nodes in a challenge round |
//!
//! ## A job's life
//!
//! With `P` the posting block, `D` the deadline, `R = reveal_period`, `X = dispute_period`:
//!
//! - `P <= now < D - R` (commit window, status `Open`): assigned providers commit
//!   `commitment_of(job, provider, result, salt)` ([`commitment_of`]).
//! - Reveals are accepted while `now < D`, once every provider committed or from `D - R` on (status
//!   `Revealing` from the first reveal, or as soon as all committed).
//! - As soon as no more results can come (every provider revealed, or the commit window closed and
//!   every committed provider revealed) the job concludes in the revealing transaction; at the
//!   latest it concludes at block `D` (`on_initialize`, or [`Pallet::settle`] if the cursor lags):
//!   - a **majority** result: status `Concluded` until `D + X` ([`Event::JobConcluded`]), then
//!     paid ([`Event::JobSettled`]) unless a challenge proved it wrong;
//!   - **no reveal**: full refund, every provider penalised `NoShow`: [`Event::JobExpired`];
//!   - **reveals but no majority**: status `Disputed` until `D + X`: [`Event::JobDisputed`].
//! - Between the conclusion (at the latest `D`) and `D + X`, [`Pallet::resolve_by_execution`]
//!   resolves a disputed job or challenges a concluded one; a concluded job of several items is
//!   challenged with [`Pallet::challenge`] (status `Challenged`, which may move `D + X` later:
//!   see "Challenges of a job of several items"). At `D + X` (`on_initialize`, or
//!   [`Pallet::settle`] if the cursor lags) an unchallenged majority is paid, an unresolved
//!   dispute refunded ([`Event::JobRefunded`] with `DisputeUnresolved`; only the providers that
//!   did not reveal are penalised, since nobody proved a revealed result wrong), and a job
//!   without any reveal expires.
//!
//! Every job ends settled or refunded and is then removed from storage: its outcome lives in
//! its final event ([`Event::JobSettled`], [`Event::JobRefunded`], [`Event::JobExpired`]), not
//! in state, so state does not grow with history.
//!
//! ## Settlement
//!
//! For the winning result, every provider that revealed it is paid in turn: `price` is charged
//! from the client's escrow hold itself through
//! `T::Payment::charge_held(Escrow, client, Some(provider), price, ServiceKind::GpuInference)`
//! (the tokenomics pallet burns its governed share and pays the rest), and `items ×
//! units_per_item` usage units are recorded for the provider ([`Config::Usage`]). The escrow
//! never passes through the client's free balance, so a client cannot dodge payment by locking
//! or freezing its balance (a conviction vote or delegation over everything it has). If the
//! charge fails (the provider cannot receive) nothing of it happens,
//! [`Event::ProviderPaymentFailed`] is emitted and that `price` goes back to the client with the
//! rest. The other providers are penalised ([`ProviderSource::penalise`]) by what is *known*
//! of their results: `WrongResult` only for a result a re-execution proved wrong, `Unanswered`
//! (a miss) for a result whose side did not answer a challenge round it defended, `Dissent` (a
//! miss) for any other revealed result, `NoShow` for no reveal. A refunded job penalises the
//! same way, except that an unproven result is not penalised at all. Whatever was not paid is
//! released to the client, so `escrow == paid + refunded` for every job.
//!
//! ## Disputes
//!
//! [`Pallet::resolve_by_execution`] takes the item index and:
//!
//! - for a **batch**, the item's input with its Merkle proof against the job's `inputs_hash`
//!   ([`BatchItem`]; the leaf is [`input_leaf`]); an inline job's item is read from storage;
//! - for a job of **more than one item**, one [`ResultClaim`] per distinct revealed result: the
//!   result's leaf at the item and its Merkle proof. A one-item job needs none: a result is its own
//!   leaf.
//!
//! The runtime verifies the proofs, parses the model and evaluates the item
//! ([`dsync_aivm_core::Model::evaluate`]); the results whose leaf equals the `result_hash` of the
//! outputs win. An item at which two distinct results both match decides nothing and is
//! refused ([`Error::ItemNotDecisive`]), so a provider that is wrong elsewhere cannot be paid
//! by choosing an item it got right. Requiring a claim for *every* revealed result means a
//! disputer cannot drop an honest result to have it lose; a proof is checked against the
//! revealed root, so a claim cannot lie about a leaf.
//!
//! **Challenges.** A majority result is not final until `dispute_end`: until then the same call
//! challenges it. A dissenting provider (or the client, or anyone who recomputed the job)
//! names an item where the majority is wrong; if the re-execution agrees with the majority
//! the call fails with [`Error::MajorityConfirmed`], changes nothing and its caller has paid
//! the call's full weight; if it does not, the majority's providers are penalised
//! `WrongResult` and the matching result, if any, is paid. For a one-item job the result is
//! its own leaf, so a single honest provider (or the client, recomputing) catches a colluding
//! majority of the `k`, and the loser always pays for the re-execution. For a job of several
//! items the call also needs the majority's leaf at the item with its proof, which only the
//! majority's providers hold: such a majority is challenged as below. Re-execution checks one
//! item; for a batch it proves that item only.
//!
//! ## Challenges of a job of several items
//!
//! A minority provider of a batch knows its own leaves, not the majority's, so it cannot name
//! the item where the majority is wrong. [`Pallet::challenge`] finds it with the majority's
//! help, by bisection of the two Merkle trees (a [`Challenge`], status `Challenged`):
//!
//! 1. The challenge starts at the roots: the two results differ there.
//! 2. Each round, each side reveals the nodes of its tree up to [`CHALLENGE_LEVELS`] (7) levels
//!    below the contested node, at most 128 ([`challenge_slice`], [`Pallet::reveal_nodes`]).
//!    The runtime checks that they hash to the side's node
//!    ([`dsync_aivm_core::batch_merkle_root`]); when both sides answered, the first position
//!    where the two runs differ is the new contested node ([`Event::ChallengeNarrowed`]).
//! 3. At level 0 the contested node is an item where the two results' leaves differ, both
//!    known on chain: [`Pallet::resolve_by_execution`] re-executes it (no claims; either side
//!    or anyone may ask, free on success). The side whose leaf matches is *confirmed*, the
//!    other (both, if neither matches) *proven wrong* ([`Event::ChallengeDecided`], recorded in
//!    [`JobVerdicts`]); then the job is decided as below.
//!
//! Rounds last `reveal_period` blocks each, on a fixed schedule from the opening: round `r`
//! ends at `opened + (r + 1) × reveal_period`, and there are [`challenge_rounds`]`(items)`
//! rounds (`ceil(height / 7)` of nodes and one to re-execute; 3 for 16,384 items). If they end
//! after the job's `dispute_end`, `dispute_end` moves to the end of the last round
//! ([`Event::ChallengeOpened`] gives both). Answers after a round's end are refused, so a walk
//! whose round ended undecided is *closed* by the next `challenge` or at `dispute_end`:
//!
//! - the **defending side** did not answer a round the challenger answered: its result
//!   *forfeits* ([`Event::ChallengeForfeited`]): it is not paid and its providers take a miss
//!   (`Unanswered`), not a slash: a missed round (three blocks on `--dev`) is not proof of a
//!   wrong result;
//! - otherwise (the **challenger's side** missed a round, or nobody re-executed the item):
//!   [`Event::ChallengeAbandoned`]; the challenger's result has *stalled* and can never open
//!   another challenge ([`Error::ResultStalled`]).
//!
//! **A tournament decides every dispute.** The defender of a new challenge is the majority
//! result while it is payable (neither proven wrong nor forfeited); without one, the leading
//! other payable result (most reveals, then the lowest hash). After each decided walk:
//!
//! - a payable majority waits for `dispute_end` as `Concluded` (other minority results may
//!   still challenge it) and is paid then;
//! - without one, if a single payable result is left and a re-execution confirmed it, it is paid
//!   at once; with none left the job is refunded; otherwise it stays `Disputed` and the next
//!   walk is played.
//!
//! At `dispute_end` the same rule decides, except that several payable results (or one never
//! confirmed) are refunded ([`RefundReason::DisputeUnresolved`], or
//! [`RefundReason::ChallengeUnanswered`] when a side forfeited). An honest result always wins
//! its walks (at the first item where two trees differ it is right and the other is not), so
//! among any number of distinct results (colluders revealing different garbage) the honest one
//! ends paid and every garbage result that played is proven wrong; a result nobody checked is
//! never punished as wrong. A dispute (no majority) of several items is walked the same way.
//!
//! **The delay is bounded.** Every walk ends with a result stalled, forfeited or proven wrong,
//! each at most once per result, so a job has at most `3 × results` walks. The job's first
//! challenge (or re-execution) fixes [`Verdicts::latest_end`] = its `dispute_end + 3 × results ×
//! challenge_rounds × reveal_period`; a challenge whose rounds would end later is refused
//! ([`Error::ChallengeWindowExhausted`]). Repeating a stalled challenge, the old way to keep an
//! honest majority unpaid for a fee per round, is refused.
//!
//! Anyone may open a challenge (naming a revealed payable result that never stalled) and send
//! any side's nodes (they prove themselves against the side's result); the providers' workers
//! do both. Opening costs its fee; accepted answers and decisive re-executions are free. A job
//! has one challenge at a time.
//!
//! **What one item proves.** The walk ends at the *first* item where the two trees differ, so
//! an honest side always wins it: there it is right and the other side is not. When both sides
//! are wrong, the one right at that item wins and is paid although it may be wrong elsewhere;
//! the other is penalised, rightly. Re-execution checks one item, as for every dispute.
//!
//! ## Off-chain worker
//!
//! A provider's worker ([`ocw`]) finds its assignments ([`ProviderJobs`]) for every local
//! `dsyn` key registered as a node's off-chain key, computes each job's result with the local
//! `aivm` server and submits commit and reveal as signed transactions, keeping local records so
//! nothing is submitted twice. When a one-item job it revealed concludes on another result,
//! the worker challenges the majority once ([`Pallet::resolve_by_execution`]). For a job of
//! several items and providers it keeps its result's leaves (32 bytes per item) in local
//! storage until the job ends, opens a [`Pallet::challenge`] once when outvoted, answers every round of a
//! challenge its result is a side of ([`Pallet::reveal_nodes`]), and, as the challenger, asks
//! for the re-execution of the item found (downloading the batch again for its input). Each run
//! first sends everything that needs no HTTP exchange (reveals, commitments already computed,
//! challenge answers), then computes within a time budget, earliest commit deadline first, so
//! a client's batch URL that stalls cannot delay the transactions with short windows; see
//! [`ocw`]. Its transactions take their nonce from the account's nonce and the nonce it last
//! used ([`dsync_primitives::offchain::submit_signed`]), so a run whose predecessor's
//! transactions are still in the pool does not collide with them. The server's URL
//! is read from the node's persistent off-chain storage under `b"dsync/aivm-url"` (raw UTF-8
//! bytes, set by the node from `--aivm-url`), default `http://127.0.0.1:8710`.
//!
//! ### The `aivm` HTTP contract
//!
//! `POST {aivm_url}/v1/infer/binary?model=0x9d164bfc…aa3e` with header
//! `Content-Type: application/octet-stream`:
//!
//! - `model`: the model's id, `0x` and the 64 lowercase hex digits of its Blake2-256 hash;
//! - the body: the items in job order, each exactly `input_len` values, every value an `i8` as
//!   its two's-complement byte (`items × input_len` bytes).
//!
//! The server answers `200 OK` with exactly `items × output_len` little-endian `i32` values
//! (4 bytes each), item after item. Headers (`aivm` sends `X-Aivm-Count`, and
//! `X-Aivm-Merkle-Root` when asked) are ignored: the worker computes the result from the
//! outputs itself and never trusts the server's hashes. A binary exchange costs the worker,
//! which runs in the runtime, no JSON encoding or parsing: a 16,384-item batch of the digits
//! model is 1 MiB in and 640 KiB out. The `aivm` crate implements this contract (and a JSON
//! API for people: see its docs).
//!
//! Any other status, a body over 16 MiB or of any other length fails the attempt; so does no
//! answer within 10 seconds. A failed job is tried again two blocks later while its commit
//! window is open.
//!
//! A batch is downloaded with `GET {url}`: the `200 OK` body is exactly `items × input_len`
//! bytes, each value an `i8` as its two's-complement byte, item after item, and must hash to the
//! job's `inputs_hash` ([`inputs_root`]).
//!
//! ## Invariants
//!
//! `try_state` (`Pallet::do_try_state`) checks that the parameters are valid; for every open job:
//! its model exists, its providers are distinct and at most `MaxReplication`, results come with
//! commitments, `commit_deadline < deadline < dispute_end`, its id is below [`NextJobId`], it is
//! listed in [`ProviderJobs`] for each provider and in [`Expiries`] at its `dispute_end`;
//! [`ProviderJobs`] holds nothing else; [`OpenJobCount`] counts the jobs (at most
//! `MaxOpenJobs`); no expiry is queued behind the cursor; every model's code hashes to its
//! record's hash; and, for funds, the balance held for [`HoldReason::Escrow`] by each client is
//! exactly the sum of `k × price` over its open jobs, and [`OpenEscrow`] is that sum over all
//! jobs (what was paid out of a job leaves the escrow only when the job ends).
//!
//! ## Design choices
//!
//! - **Escrow in holds.** The client's funds stay in its account under a `fungible` hold: no pallet
//!   account, and `try_state` checks the hold against the open jobs.
//! - **Payment through the service-payment trait.** The burn rule lives in one place (tokenomics);
//!   the pallet releases and charges per provider in one storage layer.
//! - **No dispute deposit.** `resolve_by_execution` is an ordinary fee-paying call charged at its
//!   worst-case weight (the largest model, the deepest proofs), so the caller pays for the
//!   re-execution unless it proves a result wrong. Its outcome does not depend on who calls it:
//!   the input and leaves are proven against commitments already on chain and the item must be
//!   decisive, so a caller can only reveal the truth about one item, once (the job ends); a
//!   failed challenge changes nothing but costs its fee. A deposit would add nothing but a
//!   barrier for honest providers. (A `DisputeDeposit` hold reason can be added later as variant
//!   index 1 if the call ever becomes free.)
//! - **Providers pay nothing for honest work.** `commit_result` and `reveal_result` are free when
//!   they succeed (`Pays::No`); failing calls pay their fee. The key account must still hold enough
//!   to pass the fee check.
//! - **Weighted draw without replacement, in a later block.** A job is posted
//!   [`JobStatus::Drawing`]; its providers are drawn in the `on_initialize` of the block
//!   [`Config::DrawDelay`] blocks later (2 in the runtime; listed in [`Draws`], at most
//!   [`Config::MaxDrawsPerBlock`] a block, else [`Error::DrawQueueFull`]), by score, with
//!   `blake2_256(SCALE((Randomness::random(b"dsync/gpu-jobs/assign"), job)))` as seed: draw `i`
//!   picks the candidate whose cumulative score passes `u64(blake2_256(SCALE((seed, i)))) mod
//!   total` and removes it. The runtime's randomness in the draw block is the VRF output of the
//!   block before it, authored after the post: neither the poster nor its timing nor filler
//!   posts (which only change the job id) can steer the draw to a provider the poster controls.
//!   Every eligible provider is a candidate ([`Config::MaxCandidates`] is at least the most
//!   service nodes in the runtime). The client is never drawn for its own job. Posting checks
//!   that `k` providers are eligible ([`Error::NotEnoughProviders`] at once); when fewer are
//!   left at the draw, the job is refunded in full ([`RefundReason::NoProviders`]). A job's
//!   commit window starts at its draw: the parameters keep at least two blocks of it
//!   ([`GpuJobsParams`]).
//! - **Bounded work.** Candidates are bounded by [`Config::MaxCandidates`], replication by
//!   [`Config::MaxReplication`], open jobs by [`Config::MaxOpenJobs`], expiries per block by
//!   [`Config::MaxExpiriesPerBlock`], the expiry work per block by
//!   [`Config::MaxJobsPerBlockSettled`]; a re-execution by [`Config::MaxModelBytes`].
//! - **Outcomes in events.** Ended jobs are removed; their outcome is in their final event.
//!
//! ## Runtime wiring
//!
//! - `Currency`: `Balances`; `RuntimeHoldReason`: the runtime's aggregated hold reason.
//! - `Payment`: `pallet_tokenomics::Pallet<Runtime>`; `Usage`: `pallet_proof_of_sync`.
//! - `Providers`: a runtime type implementing [`ProviderSource`] over the node registry (active
//!   service nodes offering GPU inference and the model, `node_of_key`) and Proof of Sync (scores;
//!   penalties as misses or slashes).
//! - `AuthorityId = dsync_primitives::offchain::DsyncAuthId` (the node's `dsyn` key, the one
//!   Proof of Sync signs with), with the runtime's `CreateSignedTransaction` for
//!   `Call<Runtime>`.
//! - The runtime API [`runtime_api::GpuJobsApi`] returns an open job and a model.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod challenges;
mod disputes;
mod invariants;
mod jobs;
pub mod migrations;
mod models;
mod parameters;
mod results;
mod settlement;
mod views;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub mod ocw;
// The items `decl_runtime_apis!` generates around the documented trait carry no docs.
#[allow(missing_docs)]
pub mod runtime_api;
pub mod traits;
pub mod types;
pub mod weights;

pub use dsync_primitives::traits::{ModelId, ServiceKind, ServicePayment, UsageRecorder};
pub use pallet::*;
#[cfg(feature = "runtime-benchmarks")]
pub use traits::BenchmarkHelper;
pub use traits::ProviderSource;
pub use types::{
	challenge_rounds, challenge_slice, commitment_of, input_leaf, inputs_root, is_valid_url,
	outputs_root, BalanceOf, BatchItem, Challenge, GpuJobsParams, Job, JobId, JobInput, JobInputOf,
	JobInputView, JobStatus, JobView, LocalJob, MaxChallengeNodes, MaxItemLen, MaxProofLen,
	ModelRecord, PenaltyReason, ProviderSlot, ProviderSlotsOf, RefundReason, ResultClaim, Standing,
	Tally, Verdicts, CHALLENGE_LEVELS, INPUT_UNAVAILABLE, MACS_PER_UNIT, MAX_BATCH_INPUT_BYTES,
	MAX_JOB_OUTPUTS, MAX_PERIOD,
};
pub use weights::WeightInfo;

/// The log target of this pallet.
const LOG_TARGET: &str = "runtime::gpu-jobs";

/// The pallet: configuration, storage, genesis, events, errors, hooks and calls. The logic lives
/// in the topic modules (`models`, `jobs`, `results`, `settlement`, `disputes`, `challenges`,
/// `parameters`, `views`, `invariants`, `ocw`).
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, Randomness},
	};
	use frame_system::{
		offchain::{AppCrypto, CreateSignedTransaction},
		pallet_prelude::*,
	};
	use sp_core::H256;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the pallet. The events of the pallet reach the runtime through
	/// `frame_system::Config::RuntimeEvent`; the off-chain worker signs its transactions through
	/// the runtime's `CreateSignedTransaction`.
	#[pallet::config]
	pub trait Config: CreateSignedTransaction<Call<Self>> + frame_system::Config {
		/// The native currency escrows are held in, `pallet-balances` in the runtime.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's aggregated hold reason; escrows are held under [`HoldReason::Escrow`].
		type RuntimeHoldReason: From<HoldReason>;

		/// How clients pay providers (tokenomics: the burn share is applied there).
		type Payment: ServicePayment<
			Self::AccountId,
			BalanceOf<Self>,
			HoldReason = Self::RuntimeHoldReason,
		>;

		/// Eligible providers with their scores, key mapping and penalties.
		type Providers: ProviderSource<Self::AccountId>;

		/// Where delivered work is reported (Proof of Sync's utilisation tracking).
		type Usage: UsageRecorder<Self::AccountId>;

		/// The source of the draw's randomness.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// The key the off-chain worker signs results with:
		/// [`DsyncAuthId`](dsync_primitives::offchain::DsyncAuthId).
		type AuthorityId: AppCrypto<Self::Public, Self::Signature>;

		/// The origin that registers models and sets their status and price floor (the DSYNC
		/// runtime: root or a passed `network_admin` referendum).
		type ModelOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The origin that sets the timing parameters (the DSYNC runtime: root or a passed
		/// `parameter_admin` referendum).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The largest `.aivm` file a model may have, in bytes (65_536 in the runtime); it bounds
		/// the cost of a re-execution.
		#[pallet::constant]
		type MaxModelBytes: Get<u32>;

		/// The most `i8` values of an inline input (4096 in the runtime).
		#[pallet::constant]
		type MaxInlineInput: Get<u32>;

		/// The largest replication `k` (7 in the runtime); at most 255.
		#[pallet::constant]
		type MaxReplication: Get<u32>;

		/// The most providers considered for one draw. At least the most providers there can
		/// be (the runtime: `MaxServiceNodes`, 1000), so that every eligible provider can be
		/// drawn.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;

		/// Blocks between posting a job and drawing its providers (2 in the runtime): the draw
		/// uses the randomness of the draw block, the VRF output of the block before it, which
		/// nobody knows when the job is posted, so filler posts or timing cannot steer it. 0
		/// draws when the job is posted, with the parent block's randomness, which the poster
		/// knows: for tests only.
		#[pallet::constant]
		type DrawDelay: Get<u32>;

		/// The most jobs whose providers are drawn in one block (64 in the runtime, the jobs a
		/// block can settle); a client whose draw block is full posts again in the next block.
		#[pallet::constant]
		type MaxDrawsPerBlock: Get<u32>;

		/// The most jobs open at once (10_000 in the runtime).
		#[pallet::constant]
		type MaxOpenJobs: Get<u32>;

		/// The most expiry entries (jobs, or empty blocks passed over) `on_initialize` handles
		/// per block.
		#[pallet::constant]
		type MaxJobsPerBlockSettled: Get<u32>;

		/// The most jobs whose deadline or dispute end falls in one block; a client picks
		/// another deadline when a block is full.
		#[pallet::constant]
		type MaxExpiriesPerBlock: Get<u32>;

		/// The longest batch URL, in bytes (256 in the runtime).
		#[pallet::constant]
		type MaxUrlLen: Get<u32>;

		/// Weights of the calls and hooks of this pallet.
		type WeightInfo: WeightInfo;

		/// Makes providers eligible for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A client's escrow for its open jobs.
		#[codec(index = 0)]
		Escrow,
	}

	/// The governed timing parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, GpuJobsParams, ValueQuery>;

	/// The id of the next model.
	#[pallet::storage]
	pub type NextModelId<T: Config> = StorageValue<_, ModelId, ValueQuery>;

	/// Every registered model.
	// `Twox64Concat`: model ids are sequential and assigned by the pallet.
	#[pallet::storage]
	pub type Models<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, ModelRecord<BalanceOf<T>>, OptionQuery>;

	/// The `.aivm` file of every registered model, for on-chain re-execution.
	// `Twox64Concat`: model ids are sequential and assigned by the pallet.
	#[pallet::storage]
	pub type ModelCode<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BoundedVec<u8, T::MaxModelBytes>, OptionQuery>;

	/// The id of the next job.
	#[pallet::storage]
	pub type NextJobId<T: Config> = StorageValue<_, JobId, ValueQuery>;

	/// Every open job; removed when it ends.
	// `Twox64Concat`: job ids are sequential and assigned by the pallet.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, Job<T>, OptionQuery>;

	/// The open jobs of each provider, for its off-chain worker.
	// `Blake2_128Concat` for providers (accounts chosen by users); `Twox64Concat` for job ids
	// (sequential, assigned by the pallet).
	#[pallet::storage]
	pub type ProviderJobs<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, JobId, (), OptionQuery>;

	/// The number of open jobs.
	#[pallet::storage]
	pub type OpenJobCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The funds held in escrow for all open jobs: the sum of their `k × price`.
	#[pallet::storage]
	pub type OpenEscrow<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// The jobs due in each block: listed at their deadline and at their dispute end. Entries
	/// of jobs that already ended are skipped.
	// `Twox64Concat`: block numbers; a client picks one within a bounded window, which cannot
	// unbalance the trie.
	#[pallet::storage]
	pub type Expiries<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxExpiriesPerBlock>,
		ValueQuery,
	>;

	/// The challenge of every job in [`JobStatus::Challenged`]; removed when it ends.
	// `Twox64Concat`: job ids are sequential and assigned by the pallet.
	#[pallet::storage]
	pub type Challenges<T: Config> =
		StorageMap<_, Twox64Concat, JobId, Challenge<T::AccountId, BlockNumberFor<T>>, OptionQuery>;

	/// What the disputes of an open job established about its results, and how late its
	/// challenges may make it end ([`Verdicts`]); created by its first challenge or
	/// re-execution, removed when the job ends.
	// `Twox64Concat`: job ids are sequential and assigned by the pallet.
	#[pallet::storage]
	pub type JobVerdicts<T: Config> = StorageMap<_, Twox64Concat, JobId, Verdicts<T>, OptionQuery>;

	/// The jobs whose providers are drawn in each block ([`JobStatus::Drawing`]), all of them
	/// in that block's `on_initialize`.
	// `Twox64Concat`: block numbers, always `DrawDelay` blocks after the posting block.
	#[pallet::storage]
	pub type Draws<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxDrawsPerBlock>,
		ValueQuery,
	>;

	/// The first block whose expiries are not all handled yet; set at the first
	/// `on_initialize`.
	#[pallet::storage]
	pub type ExpiryCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

	/// The initial parameters and models.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The timing parameters; must be valid ([`GpuJobsParams::is_valid`]).
		pub parameters: GpuJobsParams,
		/// Models registered at genesis, with ids 0, 1, ... in order: each an `.aivm` file and
		/// its price floor.
		pub models: Vec<(Vec<u8>, BalanceOf<T>)>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		/// The default parameters and no model.
		fn default() -> Self {
			Self { parameters: GpuJobsParams::default(), models: Vec::new() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// An invalid genesis config is a mistake of whoever wrote it; the chain must not
			// start with it.
			if !self.parameters.is_valid(T::DrawDelay::get()) {
				panic!("invalid gpu-jobs genesis parameters: {:?}", self.parameters);
			}
			Params::<T>::put(self.parameters);
			for (index, (bytes, price_floor)) in self.models.iter().enumerate() {
				let Ok(bytes) = BoundedVec::<u8, T::MaxModelBytes>::try_from(bytes.clone()) else {
					panic!("gpu-jobs genesis model {index} is longer than MaxModelBytes");
				};
				if let Err(error) = Pallet::<T>::do_register_model(bytes, *price_floor) {
					panic!("gpu-jobs genesis model {index} is invalid: {error:?}");
				}
			}
		}
	}

	/// The events of the pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered.
		ModelRegistered {
			/// Its id.
			model: ModelId,
			/// The Blake2-256 of its `.aivm` file.
			hash: H256,
			/// `i8` values per input item.
			input_len: u32,
			/// `i32` values per output item.
			output_len: u32,
			/// The least price per provider and item.
			price_floor: BalanceOf<T>,
		},
		/// A model was activated or deactivated for new jobs.
		ModelStatusSet {
			/// The model.
			model: ModelId,
			/// Whether new jobs may use it.
			active: bool,
		},
		/// A model's price floor was set.
		PriceFloorSet {
			/// The model.
			model: ModelId,
			/// The least price per provider and item.
			price_floor: BalanceOf<T>,
		},
		/// A job was posted and its escrow held; its providers are drawn in block `draw_at`
		/// ([`Event::JobAssigned`], or [`RefundReason::NoProviders`]).
		JobPosted {
			/// The job.
			job: JobId,
			/// Who pays.
			client: T::AccountId,
			/// The model.
			model: ModelId,
			/// The replication.
			k: u8,
			/// The price per agreeing provider.
			price: BalanceOf<T>,
			/// The block whose randomness draws the providers: `Config::DrawDelay` blocks after
			/// posting (the posting block itself when the delay is 0).
			draw_at: BlockNumberFor<T>,
			/// Reveals are accepted before this block.
			deadline: BlockNumberFor<T>,
		},
		/// A job ended at its dispute end with the majority of its providers voting that its
		/// batch input could not be obtained ([`INPUT_UNAVAILABLE`]): the client forfeited
		/// `forfeited` (`unavailable_forfeit` of the price per voter, burned and to the treasury
		/// through the payment split) and got `refunded` back; no voter is penalised.
		InputUnavailable {
			/// The job.
			job: JobId,
			/// What the client forfeited.
			forfeited: BalanceOf<T>,
			/// What was released back to the client.
			refunded: BalanceOf<T>,
		},
		/// A job's providers were drawn; they commit from now on.
		JobAssigned {
			/// The job.
			job: JobId,
			/// The drawn providers, in draw order.
			providers: Vec<T::AccountId>,
		},
		/// A provider committed to its result.
		ResultCommitted {
			/// The job.
			job: JobId,
			/// The provider.
			provider: T::AccountId,
		},
		/// A provider revealed its result.
		ResultRevealed {
			/// The job.
			job: JobId,
			/// The provider.
			provider: T::AccountId,
			/// The result.
			result: H256,
		},
		/// The reveals ended without a majority: the job waits for a re-execution.
		JobDisputed {
			/// The job.
			job: JobId,
			/// A re-execution is accepted before this block; then the job is refunded.
			dispute_end: BlockNumberFor<T>,
		},
		/// An item of a disputed or challenged job was re-executed on chain.
		DisputeResolved {
			/// The job.
			job: JobId,
			/// The item.
			item: u32,
			/// The `result_hash` of the item's outputs.
			expected: H256,
			/// Who asked for the re-execution.
			by: T::AccountId,
		},
		/// A provider was penalised through [`ProviderSource::penalise`].
		ProviderPenalised {
			/// The job.
			job: JobId,
			/// The provider.
			provider: T::AccountId,
			/// Why.
			reason: PenaltyReason,
		},
		/// An agreeing provider could not be paid; its price went back to the client.
		ProviderPaymentFailed {
			/// The job.
			job: JobId,
			/// The provider.
			provider: T::AccountId,
			/// The price not paid.
			amount: BalanceOf<T>,
		},
		/// A job ended with a winning result.
		JobSettled {
			/// The job.
			job: JobId,
			/// The winning result.
			result: H256,
			/// The providers paid.
			winners: Vec<T::AccountId>,
			/// What the client paid them in total (burn included).
			paid: BalanceOf<T>,
			/// The part of `paid` burned.
			burned: BalanceOf<T>,
			/// What was released to the client: `escrow - paid`.
			refunded: BalanceOf<T>,
		},
		/// A job with revealed results ended without a winner and was refunded in full.
		JobRefunded {
			/// The job.
			job: JobId,
			/// Why.
			reason: RefundReason,
			/// What was released to the client.
			refunded: BalanceOf<T>,
		},
		/// A job reached its deadline without any revealed result and was refunded in full.
		JobExpired {
			/// The job.
			job: JobId,
			/// What was released to the client.
			refunded: BalanceOf<T>,
		},
		/// The parameters were set.
		ParametersSet {
			/// The new parameters.
			parameters: GpuJobsParams,
		},
		/// The reveals ended with a majority result. It is paid at `payable_at` unless a
		/// re-execution ([`Pallet::resolve_by_execution`]) proves it wrong before.
		JobConcluded {
			/// The job.
			job: JobId,
			/// The majority result.
			result: H256,
			/// The end of the challenge window: the job's `dispute_end`.
			payable_at: BlockNumberFor<T>,
		},
		/// A minority result challenges the majority result of a job of several items.
		ChallengeOpened {
			/// The job.
			job: JobId,
			/// The challenging result.
			result: H256,
			/// The defending result: the majority result, or for a dispute the other result.
			defender: H256,
			/// Who opened it.
			by: T::AccountId,
			/// The first round is answered before this block.
			round_end: BlockNumberFor<T>,
			/// The challenge is decided by this block, the job's new `dispute_end`.
			dispute_end: BlockNumberFor<T>,
		},
		/// One side of a challenge revealed its nodes for the round.
		ChallengeAnswered {
			/// The job.
			job: JobId,
			/// The side's result.
			result: H256,
			/// The level of the contested node.
			level: u32,
		},
		/// Both sides answered: the challenge moved down to the first node where they differ.
		ChallengeNarrowed {
			/// The job.
			job: JobId,
			/// Its level (0: the item to re-execute with `resolve_by_execution`).
			level: u32,
			/// Its position at that level.
			position: u32,
			/// The next round is answered before this block.
			round_end: BlockNumberFor<T>,
		},
		/// The challenger's side did not answer a round, or nobody re-executed the item found,
		/// in time: the majority result stands and is paid at the job's `dispute_end`.
		ChallengeAbandoned {
			/// The job.
			job: JobId,
		},
		/// A challenge ended at its item: the re-execution confirmed one side (or neither) and
		/// proved the other wrong. The job goes on (other results may still challenge) or ends
		/// in the same transaction.
		ChallengeDecided {
			/// The job.
			job: JobId,
			/// The result the re-execution matched, if either side's.
			confirmed: Option<H256>,
			/// The results it proved wrong.
			proven_wrong: Vec<H256>,
		},
		/// A challenge's defending side did not answer a round with the challenger's nodes in:
		/// its result is not paid and its providers are penalised `Unanswered` when the job
		/// ends.
		ChallengeForfeited {
			/// The job.
			job: JobId,
			/// The defending result.
			result: H256,
		},
	}

	/// The errors of the pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The model file is not a valid `.aivm` v1 model (see `dsync_aivm_core::ParseError`).
		InvalidModel,
		/// No model has this id.
		UnknownModel,
		/// The model is deactivated: new jobs cannot use it.
		ModelInactive,
		/// The replication is 0 or above `MaxReplication`.
		InvalidReplication,
		/// An inline input is empty or not a whole number of items of the model's input
		/// length, or a batch has no item.
		InvalidInput,
		/// The batch URL is not an `http://` or `https://` URL of printable ASCII.
		InvalidUrl,
		/// The job is too large: a batch over `MAX_BATCH_INPUT_BYTES` of input, or more than
		/// `MAX_JOB_OUTPUTS` output values. Split it into several jobs.
		JobTooLarge,
		/// The price per provider is zero or below the model's price floor times the number of
		/// items.
		PriceBelowFloor,
		/// The deadline is not within `min_deadline..=max_deadline` blocks from now.
		InvalidDeadline,
		/// `MaxOpenJobs` jobs are open; wait for some to end.
		TooManyOpenJobs,
		/// The block of the deadline or of the dispute end already has `MaxExpiriesPerBlock`
		/// jobs; choose another deadline.
		ExpiryQueueFull,
		/// Fewer than `k` providers with a non-zero score (other than the client) serve the
		/// model; lower the replication or wait for providers.
		NotEnoughProviders,
		/// The signer is not the off-chain key of any registered node. Sign with the `dsyn` key
		/// registered for your service node.
		UnknownOffchainKey,
		/// No open job has this id (it never existed or already ended).
		UnknownJob,
		/// The signer's node is not assigned to this job.
		NotAssigned,
		/// The commit window is not open: the job is past its `commit_deadline` or no longer
		/// open.
		NotInCommitWindow,
		/// This provider already committed to this job.
		AlreadyCommitted,
		/// The reveal window is not open: not yet (wait until every provider committed or until
		/// the commit deadline), or no longer (the deadline passed, or the job concluded or is
		/// disputed).
		NotInRevealWindow,
		/// There is no commitment to reveal; commit first.
		NoCommitment,
		/// The result and salt do not hash to the commitment.
		CommitmentMismatch,
		/// This provider already revealed its result.
		AlreadyRevealed,
		/// The job is not due: its deadline has not passed, or it is disputed or concluded and
		/// its dispute end has not passed.
		JobNotDue,
		/// The job cannot be re-executed yet: it is not disputed, has no concluded result, and
		/// its deadline has not passed with a revealed result. For [`Pallet::challenge`]: the
		/// job is neither concluded nor disputed, or no other payable result is left to
		/// challenge.
		NotChallengeable,
		/// The dispute period is over: the job is paid or refunded at its dispute end.
		DisputeClosed,
		/// The item index is not below the job's number of items.
		InvalidItemIndex,
		/// A batch job's re-execution needs the item's input and its proof.
		MissingBatchItem,
		/// The item's input does not have the model's input length.
		InvalidItemInput,
		/// The item's input does not prove against the job's `inputs_hash`.
		InvalidInputProof,
		/// A revealed result has no claim; give one claim per distinct revealed result.
		MissingClaim,
		/// A claim names a result nobody revealed, or names one twice.
		UnexpectedClaim,
		/// A claim's leaf does not prove against its result.
		InvalidClaimProof,
		/// Two distinct revealed results both match the re-executed item, so it decides
		/// nothing; choose an item where they differ.
		ItemNotDecisive,
		/// The parameters are out of bounds (see [`GpuJobsParams`]); nothing changed.
		InvalidParameters,
		/// The re-executed item matches the majority result: the challenge failed and nothing
		/// changed (the caller paid the call's fee).
		MajorityConfirmed,
		/// A one-item job's result is its own leaf: challenge it with
		/// [`Pallet::resolve_by_execution`] directly.
		OneItemJob,
		/// The job is already challenged; wait for that challenge to end.
		ChallengeInProgress,
		/// The result was not revealed on this job, or it is the majority result.
		NotAMinorityResult,
		/// The job is not challenged.
		NoChallenge,
		/// The result is neither side of the job's challenge.
		NotInChallenge,
		/// This side already revealed its nodes in this round.
		AlreadyAnswered,
		/// The challenge's current round is over: no more answers are taken.
		ChallengeRoundClosed,
		/// The challenge has found its item: re-execute it with
		/// [`Pallet::resolve_by_execution`].
		ChallengeAtItem,
		/// The challenge has not found its item yet: both sides must reveal their nodes first.
		ChallengeNotAtItem,
		/// The result was proven wrong or did not defend a challenge: it cannot challenge.
		ResultEliminated,
		/// A challenge this result opened stalled: a result opens challenges until one stalls.
		ResultStalled,
		/// The challenge's rounds would end after the latest block the job's challenges may
		/// reach ([`Verdicts::latest_end`]); the job is decided at its dispute end.
		ChallengeWindowExhausted,
		/// The nodes are not the round's run (wrong number, see [`challenge_slice`]) or do not
		/// hash to the side's contested node.
		InvalidNodes,
		/// The block this job's providers would be drawn in already has `MaxDrawsPerBlock`
		/// draws; post again in the next block.
		DrawQueueFull,
		/// The vote that the input was unavailable ([`INPUT_UNAVAILABLE`]) was revealed for an
		/// inline job, whose input is on chain.
		InputOnChain,
		/// The vote that the input was unavailable ([`INPUT_UNAVAILABLE`]) has no Merkle tree:
		/// it is no side of a challenge walk. To show the input was available, re-execute one
		/// item with its input proven against the batch's hash ([`Pallet::resolve_by_execution`]).
		InputUnavailableVote,
		/// Only a provider that revealed the result (its owner or its worker's off-chain key)
		/// may open a challenge with it: nobody else may start a walk its providers could miss
		/// and so stall their result for good.
		NotAProviderOfResult,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Draw the providers of the jobs listed for this block ([`Draws`]), then settle due
		/// jobs, at most `MaxJobsPerBlockSettled` entries per block.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::process_draws(now).saturating_add(Self::process_expiries(now))
		}

		/// Compute, commit and reveal the results of this node's assigned jobs.
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_offchain_worker(now);
		}

		fn integrity_test() {
			assert!(
				(1..=u32::from(u8::MAX)).contains(&T::MaxReplication::get()),
				"MaxReplication must be in 1..=255 (the replication is a u8)"
			);
			assert!(
				T::MaxCandidates::get() >= T::MaxReplication::get(),
				"MaxCandidates must be at least MaxReplication"
			);
			assert!(T::MaxJobsPerBlockSettled::get() >= 1, "MaxJobsPerBlockSettled must be >= 1");
			assert!(T::MaxExpiriesPerBlock::get() >= 1, "MaxExpiriesPerBlock must be >= 1");
			assert!(T::MaxDrawsPerBlock::get() >= 1, "MaxDrawsPerBlock must be >= 1");
			assert!(T::MaxOpenJobs::get() >= 1, "MaxOpenJobs must be >= 1");
			assert!(T::MaxInlineInput::get() >= 1, "MaxInlineInput must be >= 1");
			assert!(T::MaxModelBytes::get() >= 64, "MaxModelBytes must hold a model");
			assert!(T::MaxUrlLen::get() >= 16, "MaxUrlLen must hold a URL");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register an `.aivm` model with its price floor (per provider and item).
		///
		/// Origin: [`Config::ModelOrigin`]. Fails with [`Error::InvalidModel`] when the file does
		/// not parse. The model gets the next id and is active. Emits
		/// [`Event::ModelRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model(
			dsync_primitives::convert::usize_to_u32(model_bytes.len())
		))]
		pub fn register_model(
			origin: OriginFor<T>,
			model_bytes: BoundedVec<u8, T::MaxModelBytes>,
			#[pallet::compact] price_floor: BalanceOf<T>,
		) -> DispatchResult {
			T::ModelOrigin::ensure_origin(origin)?;
			Self::do_register_model(model_bytes, price_floor).map(|_| ())
		}

		/// Activate or deactivate a model for new jobs (open jobs are not affected).
		///
		/// Origin: [`Config::ModelOrigin`]. Fails with [`Error::UnknownModel`]. Emits
		/// [`Event::ModelStatusSet`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_model_status())]
		pub fn set_model_status(
			origin: OriginFor<T>,
			model: ModelId,
			active: bool,
		) -> DispatchResult {
			T::ModelOrigin::ensure_origin(origin)?;
			Self::do_set_model_status(model, active)
		}

		/// Set a model's price floor (per provider and item) for new jobs.
		///
		/// Origin: [`Config::ModelOrigin`]. Fails with [`Error::UnknownModel`]. Emits
		/// [`Event::PriceFloorSet`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_price_floor())]
		pub fn set_price_floor(
			origin: OriginFor<T>,
			model: ModelId,
			#[pallet::compact] price_floor: BalanceOf<T>,
		) -> DispatchResult {
			T::ModelOrigin::ensure_origin(origin)?;
			Self::do_set_price_floor(model, price_floor)
		}

		/// Post a job: run `model` on `input` by `replication` providers, each paid
		/// `price_per_provider` for the whole job if its result wins, results revealed before
		/// block `deadline`.
		///
		/// The price is per provider for the whole job: at least the model's price floor times
		/// the number of items, and not zero. `replication × price_per_provider` is held from the
		/// caller until the job ends. Fails with [`Error::UnknownModel`],
		/// [`Error::ModelInactive`], [`Error::InvalidReplication`], [`Error::InvalidInput`],
		/// [`Error::InvalidUrl`], [`Error::JobTooLarge`], [`Error::PriceBelowFloor`],
		/// [`Error::InvalidDeadline`], [`Error::TooManyOpenJobs`], [`Error::ExpiryQueueFull`],
		/// [`Error::NotEnoughProviders`], an arithmetic overflow, or the currency's error when
		/// the funds cannot be held. Emits [`Event::JobPosted`].
		#[pallet::call_index(3)]
		#[pallet::weight(
			T::WeightInfo::post_job(T::MaxCandidates::get())
				.saturating_add(T::Providers::eligible_overhead())
		)]
		pub fn post_job(
			origin: OriginFor<T>,
			model: ModelId,
			input: JobInputOf<T>,
			replication: u8,
			#[pallet::compact] price_per_provider: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			Self::do_post_job(client, model, input, replication, price_per_provider, deadline)
				.map(|_| ())
		}

		/// Commit to a result: `commitment = commitment_of(job, provider, result, salt)`
		/// ([`commitment_of`]), with `provider` the node owner.
		///
		/// Origin: signed by the off-chain key of an assigned provider's node, in the commit
		/// window. Fails with [`Error::UnknownOffchainKey`], [`Error::UnknownJob`],
		/// [`Error::NotAssigned`], [`Error::AlreadyCommitted`] or [`Error::NotInCommitWindow`].
		/// Free on success. Emits [`Event::ResultCommitted`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::commit_result())]
		pub fn commit_result(
			origin: OriginFor<T>,
			job: JobId,
			commitment: H256,
		) -> DispatchResultWithPostInfo {
			let key = ensure_signed(origin)?;
			Self::do_commit_result(key, job, commitment)
		}

		/// Reveal the result committed to, with its salt.
		///
		/// Origin: as for [`Pallet::commit_result`], once every provider committed or the commit
		/// deadline passed, before the deadline. Fails with [`Error::UnknownOffchainKey`],
		/// [`Error::UnknownJob`], [`Error::NotAssigned`], [`Error::NoCommitment`],
		/// [`Error::AlreadyRevealed`], [`Error::NotInRevealWindow`] or
		/// [`Error::CommitmentMismatch`]. Free on success. Emits [`Event::ResultRevealed`];
		/// the last possible reveal concludes the job at once ([`Event::JobConcluded`] with a
		/// majority, [`Event::JobDisputed`] without).
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::reveal_result())]
		pub fn reveal_result(
			origin: OriginFor<T>,
			job: JobId,
			result: H256,
			salt: [u8; 32],
		) -> DispatchResultWithPostInfo {
			let key = ensure_signed(origin)?;
			Self::do_reveal_result(key, job, result, salt)
		}

		/// Settle a due job now: after its deadline, conclude a job still taking results
		/// (concluded with a majority, expired, or disputed); after its dispute end, pay a
		/// majority result or refund an unresolved dispute, as `on_initialize` would.
		///
		/// Origin: any signed account. Fails with [`Error::UnknownJob`] or
		/// [`Error::JobNotDue`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::settle())]
		pub fn settle(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_settle(job)
		}

		/// Resolve a disputed job, challenge a concluded job's majority result, or decide a
		/// [`Pallet::challenge`] that found its item, by re-executing item `item_index` on
		/// chain.
		///
		/// `batch_item` is required for a batch job (the item's input and its proof against the
		/// job's `inputs_hash`) and ignored for an inline job. `claims` give, for a job of more
		/// than one item, each distinct revealed result's leaf at the item with its proof; a
		/// one-item job needs none, nor a challenged job (both sides' leaves are on chain: the
		/// item must be the challenge's). A challenge whose round ended undecided is closed
		/// first ([`Event::ChallengeAbandoned`] or [`Event::ChallengeForfeited`]) and the job is
		/// re-executed as the concluded or disputed job it is again: so the result left
		/// standing after the last walk's defender forfeited is confirmed with its own claim
		/// alone. Origin: any signed account. A successful call is free
		/// (`Pays::No`): it ends the dispute, so it cannot be repeated, and its cost falls on the
		/// loser, whose result was proven wrong and who is penalised (in the runtime: suspended
		/// and slashed); a failing call pays its fee. Fails with [`Error::UnknownJob`],
		/// [`Error::NotChallengeable`], [`Error::MajorityConfirmed`] (a failed challenge),
		/// [`Error::DisputeClosed`], [`Error::InvalidItemIndex`], [`Error::MissingBatchItem`],
		/// [`Error::InvalidItemInput`], [`Error::InvalidInputProof`], [`Error::MissingClaim`],
		/// [`Error::UnexpectedClaim`], [`Error::InvalidClaimProof`],
		/// [`Error::ItemNotDecisive`], and for a challenged job [`Error::ChallengeNotAtItem`].
		/// Emits [`Event::DisputeResolved`], then
		/// [`Event::JobSettled`] (a result matched) or [`Event::JobRefunded`] (none did).
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::resolve_by_execution())]
		pub fn resolve_by_execution(
			origin: OriginFor<T>,
			job: JobId,
			item_index: u32,
			batch_item: Option<BatchItem>,
			claims: BoundedVec<ResultClaim, T::MaxReplication>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_resolve_by_execution(who, job, item_index, batch_item, claims)?;
			Ok(Pays::No.into())
		}

		/// Challenge, with `result` (a revealed result that is payable and never stalled), the
		/// majority result of a concluded job of several items; or, without a payable majority,
		/// the leading other payable result (a tournament: see the crate docs).
		///
		/// A job of several items cannot be re-executed whole on chain, and only a result's
		/// providers hold its leaves, so the two sides walk down their Merkle trees to an item
		/// where they differ ([`Challenge`]): each round both reveal [`challenge_slice`] of
		/// their tree with [`Pallet::reveal_nodes`] before the round ends; the item found is
		/// re-executed with [`Pallet::resolve_by_execution`]. Rounds last the `reveal_period`
		/// of the parameters; the job's `dispute_end` moves to the end of the last round if it
		/// is later, but never past [`Verdicts::latest_end`]. A side that does not answer in
		/// time: the defender's forfeits (not paid, a miss for its providers), the
		/// challenger's stalls (it never challenges again).
		///
		/// A job has one challenge at a time; a challenge whose round ended undecided is closed
		/// and gives way to a new one ([`Event::ChallengeAbandoned`] or
		/// [`Event::ChallengeForfeited`], then [`Event::ChallengeOpened`]); the call's weight is
		/// measured on the replacing path, its worst case.
		///
		/// Origin: a provider that revealed `result`, its owner account or its worker's
		/// off-chain key (anyone else could open the walk when that provider is offline and
		/// stall its result for good); it pays the call's fee. Fails with
		/// [`Error::NotAProviderOfResult`], [`Error::UnknownJob`], [`Error::OneItemJob`],
		/// [`Error::ChallengeInProgress`] (the
		/// current challenge's round has not ended), [`Error::NotChallengeable`] (not concluded
		/// or disputed, or no other payable result), [`Error::DisputeClosed`],
		/// [`Error::NotAMinorityResult`], [`Error::ResultEliminated`], [`Error::ResultStalled`],
		/// [`Error::ChallengeWindowExhausted`] or [`Error::ExpiryQueueFull`] (the new dispute
		/// end's queue is full: try in the next block). Emits [`Event::ChallengeOpened`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::challenge())]
		pub fn challenge(origin: OriginFor<T>, job: JobId, result: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_challenge(who, job, result)
		}

		/// Reveal, for `result`'s side of the job's challenge, the nodes of its tree below the
		/// contested node ([`challenge_slice`]): they must hash to that side's node
		/// (`dsync_aivm_core::batch_merkle_root`). Once both sides answered, the challenge moves
		/// to the first node where they differ.
		///
		/// Origin: any signed account (the nodes prove themselves; a side's providers' workers
		/// send them). Free on success; a failing call pays its fee. Fails with
		/// [`Error::UnknownJob`], [`Error::NoChallenge`], [`Error::NotInChallenge`],
		/// [`Error::ChallengeAtItem`], [`Error::ChallengeRoundClosed`],
		/// [`Error::AlreadyAnswered`] or [`Error::InvalidNodes`]. Emits
		/// [`Event::ChallengeAnswered`], and [`Event::ChallengeNarrowed`] when both sides
		/// answered.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::reveal_nodes())]
		pub fn reveal_nodes(
			origin: OriginFor<T>,
			job: JobId,
			result: H256,
			nodes: BoundedVec<H256, MaxChallengeNodes>,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			Self::do_reveal_nodes(job, result, nodes)?;
			Ok(Pays::No.into())
		}

		/// Set the timing parameters. Open jobs keep the windows they were posted with.
		///
		/// Origin: [`Config::AdminOrigin`]. Fails with [`Error::InvalidParameters`], changing
		/// nothing, when a bound listed on [`GpuJobsParams`] is broken. Emits
		/// [`Event::ParametersSet`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_parameters())]
		pub fn set_parameters(origin: OriginFor<T>, parameters: GpuJobsParams) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_parameters(parameters)
		}
	}
}
