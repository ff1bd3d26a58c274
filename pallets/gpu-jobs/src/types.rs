//! Data types of the GPU-jobs pallet, the aliases used across it and the hashing rules a job's
//! parties share: the commitment ([`commitment_of`]), the batch input root ([`inputs_root`]) and
//! the result root ([`outputs_root`]).

use crate::Config;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dsync_primitives::{
	commit_reveal::{commitment, Domain},
	convert::{u32_to_usize, usize_to_u32},
	traits::ModelId,
};
use frame_support::{
	traits::{fungible, ConstU32, Get},
	BoundedVec, CloneNoBound, DebugNoBound, DefaultNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_core::H256;
use sp_io::hashing::blake2_256;
use sp_runtime::{traits::Saturating, Perbill};

/// The balance type of [`Config::Currency`].
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The identifier of a job: sequential, assigned by the pallet.
pub type JobId = u64;

/// The providers drawn for a job, with their commitments and results.
pub type ProviderSlotsOf<T> =
	BoundedVec<ProviderSlot<<T as frame_system::Config>::AccountId>, <T as Config>::MaxReplication>;

/// The job input type of a runtime.
pub type JobInputOf<T> = JobInput<<T as Config>::MaxInlineInput, <T as Config>::MaxUrlLen>;

/// The most siblings in a Merkle proof: item indices are `u32`, so a batch tree has at most 32
/// levels above its leaves.
pub type MaxProofLen = ConstU32<32>;

/// The longest input item of any model: the format's widest layer,
/// [`dsync_aivm_core::MAX_WIDTH`] (4096).
pub type MaxItemLen = ConstU32<4096>;

// `MaxItemLen` must follow the format's bound.
const _: () = assert!(dsync_aivm_core::MAX_WIDTH == 4096);

/// The longest `max_deadline` and `dispute_period` governance may set: one week of 6-second
/// blocks.
pub const MAX_PERIOD: u32 = 100_800;

/// The most input bytes a batch job may have (`items × input_len`): 1 MiB. The provider's
/// off-chain worker downloads the whole batch and sends it to its inference server in one
/// request, so the batch must fit the worker's memory comfortably; larger work is split into
/// several jobs.
pub const MAX_BATCH_INPUT_BYTES: u32 = 1 << 20;

/// The most output values a job may produce (`items × output_len`, inline or batch): 2^20, so
/// the inference server's JSON answer stays within the worker's response limit.
pub const MAX_JOB_OUTPUTS: u32 = 1 << 20;

/// The vote "the input could not be obtained", committed and revealed like a result by a
/// provider that could not download a batch's input (no answer, wrong bytes, a trickle past the
/// commit window): `blake2_256(b"dsync/gpu-jobs/input-unavailable")`. It is no Merkle root of
/// results (no leaves, never confirmed by a re-execution, never a side of a challenge walk).
/// When it is the majority at the dispute end the client forfeits `unavailable_forfeit` of the
/// price per voter and nobody is penalised; a re-execution of one item, whose input is proven
/// against the batch's hash, shows the input was available and makes every such vote a miss.
/// An inline input is on chain: the vote is refused for it.
pub const INPUT_UNAVAILABLE: H256 = H256([
	0x3c, 0x84, 0xc3, 0xa4, 0xee, 0x56, 0xaf, 0xd6, 0x3c, 0x9b, 0x7d, 0xcf, 0xfa, 0x00, 0x14, 0x5f,
	0x5c, 0x01, 0x3e, 0x52, 0xa0, 0xed, 0x6c, 0x5f, 0x37, 0x55, 0xfa, 0x8f, 0x63, 0xe2, 0x1a, 0x38,
]);

/// Multiply-accumulates per usage unit: a job reports `items × units_per_item` units to
/// Proof of Sync, with `units_per_item = ceil(weights / 1000)` of its model.
pub const MACS_PER_UNIT: u64 = 1_000;

/// The governed timing parameters, set as a whole by [`Config::AdminOrigin`].
///
/// Valid, with the runtime's `Config::DrawDelay` `d`, when `reveal_period >= 1`,
/// `min_deadline > reveal_period + d + 1` (so every commit window lasts at least two blocks
/// after the providers are drawn: the draw block and one for a worker's transaction),
/// `min_deadline <= max_deadline <= MAX_PERIOD` and
/// `1 <= dispute_period <= MAX_PERIOD` ([`GpuJobsParams::is_valid`]). Anything else is refused
/// with `Error::InvalidParameters`.
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
pub struct GpuJobsParams {
	/// The nearest deadline a client may set, in blocks after posting.
	pub min_deadline: u32,
	/// The farthest deadline a client may set, in blocks after posting.
	pub max_deadline: u32,
	/// The last blocks before a job's deadline, in which results are revealed; commitments are
	/// accepted before them.
	pub reveal_period: u32,
	/// Blocks after the deadline during which a job's result can be re-executed on chain: a
	/// job without a majority is resolved (or refunded at the end), a majority result can be
	/// challenged (and is paid at the end).
	pub dispute_period: u32,
	/// The share of the price a client forfeits per provider that voted its batch input
	/// unavailable ([`INPUT_UNAVAILABLE`]) when that vote is the majority at the dispute end:
	/// charged from the escrow like a payment without a provider (burned, the rest to the
	/// treasury), so a client whose URL fails pays for the providers' wasted effort instead of
	/// getting them penalised. Any value is valid; 0 forfeits nothing.
	pub unavailable_forfeit: Perbill,
}

impl Default for GpuJobsParams {
	/// Deadlines from 2 minutes to 1 day ahead, a 1-minute reveal period and a 10-minute dispute
	/// period (6-second blocks); 10 % of the price forfeited per vote that a batch's input was
	/// unavailable. The runtime's genesis preset chooses its own values.
	fn default() -> Self {
		Self {
			min_deadline: 20,
			max_deadline: 14_400,
			reveal_period: 10,
			dispute_period: 100,
			unavailable_forfeit: Perbill::from_percent(10),
		}
	}
}

impl GpuJobsParams {
	/// Whether the parameters are within the bounds listed on [`GpuJobsParams`], with providers
	/// drawn `draw_delay` blocks after posting.
	pub fn is_valid(&self, draw_delay: u32) -> bool {
		self.reveal_period >= 1
			&& self.min_deadline > self.reveal_period.saturating_add(draw_delay).saturating_add(1)
			&& (self.min_deadline..=MAX_PERIOD).contains(&self.max_deadline)
			&& (1..=MAX_PERIOD).contains(&self.dispute_period)
	}
}

/// What the chain records about a registered model. Its `.aivm` file is kept apart, in
/// [`ModelCode`](crate::ModelCode), for re-execution.
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
)]
pub struct ModelRecord<Balance> {
	/// The model's id in the inference network: the Blake2-256 of its `.aivm` file.
	pub hash: H256,
	/// `i8` values per input item.
	pub input_len: u32,
	/// `i32` values per output item.
	pub output_len: u32,
	/// Usage units one inference is worth: `ceil(weights / 1000)`, at least 1.
	pub units_per_item: u32,
	/// The least price per provider and item a job may offer.
	pub price_floor: Balance,
	/// Whether new jobs may use the model.
	pub active: bool,
}

/// The input of a job.
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
#[scale_info(skip_type_params(MaxInline, MaxUrl))]
pub enum JobInput<MaxInline: Get<u32>, MaxUrl: Get<u32>> {
	/// The items on chain, one after the other: `n × input_len` values, `n >= 1`.
	Inline(BoundedVec<i8, MaxInline>),
	/// A batch held off chain.
	Batch {
		/// The number of items, at least 1.
		items: u32,
		/// [`inputs_root`] of the batch: the Merkle root of the Blake2-256 of each item.
		inputs_hash: H256,
		/// Where providers download the batch (`http://` or `https://`): `items × input_len`
		/// bytes, each value an `i8` as its two's-complement byte, item after item.
		url: BoundedVec<u8, MaxUrl>,
	},
}

/// One assigned provider of a job.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct ProviderSlot<AccountId> {
	/// The provider: the owner of a service node.
	pub who: AccountId,
	/// Its commitment ([`commitment_of`]), once made.
	pub commitment: Option<H256>,
	/// Its revealed result (only ever present with a commitment).
	pub result: Option<H256>,
}

/// Where an open job is. A job that ends is removed from storage; its end is reported by
/// `JobSettled`, `JobRefunded` or `JobExpired`.
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
)]
pub enum JobStatus {
	/// Posted; providers commit.
	Open,
	/// Every provider committed or one revealed: results are being revealed.
	Revealing,
	/// No majority when the reveals ended: waiting for a re-execution until `dispute_end`.
	Disputed,
	/// A result has a majority: it is paid at `dispute_end` unless a re-execution proves it
	/// wrong before (the challenge window).
	Concluded,
	/// A minority result of a job of several items challenges the majority result: the two
	/// sides walk down their Merkle trees to an item where they differ ([`Challenge`]), which
	/// is then re-executed. It ends by `dispute_end` at the latest.
	Challenged,
	/// Posted, its `k` providers not drawn yet: they are drawn in the block listed in
	/// [`crate::Draws`] (`Config::DrawDelay` blocks after posting), with that block's
	/// randomness, which nobody knows when the job is posted. Nobody commits before.
	#[codec(index = 5)]
	Drawing {
		/// The replication asked for.
		k: u8,
	},
}

/// An open job.
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
pub struct Job<T: Config> {
	/// Who posted and pays.
	pub client: T::AccountId,
	/// The model.
	pub model: ModelId,
	/// The input.
	pub input: JobInputOf<T>,
	/// The number of items (inline: the input length over the model's input length).
	pub items: u32,
	/// What each agreeing provider is paid for the whole job.
	pub price: BalanceOf<T>,
	/// The block the job was posted in.
	pub posted_at: BlockNumberFor<T>,
	/// Commitments are accepted before this block: `deadline - reveal_period`.
	pub commit_deadline: BlockNumberFor<T>,
	/// Reveals are accepted before this block; from it on the job settles.
	pub deadline: BlockNumberFor<T>,
	/// A re-execution is accepted before this block: `deadline + dispute_period`. A majority
	/// result is paid, an unresolved dispute refunded, from it on.
	pub dispute_end: BlockNumberFor<T>,
	/// The `k` assigned providers, distinct, in draw order.
	pub providers: ProviderSlotsOf<T>,
	/// Where the job is.
	pub status: JobStatus,
}

/// The revealed results of a job, counted.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Tally {
	/// The result more than half of the `k` providers revealed, if any.
	pub majority: Option<H256>,
	/// The number of revealed results.
	pub reveals: u32,
}

impl<T: Config> Job<T> {
	/// The replication `k`: the number of assigned providers (the number asked for while they
	/// are being drawn).
	pub fn k(&self) -> u32 {
		match self.status {
			JobStatus::Drawing { k } => u32::from(k),
			_ => usize_to_u32(self.providers.len()),
		}
	}

	/// The funds held for the job: `k × price` (checked at posting, so it does not saturate).
	pub fn escrow(&self) -> BalanceOf<T> {
		self.price.saturating_mul(self.k().into())
	}

	/// The slot of `provider`, if assigned.
	pub fn slot(&self, provider: &T::AccountId) -> Option<&ProviderSlot<T::AccountId>> {
		self.providers.iter().find(|slot| slot.who == *provider)
	}

	/// The slot of `provider`, if assigned, to change it.
	pub fn slot_mut(&mut self, provider: &T::AccountId) -> Option<&mut ProviderSlot<T::AccountId>> {
		self.providers.iter_mut().find(|slot| slot.who == *provider)
	}

	/// Whether every provider committed.
	pub fn all_committed(&self) -> bool {
		self.providers.iter().all(|slot| slot.commitment.is_some())
	}

	/// Whether a commitment is accepted at block `now`: the job is `Open` and
	/// `now < commit_deadline`.
	pub fn commit_open(&self, now: BlockNumberFor<T>) -> bool {
		self.status == JobStatus::Open && now < self.commit_deadline
	}

	/// Whether a reveal is accepted at block `now`: the job is `Open` or `Revealing`,
	/// `now < deadline`, and every provider committed or `now >= commit_deadline`.
	pub fn reveal_open(&self, now: BlockNumberFor<T>) -> bool {
		matches!(self.status, JobStatus::Open | JobStatus::Revealing)
			&& now < self.deadline
			&& (self.all_committed() || now >= self.commit_deadline)
	}

	/// Whether no more results can come at block `now`: every provider revealed, or the commit
	/// window closed and every committed provider revealed.
	pub fn reveals_complete(&self, now: BlockNumberFor<T>) -> bool {
		let commit_closed = now >= self.commit_deadline;
		self.providers
			.iter()
			.all(|slot| slot.result.is_some() || (commit_closed && slot.commitment.is_none()))
	}

	/// The distinct revealed results, in slot order.
	pub fn distinct_results(&self) -> Vec<H256> {
		let mut results: Vec<H256> = Vec::new();
		for result in self.providers.iter().filter_map(|slot| slot.result) {
			if !results.contains(&result) {
				results.push(result);
			}
		}
		results
	}

	/// The majority result, if it can still be paid by `verdicts` (neither proven wrong nor
	/// forfeited).
	pub fn payable_majority(&self, verdicts: &Verdicts<T>) -> Option<H256> {
		self.tally().majority.filter(|majority| verdicts.payable(*majority))
	}

	/// The distinct revealed results that can still be paid by `verdicts`.
	pub fn payable_results(&self, verdicts: &Verdicts<T>) -> Vec<H256> {
		self.distinct_results()
			.into_iter()
			.filter(|result| verdicts.payable(*result))
			.collect()
	}

	/// Count the revealed results: a result revealed by more than half of the `k` providers
	/// is the majority.
	pub fn tally(&self) -> Tally {
		let reveals = self.providers.iter().filter(|slot| slot.result.is_some()).count();
		let majority = self.distinct_results().into_iter().find(|result| {
			let votes = self.providers.iter().filter(|slot| slot.result == Some(*result)).count();
			votes.saturating_mul(2) > self.providers.len()
		});
		Tally { majority, reveals: usize_to_u32(reveals) }
	}
}

/// What the disputes of a job established about one of its revealed results.
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
)]
pub struct Standing {
	/// The result.
	pub result: H256,
	/// A re-execution matched its leaf at an item where the results it was compared with
	/// differed from it.
	pub confirmed: bool,
	/// A re-execution proved its leaf wrong at an item: it is never paid, its providers are
	/// penalised `WrongResult` when the job ends.
	pub proven_wrong: bool,
	/// Its side did not answer a round of a challenge it defended: it is not paid, its
	/// providers are penalised `Unanswered` (a miss) when the job ends.
	pub forfeited: bool,
	/// A challenge it opened stalled (its side missed a round, or nobody re-executed the item
	/// found): it can never open another one.
	pub stalled: bool,
}

impl Standing {
	/// A result nothing is known about yet.
	pub fn new(result: H256) -> Self {
		Self { result, confirmed: false, proven_wrong: false, forfeited: false, stalled: false }
	}

	/// Whether the result can still be paid: neither proven wrong nor forfeited.
	pub fn payable(&self) -> bool {
		!self.proven_wrong && !self.forfeited
	}
}

/// The disputes of one job: what they established about its results, and the hard bound on
/// how late its challenges may make it end.
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
	DefaultNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Verdicts<T: Config> {
	/// One entry per result something is known about (at most one per provider).
	pub standings: BoundedVec<Standing, <T as Config>::MaxReplication>,
	/// No challenge may move the job's `dispute_end` past this block: set when the job's first
	/// challenge or re-execution records something, to that `dispute_end` plus `3 × results ×
	/// challenge_rounds × reveal_period` (every walk ends with a result stalled, forfeited or
	/// proven wrong, each at most once per result).
	pub latest_end: BlockNumberFor<T>,
}

impl<T: Config> Verdicts<T> {
	/// Nothing known yet; no challenge may end after `latest_end`.
	pub fn until(latest_end: BlockNumberFor<T>) -> Self {
		Self { standings: Default::default(), latest_end }
	}

	/// What is known about `result` (nothing yet: a fresh standing).
	pub fn of(&self, result: H256) -> Standing {
		self.standings
			.iter()
			.find(|standing| standing.result == result)
			.copied()
			.unwrap_or_else(|| Standing::new(result))
	}

	/// Change what is known about `result` with `change`. A job has at most `MaxReplication`
	/// distinct results, one standing each, so there is always room.
	pub fn update(&mut self, result: H256, change: impl FnOnce(&mut Standing)) {
		if let Some(standing) = self.standings.iter_mut().find(|s| s.result == result) {
			return change(standing);
		}
		let mut standing = Standing::new(result);
		change(&mut standing);
		if self.standings.try_push(standing).is_err() {
			frame_support::defensive!("more standings than a job has results");
		}
	}

	/// Whether `result` can still be paid.
	pub fn payable(&self, result: H256) -> bool {
		self.of(result).payable()
	}
}

/// A revealed root's leaf at the disputed item, with its Merkle proof, as
/// `resolve_by_execution` takes it for jobs of more than one item.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct ResultClaim {
	/// A revealed result (the Merkle root of a provider's item hashes).
	pub root: H256,
	/// The leaf of `root` at the disputed item: the claimed `result_hash` of its outputs.
	pub leaf: H256,
	/// The siblings from the leaf up (`dsync_aivm_core::merkle_proof`).
	pub proof: BoundedVec<H256, MaxProofLen>,
}

/// The levels a challenge walks down per round: each side reveals up to `2^CHALLENGE_LEVELS`
/// nodes of its tree, so a 16,384-item batch (14 levels) is narrowed to one item in two rounds.
pub const CHALLENGE_LEVELS: u32 = 7;

/// The most nodes one side reveals in a round of a challenge: `2^CHALLENGE_LEVELS`.
pub type MaxChallengeNodes = ConstU32<128>;

const _: () = assert!(1 << CHALLENGE_LEVELS == 128);

/// A challenge between a minority result and the majority result of a job of several items
/// ([`JobStatus::Challenged`]).
///
/// Both results are Merkle roots over the same items, and they differ, so some item differs.
/// The challenge holds one node of each tree at the same place (`level`, `position`; level 0
/// is the items), where the two differ. In each round each side reveals the nodes up to
/// [`CHALLENGE_LEVELS`] levels below it ([`challenge_slice`]), proven by hashing to its node;
/// the first place where the two revealed runs differ becomes the challenge's node. At level
/// 0 the item is found and `resolve_by_execution` re-executes it.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct Challenge<AccountId, BlockNumber> {
	/// Who opened it.
	pub by: AccountId,
	/// The challenging (minority) result.
	pub result: H256,
	/// The defending result: the majority result, or for a dispute the other result.
	pub defender: H256,
	/// The level of the contested node (0: an item).
	pub level: u32,
	/// Its position at that level.
	pub position: u32,
	/// The challenger's tree's node there.
	pub result_node: H256,
	/// The defender's tree's node there.
	pub defender_node: H256,
	/// The nodes below it the challenger revealed this round.
	pub result_nodes: Option<BoundedVec<H256, MaxChallengeNodes>>,
	/// The nodes below it the defender's side revealed this round.
	pub defender_nodes: Option<BoundedVec<H256, MaxChallengeNodes>>,
	/// The current round is answered before this block.
	pub round_end: BlockNumber,
	/// Blocks per round: the job parameters' `reveal_period` when it opened.
	pub period: u32,
}

impl<AccountId, BlockNumber: PartialOrd> Challenge<AccountId, BlockNumber> {
	/// Whether the challenger's side missed the round that ended before `now`: it did not
	/// reveal its nodes, or nobody re-executed the item found. (Otherwise, once the round
	/// ended, the defender's side missed it with the challenger's nodes in: it forfeits.)
	pub fn challenger_stalled(&self, now: BlockNumber) -> bool {
		now >= self.round_end && (self.level == 0 || self.result_nodes.is_none())
	}
}

/// The place and length of the nodes revealed in a round of a challenge of a job of `items`
/// items whose contested node is at (`level`, `position`): `(child_level, first, count)`, the
/// nodes `first..first + count` of level `child_level`. `None` at level 0 (an item: nothing to
/// reveal) or for a place outside the tree.
pub fn challenge_slice(items: u32, level: u32, position: u32) -> Option<(u32, u32, u32)> {
	if level == 0 {
		return None;
	}
	let down = level.min(CHALLENGE_LEVELS);
	let child_level = level - down;
	let width = u64::from(items).div_ceil(1u64 << child_level.min(63));
	let first = u64::from(position) << down;
	let end = (u64::from(position) + 1).checked_shl(down)?.min(width);
	if first >= end {
		return None;
	}
	Some((child_level, u32::try_from(first).ok()?, u32::try_from(end - first).ok()?))
}

/// The rounds of a challenge of a job of `items` items: the descents to an item, then one to
/// re-execute it.
pub fn challenge_rounds(items: u32) -> u32 {
	dsync_aivm_core::merkle_height(u32_to_usize(items))
		.div_ceil(CHALLENGE_LEVELS)
		.saturating_add(1)
}

/// The disputed item of a batch job, proven against the job's `inputs_hash`.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct BatchItem {
	/// The item's input: `input_len` values.
	pub input: BoundedVec<i8, MaxItemLen>,
	/// The Merkle proof of [`input_leaf`] of the item against the job's `inputs_hash`.
	pub proof: BoundedVec<H256, MaxProofLen>,
}

/// Why a provider is penalised.
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
)]
pub enum PenaltyReason {
	/// It did not commit, or did not reveal what it committed to.
	NoShow,
	/// It revealed a result other than the majority's.
	Dissent,
	/// Its result was proven wrong by re-executing the disputed item on chain.
	WrongResult,
	/// Its side did not answer a round of a challenge its result defended. Not proof of a
	/// wrong result (the network may have delayed the answer): a miss, and its result is not
	/// paid.
	Unanswered,
}

/// Why a job was refunded in full after results were revealed.
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
)]
pub enum RefundReason {
	/// The re-execution matched no revealed result: every revealer was wrong.
	NoMatchingResult,
	/// Nobody resolved the dispute before `dispute_end`.
	DisputeUnresolved,
	/// The majority's side did not answer a round of a challenge in time: its result is not
	/// defended, so it is not paid; the challenger's result is not proven either.
	ChallengeUnanswered,
	/// When the job's providers were drawn, fewer than `k` eligible providers (other than the
	/// client) were left: nothing was computed, the whole escrow is released.
	NoProviders,
}

/// A job's input as the runtime API returns it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum JobInputView {
	/// The items on chain.
	Inline(Vec<i8>),
	/// A batch held off chain.
	Batch {
		/// The number of items.
		items: u32,
		/// The Merkle root of the items' hashes.
		inputs_hash: H256,
		/// Where the batch is downloaded.
		url: Vec<u8>,
	},
}

/// An open job as the runtime API returns it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct JobView<AccountId, Balance, BlockNumber> {
	/// Who posted and pays.
	pub client: AccountId,
	/// The model.
	pub model: ModelId,
	/// The input.
	pub input: JobInputView,
	/// The number of items.
	pub items: u32,
	/// The replication `k`.
	pub replication: u32,
	/// The price per agreeing provider.
	pub price: Balance,
	/// The funds held: `k × price`.
	pub escrow: Balance,
	/// The block the job was posted in.
	pub posted_at: BlockNumber,
	/// Commitments are accepted before this block.
	pub commit_deadline: BlockNumber,
	/// Reveals are accepted before this block.
	pub deadline: BlockNumber,
	/// A re-execution (dispute or challenge) is accepted before this block; from it on a
	/// majority result is paid and an unresolved dispute refunded.
	pub dispute_end: BlockNumber,
	/// The providers with their commitments and results.
	pub providers: Vec<ProviderSlot<AccountId>>,
	/// Where the job is.
	pub status: JobStatus,
}

/// What a provider's off-chain worker remembers about one job, in its persistent local storage
/// (see [`ocw`](crate::ocw)).
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub enum LocalJob {
	/// The inference failed (no answer, an HTTP error, a malformed or wrongly shaped answer, a
	/// batch that could not be downloaded or does not match its hash); it is tried again from
	/// block `retry_at`. A batch whose input failed again, or near the commit deadline, is voted
	/// unavailable instead ([`INPUT_UNAVAILABLE`], recorded as `Computed`).
	Failed {
		/// Failed attempts to obtain the batch input, for a reason of the input's own, so far:
		/// a failure of the provider's own (its inference server) is tried again but never
		/// brings the vote [`INPUT_UNAVAILABLE`] closer.
		input_failures: u32,
		/// The first block of the next attempt.
		retry_at: u32,
	},
	/// The result is computed (or the input voted unavailable).
	Computed {
		/// The result: [`outputs_root`] of the outputs, or [`INPUT_UNAVAILABLE`].
		result: H256,
		/// The salt of the commitment.
		salt: [u8; 32],
		/// The block the commitment was last submitted at.
		commit_sent_at: u32,
		/// The block the reveal was last submitted at, if any.
		reveal_sent_at: Option<u32>,
	},
	/// The one-item job concluded on another result than this provider's, and the provider
	/// challenged it (`resolve_by_execution`): never sent again against a real result, since a
	/// failed challenge costs a fee; sent again after `RESUBMIT_AFTER_BLOCKS` against a majority
	/// vote that the input was unavailable, which the re-execution always disproves.
	Challenged {
		/// The block the challenge was submitted at.
		sent_at: u32,
	},
	/// The provider's result on a job of several items is on chain; its leaves are kept in
	/// local storage ([`leaves_key`](crate::ocw::leaves_key)) until the job ends, to defend or
	/// press a challenge.
	Revealed {
		/// The result.
		result: H256,
		/// The block this worker last sent `challenge` at: once, and again only when another
		/// result's challenge stalled (at most every `RESUBMIT_AFTER_BLOCKS` blocks).
		challenge_sent_at: Option<u32>,
		/// The level and block of the last `reveal_nodes` it sent, to send each round once
		/// (again after `RESUBMIT_AFTER_BLOCKS` blocks if it is not on chain).
		nodes_sent: Option<(u32, u32)>,
		/// Whether it asked for the re-execution at the challenge's item: never twice.
		resolve_sent: bool,
	},
}

/// The commitment a provider submits: the shared [`commitment`] in [`Domain::GpuJobResult`] of
/// `(job, provider, result, salt)`, with `provider` the node owner's account. Binding the job
/// and the provider means a commitment cannot be copied from another provider or another job.
pub fn commitment_of<AccountId: Encode>(
	job: JobId,
	provider: &AccountId,
	result: &H256,
	salt: &[u8; 32],
) -> H256 {
	commitment(Domain::GpuJobResult, &(job, provider, result, salt))
}

/// The leaf of one input item in a batch's input tree: the Blake2-256 of its values, each as its
/// two's-complement byte.
pub fn input_leaf(item: &[i8]) -> [u8; 32] {
	let bytes: Vec<u8> = item.iter().map(|value| u8::from_le_bytes(value.to_le_bytes())).collect();
	blake2_256(&bytes)
}

/// The `inputs_hash` of a batch: the Merkle root ([`dsync_aivm_core::batch_merkle_root`]) of the
/// [`input_leaf`] of each `input_len`-value item of `inputs`, in order. A partial last item is
/// ignored (callers check lengths first).
pub fn inputs_root(inputs: &[i8], input_len: usize) -> H256 {
	let leaves: Vec<[u8; 32]> = inputs.chunks_exact(input_len.max(1)).map(input_leaf).collect();
	H256(dsync_aivm_core::batch_merkle_root(&leaves))
}

/// The result of a job: the Merkle root of the `result_hash` of each `output_len`-value item of
/// `outputs`, in order. For a one-item job this is the item's `result_hash` itself.
pub fn outputs_root(outputs: &[i32], output_len: usize) -> H256 {
	let leaves = dsync_aivm_core::batch_result_hashes(outputs, output_len);
	H256(dsync_aivm_core::batch_merkle_root(&leaves))
}

/// Whether `url` is an `http://` or `https://` URL of printable ASCII without spaces and with
/// something after the scheme.
pub fn is_valid_url(url: &[u8]) -> bool {
	let rest = url.strip_prefix(b"http://").or_else(|| url.strip_prefix(b"https://"));
	rest.is_some_and(|rest| !rest.is_empty()) && url.iter().all(|c| (0x21..=0x7e).contains(c))
}
