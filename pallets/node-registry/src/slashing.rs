//! Slashes: scheduling (one pending slash per node and reason), cancelling on appeal, and
//! applying them to a node's held funds at their epoch, at most `MaxSlashesPerEpoch` per epoch
//! start.

use crate::{
	BalanceOf, Config, CurrentEpoch, DueCursor, DueSlashes, EpochIndex, Error, Event, HoldReason,
	NextSlashId, NodeSlashes, Nodes, Pallet, PendingSlash, PendingSlashCount, PendingSlashes,
	SlashId, SlashReason, LOG_TARGET,
};
use alloc::vec::Vec;
use frame_support::{
	defensive, ensure,
	traits::{fungible::BalancedHold, Get, OnUnbalanced},
};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError, DispatchResult, PerThing, Perbill,
};

/// `1 - (1 - a)(1 - b)`: what taking `a` and then `b` of the rest takes (rounded down).
pub fn compound(a: Perbill, b: Perbill) -> Perbill {
	a.saturating_add(a.left_from_one() * b)
}

impl<T: Config> Pallet<T> {
	/// Schedule a slash of `fraction` of `owner`'s held funds for the start of epoch `apply_at`;
	/// when `apply_at` is not after the current epoch, apply it at once.
	///
	/// When the node already has a pending slash for `reason`, the new one is added to it
	/// ([`compound`]) and the pending one moves to the later of both epochs
	/// ([`Event::SlashIncreased`]); its id is returned. Never refused for room: pending slashes
	/// are bounded by the nodes (one per node and reason), and the epoch starts apply at most
	/// `MaxSlashesPerEpoch` each, leaving the rest for the next.
	pub fn do_schedule_slash(
		owner: &T::AccountId,
		fraction: Perbill,
		reason: SlashReason,
		apply_at: EpochIndex,
	) -> Result<SlashId, DispatchError> {
		ensure!(Nodes::<T>::contains_key(owner), Error::<T>::NotRegistered);
		let slash = PendingSlash { node: owner.clone(), fraction, reason, apply_at };

		if apply_at <= CurrentEpoch::<T>::get() {
			let id = Self::next_slash_id();
			Self::deposit_scheduled(id, &slash);
			Self::apply_slash(id, &slash, false);
			return Ok(id);
		}

		if let Some(id) = NodeSlashes::<T>::get(owner, reason) {
			match PendingSlashes::<T>::get(id) {
				Some(pending) => return Ok(Self::add_to_pending(id, pending, fraction, apply_at)),
				None => {
					defensive!("a node's indexed slash is not pending", id);
					NodeSlashes::<T>::remove(owner, reason);
				},
			}
		}

		let id = NextSlashId::<T>::get();
		// Ids wrap after 2^32 slashes; pending ones are a few per node, so an id still in use
		// when its number comes round again cannot happen in practice, and is refused.
		ensure!(!PendingSlashes::<T>::contains_key(id), Error::<T>::TooManyPendingSlashes);
		NextSlashId::<T>::put(id.wrapping_add(1));
		PendingSlashes::<T>::insert(id, &slash);
		DueSlashes::<T>::insert(apply_at, id, ());
		NodeSlashes::<T>::insert(owner, reason, id);
		PendingSlashCount::<T>::mutate(|count| *count = count.saturating_add(1));
		Nodes::<T>::mutate_extant(owner, |node| {
			node.pending_slashes = node.pending_slashes.saturating_add(1)
		});
		Self::deposit_scheduled(id, &slash);
		Ok(id)
	}

	/// Add `added` to pending slash `id` and move it to `apply_at` if that is later.
	fn add_to_pending(
		id: SlashId,
		mut slash: PendingSlash<T::AccountId>,
		added: Perbill,
		apply_at: EpochIndex,
	) -> SlashId {
		slash.fraction = compound(slash.fraction, added);
		if apply_at > slash.apply_at {
			DueSlashes::<T>::remove(slash.apply_at, id);
			DueSlashes::<T>::insert(apply_at, id, ());
			slash.apply_at = apply_at;
		}
		PendingSlashes::<T>::insert(id, &slash);
		Self::deposit_event(Event::SlashIncreased {
			slash: id,
			node: slash.node,
			added,
			fraction: slash.fraction,
			reason: slash.reason,
			apply_at: slash.apply_at,
		});
		id
	}

	/// Cancel pending slash `id` (appeal upheld): nothing is taken.
	pub(crate) fn do_cancel_slash(id: SlashId) -> DispatchResult {
		let slash = PendingSlashes::<T>::take(id).ok_or(Error::<T>::UnknownSlash)?;
		DueSlashes::<T>::remove(slash.apply_at, id);
		PendingSlashCount::<T>::mutate(|count| *count = count.saturating_sub(1));
		NodeSlashes::<T>::remove(&slash.node, slash.reason);
		Nodes::<T>::mutate_extant(&slash.node, |node| {
			node.pending_slashes = node.pending_slashes.saturating_sub(1)
		});
		Self::deposit_event(Event::SlashCancelled { slash: id, node: slash.node });
		Ok(())
	}

	/// Apply the slashes due at or before `epoch` (epoch start), oldest epoch first, at most
	/// `MaxSlashesPerEpoch`; the rest stay pending for the next epoch start. Returns the work
	/// done for the weight: the slashes applied, or the epochs read when more (an empty epoch
	/// costs less than a slash).
	pub(crate) fn apply_due_slashes(epoch: EpochIndex) -> u32 {
		let mut cursor = DueCursor::<T>::get();
		if PendingSlashCount::<T>::get() == 0 {
			// Nothing is pending: skip the empty epochs at once.
			DueCursor::<T>::put(epoch.saturating_add(1));
			return 0;
		}
		let budget = T::MaxSlashesPerEpoch::get();
		let mut applied = 0u32;
		// Each step reads one epoch's entries (at most the remaining budget); empty epochs cost a
		// step too, so the loop is bounded by the budget whatever the cursor's lag.
		let mut steps = 0u32;
		while cursor <= epoch && applied < budget && steps < budget {
			steps.saturating_inc();
			let remaining = dsync_primitives::convert::u32_to_usize(budget - applied);
			let due: Vec<SlashId> =
				DueSlashes::<T>::iter_key_prefix(cursor).take(remaining).collect();
			let exhausted = due.len() < remaining;
			for id in due {
				DueSlashes::<T>::remove(cursor, id);
				match PendingSlashes::<T>::take(id) {
					Some(slash) => Self::apply_slash(id, &slash, true),
					None => {
						defensive!("a due slash is not pending", id);
					},
				}
				applied.saturating_inc();
			}
			if !exhausted {
				// The budget ran out inside this epoch's entries; more may be left.
				break;
			}
			cursor.saturating_inc();
		}
		DueCursor::<T>::put(cursor);
		applied.max(steps)
	}

	/// Take `fraction * (bond + unbonding)` (rounded down) from the node's held funds, first
	/// from the bond and then from the unbonding chunk, and hand it to [`Config::Slashed`].
	///
	/// `queued`: the slash was pending and has just been removed from [`PendingSlashes`] and
	/// [`DueSlashes`]; its counts (the total and the node's) and its [`NodeSlashes`] entry are
	/// updated here. A slash of a node whose record is gone is dropped: it cannot happen, since
	/// a node with a pending slash cannot withdraw.
	fn apply_slash(id: SlashId, slash: &PendingSlash<T::AccountId>, queued: bool) {
		if queued {
			PendingSlashCount::<T>::mutate(|count| *count = count.saturating_sub(1));
			NodeSlashes::<T>::remove(&slash.node, slash.reason);
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
