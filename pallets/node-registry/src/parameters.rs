//! The governed parameters: their bounds and their setter.

use crate::{Config, Error, Event, Pallet, Parameters, RegistryParamsOf};
use frame_support::ensure;
use sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	/// Check parameters: `base_bond > 0` and `unbonding_delay >= 1`.
	pub fn check_parameters(params: &RegistryParamsOf<T>) -> Result<(), Error<T>> {
		ensure!(params.is_valid(), Error::<T>::InvalidParameters);
		Ok(())
	}

	/// Set the parameters after checking them.
	pub(crate) fn do_set_parameters(params: RegistryParamsOf<T>) -> DispatchResult {
		Self::check_parameters(&params)?;
		Parameters::<T>::put(params);
		Self::deposit_event(Event::ParametersSet { params });
		Ok(())
	}
}
