//! Revenue and buybacks: setting stable revenue aside, and spending it on DSYNC that is burned.

use crate::{
	oracle::deviates, BuybackBudget, BuybackParameters, BuybackParams, BuybackPool, BuybackReceipt,
	BuybackTotals, Config, Error, Event, LastBuybackAttempt, OraclePrice, Pallet, SkipReason,
	WeightInfo, LOG_TARGET,
};
use frame_support::{
	ensure,
	storage::with_storage_layer,
	traits::{
		fungible, fungibles,
		tokens::{Fortitude, Precision, Preservation},
		Get,
	},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{AccountIdConversion, CheckedAdd, Saturating, Zero},
	ArithmeticError, DispatchError, DispatchResult,
};

impl<T: Config> Pallet<T> {
	/// The revenue account: it holds the buyback budget (in the stable asset) and, for the
	/// duration of a buyback, the DSYNC bought.
	pub fn revenue_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// The treasury account.
	pub fn treasury_account() -> T::AccountId {
		T::TreasuryAccount::get()
	}

	/// Move `amount` of stable from `who`: the revenue share to the revenue account and into
	/// the budget, the rest to the treasury account.
	pub(crate) fn do_deposit_revenue(who: T::AccountId, amount: T::Balance) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let params = BuybackParameters::<T>::get();
		let to_buyback_budget = params.revenue_share.mul_floor(amount);
		let to_treasury = amount.saturating_sub(to_buyback_budget);
		let budget = BuybackBudget::<T>::get()
			.checked_add(&to_buyback_budget)
			.ok_or(ArithmeticError::Overflow)?;

		let stable = T::StableAsset::get();
		if !to_buyback_budget.is_zero() {
			<T::Assets as fungibles::Mutate<T::AccountId>>::transfer(
				stable.clone(),
				&who,
				&Self::revenue_account(),
				to_buyback_budget,
				Preservation::Preserve,
			)?;
		}
		if !to_treasury.is_zero() {
			<T::Assets as fungibles::Mutate<T::AccountId>>::transfer(
				stable,
				&who,
				&Self::treasury_account(),
				to_treasury,
				Preservation::Preserve,
			)?;
		}

		BuybackBudget::<T>::put(budget);
		BuybackTotals::<T>::mutate(|ledger| {
			ledger.revenue_deposited.saturating_accrue(amount);
			ledger.budgeted.saturating_accrue(to_buyback_budget);
			ledger.revenue_to_treasury.saturating_accrue(to_treasury);
		});
		Self::deposit_event(Event::RevenueDeposited {
			who,
			amount,
			to_buyback_budget,
			to_treasury,
		});
		Ok(())
	}

	/// The permissionless trigger: attempt a buyback in block `now` if one is allowed.
	pub(crate) fn do_execute_buyback(now: BlockNumberFor<T>) -> DispatchResult {
		let params = BuybackParameters::<T>::get();
		ensure!(params.enabled, Error::<T>::BuybackDisabled);
		ensure!(!BuybackBudget::<T>::get().is_zero(), Error::<T>::EmptyBuybackBudget);
		ensure!(Self::buyback_due(now, &params), Error::<T>::BuybackTooSoon);
		Self::attempt_buyback(now, &params);
		Ok(())
	}

	/// The automatic trigger, from `on_idle`: attempt a buyback if one is allowed, there is a
	/// budget, and `remaining_weight` covers the worst case. Returns the weight used.
	pub(crate) fn on_idle_buyback(now: BlockNumberFor<T>, remaining_weight: Weight) -> Weight {
		let worst_case = T::WeightInfo::on_idle_buyback();
		if remaining_weight.any_lt(worst_case) {
			return Weight::zero();
		}
		// Parameters, budget and last attempt.
		let checks = T::DbWeight::get().reads(3);
		let params = BuybackParameters::<T>::get();
		if !params.enabled
			|| BuybackBudget::<T>::get().is_zero()
			|| !Self::buyback_due(now, &params)
		{
			return checks;
		}
		Self::attempt_buyback(now, &params);
		worst_case
	}

	/// Whether `min_interval` blocks have passed since the last attempt. As `min_interval` is
	/// at least one, this also means no attempt was made in block `now`.
	pub(crate) fn buyback_due(now: BlockNumberFor<T>, params: &BuybackParams<T::Balance>) -> bool {
		LastBuybackAttempt::<T>::get()
			.is_none_or(|last| now >= last.saturating_add(params.min_interval.into()))
	}

	/// Attempt a buyback in block `now` and record the attempt, whatever its outcome.
	pub(crate) fn attempt_buyback(now: BlockNumberFor<T>, params: &BuybackParams<T::Balance>) {
		// A no-op when `on_initialize` already updated the oracle in this block.
		Self::update_oracle(now);
		LastBuybackAttempt::<T>::put(now);
		match Self::try_buyback(params) {
			Ok(receipt) => {
				BuybackTotals::<T>::mutate(|ledger| {
					ledger.stable_spent.saturating_accrue(receipt.stable_spent);
					ledger.native_bought.saturating_accrue(receipt.native_bought);
					ledger.native_burned.saturating_accrue(receipt.native_burned);
					ledger.executed.saturating_inc();
				});
				Self::deposit_event(Event::BuybackExecuted {
					stable_spent: receipt.stable_spent,
					native_bought: receipt.native_bought,
					native_burned: receipt.native_burned,
					spot_price: receipt.spot_price,
					oracle_price: receipt.oracle_price,
					min_native_out: receipt.min_native_out,
					budget_left: BuybackBudget::<T>::get(),
				});
			},
			Err(reason) => {
				log::debug!(target: LOG_TARGET, "buyback skipped: {reason:?}");
				BuybackTotals::<T>::mutate(|ledger| ledger.skipped.saturating_inc());
				Self::deposit_event(Event::BuybackSkipped { reason });
			},
		}
	}

	/// Check the pool against the oracle, swap up to the per-block cap of the budget for native
	/// currency at no less than the oracle-derived minimum, and burn what was bought.
	///
	/// The swap and the burn happen in one storage layer: if either fails, neither happened.
	fn try_buyback(
		params: &BuybackParams<T::Balance>,
	) -> Result<BuybackReceipt<T::Balance>, SkipReason<T::Balance>> {
		let oracle_price = OraclePrice::<T>::get().ok_or(SkipReason::NoOraclePrice)?.price;
		let (native_reserve, stable_reserve) =
			T::Pool::reserves().ok_or(SkipReason::PoolUnavailable)?;
		let thin = || SkipReason::InsufficientLiquidity { native_reserve, stable_reserve };
		if !Self::has_min_liquidity(native_reserve, stable_reserve, params) {
			return Err(thin());
		}
		let spot_price = Self::spot_price(native_reserve, stable_reserve).ok_or_else(thin)?;
		if deviates(spot_price, oracle_price, params.oracle_tolerance) {
			return Err(SkipReason::PriceDeviation { spot_price, oracle_price });
		}

		let stable_spent = BuybackBudget::<T>::get().min(params.max_spend_per_block);
		let expected = Self::native_for_stable(stable_spent, oracle_price)
			.ok_or(SkipReason::SwapFailed { error: ArithmeticError::Overflow.into() })?;
		let min_native_out = expected.saturating_sub(params.oracle_tolerance.mul_ceil(expected));

		let revenue = Self::revenue_account();
		let (native_bought, native_burned) =
			with_storage_layer(|| -> Result<(T::Balance, T::Balance), DispatchError> {
				let bought =
					T::Pool::swap_stable_for_native(&revenue, stable_spent, min_native_out)?;
				ensure!(
					bought >= min_native_out,
					DispatchError::Other("buyback pool returned less than the minimum output")
				);
				// All of it, unless the revenue account must keep its existential deposit
				// (when something else depends on its native balance).
				let burnable = <T::Currency as fungible::Inspect<T::AccountId>>::reducible_balance(
					&revenue,
					Preservation::Expendable,
					Fortitude::Polite,
				)
				.min(bought);
				let credit = <T::Currency as fungible::Balanced<T::AccountId>>::withdraw(
					&revenue,
					burnable,
					Precision::Exact,
					Preservation::Expendable,
					Fortitude::Polite,
				)?;
				Ok((bought, Self::burn(credit)))
			})
			.map_err(|error| SkipReason::SwapFailed { error })?;

		BuybackBudget::<T>::mutate(|budget| budget.saturating_reduce(stable_spent));
		Ok(BuybackReceipt {
			stable_spent,
			native_bought,
			native_burned,
			spot_price,
			oracle_price,
			min_native_out,
		})
	}
}
