//! Storage version 1: the client's forfeit when its batch input was unavailable (issue 17,
//! finding 5).
//!
//! Version 0's parameters lacked `unavailable_forfeit`. [`MigrateToV1`] decodes the stored
//! version-0 parameters, appends the new field from its default (10 % of the price per vote)
//! and stores them. It touches one value. Open jobs keep their encoding: the new job status
//! ([`crate::JobStatus::Drawing`]) and refund reason are appended variants.

use crate::{Config, Pallet, Params, LOG_TARGET};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};
#[cfg(feature = "try-runtime")]
use sp_runtime::TryRuntimeError;

/// The storage of version 0 that the migration reads.
pub(crate) mod v0 {
	use crate::{Config, GpuJobsParams, Pallet};
	use codec::{Decode, Encode};
	use frame_support::{pallet_prelude::OptionQuery, storage_alias};

	/// The governed parameters of version 0: those of version 1 without `unavailable_forfeit`,
	/// which version 1 appends.
	#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug)]
	pub(crate) struct GpuJobsParamsV0 {
		pub(crate) min_deadline: u32,
		pub(crate) max_deadline: u32,
		pub(crate) reveal_period: u32,
		pub(crate) dispute_period: u32,
	}

	impl GpuJobsParamsV0 {
		/// The version-1 parameters: these, with the new field from
		/// [`GpuJobsParams::default`].
		pub(crate) fn upgrade(self) -> GpuJobsParams {
			GpuJobsParams {
				min_deadline: self.min_deadline,
				max_deadline: self.max_deadline,
				reveal_period: self.reveal_period,
				dispute_period: self.dispute_period,
				unavailable_forfeit: GpuJobsParams::default().unavailable_forfeit,
			}
		}
	}

	/// The governed parameters, in their version-0 layout (same name, same key).
	#[storage_alias]
	pub(crate) type Params<T: Config> = StorageValue<Pallet<T>, GpuJobsParamsV0, OptionQuery>;
}

/// Translates the parameters without checking the storage version: use it through
/// [`MigrateToV1`].
pub struct InnerMigrateToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let old = v0::Params::<T>::get();
		let translated = old.is_some();
		if let Some(old) = old {
			Params::<T>::put(old.upgrade());
		}
		log::info!(target: LOG_TARGET, "migrated to v1: parameters translated: {translated}");
		T::DbWeight::get().reads_writes(1, u64::from(translated))
	}

	/// The version-0 parameters, for [`Self::post_upgrade`].
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
		Ok(codec::Encode::encode(&v0::Params::<T>::get()))
	}

	/// The parameters kept every version-0 value and took the default of the new field, and
	/// the pallet's invariants hold (among them: the parameters are valid).
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), TryRuntimeError> {
		use frame_support::ensure;
		let old: Option<v0::GpuJobsParamsV0> = codec::Decode::decode(&mut &state[..])
			.map_err(|_| "the pre-upgrade state does not decode")?;
		if let Some(old) = old {
			ensure!(Params::<T>::get() == old.upgrade(), "the parameters were not translated");
		}
		Pallet::<T>::do_try_state()
	}
}

/// Migrates GPU jobs from storage version 0 to 1 (see the module docs); at any other on-chain
/// version it does nothing but log.
pub type MigrateToV1<T> =
	VersionedMigration<0, 1, InnerMigrateToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
