//! Re-execution of one item on chain: it resolves a disputed job, challenges a majority result
//! during the challenge window, or decides a challenge that found its item.

use crate::{
	input_leaf, BatchItem, Challenges, Config, Error, Event, JobId, JobInput, JobStatus,
	JobVerdicts, Jobs, ModelCode, Models, Pallet, ResultClaim, INPUT_UNAVAILABLE,
};
use alloc::{vec, vec::Vec};
use dsync_aivm_core::{result_hash, verify_merkle_proof, Model};
use dsync_primitives::convert::u32_to_usize;
use frame_support::{ensure, BoundedVec};
use sp_core::H256;
use sp_runtime::DispatchResult;

/// The siblings of a proof as the core's verifier takes them.
fn siblings(proof: &[H256]) -> Vec<[u8; 32]> {
	proof.iter().map(|node| node.0).collect()
}

impl<T: Config> Pallet<T> {
	/// Re-execute item `index` of job `id` (disputed, with a majority result in its challenge
	/// window, or challenged and narrowed to this item) and settle or refund it.
	pub(crate) fn do_resolve_by_execution(
		who: T::AccountId,
		id: JobId,
		index: u32,
		batch_item: Option<BatchItem>,
		claims: BoundedVec<ResultClaim, T::MaxReplication>,
	) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::UnknownJob)?;
		let now = frame_system::Pallet::<T>::block_number();
		// A challenge's item: the two sides' leaves are on chain.
		let mut challenge = None;
		if job.status == JobStatus::Challenged {
			let current = Challenges::<T>::get(id).ok_or(Error::<T>::NoChallenge)?;
			if now >= current.round_end {
				// A challenge whose round ended undecided is closed first (its side that missed
				// the round stalls or forfeits), so the last walk's forfeit counts and the
				// result left standing can be confirmed here at once; the job is then
				// re-executed as the concluded or disputed job it is again.
				Self::close_challenge(id, &mut job, now);
			} else {
				ensure!(current.level == 0, Error::<T>::ChallengeNotAtItem);
				ensure!(index == current.position, Error::<T>::InvalidItemIndex);
				ensure!(claims.is_empty(), Error::<T>::UnexpectedClaim);
				challenge = Some(current);
			}
		}
		let tally = job.tally();
		// The majority result a re-execution challenges (`None`: a dispute without one). A job
		// whose deadline passed unhandled is taken as it would conclude.
		let majority = match job.status {
			JobStatus::Disputed => None,
			JobStatus::Concluded | JobStatus::Challenged => tally.majority,
			JobStatus::Open | JobStatus::Revealing => {
				ensure!(now >= job.deadline && tally.reveals > 0, Error::<T>::NotChallengeable);
				tally.majority
			},
			JobStatus::Drawing { .. } => return Err(Error::<T>::NotChallengeable.into()),
		};
		ensure!(now < job.dispute_end, Error::<T>::DisputeClosed);
		ensure!(index < job.items, Error::<T>::InvalidItemIndex);
		let record = Models::<T>::get(job.model).ok_or(Error::<T>::UnknownModel)?;
		let input_len = u32_to_usize(record.input_len);
		let position = u32_to_usize(index);
		let count = u32_to_usize(job.items);

		// The item's input: from storage, or proven against the batch's inputs hash.
		let input: Vec<i8> = match &job.input {
			JobInput::Inline(data) => data
				.chunks_exact(input_len.max(1))
				.nth(position)
				.ok_or(Error::<T>::InvalidItemIndex)?
				.to_vec(),
			JobInput::Batch { inputs_hash, .. } => {
				let item = batch_item.ok_or(Error::<T>::MissingBatchItem)?;
				ensure!(item.input.len() == input_len, Error::<T>::InvalidItemInput);
				let leaf = input_leaf(&item.input);
				ensure!(
					verify_merkle_proof(
						&inputs_hash.0,
						&leaf,
						position,
						count,
						&siblings(&item.proof)
					),
					Error::<T>::InvalidInputProof
				);
				item.input.into_inner()
			},
		};

		// Each distinct revealed result's leaf at the item; a result the disputes already
		// eliminated (proven wrong, or forfeited a walk) is judged and needs none, so the last
		// result standing can be confirmed by whoever holds its leaves alone.
		let mut verdicts = Self::verdicts_of(id, &job);
		let roots: Vec<H256> = job
			.distinct_results()
			.into_iter()
			.filter(|root| challenge.is_some() || job.items == 1 || verdicts.payable(*root))
			.collect();
		let leaves: Vec<(H256, H256)> = if let Some(challenge) = &challenge {
			vec![
				(challenge.result, challenge.result_node),
				(challenge.defender, challenge.defender_node),
			]
		} else if job.items == 1 {
			// A one-item result is its own leaf.
			roots.iter().map(|root| (*root, *root)).collect()
		} else {
			let mut seen: Vec<H256> = Vec::new();
			for claim in claims.iter() {
				ensure!(
					roots.contains(&claim.root)
						&& claim.root != INPUT_UNAVAILABLE
						&& !seen.contains(&claim.root),
					Error::<T>::UnexpectedClaim
				);
				seen.push(claim.root);
			}
			let mut leaves = Vec::new();
			for root in roots.iter() {
				if *root == INPUT_UNAVAILABLE {
					// The vote has no leaves: the item's input, proven above, shows the input
					// was available, so the vote is compared as a leaf nothing matches.
					leaves.push((*root, *root));
					continue;
				}
				let claim = claims
					.iter()
					.find(|claim| claim.root == *root)
					.ok_or(Error::<T>::MissingClaim)?;
				ensure!(
					verify_merkle_proof(
						&root.0,
						&claim.leaf.0,
						position,
						count,
						&siblings(&claim.proof)
					),
					Error::<T>::InvalidClaimProof
				);
				leaves.push((*root, claim.leaf));
			}
			leaves
		};

		// The re-execution.
		let code = ModelCode::<T>::get(job.model).ok_or(Error::<T>::UnknownModel)?;
		let model = Model::parse(&code).map_err(|_| Error::<T>::InvalidModel)?;
		let outputs = model.evaluate(&input).map_err(|_| Error::<T>::InvalidItemInput)?;
		let expected = H256(result_hash(&outputs));

		let matching: Vec<H256> = leaves
			.iter()
			.filter(|(_, leaf)| *leaf == expected)
			.map(|(root, _)| *root)
			.collect();
		ensure!(matching.len() <= 1, Error::<T>::ItemNotDecisive);
		if let (Some(majority), None) = (majority, challenge.as_ref()) {
			// A direct challenge failed: the majority result is right at this item.
			ensure!(!matching.contains(&majority), Error::<T>::MajorityConfirmed);
		}

		// What the item proved: the matching result is confirmed, every other result compared
		// with it is wrong. Only results compared here are judged.
		let mut proven_wrong = Vec::new();
		for (root, _) in leaves.iter() {
			if matching.contains(root) {
				verdicts.update(*root, |standing| standing.confirmed = true);
			} else {
				verdicts.update(*root, |standing| standing.proven_wrong = true);
				proven_wrong.push(*root);
			}
		}
		JobVerdicts::<T>::insert(id, &verdicts);
		Self::deposit_event(Event::DisputeResolved { job: id, item: index, expected, by: who });
		if challenge.is_some() {
			Challenges::<T>::remove(id);
			Self::deposit_event(Event::ChallengeDecided {
				job: id,
				confirmed: matching.first().copied(),
				proven_wrong,
			});
		}
		Self::decide(id, job, &verdicts);
		Ok(())
	}
}
