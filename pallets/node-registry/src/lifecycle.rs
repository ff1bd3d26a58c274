//! The lifecycle: status changes, exit, reactivation, the removal of an exited node, and the
//! epoch-start work on declarations and validators.

use crate::{
	Config, DeclarationUpdates, Error, Event, NodeInfo, NodeOfKey, NodeRole, NodeStatus, Nodes,
	Pallet, Providers, ServiceKind, ServiceNodes, ValidatorNodes,
};
use alloc::vec::Vec;
use frame_support::{defensive, ensure};
use sp_runtime::{traits::Zero, DispatchResult};

impl<T: Config> Pallet<T> {
	/// Start `who`'s exit: the whole bond joins the unbonding chunk, whose release block becomes
	/// `now + unbonding_delay`; the node becomes `Unbonding`; a pending declaration is dropped.
	pub(crate) fn do_exit(who: T::AccountId) -> DispatchResult {
		let mut node = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(node.status != NodeStatus::Unbonding, Error::<T>::AlreadyUnbonding);

		let release_at = Self::release_block();
		let from = node.status;
		let provided = Self::provided_kinds(&node);
		node.unbonding = Some((node.total_held(), release_at));
		node.bond = Zero::zero();
		node.status = NodeStatus::Unbonding;
		if node.pending_declaration.take().is_some() {
			DeclarationUpdates::<T>::mutate(|updates| updates.retain(|owner| owner != &who));
		}
		Self::update_providers(&who, &provided, &[]);
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
		let provided = Self::provided_kinds(&node);
		let from = core::mem::replace(&mut node.status, to);
		Self::update_providers(owner, &provided, &Self::provided_kinds(&node));
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
		// An exiting node is no provider and has no pending declaration (`exit` sees to both);
		// kept for robustness, by the same rule as every status change (no storage access for
		// an `Unbonding` node).
		Self::update_providers(owner, &Self::provided_kinds(node), &[]);
		if node.pending_declaration.is_some() {
			DeclarationUpdates::<T>::mutate(|updates| updates.retain(|o| o != owner));
		}
	}

	/// Apply every pending declaration (epoch start). Returns how many were in the list.
	///
	/// An `Active` service node whose new declaration claims more than the one in force (more
	/// capacity units, a service or a model it did not offer) goes back to `Pending`: Proof of
	/// Sync verifies it again in the epoch that starts, and activates it after that epoch's
	/// tally if its score still qualifies. Declaring less takes effect without a warm-up.
	pub(crate) fn apply_pending_declarations() -> u32 {
		let updates = DeclarationUpdates::<T>::take();
		let count = dsync_primitives::convert::usize_to_u32(updates.len());
		for owner in updates {
			let Some(mut node) = Nodes::<T>::get(&owner) else { continue };
			let Some(declaration) = node.pending_declaration.take() else { continue };
			let capacity_units = declaration.capacity_units();
			let reverify = node.role == NodeRole::Service
				&& node.status == NodeStatus::Active
				&& declaration.claims_more_than(&node.declaration);
			let provided = Self::provided_kinds(&node);
			node.declaration = declaration;
			if reverify {
				node.status = NodeStatus::Pending;
			}
			Self::update_providers(&owner, &provided, &Self::provided_kinds(&node));
			Nodes::<T>::insert(&owner, node);
			Self::deposit_event(Event::DeclarationApplied { node: owner.clone(), capacity_units });
			if reverify {
				Self::deposit_event(Event::StatusChanged {
					node: owner,
					from: NodeStatus::Active,
					to: NodeStatus::Pending,
				});
			}
		}
		count
	}

	/// Promote every `Pending` validator node to `Active` (epoch start). Returns how many
	/// validator nodes were examined (the length of [`ValidatorNodes`]).
	pub(crate) fn promote_pending_validators() -> u32 {
		let validators = ValidatorNodes::<T>::get();
		let count = dsync_primitives::convert::usize_to_u32(validators.len());
		for owner in validators {
			if let Some(node) = Nodes::<T>::get(&owner) {
				if node.status == NodeStatus::Pending {
					Self::change_status(&owner, node, NodeStatus::Active);
				}
			}
		}
		count
	}

	/// The service kinds whose [`Providers`] list `node` belongs in: every kind its declaration
	/// in force offers when it is an `Active` service node, none otherwise.
	pub(crate) fn provided_kinds(node: &NodeInfo<T>) -> Vec<ServiceKind> {
		if node.role == NodeRole::Service && node.status == NodeStatus::Active {
			node.declaration.services.to_vec()
		} else {
			Vec::new()
		}
	}

	/// Keep [`Providers`] in step when `owner` goes from providing the kinds `was` to providing
	/// the kinds `is`: it leaves the lists of the kinds it no longer provides and joins, at the
	/// end, those of the kinds it newly provides.
	fn update_providers(owner: &T::AccountId, was: &[ServiceKind], is: &[ServiceKind]) {
		for kind in was.iter().filter(|kind| !is.contains(kind)) {
			Providers::<T>::mutate(kind, |providers| providers.retain(|o| o != owner));
		}
		for kind in is.iter().filter(|kind| !was.contains(kind)) {
			Providers::<T>::mutate(kind, |providers| {
				// Bounded like the service-node list, which holds every member: cannot fail.
				if !providers.contains(owner) && providers.try_push(owner.clone()).is_err() {
					defensive!("a provider list is bounded like the service-node list");
				}
			});
		}
	}
}
