//! What the pallet reports: the totals behind the runtime API.

use crate::{
	BuybackBudget, BuybackParameters, BuybackTotals, Config, FeeSplit, FeeTotals,
	LastBuybackAttempt, OraclePrice, Pallet, ServiceKind, ServiceOverview, ServiceRates,
	ServiceTotals, TokenomicsTotals,
};
use alloc::vec::Vec;
use sp_runtime::{traits::Saturating, SaturatedConversion};

impl<T: Config> Pallet<T> {
	/// Everything the pallet counts, with the current parameters and the oracle price.
	pub fn totals() -> TokenomicsTotals<T::Balance> {
		let services: Vec<_> = ServiceKind::ALL
			.iter()
			.map(|&kind| ServiceOverview {
				kind,
				rates: ServiceRates::<T>::get(kind),
				totals: ServiceTotals::<T>::get(kind),
			})
			.collect();
		let fees = FeeTotals::<T>::get();
		let buyback = BuybackTotals::<T>::get();
		let oracle = OraclePrice::<T>::get();
		TokenomicsTotals {
			services,
			fee_split: FeeSplit::<T>::get(),
			fees,
			buyback_parameters: BuybackParameters::<T>::get(),
			buyback,
			buyback_budget: BuybackBudget::<T>::get(),
			oracle_price: oracle.map(|state| state.price),
			oracle_updated_at: oracle.map(|state| state.updated_at.saturated_into()),
			last_buyback_attempt: LastBuybackAttempt::<T>::get()
				.map(|block| block.saturated_into()),
			total_burned: Self::total_burned(),
		}
	}

	/// Everything burned since genesis by this pallet: service payments, fees and buybacks.
	pub fn total_burned() -> T::Balance {
		ServiceKind::ALL
			.iter()
			.fold(FeeTotals::<T>::get().burned, |sum, &kind| {
				sum.saturating_add(ServiceTotals::<T>::get(kind).burned)
			})
			.saturating_add(BuybackTotals::<T>::get().native_burned)
	}
}
