//! The vote that a batch's input was unavailable ([`INPUT_UNAVAILABLE`]): a client whose URL
//! answers nothing (or wrong bytes) pays a forfeit instead of getting its providers penalised;
//! a false vote is disproved by re-executing one item, whose input is proven available.

use crate::{mock::*, *};
use dsync_aivm_core::{batch_merkle_root, batch_result_hashes, merkle_proof};
use frame_support::{assert_noop, assert_ok};
use sp_core::H256;
use sp_runtime::Perbill;

/// Three items of digits and their batch's inputs hash, true result and result leaves.
struct Batch {
	inputs: Vec<i8>,
	inputs_hash: H256,
	leaves: Vec<[u8; 32]>,
	truth: H256,
}

fn three_items() -> Batch {
	let inputs = digit_items(3, 21);
	let inputs_hash = inputs_root(&inputs, 64);
	let leaves = batch_result_hashes(&digit_outputs(&inputs), 10);
	let truth = H256(batch_merkle_root(&leaves));
	Batch { inputs, inputs_hash, leaves, truth }
}

/// Alice posts a batch job of `data` with `k` providers at 1_000 each.
fn post_batch(data: &Batch, k: u8) -> JobId {
	post(&ALICE, batch(3, data.inputs_hash, "https://data.example/gone.bin"), k, 1_000)
}

#[test]
fn a_client_whose_input_is_unavailable_forfeits_a_share_and_no_voter_is_penalised() {
	ExtBuilder::default().build_and_execute(|| {
		let data = three_items();
		let treasury_before = free(&TREASURY);
		let id = post_batch(&data, 3);
		let drawn = providers_of(id);
		// Two providers could not download the batch and vote so; the third sends nothing.
		play(id, &[(drawn[0].clone(), INPUT_UNAVAILABLE), (drawn[1].clone(), INPUT_UNAVAILABLE)]);
		run_to_block(Jobs::<Test>::get(id).unwrap().deadline);
		let job = Jobs::<Test>::get(id).expect("the job waits out its challenge window");
		assert_eq!(job.status, JobStatus::Concluded);
		run_to_dispute_end(id);

		// 10 % of the price per voter: 2 × 100, charged as a payment without a provider.
		let forfeit = 200;
		assert_eq!(
			last_event(),
			Event::InputUnavailable { job: id, forfeited: forfeit, refunded: 3_000 - forfeit }
		);
		assert_eq!(Jobs::<Test>::get(id), None);
		assert_eq!(held(&ALICE), 0);
		assert_eq!(free(&ALICE), CLIENT_BALANCE - forfeit);
		assert_eq!(
			free(&TREASURY) - treasury_before,
			treasury_share(forfeit) + provider_share(forfeit)
		);
		// Only the provider that sent nothing is penalised; nothing was delivered.
		assert_eq!(MockSource::penalties(), vec![(drawn[2].clone(), PenaltyReason::NoShow)]);
		assert!(MockSource::usage().is_empty());
		assert_eq!(OpenEscrow::<Test>::get(), 0);
	});
}

#[test]
fn a_forfeit_of_zero_or_one_that_cannot_be_charged_is_released() {
	ExtBuilder::default().build_and_execute(|| {
		let data = three_items();
		assert_ok!(GpuJobs::set_parameters(
			RuntimeOrigin::root(),
			GpuJobsParams { unavailable_forfeit: Perbill::zero(), ..test_params() }
		));
		let id = post_batch(&data, 1);
		play(id, &[(providers_of(id)[0].clone(), INPUT_UNAVAILABLE)]);
		run_to_dispute_end(id);
		assert_eq!(
			last_event(),
			Event::InputUnavailable { job: id, forfeited: 0, refunded: 1_000 }
		);

		assert_ok!(GpuJobs::set_parameters(RuntimeOrigin::root(), test_params()));
		let id = post_batch(&data, 1);
		play(id, &[(providers_of(id)[0].clone(), INPUT_UNAVAILABLE)]);
		PaymentFails::set(true);
		run_to_dispute_end(id);
		PaymentFails::set(false);
		assert_eq!(
			last_event(),
			Event::InputUnavailable { job: id, forfeited: 0, refunded: 1_000 }
		);
		assert_eq!(free(&ALICE), CLIENT_BALANCE);
		assert!(MockSource::penalties().is_empty());
	});
}

/// The lazy provider: one that votes "unavailable" to skip the work. Anyone (the client, or
/// here Bob) re-executes one item with its input proven against the batch's hash: the vote is disproved,
/// its provider takes a miss (not a slash: a network can fail honestly) and the client pays
/// nothing.
#[test]
fn a_false_vote_is_disproved_by_one_proven_item_and_is_a_miss() {
	ExtBuilder::default().build_and_execute(|| {
		let data = three_items();
		let id = post_batch(&data, 1);
		let lazy = providers_of(id)[0].clone();
		play(id, &[(lazy.clone(), INPUT_UNAVAILABLE)]);
		run_to_block(Jobs::<Test>::get(id).unwrap().deadline);
		let item = proven_item(&data.inputs, 0);
		// The vote has no leaves: a claim for it is refused.
		let vote_claim = claim(INPUT_UNAVAILABLE, INPUT_UNAVAILABLE, Vec::new());
		assert_noop!(
			resolve(id, 0, Some(item.clone()), vec![vote_claim]),
			Error::<Test>::UnexpectedClaim
		);
		assert_ok!(resolve(id, 0, Some(item), Vec::new()));
		assert_eq!(
			last_event(),
			Event::JobRefunded { job: id, reason: RefundReason::NoMatchingResult, refunded: 1_000 }
		);
		assert_eq!(free(&ALICE), CLIENT_BALANCE);
		assert_eq!(MockSource::penalties(), vec![(lazy, PenaltyReason::Dissent)]);
	});
}

/// Two providers vote "unavailable", one computed the result: it proves the input available
/// and its result right at one item and is paid at once; the voters take a miss.
#[test]
fn a_provider_that_computed_the_result_overturns_a_false_majority_vote() {
	ExtBuilder::default().build_and_execute(|| {
		let data = three_items();
		let id = post_batch(&data, 3);
		let drawn = providers_of(id);
		play(
			id,
			&[
				(drawn[0].clone(), INPUT_UNAVAILABLE),
				(drawn[1].clone(), INPUT_UNAVAILABLE),
				(drawn[2].clone(), data.truth),
			],
		);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.status, JobStatus::Concluded);
		// The vote is no side of a walk: neither as the challenger nor as the defender.
		assert_noop!(
			GpuJobs::challenge(RuntimeOrigin::signed(backer(id, data.truth)), id, data.truth),
			Error::<Test>::InputUnavailableVote
		);
		assert_noop!(
			GpuJobs::challenge(
				RuntimeOrigin::signed(backer(id, INPUT_UNAVAILABLE)),
				id,
				INPUT_UNAVAILABLE
			),
			Error::<Test>::InputUnavailableVote
		);
		let claims =
			vec![claim(data.truth, H256(data.leaves[1]), merkle_proof(&data.leaves, 1).unwrap())];
		assert_ok!(resolve(id, 1, Some(proven_item(&data.inputs, 1)), claims));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result: data.truth,
				winners: vec![drawn[2].clone()],
				paid: 1_000,
				burned: 100,
				refunded: 2_000,
			}
		);
		assert_eq!(
			MockSource::penalties(),
			vec![
				(drawn[0].clone(), PenaltyReason::Dissent),
				(drawn[1].clone(), PenaltyReason::Dissent)
			]
		);
	});
}

#[test]
fn a_minority_vote_beside_a_paid_result_is_a_miss() {
	ExtBuilder::default().build_and_execute(|| {
		let data = three_items();
		let id = post_batch(&data, 3);
		let drawn = providers_of(id);
		play(
			id,
			&[
				(drawn[0].clone(), data.truth),
				(drawn[1].clone(), data.truth),
				(drawn[2].clone(), INPUT_UNAVAILABLE),
			],
		);
		run_to_dispute_end(id);
		assert!(matches!(last_event(), Event::JobSettled { paid: 2_000, .. }));
		assert_eq!(MockSource::penalties(), vec![(drawn[2].clone(), PenaltyReason::Dissent)]);
	});
}

#[test]
fn the_vote_is_refused_for_an_inline_input() {
	ExtBuilder::default().build_and_execute(|| {
		let id = post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR);
		let provider = providers_of(id)[0].clone();
		assert_ok!(commit(&provider, id, INPUT_UNAVAILABLE));
		assert_noop!(reveal(&provider, id, INPUT_UNAVAILABLE), Error::<Test>::InputOnChain);
	});
}
