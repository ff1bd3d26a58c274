//! The invariants `try_state` checks.

#[cfg(any(feature = "try-runtime", test))]
mod checks {
	use crate::{
		is_proper_share, BuybackBudget, BuybackParameters, BuybackTotals, Config, FeeSplit,
		FeeTotals, LastBuybackAttempt, OraclePrice, Pallet, ServiceKind, ServiceRates,
		ServiceTotals,
	};
	use frame_support::{
		ensure,
		traits::{fungibles, Get},
	};
	use sp_runtime::{
		traits::{Saturating, Zero},
		TryRuntimeError,
	};

	impl<T: Config> Pallet<T> {
		/// Check the invariants of the pallet's storage:
		///
		/// 1. every stored parameter is valid (the setters' bounds);
		/// 2. for every service kind, `burned + to_providers + to_treasury == charged`;
		/// 3. for fees, `burned + to_authors + to_treasury == fees + tips`;
		/// 4. for revenue, `budgeted + revenue_to_treasury == revenue_deposited`, and the budget is
		///    what was set aside and not spent: `budgeted == stable_spent + BuybackBudget`;
		/// 5. no more native was burned by buybacks than was bought;
		/// 6. the revenue account holds at least the budget in the stable asset;
		/// 7. the oracle price, when present, is positive;
		/// 8. the oracle and the last buyback attempt are not in the future.
		pub fn do_try_state() -> Result<(), TryRuntimeError> {
			for kind in ServiceKind::ALL {
				Self::check_split_rates(&ServiceRates::<T>::get(kind))
					.map_err(|_| "stored service rates are invalid")?;
			}
			Self::check_split_rates(&FeeSplit::<T>::get())
				.map_err(|_| "stored fee split is invalid")?;
			let params = BuybackParameters::<T>::get();
			// The hard maximum may have been lowered by a runtime upgrade after the parameters
			// were set; only the shares themselves must stay proper.
			ensure!(
				is_proper_share(params.revenue_share)
					&& is_proper_share(params.oracle_tolerance)
					&& is_proper_share(params.oracle_smoothing)
					&& !params.oracle_smoothing.is_zero()
					&& params.min_interval > 0,
				"stored buyback parameters are invalid"
			);

			for kind in ServiceKind::ALL {
				let ledger = ServiceTotals::<T>::get(kind);
				ensure!(
					ledger
						.burned
						.saturating_add(ledger.to_providers)
						.saturating_add(ledger.to_treasury)
						== ledger.charged,
					"a service kind's split totals do not add up to its charged total"
				);
			}

			let fees = FeeTotals::<T>::get();
			ensure!(
				fees.burned.saturating_add(fees.to_authors).saturating_add(fees.to_treasury)
					== fees.fees.saturating_add(fees.tips),
				"fee totals do not add up to the fees and tips collected"
			);

			let buyback = BuybackTotals::<T>::get();
			let budget = BuybackBudget::<T>::get();
			ensure!(
				buyback.budgeted.saturating_add(buyback.revenue_to_treasury)
					== buyback.revenue_deposited,
				"revenue totals do not add up to the revenue deposited"
			);
			ensure!(
				buyback.stable_spent.saturating_add(budget) == buyback.budgeted,
				"the buyback budget is not what was set aside less what was spent"
			);
			ensure!(
				buyback.native_burned <= buyback.native_bought,
				"buybacks burned more than they bought"
			);
			let held = <T::Assets as fungibles::Inspect<T::AccountId>>::balance(
				T::StableAsset::get(),
				&Self::revenue_account(),
			);
			ensure!(held >= budget, "the revenue account holds less than the buyback budget");

			let now = frame_system::Pallet::<T>::block_number();
			if let Some(oracle) = OraclePrice::<T>::get() {
				ensure!(!oracle.price.is_zero(), "the oracle price is zero");
				ensure!(oracle.updated_at <= now, "the oracle was updated in the future");
			}
			if let Some(last) = LastBuybackAttempt::<T>::get() {
				ensure!(last <= now, "the last buyback attempt is in the future");
			}
			Ok(())
		}
	}
}
