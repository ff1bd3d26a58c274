//! The governed parameters: their bounds and their setter.

use crate::{
	is_proper_share, BalanceOf, Config, Error, Event, Pallet, Params, ProofOfSyncParams,
	MAX_EPOCH_LENGTH,
};
use frame_support::{ensure, traits::Get};
use sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	/// Check parameters against the bounds listed on [`ProofOfSyncParams`].
	pub fn check_parameters(parameters: &ProofOfSyncParams<BalanceOf<T>>) -> Result<(), Error<T>> {
		ensure!(
			parameters.shares().iter().all(|share| is_proper_share(*share)),
			Error::<T>::InvalidParameters
		);
		ensure!(
			parameters.epoch_length >= T::MinEpochLength::get()
				&& parameters.epoch_length <= MAX_EPOCH_LENGTH,
			Error::<T>::InvalidParameters
		);
		ensure!(
			parameters.verifiers_per_node >= 1
				&& parameters.verifiers_per_node <= T::MaxVerifiers::get(),
			Error::<T>::InvalidParameters
		);
		ensure!(!parameters.ema_alpha.is_zero(), Error::<T>::InvalidParameters);
		ensure!(parameters.warmup_epochs >= 1, Error::<T>::InvalidParameters);
		ensure!(
			parameters.suspend_after_misses >= 1 && parameters.slash_after_misses >= 1,
			Error::<T>::InvalidParameters
		);
		ensure!(
			parameters.target_latency_ms < parameters.max_latency_ms,
			Error::<T>::InvalidParameters
		);
		ensure!(parameters.tolerated_lag < parameters.max_lag, Error::<T>::InvalidParameters);
		ensure!(parameters.usage_per_capacity_unit >= 1, Error::<T>::InvalidParameters);
		// `burn_per_usage_unit` and `unproven_epochs` are valid at any value: 0 turns the burn
		// cap off (every verified unit counts) and credits unproven capacity in no epoch; their
		// maximums make usage count only with an enormous burn, and credit unproven capacity in
		// every epoch.
		Ok(())
	}

	/// Check that slashes wait at least `MinAppealWindow` blocks, so that an appeal can land
	/// before one applies. Separate from [`Self::check_parameters`] because the bound may follow
	/// other pallets' stored settings, which genesis may not have built yet when this pallet's
	/// genesis is checked; governance changes and `try_state` check it.
	pub fn check_appeal_window(
		parameters: &ProofOfSyncParams<BalanceOf<T>>,
	) -> Result<(), Error<T>> {
		let window = parameters.slash_defer_epochs.saturating_mul(parameters.epoch_length);
		ensure!(window >= T::MinAppealWindow::get(), Error::<T>::AppealWindowTooShort);
		Ok(())
	}

	/// Set the parameters after checking them.
	pub(crate) fn do_set_parameters(parameters: ProofOfSyncParams<BalanceOf<T>>) -> DispatchResult {
		Self::check_parameters(&parameters)?;
		Self::check_appeal_window(&parameters)?;
		Params::<T>::put(parameters);
		Self::deposit_event(Event::ParametersSet { parameters });
		Ok(())
	}
}
