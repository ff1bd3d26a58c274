//! The epoch clock and the agenda: the work later blocks do in `on_initialize`.

use crate::{
	Agenda, AgendaCount, AgendaCursor, AgendaTask, Clock, Config, EpochSeeds, Pallet, Params,
	WeightInfo,
};
use alloc::vec::Vec;
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

/// The randomness subject of an epoch's challenge seed.
const SEED_SUBJECT: &[u8] = b"dsync/storage/epoch-seed";

impl<T: Config> Pallet<T> {
	/// Starts the next epoch when its first block comes: the clock moves and the epoch's seed is
	/// drawn (the randomness of this block, which nobody knew before the previous block was
	/// authored). The seed of two epochs ago is dropped: proofs name the current epoch.
	pub(crate) fn tick_clock(now: BlockNumberFor<T>) -> Weight {
		let Some(params) = Params::<T>::get() else {
			return T::DbWeight::get().reads(1);
		};
		let mut clock = Clock::<T>::get();
		if now >= clock.start.saturating_add(params.epoch_length) {
			clock.epoch = clock.epoch.saturating_add(1);
			clock.start = now;
			Clock::<T>::put(clock);
			EpochSeeds::<T>::insert(clock.epoch, Self::random(SEED_SUBJECT));
			EpochSeeds::<T>::remove(clock.epoch.saturating_sub(2));
			T::WeightInfo::on_initialize_epoch()
		} else if !EpochSeeds::<T>::contains_key(clock.epoch) {
			// The first block after genesis: epoch 0 gets its seed.
			EpochSeeds::<T>::insert(clock.epoch, Self::random(SEED_SUBJECT));
			T::WeightInfo::on_initialize_epoch()
		} else {
			T::DbWeight::get().reads(3)
		}
	}

	/// Puts `task` on the agenda of block `at`, or of the next block if `at` is not in the
	/// future (a task is never put where the cursor has passed). Returns the block used.
	pub(crate) fn schedule(at: BlockNumberFor<T>, task: AgendaTask) -> BlockNumberFor<T> {
		let next = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
		let at = at.max(next);
		if !Agenda::<T>::contains_key(at, task) {
			Agenda::<T>::insert(at, task, ());
			AgendaCount::<T>::mutate(|count| {
				if *count == 0 {
					// The agenda was empty: the cursor may be far behind; nothing lies between
					// it and the next block.
					AgendaCursor::<T>::put(next);
				}
				*count = count.saturating_add(1);
			});
		}
		at
	}

	/// Takes `task` off the agenda of block `at`, if it is there.
	pub(crate) fn unschedule(at: BlockNumberFor<T>, task: AgendaTask) {
		if Agenda::<T>::take(at, task).is_some() {
			AgendaCount::<T>::mutate(|count| *count = count.saturating_sub(1));
		}
	}

	/// Does the tasks due by `now`, oldest block first, at most `MaxTasksPerBlock` and no task
	/// started once `AgendaWeight` is spent (empty blocks count as steps too, so the loop is
	/// bounded whatever the cursor's lag; with nothing on the agenda nothing is read further and
	/// nothing written: [`Pallet::schedule`] moves the cursor when the first task comes).
	/// A task left over is done in a later block, never dropped.
	pub(crate) fn run_agenda(now: BlockNumberFor<T>) -> Weight {
		if AgendaCount::<T>::get() == 0 {
			return T::DbWeight::get().reads(1);
		}
		let mut weight = T::DbWeight::get().reads_writes(2, 1);
		let budget = T::MaxTasksPerBlock::get();
		let mut cursor = AgendaCursor::<T>::get();
		let mut done = 0u32;
		let mut steps = 0u32;
		let limit = T::AgendaWeight::get();
		while cursor <= now && done < budget && steps < budget {
			steps.saturating_inc();
			let remaining = dsync_primitives::convert::u32_to_usize(budget.saturating_sub(done));
			let tasks: Vec<AgendaTask> =
				Agenda::<T>::iter_key_prefix(cursor).take(remaining).collect();
			let mut exhausted = tasks.len() < remaining;
			weight.saturating_accrue(T::DbWeight::get().reads(1));
			for task in tasks {
				if done > 0 && weight.any_gte(limit) {
					// The weight is spent: this task and the rest of the block's wait.
					exhausted = false;
					break;
				}
				Self::unschedule(cursor, task);
				weight.saturating_accrue(Self::run_task(task, cursor, now));
				done.saturating_inc();
			}
			if !exhausted {
				break;
			}
			cursor.saturating_inc();
		}
		AgendaCursor::<T>::put(cursor);
		weight
	}

	/// Does one task, scheduled for block `at`; a task whose subject changed since it was
	/// scheduled does nothing.
	fn run_task(task: AgendaTask, at: BlockNumberFor<T>, now: BlockNumberFor<T>) -> Weight {
		match task {
			AgendaTask::Draw(order) => Self::draw_order(order, at, now),
			AgendaTask::OfferExpiry(order, slot) => Self::expire_offer(order, slot, now),
			AgendaTask::ProofDue(order, slot, epoch) => Self::proof_due(order, slot, epoch),
		}
	}
}
