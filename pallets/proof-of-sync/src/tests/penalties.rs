//! Penalties: misses to suspension to slashes, recovery, provably wrong answers, absent and
//! clipped verifiers, and the faults service pallets report (`ServiceFaults`).

use crate::{mock::*, *};
use dsync_primitives::probe::{compute_challenge, ProbeAnswer, SignedProbeAnswer};
use frame_support::assert_ok;
use sp_core::{Pair, H256};
use sp_runtime::Perbill;

/// An answer to `seed`, with the right compute result or a wrong one.
fn answer(seed: [u8; 32], correct: bool) -> ProbeAnswer {
	let mut compute = compute_challenge(&seed);
	if !correct {
		compute[0] ^= 1;
	}
	ProbeAnswer {
		seed,
		best_number: 1,
		best_hash: H256::repeat_byte(1),
		finalized_number: 1,
		finalized_hash: H256::repeat_byte(1),
		compute,
	}
}

/// `answer` signed by `signer`.
fn signed(signer: &sp_core::sr25519::Pair, answer: ProbeAnswer) -> SignedProbeAnswer {
	SignedProbeAnswer { signature: signer.sign(&answer.signing_payload()), answer }
}

/// A report carrying `evidence`, whose challenge failed.
fn report_with(evidence: SignedProbeAnswer) -> ProbeReport {
	ProbeReport { challenge_ok: false, evidence: Some(evidence), ..good_report() }
}

/// One service node whose off-chain key is the sr25519 key of `pair(7)`, three validators.
fn node_with_real_key() -> ExtBuilder {
	ExtBuilder::empty()
		.service_node(service(1), pair(7).public().into(), 10, NodeStatus::Active)
		.validators(3)
}

#[test]
fn repeated_misses_suspend_then_slash() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		let node = service(1);
		let mut history = Vec::new();
		for epoch in 1..=6u32 {
			play_epoch_with(|_| down_report());
			let record = Scores::<Test>::get(&node).unwrap();
			history.push((epoch, record.misses, MockRegistry::status(&node).unwrap()));
			next_block();
		}
		assert_eq!(
			history,
			vec![
				(1, 1, NodeStatus::Active),
				(2, 2, NodeStatus::Suspended),
				(3, 3, NodeStatus::Suspended),
				// Slashed: misses back to suspend_after_misses.
				(4, 2, NodeStatus::Suspended),
				(5, 3, NodeStatus::Suspended),
				(6, 2, NodeStatus::Suspended),
			]
		);
		assert_eq!(MockRegistry::status_changes(), vec![(node.clone(), NodeStatus::Suspended)]);
		assert_eq!(
			MockRegistry::slashes(),
			vec![
				ScheduledSlash {
					node: node.clone(),
					fraction: Perbill::from_percent(10),
					reason: SlashReason::RepeatedMisses,
					apply_at: 6,
				},
				ScheduledSlash {
					node,
					fraction: Perbill::from_percent(10),
					reason: SlashReason::RepeatedMisses,
					apply_at: 8,
				},
			]
		);
	});
}

#[test]
fn a_suspended_node_recovers_after_good_epochs() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		let node = service(1);
		for _ in 0..2 {
			play_epoch_with(|_| down_report());
			next_block();
		}
		assert_eq!(MockRegistry::status(&node), Some(NodeStatus::Suspended));
		// A suspended node earns nothing.
		assert!(!pos_events().iter().any(|event| matches!(event, Event::NodeRewarded { .. })));

		// Score 50 %, streak 1: still suspended.
		play_epoch_with(|_| good_report());
		next_block();
		assert_eq!(MockRegistry::status(&node), Some(NodeStatus::Suspended));
		// Score 75 %, streak 2: active again, and rewarded.
		play_epoch_with(|_| good_report());
		assert_eq!(MockRegistry::status(&node), Some(NodeStatus::Active));
		assert_eq!(
			MockRegistry::status_changes(),
			vec![(node.clone(), NodeStatus::Suspended), (node, NodeStatus::Active)]
		);
		assert!(pos_events()
			.iter()
			.any(|event| matches!(event, Event::NodeRewarded { epoch: 4, .. })));
		assert!(MockRegistry::slashes().is_empty());
	});
}

#[test]
fn a_provably_wrong_answer_suspends_and_slashes_at_once() {
	node_with_real_key().build_and_execute(|| {
		let node = service(1);
		run_to_collecting();
		let seed = Assignments::<Test>::get(&node).unwrap().seed;
		let report = report_with(signed(&pair(7), answer(seed, false)));
		for verifier in [validator(1), validator(2), validator(3)] {
			assert_ok!(commit(&verifier, &node, &report));
		}
		run_to_reveal_window();
		assert_ok!(reveal(&validator(1), &node, &report));
		assert!(pos_events().contains(&Event::WrongAnswerProved {
			epoch: 1,
			node: node.clone(),
			verifier: validator(1)
		}));
		assert_eq!(MockRegistry::status(&node), Some(NodeStatus::Suspended));
		assert_eq!(
			MockRegistry::slashes(),
			vec![ScheduledSlash {
				node: node.clone(),
				fraction: Perbill::from_percent(50),
				reason: SlashReason::WrongAnswer,
				apply_at: 3,
			}]
		);
		assert_eq!(ProvenWrong::<Test>::get(&node), Some(1));

		// Once per node and epoch.
		assert_ok!(reveal(&validator(2), &node, &report));
		assert_ok!(reveal(&validator(3), &node, &report));
		let proofs = pos_events()
			.iter()
			.filter(|event| matches!(event, Event::WrongAnswerProved { .. }))
			.count();
		assert_eq!(proofs, 1);
		assert_eq!(MockRegistry::slashes().len(), 1);

		run_to_epoch_end();
		let record = Scores::<Test>::get(&node).unwrap();
		assert_eq!(record.last_quality, Perbill::zero());
		assert_eq!(MockRegistry::status(&node), Some(NodeStatus::Suspended));
		assert_eq!(ProvenWrong::<Test>::get(&node), None);
	});
}

#[test]
fn without_deferral_a_wrong_answer_slash_is_due_at_once() {
	node_with_real_key()
		.with_params(|params| params.slash_defer_epochs = 0)
		.build_and_execute(|| {
			let node = service(1);
			run_to_collecting();
			let seed = Assignments::<Test>::get(&node).unwrap().seed;
			let report = report_with(signed(&pair(7), answer(seed, false)));
			assert_ok!(commit(&validator(1), &node, &report));
			run_to_reveal_window();
			assert_ok!(reveal(&validator(1), &node, &report));
			assert_eq!(MockRegistry::slashes()[0].apply_at, 1);
		});
}

#[test]
fn evidence_that_proves_nothing_is_ignored() {
	node_with_real_key().build_and_execute(|| {
		let node = service(1);
		run_to_collecting();
		let seed = Assignments::<Test>::get(&node).unwrap().seed;
		// Signed by another key; for another seed; a right answer.
		let reports = [
			(validator(1), report_with(signed(&pair(8), answer(seed, false)))),
			(validator(2), report_with(signed(&pair(7), answer([0u8; 32], false)))),
			(validator(3), report_with(signed(&pair(7), answer(seed, true)))),
		];
		for (verifier, report) in &reports {
			assert_ok!(commit(verifier, &node, report));
		}
		run_to_reveal_window();
		for (verifier, report) in &reports {
			assert_ok!(reveal(verifier, &node, report));
		}
		assert!(!pos_events()
			.iter()
			.any(|event| matches!(event, Event::WrongAnswerProved { .. })));
		assert!(MockRegistry::slashes().is_empty());
		assert_eq!(MockRegistry::status(&node), Some(NodeStatus::Active));
		assert_eq!(ProvenWrong::<Test>::get(&node), None);
	});
}

#[test]
fn an_absent_verifier_loses_reputation_then_is_suspended_then_slashed() {
	ExtBuilder::empty().services(4).validators(3).build_and_execute(|| {
		let absent = validator(3);
		run_to_collecting();
		let reports: Vec<_> = all_report(|_| good_report())
			.into_iter()
			.filter(|(verifier, _, _)| *verifier != absent)
			.collect();
		play_epoch(&reports);

		let absences = pos_events()
			.iter()
			.filter(|event| match event {
				Event::VerifierAbsent { verifier, .. } => *verifier == absent,
				_ => false,
			})
			.count();
		assert_eq!(absences, 4);
		assert_eq!(Reputation::<Test>::get(&absent), Perbill::from_percent(60));
		assert_eq!(MockRegistry::status(&absent), Some(NodeStatus::Suspended));
		assert_eq!(MockRegistry::status_changes(), vec![(absent.clone(), NodeStatus::Suspended)]);
		assert_eq!(
			MockRegistry::slashes(),
			vec![ScheduledSlash {
				node: absent.clone(),
				fraction: Perbill::from_percent(10),
				reason: SlashReason::AbsentVerifier,
				apply_at: 3,
			}]
		);
		// Slashed: back to suspend_after_misses.
		assert_eq!(Scores::<Test>::get(&absent).unwrap().misses, 2);
		// The others are untouched and the targets still scored.
		assert_eq!(Reputation::<Test>::get(validator(1)), Perbill::one());
		assert_eq!(
			pos_events()
				.iter()
				.filter(|event| matches!(event, Event::NodeScored { .. }))
				.count(),
			4
		);

		// A suspended validator is no longer drawn.
		next_block();
		run_to_collecting();
		assert_eq!(Verifiers::<Test>::get().into_inner(), vec![validator(1), validator(2)]);
	});
}

#[test]
fn an_honest_report_resets_the_absences() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		let verifier = validator(3);
		run_to_collecting();
		let reports: Vec<_> = all_report(|_| good_report())
			.into_iter()
			.filter(|(who, _, _)| *who != verifier)
			.collect();
		play_epoch(&reports);
		assert_eq!(Scores::<Test>::get(&verifier).unwrap().misses, 1);
		assert_eq!(Reputation::<Test>::get(&verifier), Perbill::from_percent(90));
		assert_eq!(MockRegistry::status(&verifier), Some(NodeStatus::Active));

		next_block();
		play_epoch_with(|_| good_report());
		assert_eq!(Scores::<Test>::get(&verifier).unwrap().misses, 0);
		assert_eq!(Reputation::<Test>::get(&verifier), Perbill::from_percent(95));
	});
}

#[test]
fn a_clipped_verifier_falls_below_the_minimum_reputation() {
	ExtBuilder::default()
		.with_params(|params| params.reputation_penalty = Perbill::from_percent(30))
		.build_and_execute(|| {
			let liar = validator(3);
			play_epoch_with(|_| good_report());
			next_block();
			run_to_collecting();
			// The nodes are down; the liar claims they answered (a report that saw less than the
			// majority is excused, not clipped: the liar claims more).
			let reports: Vec<_> = all_report(|_| down_report())
				.into_iter()
				.map(|(verifier, node, report)| {
					if verifier == liar {
						(verifier, node, good_report())
					} else {
						(verifier, node, report)
					}
				})
				.collect();
			play_epoch(&reports);
			// Two clipped reports: 100 % - 2 × 30 %.
			assert_eq!(Reputation::<Test>::get(&liar), Perbill::from_percent(40));
			next_block();
			run_to_collecting();
			assert!(!Verifiers::<Test>::get().contains(&liar));
			// Not a registry matter: the validator stays active.
			assert_eq!(MockRegistry::status(&liar), Some(NodeStatus::Active));
		});
}

#[test]
fn a_pending_node_that_never_answers_is_suspended_after_the_misses() {
	ExtBuilder::empty()
		.service_node(service(1), pair(7).public().into(), 10, NodeStatus::Pending)
		.validators(3)
		.build_and_execute(|| {
			let node = service(1);
			let mut history = Vec::new();
			for epoch in 1..=3u32 {
				play_epoch_with(|_| down_report());
				let record = Scores::<Test>::get(&node).unwrap();
				history.push((epoch, record.misses, MockRegistry::status(&node).unwrap()));
				next_block();
			}
			// Never promoted (score 0), suspended at the second miss like an active node.
			assert_eq!(
				history,
				vec![
					(1, 1, NodeStatus::Pending),
					(2, 2, NodeStatus::Suspended),
					(3, 3, NodeStatus::Suspended),
				]
			);
			assert_eq!(MockRegistry::status_changes(), vec![(node, NodeStatus::Suspended)]);
		});
}

#[test]
fn failed_paid_work_counts_as_misses_and_suspends() {
	ExtBuilder::default().build_and_execute(|| {
		// `suspend_after_misses` is 2 in the tests.
		let epoch = Epoch::<Test>::get().index;
		ProofOfSync::missed(&service(1), ServiceKind::GpuInference);
		assert_eq!(Scores::<Test>::get(service(1)).map(|r| r.misses), Some(1));
		assert_eq!(MockRegistry::status(&service(1)), Some(NodeStatus::Active));
		assert_eq!(
			last_event(),
			Event::ServiceFailed { epoch, node: service(1), proven_wrong: false, misses: 1 }
		);
		ProofOfSync::missed(&service(1), ServiceKind::GpuInference);
		assert_eq!(MockRegistry::status(&service(1)), Some(NodeStatus::Suspended));
		assert!(MockRegistry::slashes().is_empty());
	});
}

#[test]
fn a_result_proven_wrong_suspends_and_slashes_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		let params = Params::<Test>::get();
		let epoch = Epoch::<Test>::get().index;
		ProofOfSync::proven_wrong(&service(2), ServiceKind::GpuInference);
		assert_eq!(MockRegistry::status(&service(2)), Some(NodeStatus::Suspended));
		assert_eq!(
			MockRegistry::slashes(),
			vec![ScheduledSlash {
				node: service(2),
				fraction: params.wrong_answer_slash,
				reason: SlashReason::WrongResult,
				apply_at: epoch + params.slash_defer_epochs,
			}]
		);
		assert_eq!(
			last_event(),
			Event::ServiceFailed { epoch, node: service(2), proven_wrong: true, misses: 1 }
		);
	});
}

#[test]
fn penalties_of_accounts_without_a_service_node_are_ignored() {
	ExtBuilder::default().build_and_execute(|| {
		ProofOfSync::proven_wrong(&service(60), ServiceKind::GpuInference);
		ProofOfSync::proven_wrong(&validator(1), ServiceKind::Naming);
		assert!(MockRegistry::slashes().is_empty());
		assert!(Scores::<Test>::get(service(60)).is_none());
		assert!(Scores::<Test>::get(validator(1)).is_none());
		assert_eq!(MockRegistry::status(&validator(1)), Some(NodeStatus::Active));
	});
}

#[test]
fn service_faults_of_every_kind_count_alike() {
	ExtBuilder::default().build_and_execute(|| {
		// Every service shares the node's one record: misses of two kinds add up.
		ProofOfSync::missed(&service(1), ServiceKind::Naming);
		ProofOfSync::missed(&service(1), ServiceKind::Storage);
		assert_eq!(Scores::<Test>::get(service(1)).map(|r| r.misses), Some(2));
		assert_eq!(MockRegistry::status(&service(1)), Some(NodeStatus::Suspended));
		assert!(MockRegistry::slashes().is_empty());
	});
}
