//! Data types of the Proof-of-Sync pallet and the aliases used across it.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dsync_primitives::{
	commit_reveal::{commitment, Domain},
	probe::SignedProbeAnswer,
	traits::NodeStatus,
};
use frame_support::{
	traits::fungible, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_core::H256;
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedFrom},
	Perbill,
};

/// The balance type of [`Config::Currency`].
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The longest epoch governance may set, in blocks: one week of 6-second blocks.
pub const MAX_EPOCH_LENGTH: u32 = 100_800;

/// The governed parameters of Proof of Sync, set as a whole by [`Config::AdminOrigin`].
///
/// Valid when: every share is at most 100 %; `epoch_length` is in
/// `Config::MinEpochLength..=MAX_EPOCH_LENGTH`; `verifiers_per_node` is in
/// `1..=Config::MaxVerifiers`; `ema_alpha` is not zero; `warmup_epochs`, `suspend_after_misses`
/// and `slash_after_misses` are at least 1; `target_latency_ms < max_latency_ms` and
/// `tolerated_lag < max_lag`; `usage_per_capacity_unit` is at least 1. Any
/// `burn_per_usage_unit` and `unproven_epochs` are valid (0 turns the burn cap off, and credits
/// unproven capacity in no epoch). Anything else is refused with `Error::InvalidParameters`.
///
/// The last two fields were added in storage version 1 (`migrations::v1` fills them in from
/// [`ProofOfSyncParams::default`]); new fields go at the end.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Serialize,
	Deserialize,
)]
pub struct ProofOfSyncParams<Balance> {
	/// Length of the collection part of an epoch, in blocks: the commit window is its first half,
	/// the reveal window its second half.
	pub epoch_length: u32,
	/// How many verifiers probe each service node (`k`).
	pub verifiers_per_node: u32,
	/// Weight of the newest epoch's quality in the score: `score = α·q + (1 − α)·score`.
	pub ema_alpha: Perbill,
	/// Scored epochs a pending node needs (and good epochs in a row a suspended node needs)
	/// before it can become active.
	pub warmup_epochs: u32,
	/// The score a node needs to become active.
	pub activation_score: Perbill,
	/// An epoch whose quality is below this counts as a miss.
	pub miss_quality: Perbill,
	/// Misses in a row after which an active node (or an absent verifier) is suspended.
	pub suspend_after_misses: u32,
	/// Further misses in a row, once suspended, after which the bond is slashed.
	pub slash_after_misses: u32,
	/// Share of the bond slashed for repeated misses or absences.
	pub miss_slash: Perbill,
	/// Share of the bond slashed for a provably wrong probe answer.
	pub wrong_answer_slash: Perbill,
	/// Epochs between a slash being scheduled and applied (the appeal window); 0 applies it at
	/// once. Times `epoch_length`, at least [`Config::MinAppealWindow`](crate::Config) blocks
	/// ([`Error::AppealWindowTooShort`](crate::Error) otherwise).
	pub slash_defer_epochs: u32,
	/// Round-trip latency (ms) up to which a probe counts as fully fast.
	pub target_latency_ms: u32,
	/// Round-trip latency (ms) from which a probe is worth nothing; also the latency reported
	/// for a node that did not answer.
	pub max_latency_ms: u32,
	/// Sync lag (blocks) up to which a node counts as fully in sync.
	pub tolerated_lag: u32,
	/// Sync lag (blocks) from which a node is worth nothing; also the lag reported for a node
	/// that did not answer properly.
	pub max_lag: u32,
	/// The most paid out per epoch, from [`Config::RewardSource`].
	pub epoch_reward: Balance,
	/// Share of the epoch budget paid to verifiers (by confirmed reports); the rest goes to
	/// service nodes (by reward weight).
	pub verifier_share: Perbill,
	/// Share of the reward weight an unused node keeps: `usage_factor = idle + (1 − idle) ·
	/// min(usage, reference) / reference`, with `reference` the epoch's median rewardable usage
	/// (see `crate::reference_usage`).
	pub idle_usage_weight: Perbill,
	/// Capacity units credited to a node before delivered usage proves more, during its first
	/// `unproven_epochs` scored epochs: the reward weight uses `min(declared,
	/// max(unproven_capacity, proven))` capacity units then, `min(declared, proven)` after (see
	/// [`NodeScore::proven_capacity`]). 0 credits idle capacity nothing.
	pub unproven_capacity: u64,
	/// Usage units delivered in one epoch that prove one capacity unit; at least 1.
	pub usage_per_capacity_unit: u64,
	/// The latency tolerance (ms): a report is confirmed only within this of the median latency,
	/// and clipped when more than half of the passing reports measured more than this above its
	/// latency.
	pub clip_latency_ms: u32,
	/// The lag tolerance (blocks): a report is confirmed only within this of the median lag, and
	/// clipped when more than half of the passing reports measured more than this above its
	/// lag.
	pub clip_lag: u32,
	/// Reputation a verifier loses per clipped report or absence.
	pub reputation_penalty: Perbill,
	/// Reputation a verifier regains per confirmed report (at most 100 %).
	pub reputation_recovery: Perbill,
	/// The reputation a validator needs to be drawn as a verifier.
	pub min_reputation: Perbill,
	/// Era points per confirmed report, given through [`Config::EraPoints`].
	pub verification_points: u32,
	/// The fee, in planck, that must have been burned for one delivered unit to weigh into
	/// rewards: of a verified delivery of `units` whose payment burned `burned`, only
	/// `min(units, burned / burn_per_usage_unit)` units count for the usage factor and proven
	/// capacity (see `crate::rewardable_usage`). 0 = no cap: every verified unit counts.
	pub burn_per_usage_unit: Balance,
	/// The scored epochs (counting the one being weighed: [`NodeScore::epochs`]) during which a
	/// node is credited `unproven_capacity` without proof; from the next one on only proven
	/// capacity counts. Each new node (a sybil too) thus gets a one-off, bounded credit, paid
	/// for by its registration bond and fee, never a lasting income. 0 credits unproven
	/// capacity in no epoch; `u32::MAX` in every epoch (the rule before storage version 1).
	pub unproven_epochs: u32,
}

/// The default `burn_per_usage_unit`: 5 × 10^12 planck (5 µDSYNC with 18 decimals).
///
/// A job of the bundled digits model at its price floor (0.001 DSYNC = 10^15 planck per
/// provider and item, `DIGITS_PRICE_FLOOR` in the runtime's presets; 18 usage units per item:
/// its weights / 1_000, rounded up) burns the GPU burn share of 10 % (the tokenomics preset):
/// 10^14 planck per item, so 10^14 / 18 ≈ 5.56 × 10^12 planck per unit. At 5 × 10^12 the cap
/// admits 10^14 / (5 × 10^12) = 20 ≥ 18 units per item: a job at the floor price counts in full,
/// while usage whose payment burned a tenth of that counts about a tenth.
pub const DEFAULT_BURN_PER_USAGE_UNIT: u128 = 5_000_000_000_000;

/// The default `unproven_epochs`: 12, four times the default `warmup_epochs` (3). A node is
/// rewarded only once active, at the earliest at its `warmup_epochs`-th scored epoch, so the
/// window leaves it at most `12 − 3 + 1 = 10` rewarded epochs (10 hours of one-hour epochs) of
/// unproven credit to find clients, and no more. A window of `warmup_epochs` or less would
/// credit a node at most once (or never), before any client could find it.
pub const DEFAULT_UNPROVEN_EPOCHS: u32 = 12;

impl<Balance: Default + UniqueSaturatedFrom<u128>> Default for ProofOfSyncParams<Balance> {
	/// One-hour epochs (600 blocks), three verifiers per node, no rewards until governance sets
	/// `epoch_reward`; usage weighs into rewards as far as a job at the digits model's price
	/// floor pays for it ([`DEFAULT_BURN_PER_USAGE_UNIT`]), unproven capacity is credited for
	/// [`DEFAULT_UNPROVEN_EPOCHS`] epochs. The runtime's genesis preset chooses its own values.
	fn default() -> Self {
		Self {
			epoch_length: 600,
			verifiers_per_node: 3,
			ema_alpha: Perbill::from_percent(30),
			warmup_epochs: 3,
			activation_score: Perbill::from_percent(60),
			miss_quality: Perbill::from_percent(50),
			suspend_after_misses: 3,
			slash_after_misses: 3,
			miss_slash: Perbill::from_percent(1),
			wrong_answer_slash: Perbill::from_percent(10),
			slash_defer_epochs: 24,
			target_latency_ms: 500,
			max_latency_ms: 2_000,
			tolerated_lag: 2,
			max_lag: 20,
			epoch_reward: Balance::default(),
			verifier_share: Perbill::from_percent(10),
			idle_usage_weight: Perbill::from_percent(50),
			unproven_capacity: 32,
			usage_per_capacity_unit: 1_000,
			clip_latency_ms: 500,
			clip_lag: 3,
			reputation_penalty: Perbill::from_percent(5),
			reputation_recovery: Perbill::from_percent(1),
			min_reputation: Perbill::from_percent(50),
			verification_points: 1,
			burn_per_usage_unit: Balance::unique_saturated_from(DEFAULT_BURN_PER_USAGE_UNIT),
			unproven_epochs: DEFAULT_UNPROVEN_EPOCHS,
		}
	}
}

impl<Balance> ProofOfSyncParams<Balance> {
	/// Every share of the parameters, for the "at most 100 %" check.
	pub fn shares(&self) -> [Perbill; 10] {
		[
			self.ema_alpha,
			self.activation_score,
			self.miss_quality,
			self.miss_slash,
			self.wrong_answer_slash,
			self.verifier_share,
			self.idle_usage_weight,
			self.reputation_penalty,
			self.reputation_recovery,
			self.min_reputation,
		]
	}

	/// The first block after the commit window, relative to the epoch start:
	/// `epoch_length / 2`.
	pub fn half_length(&self) -> u32 {
		self.epoch_length / 2
	}
}

/// Whether `share` is at most 100 % (always true for SCALE-decoded values; a genesis config read
/// from JSON can hold more).
pub fn is_proper_share(share: Perbill) -> bool {
	share.deconstruct() <= Perbill::one().deconstruct()
}

/// Where the epoch state machine is. Every phase does a bounded amount of work per block.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub enum Phase {
	/// The next block starts a new epoch (genesis state, and after payment).
	#[default]
	Starting,
	/// Verifiers are being drawn for the targets from index `cursor` on.
	Assigning {
		/// The index in `Targets` of the next target to draw verifiers for.
		cursor: u32,
	},
	/// Commit window, then reveal window, until `start + epoch_length`.
	Collecting,
	/// Reports are being aggregated for the targets from index `cursor` on.
	Tallying {
		/// The index in `Targets` of the next target to tally.
		cursor: u32,
	},
	/// Rewards are being paid, from recipient index `cursor` on (targets first, then verifier
	/// candidates).
	Paying {
		/// The index of the next recipient: `Targets` indices, then `Verifiers` indices offset by
		/// the number of targets.
		cursor: u32,
	},
}

impl Phase {
	/// The phase as a number: 0 starting, 1 assigning, 2 collecting, 3 tallying, 4 paying.
	pub fn as_u8(&self) -> u8 {
		match self {
			Phase::Starting => 0,
			Phase::Assigning { .. } => 1,
			Phase::Collecting => 2,
			Phase::Tallying { .. } => 3,
			Phase::Paying { .. } => 4,
		}
	}
}

/// The current epoch.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub struct EpochInfo<BlockNumber> {
	/// The epoch index; 0 before the first epoch, then 1, 2, ...
	pub index: u32,
	/// The block the epoch started at (its commit window opens there).
	pub start: BlockNumber,
	/// Where the state machine is.
	pub phase: Phase,
}

/// What a verifier observed when it probed a service node.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct ProbeReport {
	/// The node answered `200 OK` in time.
	pub available: bool,
	/// The answer was properly signed by the node's key, echoed the seed, carried the right
	/// compute result and a block hash of this chain; for a storage provider, the piece it was
	/// asked for also verified against its slot's root (`ocw::evaluate_retrieval`).
	pub challenge_ok: bool,
	/// The measured round trip, in milliseconds (`max_latency_ms` when the node did not answer);
	/// for a storage provider, the slower of the probe and the piece fetch.
	pub latency_ms: u32,
	/// How many blocks the node's best block is behind the verifier's (`max_lag` when the
	/// answer was missing or malformed).
	pub sync_lag: u32,
	/// The node's signed answer, when it could be decoded.
	pub evidence: Option<SignedProbeAnswer>,
}

impl ProbeReport {
	/// The commitment of `verifier`'s report on `node` in `epoch` under `salt`: the shared
	/// [`commitment`] in [`Domain::SyncReport`] of `(epoch, node, verifier, report, salt)`, with
	/// `node` the target's owner and `verifier` the owner of the verifier's validator node (the
	/// account its [`Slot`] names, not its off-chain key).
	///
	/// Binding the epoch, the target and the verifier makes a commitment open only for the slot
	/// it was made for: a verifier that copies another's commitment, and later its revealed
	/// report and salt, or replays its own commitment of an earlier epoch, cannot reveal.
	pub fn commitment<AccountId: Encode>(
		&self,
		epoch: u32,
		node: &AccountId,
		verifier: &AccountId,
		salt: &[u8; 32],
	) -> H256 {
		commitment(Domain::SyncReport, &(epoch, node, verifier, self, salt))
	}

	/// Whether the report saw the node pass: available and the challenge passed. Only such a
	/// report measured the node's latency and lag (the others carry `max_latency_ms` or
	/// `max_lag` in their place).
	pub fn passed(&self) -> bool {
		self.available && self.challenge_ok
	}
}

/// One verifier's place in a target's assignment.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct Slot<AccountId> {
	/// The verifier: the owner of a validator node.
	pub verifier: AccountId,
	/// The verifier's commitment, once made.
	pub commitment: Option<H256>,
	/// The verifier's revealed report (only ever present with a commitment).
	pub report: Option<ProbeReport>,
}

/// The verifiers drawn for one target in one epoch, and what they committed and revealed.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Assignment<T: Config> {
	/// The epoch of the assignment.
	pub epoch: u32,
	/// The challenge seed of this target in this epoch:
	/// `blake2_256(SCALE((EpochSeed, epoch, node)))`.
	pub seed: [u8; 32],
	/// The drawn verifiers, at most `MaxVerifiers`.
	pub slots: BoundedVec<Slot<T::AccountId>, T::MaxVerifiers>,
}

/// A node's Proof-of-Sync record. Service nodes use every field; verifiers (validator nodes)
/// use `misses` (consecutive absences) and `total_rewards`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub struct NodeScore<Balance> {
	/// The exponential moving average of the epoch qualities.
	pub score: Perbill,
	/// The quality of the last scored epoch.
	pub last_quality: Perbill,
	/// Scored epochs (the window of unproven capacity counts them: `unproven_epochs`).
	pub epochs: u32,
	/// Misses in a row (service nodes: epochs below `miss_quality`; verifiers: absences).
	pub misses: u32,
	/// Epochs in a row at or above `miss_quality`.
	pub good_streak: u32,
	/// Everything paid to the node by this pallet.
	pub total_rewards: Balance,
	/// The last epoch the node was scored in.
	pub last_epoch: u32,
	/// The capacity units its delivered usage proved: at each tally
	/// `max(usage / usage_per_capacity_unit, proven − ema_alpha · proven)` of the epoch's
	/// rewardable `usage` (verified, paid for), so proof fades at the score's pace when the node
	/// is no longer used.
	pub proven_capacity: u64,
}

/// The running totals of the epoch being tallied and paid.
///
/// `budget == node_part + verifier_part` and `distributed + failed <= budget`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub struct EpochTotals<Balance> {
	/// The sum of the reward weights of the tallied nodes.
	pub total_weight: u128,
	/// The confirmed reports of the epoch (verifier credits).
	pub total_credits: u64,
	/// The usage the usage factor is measured against: the lower median of the targets'
	/// non-zero rewardable usages ([`crate::reference_usage`]), fixed when the tally starts.
	pub reference_usage: u64,
	/// What the epoch pays out at most: the parts below that have recipients.
	pub budget: Balance,
	/// The part of the budget for service nodes (zero without any reward weight).
	pub node_part: Balance,
	/// The part of the budget for verifiers (zero without any confirmed report).
	pub verifier_part: Balance,
	/// What was paid so far.
	pub distributed: Balance,
	/// What failed to be paid (it stays at the reward source).
	pub failed: Balance,
	/// Recipients paid or attempted so far.
	pub recipients: u32,
}

impl<Balance: Saturating + Copy> EpochTotals<Balance> {
	/// `distributed + failed`.
	pub fn spent(&self) -> Balance {
		self.distributed.saturating_add(self.failed)
	}
}

/// A node's Proof-of-Sync record as the runtime API returns it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct NodeScoreView<Balance> {
	/// The exponential moving average of the epoch qualities.
	pub score: Perbill,
	/// The quality of the last scored epoch.
	pub last_quality: Perbill,
	/// Scored epochs.
	pub epochs: u32,
	/// Misses (or absences) in a row.
	pub misses: u32,
	/// Good epochs in a row.
	pub good_streak: u32,
	/// Everything paid to the node by this pallet.
	pub total_rewards: Balance,
	/// The capacity units its delivered usage proved ([`NodeScore::proven_capacity`]).
	pub proven_capacity: u64,
	/// The capacity units its reward weight uses now ([`crate::credited_capacity`] after its
	/// scored epochs): `min(declared, max(unproven_capacity, proven_capacity))` during its first
	/// `unproven_epochs` scored epochs, `min(declared, proven_capacity)` after; 0 when it is not
	/// registered.
	pub credited_capacity: u64,
	/// The node's status in the registry, `None` when it is not registered.
	pub status: Option<NodeStatus>,
}

/// What an account delivered as a provider, as the runtime API returns it (units are each
/// service's own: inferences for GPU jobs, name-years for naming...). What an account consumed
/// as a client is not kept in state (storage any account could grow without a deposit): sum the
/// `units` of the [`Event::UsageRecorded`](crate::Event::UsageRecorded) events that name it as
/// the client.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct UsageView {
	/// Units delivered as a provider, all time.
	pub delivered: u64,
	/// Rewardable units delivered in the current epoch (what weighs into this epoch's reward:
	/// verified deliveries, as far as their burned fees pay for them).
	pub delivered_this_epoch: u64,
}

/// The current epoch as the runtime API returns it.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct EpochView {
	/// The epoch index.
	pub index: u32,
	/// Its start block.
	pub start: u32,
	/// Where the state machine is.
	pub phase: Phase,
	/// The governed epoch length, in blocks.
	pub epoch_length: u32,
}

/// A verifier's off-chain record of one report, in the node's persistent local storage under
/// `b"dsync/pos/" ++ SCALE((epoch, node, verifier))`.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct LocalReport {
	/// The report.
	pub report: ProbeReport,
	/// The salt of its commitment.
	pub salt: [u8; 32],
	/// The block the commitment was last submitted at.
	pub commit_sent_at: u32,
	/// The block the reveal was last submitted at, if any.
	pub reveal_sent_at: Option<u32>,
}
