//! How jobs end: majority settlement, expiry, dispute, refund; and the expiry queue processed
//! in `on_initialize`.

use crate::{
	BalanceOf, Challenges, Config, Error, Event, Expiries, ExpiryCursor, HoldReason, Job, JobId,
	JobStatus, JobVerdicts, Jobs, Models, OpenEscrow, OpenJobCount, Pallet, Params, PenaltyReason,
	ProviderJobs, ProviderSource, RefundReason, ServiceKind, ServicePayment, UsageRecorder,
	Verdicts, WeightInfo, INPUT_UNAVAILABLE, LOG_TARGET,
};
use alloc::vec::Vec;
use dsync_primitives::{
	convert::{u32_to_usize, usize_to_u32},
	traits::UsageProof,
};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, tokens::Precision, Get},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	traits::{One, Saturating, Zero},
	DispatchResult, SaturatedConversion,
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
		let Some(mut job) = Jobs::<T>::get(id) else { return };
		if !Self::is_due(&job, now) {
			return;
		}
		if now < job.dispute_end {
			Self::conclude(id, job);
			return;
		}
		let verdicts = if job.status == JobStatus::Challenged {
			Self::close_challenge(id, &mut job, now)
		} else {
			JobVerdicts::<T>::get(id).unwrap_or_default()
		};
		Self::finish(id, job, &verdicts);
	}

	/// End job `id` at its dispute end by what its disputes established (`verdicts`): a job
	/// without reveals expires; otherwise [`Outcome::of`] at the end (paid, or refunded).
	pub(crate) fn finish(id: JobId, job: Job<T>, verdicts: &Verdicts<T>) {
		if job.tally().reveals == 0 {
			return Self::expire(id, job);
		}
		let outcome = Outcome::of(&job, verdicts, true);
		Self::apply(id, job, outcome, verdicts);
	}

	/// After a re-execution changed what is known about job `id`'s results (`verdicts`): end it
	/// at once when nothing can change its outcome any more, otherwise let it wait for its
	/// dispute end while other results may still challenge ([`Outcome::of`] before the end).
	pub(crate) fn decide(id: JobId, job: Job<T>, verdicts: &Verdicts<T>) {
		let outcome = Outcome::of(&job, verdicts, false);
		Self::apply(id, job, outcome, verdicts);
	}

	/// Carry out `outcome` for job `id`.
	fn apply(id: JobId, mut job: Job<T>, outcome: Outcome, verdicts: &Verdicts<T>) {
		match outcome {
			Outcome::Pay(result) => Self::pay_out(id, job, result, verdicts),
			Outcome::InputUnavailable => Self::input_unavailable(id, job, verdicts),
			Outcome::Refund(reason) => Self::refund(id, job, reason, verdicts),
			Outcome::Wait(status) => {
				job.status = status;
				Jobs::<T>::insert(id, job);
			},
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

	/// Pay every provider that revealed `result` its price from the client's escrow, penalise
	/// the others ([`Self::penalty`]), release the rest of the escrow to the client and end the
	/// job.
	pub(crate) fn pay_out(id: JobId, job: Job<T>, result: H256, verdicts: &Verdicts<T>) {
		let reason: T::RuntimeHoldReason = HoldReason::Escrow.into();
		let units_per_item = Models::<T>::get(job.model).map_or(1, |model| model.units_per_item);
		let units = u64::from(job.items).saturating_mul(u64::from(units_per_item));
		let mut paid = BalanceOf::<T>::zero();
		let mut burned = BalanceOf::<T>::zero();
		let mut winners = Vec::new();
		// Whether the paid result was checked independently of each of its providers
		// (`UsageProof::verified`): at least two of `k >= 2` independently drawn providers
		// revealed it, or an on-chain re-execution confirmed it. A job of one provider, which a
		// client may post to its own node, is checked by nobody: its usage does not weigh into
		// Proof-of-Sync rewards.
		let backers = job.providers.iter().filter(|slot| slot.result == Some(result)).count();
		let verified = (job.k() >= 2 && backers >= 2) || verdicts.of(result).confirmed;

		for slot in job.providers.iter() {
			match slot.result {
				Some(revealed) if revealed == result => {
					// Charged from the escrow itself: nothing the client does with its free
					// balance (a lock, a vote) can stop the payment.
					let payment = T::Payment::charge_held(
						&reason,
						&job.client,
						Some(&slot.who),
						job.price,
						ServiceKind::GpuInference,
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
								UsageProof { verified, burned: split.burned.saturated_into() },
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
				revealed => {
					if let Some(penalty) = Self::penalty(revealed, true, verdicts) {
						Self::penalise(id, &slot.who, penalty);
					}
				},
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

	/// End job `id`, whose majority voted its batch input unavailable ([`INPUT_UNAVAILABLE`]),
	/// at its dispute end: the client forfeits `unavailable_forfeit` of the price per voter,
	/// charged from the escrow without a provider (burned, the rest to the treasury); the rest
	/// is released. Voters and providers with an unproven result are not penalised, providers
	/// without a reveal are `NoShow`s ([`Self::penalty`]). A forfeit that cannot be charged is
	/// released with the rest.
	pub(crate) fn input_unavailable(id: JobId, job: Job<T>, verdicts: &Verdicts<T>) {
		let voters = job
			.providers
			.iter()
			.filter(|slot| slot.result == Some(INPUT_UNAVAILABLE))
			.count();
		let share = Params::<T>::get().unavailable_forfeit;
		// At most `k × price`, the escrow: `voters <= k`.
		let forfeit = share.mul_floor(job.price).saturating_mul(usize_to_u32(voters).into());
		let reason: T::RuntimeHoldReason = HoldReason::Escrow.into();
		let forfeited = if forfeit.is_zero() {
			Zero::zero()
		} else {
			match T::Payment::charge_held(
				&reason,
				&job.client,
				None,
				forfeit,
				ServiceKind::GpuInference,
			) {
				Ok(_) => forfeit,
				Err(error) => {
					log::warn!(target: LOG_TARGET, "job {id}: the forfeit failed: {error:?}");
					Zero::zero()
				},
			}
		};
		let refunded = Self::end_unpaid(id, &job, verdicts, forfeited);
		Self::deposit_event(Event::InputUnavailable { job: id, forfeited, refunded });
	}

	/// End job `id` without paying a result: penalise its providers by what is known of their
	/// results ([`Self::penalty`], nothing paid), release its escrow but the `charged` part and
	/// remove it. Returns what was released.
	fn end_unpaid(
		id: JobId,
		job: &Job<T>,
		verdicts: &Verdicts<T>,
		charged: BalanceOf<T>,
	) -> BalanceOf<T> {
		for slot in job.providers.iter() {
			if let Some(penalty) = Self::penalty(slot.result, false, verdicts) {
				Self::penalise(id, &slot.who, penalty);
			}
		}
		let refunded = Self::release_rest(id, job, charged);
		Self::remove_job(id, job);
		refunded
	}

	/// Refund a job with revealed results but no winner in full, penalising its providers by
	/// what is known of their results ([`Self::penalty`]).
	pub(crate) fn refund(id: JobId, job: Job<T>, reason: RefundReason, verdicts: &Verdicts<T>) {
		let refunded = Self::end_unpaid(id, &job, verdicts, Zero::zero());
		Self::deposit_event(Event::JobRefunded { job: id, reason, refunded });
	}

	/// The penalty, when a job ends, of a provider that revealed `revealed` (not the paid
	/// result): `NoShow` without a reveal; `WrongResult` only for a result a re-execution
	/// proved wrong; `Unanswered` for a result that did not defend its challenge; `Dissent` (a
	/// miss) for any other result when another one was `paid`; nothing for an unproven result
	/// of a refunded job (nobody showed it was wrong). The vote that the input was unavailable
	/// ([`INPUT_UNAVAILABLE`]) is a `Dissent` when a result was paid or a re-execution showed
	/// the input available, never a `WrongResult`: a provider's network can fail honestly.
	pub(crate) fn penalty(
		revealed: Option<H256>,
		paid: bool,
		verdicts: &Verdicts<T>,
	) -> Option<PenaltyReason> {
		let Some(result) = revealed else { return Some(PenaltyReason::NoShow) };
		let standing = verdicts.of(result);
		if result == INPUT_UNAVAILABLE {
			return (paid || standing.proven_wrong).then_some(PenaltyReason::Dissent);
		}
		if standing.proven_wrong {
			Some(PenaltyReason::WrongResult)
		} else if standing.forfeited {
			Some(PenaltyReason::Unanswered)
		} else {
			paid.then_some(PenaltyReason::Dissent)
		}
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
		JobVerdicts::<T>::remove(id);
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

/// What a job's results decide, by what its disputes established.
enum Outcome {
	/// Pay the providers of this result.
	Pay(H256),
	/// The majority voted the input unavailable: the client forfeits a share, nobody is paid.
	InputUnavailable,
	/// Keep the job open in this status (`Concluded` or `Disputed`).
	Wait(JobStatus),
	/// Refund the client.
	Refund(RefundReason),
}

impl Outcome {
	/// The outcome of `job` (with reveals) by `verdicts`, before its dispute end or `at_end`:
	///
	/// - a majority result neither proven wrong nor forfeited is paid at the end and waits
	///   (`Concluded`, open to other results' challenges) before; a majority vote that the input
	///   was unavailable ends the job with the client's forfeit instead;
	/// - without one, the only result still payable is paid if a re-execution confirmed it;
	/// - otherwise, before the end, the job waits as `Disputed` while some result is payable
	///   (the next walk may decide it); at the end, or with no payable result, it is refunded:
	///   `ChallengeUnanswered` when a defender forfeited, `NoMatchingResult` when every result
	///   was proven wrong, `DisputeUnresolved` when nobody proved which result is right.
	fn of<T: Config>(job: &Job<T>, verdicts: &Verdicts<T>, at_end: bool) -> Self {
		if let Some(majority) = job.payable_majority(verdicts) {
			return match (at_end, majority == INPUT_UNAVAILABLE) {
				(false, _) => Self::Wait(JobStatus::Concluded),
				(true, true) => Self::InputUnavailable,
				(true, false) => Self::Pay(majority),
			};
		}
		let live = job.payable_results(verdicts);
		match live.as_slice() {
			[only] if verdicts.of(*only).confirmed => Self::Pay(*only),
			[_, ..] if !at_end => Self::Wait(JobStatus::Disputed),
			_ if verdicts.standings.iter().any(|standing| standing.forfeited) => {
				Self::Refund(RefundReason::ChallengeUnanswered)
			},
			[] => Self::Refund(RefundReason::NoMatchingResult),
			_ => Self::Refund(RefundReason::DisputeUnresolved),
		}
	}
}
