//! The model registry: registration of `.aivm` files, their status and price floor.

use crate::{
	BalanceOf, Config, Error, Event, ModelCode, ModelId, ModelRecord, Models, NextModelId, Pallet,
	MACS_PER_UNIT,
};
use dsync_aivm_core::Model;
use dsync_primitives::convert::{u64_to_u32, usize_to_u64};
use frame_support::{ensure, BoundedVec};
use sp_core::H256;
use sp_runtime::{ArithmeticError, DispatchError, DispatchResult};

impl<T: Config> Pallet<T> {
	/// Parse `bytes`, give the model the next id, store its record and file. Returns the id.
	pub(crate) fn do_register_model(
		bytes: BoundedVec<u8, T::MaxModelBytes>,
		price_floor: BalanceOf<T>,
	) -> Result<ModelId, DispatchError> {
		let model = Model::parse(&bytes).map_err(|_| Error::<T>::InvalidModel)?;
		let info = model.info();
		let id = NextModelId::<T>::get();
		let next = id.checked_add(1).ok_or(ArithmeticError::Overflow)?;
		let units = usize_to_u64(model.weight_count()).div_ceil(MACS_PER_UNIT).max(1);
		let record = ModelRecord {
			hash: H256(info.hash),
			input_len: info.input_len,
			output_len: info.output_len,
			units_per_item: u64_to_u32(units),
			price_floor,
			active: true,
		};

		Models::<T>::insert(id, record);
		ModelCode::<T>::insert(id, bytes);
		NextModelId::<T>::put(next);
		Self::deposit_event(Event::ModelRegistered {
			model: id,
			hash: record.hash,
			input_len: record.input_len,
			output_len: record.output_len,
			price_floor,
		});
		Ok(id)
	}

	/// Activate or deactivate `model` for new jobs.
	pub(crate) fn do_set_model_status(model: ModelId, active: bool) -> DispatchResult {
		Models::<T>::try_mutate(model, |record| -> DispatchResult {
			let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
			record.active = active;
			Ok(())
		})?;
		Self::deposit_event(Event::ModelStatusSet { model, active });
		Ok(())
	}

	/// Set `model`'s price floor for new jobs.
	pub(crate) fn do_set_price_floor(model: ModelId, price_floor: BalanceOf<T>) -> DispatchResult {
		ensure!(Models::<T>::contains_key(model), Error::<T>::UnknownModel);
		Models::<T>::mutate(model, |record| {
			if let Some(record) = record {
				record.price_floor = price_floor;
			}
		});
		Self::deposit_event(Event::PriceFloorSet { model, price_floor });
		Ok(())
	}
}
