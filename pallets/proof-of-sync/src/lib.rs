//! # Proof-of-Sync pallet
//!
//! Every epoch, validators probe the service nodes of the DSYNC network (GPU inference, naming,
//! storage) over HTTP from their off-chain workers; the chain aggregates what they saw into a
//! score per node, suspends and slashes nodes that keep failing, and pays the epoch's reward
//! budget by score, capacity and usage.
//!
//! ## Overview
//!
//! - **Who is probed.** At the start of each epoch the pallet snapshots the service nodes of the
//!   node registry ([`Config::Registry`], `pallet-node-registry` in the runtime) that are
//!   `Pending`, `Active` or `Suspended`: the *targets*.
//! - **Who probes.** The *verifier candidates* are the `Active` validator nodes of the registry
//!   whose owner is in the active validator set ([`Config::IsActiveValidator`]) and whose
//!   [`Reputation`] is at least `min_reputation`. For every target, `k = verifiers_per_node`
//!   of them are drawn at random (never the target's own owner).
//! - **How.** Each drawn verifier's off-chain worker probes the target with a fresh challenge
//!   seed, commits to its report (a hash) in the first half of the epoch and reveals it in the
//!   second half, through [`Pallet::commit_report`] and [`Pallet::reveal_report`], signed with
//!   its `dsyn` key. Commit-reveal keeps verifiers from copying each other: a commitment binds
//!   the epoch, the target and the verifier ([`ProbeReport::commitment`]), so neither another
//!   verifier's commitment and reveal nor one's own of an earlier epoch can be revealed again.
//! - **Tally.** After the reveal window, every target's revealed reports are aggregated: each
//!   flag by strict majority, each measurement by median. A tie decides nothing (the target is
//!   not scored that epoch). Reports the majority confirms earn credits and era points
//!   ([`Config::EraPoints`]); a report that a strict majority contradicts in the target's
//!   favour is clipped and costs its verifier reputation; a report that saw the target worse
//!   than the majority did is excused, neither paid nor clipped.
//! - **Consequences.** The target's score moves towards the epoch's quality; its status moves
//!   through the registry (`Pending → Active → Suspended`, slashes scheduled on repeated
//!   misses); a provably wrong signed answer suspends and slashes at once.
//! - **Rewards.** The epoch budget (`epoch_reward`, at most what [`Config::RewardSource`] can
//!   spend) goes to active service nodes by reward weight and to verifiers by confirmed
//!   reports.
//!
//! All work is bounded per block: each phase handles at most [`Config::NodesPerBlock`] items per
//! block and keeps a cursor across blocks.
//!
//! ## Terminology
//!
//! - **Target**: a service node probed this epoch (an entry of [`Targets`]).
//! - **Verifier**: the owner of a validator node drawn to probe a target. It acts through its
//!   node's off-chain key: the registry maps the key account to the owner
//!   ([`NodeRegistry::node_of_key`]).
//! - **Slot**: one verifier's place in a target's [`Assignment`], holding its commitment and
//!   revealed [`ProbeReport`].
//! - **Quality**: what one epoch's aggregated report is worth, in `[0, 100 %]`.
//! - **Score**: the exponential moving average of the qualities ([`NodeScore`]).
//! - **Miss**: an epoch whose quality is below `miss_quality` (service nodes), or a slot left
//!   without a revealed report (verifiers, called *absences*).
//! - **Reputation**: a verifier's standing, lowered by clipped reports and absences, raised by
//!   confirmed reports; below `min_reputation` it is not drawn.
//! - **Verdict**: what the revealed reports decide about one flag (`available`,
//!   `challenge_ok`): yes or no by strict majority, or a tie, which decides nothing.
//! - **Confirmed, excused, clipped**: how a revealed report fares against its target's
//!   aggregate (see [Scores](#scores)).
//! - **Credit**: one confirmed report; the verifiers' share of the budget is paid by credits.
//! - **Rewardable usage**: the part of a delivery a service pallet recorded that weighs into
//!   rewards: nothing unless it was verified (checked by someone other than its provider), and
//!   at most what its burned fee pays for ([`rewardable_usage`]).
//! - **Reference usage**: the lower median of the targets' non-zero rewardable usages of an
//!   epoch ([`reference_usage`]); a node at or above it gets the full usage factor.
//!
//! ## Calls
//!
//! | index | call | origin | what |
//! | --- | --- | --- | --- |
//! | 0 | [`commit_report`](Pallet::commit_report) | verifier key | commit to a report |
//! | 1 | [`reveal_report`](Pallet::reveal_report) | verifier key | reveal the report |
//! | 2 | [`set_parameters`](Pallet::set_parameters) | admin | all [`ProofOfSyncParams`] |
//!
//! Reports are signed by the verifier's off-chain (`dsyn`) key account and are free when they
//! succeed.
//!
//! ## The epoch
//!
//! The state machine ([`EpochInfo`], [`Phase`]) advances in `on_initialize`; every step returns
//! its benchmarked weight. With `S` the start block and `L = epoch_length`:
//!
//! - `Starting` (one block): epoch index + 1, the registry's `on_epoch_start`, snapshots of
//!   the targets and the candidates, the epoch seed; then `Assigning { cursor: 0 }`.
//! - `Assigning { cursor }` (from `S + 1`): the verifiers of up to `NodesPerBlock` targets per
//!   block are drawn; then `Collecting`.
//! - `Collecting` (until `S + L - 1`): nothing happens on chain; verifiers commit and reveal.
//! - `Tallying { cursor }` (from `S + L`): up to `NodesPerBlock` targets per block are
//!   aggregated; at the end the budget is fixed and the phase is `Paying { cursor: 0 }`.
//! - `Paying { cursor }`: up to `NodesPerBlock` recipients per block are paid; at the end
//!   [`Event::EpochClosed`], per-epoch storage is cleared and the phase is `Starting`.
//!
//! - **Commit window**: `S <= now < S + L / 2` (phase `Assigning` or `Collecting`, for targets
//!   already assigned).
//! - **Reveal window**: `S + L / 2 <= now < S + L` (phase `Collecting`).
//! - At `now >= S + L` in phase `Collecting`, the tally starts in the same block. The next
//!   epoch starts the block after the last payment, so an epoch lasts `L` blocks plus the
//!   tally and payment blocks plus one.
//!
//! The epoch seed is `blake2_256(SCALE((Randomness::random(b"dsync/pos"), index)))`; a target's
//! challenge seed is `blake2_256(SCALE((epoch seed, index, node)))`; the `k` verifiers of a
//! target are the candidates with the smallest `blake2_256(seed ++ SCALE(candidate))`.
//!
//! ## Scores
//!
//! Per target, with `R` the revealed reports (`n` of them) and *passing* reports those that saw
//! the node available with the challenge passed ([`ProbeReport::passed`]):
//!
//! - **Verdicts**: `available` is *yes* when more than `n / 2` reports say so, *no* when more
//!   than `n / 2` say not, and a *tie* otherwise; likewise `challenge_ok`.
//! - **Medians**: latency and lag are the medians of the passing reports only (the others
//!   measured nothing: they carry `max_latency_ms` and `max_lag`): the middle value of an odd
//!   count, the mean of the two middle values of an even count (rounded down).
//! - **Decision**: the node was *down* when `available` is *no*, or *yes* with `challenge_ok`
//!   *no*; *up* when both are *yes*; otherwise (a tie on `available`, or on `challenge_ok` of an
//!   available node) the reports decide nothing: the node is *not scored* this epoch, exactly as
//!   with an empty `R` ([`Event::NodeNotScored`]: no score change, no miss, no status change, no
//!   reward weight).
//! - **Quality**: 0 when down; when up `q = f(latency; target_latency_ms, max_latency_ms) ·
//!   f(lag; tolerated_lag, max_lag)` of the medians, where `f(x; a, b)` is 100 % for `x <= a`,
//!   0 for `x >= b` and `(b − x) / (b − a)` between (rounded down).
//! - **Score**: `score = ema_alpha · q + (1 − ema_alpha) · score` (each product rounded down);
//!   `q < miss_quality` is a miss (`misses += 1`, `good_streak = 0`), otherwise
//!   `misses = 0`, `good_streak += 1`.
//! - **Judgement** of each revealed report:
//!   - *clipped* (`− reputation_penalty`, [`Event::VerifierClipped`]) when a strict majority
//!     contradicts it in the target's favour: it says available (or challenge passed) where
//!     the verdict is *no*, or, the node being up, more than half of the passing reports
//!     measured a latency more than `clip_latency_ms` above its own (a lag more than `clip_lag`
//!     above its own);
//!   - *confirmed* (`+ reputation_recovery`, one credit, `verification_points` era points) when
//!     it agrees with every decided verdict and, the node being up, its latency and lag are
//!     within `clip_latency_ms` and `clip_lag` of the medians;
//!   - *excused* (neither) otherwise: it saw the node worse than the majority did (down,
//!     failed, slower, further behind), its measurements are far from a median no strict
//!     majority backs, or the reports tied.
//!
//!   A report that is not clipped resets its verifier's absence count.
//!
//! Why majorities and not the old lower median: with an even `n` the lower median of a flag is
//! *no* on a tie, so one "down" report among two decided the epoch and clipped the other, honest
//! verifier; and the lower median of two measurements let the more favourable one decide alone.
//! Now a tie decides nothing and clips nobody, and with two measurements the median is their
//! mean, so neither decides alone (and neither is clipped: one of two is no strict majority);
//! one outlier among four moves nothing (both middle values are others'). With an odd
//! `verifiers_per_node` (3 in the presets) a tie needs an absent verifier, which the target does
//! not control; with an even one, a target answering exactly half of its verifiers forces ties:
//! it earns nothing, but keeps its score and status, so keep `verifiers_per_node` odd.
//!
//! Why a report that saw the node *worse* is excused: the node chooses what each verifier sees.
//! It can refuse, garble, delay or serve a stale head to any one verifier and answer the others
//! well; a node answering two of its three verifiers would otherwise have the third, honest,
//! verifier clipped every epoch until it is no longer drawn. Showing a verifier less than the
//! others never costs that verifier reputation. An excused report earns nothing either, so
//! reporting "down" without probing pays only when the majority saw the node down too. A report
//! claiming the node *better* than a strict majority saw it is what a verifier lying for the
//! node reports, and is clipped: one liar among three is
//! clipped, two colluding liars among three win (and the honest one is clipped, as the node
//! answering only one verifier of three can also arrange, at the price of failing its own
//! epoch by the majority: a miss, then suspension and slashes). An honest majority of the
//! drawn verifiers is the assumption the random draw makes likely.
//!
//! ## Penalties
//!
//! Status transitions of a service node, from the status the registry reports at its tally:
//!
//! - `Pending` → `Active` when `epochs >= warmup_epochs` and `score >= activation_score`.
//! - `Pending` or `Active` → `Suspended` when `misses >= suspend_after_misses` (a node that
//!   never answers does not sit in warm-up for ever).
//! - `Suspended`: when `misses >= suspend_after_misses + slash_after_misses`, a slash of
//!   `miss_slash` (`RepeatedMisses`) is scheduled for epoch `+ slash_defer_epochs` and `misses`
//!   goes back to `suspend_after_misses` (the next slash needs `slash_after_misses` more);
//!   otherwise `Suspended` → `Active` when `good_streak >= warmup_epochs` and
//!   `score >= activation_score`.
//! - A revealed answer signed by the node's key, for its seed, with a wrong compute result:
//!   `Suspended` at once and a slash of `wrong_answer_slash` (`WrongAnswer`) for epoch
//!   `+ slash_defer_epochs`, once per node and epoch; the node cannot recover in that epoch.
//!
//! A verifier whose slot has no revealed report (an *absence*) loses `reputation_penalty` and
//! counts a miss; an `Active` verifier with `misses >= suspend_after_misses` is suspended (it
//! is no longer drawn; `reactivate` in the registry brings it back), and a suspended one
//! reaching `suspend_after_misses + slash_after_misses` is slashed `miss_slash`
//! (`AbsentVerifier`) and goes back to `suspend_after_misses`. A revealed report that is not
//! clipped (confirmed or excused) resets its count: the verifier showed up.
//!
//! Slashes go through [`NodeRegistry::schedule_slash`]: the registry holds them until their
//! epoch, so governance can cancel a wrong one (appeal), and applies them at once when the
//! deferral is zero. The deferral is an appeal window of `slash_defer_epochs * epoch_length`
//! blocks, which may not be shorter than [`Config::MinAppealWindow`] (the runtime's slowest
//! appeal referendum): `set_parameters` refuses such parameters with
//! [`Error::AppealWindowTooShort`] and `try_state` reports them. A node has one pending slash
//! per reason in the registry; repeated offences add to it.
//!
//! ## Rewards
//!
//! When the tally ends, the budget is fixed: `min(epoch_reward, reducible balance of the reward
//! source keeping it alive)`; `verifier_share` of it is the verifier part, the rest the node part.
//! A part without recipients (no reward weight, no confirmed report) is dropped from the budget
//! and stays at the source.
//!
//! - A service node that is `Active` after the tally has the reward weight
//!   `w = score (parts per billion) · credited_capacity · usage_factor (ppb) / 10^9`, with
//!   `usage_factor = idle_usage_weight + (1 − idle_usage_weight) · min(usage, reference) /
//!   reference` (`usage` the rewardable units recorded for it this epoch, `reference` the
//!   epoch's reference usage; `idle_usage_weight` when nobody was used). It gets
//!   `node_part · w / Σw`.
//! - **Rewardable usage.** Service pallets record every delivery through [`UsageRecorder`] with
//!   a [`UsageProof`]: whether someone other than the provider checked it (for GPU jobs: at
//!   least two of `k >= 2` independently drawn providers revealed the paid result, or an
//!   on-chain re-execution confirmed it) and the fee its payment burned. The provider's
//!   cumulative total ([`ProviderUsage`]) counts every unit; the epoch usage that weighs into
//!   rewards ([`EpochUsage`]) counts only [`rewardable_usage`]: nothing of an unverified
//!   delivery, and of a verified one `min(units, burned / burn_per_usage_unit)` (all of them
//!   when `burn_per_usage_unit` is 0), for service nodes that are not leaving. A `k = 1` job
//!   posted to one's own node is checked by nobody and counts for nothing; usage bought with a
//!   small fee counts only as far as the burned part pays for it.
//! - **No per-client state.** What a client consumed is not kept on chain: any account can pay
//!   for a cheap job, so a per-client total would be storage that anyone grows, one entry per
//!   account and service kind, without a deposit to pay for it (storage version 1 kept it as
//!   `ClientUsage`; [`migrations::v2`] removes it). Every delivery emits
//!   [`Event::UsageRecorded`] with the provider, the client, the service kind and the units, so
//!   indexers sum a client's consumption from those events. The provider's total stays: only
//!   registered, bonded node owners have one.
//! - **Reference usage.** When the tally starts, the reference is the lower median of the
//!   targets' non-zero rewardable usages ([`reference_usage`]: the `(n − 1) / 2`-th of the `n`
//!   values in ascending order), not their maximum: nodes at or above the median get the full
//!   factor, and one outlier (even beside a single honest node), or outliers up to half of the
//!   used nodes, cannot raise the reference above what the others delivered, so they cannot
//!   lower everyone else's factor.
//! - **Verified capacity.** A node's declared capacity units (the registry's sizing of its
//!   declared resources) are only a claim. Its `credited_capacity` ([`credited_capacity`]) is
//!   `min(declared, max(unproven_capacity, proven_capacity))` during its first
//!   `unproven_epochs` scored epochs ([`NodeScore::epochs`], counting the epoch being weighed)
//!   and `min(declared, proven_capacity)` after: beyond the governed `unproven_capacity` of a
//!   new node's first epochs, capacity counts only once delivered usage proved it. Each sybil
//!   node thus gets a one-off, bounded credit, paid for by its registration bond and fee,
//!   never a lasting income (and the record outlives the node, so registering again opens no
//!   new window). Each tally sets
//!   `proven_capacity = max(usage / usage_per_capacity_unit, proven − ema_alpha · proven)` of
//!   the rewardable `usage`: the most the node delivered recently, fading at the score's pace
//!   once it is no longer used. A node cannot prove capacity by saying so, nor by serving
//!   itself. The runtime API's `score` view shows both numbers.
//! - A verifier gets `verifier_part · credits / Σcredits`.
//! - Shares round down, so `distributed <= budget` and the *dust*
//!   `budget − distributed − failed` is less than the number of recipients: it stays at the
//!   source. A transfer that fails (a recipient that cannot exist with the amount) is skipped
//!   with [`Event::RewardFailed`]; its amount stays at the source too.
//!
//! ## The probe
//!
//! The protocol is [`dsync_primitives::probe`]: the verifier's worker requests
//! `GET {endpoint}/dsync/probe/{seed}` with a 2-second deadline; the node answers with a
//! SCALE-encoded [`SignedProbeAnswer`](dsync_primitives::probe::SignedProbeAnswer) signed with its
//! `dsyn` key. The worker turns what it saw into a [`ProbeReport`] with the pure
//! [`ocw::evaluate`]: no answer, a timeout or a non-200 status is *down* (unavailable, latency
//! `max_latency_ms`, lag `max_lag`); an over-long or undecodable body is *malformed*
//! (available, challenge failed, lag `max_lag`); a decodable answer passes the challenge when
//! it is signed by the node's registered key, echoes the seed, carries the right compute result
//! and names a block of this chain (checked when older than the current block), and its lag is
//! the distance of its best block to the current block. The signed answer travels as evidence
//! so the runtime can prove a wrong compute result.
//!
//! ## Where the rules live
//!
//! - `epoch.rs`: the state machine: each block's step, the commit and reveal windows
//!   ([`Pallet::in_commit_window`], [`Pallet::in_reveal_window`]), the start of an epoch, and the
//!   tally of one target (`tally_node`, which applies the rules below in their order).
//! - `draw.rs`: the epoch seed (`epoch_seed`), the challenge seeds ([`Pallet::node_seed`]), the
//!   verifier candidates (`verifier_candidates`), the draw ([`Pallet::draw_verifiers`]) and its
//!   batches (`assign_batch`).
//! - `reports.rs`: commit and reveal of reports (`do_commit_report`, `do_reveal_report`).
//! - `aggregate.rs`: verdicts, medians, quality and the judgement of each report (`Aggregate`,
//!   `Verdict`, `median`, `linear_factor`, `Aggregate::judge`, `judge_verifiers`).
//! - `scoring.rs`: the score's moving average, misses and streaks (`ema`, `score_epoch`), and the
//!   scores other pallets read ([`NodeScores`]).
//! - `penalties.rs`: status transitions (`service_transition`), slashes, absent verifiers
//!   (`verifier_absent`), provably wrong answers (`check_evidence`) and the faults service
//!   pallets report ([`ServiceFaults`]).
//! - `rewards.rs`: the reward weight ([`reward_weight`], `weigh_reward`), the usage factor
//!   ([`usage_factor`]) and its reference ([`reference_usage`], taken by `begin_tally` in
//!   `epoch.rs`), proven and credited capacity ([`proven_capacity`], [`credited_capacity`]),
//!   usage recording ([`UsageRecorder`]) and what of it is rewardable ([`rewardable_usage`]),
//!   the budget (`fix_budget`) and the payments (`pay_batch`).
//! - `parameters.rs`: the parameters' bounds ([`Pallet::check_parameters`]); `invariants.rs`:
//!   `do_try_state`; `views.rs`: the views behind the runtime API; `ocw.rs`: the verifiers'
//!   off-chain worker; `migrations/`: the storage migrations ([`migrations::v1`]: the two
//!   parameters of storage version 1, and `MaxEpochUsage` removed; [`migrations::v2`]:
//!   `ClientUsage` removed).
//!
//! ## Design choices
//!
//! - **No dependency on the registry pallet.** Everything about nodes goes through
//!   [`NodeRegistry`] (from `dsync-primitives`), so the registry can change and tests use a
//!   small mock.
//! - **Commit-reveal with free success.** A verifier cannot see others' reports before
//!   committing, and cannot reuse another's commitment or its own of an earlier epoch (the
//!   commitment binds the epoch, the target and the verifier); honest verification costs
//!   nothing: successful calls return `Pays::No`; failing calls pay, so spam costs.
//! - **Majorities and medians, not means.** A strict majority of the drawn verifiers decides
//!   each flag and a tie decides nothing; one outlier cannot move a median of three or more
//!   reports, nor decide one of two; the clip thresholds keep small measurement noise
//!   honest.
//! - **What a target does to one verifier never costs that verifier.** A target can show any
//!   one verifier less than it shows the others (refuse it, slow it down), so a report that saw
//!   less than the majority is excused; only a report claiming more than a strict majority saw,
//!   what a verifier lying for the target reports, is clipped (see [Scores](#scores)).
//! - **Only provable faults slash at once.** Being slow or absent costs score, status and
//!   eventually a deferred, cancellable slash; only a wrong answer signed by the node's own key
//!   is proof enough for an immediate suspension.
//! - **Bounded work.** Snapshots are bounded by [`Config::MaxProbeTargets`] and
//!   [`Config::MaxVerifierCandidates`], assignments by [`Config::MaxVerifiers`], every phase by
//!   [`Config::NodesPerBlock`] per block; per-epoch storage is cleared as it is consumed.
//! - **Rewards from an account, not minted.** Rewards are transfers from
//!   [`Config::RewardSource`] (the treasury), so they never inflate the supply beyond what
//!   governance funded.
//! - **Only verifiable, paid-for usage earns; no one node sets the scale.** Self-dealing (a
//!   client paying its own node) used to record usage and proven capacity that nobody could
//!   check, and, as the epoch's maximum, to halve every other node's usage factor: a few DSYNC
//!   of fees bought most of an epoch's node rewards. Now unverified usage weighs nothing,
//!   verified usage weighs at most what its burned fee pays for (`burn_per_usage_unit`), the
//!   reference is a median, and unproven capacity is a new node's one-off credit
//!   (`unproven_epochs`), not an income per sybil.
//!
//! ## Runtime wiring
//!
//! - `Currency`: `Balances`; `Registry`: `pallet_node_registry::Pallet<Runtime>`;
//!   `RewardSource`: the treasury account; `IsActiveValidator`: the session validators;
//!   `Randomness`: BABE's randomness; `EraPoints`: staking era points.
//! - `AuthorityId = dsync_primitives::offchain::DsyncAuthId` (the node's `dsyn` key, the one
//!   GPU jobs sign with), and the runtime implements
//!   `frame_system::offchain::{SigningTypes, CreateTransactionBase, CreateSignedTransaction}`
//!   for `Call<Runtime>`. A verifier's key account must hold enough to pay the fee up front;
//!   successful reports are refunded.
//! - Service pallets report usage through [`UsageRecorder`] (with a [`UsageProof`]: verified
//!   or not, and the fee burned) and their providers' faults through
//!   [`ServiceFaults`] (a miss, or a result proven wrong on chain), and read scores through
//!   [`NodeScores`], all implemented by this pallet.
//! - The runtime API [`runtime_api::ProofOfSyncApi`] returns a node's score, the epoch, and
//!   what an account delivered as a provider.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod aggregate;
mod draw;
mod epoch;
mod invariants;
mod parameters;
mod penalties;
mod reports;
mod rewards;
mod scoring;
mod views;

pub mod migrations;

pub use rewards::{
	credited_capacity, proven_capacity, reference_usage, reward_weight, rewardable_usage,
	usage_factor,
};

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

pub use dsync_primitives::traits::{
	NodeRegistry, NodeRole, NodeScores, NodeStatus, NodeSummary, RetrievalCheck, ServiceFaults,
	ServiceKind, SlashReason, StorageRetrieval, UsageProof, UsageRecorder,
};
pub use pallet::*;
#[cfg(feature = "runtime-benchmarks")]
pub use traits::BenchmarkHelper;
pub use traits::VerificationPoints;
pub use types::{
	is_proper_share, Assignment, BalanceOf, EpochInfo, EpochTotals, EpochView, LocalReport,
	NodeScore, NodeScoreView, Phase, ProbeReport, ProofOfSyncParams, Slot, UsageView,
	DEFAULT_BURN_PER_USAGE_UNIT, DEFAULT_UNPROVEN_EPOCHS, MAX_EPOCH_LENGTH,
};
pub use weights::WeightInfo;

/// The log target of this pallet.
const LOG_TARGET: &str = "runtime::proof-of-sync";

/// The pallet: configuration, storage, genesis, events, errors, hooks and calls. The logic lives
/// in the topic modules, one per rule (see the crate docs' file map).
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, Contains, Randomness},
	};
	use frame_system::{
		offchain::{AppCrypto, CreateSignedTransaction},
		pallet_prelude::*,
	};
	use sp_core::H256;
	use sp_runtime::Perbill;

	/// The in-code storage version. 1: the parameters gained `burn_per_usage_unit` and
	/// `unproven_epochs`, and `MaxEpochUsage` is gone ([`migrations::v1`]). 2: the per-client
	/// totals (`ClientUsage`) are gone; [`Event::UsageRecorded`] reports them
	/// ([`migrations::v2`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the pallet. The events of the pallet reach the runtime through
	/// `frame_system::Config::RuntimeEvent`; the off-chain worker signs its transactions through
	/// the runtime's `CreateSignedTransaction`.
	#[pallet::config]
	pub trait Config: CreateSignedTransaction<Call<Self>> + frame_system::Config {
		/// The native currency rewards are paid in, `pallet-balances` in the runtime.
		type Currency: fungible::Mutate<Self::AccountId>;

		/// The node registry: roles, statuses, keys, endpoints, capacities, slashes.
		type Registry: NodeRegistry<Self::AccountId, BalanceOf<Self>>;

		/// The account rewards are paid from (the treasury). It keeps its existential deposit.
		type RewardSource: Get<Self::AccountId>;

		/// Whether a validator node's owner is in the active validator set (the session
		/// validators); only those are drawn as verifiers.
		type IsActiveValidator: Contains<Self::AccountId>;

		/// Which piece of a storage provider's slots its verifiers fetch and check
		/// ([`ocw::retrieval_seed`]); the storage pallet in the runtime, `()` for none.
		type Storage: StorageRetrieval<Self::AccountId>;

		/// The source of the epoch seed (BABE randomness in the runtime).
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// Where the era points of confirmed reports go (staking in the runtime; `()` for none).
		type EraPoints: VerificationPoints<Self::AccountId>;

		/// The key the off-chain worker signs reports with:
		/// [`DsyncAuthId`](dsync_primitives::offchain::DsyncAuthId).
		type AuthorityId: AppCrypto<Self::Public, Self::Signature>;

		/// The origin that sets the parameters (the DSYNC runtime: root or a passed
		/// `parameter_admin` referendum).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most service nodes probed per epoch (the registry's first ones, in registration
		/// order).
		#[pallet::constant]
		type MaxProbeTargets: Get<u32>;

		/// The most validator nodes considered as verifiers per epoch.
		#[pallet::constant]
		type MaxVerifierCandidates: Get<u32>;

		/// The most verifiers per target (the bound of `verifiers_per_node`).
		#[pallet::constant]
		type MaxVerifiers: Get<u32>;

		/// Targets assigned, targets tallied or recipients paid per block, at most.
		#[pallet::constant]
		type NodesPerBlock: Get<u32>;

		/// The shortest epoch governance may set, in blocks (at least 2, so both windows are
		/// open at least one block).
		#[pallet::constant]
		type MinEpochLength: Get<u32>;

		/// The shortest appeal window governance may set, in blocks: `slash_defer_epochs *
		/// epoch_length` must be at least this ([`Error::AppealWindowTooShort`]). The runtime sets
		/// it to the longest referendum of the track that judges slash appeals, so that an appeal
		/// lodged when a slash is scheduled can be decided and enacted before the slash applies.
		/// Not a metadata constant: it may follow stored settings (the governance timing).
		type MinAppealWindow: Get<u32>;

		/// Weights of the calls and hooks of this pallet.
		type WeightInfo: WeightInfo;

		/// Registers nodes through the runtime's registry for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The reputation of a verifier nobody has judged yet: 100 %.
	#[pallet::type_value]
	pub fn FullReputation() -> Perbill {
		Perbill::one()
	}

	/// The governed parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, ProofOfSyncParams<BalanceOf<T>>, ValueQuery>;

	/// The current epoch and where its state machine is.
	#[pallet::storage]
	pub type Epoch<T: Config> = StorageValue<_, EpochInfo<BlockNumberFor<T>>, ValueQuery>;

	/// The service nodes probed this epoch, in registration order (snapshot at the epoch start,
	/// cleared when the epoch closes).
	#[pallet::storage]
	pub type Targets<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxProbeTargets>, ValueQuery>;

	/// The verifier candidates of this epoch (owners of validator nodes), snapshot at the
	/// epoch start, cleared when the epoch closes.
	#[pallet::storage]
	pub type Verifiers<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxVerifierCandidates>, ValueQuery>;

	/// The random seed of this epoch, from which every target's challenge seed derives.
	#[pallet::storage]
	pub type EpochSeed<T: Config> = StorageValue<_, [u8; 32], ValueQuery>;

	/// The verifiers drawn for each target of this epoch, with their commitments and reports.
	/// Taken (removed) when the target is tallied.
	// `Blake2_128Concat`: node owners are chosen by users.
	#[pallet::storage]
	pub type Assignments<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Assignment<T>, OptionQuery>;

	/// The reputation of each verifier (validator-node owner); 100 % until judged. Kept after
	/// the node exits, like [`Scores`].
	// `Blake2_128Concat`: node owners are chosen by users.
	#[pallet::storage]
	pub type Reputation<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Perbill, ValueQuery, FullReputation>;

	/// The Proof-of-Sync record of each node (service nodes: score; verifiers: absences), kept
	/// for good: also after the node exits, so that exiting and registering again does not wash
	/// a bad score, a miss count or a lost reputation (and an honest operator keeps its
	/// standing). The map grows by at most one entry per account that ever registered a node,
	/// each of which locked a registration bond.
	// `Blake2_128Concat`: node owners are chosen by users.
	#[pallet::storage]
	pub type Scores<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, NodeScore<BalanceOf<T>>, OptionQuery>;

	/// Confirmed reports of each verifier in the epoch being tallied and paid; taken when paid.
	// `Blake2_128Concat`: node owners are chosen by users.
	#[pallet::storage]
	pub type Credits<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// The reward weight of each node in the epoch being tallied and paid; taken when paid.
	// `Blake2_128Concat`: node owners are chosen by users.
	#[pallet::storage]
	pub type RewardWeights<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u128, OptionQuery>;

	/// The epoch in which a node was proven to have answered wrongly, until its tally (one
	/// wrong-answer slash per node and epoch).
	// `Blake2_128Concat`: node owners are chosen by users.
	#[pallet::storage]
	pub type ProvenWrong<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, OptionQuery>;

	/// The totals of the epoch being tallied and paid; reset when an epoch starts.
	#[pallet::storage]
	pub type Totals<T: Config> = StorageValue<_, EpochTotals<BalanceOf<T>>, ValueQuery>;

	/// Everything paid by this pallet since genesis: the sum of `NodeScore::total_rewards`.
	#[pallet::storage]
	pub type TotalRewardsPaid<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Rewardable service units each node delivered in the current epoch
	/// ([`rewardable_usage`]: verified deliveries, as far as their burned fees pay for them);
	/// taken at its tally. (Storage version 0 also kept the highest of them, `MaxEpochUsage`;
	/// the tally now takes the median of the targets' entries instead.)
	// `Blake2_128Concat`: node owners are chosen by users.
	#[pallet::storage]
	pub type EpochUsage<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u64, ValueQuery>;

	/// Service units each node delivered since genesis (every unit, verified or not). One
	/// entry per node owner, who holds a registration bond. (Storage version 1 also kept what
	/// each client consumed, `ClientUsage`: storage any account could grow without a deposit,
	/// removed in version 2; [`Event::UsageRecorded`] reports it.)
	// `Blake2_128Concat`: node owners are chosen by users.
	#[pallet::storage]
	pub type ProviderUsage<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u64, ValueQuery>;

	/// The initial parameters. The epoch state machine starts in [`Phase::Starting`], so the
	/// first block starts epoch 1.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The governed parameters.
		pub parameters: ProofOfSyncParams<BalanceOf<T>>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		/// [`ProofOfSyncParams::default`], with `verifiers_per_node` and `epoch_length` brought
		/// within the runtime's bounds.
		fn default() -> Self {
			let mut parameters = ProofOfSyncParams::<BalanceOf<T>>::default();
			parameters.verifiers_per_node =
				parameters.verifiers_per_node.min(T::MaxVerifiers::get()).max(1);
			parameters.epoch_length = parameters.epoch_length.max(T::MinEpochLength::get());
			Self { parameters }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// An invalid genesis config is a mistake of whoever wrote it; the chain must not
			// start with it.
			if let Err(error) = Pallet::<T>::check_parameters(&self.parameters) {
				panic!("invalid proof-of-sync genesis parameters: {error:?}");
			}
			Params::<T>::put(self.parameters);
			Epoch::<T>::put(EpochInfo::default());
		}
	}

	/// The events of the pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An epoch started.
		EpochStarted {
			/// The epoch index.
			epoch: u32,
			/// Service nodes probed this epoch.
			targets: u32,
			/// Verifier candidates this epoch.
			verifiers: u32,
		},
		/// Verifiers were drawn for a target.
		VerifiersDrawn {
			/// The epoch.
			epoch: u32,
			/// The target.
			node: T::AccountId,
			/// The drawn verifiers (validator-node owners); empty without candidates.
			verifiers: Vec<T::AccountId>,
		},
		/// A verifier committed to its report on a target.
		ReportCommitted {
			/// The epoch.
			epoch: u32,
			/// The target.
			node: T::AccountId,
			/// The verifier.
			verifier: T::AccountId,
		},
		/// A verifier revealed its report on a target.
		ReportRevealed {
			/// The epoch.
			epoch: u32,
			/// The target.
			node: T::AccountId,
			/// The verifier.
			verifier: T::AccountId,
			/// The node answered.
			available: bool,
			/// The node passed the challenge.
			challenge_ok: bool,
			/// The measured latency (ms).
			latency_ms: u32,
			/// The measured sync lag (blocks).
			sync_lag: u32,
		},
		/// A revealed report proved that the node signed a wrong answer: it is suspended and a
		/// slash is scheduled.
		WrongAnswerProved {
			/// The epoch.
			epoch: u32,
			/// The node.
			node: T::AccountId,
			/// The verifier whose evidence proved it.
			verifier: T::AccountId,
		},
		/// A service pallet reported that a node failed paid work: a miss (no-show, dissent) or a
		/// result proven wrong on chain (suspended and slashed at once).
		ServiceFailed {
			/// The epoch.
			epoch: u32,
			/// The node.
			node: T::AccountId,
			/// Whether its result was proven wrong.
			proven_wrong: bool,
			/// Its misses in a row after this one.
			misses: u32,
		},
		/// A target's revealed reports decided nothing: there was none, or they tied on whether
		/// it was available (or, available, on whether it passed the challenge). It is neither
		/// scored nor rewarded this epoch, and no miss is counted.
		NodeNotScored {
			/// The epoch.
			epoch: u32,
			/// The target.
			node: T::AccountId,
		},
		/// A target was scored.
		NodeScored {
			/// The epoch.
			epoch: u32,
			/// The target.
			node: T::AccountId,
			/// The quality of the epoch.
			quality: Perbill,
			/// The new score.
			score: Perbill,
			/// The number of revealed reports aggregated.
			reports: u32,
		},
		/// A target's quality was below `miss_quality`.
		NodeMissed {
			/// The epoch.
			epoch: u32,
			/// The target.
			node: T::AccountId,
			/// Its misses in a row.
			misses: u32,
		},
		/// A strict majority of the reports on a target contradicted a verifier's report in the
		/// target's favour (it claimed the target available, passing, faster or less behind
		/// than they saw it): the report was clipped and its verifier lost reputation.
		VerifierClipped {
			/// The epoch.
			epoch: u32,
			/// The target.
			node: T::AccountId,
			/// The verifier.
			verifier: T::AccountId,
		},
		/// A verifier did not reveal a report on a target it was drawn for.
		VerifierAbsent {
			/// The epoch.
			epoch: u32,
			/// The target.
			node: T::AccountId,
			/// The verifier.
			verifier: T::AccountId,
		},
		/// A service node was paid its reward.
		NodeRewarded {
			/// The epoch.
			epoch: u32,
			/// The node.
			node: T::AccountId,
			/// The amount.
			amount: BalanceOf<T>,
		},
		/// A verifier was paid its reward.
		VerifierRewarded {
			/// The epoch.
			epoch: u32,
			/// The verifier.
			verifier: T::AccountId,
			/// The amount.
			amount: BalanceOf<T>,
		},
		/// A reward could not be paid; the amount stays at the reward source.
		RewardFailed {
			/// The epoch.
			epoch: u32,
			/// The recipient.
			who: T::AccountId,
			/// The amount.
			amount: BalanceOf<T>,
		},
		/// An epoch was fully paid.
		EpochClosed {
			/// The epoch.
			epoch: u32,
			/// The budget: `distributed + failed + dust`, dust less than the number of
			/// recipients.
			budget: BalanceOf<T>,
			/// What was paid.
			distributed: BalanceOf<T>,
		},
		/// A service pallet recorded usage of a node. The chain keeps no per-client total: a
		/// client's consumption of a service is the sum of `units` over these events with its
		/// `client` and `kind`.
		UsageRecorded {
			/// The node that delivered.
			provider: T::AccountId,
			/// The client served.
			client: T::AccountId,
			/// The service.
			kind: ServiceKind,
			/// The units delivered (all of them count in the provider's cumulative total,
			/// [`ProviderUsage`]).
			units: u64,
			/// The units that weigh into this epoch's rewards ([`rewardable_usage`]): 0 when
			/// the delivery was not verified or the provider cannot be rewarded (not a service
			/// node, or leaving), at most what the burned fee pays for.
			rewardable: u64,
		},
		/// The parameters were set.
		ParametersSet {
			/// The new parameters.
			parameters: ProofOfSyncParams<BalanceOf<T>>,
		},
	}

	/// The errors of the pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The parameters are out of bounds (see [`ProofOfSyncParams`]); nothing changed. Keep
		/// every share at most 100 %, the epoch length within `MinEpochLength..=100_800`, between
		/// 1 and `MaxVerifiers` verifiers, a non-zero smoothing factor, counts of at least 1, and
		/// targets below maximums.
		InvalidParameters,
		/// The signer is not the off-chain key of any registered node. Sign with the `dsyn` key
		/// registered for your validator node.
		UnknownOffchainKey,
		/// The node has no assignment in the current epoch (it is not a target, it was not
		/// assigned yet, or it was already tallied).
		NoAssignment,
		/// The signer's node was not drawn as a verifier of this node.
		NotAssigned,
		/// The commit window of the epoch (its first half) is not open.
		NotInCommitWindow,
		/// This verifier already committed for this node this epoch.
		AlreadyCommitted,
		/// The reveal window (the second half of the epoch) is not open.
		NotInRevealWindow,
		/// There is no commitment to reveal; commit in the commit window first.
		NoCommitment,
		/// The report and salt do not hash to the commitment: the commitment is bound to the
		/// epoch, the target and the verifier ([`ProbeReport::commitment`]), so one copied from
		/// another verifier, or from an earlier epoch, never matches. Reveal exactly the report
		/// and salt you committed to this epoch.
		CommitmentMismatch,
		/// This verifier already revealed its report for this node this epoch.
		AlreadyRevealed,
		/// `slash_defer_epochs * epoch_length` is shorter than `MinAppealWindow`: a slash would
		/// apply before an appeal referendum could be decided. Defer slashes longer (or keep
		/// longer epochs); nothing changed.
		AppealWindowTooShort,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Advance the epoch state machine by one bounded step.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::advance_epoch(now)
		}

		/// Probe the targets this node's `dsyn` keys verify, and commit and reveal the reports.
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_offchain_worker(now);
		}

		fn integrity_test() {
			assert!(T::NodesPerBlock::get() >= 1, "NodesPerBlock must be at least 1");
			assert!(T::MaxVerifiers::get() >= 1, "MaxVerifiers must be at least 1");
			assert!(T::MaxProbeTargets::get() >= 1, "MaxProbeTargets must be at least 1");
			assert!(
				T::MinEpochLength::get() >= 2 && T::MinEpochLength::get() <= MAX_EPOCH_LENGTH,
				"MinEpochLength must be in 2..=100_800, so both windows last at least a block"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Commit to a report on `node`:
		/// `commitment = report.commitment(epoch, node, verifier, salt)`
		/// ([`ProbeReport::commitment`]: the shared commit-reveal commitment to
		/// `(epoch, node, verifier, report, salt)` in its Proof-of-Sync domain, with `verifier`
		/// the owner of the signer's validator node).
		///
		/// Origin: signed by the off-chain key of a validator node drawn for `node` this epoch,
		/// in the commit window. Fails with [`Error::UnknownOffchainKey`],
		/// [`Error::NoAssignment`], [`Error::NotAssigned`], [`Error::NotInCommitWindow`] or
		/// [`Error::AlreadyCommitted`]. Free on success.
		/// Emits [`Event::ReportCommitted`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::commit_report())]
		pub fn commit_report(
			origin: OriginFor<T>,
			node: T::AccountId,
			commitment: H256,
		) -> DispatchResultWithPostInfo {
			let key = ensure_signed(origin)?;
			Self::do_commit_report(key, node, commitment)
		}

		/// Reveal the report committed to for `node`, with its salt.
		///
		/// Origin: as for [`Pallet::commit_report`], in the reveal window. Fails with
		/// [`Error::UnknownOffchainKey`], [`Error::NoAssignment`], [`Error::NotAssigned`],
		/// [`Error::NotInRevealWindow`], [`Error::NoCommitment`], [`Error::CommitmentMismatch`]
		/// or [`Error::AlreadyRevealed`]. Free on success. If the
		/// evidence proves a wrong answer by the node, the node is suspended and slashed
		/// ([`Event::WrongAnswerProved`]). Emits [`Event::ReportRevealed`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::reveal_report())]
		pub fn reveal_report(
			origin: OriginFor<T>,
			node: T::AccountId,
			report: ProbeReport,
			salt: [u8; 32],
		) -> DispatchResultWithPostInfo {
			let key = ensure_signed(origin)?;
			Self::do_reveal_report(key, node, report, salt)
		}

		/// Set all parameters at once.
		///
		/// Origin: [`Config::AdminOrigin`]. Fails with [`Error::InvalidParameters`], changing
		/// nothing, when any bound listed on [`ProofOfSyncParams`] is broken. Takes effect at once
		/// (windows of the running epoch follow the new length). Emits [`Event::ParametersSet`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_parameters())]
		pub fn set_parameters(
			origin: OriginFor<T>,
			parameters: ProofOfSyncParams<BalanceOf<T>>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_parameters(parameters)
		}
	}
}
