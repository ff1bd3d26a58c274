//! The governed parameters: their bounds and their setters.

use crate::{
	is_proper_share, BuybackParameters, BuybackParams, Config, Error, Event, FeeSplit, Pallet,
	ServiceKind, ServiceRates, SplitRates,
};
use frame_support::{ensure, traits::Get};
use sp_runtime::{traits::Zero, DispatchResult};

impl<T: Config> Pallet<T> {
	/// Check split rates: each share at most 100 %, and `burn + treasury` at most 100 %.
	pub fn check_split_rates(rates: &SplitRates) -> Result<(), Error<T>> {
		ensure!(rates.shares_are_proper(), Error::<T>::ShareAboveOneHundredPercent);
		ensure!(rates.sum_is_proper(), Error::<T>::SharesAboveOneHundredPercent);
		Ok(())
	}

	/// Check buyback parameters against the bounds listed on [`BuybackParams`].
	pub fn check_buyback_params(params: &BuybackParams<T::Balance>) -> Result<(), Error<T>> {
		ensure!(
			is_proper_share(params.revenue_share)
				&& is_proper_share(params.oracle_tolerance)
				&& is_proper_share(params.oracle_smoothing),
			Error::<T>::ShareAboveOneHundredPercent
		);
		ensure!(
			params.oracle_tolerance <= T::MaxOracleTolerance::get(),
			Error::<T>::OracleToleranceTooHigh
		);
		ensure!(!params.oracle_smoothing.is_zero(), Error::<T>::ZeroOracleSmoothing);
		ensure!(params.min_interval > 0, Error::<T>::ZeroBuybackInterval);
		if params.enabled {
			ensure!(!params.max_spend_per_block.is_zero(), Error::<T>::ZeroSpendCap);
			ensure!(!params.oracle_tolerance.is_zero(), Error::<T>::ZeroOracleTolerance);
		}
		Ok(())
	}

	/// Set the rates of `kind` after checking them.
	pub(crate) fn do_set_service_rates(kind: ServiceKind, rates: SplitRates) -> DispatchResult {
		Self::check_split_rates(&rates)?;
		ServiceRates::<T>::insert(kind, rates);
		Self::deposit_event(Event::ServiceRatesSet { kind, rates });
		Ok(())
	}

	/// Set the split of transaction fees after checking it.
	pub(crate) fn do_set_fee_split(rates: SplitRates) -> DispatchResult {
		Self::check_split_rates(&rates)?;
		FeeSplit::<T>::put(rates);
		Self::deposit_event(Event::FeeSplitSet { rates });
		Ok(())
	}

	/// Set the buyback parameters after checking them.
	pub(crate) fn do_set_buyback_parameters(
		parameters: BuybackParams<T::Balance>,
	) -> DispatchResult {
		Self::check_buyback_params(&parameters)?;
		BuybackParameters::<T>::put(parameters);
		Self::deposit_event(Event::BuybackParametersSet { parameters });
		Ok(())
	}
}
