//! Challenges on a job of several items (a minority result against the majority, or one result
//! against the other in a dispute between two): the two sides walk down their Merkle trees to
//! an item where they differ, which `resolve_by_execution` then re-executes (see
//! [`Challenge`]).

use crate::{
	challenge_rounds, challenge_slice, Challenge, Challenges, Config, Error, Event, Expiries, Job,
	JobId, JobStatus, JobVerdicts, Jobs, MaxChallengeNodes, Pallet, Params, ProviderSource,
	Verdicts, INPUT_UNAVAILABLE,
};
use alloc::vec::Vec;
use dsync_aivm_core::{batch_merkle_root, merkle_height};
use dsync_primitives::convert::{u32_to_usize, usize_to_u32};
use frame_support::{ensure, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{traits::Saturating, DispatchResult};

impl<T: Config> Pallet<T> {
	/// Open a challenge on job `id` by the revealed result `result`: against the majority result
	/// while it is payable, otherwise against the leading other payable result (most reveals,
	/// then the lowest hash), so that a dispute among any number of results is decided by a
	/// tournament of walks, each ending with a result stalled, forfeited or proven wrong.
	pub(crate) fn do_challenge(who: T::AccountId, id: JobId, result: H256) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.items > 1, Error::<T>::OneItemJob);
		let now = frame_system::Pallet::<T>::block_number();
		let closed = if job.status == JobStatus::Challenged {
			// A challenge whose round ended undecided gives way, so a stalled challenge cannot
			// shield the defender from another result's challenge.
			let current = Challenges::<T>::get(id).ok_or(Error::<T>::ChallengeInProgress)?;
			ensure!(now >= current.round_end, Error::<T>::ChallengeInProgress);
			Some(Self::close_challenge(id, &mut job, now))
		} else {
			None
		};
		ensure!(
			matches!(job.status, JobStatus::Concluded | JobStatus::Disputed),
			Error::<T>::NotChallengeable
		);
		ensure!(now < job.dispute_end, Error::<T>::DisputeClosed);
		let results = job.distinct_results();
		ensure!(results.contains(&result), Error::<T>::NotAMinorityResult);
		ensure!(result != INPUT_UNAVAILABLE, Error::<T>::InputUnavailableVote);
		// Only a provider of `result` speaks for it: a walk its providers miss stalls it for
		// good, so nobody else (a colluding majority waiting for the honest minority's worker
		// to be offline) may open one.
		let backers = || job.providers.iter().filter(move |slot| slot.result == Some(result));
		if !backers().any(|slot| slot.who == who) {
			let owner = T::Providers::owner_of_key(&who);
			ensure!(
				backers().any(|slot| Some(&slot.who) == owner.as_ref()),
				Error::<T>::NotAProviderOfResult
			);
		}
		let period = Params::<T>::get().reveal_period;
		let rounds = challenge_rounds(job.items);
		let verdicts = closed.unwrap_or_else(|| Self::verdicts_of(id, &job));
		let standing = verdicts.of(result);
		ensure!(standing.payable(), Error::<T>::ResultEliminated);
		ensure!(!standing.stalled, Error::<T>::ResultStalled);
		let defender = match job.payable_majority(&verdicts) {
			Some(majority) => {
				ensure!(result != majority, Error::<T>::NotAMinorityResult);
				ensure!(majority != INPUT_UNAVAILABLE, Error::<T>::InputUnavailableVote);
				majority
			},
			None => {
				let votes =
					|r: &H256| job.providers.iter().filter(|s| s.result == Some(*r)).count();
				results
					.iter()
					.filter(|other| {
						**other != result
							&& **other != INPUT_UNAVAILABLE
							&& verdicts.payable(**other)
					})
					.max_by(|a, b| votes(a).cmp(&votes(b)).then_with(|| b.cmp(a)))
					.copied()
					.ok_or(Error::<T>::NotChallengeable)?
			},
		};

		let round_end = now.saturating_add(period.into());
		let end = now.saturating_add(period.saturating_mul(rounds).into());
		ensure!(end <= verdicts.latest_end, Error::<T>::ChallengeWindowExhausted);
		if end > job.dispute_end {
			// The old entry stays; the job is no longer due then.
			Expiries::<T>::try_mutate(end, |queue| queue.try_push(id))
				.map_err(|_| Error::<T>::ExpiryQueueFull)?;
			job.dispute_end = end;
		}
		JobVerdicts::<T>::insert(id, verdicts);
		let dispute_end = job.dispute_end;
		Challenges::<T>::insert(
			id,
			Challenge {
				by: who.clone(),
				result,
				defender,
				level: merkle_height(u32_to_usize(job.items)),
				position: 0,
				result_node: result,
				defender_node: defender,
				result_nodes: None,
				defender_nodes: None,
				round_end,
				period,
			},
		);
		job.status = JobStatus::Challenged;
		Jobs::<T>::insert(id, job);
		Self::deposit_event(Event::ChallengeOpened {
			job: id,
			result,
			defender,
			by: who,
			round_end,
			dispute_end,
		});
		Ok(())
	}

	/// Take `result`'s side's nodes for the current round of job `id`'s challenge; once both
	/// sides answered, move to the first node where they differ.
	pub(crate) fn do_reveal_nodes(
		id: JobId,
		result: H256,
		nodes: BoundedVec<H256, MaxChallengeNodes>,
	) -> DispatchResult {
		let job = Jobs::<T>::get(id).ok_or(Error::<T>::UnknownJob)?;
		let mut challenge = Challenges::<T>::get(id).ok_or(Error::<T>::NoChallenge)?;
		let majority_side = if result == challenge.defender {
			true
		} else {
			ensure!(result == challenge.result, Error::<T>::NotInChallenge);
			false
		};
		let (child_level, first, count) =
			challenge_slice(job.items, challenge.level, challenge.position)
				.ok_or(Error::<T>::ChallengeAtItem)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < challenge.round_end, Error::<T>::ChallengeRoundClosed);
		let (node, answer) = if majority_side {
			(challenge.defender_node, &mut challenge.defender_nodes)
		} else {
			(challenge.result_node, &mut challenge.result_nodes)
		};
		ensure!(answer.is_none(), Error::<T>::AlreadyAnswered);
		let hashes: Vec<[u8; 32]> = nodes.iter().map(|node| node.0).collect();
		ensure!(
			nodes.len() == u32_to_usize(count) && batch_merkle_root(&hashes) == node.0,
			Error::<T>::InvalidNodes
		);
		*answer = Some(nodes);
		Self::deposit_event(Event::ChallengeAnswered { job: id, result, level: challenge.level });

		if let (Some(mine), Some(theirs)) = (&challenge.result_nodes, &challenge.defender_nodes) {
			// Both hash to different nodes with the same rule, so some pair differs.
			let (offset, (result_node, defender_node)) = mine
				.iter()
				.zip(theirs.iter())
				.enumerate()
				.find(|(_, (a, b))| a != b)
				.ok_or(Error::<T>::InvalidNodes)?;
			challenge.level = child_level;
			challenge.position = first.saturating_add(usize_to_u32(offset));
			challenge.result_node = *result_node;
			challenge.defender_node = *defender_node;
			challenge.result_nodes = None;
			challenge.defender_nodes = None;
			challenge.round_end = challenge.round_end.saturating_add(challenge.period.into());
			Self::deposit_event(Event::ChallengeNarrowed {
				job: id,
				level: challenge.level,
				position: challenge.position,
				round_end: challenge.round_end,
			});
		}
		Challenges::<T>::insert(id, challenge);
		Ok(())
	}

	/// Close job `id`'s challenge, whose round ended at `now` undecided: the defending side
	/// that missed a round the challenger answered forfeits (its result is not paid, its
	/// providers are penalised `Unanswered` when the job ends: a missed round is not proof of a
	/// wrong result); otherwise the challenger's side stalled (it missed a round, or nobody
	/// re-executed the item found) and its result can never open another challenge. The job
	/// goes back to `Concluded` (a payable majority) or `Disputed`, in `job` (the caller
	/// stores it). Returns the job's verdicts, as stored.
	pub(crate) fn close_challenge(
		id: JobId,
		job: &mut Job<T>,
		now: BlockNumberFor<T>,
	) -> Verdicts<T> {
		let mut verdicts = Self::verdicts_of(id, job);
		let Some(challenge) = Challenges::<T>::take(id) else { return verdicts };
		if Self::settle_closed(&challenge, job, &mut verdicts, now) {
			Self::deposit_event(Event::ChallengeAbandoned { job: id });
		} else {
			Self::deposit_event(Event::ChallengeForfeited { job: id, result: challenge.defender });
		}
		JobVerdicts::<T>::insert(id, &verdicts);
		verdicts
	}

	/// What closing `challenge` of `job`, its round ended at `now` undecided, establishes:
	/// the challenger's result stalled, or the defender's forfeited, in `verdicts`; the job's
	/// status after it in `job`. Writes nothing (the GPU worker asks it of a challenge not yet
	/// closed). Returns whether the challenger's side stalled.
	pub(crate) fn settle_closed(
		challenge: &Challenge<T::AccountId, BlockNumberFor<T>>,
		job: &mut Job<T>,
		verdicts: &mut Verdicts<T>,
		now: BlockNumberFor<T>,
	) -> bool {
		let stalled = challenge.challenger_stalled(now);
		if stalled {
			verdicts.update(challenge.result, |standing| standing.stalled = true);
		} else {
			verdicts.update(challenge.defender, |standing| standing.forfeited = true);
		}
		job.status = if job.payable_majority(verdicts).is_some() {
			JobStatus::Concluded
		} else {
			JobStatus::Disputed
		};
		stalled
	}

	/// What the disputes of job `id` established so far; before its first challenge or
	/// re-execution, nothing yet, with the bound [`Self::latest_end`] fixed from now on.
	pub(crate) fn verdicts_of(id: JobId, job: &Job<T>) -> Verdicts<T> {
		JobVerdicts::<T>::get(id).unwrap_or_else(|| Verdicts::until(Self::latest_end(job)))
	}

	/// The latest block the challenges of `job` may reach, fixed when its disputes start: every
	/// walk ends with a result stalled, forfeited or proven wrong, each at most once per result,
	/// so at most `3 × results` walks of at most [`challenge_rounds`] rounds of `reveal_period`
	/// follow its dispute end.
	pub(crate) fn latest_end(job: &Job<T>) -> BlockNumberFor<T> {
		let walks = usize_to_u32(job.distinct_results().len()).saturating_mul(3);
		let rounds = challenge_rounds(job.items);
		let span = walks.saturating_mul(rounds).saturating_mul(Params::<T>::get().reveal_period);
		job.dispute_end.saturating_add(span.into())
	}
}
