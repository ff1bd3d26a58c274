//! Settlement: payment of the majority after its challenge window, penalties, refunds, expiry,
//! `settle`, failed payments.

use crate::{mock::*, *};
use dsync_primitives::traits::UsageProof;
use frame_support::{assert_noop, assert_ok};
use sp_core::H256;

#[test]
fn agreeing_providers_are_paid_when_the_challenge_window_ends() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 1);
		let result = digit_result(&input);
		let issuance_before = issuance();
		let id = post(&ALICE, inline(input), 3, 1_000);
		let drawn = providers_of(id);
		play(id, &drawn.iter().map(|who| (who.clone(), result)).collect::<Vec<_>>());

		// Concluded at once, paid at the dispute end (deadline 21 + 10).
		assert_eq!(last_event(), Event::JobConcluded { job: id, result, payable_at: 31 });
		run_to_block(30);
		assert_eq!(Jobs::<Test>::get(id).map(|job| job.status), Some(JobStatus::Concluded));
		assert_noop!(GpuJobs::settle(RuntimeOrigin::signed(BOB), id), Error::<Test>::JobNotDue);
		assert_eq!(held(&ALICE), 3_000);
		assert_eq!(OpenEscrow::<Test>::get(), 3_000);
		assert!(MockSource::usage().is_empty());
		run_to_block(31);

		assert!(!Jobs::<Test>::contains_key(id));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result,
				winners: drawn.clone(),
				paid: 3_000,
				burned: 300,
				refunded: 0,
			}
		);
		assert_eq!(free(&ALICE), CLIENT_BALANCE - 3_000);
		assert_eq!(held(&ALICE), 0);
		for who in &drawn {
			assert_eq!(free(who), PROVIDER_BALANCE + 700);
			assert!(!ProviderJobs::<Test>::contains_key(who, id));
		}
		assert_eq!(free(&TREASURY), PROVIDER_BALANCE + 600);
		assert_eq!(issuance(), issuance_before - 300);
		assert_eq!(OpenEscrow::<Test>::get(), 0);
		assert_eq!(OpenJobCount::<Test>::get(), 0);
		let units = u64::from(Models::<Test>::get(DIGITS).unwrap().units_per_item);
		assert_eq!(
			MockSource::usage(),
			drawn
				.iter()
				.map(|who| (who.clone(), ALICE, ServiceKind::GpuInference, units))
				.collect::<Vec<_>>()
		);
		// Three drawn providers agreed: verified usage; each payment burned 10 % of 1_000.
		assert_eq!(
			MockSource::usage_proofs(),
			drawn
				.iter()
				.map(|who| (who.clone(), UsageProof { verified: true, burned: 100 }))
				.collect::<Vec<_>>()
		);
		assert!(MockSource::penalties().is_empty());
	});
}

#[test]
fn dissenters_and_no_shows_are_penalised_and_the_rest_refunded() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(2, 3);
		let result = digit_result(&input);
		let wrong = H256::repeat_byte(0xbb);
		let id = post(&ALICE, inline(input), 5, 1_000);
		let drawn = providers_of(id);
		// Three agree, one dissents, one never commits.
		play(
			id,
			&[
				(drawn[0].clone(), result),
				(drawn[1].clone(), wrong),
				(drawn[2].clone(), result),
				(drawn[3].clone(), result),
			],
		);
		// Nobody is penalised before the challenge window ends.
		assert!(MockSource::penalties().is_empty());
		run_to_dispute_end(id);

		assert!(!Jobs::<Test>::contains_key(id));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result,
				winners: vec![drawn[0].clone(), drawn[2].clone(), drawn[3].clone()],
				paid: 3_000,
				burned: 300,
				refunded: 2_000,
			}
		);
		assert_eq!(
			MockSource::penalties(),
			vec![
				(drawn[1].clone(), PenaltyReason::Dissent),
				(drawn[4].clone(), PenaltyReason::NoShow)
			]
		);
		assert!(events().contains(&Event::ProviderPenalised {
			job: id,
			provider: drawn[1].clone(),
			reason: PenaltyReason::Dissent,
		}));
		assert_eq!(free(&ALICE), CLIENT_BALANCE - 3_000);
		assert_eq!(held(&ALICE), 0);
		assert_eq!(free(&drawn[1]), PROVIDER_BALANCE);
		// Two items: twice the units.
		let units = 2 * u64::from(Models::<Test>::get(DIGITS).unwrap().units_per_item);
		assert!(MockSource::usage().iter().all(|(_, _, _, recorded)| *recorded == units));
		// Three of five agreed: verified.
		assert_eq!(
			MockSource::usage_proofs(),
			[&drawn[0], &drawn[2], &drawn[3]]
				.into_iter()
				.map(|who| (who.clone(), UsageProof { verified: true, burned: 100 }))
				.collect::<Vec<_>>()
		);
	});
}

#[test]
fn a_job_settles_at_its_deadline_when_a_committed_provider_does_not_reveal() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 4);
		let result = digit_result(&input);
		let id = post(&ALICE, inline(input), 3, 1_000);
		let drawn = providers_of(id);
		for who in &drawn {
			assert_ok!(commit(who, id, result));
		}
		assert_ok!(reveal(&drawn[0], id, result));
		assert_ok!(reveal(&drawn[1], id, result));
		// The third could still reveal until block 21.
		run_to_block(20);
		assert_eq!(Jobs::<Test>::get(id).map(|job| job.status), Some(JobStatus::Revealing));
		run_to_block(21);
		assert_eq!(last_event(), Event::JobConcluded { job: id, result, payable_at: 31 });
		run_to_block(31);
		assert!(!Jobs::<Test>::contains_key(id));
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result,
				winners: vec![drawn[0].clone(), drawn[1].clone()],
				paid: 2_000,
				burned: 200,
				refunded: 1_000,
			}
		);
		assert_eq!(MockSource::penalties(), vec![(drawn[2].clone(), PenaltyReason::NoShow)]);
		assert_eq!(free(&ALICE), CLIENT_BALANCE - 2_000);
	});
}

#[test]
fn a_job_without_reveals_expires_and_is_refunded() {
	ExtBuilder::default().build_and_execute(|| {
		let id = post(&ALICE, inline(digit_items(1, 0)), 2, 1_000);
		let drawn = providers_of(id);
		// One commits but never reveals.
		assert_ok!(commit(&drawn[0], id, H256::repeat_byte(1)));
		run_to_block(21);
		assert!(!Jobs::<Test>::contains_key(id));
		assert_eq!(last_event(), Event::JobExpired { job: id, refunded: 2_000 });
		assert_eq!(
			MockSource::penalties(),
			vec![
				(drawn[0].clone(), PenaltyReason::NoShow),
				(drawn[1].clone(), PenaltyReason::NoShow)
			]
		);
		assert_eq!(free(&ALICE), CLIENT_BALANCE);
		assert_eq!(held(&ALICE), 0);
		assert!(MockSource::usage().is_empty());
	});
}

#[test]
fn settle_is_permissionless_once_due() {
	ExtBuilder::default().build_and_execute(|| {
		MaxJobsPerBlockSettled::set(1);
		let ids: Vec<JobId> =
			(0..3).map(|_| post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR)).collect();
		assert_noop!(GpuJobs::settle(RuntimeOrigin::signed(BOB), ids[1]), Error::<Test>::JobNotDue);
		assert_noop!(GpuJobs::settle(RuntimeOrigin::signed(BOB), 9), Error::<Test>::UnknownJob);
		// At the deadline `on_initialize` handles one job; anyone settles the others.
		run_to_block(21);
		assert!(!Jobs::<Test>::contains_key(ids[0]));
		assert!(Jobs::<Test>::contains_key(ids[1]));
		assert_ok!(GpuJobs::settle(RuntimeOrigin::signed(BOB), ids[2]));
		assert_eq!(last_event(), Event::JobExpired { job: ids[2], refunded: FLOOR });
		run_to_block(22);
		assert!(!Jobs::<Test>::contains_key(ids[1]));
		// The stale entry of the job settled by hand is passed over.
		run_to_block(23);
		assert_eq!(OpenJobCount::<Test>::get(), 0);
		assert_eq!(held(&ALICE), 0);
	});
}

#[test]
fn a_disputed_job_is_due_only_at_its_dispute_end() {
	ExtBuilder::default().build_and_execute(|| {
		let id = post(&ALICE, inline(digit_items(1, 0)), 2, 1_000);
		let drawn = providers_of(id);
		play(
			id,
			&[(drawn[0].clone(), H256::repeat_byte(1)), (drawn[1].clone(), H256::repeat_byte(2))],
		);
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Disputed);
		run_to_block(25);
		assert_noop!(GpuJobs::settle(RuntimeOrigin::signed(BOB), id), Error::<Test>::JobNotDue);
		// Block 31 is the dispute end: settled there by hand before `on_initialize` would.
		System::set_block_number(31);
		assert_ok!(GpuJobs::settle(RuntimeOrigin::signed(BOB), id));
		assert_eq!(
			last_event(),
			Event::JobRefunded {
				job: id,
				reason: RefundReason::DisputeUnresolved,
				refunded: 2_000
			}
		);
	});
}

#[test]
fn a_failed_payment_goes_back_to_the_client() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 5);
		let result = digit_result(&input);
		let id = post(&ALICE, inline(input), 2, 1_000);
		let drawn = providers_of(id);
		PaymentFails::set(true);
		play(id, &drawn.iter().map(|who| (who.clone(), result)).collect::<Vec<_>>());
		run_to_dispute_end(id);

		assert!(!Jobs::<Test>::contains_key(id));
		for who in &drawn {
			assert!(events().contains(&Event::ProviderPaymentFailed {
				job: id,
				provider: who.clone(),
				amount: 1_000,
			}));
			assert_eq!(free(who), PROVIDER_BALANCE);
		}
		assert_eq!(
			last_event(),
			Event::JobSettled {
				job: id,
				result,
				winners: Vec::new(),
				paid: 0,
				burned: 0,
				refunded: 2_000,
			}
		);
		assert_eq!(free(&ALICE), CLIENT_BALANCE);
		assert_eq!(held(&ALICE), 0);
		assert!(MockSource::usage().is_empty());
	});
}

#[test]
fn jobs_of_several_clients_keep_their_escrows_apart() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 6);
		let result = digit_result(&input);
		let b = post(&BOB, inline(input.clone()), 3, 500);
		play(b, &providers_of(b).into_iter().map(|who| (who, result)).collect::<Vec<_>>());
		// Alice's jobs are posted while Bob's waits out its challenge window (paid at 31).
		run_to_block(12);
		let a = post(&ALICE, inline(input.clone()), 2, 1_000);
		let c = post(&ALICE, inline(input), 1, 300);
		assert_eq!(held(&ALICE), 2_300);
		assert_eq!(held(&BOB), 1_500);
		assert_eq!(OpenEscrow::<Test>::get(), 3_800);
		run_to_dispute_end(b);
		assert!(!Jobs::<Test>::contains_key(b));
		assert_eq!(held(&ALICE), 2_300);
		assert_eq!(held(&BOB), 0);
		assert_eq!(free(&BOB), CLIENT_BALANCE - 1_500);
		assert_eq!(OpenEscrow::<Test>::get(), 2_300);
		assert!(Jobs::<Test>::contains_key(a) && Jobs::<Test>::contains_key(c));
	});
}

#[test]
fn the_usage_of_a_job_of_one_provider_is_not_verified() {
	ExtBuilder::default().build_and_execute(|| {
		// `k = 1`: the client may own the only provider, and nobody else checked the result.
		let input = digit_items(1, 5);
		let result = digit_result(&input);
		let id = post(&ALICE, inline(input), 1, 1_000);
		let drawn = providers_of(id);
		play(id, &[(drawn[0].clone(), result)]);
		run_to_dispute_end(id);

		assert!(!Jobs::<Test>::contains_key(id));
		// Paid and counted as usage all the same, but not verified: Proof of Sync does not
		// weigh it into rewards.
		let units = u64::from(Models::<Test>::get(DIGITS).unwrap().units_per_item);
		assert_eq!(
			MockSource::usage(),
			vec![(drawn[0].clone(), ALICE, ServiceKind::GpuInference, units)]
		);
		assert_eq!(
			MockSource::usage_proofs(),
			vec![(drawn[0].clone(), UsageProof { verified: false, burned: 100 })]
		);
	});
}
