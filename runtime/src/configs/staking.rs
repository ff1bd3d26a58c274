//! Nominated Proof-of-Stake.
//!
//! - Eras of [`SessionsPerEra`] sessions (6 × 1 h; 2 × 1 min in the `fast-runtime` build that
//!   the validator-join end-to-end test runs); the validator set is elected once per era by
//!   sequential Phragmén computed on chain ([`OnChainSeqPhragmen`]) over a snapshot bounded by
//!   [`ElectionBoundsOnChain`] (at most [`MAX_ELECTING_VOTERS`] voters, taken from the bags-list
//!   in stake order, and [`MAX_ELECTABLE_TARGETS`] candidates). Seq-Phragmén costs about
//!   `winners × edges` steps; with at most 100 winners and 2,000 voters × 16 nominations that is
//!   ~3.2 M steps, well inside the block's 2 s even in Wasm.
//! - Unbonding takes [`BondingDuration`] eras (7 days); slashes wait [`SlashDeferDuration`] eras
//!   (one less than unbonding, so slashed stake cannot escape) during which the admin origin can
//!   cancel them.
//! - Inflation follows a reward curve ([`RewardCurve`]): 2.5 %/year at no stake up to 10 %/year
//!   at the ideal 50 % staked, falling off beyond. The part of the maximum payout not paid to
//!   stakers is not minted (`RewardRemainder = ()`), and slashed funds are burned (`Slash = ()`):
//!   both keep DSYNC's supply as low as the security budget allows.

use crate::{
	governance::NetworkAdminOrigin, Balance, Balances, Runtime, RuntimeEvent, RuntimeHoldReason,
	Session, Staking, Timestamp, VoterList,
};
use dsync_primitives::currency::DSYNC;
use frame_election_provider_support::{
	bounds::{ElectionBounds, ElectionBoundsBuilder},
	onchain, SequentialPhragmen, VoteWeight,
};
use frame_support::{
	parameter_types,
	traits::{ConstBool, ConstU32},
};
use sp_runtime::{curve::PiecewiseLinear, Perbill};
use sp_staking::{EraIndex, SessionIndex};

/// Most validators in the active set.
pub const MAX_VALIDATORS: u32 = 100;
/// Most nominators per exposure page (rewards are paid page by page).
pub const MAX_EXPOSURE_PAGE_SIZE: u32 = 256;
/// Most voters (nominators + validators) in an election snapshot.
pub const MAX_ELECTING_VOTERS: u32 = 2_000;
/// Most validator candidates in an election snapshot.
pub const MAX_ELECTABLE_TARGETS: u32 = 500;
/// Most nominations per nominator.
pub const MAX_NOMINATIONS: u32 = 16;

// The staking inflation curve (see the module docs).
pallet_staking_reward_curve::build! {
	const REWARD_CURVE: PiecewiseLinear<'static> = curve!(
		min_inflation: 0_025_000,
		max_inflation: 0_100_000,
		ideal_stake: 0_500_000,
		falloff: 0_050_000,
		max_piece_count: 40,
		test_precision: 0_005_000,
	);
}

parameter_types! {
	/// Sessions per era: 6 hours.
	pub const SessionsPerEra: SessionIndex = if cfg!(feature = "fast-runtime") { 2 } else { 6 };
	/// Eras a bond stays locked after `unbond`: 28 eras = 7 days.
	pub const BondingDuration: EraIndex = 28;
	/// Eras a slash waits before it is applied; the admin origin may cancel it meanwhile.
	pub const SlashDeferDuration: EraIndex = 27;
	/// The inflation curve (see the module docs).
	pub const RewardCurve: &'static PiecewiseLinear<'static> = &REWARD_CURVE;
	/// Eras of reward history kept: 84 eras = 21 days to claim rewards.
	pub const HistoryDepth: u32 = 84;
	/// See [`MAX_VALIDATORS`].
	pub const MaxValidatorSet: u32 = MAX_VALIDATORS;
	/// See [`MAX_EXPOSURE_PAGE_SIZE`].
	pub const MaxExposurePageSize: u32 = MAX_EXPOSURE_PAGE_SIZE;
	/// Unlocking chunks per ledger (one per `unbond` call still waiting).
	pub const MaxUnlockingChunks: u32 = 32;
	/// Controllers migrated per `deprecate_controller_batch` call.
	pub const MaxControllersInDeprecationBatch: u32 = 512;
	/// The election snapshot bounds (see the module docs).
	pub ElectionBoundsOnChain: ElectionBounds = ElectionBoundsBuilder::default()
		.voters_count(MAX_ELECTING_VOTERS.into())
		.targets_count(MAX_ELECTABLE_TARGETS.into())
		.build();
	/// Most backers one elected validator may have in the result.
	pub const MaxBackersPerWinner: u32 = MAX_ELECTING_VOTERS;
}

/// The on-chain election: sequential Phragmén over the staking snapshot.
pub struct OnChainSeqPhragmen;
impl onchain::Config for OnChainSeqPhragmen {
	type Sort = ConstBool<true>;
	type System = Runtime;
	type Solver = SequentialPhragmen<dsync_primitives::AccountId, Perbill>;
	type DataProvider = Staking;
	type WeightInfo = frame_election_provider_support::weights::SubstrateWeight<Runtime>;
	type MaxBackersPerWinner = MaxBackersPerWinner;
	type MaxWinnersPerPage = MaxValidatorSet;
	type Bounds = ElectionBoundsOnChain;
}

impl pallet_staking::Config for Runtime {
	type OldCurrency = Balances;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type CurrencyBalance = Balance;
	type UnixTime = Timestamp;
	type CurrencyToVote = sp_staking::currency_to_vote::U128CurrencyToVote;
	type ElectionProvider = onchain::OnChainExecution<OnChainSeqPhragmen>;
	type GenesisElectionProvider = onchain::OnChainExecution<OnChainSeqPhragmen>;
	type NominationsQuota = pallet_staking::FixedNominationsQuota<MAX_NOMINATIONS>;
	type HistoryDepth = HistoryDepth;
	type RewardRemainder = ();
	type RuntimeEvent = RuntimeEvent;
	type Slash = ();
	type Reward = ();
	type SessionsPerEra = SessionsPerEra;
	type BondingDuration = BondingDuration;
	type SlashDeferDuration = SlashDeferDuration;
	// Staking administration and deferred-slash appeals: root or the `network_admin` track.
	type AdminOrigin = NetworkAdminOrigin;
	type SessionInterface = Self;
	type EraPayout = pallet_staking::ConvertCurve<RewardCurve>;
	type NextNewSession = Session;
	type MaxExposurePageSize = MaxExposurePageSize;
	type MaxValidatorSet = MaxValidatorSet;
	type VoterList = VoterList;
	type TargetList = pallet_staking::UseValidatorsMap<Self>;
	type MaxUnlockingChunks = MaxUnlockingChunks;
	type MaxControllersInDeprecationBatch = MaxControllersInDeprecationBatch;
	type EventListeners = ();
	type Filter = frame_support::traits::Nothing;
	type WeightInfo = pallet_staking::weights::SubstrateWeight<Runtime>;
	type BenchmarkingConfig = StakingBenchmarkingConfig;
}

/// Sizes pallet-staking's benchmarks use: the runtime's own bounds.
pub struct StakingBenchmarkingConfig;
impl pallet_staking::BenchmarkingConfig for StakingBenchmarkingConfig {
	type MaxValidators = MaxValidatorSet;
	type MaxNominators = ConstU32<MAX_ELECTING_VOTERS>;
}

/// Number of bags of the voter list.
pub const BAG_COUNT: usize = 200;

/// Upper score bound of each bag: a geometric series from 10^10 growing by 11.3 % per bag,
/// the last bag ending at `u64::MAX`. Vote weights are balances scaled into `u64` by
/// `U128CurrencyToVote` (total issuance / u64::MAX ≈ 5.4 × 10^7 plancks per unit at genesis), so
/// the first bag holds stakes below ~0.0005 DSYNC and neighbouring bags differ by 11.3 %: a
/// nominator is never more than one bag-ratio away from its exact position.
pub const BAG_THRESHOLDS: [VoteWeight; BAG_COUNT] = bag_thresholds();

const fn bag_thresholds() -> [VoteWeight; BAG_COUNT] {
	let mut thresholds = [0u64; BAG_COUNT];
	let mut current: u128 = 10_000_000_000;
	let mut i = 0;
	while i < BAG_COUNT - 1 {
		thresholds[i] = current as u64;
		let next = (current * 1113).div_ceil(1000);
		current = if next > current { next } else { current + 1 };
		i += 1;
	}
	thresholds[BAG_COUNT - 1] = u64::MAX;
	thresholds
}

parameter_types! {
	/// See [`BAG_THRESHOLDS`].
	pub const BagThresholds: &'static [VoteWeight] = &BAG_THRESHOLDS;
	/// Voters moved to their right bag automatically per block.
	pub const MaxAutoRebagPerBlock: u32 = 10;
}

type VoterBagsListInstance = pallet_bags_list::Instance1;
impl pallet_bags_list::Config<VoterBagsListInstance> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_bags_list::weights::SubstrateWeight<Runtime>;
	type ScoreProvider = Staking;
	type BagThresholds = BagThresholds;
	type MaxAutoRebagPerBlock = MaxAutoRebagPerBlock;
	type Score = VoteWeight;
}

/// Minimum bond of a validator at genesis (governance may change it): 10,000 DSYNC.
pub const MIN_VALIDATOR_BOND: Balance = 10_000 * DSYNC;
/// Minimum bond of a nominator at genesis: 100 DSYNC.
pub const MIN_NOMINATOR_BOND: Balance = 100 * DSYNC;

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn bag_thresholds_strictly_increase_and_end_at_max() {
		assert!(BAG_THRESHOLDS.windows(2).all(|w| w[0] < w[1]));
		assert_eq!(BAG_THRESHOLDS[BAG_COUNT - 1], u64::MAX);
		assert_eq!(BAG_THRESHOLDS[0], 10_000_000_000);
	}
}
