//! Bonds: adding to them, unbonding a part, withdrawing due chunks (which completes an exit).

use crate::{BalanceOf, Config, Error, Event, HoldReason, NodeStatus, Nodes, Pallet, Params};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, tokens::Precision},
};
use sp_runtime::{
	traits::{CheckedSub, Saturating, Zero},
	DispatchResult,
};

impl<T: Config> Pallet<T> {
	/// Hold `amount` more from `who` and add it to the bond.
	pub(crate) fn do_bond_extra(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let mut node = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(node.status != NodeStatus::Unbonding, Error::<T>::NodeUnbonding);
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);

		T::Currency::hold(&HoldReason::Bond.into(), &who, amount)?;
		node.bond = node.bond.saturating_add(amount);
		let bond = node.bond;
		Nodes::<T>::insert(&who, node);
		Self::deposit_event(Event::BondIncreased { node: who, amount, bond });
		Ok(())
	}

	/// Move `amount` of `who`'s bond into the unbonding chunk, leaving at least the minimum of
	/// the declaration in force and of the pending one.
	pub(crate) fn do_unbond(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let mut node = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(node.status != NodeStatus::Unbonding, Error::<T>::NodeUnbonding);
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);

		let remaining = node.bond.checked_sub(&amount).ok_or(Error::<T>::BondBelowMinimum)?;
		ensure!(remaining >= Self::minimum_bond(&node.declaration), Error::<T>::BondBelowMinimum);
		if let Some(pending) = &node.pending_declaration {
			ensure!(remaining >= Self::minimum_bond(pending), Error::<T>::BondBelowMinimum);
		}

		let release_at = Self::release_block();
		node.bond = remaining;
		node.unbonding = Some((node.unbonding_amount().saturating_add(amount), release_at));
		Nodes::<T>::insert(&who, node);
		Self::deposit_event(Event::Unbonded { node: who, amount, release_at });
		Ok(())
	}

	/// Release `who`'s due unbonding chunk; when the node is exiting and nothing is left,
	/// remove it from the registry.
	pub(crate) fn do_withdraw_unbonded(who: T::AccountId) -> DispatchResult {
		let mut node = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let (amount, release_at) = node.unbonding.ok_or(Error::<T>::NothingToWithdraw)?;
		ensure!(
			frame_system::Pallet::<T>::block_number() >= release_at,
			Error::<T>::UnbondingNotDue
		);
		ensure!(node.pending_slashes == 0, Error::<T>::SlashPending);

		let released =
			T::Currency::release(&HoldReason::Bond.into(), &who, amount, Precision::Exact)?;
		node.unbonding = None;
		Self::deposit_event(Event::Withdrawn { node: who.clone(), amount: released });

		if node.status == NodeStatus::Unbonding && node.bond.is_zero() {
			Self::remove_node(&who, &node);
			Self::deposit_event(Event::NodeExited { node: who });
		} else {
			Nodes::<T>::insert(&who, node);
		}
		Ok(())
	}

	/// The release block of a chunk unbonded now: `now + unbonding_delay` (saturating).
	pub(crate) fn release_block() -> frame_system::pallet_prelude::BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number().saturating_add(Params::<T>::get().unbonding_delay)
	}
}
