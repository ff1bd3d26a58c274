//! Challenges of a majority result on a job of several items: the two sides walk down their
//! Merkle trees to an item where they differ, which `resolve_by_execution` then re-executes
//! (see [`Challenge`]).

use crate::{
	challenge_rounds, challenge_slice, Challenge, Challenges, Config, Error, Event, Expiries, Job,
	JobId, JobStatus, Jobs, MaxChallengeNodes, Pallet, Params, PenaltyReason, RefundReason,
};
use alloc::vec::Vec;
use dsync_aivm_core::{batch_merkle_root, merkle_height};
use frame_support::{ensure, BoundedVec};
use sp_core::H256;
use sp_runtime::{traits::Saturating, DispatchResult};

impl<T: Config> Pallet<T> {
	/// Open a challenge of job `id`'s majority result by the minority result `result`.
	pub(crate) fn do_challenge(who: T::AccountId, id: JobId, result: H256) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(job.items > 1, Error::<T>::OneItemJob);
		ensure!(job.status != JobStatus::Challenged, Error::<T>::ChallengeInProgress);
		ensure!(job.status == JobStatus::Concluded, Error::<T>::NotChallengeable);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < job.dispute_end, Error::<T>::DisputeClosed);
		let majority = job.tally().majority.ok_or(Error::<T>::NotChallengeable)?;
		ensure!(
			result != majority && job.providers.iter().any(|slot| slot.result == Some(result)),
			Error::<T>::NotAMinorityResult
		);

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
				majority,
				level: merkle_height(crate::to_usize(job.items)),
				position: 0,
				result_node: result,
				majority_node: majority,
				result_nodes: None,
				majority_nodes: None,
				round_end,
				period,
			},
		);
		job.status = JobStatus::Challenged;
		Jobs::<T>::insert(id, job);
		Self::deposit_event(Event::ChallengeOpened {
			job: id,
			result,
			majority,
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
		let majority_side = if result == challenge.majority {
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
			(challenge.majority_node, &mut challenge.majority_nodes)
		} else {
			(challenge.result_node, &mut challenge.result_nodes)
		};
		ensure!(answer.is_none(), Error::<T>::AlreadyAnswered);
		let hashes: Vec<[u8; 32]> = nodes.iter().map(|node| node.0).collect();
		ensure!(
			nodes.len() == crate::to_usize(count) && batch_merkle_root(&hashes) == node.0,
			Error::<T>::InvalidNodes
		);
		*answer = Some(nodes);
		Self::deposit_event(Event::ChallengeAnswered { job: id, result, level: challenge.level });

		if let (Some(mine), Some(theirs)) = (&challenge.result_nodes, &challenge.majority_nodes) {
			// Both hash to different nodes with the same rule, so some pair differs.
			let (offset, (result_node, majority_node)) = mine
				.iter()
				.zip(theirs.iter())
				.enumerate()
				.find(|(_, (a, b))| a != b)
				.ok_or(Error::<T>::InvalidNodes)?;
			challenge.level = child_level;
			challenge.position = first.saturating_add(u32::try_from(offset).unwrap_or(u32::MAX));
			challenge.result_node = *result_node;
			challenge.majority_node = *majority_node;
			challenge.result_nodes = None;
			challenge.majority_nodes = None;
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
	/// side stopped answering): a majority that did not answer its round loses and the job is
	/// refunded; otherwise the challenge is abandoned and the majority paid.
	pub(crate) fn end_challenge(id: JobId, mut job: Job<T>) {
		let challenge = Challenges::<T>::take(id);
		job.status = JobStatus::Concluded;
		let unanswered = challenge.as_ref().is_some_and(|challenge| {
			challenge.level > 0
				&& challenge.result_nodes.is_some()
				&& challenge.majority_nodes.is_none()
		});
		if unanswered {
			Self::refund(id, job, RefundReason::ChallengeUnanswered);
			return;
		}
		Self::deposit_event(Event::ChallengeAbandoned { job: id });
		match job.tally().majority {
			Some(majority) => Self::pay_out(id, job, majority, PenaltyReason::Dissent),
			// A challenged job always has a majority (`try_state`).
			None => Self::refund(id, job, RefundReason::DisputeUnresolved),
		}
	}
}
