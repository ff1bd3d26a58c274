//! Data types of the tokenomics pallet and the aliases used across it.

use crate::Config;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dsync_primitives::traits::ServiceKind;
use frame_support::traits::tokens::{fungible, fungibles};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{traits::AtLeast32BitUnsigned, DispatchError, FixedU128, Perbill};

/// The balance type of the native currency (and of the stable asset, which shares it).
pub type BalanceOf<T> = <T as Config>::Balance;

/// An amount of native currency withdrawn from an account and not yet placed anywhere. Dropping
/// it decreases the total issuance by its amount: that is how this pallet burns.
pub type CreditOf<T> =
	fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;

/// The reason funds are held under in [`Config::Currency`] (the runtime's aggregated hold
/// reason): service escrows are charged from holds of this type
/// ([`ServicePayment::charge_held`](crate::ServicePayment::charge_held)).
pub type HoldReasonOf<T> = <<T as Config>::Currency as fungible::InspectHold<
	<T as frame_system::Config>::AccountId,
>>::Reason;

/// The identifier of an asset class of [`Config::Assets`].
pub type AssetIdOf<T> =
	<<T as Config>::Assets as fungibles::Inspect<<T as frame_system::Config>::AccountId>>::AssetId;

/// How a payment is shared: a burned part, a treasury part, and the rest for the recipient
/// (the service provider for service payments, the block author for transaction fees).
///
/// Valid when each share is at most 100 % and `burn + treasury` is at most 100 %; the setters
/// and the genesis build refuse anything else.
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
	Serialize,
	Deserialize,
)]
pub struct SplitRates {
	/// Share of every payment removed from the total issuance.
	pub burn: Perbill,
	/// Share of every payment sent to the treasury account.
	pub treasury: Perbill,
}

/// The amounts a [`SplitRates`] gives for one payment.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Shares<Balance> {
	/// The part to burn: `burn * amount`, rounded down.
	pub burn: Balance,
	/// The part for the treasury: `treasury * amount`, rounded down.
	pub treasury: Balance,
	/// The part for the recipient: `amount - burn - treasury`, so the rounding dust of the two
	/// shares above goes to the recipient.
	pub rest: Balance,
}

impl SplitRates {
	/// Rates burning `burn` and sending `treasury` to the treasury.
	pub const fn new(burn: Perbill, treasury: Perbill) -> Self {
		Self { burn, treasury }
	}

	/// Whether each share is at most 100 %.
	///
	/// Always true for values decoded from SCALE (the `Perbill` decoder refuses more), but a
	/// genesis config read from JSON can hold larger values.
	pub fn shares_are_proper(&self) -> bool {
		is_proper_share(self.burn) && is_proper_share(self.treasury)
	}

	/// Whether `burn + treasury` is at most 100 %.
	pub fn sum_is_proper(&self) -> bool {
		// Each part is at most `u32::MAX`; their sum fits in a `u64`.
		let sum = u64::from(self.burn.deconstruct())
			.saturating_add(u64::from(self.treasury.deconstruct()));
		sum <= u64::from(Perbill::one().deconstruct())
	}

	/// Split `amount`: burn and treasury parts rounded down, the rest to the recipient.
	///
	/// `burn + treasury + rest == amount` for every amount of valid rates; for invalid rates
	/// (which storage never holds) the rest saturates at zero.
	pub fn split<Balance: AtLeast32BitUnsigned + Copy>(&self, amount: Balance) -> Shares<Balance> {
		let burn = self.burn.mul_floor(amount);
		let treasury = self.treasury.mul_floor(amount);
		let rest = amount.saturating_sub(burn).saturating_sub(treasury);
		Shares { burn, treasury, rest }
	}
}

/// Whether `share` is at most 100 %.
pub fn is_proper_share(share: Perbill) -> bool {
	share.deconstruct() <= Perbill::one().deconstruct()
}

/// The rates of every service kind, as given in the genesis config.
///
/// One named field per [`ServiceKind`] keeps the genesis JSON readable and makes a new service
/// kind a compile error here until its rates are chosen.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct ServiceRatesGenesis {
	/// Rates of [`ServiceKind::GpuInference`].
	pub gpu_inference: SplitRates,
	/// Rates of [`ServiceKind::Naming`].
	pub naming: SplitRates,
	/// Rates of [`ServiceKind::Storage`].
	pub storage: SplitRates,
	/// Rates of [`ServiceKind::Other`].
	pub other: SplitRates,
}

impl ServiceRatesGenesis {
	/// The same rates for every service kind.
	pub const fn uniform(rates: SplitRates) -> Self {
		Self { gpu_inference: rates, naming: rates, storage: rates, other: rates }
	}

	/// The rates of `kind`.
	pub fn rates(&self, kind: ServiceKind) -> SplitRates {
		match kind {
			ServiceKind::GpuInference => self.gpu_inference,
			ServiceKind::Naming => self.naming,
			ServiceKind::Storage => self.storage,
			ServiceKind::Other => self.other,
		}
	}
}

/// The governed parameters of the buyback.
///
/// Valid when: `revenue_share`, `oracle_tolerance` and `oracle_smoothing` are at most 100 %;
/// `oracle_tolerance` is at most [`Config::MaxOracleTolerance`]; `oracle_smoothing` and
/// `min_interval` are not zero; and, while `enabled`, `max_spend_per_block` and
/// `oracle_tolerance` are not zero.
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
pub struct BuybackParams<Balance> {
	/// Whether buybacks run. Revenue is still set aside while they are paused.
	pub enabled: bool,
	/// Share of every revenue deposit set aside into the buyback budget; the rest goes to the
	/// treasury account.
	pub revenue_share: Perbill,
	/// The most stable units one buyback spends (one buyback per block at most).
	pub max_spend_per_block: Balance,
	/// The fewest blocks between two buyback attempts, whether by the hook or by
	/// `execute_buyback`, and whether they bought or were skipped.
	pub min_interval: u32,
	/// How far the spot price may be from the oracle price (relative to the oracle price)
	/// for a buyback to go ahead, and how far below the oracle-derived output the swap may
	/// return. It must cover the pool's fee and the price impact of one capped swap.
	pub oracle_tolerance: Perbill,
	/// Weight of the newest spot price in the oracle's moving average, applied once per block:
	/// `oracle += smoothing * (spot - oracle)`. Smaller is slower and harder to move.
	pub oracle_smoothing: Perbill,
	/// Pool reserves of native currency below which the pool is too thin to trade with or to
	/// feed the oracle.
	pub min_native_reserve: Balance,
	/// Pool reserves of the stable asset below which the pool is too thin to trade with or to
	/// feed the oracle.
	pub min_stable_reserve: Balance,
}

impl<Balance: Default> Default for BuybackParams<Balance> {
	/// Paused, with 10 % of revenue set aside, one attempt per block at most and a 10 %
	/// smoothing factor. Tolerance and cap are zero: they must be chosen before enabling.
	fn default() -> Self {
		Self {
			enabled: false,
			revenue_share: Perbill::from_percent(10),
			max_spend_per_block: Balance::default(),
			min_interval: 1,
			oracle_tolerance: Perbill::zero(),
			oracle_smoothing: Perbill::from_percent(10),
			min_native_reserve: Balance::default(),
			min_stable_reserve: Balance::default(),
		}
	}
}

/// The oracle's time-weighted price.
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
pub struct OracleState<BlockNumber> {
	/// Stable base units per [`Config::PriceUnit`] of native currency, as an exponential
	/// moving average of the pool's spot price.
	pub price: FixedU128,
	/// The block of the last update.
	pub updated_at: BlockNumber,
}

/// Running totals of one service kind since genesis.
///
/// Invariant: `burned + to_providers + to_treasury == charged`.
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
pub struct ServiceLedger<Balance> {
	/// Everything charged to payers.
	pub charged: Balance,
	/// The part removed from the total issuance.
	pub burned: Balance,
	/// The part paid to providers.
	pub to_providers: Balance,
	/// The part paid to the treasury (including provider shares of payments without a
	/// provider).
	pub to_treasury: Balance,
}

/// Running totals of transaction fees and tips since genesis.
///
/// Invariant: `burned + to_authors + to_treasury == fees + tips`.
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
pub struct FeeLedger<Balance> {
	/// Transaction fees collected (without tips).
	pub fees: Balance,
	/// Tips collected.
	pub tips: Balance,
	/// The part removed from the total issuance.
	pub burned: Balance,
	/// The part paid to block authors (their fee share and the tips).
	pub to_authors: Balance,
	/// The part paid to the treasury.
	pub to_treasury: Balance,
}

/// Running totals of revenue and buybacks since genesis.
///
/// Invariants: `revenue_deposited == budgeted + revenue_to_treasury`,
/// `budgeted == stable_spent + BuybackBudget` and `native_burned <= native_bought`.
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
pub struct BuybackLedger<Balance> {
	/// Stable revenue deposited through `deposit_revenue`.
	pub revenue_deposited: Balance,
	/// The part of it sent to the treasury account.
	pub revenue_to_treasury: Balance,
	/// The part of it set aside for buybacks.
	pub budgeted: Balance,
	/// Stable spent on buybacks.
	pub stable_spent: Balance,
	/// Native currency bought.
	pub native_bought: Balance,
	/// Native currency burned after buying.
	pub native_burned: Balance,
	/// Buybacks executed.
	pub executed: u32,
	/// Buyback attempts skipped (see [`SkipReason`]).
	pub skipped: u32,
}

/// Why a buyback attempt did not trade.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum SkipReason<Balance> {
	/// The oracle has no price yet: the pool never had the minimum reserves at a block start.
	NoOraclePrice,
	/// The pool does not exist.
	PoolUnavailable,
	/// The pool's reserves are below the governed minimums.
	InsufficientLiquidity {
		/// The pool's native reserve.
		native_reserve: Balance,
		/// The pool's stable reserve.
		stable_reserve: Balance,
	},
	/// The spot price is further from the oracle price than the tolerance: the pool was moved
	/// within this block (or the price is moving fast), so buying now could be sandwiched.
	PriceDeviation {
		/// The pool's spot price.
		spot_price: FixedU128,
		/// The oracle price.
		oracle_price: FixedU128,
	},
	/// The swap (or the burn after it) failed, e.g. its output would have been below the
	/// oracle-derived minimum; nothing changed.
	SwapFailed {
		/// The error of the failed step.
		error: DispatchError,
	},
}

/// What one executed buyback did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BuybackReceipt<Balance> {
	/// Stable units spent.
	pub stable_spent: Balance,
	/// Native currency bought.
	pub native_bought: Balance,
	/// Native currency burned.
	pub native_burned: Balance,
	/// The pool's spot price before the swap.
	pub spot_price: FixedU128,
	/// The oracle price the swap was checked against.
	pub oracle_price: FixedU128,
	/// The least native output the swap was allowed to return.
	pub min_native_out: Balance,
}

/// The rates and totals of one service kind, as returned by the runtime API.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ServiceOverview<Balance> {
	/// The service kind.
	pub kind: ServiceKind,
	/// Its current rates.
	pub rates: SplitRates,
	/// Its totals since genesis.
	pub totals: ServiceLedger<Balance>,
}

/// Everything the pallet counts, with the current parameters and the oracle price: the answer
/// of [`crate::runtime_api::TokenomicsApi::totals`].
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct TokenomicsTotals<Balance> {
	/// Rates and totals of every service kind, in [`ServiceKind::ALL`] order.
	pub services: Vec<ServiceOverview<Balance>>,
	/// The current split of transaction fees.
	pub fee_split: SplitRates,
	/// Transaction-fee totals.
	pub fees: FeeLedger<Balance>,
	/// The current buyback parameters.
	pub buyback_parameters: BuybackParams<Balance>,
	/// Revenue and buyback totals.
	pub buyback: BuybackLedger<Balance>,
	/// Stable units set aside and not yet spent.
	pub buyback_budget: Balance,
	/// The oracle price (stable base units per `PriceUnit` of native), if any.
	pub oracle_price: Option<FixedU128>,
	/// The block of the last oracle update, if any.
	pub oracle_updated_at: Option<u32>,
	/// The block of the last buyback attempt, if any.
	pub last_buyback_attempt: Option<u32>,
	/// Everything burned since genesis: service burns, fee burns and buyback burns.
	pub total_burned: Balance,
}
