//! Registration, declaration updates and off-chain keys.

use crate::{
	BalanceOf, Config, DeclarationError, DeclarationOf, DeclarationUpdates, Error, Event,
	HoldReason, NodeInfo, NodeOfKey, NodeRole, NodeStatus, Nodes, Pallet, Params, ServiceNodes,
	ValidatorNodes,
};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{ensure, traits::fungible::MutateHold};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Verify, Zero},
	DispatchResult,
};

impl<T: Config> From<DeclarationError> for Error<T> {
	fn from(error: DeclarationError) -> Self {
		match error {
			DeclarationError::InvalidEndpoint => Error::<T>::InvalidEndpoint,
			DeclarationError::InvalidResources => Error::<T>::InvalidResources,
			DeclarationError::InvalidServices => Error::<T>::InvalidServices,
			DeclarationError::InvalidModels => Error::<T>::InvalidModels,
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The minimum bond of `declaration` under the current parameters:
	/// `base_bond + bond_per_capacity_unit * capacity_units` (saturating).
	pub fn minimum_bond(declaration: &DeclarationOf<T>) -> BalanceOf<T> {
		Params::<T>::get().minimum_bond(declaration.capacity_units())
	}

	/// Check `declaration` for a node of `role` ([`crate::Declaration::validate`]).
	pub fn check_declaration(
		role: NodeRole,
		declaration: &DeclarationOf<T>,
	) -> Result<(), Error<T>> {
		declaration.validate(role).map_err(Into::into)
	}

	/// Register `who`'s node: check everything, add it to its role's list, hold the bond,
	/// store the record and the key mapping.
	///
	/// The key proof is not checked here: [`Pallet::register`] checks it first. Runtime code
	/// (benchmark helpers) may call this directly for keys it controls.
	pub fn do_register(
		who: T::AccountId,
		role: NodeRole,
		declaration: DeclarationOf<T>,
		offchain_key: T::AccountId,
		bond: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!Nodes::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		ensure!(!NodeOfKey::<T>::contains_key(&offchain_key), Error::<T>::OffchainKeyInUse);
		Self::check_declaration(role, &declaration)?;
		let capacity_units = declaration.capacity_units();
		ensure!(bond >= Self::minimum_bond(&declaration), Error::<T>::BondBelowMinimum);

		match role {
			NodeRole::Service => ServiceNodes::<T>::try_mutate(|nodes| {
				nodes.try_push(who.clone()).map_err(|_| Error::<T>::TooManyNodes)
			})?,
			NodeRole::Validator => ValidatorNodes::<T>::try_mutate(|nodes| {
				nodes.try_push(who.clone()).map_err(|_| Error::<T>::TooManyNodes)
			})?,
		}
		// The call is transactional: a failed hold reverts the list entry above.
		T::Currency::hold(&HoldReason::Bond.into(), &who, bond)?;

		let node = NodeInfo::<T> {
			role,
			status: NodeStatus::Pending,
			declaration,
			pending_declaration: None,
			offchain_key: offchain_key.clone(),
			bond,
			unbonding: None,
			registered_at: frame_system::Pallet::<T>::block_number(),
			pending_slashes: 0,
		};
		Nodes::<T>::insert(&who, node);
		NodeOfKey::<T>::insert(&offchain_key, &who);
		Self::deposit_event(Event::NodeRegistered {
			node: who,
			role,
			offchain_key,
			bond,
			capacity_units,
		});
		Ok(())
	}

	/// Store `declaration` as `who`'s pending declaration, for the next epoch start.
	pub(crate) fn do_update_declaration(
		who: T::AccountId,
		declaration: DeclarationOf<T>,
	) -> DispatchResult {
		let mut node = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(node.status != NodeStatus::Unbonding, Error::<T>::NodeUnbonding);
		Self::check_declaration(node.role, &declaration)?;
		let capacity_units = declaration.capacity_units();
		ensure!(node.bond >= Self::minimum_bond(&declaration), Error::<T>::BondBelowMinimum);

		DeclarationUpdates::<T>::try_mutate(|updates| {
			if updates.contains(&who) {
				Ok(())
			} else {
				updates.try_push(who.clone()).map_err(|_| Error::<T>::TooManyUpdates)
			}
		})?;
		node.pending_declaration = Some(declaration);
		Nodes::<T>::insert(&who, node);
		Self::deposit_event(Event::DeclarationUpdated {
			node: who,
			capacity_units,
			effective_epoch: crate::CurrentEpoch::<T>::get().saturating_add(1),
		});
		Ok(())
	}

	/// Replace the off-chain key of `who`'s node by `key`, which no node may have.
	pub(crate) fn do_set_offchain_key(who: T::AccountId, key: T::AccountId) -> DispatchResult {
		let mut node = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(node.status != NodeStatus::Unbonding, Error::<T>::NodeUnbonding);
		ensure!(!NodeOfKey::<T>::contains_key(&key), Error::<T>::OffchainKeyInUse);

		let old = core::mem::replace(&mut node.offchain_key, key.clone());
		NodeOfKey::<T>::remove(&old);
		NodeOfKey::<T>::insert(&key, &who);
		Nodes::<T>::insert(&who, node);
		Self::deposit_event(Event::OffchainKeyChanged { node: who, old, new: key });
		Ok(())
	}

	/// The message an off-chain key signs to prove its holder registers it for `owner`:
	/// `SCALE((b"dsync/node-key", genesis hash, owner))`. The genesis hash (block 0's hash) ties
	/// the proof to this chain.
	pub fn key_proof_message(owner: &T::AccountId) -> Vec<u8> {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		(KEY_PROOF_CONTEXT, genesis, owner).encode()
	}

	/// Check that `proof` is `key`'s signature over [`Self::key_proof_message`] of `owner`.
	pub(crate) fn check_key_proof(
		owner: &T::AccountId,
		key: &T::AccountId,
		proof: &T::KeyProof,
	) -> DispatchResult {
		ensure!(
			proof.verify(&Self::key_proof_message(owner)[..], key),
			Error::<T>::InvalidKeyProof
		);
		Ok(())
	}
}

/// The context of [`Pallet::key_proof_message`].
pub const KEY_PROOF_CONTEXT: &[u8; 14] = b"dsync/node-key";
