//! Storage version 2: one pending slash per node and reason, and due slashes that are never
//! refused for room.
//!
//! Version 1 listed the pending slashes due at each epoch in a bounded list (`SlashesDue`, at
//! most `MaxSlashesPerEpoch` per epoch) under a global bound (`MaxPendingSlashes`); a slash that
//! found no room was refused, so offenders could escape slashes by filling the queue. Version 2
//! keeps at most one pending slash per node and reason ([`NodeSlashes`]), lists every pending
//! slash under its epoch in [`DueSlashes`] and applies them from [`DueCursor`] on, a bounded
//! number per epoch start.
//!
//! [`MigrateToV2`] removes the old lists, merges the pending slashes of one node and reason into
//! the latest of them (fractions compounded, as applying them one after the other would take;
//! the merged slash keeps the latest epoch and id), indexes the survivors and sets the cursor to
//! the earliest epoch any of them is due at (at most the next epoch). It reads every pending
//! slash once: at most version 1's `MaxPendingSlashes` (256 in the runtime).

use crate::{
	slashing::compound, Config, CurrentEpoch, DueCursor, DueSlashes, EpochIndex, NodeSlashes,
	Nodes, Pallet, PendingSlashCount, PendingSlashes, SlashId, LOG_TARGET,
};
use alloc::vec::Vec;
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};

/// The storage of version 1 that the migration reads and removes.
mod v1 {
	use crate::{Config, EpochIndex, Pallet, SlashId};
	use alloc::vec::Vec;
	use frame_support::{pallet_prelude::ValueQuery, storage_alias, Twox64Concat};

	/// The slashes due at the start of each epoch (a bounded list in version 1; decoded as a
	/// plain list, which has the same encoding).
	#[storage_alias]
	pub(super) type SlashesDue<T: Config> =
		StorageMap<Pallet<T>, Twox64Concat, EpochIndex, Vec<SlashId>, ValueQuery>;
}

/// Merges and re-indexes the pending slashes, without checking the storage version: use it
/// through [`MigrateToV2`].
pub struct InnerMigrateToV2<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let old_lists = v1::SlashesDue::<T>::drain().count();
		let mut pending: Vec<(SlashId, crate::PendingSlash<T::AccountId>)> =
			PendingSlashes::<T>::iter().collect();
		// Oldest first, so that a later slash of the same node and reason absorbs the earlier.
		pending.sort_by_key(|(id, slash)| (slash.apply_at, *id));
		let read = pending.len();

		let mut merged = 0u32;
		let mut earliest: Option<EpochIndex> = None;
		for (id, mut slash) in pending {
			if let Some(earlier_id) = NodeSlashes::<T>::get(&slash.node, slash.reason) {
				if let Some(earlier) = PendingSlashes::<T>::take(earlier_id) {
					DueSlashes::<T>::remove(earlier.apply_at, earlier_id);
					slash.fraction = compound(earlier.fraction, slash.fraction);
					PendingSlashes::<T>::insert(id, &slash);
					PendingSlashCount::<T>::mutate(|count| *count = count.saturating_sub(1));
					Nodes::<T>::mutate_extant(&slash.node, |node| {
						node.pending_slashes = node.pending_slashes.saturating_sub(1)
					});
					merged = merged.saturating_add(1);
				}
			}
			NodeSlashes::<T>::insert(&slash.node, slash.reason, id);
			DueSlashes::<T>::insert(slash.apply_at, id, ());
			earliest = Some(earliest.map_or(slash.apply_at, |at| at.min(slash.apply_at)));
		}
		let next = CurrentEpoch::<T>::get().saturating_add(1);
		DueCursor::<T>::put(earliest.map_or(next, |at| at.min(next)));
		log::info!(
			target: LOG_TARGET,
			"migrated to v2: {read} pending slashes ({merged} merged), {old_lists} old lists removed",
		);

		// Per pending slash: its read, the index lookup, and up to five writes (a merge: the
		// earlier removed from both maps, the count and node updated; then index and due entry).
		let read = dsync_primitives::convert::usize_to_u64(read);
		let old_lists = dsync_primitives::convert::usize_to_u64(old_lists);
		T::DbWeight::get().reads_writes(
			read.saturating_mul(3).saturating_add(old_lists).saturating_add(2),
			read.saturating_mul(6).saturating_add(old_lists).saturating_add(1),
		)
	}

	/// The number of pending slashes, for [`Self::post_upgrade`]: merging never adds one.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		Ok(codec::Encode::encode(&PendingSlashCount::<T>::get()))
	}

	/// The old lists are gone and the pallet's invariants hold (among them: one pending slash
	/// per node and reason, each listed at its epoch, none before the cursor).
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::ensure;
		let before: u32 = codec::Decode::decode(&mut &state[..])
			.map_err(|_| "the pre-upgrade state does not decode")?;
		ensure!(v1::SlashesDue::<T>::iter_keys().next().is_none(), "old due lists remain");
		ensure!(PendingSlashCount::<T>::get() <= before, "pending slashes were added");
		Pallet::<T>::do_try_state()
	}
}

/// Migrates the node registry from storage version 1 to 2 (see the module docs); at any other
/// on-chain version it does nothing but log.
pub type MigrateToV2<T> =
	VersionedMigration<1, 2, InnerMigrateToV2<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{mock::*, Event, PendingSlash, SlashReason};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	use sp_runtime::Perbill;

	fn pending(
		node: AccountId,
		percent: u32,
		reason: SlashReason,
		apply_at: u32,
	) -> PendingSlash<AccountId> {
		PendingSlash { node, fraction: Perbill::from_percent(percent), reason, apply_at }
	}

	/// Version-1 state at epoch 2: Alice has two `RepeatedMisses` slashes (due at 5 and 4) and a
	/// `WrongAnswer` one (due at 4), Bob one `RepeatedMisses` slash (due at 3), listed per epoch.
	fn version_1_state() {
		register_service(&ALICE, 1, 3_000);
		register_service(&BOB, 2, 3_000);
		start_epoch(2);
		let slashes = [
			(0, pending(ALICE, 50, SlashReason::RepeatedMisses, 5)),
			(1, pending(ALICE, 10, SlashReason::RepeatedMisses, 4)),
			(2, pending(ALICE, 20, SlashReason::WrongAnswer, 4)),
			(3, pending(BOB, 30, SlashReason::RepeatedMisses, 3)),
		];
		for (id, slash) in &slashes {
			PendingSlashes::<Test>::insert(id, slash);
			v1::SlashesDue::<Test>::mutate(slash.apply_at, |due| due.push(*id));
			Nodes::<Test>::mutate_extant(&slash.node, |node| node.pending_slashes += 1);
		}
		PendingSlashCount::<Test>::put(4);
		crate::NextSlashId::<Test>::put(4);
		StorageVersion::new(1).put::<Registry>();
	}

	#[test]
	fn merges_the_slashes_of_one_node_and_reason_and_indexes_them() {
		ExtBuilder::default().build_and_execute(|| {
			version_1_state();
			let _ = MigrateToV2::<Test>::on_runtime_upgrade();

			assert_eq!(Registry::on_chain_storage_version(), StorageVersion::new(2));
			assert!(v1::SlashesDue::<Test>::iter_keys().next().is_none());
			// Alice's two RepeatedMisses slashes: 10 % then 50 % of the rest is 55 %, due at the
			// later epoch under the later slash's id.
			assert_eq!(PendingSlashes::<Test>::get(1), None);
			assert_eq!(
				PendingSlashes::<Test>::get(0),
				Some(pending(ALICE, 55, SlashReason::RepeatedMisses, 5))
			);
			assert_eq!(NodeSlashes::<Test>::get(ALICE, SlashReason::RepeatedMisses), Some(0));
			assert_eq!(NodeSlashes::<Test>::get(ALICE, SlashReason::WrongAnswer), Some(2));
			assert_eq!(NodeSlashes::<Test>::get(BOB, SlashReason::RepeatedMisses), Some(3));
			assert!(DueSlashes::<Test>::contains_key(5, 0));
			assert!(DueSlashes::<Test>::contains_key(4, 2));
			assert!(DueSlashes::<Test>::contains_key(3, 3));
			assert!(!DueSlashes::<Test>::contains_key(4, 1));
			assert_eq!(PendingSlashCount::<Test>::get(), 3);
			assert_eq!(Nodes::<Test>::get(ALICE).map(|node| node.pending_slashes), Some(2));
			assert_eq!(DueCursor::<Test>::get(), 3);
			frame_support::assert_ok!(Registry::do_try_state());

			// The slashes apply at their epochs: 30 % of Bob's bond at 3, then Alice's.
			start_epoch(3);
			assert_eq!(Nodes::<Test>::get(BOB).map(|node| node.bond), Some(2_100));
			start_epoch(4);
			start_epoch(5);
			// 20 % of 3_000 is 600; then 55 % of 2_400 is 1_320.
			assert_eq!(Nodes::<Test>::get(ALICE).map(|node| node.bond), Some(1_080));
			assert!(registry_events().contains(&Event::Slashed {
				slash: 0,
				node: ALICE,
				amount: 1_320,
				reason: SlashReason::RepeatedMisses
			}));
			assert_eq!(PendingSlashCount::<Test>::get(), 0);

			// Once at version 2 it does nothing.
			v1::SlashesDue::<Test>::insert(9, vec![7]);
			let _ = MigrateToV2::<Test>::on_runtime_upgrade();
			assert_eq!(v1::SlashesDue::<Test>::get(9), vec![7]);
			v1::SlashesDue::<Test>::remove(9);
		});
	}

	#[cfg(feature = "try-runtime")]
	#[test]
	fn the_migration_passes_its_own_checks() {
		ExtBuilder::default().build_and_execute(|| {
			version_1_state();
			frame_support::assert_ok!(MigrateToV2::<Test>::try_on_runtime_upgrade(true));
			assert_eq!(PendingSlashCount::<Test>::get(), 3);
		});
	}
}
