//! Disputes: no majority, re-execution of one item on chain (inline and batch, one item and
//! several), claims and proofs, unresolved disputes.

use crate::{mock::*, *};
use dsync_aivm_core::{batch_merkle_root, batch_result_hashes, merkle_proof};
use dsync_primitives::traits::UsageProof;
use frame_support::{assert_noop, assert_ok, BoundedVec};
use sp_core::H256;

/// Job `id` (3,000 held from Alice) was refunded in full because no revealed result matched:
/// every provider of `drawn` is penalised `WrongResult`.
fn assert_refunded_with_every_revealer_wrong(id: JobId, drawn: &[AccountId]) {
	assert_eq!(
		last_event(),
		Event::JobRefunded { job: id, reason: RefundReason::NoMatchingResult, refunded: 3_000 }
	);
	assert_eq!(
		MockSource::penalties(),
		drawn
			.iter()
			.map(|who| (who.clone(), PenaltyReason::WrongResult))
			.collect::<Vec<_>>()
	);
	assert_eq!(free(&ALICE), CLIENT_BALANCE);
	assert_eq!(held(&ALICE), 0);
}

/// A one-item job with `k` providers revealing `results` (the rest never commit), concluded.
fn disputed_one_item(k: u8, results: &[H256]) -> (JobId, Vec<AccountId>, H256) {
	let input = digit_items(1, 9);
	let truth = digit_result(&input);
	let id = post(&ALICE, inline(input), k, 1_000);
	let drawn = providers_of(id);
	let plays: Vec<_> = drawn.iter().cloned().zip(results.iter().copied()).collect();
	play(id, &plays);
	(id, drawn, truth)
}

#[test]
fn no_majority_opens_a_dispute() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 9);
		let truth = digit_result(&input);
		let (id, _, _) = disputed_one_item(2, &[truth, H256::repeat_byte(2)]);
		let job = Jobs::<Test>::get(id).expect("a disputed job stays open");
		assert_eq!(job.status, JobStatus::Disputed);
		assert_eq!(last_event(), Event::JobDisputed { job: id, dispute_end: 31 });
		assert_eq!(held(&ALICE), 2_000);
		assert!(MockSource::penalties().is_empty());
	});
}

#[test]
fn re_execution_pays_the_matching_result_and_penalises_the_other() {
	ExtBuilder::default().build_and_execute(|| {
		let wrong = H256::repeat_byte(2);
		let input = digit_items(1, 9);
		let (id, drawn, truth) = disputed_one_item(2, &[wrong, digit_result(&input)]);
		assert_ok!(resolve(id, 0, None, Vec::new()));

		assert!(!Jobs::<Test>::contains_key(id));
		assert!(events().contains(&Event::DisputeResolved {
			job: id,
			item: 0,
			expected: truth,
			by: BOB,
		}));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result: truth,
				winners: vec![drawn[1].clone()],
				paid: 1_000,
				burned: 100,
				refunded: 1_000,
			}
		);
		assert_eq!(MockSource::penalties(), vec![(drawn[0].clone(), PenaltyReason::WrongResult)]);
		assert_eq!(free(&drawn[1]), PROVIDER_BALANCE + 700);
		assert_eq!(free(&ALICE), CLIENT_BALANCE - 1_000);
	});
}

#[test]
fn re_execution_refunds_when_no_result_matches() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, drawn, _) = disputed_one_item(
			3,
			&[H256::repeat_byte(2), H256::repeat_byte(3), H256::repeat_byte(4)],
		);
		assert_ok!(resolve(id, 0, None, Vec::new()));
		assert_refunded_with_every_revealer_wrong(id, &drawn);
	});
}

#[test]
fn a_lone_reveal_is_disputed_and_proven_right() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 9);
		let truth = digit_result(&input);
		// One of three reveals (after the commit deadline), one commits only, one never commits.
		let id = post(&ALICE, inline(input), 3, 1_000);
		let drawn = providers_of(id);
		assert_ok!(commit(&drawn[0], id, truth));
		assert_ok!(commit(&drawn[1], id, truth));
		run_to_block(17);
		assert_ok!(reveal(&drawn[0], id, truth));
		run_to_block(21);
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Disputed);

		assert_ok!(resolve(id, 0, None, Vec::new()));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result: truth,
				winners: vec![drawn[0].clone()],
				paid: 1_000,
				burned: 100,
				refunded: 2_000,
			}
		);
		assert_eq!(
			MockSource::penalties(),
			vec![
				(drawn[1].clone(), PenaltyReason::NoShow),
				(drawn[2].clone(), PenaltyReason::NoShow)
			]
		);
	});
}

#[test]
fn an_unresolved_dispute_is_refunded_at_its_end() {
	ExtBuilder::default().build_and_execute(|| {
		let id = post(&ALICE, inline(digit_items(1, 9)), 3, 1_000);
		let drawn = providers_of(id);
		play(
			id,
			&[(drawn[0].clone(), H256::repeat_byte(2)), (drawn[1].clone(), H256::repeat_byte(3))],
		);
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Disputed);
		run_to_block(30);
		assert!(Jobs::<Test>::contains_key(id));
		run_to_block(31);
		assert!(!Jobs::<Test>::contains_key(id));
		assert_eq!(
			last_event(),
			Event::JobRefunded {
				job: id,
				reason: RefundReason::DisputeUnresolved,
				refunded: 3_000
			}
		);
		// Nobody proved the revealed results wrong; only the no-show is penalised.
		assert_eq!(MockSource::penalties(), vec![(drawn[2].clone(), PenaltyReason::NoShow)]);
		assert_eq!(free(&ALICE), CLIENT_BALANCE);
	});
}

#[test]
fn resolution_is_refused_outside_a_dispute() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(resolve(9, 0, None, Vec::new()), Error::<Test>::UnknownJob);
		let open = post(&ALICE, inline(digit_items(1, 9)), 2, 1_000);
		assert_noop!(resolve(open, 0, None, Vec::new()), Error::<Test>::NotChallengeable);

		let (id, _, _) = disputed_one_item(2, &[H256::repeat_byte(2), H256::repeat_byte(3)]);
		assert_noop!(resolve(id, 1, None, Vec::new()), Error::<Test>::InvalidItemIndex);
		// At the dispute end, before `on_initialize` refunds it.
		System::set_block_number(31);
		assert_noop!(resolve(id, 0, None, Vec::new()), Error::<Test>::DisputeClosed);
		System::set_block_number(30);
	});
}

#[test]
fn a_multi_item_dispute_needs_a_proven_claim_per_result() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(4, 11);
		let leaves = batch_result_hashes(&digit_outputs(&input), 10);
		let truth = H256(batch_merkle_root(&leaves));
		// The wrong provider got item 2 wrong.
		let mut wrong_leaves = leaves.clone();
		wrong_leaves[2] = [0xcc; 32];
		let wrong = H256(batch_merkle_root(&wrong_leaves));
		let id = post(&ALICE, inline(input), 2, 1_000);
		let drawn = providers_of(id);
		play(id, &[(drawn[0].clone(), wrong), (drawn[1].clone(), truth)]);
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Disputed);

		let good =
			|index: usize| claim(truth, H256(leaves[index]), merkle_proof(&leaves, index).unwrap());
		let bad = |index: usize| {
			claim(wrong, H256(wrong_leaves[index]), merkle_proof(&wrong_leaves, index).unwrap())
		};
		assert_noop!(resolve(id, 2, None, Vec::new()), Error::<Test>::MissingClaim);
		assert_noop!(resolve(id, 2, None, vec![good(2)]), Error::<Test>::MissingClaim);
		assert_noop!(resolve(id, 2, None, vec![good(2), good(2)]), Error::<Test>::UnexpectedClaim);
		let stranger = claim(H256::repeat_byte(9), H256(leaves[2]), Vec::new());
		assert_noop!(
			resolve(id, 2, None, vec![good(2), bad(2), stranger]),
			Error::<Test>::UnexpectedClaim
		);
		// A claim whose leaf is not the root's leaf at the item.
		let lying = claim(wrong, H256(leaves[2]), merkle_proof(&wrong_leaves, 2).unwrap());
		assert_noop!(resolve(id, 2, None, vec![good(2), lying]), Error::<Test>::InvalidClaimProof);
		// A proof of another item.
		assert_noop!(resolve(id, 2, None, vec![good(1), bad(2)]), Error::<Test>::InvalidClaimProof);
		// Both results agree on item 0: it decides nothing.
		assert_noop!(resolve(id, 0, None, vec![good(0), bad(0)]), Error::<Test>::ItemNotDecisive);

		assert_ok!(resolve(id, 2, None, vec![bad(2), good(2)]));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result: truth,
				winners: vec![drawn[1].clone()],
				paid: 1_000,
				burned: 100,
				refunded: 1_000,
			}
		);
		assert_eq!(MockSource::penalties(), vec![(drawn[0].clone(), PenaltyReason::WrongResult)]);
	});
}

#[test]
fn a_batch_dispute_proves_the_input_and_the_results() {
	ExtBuilder::default().build_and_execute(|| {
		let inputs = digit_items(3, 12);
		let input_leaves: Vec<[u8; 32]> = inputs.chunks(64).map(input_leaf).collect();
		let inputs_hash = inputs_root(&inputs, 64);
		assert_eq!(inputs_hash, H256(batch_merkle_root(&input_leaves)));
		let leaves = batch_result_hashes(&digit_outputs(&inputs), 10);
		let truth = H256(batch_merkle_root(&leaves));
		let mut wrong_leaves = leaves.clone();
		wrong_leaves[1] = [0xdd; 32];
		let wrong = H256(batch_merkle_root(&wrong_leaves));

		let id = post(&ALICE, batch(3, inputs_hash, "https://data.example/b.bin"), 2, 1_000);
		let drawn = providers_of(id);
		play(id, &[(drawn[0].clone(), truth), (drawn[1].clone(), wrong)]);
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Disputed);

		let claims = vec![
			claim(truth, H256(leaves[1]), merkle_proof(&leaves, 1).unwrap()),
			claim(wrong, H256(wrong_leaves[1]), merkle_proof(&wrong_leaves, 1).unwrap()),
		];
		let item = inputs[64..128].to_vec();
		let proof = merkle_proof(&input_leaves, 1).unwrap();
		assert_noop!(resolve(id, 1, None, claims.clone()), Error::<Test>::MissingBatchItem);
		assert_noop!(
			resolve(id, 1, Some(batch_item(item[..63].to_vec(), proof.clone())), claims.clone()),
			Error::<Test>::InvalidItemInput
		);
		// Another item's input, or this input at another index.
		assert_noop!(
			resolve(id, 1, Some(batch_item(inputs[..64].to_vec(), proof.clone())), claims.clone()),
			Error::<Test>::InvalidInputProof
		);
		assert_noop!(
			resolve(id, 1, Some(batch_item(item.clone(), Vec::new())), claims.clone()),
			Error::<Test>::InvalidInputProof
		);

		assert_ok!(resolve(id, 1, Some(batch_item(item, proof)), claims));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result: truth,
				winners: vec![drawn[0].clone()],
				paid: 1_000,
				burned: 100,
				refunded: 1_000,
			}
		);
		assert_eq!(MockSource::penalties(), vec![(drawn[1].clone(), PenaltyReason::WrongResult)]);
		// Three items: three times the units.
		let units = 3 * u64::from(Models::<Test>::get(DIGITS).unwrap().units_per_item);
		assert_eq!(
			MockSource::usage(),
			vec![(drawn[0].clone(), ALICE, ServiceKind::GpuInference, units)]
		);
		// Revealed by one provider alone, but proven right by the re-execution: verified.
		assert_eq!(
			MockSource::usage_proofs(),
			vec![(drawn[0].clone(), UsageProof { verified: true, burned: 100 })]
		);
	});
}

// ---------------------------------------------------------------------------------------------
// Challenges of a majority result, during its challenge window.

/// A one-item job with three providers revealing `results`, concluded with a majority.
fn concluded_one_item(results: [H256; 3]) -> (JobId, Vec<AccountId>, H256) {
	let (id, drawn, truth) = disputed_one_item(3, &results);
	assert_eq!(Jobs::<Test>::get(id).map(|job| job.status), Some(JobStatus::Concluded));
	(id, drawn, truth)
}

#[test]
fn a_challenge_that_proves_the_majority_wrong_pays_the_right_minority() {
	ExtBuilder::default().build_and_execute(|| {
		let wrong = H256::repeat_byte(2);
		let truth = digit_result(&digit_items(1, 9));
		let (id, drawn, _) = concluded_one_item([wrong, truth, wrong]);
		assert_eq!(last_event(), Event::JobConcluded { job: id, result: wrong, payable_at: 31 });

		// The dissenter challenges at the last block of the window.
		System::set_block_number(30);
		assert_ok!(resolve(id, 0, None, Vec::new()));
		assert!(!Jobs::<Test>::contains_key(id));
		assert!(events().contains(&Event::DisputeResolved {
			job: id,
			item: 0,
			expected: truth,
			by: BOB,
		}));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result: truth,
				winners: vec![drawn[1].clone()],
				paid: 1_000,
				burned: 100,
				refunded: 2_000,
			}
		);
		assert_eq!(
			MockSource::penalties(),
			vec![
				(drawn[0].clone(), PenaltyReason::WrongResult),
				(drawn[2].clone(), PenaltyReason::WrongResult)
			]
		);
		assert_eq!(free(&drawn[0]), PROVIDER_BALANCE);
		assert_eq!(free(&drawn[1]), PROVIDER_BALANCE + 700);
		assert_eq!(free(&ALICE), CLIENT_BALANCE - 1_000);
		assert_eq!(held(&ALICE), 0);
		assert_eq!(OpenEscrow::<Test>::get(), 0);
	});
}

#[test]
fn a_challenge_that_matches_no_result_refunds_and_penalises_every_revealer() {
	ExtBuilder::default().build_and_execute(|| {
		let (wrong, other) = (H256::repeat_byte(2), H256::repeat_byte(3));
		let (id, drawn, _) = concluded_one_item([wrong, wrong, other]);
		assert_ok!(resolve(id, 0, None, Vec::new()));
		assert_refunded_with_every_revealer_wrong(id, &drawn);
	});
}

#[test]
fn a_challenge_the_majority_survives_fails_and_its_caller_pays() {
	ExtBuilder::default().build_and_execute(|| {
		let truth = digit_result(&digit_items(1, 9));
		let (id, drawn, _) = concluded_one_item([truth, H256::repeat_byte(2), truth]);
		let call = || {
			GpuJobs::resolve_by_execution(
				RuntimeOrigin::signed(BOB),
				id,
				0,
				None,
				BoundedVec::default(),
			)
		};
		assert_noop!(call(), Error::<Test>::MajorityConfirmed);
		// The failed challenge is charged its fee (the call's full weight).
		let failure = call().expect_err("the challenge fails");
		assert_eq!(failure.post_info.pays_fee, frame_support::dispatch::Pays::Yes);
		assert_eq!(failure.post_info.actual_weight, None);
		assert!(MockSource::penalties().is_empty());

		// The majority is paid at the end of the window; the dissenter is penalised.
		run_to_dispute_end(id);
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, ref winners, .. }
				if result == truth && *winners == vec![drawn[0].clone(), drawn[2].clone()]
		));
		assert_eq!(MockSource::penalties(), vec![(drawn[1].clone(), PenaltyReason::Dissent)]);
	});
}

#[test]
fn a_majority_can_be_challenged_after_the_deadline_before_it_is_concluded() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 9);
		let truth = digit_result(&input);
		let wrong = H256::repeat_byte(2);
		let id = post(&ALICE, inline(input), 3, 1_000);
		let drawn = providers_of(id);
		for who in &drawn {
			assert_ok!(commit(who, id, wrong));
		}
		assert_ok!(reveal(&drawn[0], id, wrong));
		assert_ok!(reveal(&drawn[1], id, wrong));
		// Too early: the third provider may still reveal.
		assert_noop!(resolve(id, 0, None, Vec::new()), Error::<Test>::NotChallengeable);
		// The deadline passed, but no block handled it yet: the job is still `Revealing`.
		System::set_block_number(21);
		assert_eq!(Jobs::<Test>::get(id).map(|job| job.status), Some(JobStatus::Revealing));
		assert_ok!(resolve(id, 0, None, Vec::new()));
		assert!(events().contains(&Event::DisputeResolved {
			job: id,
			item: 0,
			expected: truth,
			by: BOB,
		}));
		assert_eq!(
			MockSource::penalties(),
			vec![
				(drawn[0].clone(), PenaltyReason::WrongResult),
				(drawn[1].clone(), PenaltyReason::WrongResult),
				(drawn[2].clone(), PenaltyReason::NoShow)
			]
		);
		assert_eq!(free(&ALICE), CLIENT_BALANCE);
	});
}

#[test]
fn a_challenge_is_refused_once_the_window_closed() {
	ExtBuilder::default().build_and_execute(|| {
		let wrong = H256::repeat_byte(2);
		let truth = digit_result(&digit_items(1, 9));
		let (id, _, _) = concluded_one_item([wrong, wrong, truth]);
		// At the dispute end, before `on_initialize` pays the majority.
		System::set_block_number(31);
		assert_noop!(resolve(id, 0, None, Vec::new()), Error::<Test>::DisputeClosed);
		System::set_block_number(30);
	});
}

#[test]
fn a_multi_item_majority_is_challenged_at_the_item_it_got_wrong() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(4, 11);
		let leaves = batch_result_hashes(&digit_outputs(&input), 10);
		let truth = H256(batch_merkle_root(&leaves));
		// Two providers agree on a result wrong at item 1; the third is right.
		let mut wrong_leaves = leaves.clone();
		wrong_leaves[1] = [0xcc; 32];
		let wrong = H256(batch_merkle_root(&wrong_leaves));
		let id = post(&ALICE, inline(input), 3, 1_000);
		let drawn = providers_of(id);
		play(
			id,
			&[(drawn[0].clone(), wrong), (drawn[1].clone(), truth), (drawn[2].clone(), wrong)],
		);
		let claims = |item: usize| {
			vec![
				claim(wrong, H256(wrong_leaves[item]), merkle_proof(&wrong_leaves, item).unwrap()),
				claim(truth, H256(leaves[item]), merkle_proof(&leaves, item).unwrap()),
			]
		};
		// At item 3 both results agree: the item decides nothing.
		assert_noop!(resolve(id, 3, None, claims(3)), Error::<Test>::ItemNotDecisive);
		// Item 1 proves the majority wrong.
		assert_ok!(resolve(id, 1, None, claims(1)));
		assert!(matches!(
			last_event(),
			Event::JobSettled { result, ref winners, .. }
				if result == truth && *winners == vec![drawn[1].clone()]
		));
	});
}

/// The colluders' stall: three distinct results of a batch, two of them garbage whose
/// providers forfeit their walks (they stop answering). The honest provider holds only its own
/// leaves; it can still confirm its result with one re-execution, its own claim alone (the
/// eliminated results need none), and is paid at once; the garbage's providers take their
/// `Unanswered` misses. Before, every revealed result needed a claim: the honest result could
/// not be confirmed and the job was refunded.
#[test]
fn the_last_result_standing_is_confirmed_with_its_own_claim_alone() {
	ExtBuilder::default().build_and_execute(|| {
		let inputs = digit_items(3, 31);
		let leaves = batch_result_hashes(&digit_outputs(&inputs), 10);
		let truth = H256(batch_merkle_root(&leaves));
		let id = post(
			&ALICE,
			batch(3, inputs_root(&inputs, 64), "https://data.example/t.bin"),
			3,
			1_000,
		);
		let drawn = providers_of(id);
		let (garbage_1, garbage_2) = (H256::repeat_byte(0x61), H256::repeat_byte(0x62));
		play(
			id,
			&[
				(drawn[0].clone(), truth),
				(drawn[1].clone(), garbage_1),
				(drawn[2].clone(), garbage_2),
			],
		);
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Disputed);
		// Both garbage results forfeited their walks against the honest one.
		let job = Jobs::<Test>::get(id).unwrap();
		let mut verdicts = GpuJobs::verdicts_of(id, &job);
		for garbage in [garbage_1, garbage_2] {
			verdicts.update(garbage, |standing| standing.forfeited = true);
		}
		JobVerdicts::<Test>::insert(id, verdicts);

		let item = proven_item(&inputs, 0);
		let own = claim(truth, H256(leaves[0]), merkle_proof(&leaves, 0).unwrap());
		// A claim for an eliminated result is not expected.
		let extra = claim(garbage_1, H256::repeat_byte(1), Vec::new());
		assert_noop!(
			resolve(id, 0, Some(item.clone()), vec![own.clone(), extra]),
			Error::<Test>::UnexpectedClaim
		);
		assert_ok!(resolve(id, 0, Some(item), vec![own]));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result: truth,
				winners: vec![drawn[0].clone()],
				paid: 1_000,
				burned: 100,
				refunded: 2_000,
			}
		);
		assert_eq!(
			MockSource::penalties(),
			vec![
				(drawn[1].clone(), PenaltyReason::Unanswered),
				(drawn[2].clone(), PenaltyReason::Unanswered)
			]
		);
	});
}
