//! The governed timing parameters.

use crate::{Config, Error, Event, GpuJobsParams, Pallet, Params};
use frame_support::{ensure, traits::Get};
use sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	/// Set the parameters after checking them ([`GpuJobsParams::is_valid`]).
	pub(crate) fn do_set_parameters(parameters: GpuJobsParams) -> DispatchResult {
		ensure!(parameters.is_valid(T::DrawDelay::get()), Error::<T>::InvalidParameters);
		Params::<T>::put(parameters);
		Self::deposit_event(Event::ParametersSet { parameters });
		Ok(())
	}
}
