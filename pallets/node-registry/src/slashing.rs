//! Slashes: scheduling, cancelling on appeal, and applying them to a node's held funds.

use crate::{
	BalanceOf, Config, CurrentEpoch, EpochIndex, Error, Event, HoldReason, NextSlashId, Nodes,
	Pallet, PendingSlash, PendingSlashCount, PendingSlashes, SlashId, SlashReason, SlashesDue,
	LOG_TARGET,
};
use frame_support::{
	defensive, ensure,
	traits::{fungible::BalancedHold, Get, OnUnbalanced},
};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError, DispatchResult, Perbill,
};

impl<T: Config> Pallet<T> {
	/// Schedule a slash of `fraction` of `owner`'s held funds for the start of epoch `apply_at`;
	/// when `apply_at` is not after the current epoch, apply it at once.
	///
	/// A queued slash needs room: fewer than `MaxPendingSlashes` pending in total
	/// ([`Error::TooManyPendingSlashes`]) and fewer than `MaxSlashesPerEpoch` due at `apply_at`
	/// ([`Error::SlashQueueFull`]). A slash applied at once takes no room and is never refused
	/// for it. Returns the slash id.
	pub fn do_schedule_slash(
		owner: &T::AccountId,
		fraction: Perbill,
		reason: SlashReason,
		apply_at: EpochIndex,
	) -> Result<SlashId, DispatchError> {
		ensure!(Nodes::<T>::contains_key(owner), Error::<T>::NotRegistered);
		let slash = PendingSlash { node: owner.clone(), fraction, reason, apply_at };
		let due_now = apply_at <= CurrentEpoch::<T>::get();

		if due_now {
			let id = Self::next_slash_id();
			Self::deposit_scheduled(id, &slash);
			Self::apply_slash(id, &slash, false);
			return Ok(id);
		}

		ensure!(
			PendingSlashCount::<T>::get() < T::MaxPendingSlashes::get(),
			Error::<T>::TooManyPendingSlashes
		);
		let id = NextSlashId::<T>::get();
		// Ids wrap after 2^32 slashes; at most `MaxPendingSlashes` are pending, so an id still
		// in use when its number comes round again cannot happen in practice, and is refused.
		ensure!(!PendingSlashes::<T>::contains_key(id), Error::<T>::TooManyPendingSlashes);
		SlashesDue::<T>::try_mutate(apply_at, |due| {
			due.try_push(id).map_err(|_| Error::<T>::SlashQueueFull)
		})?;
		NextSlashId::<T>::put(id.wrapping_add(1));
		PendingSlashes::<T>::insert(id, &slash);
		PendingSlashCount::<T>::mutate(|count| *count = count.saturating_add(1));
		Nodes::<T>::mutate_extant(owner, |node| {
			node.pending_slashes = node.pending_slashes.saturating_add(1)
		});
		Self::deposit_scheduled(id, &slash);
		Ok(id)
	}

	/// Cancel pending slash `id` (appeal upheld): nothing is taken.
	pub(crate) fn do_cancel_slash(id: SlashId) -> DispatchResult {
		let slash = PendingSlashes::<T>::take(id).ok_or(Error::<T>::UnknownSlash)?;
		Self::unqueue(&slash);
		SlashesDue::<T>::mutate_exists(slash.apply_at, |maybe_due| {
			let now_empty = match maybe_due.as_mut() {
				Some(due) => {
					due.retain(|due_id| *due_id != id);
					due.is_empty()
				},
				None => false,
			};
			if now_empty {
				*maybe_due = None;
			}
		});
		Self::deposit_event(Event::SlashCancelled { slash: id, node: slash.node });
		Ok(())
	}

	/// Apply the slashes due at the start of `epoch` (epoch start). Returns how many were due.
	pub(crate) fn apply_due_slashes(epoch: EpochIndex) -> u32 {
		let due = SlashesDue::<T>::take(epoch);
		let count = dsync_primitives::convert::usize_to_u32(due.len());
		for id in due {
			match PendingSlashes::<T>::take(id) {
				Some(slash) => Self::apply_slash(id, &slash, true),
				None => {
					defensive!("a slash due at an epoch start is not pending", id);
				},
			}
		}
		count
	}

	/// Take `fraction * (bond + unbonding)` (rounded down) from the node's held funds, first
	/// from the bond and then from the unbonding chunk, and hand it to [`Config::Slashed`].
	///
	/// `queued`: the slash was pending and has just been removed from [`PendingSlashes`]; its
	/// counts (the total and the node's) are decremented here. A slash of a node whose record is
	/// gone is dropped: it cannot happen, since a node with a pending slash cannot withdraw.
	fn apply_slash(id: SlashId, slash: &PendingSlash<T::AccountId>, queued: bool) {
		if queued {
			PendingSlashCount::<T>::mutate(|count| *count = count.saturating_sub(1));
		}
		let taken = Nodes::<T>::mutate(&slash.node, |maybe_node| {
			let node = maybe_node.as_mut()?;
			if queued {
				node.pending_slashes = node.pending_slashes.saturating_sub(1);
			}
			let amount = slash.fraction.mul_floor(node.total_held());
			let (credit, missing) =
				T::Currency::slash(&HoldReason::Bond.into(), &slash.node, amount);
			T::Slashed::on_unbalanced(credit);
			if !missing.is_zero() {
				defensive!("a bond hold is smaller than the registry's record", id);
			}
			let taken = amount.saturating_sub(missing);
			let from_bond = taken.min(node.bond);
			node.bond = node.bond.saturating_sub(from_bond);
			let from_unbonding = taken.saturating_sub(from_bond);
			if let Some((chunk, _)) = node.unbonding.as_mut() {
				*chunk = chunk.saturating_sub(from_unbonding);
			}
			Some(taken)
		});
		match taken {
			Some(amount) => Self::deposit_event(Event::Slashed {
				slash: id,
				node: slash.node.clone(),
				amount,
				reason: slash.reason,
			}),
			None => {
				log::warn!(
					target: LOG_TARGET,
					"slash {id} dropped: its node is no longer registered"
				);
				defensive!("a slash found no node record", id);
			},
		}
	}

	/// Undo the bookkeeping of a pending slash just removed from [`PendingSlashes`] without
	/// applying it: the total count and the node's count.
	fn unqueue(slash: &PendingSlash<T::AccountId>) {
		PendingSlashCount::<T>::mutate(|count| *count = count.saturating_sub(1));
		Nodes::<T>::mutate_extant(&slash.node, |node| {
			node.pending_slashes = node.pending_slashes.saturating_sub(1)
		});
	}

	/// The next slash id, advancing the counter (for slashes applied at once).
	fn next_slash_id() -> SlashId {
		let id = NextSlashId::<T>::get();
		NextSlashId::<T>::put(id.wrapping_add(1));
		id
	}

	/// Emit [`Event::SlashScheduled`] for `slash`.
	fn deposit_scheduled(id: SlashId, slash: &PendingSlash<T::AccountId>) {
		Self::deposit_event(Event::SlashScheduled {
			slash: id,
			node: slash.node.clone(),
			fraction: slash.fraction,
			reason: slash.reason,
			apply_at: slash.apply_at,
		});
	}

	/// The amount a slash of `fraction` would take from `owner` now, if registered.
	pub fn slash_amount(owner: &T::AccountId, fraction: Perbill) -> Option<BalanceOf<T>> {
		Nodes::<T>::get(owner).map(|node| fraction.mul_floor(node.total_held()))
	}
}
