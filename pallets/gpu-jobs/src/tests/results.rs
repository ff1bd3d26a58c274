//! Commit and reveal: origins, windows, every error, free success.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, dispatch::Pays};
use sp_core::H256;

#[test]
fn providers_commit_and_reveal_through_their_keys_for_free() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 1);
		let result = digit_result(&input);
		let id = post(&ALICE, inline(input), 3, 100);
		let drawn = providers_of(id);

		let info = GpuJobs::commit_result(
			RuntimeOrigin::signed(key_of(&drawn[0])),
			id,
			commitment_of(id, &drawn[0], &result, &SALT),
		)
		.expect("the commitment is accepted");
		assert_eq!(info.pays_fee, Pays::No);
		assert_eq!(last_event(), Event::ResultCommitted { job: id, provider: drawn[0].clone() });
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Open);

		assert_ok!(commit(&drawn[1], id, result));
		assert_ok!(commit(&drawn[2], id, result));
		// Everyone committed: reveals open at once.
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.status, JobStatus::Revealing);
		assert!(job.reveal_open(now()));

		let info =
			GpuJobs::reveal_result(RuntimeOrigin::signed(key_of(&drawn[0])), id, result, SALT)
				.expect("the result is revealed");
		assert_eq!(info.pays_fee, Pays::No);
		assert_eq!(
			last_event(),
			Event::ResultRevealed { job: id, provider: drawn[0].clone(), result }
		);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.slot(&drawn[0]).unwrap().result, Some(result));
		assert_eq!(job.status, JobStatus::Revealing);
	});
}

#[test]
fn commit_result_checks_key_job_assignment_and_window() {
	ExtBuilder::default().build_and_execute(|| {
		let result = H256::repeat_byte(1);
		let id = post(&ALICE, inline(digit_items(1, 0)), 3, 100);
		let drawn = providers_of(id);
		let idle = (1..=5).map(provider).find(|p| !drawn.contains(p)).unwrap();

		assert_noop!(
			GpuJobs::commit_result(RuntimeOrigin::signed(ALICE), id, result),
			Error::<Test>::UnknownOffchainKey
		);
		assert_noop!(commit(&drawn[0], 9, result), Error::<Test>::UnknownJob);
		assert_noop!(commit(&idle, id, result), Error::<Test>::NotAssigned);
		assert_ok!(commit(&drawn[0], id, result));
		assert_noop!(commit(&drawn[0], id, result), Error::<Test>::AlreadyCommitted);

		// The commit window ends at `deadline - reveal_period` = 17.
		run_to_block(16);
		assert_ok!(commit(&drawn[1], id, result));
		run_to_block(17);
		assert_noop!(commit(&drawn[2], id, result), Error::<Test>::NotInCommitWindow);
	});
}

#[test]
fn reveal_result_checks_window_commitment_and_salt() {
	ExtBuilder::default().build_and_execute(|| {
		let result = H256::repeat_byte(1);
		let id = post(&ALICE, inline(digit_items(1, 0)), 3, 100);
		let drawn = providers_of(id);
		let idle = (1..=5).map(provider).find(|p| !drawn.contains(p)).unwrap();

		assert_ok!(commit(&drawn[0], id, result));
		assert_ok!(commit(&drawn[1], id, result));
		// Not everyone committed and the commit window is open.
		assert_noop!(reveal(&drawn[0], id, result), Error::<Test>::NotInRevealWindow);
		assert_noop!(reveal(&drawn[2], id, result), Error::<Test>::NoCommitment);
		assert_noop!(reveal(&idle, id, result), Error::<Test>::NotAssigned);
		assert_noop!(
			GpuJobs::reveal_result(RuntimeOrigin::signed(ALICE), id, result, SALT),
			Error::<Test>::UnknownOffchainKey
		);
		assert_noop!(reveal(&drawn[0], 9, result), Error::<Test>::UnknownJob);

		run_to_block(17);
		// Another result, or another salt, than committed to.
		assert_noop!(
			reveal(&drawn[0], id, H256::repeat_byte(2)),
			Error::<Test>::CommitmentMismatch
		);
		assert_noop!(
			GpuJobs::reveal_result(RuntimeOrigin::signed(key_of(&drawn[0])), id, result, [0; 32]),
			Error::<Test>::CommitmentMismatch
		);
		assert_ok!(reveal(&drawn[0], id, result));
		assert_noop!(reveal(&drawn[0], id, result), Error::<Test>::AlreadyRevealed);
	});
}

#[test]
fn reveals_close_at_the_deadline() {
	ExtBuilder::default().build_and_execute(|| {
		let id = post(&ALICE, inline(digit_items(1, 0)), 3, 100);
		let drawn = providers_of(id);
		for owner in &drawn {
			assert_ok!(commit(owner, id, H256::repeat_byte(1)));
		}
		assert_ok!(reveal(&drawn[0], id, H256::repeat_byte(1)));
		// The other two never reveal: the job concludes at its deadline with one reveal of
		// three, no majority.
		run_to_block(21);
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Disputed);
		assert_noop!(reveal(&drawn[1], id, H256::repeat_byte(1)), Error::<Test>::NotInRevealWindow);
		assert_noop!(commit(&drawn[1], id, H256::repeat_byte(1)), Error::<Test>::AlreadyCommitted);
	});
}

#[test]
fn the_last_possible_reveal_concludes_the_job() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 2);
		let result = digit_result(&input);
		let id = post(&ALICE, inline(input), 3, 100);
		let drawn = providers_of(id);
		// Two commit, the third does not: after the commit deadline the two reveals are all
		// that can come, and two of three is a majority.
		assert_ok!(commit(&drawn[0], id, result));
		assert_ok!(commit(&drawn[1], id, result));
		run_to_block(17);
		assert_ok!(reveal(&drawn[0], id, result));
		assert!(Jobs::<Test>::contains_key(id));
		assert_ok!(reveal(&drawn[1], id, result));
		assert_eq!(Jobs::<Test>::get(id).map(|job| job.status), Some(JobStatus::Concluded));
		assert_eq!(last_event(), Event::JobConcluded { job: id, result, payable_at: 31 });
	});
}

#[test]
fn window_key_and_assignment_errors_use_the_commit_reveal_vocabulary() {
	use dsync_primitives::commit_reveal::CommitRevealError as Shared;
	for (error, shared) in [
		(Error::<Test>::UnknownOffchainKey, Shared::UnknownOffchainKey),
		(Error::<Test>::NotAssigned, Shared::NotAssigned),
		(Error::<Test>::NotInCommitWindow, Shared::NotInCommitWindow),
		(Error::<Test>::AlreadyCommitted, Shared::AlreadyCommitted),
		(Error::<Test>::NotInRevealWindow, Shared::NotInRevealWindow),
		(Error::<Test>::NoCommitment, Shared::NoCommitment),
		(Error::<Test>::CommitmentMismatch, Shared::CommitmentMismatch),
		(Error::<Test>::AlreadyRevealed, Shared::AlreadyRevealed),
	] {
		assert_eq!(<&'static str>::from(error), shared.as_str());
	}
}
