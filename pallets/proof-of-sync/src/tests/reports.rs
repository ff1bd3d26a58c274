//! `commit_report` and `reveal_report`: success, events, fees and every error.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, dispatch::Pays};
use sp_core::H256;

#[test]
fn commit_report_stores_the_commitment_for_free() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		let (verifier, node) = (validator(2), service(1));
		let report = good_report();
		let info = commit(&verifier, &node, &report).expect("the commitment is accepted");
		assert_eq!(info.pays_fee, Pays::No);
		assert_eq!(
			last_event(),
			Event::ReportCommitted { epoch: 1, node: node.clone(), verifier: verifier.clone() }
		);
		let assignment = Assignments::<Test>::get(&node).unwrap();
		let slot = assignment.slots.iter().find(|slot| slot.verifier == verifier).unwrap();
		assert_eq!(slot.commitment, Some(commitment_of(&verifier, &node, &report)));
		assert_eq!(slot.report, None);
		// The other slots are untouched.
		assert_eq!(assignment.slots.iter().filter(|slot| slot.commitment.is_some()).count(), 1);
	});
}

#[test]
fn commit_report_errors() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		let (verifier, node) = (validator(1), service(1));
		let commitment = H256::repeat_byte(1);

		// A key nobody registered.
		let stranger = RuntimeOrigin::signed(service(50));
		assert_noop!(
			ProofOfSync::commit_report(stranger, node.clone(), commitment),
			Error::<Test>::UnknownOffchainKey
		);
		// Not a target.
		assert_noop!(
			ProofOfSync::commit_report(
				RuntimeOrigin::signed(key_of(&verifier)),
				service(9),
				commitment
			),
			Error::<Test>::NoAssignment
		);
		// A registered key whose node was not drawn (a service node's key).
		assert_noop!(
			ProofOfSync::commit_report(
				RuntimeOrigin::signed(key_of(&service(2))),
				node.clone(),
				commitment
			),
			Error::<Test>::NotAssigned
		);
		// Twice.
		assert_ok!(ProofOfSync::commit_report(
			RuntimeOrigin::signed(key_of(&verifier)),
			node.clone(),
			commitment
		));
		assert_noop!(
			ProofOfSync::commit_report(
				RuntimeOrigin::signed(key_of(&verifier)),
				node.clone(),
				H256::repeat_byte(2)
			),
			Error::<Test>::AlreadyCommitted
		);
		// After the commit window.
		run_to_reveal_window();
		assert_noop!(
			ProofOfSync::commit_report(
				RuntimeOrigin::signed(key_of(&validator(2))),
				node.clone(),
				commitment
			),
			Error::<Test>::NotInCommitWindow
		);
		// Unsigned and root origins are refused.
		assert_noop!(
			ProofOfSync::commit_report(RuntimeOrigin::none(), node.clone(), commitment),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_noop!(
			ProofOfSync::commit_report(RuntimeOrigin::root(), node, commitment),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn failed_reports_pay_their_fee() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		let error = ProofOfSync::commit_report(
			RuntimeOrigin::signed(service(50)),
			service(1),
			H256::zero(),
		)
		.unwrap_err();
		assert_eq!(error.post_info.pays_fee, Pays::Yes);
	});
}

#[test]
fn reveal_report_stores_the_report_for_free() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		let (verifier, node) = (validator(3), service(2));
		let report = ProbeReport { latency_ms: 321, sync_lag: 1, ..good_report() };
		assert_ok!(commit(&verifier, &node, &report));
		run_to_reveal_window();
		let info = reveal(&verifier, &node, &report).expect("the report is revealed");
		assert_eq!(info.pays_fee, Pays::No);
		assert_eq!(
			last_event(),
			Event::ReportRevealed {
				epoch: 1,
				node: node.clone(),
				verifier: verifier.clone(),
				available: true,
				challenge_ok: true,
				latency_ms: 321,
				sync_lag: 1,
			}
		);
		let assignment = Assignments::<Test>::get(&node).unwrap();
		let slot = assignment.slots.iter().find(|slot| slot.verifier == verifier).unwrap();
		assert_eq!(slot.report, Some(report));
	});
}

#[test]
fn reveal_report_errors() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		let (verifier, node) = (validator(1), service(1));
		let report = good_report();
		let salt = salt_of(&verifier, &node);
		assert_ok!(commit(&verifier, &node, &report));

		// Before the reveal window.
		assert_noop!(reveal(&verifier, &node, &report), Error::<Test>::NotInRevealWindow);

		run_to_reveal_window();
		// A key nobody registered.
		assert_noop!(
			ProofOfSync::reveal_report(
				RuntimeOrigin::signed(service(50)),
				node.clone(),
				report.clone(),
				salt
			),
			Error::<Test>::UnknownOffchainKey
		);
		// Not a target.
		assert_noop!(
			ProofOfSync::reveal_report(
				RuntimeOrigin::signed(key_of(&verifier)),
				service(9),
				report.clone(),
				salt
			),
			Error::<Test>::NoAssignment
		);
		// Not drawn.
		assert_noop!(
			ProofOfSync::reveal_report(
				RuntimeOrigin::signed(key_of(&service(2))),
				node.clone(),
				report.clone(),
				salt
			),
			Error::<Test>::NotAssigned
		);
		// Drawn but never committed.
		assert_noop!(reveal(&validator(2), &node, &report), Error::<Test>::NoCommitment);
		// Another salt, or another report.
		assert_noop!(
			ProofOfSync::reveal_report(
				RuntimeOrigin::signed(key_of(&verifier)),
				node.clone(),
				report.clone(),
				[9u8; 32]
			),
			Error::<Test>::CommitmentMismatch
		);
		assert_noop!(
			reveal(&verifier, &node, &ProbeReport { latency_ms: 51, ..good_report() }),
			Error::<Test>::CommitmentMismatch
		);
		// Twice.
		assert_ok!(reveal(&verifier, &node, &report));
		assert_noop!(reveal(&verifier, &node, &report), Error::<Test>::AlreadyRevealed);
	});
}

#[test]
fn the_commitment_binds_the_epoch_the_target_and_the_verifier() {
	let report = good_report();
	let salt = [3u8; 32];
	let (node, verifier) = (service(1), validator(1));
	let committed = report.commitment(7, &node, &verifier, &salt);
	assert_eq!(
		committed,
		dsync_primitives::commit_reveal::commitment(
			dsync_primitives::commit_reveal::Domain::SyncReport,
			&(7u32, &node, &verifier, &report, &salt)
		)
	);
	// Every part of the payload changes it: the epoch, the target, the verifier (another
	// verifier's, or the key account instead of the owner), the report and the salt.
	assert_ne!(committed, report.commitment(8, &node, &verifier, &salt));
	assert_ne!(committed, report.commitment(7, &service(2), &verifier, &salt));
	assert_ne!(committed, report.commitment(7, &node, &validator(2), &salt));
	assert_ne!(committed, report.commitment(7, &node, &key_of(&verifier), &salt));
	assert_ne!(committed, down_report().commitment(7, &node, &verifier, &salt));
	assert_ne!(committed, report.commitment(7, &node, &verifier, &[4u8; 32]));
	// Not the old, unbound `(report, salt)` commitment either.
	assert_ne!(
		committed,
		dsync_primitives::commit_reveal::commitment(
			dsync_primitives::commit_reveal::Domain::SyncReport,
			&(&report, &salt)
		)
	);
}

#[test]
fn the_worker_commits_what_the_reveal_checks() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		let (verifier, node) = (validator(1), service(2));
		let report = ProbeReport { latency_ms: 77, ..good_report() };
		let salt = salt_of(&verifier, &node);
		// The off-chain worker's commitment: by key, bound to the key's node owner.
		assert_eq!(
			ProofOfSync::report_commitment(&key_of(&verifier), &node, &report, &salt),
			Some(report.commitment(1, &node, &verifier, &salt))
		);
		assert_eq!(ProofOfSync::report_commitment(&service(50), &node, &report, &salt), None);
		assert_ok!(ProofOfSync::commit_report(
			RuntimeOrigin::signed(key_of(&verifier)),
			node.clone(),
			ProofOfSync::report_commitment(&key_of(&verifier), &node, &report, &salt).unwrap(),
		));
		run_to_reveal_window();
		assert_ok!(reveal(&verifier, &node, &report));
	});
}

#[test]
fn an_assignment_of_an_old_epoch_is_not_reported_on() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		Assignments::<Test>::mutate(service(1), |assignment| {
			if let Some(assignment) = assignment {
				assignment.epoch = 0;
			}
		});
		assert_noop!(
			commit(&validator(1), &service(1), &good_report()),
			Error::<Test>::NoAssignment
		);
		// Restore, for the invariants.
		Assignments::<Test>::mutate(service(1), |assignment| {
			if let Some(assignment) = assignment {
				assignment.epoch = 1;
			}
		});
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
