//! The DSYNC token (`pallet-balances`) and transaction fees (`pallet-transaction-payment`).
//!
//! ## Fees
//!
//! `fee = base_fee + length_fee + multiplier × weight_fee + tip`
//!
//! - weight fee: [`WEIGHT_FEE_PER_SECOND`] per second of reference compute, so the base weight
//!   of an extrinsic (~0.1 ms) costs about 0.01 DSYNC;
//! - length fee: [`TRANSACTION_BYTE_FEE`] per byte (10 µDSYNC), so a 5 MiB block of bytes costs
//!   ~52 DSYNC: spamming block space is expensive;
//! - the multiplier follows Polkadot's targeted fee adjustment: it rises when blocks are fuller
//!   than [`TargetBlockFullness`] (25 %) and decays back towards its minimum otherwise.
//!
//! Fees go through `pallet_tokenomics::DealWithFees`: a governed share is burned, a share goes
//! to the treasury and the rest, with the tips, to the block author.

use crate::{Balances, Runtime, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason};
use dsync_primitives::{
	currency::{MICRO_DSYNC, MILLI_DSYNC},
	Balance,
};
use frame_support::{
	parameter_types,
	traits::{ConstU32, VariantCountOf},
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, ConstantMultiplier},
};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_runtime::{traits::Bounded, FixedPointNumber, Perquintill};

/// The minimum balance an account must keep to exist: 0.001 DSYNC. Accounts below it are reaped,
/// which keeps dust accounts from bloating state.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_DSYNC;

parameter_types! {
	/// See [`EXISTENTIAL_DEPOSIT`].
	pub const ExistentialDeposit: Balance = EXISTENTIAL_DEPOSIT;
}

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type Balance = Balance;
	// Dust of reaped accounts is dropped, i.e. burned (total issuance shrinks by it).
	type DustRemoval = ();
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = frame_system::Pallet<Runtime>;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

/// Fee per second of reference compute: 100 DSYNC (so 1 ms costs 0.1 DSYNC).
pub const WEIGHT_FEE_PER_SECOND: Balance = 100 * 1_000 * MILLI_DSYNC;

/// Fee per byte of an extrinsic: 10 µDSYNC.
pub const TRANSACTION_BYTE_FEE: Balance = 10 * MICRO_DSYNC;

/// Fee per unit of `ref_time` (one picosecond of reference compute): 10^8 plancks.
pub const WEIGHT_FEE_PER_REF_TIME: Balance =
	WEIGHT_FEE_PER_SECOND / WEIGHT_REF_TIME_PER_SECOND as Balance;
const _: () = assert!(WEIGHT_FEE_PER_SECOND.is_multiple_of(WEIGHT_REF_TIME_PER_SECOND as Balance));

parameter_types! {
	/// The fee multiplier reacts to blocks fuller than this.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	/// How fast the multiplier moves: 0.000_03 per block of full deviation (Polkadot's value);
	/// a day of full blocks raises fees about 23×.
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(3, 100_000);
	/// Fees never drop below a tenth of the nominal fee.
	pub MinimumMultiplier: Multiplier = Multiplier::saturating_from_rational(1, 10u128);
	/// No upper bound other than the type's.
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
	/// Operational transactions pay 5× their fee as priority, not as fee.
	pub const OperationalFeeMultiplier: u8 = 5;
	/// See [`TRANSACTION_BYTE_FEE`].
	pub const TransactionByteFee: Balance = TRANSACTION_BYTE_FEE;
	/// See [`WEIGHT_FEE_PER_REF_TIME`].
	pub const WeightFeePerRefTime: Balance = WEIGHT_FEE_PER_REF_TIME;
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	// Fees are split by the tokenomics pallet: a governed share burned, a share to the treasury,
	// the rest and the tips to the block author.
	type OnChargeTransaction = FungibleAdapter<Balances, pallet_tokenomics::DealWithFees<Runtime>>;
	type WeightToFee = ConstantMultiplier<Balance, WeightFeePerRefTime>;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = TargetedFeeAdjustment<
		Self,
		TargetBlockFullness,
		AdjustmentVariable,
		MinimumMultiplier,
		MaximumMultiplier,
	>;
	type OperationalFeeMultiplier = OperationalFeeMultiplier;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}
