//! The invariants `try_state` checks.

#[cfg(any(feature = "try-runtime", test))]
mod checks {
	use crate::{
		Config, CurrentEpoch, DeclarationUpdates, DueCursor, DueSlashes, HoldReason, NodeOfKey,
		NodeRole, NodeSlashes, NodeStatus, Nodes, Pallet, Params, PendingSlashCount,
		PendingSlashes, Providers, ServiceKind, ServiceNodes, ValidatorNodes,
	};
	use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
	use frame_support::{ensure, traits::fungible::InspectHold};
	use sp_runtime::{traits::Zero, TryRuntimeError};

	impl<T: Config> Pallet<T> {
		/// Check the invariants of the pallet's storage:
		///
		/// 1. the parameters are valid;
		/// 2. for every node, the balance on hold for [`HoldReason::Bond`] is exactly `bond +
		///    unbonding`; an `Unbonding` node has no active bond, has an unbonding chunk and no
		///    pending declaration;
		/// 3. [`NodeOfKey`] is exactly the inverse of `NodeInfo::offchain_key`;
		/// 4. [`ServiceNodes`] and [`ValidatorNodes`] hold exactly the nodes of their role,
		///    without duplicates;
		/// 5. [`DeclarationUpdates`] holds exactly the nodes with a pending declaration, without
		///    duplicates;
		/// 6. every node's `pending_slashes` is the number of [`PendingSlashes`] entries against
		///    it, [`PendingSlashCount`] is the number of entries, [`NodeSlashes`] maps each
		///    entry's node and reason to it and holds nothing else (one pending slash per node and
		///    reason), every entry is listed in [`DueSlashes`] exactly at its `apply_at`, which is
		///    not before [`DueCursor`], every entry of [`DueSlashes`] is pending, and the cursor
		///    is at most one past the current epoch;
		/// 7. for every [`ServiceKind`], [`Providers`] holds exactly the `Active` service nodes
		///    whose declaration in force offers it, without duplicates.
		pub fn do_try_state() -> Result<(), TryRuntimeError> {
			ensure!(Params::<T>::get().is_valid(), "the stored parameters are invalid");

			let mut service_count = 0usize;
			let mut validator_count = 0usize;
			let mut with_pending_declaration = 0usize;
			let mut node_count = 0usize;
			let mut providers: BTreeMap<ServiceKind, BTreeSet<T::AccountId>> = BTreeMap::new();
			for (owner, node) in Nodes::<T>::iter() {
				node_count = node_count.saturating_add(1);
				for kind in Self::provided_kinds(&node) {
					providers.entry(kind).or_default().insert(owner.clone());
				}
				let held = T::Currency::balance_on_hold(&HoldReason::Bond.into(), &owner);
				ensure!(held == node.total_held(), "a bond hold differs from bond + unbonding");
				if node.status == NodeStatus::Unbonding {
					ensure!(node.bond.is_zero(), "an exiting node has an active bond");
					ensure!(node.unbonding.is_some(), "an exiting node has no unbonding chunk");
					ensure!(
						node.pending_declaration.is_none(),
						"an exiting node has a pending declaration"
					);
				}
				ensure!(
					NodeOfKey::<T>::get(&node.offchain_key).as_ref() == Some(&owner),
					"a node's off-chain key does not map back to it"
				);
				match node.role {
					NodeRole::Service => service_count = service_count.saturating_add(1),
					NodeRole::Validator => validator_count = validator_count.saturating_add(1),
				}
				if node.pending_declaration.is_some() {
					with_pending_declaration = with_pending_declaration.saturating_add(1);
				}
			}
			for (key, owner) in NodeOfKey::<T>::iter() {
				ensure!(
					Nodes::<T>::get(&owner).is_some_and(|node| node.offchain_key == key),
					"an off-chain key maps to a node that does not have it"
				);
			}
			ensure!(
				NodeOfKey::<T>::iter().count() == node_count,
				"the key mapping and the nodes differ in number"
			);

			for kind in ServiceKind::ALL {
				let listed = Providers::<T>::get(kind);
				let expected = providers.remove(&kind).unwrap_or_default();
				ensure!(
					listed.len() == expected.len()
						&& listed.iter().all(|owner| expected.contains(owner)),
					"a provider list differs from the active service nodes offering its kind"
				);
			}
			Self::check_list(ServiceNodes::<T>::get().iter(), NodeRole::Service, service_count)?;
			Self::check_list(
				ValidatorNodes::<T>::get().iter(),
				NodeRole::Validator,
				validator_count,
			)?;

			let updates = DeclarationUpdates::<T>::get();
			let distinct: BTreeSet<_> = updates.iter().collect();
			ensure!(distinct.len() == updates.len(), "a declaration update is listed twice");
			ensure!(
				updates.len() == with_pending_declaration,
				"the update list and the pending declarations differ in number"
			);
			for owner in updates.iter() {
				ensure!(
					Nodes::<T>::get(owner).is_some_and(|node| node.pending_declaration.is_some()),
					"a listed declaration update has no pending declaration"
				);
			}

			let current_epoch = CurrentEpoch::<T>::get();
			let cursor = DueCursor::<T>::get();
			ensure!(
				cursor <= current_epoch.saturating_add(1),
				"the due cursor is ahead of the next epoch"
			);
			let mut per_node: BTreeMap<T::AccountId, u32> = BTreeMap::new();
			let mut pending_count = 0u32;
			for (id, slash) in PendingSlashes::<T>::iter() {
				pending_count = pending_count.saturating_add(1);
				let count = per_node.entry(slash.node.clone()).or_insert(0);
				*count = count.saturating_add(1);
				ensure!(slash.apply_at >= cursor, "a pending slash is due before the cursor");
				ensure!(
					DueSlashes::<T>::contains_key(slash.apply_at, id),
					"a pending slash is not listed at its epoch"
				);
				ensure!(
					NodeSlashes::<T>::get(&slash.node, slash.reason) == Some(id),
					"a pending slash is not indexed under its node and reason"
				);
			}
			ensure!(
				PendingSlashCount::<T>::get() == pending_count,
				"the pending slash count differs from the pending slashes"
			);
			let indexed = NodeSlashes::<T>::iter().count();
			ensure!(
				u32::try_from(indexed).ok() == Some(pending_count),
				"the node slash index has entries that are not pending"
			);
			for (owner, node) in Nodes::<T>::iter() {
				let expected = per_node.remove(&owner).unwrap_or(0);
				ensure!(
					node.pending_slashes == expected,
					"a node's pending slash count differs from its pending slashes"
				);
			}
			ensure!(per_node.is_empty(), "a pending slash is against an unregistered node");
			for (epoch, id, ()) in DueSlashes::<T>::iter() {
				ensure!(
					PendingSlashes::<T>::get(id).is_some_and(|slash| slash.apply_at == epoch),
					"a due slash is not pending at that epoch"
				);
			}
			Ok(())
		}

		/// Check that `list` holds `expected` distinct owners, each of a node of `role`.
		fn check_list<'a>(
			list: impl Iterator<Item = &'a T::AccountId>,
			role: NodeRole,
			expected: usize,
		) -> Result<(), TryRuntimeError> {
			let mut seen = BTreeSet::new();
			for owner in list {
				ensure!(seen.insert(owner.clone()), "a node is listed twice");
				ensure!(
					Nodes::<T>::get(owner).is_some_and(|node| node.role == role),
					"a listed node is missing or of the other role"
				);
			}
			ensure!(seen.len() == expected, "a node of the role is missing from its list");
			Ok(())
		}
	}
}
