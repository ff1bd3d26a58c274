//! On-chain governance: DSYNC holders decide by referendum.
//!
//! - [`origins`]: the runtime's own governance origins (parameter admin, network admin,
//!   referendum canceller and killer, treasury spenders) and the governance timing fixed at
//!   genesis.
//! - [`tracks`]: the referendum tracks, one per origin plus root, with their deposits, periods
//!   and pass curves.
//! - This module: the pallets that run referenda and spend the treasury, and the origins the
//!   other pallets' configs ([`crate::configs`]) accept: [`ParameterAdminOrigin`],
//!   [`NetworkAdminOrigin`] and [`TreasurySpender`].
//!
//! The pallets:
//!
//! - `Preimage` (`pallet-preimage`): stores a proposal's call under its hash against a deposit
//!   held in `Balances` ([`PreimageBaseDeposit`] + [`PreimageByteDeposit`] per byte).
//! - `Scheduler` (`pallet-scheduler`): dispatches a passed proposal at its enactment block with
//!   the track's origin, using at most 80 % of a block.
//! - `Referenda` (`pallet-referenda`): anyone submits a referendum against
//!   [`SubmissionDeposit`]; it needs its track's decision deposit before it can be decided. The
//!   proposal's origin selects the track; an origin without a track is refused (`NoTrack`).
//!   Cancel needs root or the `referendum_canceller` track, kill root or `referendum_killer`
//!   (killed referenda's deposits go to the treasury).
//! - `ConvictionVoting` (`pallet-conviction-voting`): votes of DSYNC holders; conviction `n`
//!   multiplies a vote's weight by `n` (0.1 for none) and locks the balance for
//!   `2^(n-1)` × [`VoteLockingPeriod`] after the referendum ends on the winning side. Support
//!   is measured against the active issuance. A vote can use any part of the voter's balance,
//!   also what staking holds (as on Polkadot), but not more (`InsufficientFunds`).
//! - `Treasury` (`pallet-treasury`): the account `py/trsry` ([`TreasuryAccount`]), which
//!   receives the treasury shares of fees, service payments, name rents, pool setup fees, slashes
//!   and killed deposits. Spends go through `Treasury::spend` from root or a spender track (each
//!   with its cap) and are paid by `Treasury::payout` within [`PayoutPeriod`]. Nothing is burned
//!   from the treasury (the burns happen when DSYNC is used).
//! - `Origins`: the runtime's own origins, see [`origins`].
//!
//! The README's governance guide explains how to propose and vote in Polkadot.js apps.

pub mod origins;
pub mod tracks;

use crate::{
	constants::{TreasuryAccount, TreasuryPalletId},
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Referenda, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, Scheduler, System, Treasury,
};
use dsync_primitives::{
	currency::{deposit, DSYNC},
	time::DAYS,
};
use frame_support::{
	parameter_types,
	traits::{
		fungible::HoldConsideration,
		tokens::{pay::PayFromAccount, UnityAssetBalanceConversion},
		AsEnsureOriginWithArg, ConstU32, EitherOf, EqualPrivilegeOnly, Get, LinearStoragePrice,
	},
	weights::Weight,
};
use frame_system::{EnsureRoot, EnsureRootWithSuccess, EnsureSigned};
use origins::{GovernanceTiming, Spender, Timing};
use sp_runtime::{traits::AccountIdLookup, Perbill, Permill};
use tracks::TracksInfo;

/// A block count that depends on the chain's [`Timing`]: `$standard` normally, `$fast` on
/// development chains.
macro_rules! timed {
	($($(#[$attr:meta])* $name:ident = $standard:expr, fast $fast:expr;)*) => {$(
		$(#[$attr])*
		pub struct $name;
		impl Get<BlockNumber> for $name {
			fn get() -> BlockNumber {
				match GovernanceTiming::<Runtime>::get() {
					Timing::Standard => $standard,
					Timing::Fast => $fast,
				}
			}
		}
	)*};
}

timed! {
	/// The base lock period of a vote with conviction 1: 7 days (10 blocks when fast).
	VoteLockingPeriod = 7 * DAYS, fast 10;
	/// A referendum without a decision deposit for this long times out: 14 days (20 blocks).
	UndecidingTimeout = 14 * DAYS, fast 20;
	/// How long an approved treasury spend may be paid out: 30 days (20 blocks).
	PayoutPeriod = 30 * DAYS, fast 20;
	/// Period of the treasury's spend cycle (only used by the deprecated `spend_local`): 6 days
	/// (10 blocks).
	SpendPeriod = 6 * DAYS, fast 10;
}

parameter_types! {
	/// The scheduler may use 80 % of a block's weight for enactments.
	pub MaximumSchedulerWeight: Weight = Perbill::from_percent(80) *
		<Runtime as frame_system::Config>::BlockWeights::get().max_block;
	/// Base deposit of a preimage (the storage entry).
	pub const PreimageBaseDeposit: Balance = deposit(2, 64);
	/// Deposit per byte of a preimage: 0.0001 DSYNC, so 1 MiB costs about 105 DSYNC.
	pub const PreimageByteDeposit: Balance = deposit(0, 1);
	/// The hold reason of preimage deposits.
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	// Only referenda (through root-level scheduling by the pallet itself) and root schedule.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// Nothing of the treasury is burned each spend period.
	pub const TreasuryBurn: Permill = Permill::zero();
	/// Root may spend any amount.
	pub const MaxBalance: Balance = Balance::MAX;
}

/// Who may approve a treasury spend, and up to how much: root without limit, the spender tracks
/// up to their caps.
pub type TreasurySpender = EitherOf<EnsureRootWithSuccess<AccountId, MaxBalance>, Spender>;

impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin = EnsureRoot<AccountId>;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = SpendPeriod;
	type Burn = TreasuryBurn;
	// `py/trsry`: its account is the `TreasuryAccount` the tokenomics pallet pays into.
	type PalletId = TreasuryPalletId;
	type BurnDestination = ();
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = ConstU32<100>;
	type SpendOrigin = TreasurySpender;
	// Spends are in DSYNC only.
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = AccountIdLookup<AccountId, ()>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = PayoutPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	type BlockNumberProvider = System;
}

impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	// Support is measured against all DSYNC in circulation (the active issuance).
	type MaxTurnout =
		frame_support::traits::tokens::currency::ActiveIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<512>;
	type VoteLockingPeriod = VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

parameter_types! {
	/// Deposit to submit a referendum, refunded once it ends (unless killed): 10 DSYNC.
	pub const SubmissionDeposit: Balance = 10 * DSYNC;
	/// Referenda queued per track for a free deciding slot.
	pub const MaxQueued: u32 = 100;
	/// Referenda re-check their state at least this often.
	pub const AlarmInterval: BlockNumber = 1;
}

impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	type SubmitOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type CancelOrigin = EitherOf<EnsureRoot<AccountId>, origins::ReferendumCanceller>;
	type KillOrigin = EitherOf<EnsureRoot<AccountId>, origins::ReferendumKiller>;
	type Slash = Treasury;
	type Votes = Balance;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = MaxQueued;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = AlarmInterval;
	type Tracks = TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl origins::Config for Runtime {}

/// Root, or a passed `parameter_admin` referendum: sets the custom pallets' economic and
/// Proof-of-Sync parameters.
pub type ParameterAdminOrigin = EitherOf<EnsureRoot<AccountId>, origins::ParameterAdmin>;

/// Root, or a passed `network_admin` referendum: slash appeals, the GPU model registry, staking
/// administration.
pub type NetworkAdminOrigin = EitherOf<EnsureRoot<AccountId>, origins::NetworkAdmin>;
