//! Challenges on a job of several items (a minority result against the majority, or one result
//! against the other in a dispute between two): the two sides walk down their Merkle trees to
//! an item where they differ, which `resolve_by_execution` then re-executes (see
//! [`Challenge`]).

use crate::{
	challenge_rounds, challenge_slice, Challenge, Challenges, Config, Error, Event, Expiries, Job,
	JobId, JobStatus, Jobs, MaxChallengeNodes, Pallet, Params, PenaltyReason, RefundReason,
};
use alloc::vec::Vec;
use dsync_aivm_core::{batch_merkle_root, merkle_height};
use dsync_primitives::convert::{u32_to_usize, usize_to_u32};
use frame_support::{ensure, BoundedVec};
use sp_core::H256;
use sp_runtime::{traits::Saturating, DispatchResult};

impl<T: Config> Pallet<T> {
	/// Open a challenge on job `id` by the revealed result `result`: against the majority result,
	/// or in a dispute between two results against the other one.
	pub(crate) fn do_challenge(who: T::AccountId, id: JobId, result: H256) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.items > 1, Error::<T>::OneItemJob);
		let now = frame_system::Pallet::<T>::block_number();
		if job.status == JobStatus::Challenged {
			// A challenge whose challenger stalled gives way, so a stalled challenge cannot
			// shield the defender from another result's challenge.
			let current = Challenges::<T>::get(id).ok_or(Error::<T>::ChallengeInProgress)?;
			ensure!(current.challenger_stalled(now), Error::<T>::ChallengeInProgress);
			Challenges::<T>::remove(id);
			job.status = if job.tally().majority.is_some() {
				JobStatus::Concluded
			} else {
				JobStatus::Disputed
			};
			Self::deposit_event(Event::ChallengeAbandoned { job: id });
		}
		ensure!(
			matches!(job.status, JobStatus::Concluded | JobStatus::Disputed),
			Error::<T>::NotChallengeable
		);
		ensure!(now < job.dispute_end, Error::<T>::DisputeClosed);
		let results = job.distinct_results();
		ensure!(results.contains(&result), Error::<T>::NotAMinorityResult);
		// The majority result defends; in a dispute between two results, the other one.
		let defender = match job.tally().majority {
			Some(majority) => {
				ensure!(result != majority, Error::<T>::NotAMinorityResult);
				majority
			},
			None => {
				ensure!(results.len() == 2, Error::<T>::NotChallengeable);
				results
					.into_iter()
					.find(|other| *other != result)
					.ok_or(Error::<T>::NotAMinorityResult)?
			},
		};

		let period = Params::<T>::get().reveal_period;
		let round_end = now.saturating_add(period.into());
		let end = now.saturating_add(period.saturating_mul(challenge_rounds(job.items)).into());
		if end > job.dispute_end {
			// The old entry stays; the job is no longer due then.
			Expiries::<T>::try_mutate(end, |queue| queue.try_push(id))
				.map_err(|_| Error::<T>::ExpiryQueueFull)?;
			job.dispute_end = end;
		}
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

	/// End job `id`'s challenge at its dispute end (nobody re-executed the item in time, or a
	/// side stopped answering): a defender that did not answer its round loses, its providers
	/// penalised, and the job is refunded; otherwise the challenge is abandoned: a majority is
	/// paid, a dispute refunded unresolved.
	pub(crate) fn end_challenge(id: JobId, mut job: Job<T>) {
		let challenge = Challenges::<T>::take(id);
		let majority = job.tally().majority;
		job.status = if majority.is_some() { JobStatus::Concluded } else { JobStatus::Disputed };
		let forfeited = challenge.as_ref().and_then(|challenge| {
			let unanswered = challenge.level > 0
				&& challenge.result_nodes.is_some()
				&& challenge.defender_nodes.is_none();
			unanswered.then_some(challenge.defender)
		});
		if let Some(defender) = forfeited {
			for slot in job.providers.iter().filter(|slot| slot.result == Some(defender)) {
				Self::penalise(id, &slot.who, PenaltyReason::WrongResult);
			}
			Self::refund(id, job, RefundReason::ChallengeUnanswered);
			return;
		}
		Self::deposit_event(Event::ChallengeAbandoned { job: id });
		match majority {
			Some(majority) => Self::pay_out(id, job, majority, PenaltyReason::Dissent),
			None => Self::refund(id, job, RefundReason::DisputeUnresolved),
		}
	}
}
