//! The lifecycle: status changes, exit, reactivation, the removal of an exited node, and the
//! epoch-start work on declarations and validators.

use crate::{
	Config, DeclarationUpdates, Error, Event, NodeInfo, NodeOfKey, NodeRole, NodeStatus, Nodes,
	Pallet, ServiceNodes, ValidatorNodes,
};
use frame_support::ensure;
use sp_runtime::{traits::Zero, DispatchResult};

impl<T: Config> Pallet<T> {
	/// Start `who`'s exit: the whole bond joins the unbonding chunk, whose release block becomes
	/// `now + unbonding_delay`; the node becomes `Unbonding`; a pending declaration is dropped.
	pub(crate) fn do_exit(who: T::AccountId) -> DispatchResult {
		let mut node = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(node.status != NodeStatus::Unbonding, Error::<T>::AlreadyUnbonding);

		let release_at = Self::release_block();
		let from = node.status;
		node.unbonding = Some((node.total_held(), release_at));
		node.bond = Zero::zero();
		node.status = NodeStatus::Unbonding;
		if node.pending_declaration.take().is_some() {
			DeclarationUpdates::<T>::mutate(|updates| updates.retain(|owner| owner != &who));
		}
		Nodes::<T>::insert(&who, node);
		Self::deposit_event(Event::StatusChanged {
			node: who.clone(),
			from,
			to: NodeStatus::Unbonding,
		});
		Self::deposit_event(Event::ExitStarted { node: who, release_at });
		Ok(())
	}

	/// Move `who`'s suspended validator node back to `Pending`.
	pub(crate) fn do_reactivate(who: T::AccountId) -> DispatchResult {
		let node = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(node.role == NodeRole::Validator, Error::<T>::NotAValidator);
		ensure!(node.status == NodeStatus::Suspended, Error::<T>::NotSuspended);
		Self::change_status(&who, node, NodeStatus::Pending);
		Ok(())
	}

	/// Move `owner`'s node to `status` on behalf of Proof of Sync: never to `Unbonding`
	/// ([`Error::InvalidTransition`]), never out of it ([`Error::NodeUnbonding`]); nothing
	/// happens (and no event is emitted) when the status is already `status`.
	pub fn do_set_status(owner: &T::AccountId, status: NodeStatus) -> DispatchResult {
		let node = Nodes::<T>::get(owner).ok_or(Error::<T>::NotRegistered)?;
		ensure!(status != NodeStatus::Unbonding, Error::<T>::InvalidTransition);
		ensure!(node.status != NodeStatus::Unbonding, Error::<T>::NodeUnbonding);
		if node.status != status {
			Self::change_status(owner, node, status);
		}
		Ok(())
	}

	/// Store `node` with `to` as its status and emit [`Event::StatusChanged`].
	fn change_status(owner: &T::AccountId, mut node: NodeInfo<T>, to: NodeStatus) {
		let from = core::mem::replace(&mut node.status, to);
		Nodes::<T>::insert(owner, node);
		Self::deposit_event(Event::StatusChanged { node: owner.clone(), from, to });
	}

	/// Remove an exited node: its record, its key mapping and its list entries.
	pub(crate) fn remove_node(owner: &T::AccountId, node: &NodeInfo<T>) {
		Nodes::<T>::remove(owner);
		NodeOfKey::<T>::remove(&node.offchain_key);
		match node.role {
			NodeRole::Service => ServiceNodes::<T>::mutate(|nodes| nodes.retain(|o| o != owner)),
			NodeRole::Validator => {
				ValidatorNodes::<T>::mutate(|nodes| nodes.retain(|o| o != owner))
			},
		}
		// An exiting node has no pending declaration (`exit` drops it); kept for robustness.
		if node.pending_declaration.is_some() {
			DeclarationUpdates::<T>::mutate(|updates| updates.retain(|o| o != owner));
		}
	}

	/// Apply every pending declaration (epoch start). Returns how many were in the list.
	pub(crate) fn apply_pending_declarations() -> u32 {
		let updates = DeclarationUpdates::<T>::take();
		let count = u32::try_from(updates.len()).unwrap_or(u32::MAX);
		for owner in updates {
			let applied = Nodes::<T>::mutate(&owner, |maybe_node| {
				let node = maybe_node.as_mut()?;
				let declaration = node.pending_declaration.take()?;
				let capacity_units = declaration.capacity_units();
				node.declaration = declaration;
				Some(capacity_units)
			});
			if let Some(capacity_units) = applied {
				Self::deposit_event(Event::DeclarationApplied { node: owner, capacity_units });
			}
		}
		count
	}

	/// Promote every `Pending` validator node to `Active` (epoch start). Returns how many
	/// validator nodes were examined (the length of [`ValidatorNodes`]).
	pub(crate) fn promote_pending_validators() -> u32 {
		let validators = ValidatorNodes::<T>::get();
		let count = u32::try_from(validators.len()).unwrap_or(u32::MAX);
		for owner in validators {
			if let Some(node) = Nodes::<T>::get(&owner) {
				if node.status == NodeStatus::Pending {
					Self::change_status(&owner, node, NodeStatus::Active);
				}
			}
		}
		count
	}
}
