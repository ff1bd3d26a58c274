//! How jobs end: majority settlement, expiry, dispute, refund; and the expiry queue processed
//! in `on_initialize`.

use crate::{
	BalanceOf, Challenges, Config, Error, Event, Expiries, ExpiryCursor, HoldReason, Job, JobId,
	JobStatus, Jobs, Models, OpenEscrow, OpenJobCount, Pallet, PenaltyReason, ProviderJobs,
	ProviderSource, RefundReason, ServiceKind, ServicePayment, UsageRecorder, WeightInfo,
	LOG_TARGET,
};
use alloc::vec::Vec;
use dsync_primitives::{
	convert::{u32_to_usize, usize_to_u32},
	traits::PaymentSplit,
};
use frame_support::{
	ensure,
	storage::with_storage_layer,
	traits::{fungible::MutateHold, tokens::Precision, Get},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	traits::{One, Saturating, Zero},
	DispatchError, DispatchResult,
};

impl<T: Config> Pallet<T> {
	/// No more results can come for job `id` (all revealed, or its deadline passed): a majority
	/// result waits out the challenge window (paid at `dispute_end`), a job without reveals
	/// expires, one without a majority is disputed.
	pub(crate) fn conclude(id: JobId, mut job: Job<T>) {
		let tally = job.tally();
		let dispute_end = job.dispute_end;
		if let Some(result) = tally.majority {
			job.status = JobStatus::Concluded;
			Jobs::<T>::insert(id, job);
			Self::deposit_event(Event::JobConcluded { job: id, result, payable_at: dispute_end });
		} else if tally.reveals == 0 {
			Self::expire(id, job);
		} else {
			job.status = JobStatus::Disputed;
			Jobs::<T>::insert(id, job);
			Self::deposit_event(Event::JobDisputed { job: id, dispute_end });
		}
	}

	/// Whether job `job` is due at block `now`: past its dispute end, or past its deadline and
	/// still taking results (neither disputed nor concluded).
	pub(crate) fn is_due(job: &Job<T>, now: BlockNumberFor<T>) -> bool {
		now >= job.dispute_end
			|| (now >= job.deadline && matches!(job.status, JobStatus::Open | JobStatus::Revealing))
	}

	/// End or advance the due job `id` at block `now`: at its deadline it concludes; at its
	/// dispute end a majority result is paid and a dispute (or a job whose deadline went
	/// unhandled and has no majority) is refunded. Nothing happens to a job that is not due or
	/// no longer exists.
	pub(crate) fn handle_due(id: JobId, now: BlockNumberFor<T>) {
		let Some(job) = Jobs::<T>::get(id) else { return };
		if !Self::is_due(&job, now) {
			return;
		}
		if now < job.dispute_end {
			Self::conclude(id, job);
			return;
		}
		if job.status == JobStatus::Challenged {
			Self::end_challenge(id, job);
			return;
		}
		let tally = job.tally();
		match tally.majority {
			Some(result) if job.status != JobStatus::Disputed => {
				Self::pay_out(id, job, result, PenaltyReason::Dissent)
			},
			_ if tally.reveals == 0 => Self::expire(id, job),
			_ => Self::refund(id, job, RefundReason::DisputeUnresolved),
		}
	}

	/// Settle a due job on request.
	pub(crate) fn do_settle(id: JobId) -> DispatchResult {
		let job = Jobs::<T>::get(id).ok_or(Error::<T>::UnknownJob)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(Self::is_due(&job, now), Error::<T>::JobNotDue);
		Self::handle_due(id, now);
		Ok(())
	}

	/// Pay every provider that revealed `result` its price, penalise those that revealed
	/// another result for `loser` and those that revealed nothing for `NoShow`, release the
	/// rest of the escrow to the client and end the job.
	pub(crate) fn pay_out(id: JobId, job: Job<T>, result: H256, loser: PenaltyReason) {
		let reason: T::RuntimeHoldReason = HoldReason::Escrow.into();
		let units_per_item = Models::<T>::get(job.model).map_or(1, |model| model.units_per_item);
		let units = u64::from(job.items).saturating_mul(u64::from(units_per_item));
		let mut paid = BalanceOf::<T>::zero();
		let mut burned = BalanceOf::<T>::zero();
		let mut winners = Vec::new();

		for slot in job.providers.iter() {
			match slot.result {
				Some(revealed) if revealed == result => {
					// Release and charge together, or neither.
					let payment = with_storage_layer(
						|| -> Result<PaymentSplit<BalanceOf<T>>, DispatchError> {
							T::Currency::release(
								&reason,
								&job.client,
								job.price,
								Precision::Exact,
							)?;
							T::Payment::charge(
								&job.client,
								Some(&slot.who),
								job.price,
								ServiceKind::GpuInference,
							)
						},
					);
					match payment {
						Ok(split) => {
							paid = paid.saturating_add(job.price);
							burned = burned.saturating_add(split.burned);
							winners.push(slot.who.clone());
							T::Usage::record_usage(
								&slot.who,
								&job.client,
								ServiceKind::GpuInference,
								units,
							);
						},
						Err(error) => {
							log::warn!(
								target: LOG_TARGET,
								"job {id}: paying {:?} failed: {error:?}",
								slot.who
							);
							Self::deposit_event(Event::ProviderPaymentFailed {
								job: id,
								provider: slot.who.clone(),
								amount: job.price,
							});
						},
					}
				},
				Some(_) => Self::penalise(id, &slot.who, loser),
				None => Self::penalise(id, &slot.who, PenaltyReason::NoShow),
			}
		}

		let refunded = Self::release_rest(id, &job, paid);
		Self::remove_job(id, &job);
		Self::deposit_event(Event::JobSettled { job: id, result, winners, paid, burned, refunded });
	}

	/// No result was revealed by the deadline: every provider is a no-show; refund in full.
	pub(crate) fn expire(id: JobId, job: Job<T>) {
		for slot in job.providers.iter() {
			Self::penalise(id, &slot.who, PenaltyReason::NoShow);
		}
		let refunded = Self::release_rest(id, &job, Zero::zero());
		Self::remove_job(id, &job);
		Self::deposit_event(Event::JobExpired { job: id, refunded });
	}

	/// Refund a job with revealed results but no winner in full. Providers that revealed
	/// nothing are no-shows; revealers are penalised `WrongResult` when a re-execution matched
	/// none of them (a defender that did not answer a challenge is penalised before).
	pub(crate) fn refund(id: JobId, job: Job<T>, reason: RefundReason) {
		for slot in job.providers.iter() {
			match (slot.result, reason) {
				(None, _) => Self::penalise(id, &slot.who, PenaltyReason::NoShow),
				(Some(_), RefundReason::NoMatchingResult) => {
					Self::penalise(id, &slot.who, PenaltyReason::WrongResult)
				},
				// The defender's providers were penalised by the challenge's end.
				(Some(_), RefundReason::ChallengeUnanswered | RefundReason::DisputeUnresolved) => {
				},
			}
		}
		let refunded = Self::release_rest(id, &job, Zero::zero());
		Self::remove_job(id, &job);
		Self::deposit_event(Event::JobRefunded { job: id, reason, refunded });
	}

	/// Penalise `provider` of job `id` for `reason`.
	pub(crate) fn penalise(id: JobId, provider: &T::AccountId, reason: PenaltyReason) {
		T::Providers::penalise(provider, reason);
		Self::deposit_event(Event::ProviderPenalised {
			job: id,
			provider: provider.clone(),
			reason,
		});
	}

	/// Release what is left of the job's escrow after `paid` to the client; returns the amount
	/// released.
	fn release_rest(id: JobId, job: &Job<T>, paid: BalanceOf<T>) -> BalanceOf<T> {
		let rest = job.escrow().saturating_sub(paid);
		if rest.is_zero() {
			return rest;
		}
		let reason: T::RuntimeHoldReason = HoldReason::Escrow.into();
		match T::Currency::release(&reason, &job.client, rest, Precision::BestEffort) {
			Ok(released) => {
				if released != rest {
					frame_support::defensive!("job escrow release fell short", id);
				}
				released
			},
			Err(error) => {
				frame_support::defensive!("job escrow release failed", error);
				Zero::zero()
			},
		}
	}

	/// Remove an ended job from storage and from the open totals.
	fn remove_job(id: JobId, job: &Job<T>) {
		Jobs::<T>::remove(id);
		Challenges::<T>::remove(id);
		for slot in job.providers.iter() {
			ProviderJobs::<T>::remove(&slot.who, id);
		}
		OpenJobCount::<T>::mutate(|count| *count = count.saturating_sub(1));
		OpenEscrow::<T>::mutate(|total| *total = total.saturating_sub(job.escrow()));
	}

	/// Handle due expiry entries from the cursor on, at most `MaxJobsPerBlockSettled` entries
	/// (a job, or a block passed over) in this block. Returns the weight used.
	pub(crate) fn process_expiries(now: BlockNumberFor<T>) -> Weight {
		let mut cursor = ExpiryCursor::<T>::get().unwrap_or(now);
		let mut budget = T::MaxJobsPerBlockSettled::get();
		let mut steps = 0u32;
		while cursor <= now && budget > 0 {
			let queue = Expiries::<T>::take(cursor);
			let take = queue.len().min(u32_to_usize(budget));
			for id in queue.iter().take(take) {
				Self::handle_due(*id, now);
			}
			let handled = usize_to_u32(take);
			if take < queue.len() {
				// The budget ran out in this block's queue: keep the rest for the next block.
				let rest: Vec<JobId> = queue.into_iter().skip(take).collect();
				Expiries::<T>::insert(cursor, BoundedVec::truncate_from(rest));
				steps = steps.saturating_add(handled);
				budget = 0;
			} else {
				// A block passed over counts as one step, a job as one step each.
				let cost = handled.max(1);
				steps = steps.saturating_add(cost);
				budget = budget.saturating_sub(cost);
				cursor = cursor.saturating_add(One::one());
			}
		}
		ExpiryCursor::<T>::put(cursor);
		T::WeightInfo::on_initialize_expire(steps)
	}
}
