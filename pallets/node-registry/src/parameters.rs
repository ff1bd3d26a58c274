//! The governed parameters: their bounds and their setter.

use crate::{Config, Error, Event, NodeRegistryParamsOf, Pallet, Params};
use frame_support::ensure;
use sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	/// Check parameters: `base_bond > 0` and `unbonding_delay >= 1`.
	pub fn check_parameters(params: &NodeRegistryParamsOf<T>) -> Result<(), Error<T>> {
		ensure!(params.is_valid(), Error::<T>::InvalidParameters);
		Ok(())
	}

	/// Set the parameters after checking them.
	pub(crate) fn do_set_parameters(params: NodeRegistryParamsOf<T>) -> DispatchResult {
		Self::check_parameters(&params)?;
		Params::<T>::put(params);
		Self::deposit_event(Event::ParametersSet { params });
		Ok(())
	}
}
