//! Storage version 2: the chain keeps no per-client usage totals.
//!
//! Version 1 kept `ClientUsage`, the service units each client consumed since genesis per
//! service kind, one entry per client account and kind. Any account that paid for a service
//! created entries (a farm of client accounts posting cheap jobs creates one per account), no
//! deposit backed them, nothing removed them, and nothing in the runtime read them: they were a
//! statistic that [`crate::Event::UsageRecorded`] already reports delivery by delivery (the
//! provider, the client, the kind and the units). Version 2 removes the item; indexers sum a
//! client's consumption from the events. [`MigrateToV2`] removes its entries.
//!
//! The removal is bounded: one run removes at most [`MAX_REMOVED`] entries from the database
//! (10,000 reads and writes: 0.58 s of a block's 2 s with ParityDB's weights, 8 µs a read and
//! 50 µs a write). A young chain has far fewer entries (one per client account and service kind
//! it ever served). Should more exist, the rest stay behind as dead keys: no code of version 2
//! reads, writes or iterates them, so they change nothing but the state's size, and the
//! migration logs that it left some. Root can remove them later with `System::kill_prefix` on
//! the item's prefix, `twox_128("ProofOfSync") ++ twox_128("ClientUsage")` in the runtime
//! (`frame_support::storage::storage_prefix(b"ProofOfSync", b"ClientUsage")`).

use crate::{Config, Pallet, LOG_TARGET};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};
#[cfg(feature = "try-runtime")]
use sp_runtime::TryRuntimeError;

/// The most `ClientUsage` entries one run of the migration removes from the database.
pub const MAX_REMOVED: u32 = 10_000;

/// The storage of version 1 that the migration removes.
pub(crate) mod v1 {
	use crate::{Config, Pallet};
	use dsync_primitives::traits::ServiceKind;
	use frame_support::{
		pallet_prelude::{Blake2_128Concat, Twox64Concat, ValueQuery},
		storage_alias,
	};

	/// Service units each client consumed since genesis, per service kind, as version 1 kept
	/// them (same name, hashers and key).
	#[storage_alias]
	pub(crate) type ClientUsage<T: Config> = StorageDoubleMap<
		Pallet<T>,
		Blake2_128Concat,
		<T as frame_system::Config>::AccountId,
		Twox64Concat,
		ServiceKind,
		u64,
		ValueQuery,
	>;
}

/// Removes the version-1 `ClientUsage` entries (at most [`MAX_REMOVED`] of them from the
/// database), without checking the storage version: use it through [`MigrateToV2`].
pub struct InnerMigrateToV2<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let result = v1::ClientUsage::<T>::clear(MAX_REMOVED, None);
		if result.maybe_cursor.is_some() {
			log::warn!(
				target: LOG_TARGET,
				"migrated to v2: {} ClientUsage entries removed, more remain as dead keys \
				 (nothing reads them; root can remove them with System::kill_prefix)",
				result.unique,
			);
		} else {
			log::info!(
				target: LOG_TARGET,
				"migrated to v2: {} ClientUsage entries removed, none remain",
				result.unique,
			);
		}
		// Every key visited read, and the one the iteration stopped at (the next entry, or the
		// end of the prefix); every key removed written.
		T::DbWeight::get()
			.reads_writes(u64::from(result.loops).saturating_add(1), u64::from(result.unique))
	}

	/// The number of `ClientUsage` entries before the migration, for [`Self::post_upgrade`].
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
		let entries = u64::try_from(v1::ClientUsage::<T>::iter_keys().count())
			.map_err(|_| "too many ClientUsage entries to count")?;
		Ok(codec::Encode::encode(&entries))
	}

	/// No `ClientUsage` entry is left when there were at most [`MAX_REMOVED`] (and at most the
	/// excess is left otherwise), and the pallet's invariants hold.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), TryRuntimeError> {
		use frame_support::ensure;
		let before: u64 = codec::Decode::decode(&mut &state[..])
			.map_err(|_| "the pre-upgrade state does not decode")?;
		let after = u64::try_from(v1::ClientUsage::<T>::iter_keys().count())
			.map_err(|_| "too many ClientUsage entries to count")?;
		ensure!(
			after <= before.saturating_sub(u64::from(MAX_REMOVED)),
			"ClientUsage entries remain that the migration should have removed"
		);
		if after > 0 {
			log::warn!(
				target: LOG_TARGET,
				"{after} ClientUsage entries remain as dead keys after the migration to v2",
			);
		}
		Pallet::<T>::do_try_state()
	}
}

/// Migrates Proof of Sync from storage version 1 to 2 (see the module docs); at any other
/// on-chain version it does nothing but log.
pub type MigrateToV2<T> =
	VersionedMigration<1, 2, InnerMigrateToV2<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
