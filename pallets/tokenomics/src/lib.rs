//! # Tokenomics pallet
//!
//! Where DSYNC paid to the chain goes: burned, to the treasury or to whoever earned it, by
//! governed rates; and how business revenue in a stable asset buys DSYNC back and burns it.
//!
//! ## Overview
//!
//! The pallet has three money flows, all counted in storage and reported by events:
//!
//! - **Service payments.** Service pallets (GPU inference, naming, storage, ...) charge their
//!   clients through [`ServicePayment::charge`], implemented by this pallet. The payment is
//!   withdrawn from the payer as one fungible credit and split by the governed [`SplitRates`] of
//!   its [`ServiceKind`]: the burn share is dropped (the total issuance falls by it), the treasury
//!   share is resolved into the treasury account and the rest into the provider's account (the
//!   treasury's when there is no provider).
//! - **Transaction fees.** [`DealWithFees`] is the `OnUnbalanced` handler the runtime gives to
//!   `pallet-transaction-payment`'s `FungibleAdapter`. It splits the fee by the governed
//!   [`FeeSplit`] (burn, treasury, block author) and gives tips to the block author.
//! - **Buybacks.** Business revenue arrives as a stable asset through [`Pallet::deposit_revenue`]:
//!   a governed share is set aside in the [`BuybackBudget`] at the revenue account, the rest goes
//!   to the treasury account. Once every [`BuybackParams::min_interval`] blocks at most, the budget
//!   buys DSYNC from the DSYNC/stable pool ([`Config::Pool`]) and the DSYNC bought is burned. The
//!   automatic attempt runs in `on_idle`; anyone can trigger it with [`Pallet::execute_buyback`]
//!   when blocks are too full for `on_idle` to run.
//!
//! Every rate, cap and tolerance is a parameter in storage, changed by [`Config::AdminOrigin`]
//! through one call per group; nonsense values are refused with a clear error and change
//! nothing.
//!
//! ## Terminology
//!
//! - **Burn**: removing DSYNC from the total issuance. The pallet withdraws a
//!   [`fungible::Credit`](frame_support::traits::fungible::Credit) and drops it; nothing is ever
//!   sent to an unspendable account.
//! - **Split rates**: a burn share and a treasury share ([`SplitRates`]); the recipient (provider
//!   or block author) gets the rest, including the rounding dust of the two shares.
//! - **Revenue account**: the account derived from [`Config::PalletId`]
//!   ([`Pallet::revenue_account`]). It holds the buyback budget in the stable asset and, for an
//!   instant, the DSYNC bought before it is burned.
//! - **Spot price**: stable base units per [`Config::PriceUnit`] of native currency, from the
//!   pool's reserves.
//! - **Oracle price**: an exponential moving average of the spot price, updated at most once per
//!   block, at its start ([`OraclePrice`]).
//!
//! ## Calls
//!
//! | index | call | origin | what |
//! | --- | --- | --- | --- |
//! | 0 | [`set_service_rates`](Pallet::set_service_rates) | admin | rates of one service kind |
//! | 1 | [`set_fee_split`](Pallet::set_fee_split) | admin | split of transaction fees |
//! | 2 | [`set_buyback_parameters`](Pallet::set_buyback_parameters) | admin | buyback parameters |
//! | 3 | [`deposit_revenue`](Pallet::deposit_revenue) | signed | pay in stable revenue |
//! | 4 | [`execute_buyback`](Pallet::execute_buyback) | signed | trigger a due buyback |
//!
//! ## Design choices
//!
//! - **Burn by credit.** Withdrawing one credit and splitting it (`Imbalance::split`) makes the
//!   conservation rule structural: `burned + provider + treasury == charged` holds because the
//!   three parts come from one credit. A part that cannot be placed (a treasury account below the
//!   existential deposit, a block author that cannot receive) falls to the next sink (author to
//!   treasury, treasury to burn) and is counted where it landed. Only a provider that cannot
//!   receive fails the charge ([`Error::ProviderCannotReceive`]), atomically.
//! - **Shares round down.** `burn = burn_rate * amount` and `treasury = treasury_rate * amount`
//!   with `Perbill::mul_floor`; the recipient gets `amount - burn - treasury`.
//! - **Anti-sandwich buybacks.** The pallet keeps its own price oracle from the pool reserves at
//!   the start of each block (before any transaction can move the pool in that block). A buyback is
//!   skipped, with a [`Event::BuybackSkipped`] event rather than an error, when the spot price is
//!   further from the oracle than the tolerance or the pool is thinner than the governed minimums;
//!   when it goes ahead, the swap must return at least the oracle-derived output less the
//!   tolerance. One buyback per block at most, spending at most
//!   [`BuybackParams::max_spend_per_block`]: an attacker who moves the price gains at most the
//!   tolerance on one capped swap, and pays the pool fee twice to try.
//! - **Bounded work.** The oracle update reads the reserves once per block; the buyback is one swap
//!   and one burn; no storage grows with use (four service kinds, fixed-size totals).
//! - **The pool behind a trait.** [`BuybackPool`] keeps `pallet-asset-conversion` out of this
//!   crate: the runtime implements it with asset-conversion's `Swap` trait, tests with a
//!   constant-product pool.
//! - **The stable asset is not held.** Revenue sits in the revenue account as plain asset balance,
//!   not in a hold: the stable asset is a `fungibles` class of `pallet-assets` and the pool swap
//!   withdraws from a free balance. [`BuybackBudget`] records the part of it that is the budget,
//!   and `try_state` checks that the account holds at least that much.
//! - **Fee distribution costs no extra weight.** [`DealWithFees`] runs inside the transaction
//!   payment extension's post-dispatch, which has no weight of its own for it; its cost (a few
//!   storage accesses, measured as `handle_fees`) is small beside the base extrinsic weight.
//!
//! ## Runtime wiring
//!
//! - Transaction fees: the `OnChargeTransaction` of `pallet_transaction_payment` is the adapter
//!   `FungibleAdapter<Balances, DealWithFees<Runtime>>`.
//! - [`Config::BlockAuthor`]: a `Get<Option<AccountId>>` returning
//!   `pallet_authorship::Pallet::<Runtime>::author()`.
//! - [`Config::Pool`] over `pallet-asset-conversion`: `reserves` from its `get_reserves` with the
//!   native asset first; `swap_stable_for_native` through its `Swap::swap_exact_tokens_for_tokens`
//!   with the path `[stable, native]`, `Some(min_native_out)`, `who` as sender and receiver, and
//!   `keep_alive` false (the budget may be the revenue account's whole stable balance).
//! - Genesis: endow the revenue account ([`Pallet::revenue_account`]) and the treasury account with
//!   the existential deposit. The revenue account needs it to hold a non-sufficient stable asset
//!   and to receive buys below the deposit; buybacks burn only what they bought, so the endowment
//!   stays.
//! - The runtime API [`runtime_api::TokenomicsApi`] returns [`TokenomicsTotals`].

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod buyback;
mod fees;
mod invariants;
mod oracle;
mod parameters;
mod service;
mod totals;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

// The items `decl_runtime_apis!` generates around the documented trait carry no docs.
#[allow(missing_docs)]
pub mod runtime_api;
pub mod traits;
pub mod types;
pub mod weights;

pub use dsync_primitives::traits::{PaymentSplit, ServiceKind, ServicePayment};
pub use fees::DealWithFees;
pub use pallet::*;
#[cfg(feature = "runtime-benchmarks")]
pub use traits::BenchmarkHelper;
pub use traits::BuybackPool;
pub use types::{
	is_proper_share, AssetIdOf, BalanceOf, BuybackLedger, BuybackParams, BuybackReceipt, CreditOf,
	FeeLedger, HoldReasonOf, OracleState, ServiceLedger, ServiceOverview, ServiceRatesGenesis,
	Shares, SkipReason, SplitRates, TokenomicsTotals,
};
pub use weights::WeightInfo;

/// The log target of this pallet.
const LOG_TARGET: &str = "runtime::tokenomics";

/// The pallet: configuration, storage, genesis, events, errors, hooks and calls. The logic lives
/// in the topic modules (`service`, `fees`, `buyback`, `oracle`, `parameters`, `totals`,
/// `invariants`).
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, fungibles, tokens::Balance as BalanceTrait},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{FixedU128, Perbill};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the pallet. The events of the pallet reach the runtime through
	/// `frame_system::Config::RuntimeEvent`.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The balance type of the native currency and of the stable asset.
		type Balance: BalanceTrait;

		/// The native currency (DSYNC), `pallet-balances` in the runtime.
		type Currency: fungible::Inspect<Self::AccountId, Balance = Self::Balance>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::Balanced<Self::AccountId>
			+ fungible::BalancedHold<Self::AccountId>;

		/// The asset classes the stable asset belongs to, `pallet-assets` in the runtime.
		type Assets: fungibles::Inspect<Self::AccountId, Balance = Self::Balance>
			+ fungibles::Mutate<Self::AccountId>;

		/// The stable asset business revenue is paid in.
		#[pallet::constant]
		type StableAsset: Get<AssetIdOf<Self>>;

		/// Derives the revenue account ([`Pallet::revenue_account`]).
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The treasury account: it receives the treasury shares and the revenue not set aside
		/// for buybacks. It should hold at least the existential deposit, or treasury shares
		/// below it are burned instead.
		type TreasuryAccount: Get<Self::AccountId>;

		/// The author of the current block, if known: it receives its share of the fees and the
		/// tips. Without an author, that share goes to the treasury.
		type BlockAuthor: Get<Option<Self::AccountId>>;

		/// The DSYNC/stable pool buybacks trade with.
		type Pool: BuybackPool<Self::AccountId, Self::Balance>;

		/// The origin that sets the parameters (the DSYNC runtime: root or a passed
		/// `parameter_admin` referendum).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The highest oracle tolerance governance may set; a hard safety limit on how much a
		/// buyback may lose to a moved price.
		#[pallet::constant]
		type MaxOracleTolerance: Get<Perbill>;

		/// The amount of native currency prices refer to: the spot and oracle prices are stable
		/// base units per `PriceUnit` of native. One DSYNC (10^18 plancks) keeps full precision
		/// for an 18-decimal native against a 6-decimal stable asset. Must not be zero, nor
		/// above `u128::MAX / 10^18`.
		#[pallet::constant]
		type PriceUnit: Get<Self::Balance>;

		/// Weights of the calls and hooks of this pallet.
		type WeightInfo: WeightInfo;

		/// Sets up the stable asset and the pool for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, Self::Balance>;
	}

	/// The split rates of each service kind. Unset kinds burn nothing and pay the provider
	/// everything.
	// `Twox64Concat`: the keys are the variants of `ServiceKind`, a closed set nobody can grind.
	#[pallet::storage]
	pub type ServiceRates<T: Config> =
		StorageMap<_, Twox64Concat, ServiceKind, SplitRates, ValueQuery>;

	/// Running totals of each service kind since genesis.
	// `Twox64Concat`: as for `ServiceRates`.
	#[pallet::storage]
	pub type ServiceTotals<T: Config> =
		StorageMap<_, Twox64Concat, ServiceKind, ServiceLedger<T::Balance>, ValueQuery>;

	/// The split of transaction fees: burn, treasury, and the rest to the block author.
	#[pallet::storage]
	pub type FeeSplit<T: Config> = StorageValue<_, SplitRates, ValueQuery>;

	/// Running totals of transaction fees and tips since genesis.
	#[pallet::storage]
	pub type FeeTotals<T: Config> = StorageValue<_, FeeLedger<T::Balance>, ValueQuery>;

	/// The buyback parameters.
	#[pallet::storage]
	pub type BuybackParameters<T: Config> = StorageValue<_, BuybackParams<T::Balance>, ValueQuery>;

	/// Stable units at the revenue account set aside for buybacks and not yet spent.
	#[pallet::storage]
	pub type BuybackBudget<T: Config> = StorageValue<_, T::Balance, ValueQuery>;

	/// Running totals of revenue and buybacks since genesis.
	#[pallet::storage]
	pub type BuybackTotals<T: Config> = StorageValue<_, BuybackLedger<T::Balance>, ValueQuery>;

	/// The oracle price and the block of its last update; `None` until the pool first has the
	/// minimum reserves at the start of a block.
	#[pallet::storage]
	pub type OraclePrice<T: Config> = StorageValue<_, OracleState<BlockNumberFor<T>>, OptionQuery>;

	/// The block of the last buyback attempt (executed or skipped), for the rate limit.
	#[pallet::storage]
	pub type LastBuybackAttempt<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

	/// The initial parameters.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The split rates of each service kind.
		pub service_rates: ServiceRatesGenesis,
		/// The split of transaction fees.
		pub fee_split: SplitRates,
		/// The buyback parameters.
		pub buyback: BuybackParams<T::Balance>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		/// Neutral rates (nothing burned, nothing to the treasury) and paused buybacks that set
		/// aside 10 % of revenue.
		fn default() -> Self {
			let buyback = BuybackParams {
				oracle_tolerance: T::MaxOracleTolerance::get().min(Perbill::from_percent(2)),
				..Default::default()
			};
			Self { service_rates: Default::default(), fee_split: Default::default(), buyback }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// An invalid genesis config is a mistake of whoever wrote it; the chain must not
			// start with it.
			for kind in ServiceKind::ALL {
				let rates = self.service_rates.rates(kind);
				if let Err(error) = Pallet::<T>::check_split_rates(&rates) {
					panic!("invalid tokenomics genesis rates of {kind:?}: {error:?}");
				}
				ServiceRates::<T>::insert(kind, rates);
			}
			if let Err(error) = Pallet::<T>::check_split_rates(&self.fee_split) {
				panic!("invalid tokenomics genesis fee split: {error:?}");
			}
			FeeSplit::<T>::put(self.fee_split);
			if let Err(error) = Pallet::<T>::check_buyback_params(&self.buyback) {
				panic!("invalid tokenomics genesis buyback parameters: {error:?}");
			}
			BuybackParameters::<T>::put(self.buyback);
		}
	}

	/// The events of the pallet: every burn, payment split, revenue deposit, buyback attempt and
	/// parameter change.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A service payment was charged and split.
		ServiceCharged {
			/// The service kind.
			kind: ServiceKind,
			/// Who paid.
			payer: T::AccountId,
			/// The provider, if any.
			provider: Option<T::AccountId>,
			/// The amount charged: `burned + to_provider + to_treasury`.
			amount: T::Balance,
			/// The part burned.
			burned: T::Balance,
			/// The part paid to the provider.
			to_provider: T::Balance,
			/// The part paid to the treasury.
			to_treasury: T::Balance,
		},
		/// The fee and tip of a transaction were distributed.
		FeesDistributed {
			/// The fee, without the tip.
			fee: T::Balance,
			/// The tip.
			tip: T::Balance,
			/// The part burned.
			burned: T::Balance,
			/// The block author, if known.
			author: Option<T::AccountId>,
			/// The part paid to the block author (its fee share and the tip).
			to_author: T::Balance,
			/// The part paid to the treasury.
			to_treasury: T::Balance,
		},
		/// Stable revenue was deposited.
		RevenueDeposited {
			/// Who deposited it.
			who: T::AccountId,
			/// The amount deposited: `to_buyback_budget + to_treasury`.
			amount: T::Balance,
			/// The part set aside for buybacks at the revenue account.
			to_buyback_budget: T::Balance,
			/// The part sent to the treasury account.
			to_treasury: T::Balance,
		},
		/// A buyback bought native currency with stable and burned it.
		BuybackExecuted {
			/// Stable units spent.
			stable_spent: T::Balance,
			/// Native currency bought.
			native_bought: T::Balance,
			/// Native currency burned (all of it, unless the revenue account had to keep its
			/// existential deposit).
			native_burned: T::Balance,
			/// The spot price before the swap (stable base units per `PriceUnit` of native).
			spot_price: FixedU128,
			/// The oracle price the swap was checked against.
			oracle_price: FixedU128,
			/// The least output the swap was allowed to return.
			min_native_out: T::Balance,
			/// The budget left after this buyback.
			budget_left: T::Balance,
		},
		/// A buyback attempt did not trade; the budget is kept for a later attempt.
		BuybackSkipped {
			/// Why.
			reason: SkipReason<T::Balance>,
		},
		/// The rates of a service kind were set.
		ServiceRatesSet {
			/// The service kind.
			kind: ServiceKind,
			/// Its new rates.
			rates: SplitRates,
		},
		/// The split of transaction fees was set.
		FeeSplitSet {
			/// The new split.
			rates: SplitRates,
		},
		/// The buyback parameters were set.
		BuybackParametersSet {
			/// The new parameters.
			parameters: BuybackParams<T::Balance>,
		},
	}

	/// The errors of the pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// A share is above 100 %. Only a genesis config read from JSON can hold one; give every
		/// share as parts per billion of at most 1_000_000_000.
		ShareAboveOneHundredPercent,
		/// The burn share and the treasury share add up to more than 100 %: nothing would be
		/// left for the provider or author, and more than the payment would be shared out.
		/// Lower one of them.
		SharesAboveOneHundredPercent,
		/// Buybacks are enabled with a per-block spend cap of zero, so they could never spend
		/// anything. Set a cap, or disable buybacks.
		ZeroSpendCap,
		/// Buybacks are enabled with an oracle tolerance of zero: every swap pays the pool fee,
		/// so no swap would reach its minimum output. Allow at least the pool fee plus the
		/// price impact of one capped swap.
		ZeroOracleTolerance,
		/// The oracle tolerance is above the hard limit `MaxOracleTolerance`. Lower it.
		OracleToleranceTooHigh,
		/// The oracle smoothing factor is zero: the oracle price would never follow the pool.
		/// Use a small positive factor.
		ZeroOracleSmoothing,
		/// The interval between buyback attempts is zero; it must be at least one block, so at
		/// most one buyback happens per block.
		ZeroBuybackInterval,
		/// The amount is zero; deposit a positive amount.
		ZeroAmount,
		/// Buybacks are disabled by governance; wait until they are enabled.
		BuybackDisabled,
		/// The buyback budget is empty; there is nothing to buy back with until revenue is
		/// deposited.
		EmptyBuybackBudget,
		/// The last buyback attempt was less than `min_interval` blocks ago (possibly the
		/// automatic one in this block); try again later.
		BuybackTooSoon,
		/// The provider's share cannot be paid to the provider account (it does not exist and
		/// the share is below the existential deposit). Nothing was charged; the provider must
		/// hold the existential deposit.
		ProviderCannotReceive,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Update the oracle price from the pool reserves, before any transaction of the block
		/// can move the pool.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::update_oracle(now);
			T::WeightInfo::on_initialize_oracle()
		}

		/// Attempt the automatic buyback when it is due and the block has room for it.
		fn on_idle(now: BlockNumberFor<T>, remaining_weight: Weight) -> Weight {
			Self::on_idle_buyback(now, remaining_weight)
		}

		fn integrity_test() {
			assert!(
				!T::MaxOracleTolerance::get().is_zero(),
				"MaxOracleTolerance must not be zero, or buybacks could never be enabled"
			);
			assert!(
				Self::price_scale().is_some(),
				"PriceUnit must be neither zero nor above u128::MAX / 10^18"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Set the split rates of one service kind.
		///
		/// Origin: [`Config::AdminOrigin`]. Fails with [`Error::ShareAboveOneHundredPercent`] or
		/// [`Error::SharesAboveOneHundredPercent`] and changes nothing when the rates are not
		/// valid. Emits [`Event::ServiceRatesSet`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_service_rates())]
		pub fn set_service_rates(
			origin: OriginFor<T>,
			kind: ServiceKind,
			rates: SplitRates,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_service_rates(kind, rates)
		}

		/// Set the split of transaction fees (burn, treasury; the block author gets the rest).
		///
		/// Origin: [`Config::AdminOrigin`]. Fails like [`Pallet::set_service_rates`] for invalid
		/// rates. Emits [`Event::FeeSplitSet`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_fee_split())]
		pub fn set_fee_split(origin: OriginFor<T>, rates: SplitRates) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_fee_split(rates)
		}

		/// Set the buyback parameters, all at once.
		///
		/// Origin: [`Config::AdminOrigin`]. Refuses, changing nothing, any share above 100 %, a
		/// tolerance above [`Config::MaxOracleTolerance`], a zero smoothing factor or interval,
		/// and a zero cap or tolerance while enabled. Emits [`Event::BuybackParametersSet`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_buyback_parameters())]
		pub fn set_buyback_parameters(
			origin: OriginFor<T>,
			parameters: BuybackParams<T::Balance>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_buyback_parameters(parameters)
		}

		/// Deposit `amount` of stable revenue from the caller.
		///
		/// `revenue_share * amount` (rounded down) moves to the revenue account and into the
		/// buyback budget; the rest moves to the treasury account. The caller keeps the stable
		/// asset's minimum balance. Fails with [`Error::ZeroAmount`] for a zero amount and with
		/// the asset's error when the caller cannot pay. Emits [`Event::RevenueDeposited`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::deposit_revenue())]
		pub fn deposit_revenue(
			origin: OriginFor<T>,
			#[pallet::compact] amount: T::Balance,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deposit_revenue(who, amount)
		}

		/// Attempt a buyback now, as the `on_idle` hook does when blocks leave room for it.
		///
		/// Any signed origin. Fails with [`Error::BuybackDisabled`],
		/// [`Error::EmptyBuybackBudget`] or [`Error::BuybackTooSoon`] (at most one attempt
		/// every `min_interval` blocks, counting the hook's). Otherwise the attempt is made and
		/// the call succeeds whether it bought ([`Event::BuybackExecuted`]) or was skipped for
		/// a moved price or thin liquidity ([`Event::BuybackSkipped`]).
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::execute_buyback())]
		pub fn execute_buyback(origin: OriginFor<T>) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_execute_buyback(frame_system::Pallet::<T>::block_number())
		}
	}
}
