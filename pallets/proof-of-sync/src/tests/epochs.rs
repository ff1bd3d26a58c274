//! The epoch state machine: phases, windows at their edge blocks, the snapshots, the draw and
//! bounded per-block work.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::Hooks};
use sp_runtime::Perbill;

#[test]
fn the_first_block_starts_epoch_one() {
	ExtBuilder::default().build_and_execute(|| {
		let info = Epoch::<Test>::get();
		assert_eq!(info, EpochInfo { index: 1, start: 1, phase: Phase::Assigning { cursor: 0 } });
		assert_eq!(MockEpochStarts::get(), vec![1]);
		assert_eq!(Targets::<Test>::get().into_inner(), vec![service(1), service(2)]);
		assert_eq!(
			Verifiers::<Test>::get().into_inner(),
			vec![validator(1), validator(2), validator(3)]
		);
		assert_eq!(last_event(), Event::EpochStarted { epoch: 1, targets: 2, verifiers: 3 });
		// Nothing is drawn yet.
		assert!(Assignments::<Test>::get(service(1)).is_none());
	});
}

#[test]
fn verifiers_are_drawn_in_the_next_block() {
	ExtBuilder::default().build_and_execute(|| {
		next_block();
		assert_eq!(phase(), Phase::Collecting);
		let epoch_seed = EpochSeed::<Test>::get();
		for node in [service(1), service(2)] {
			let assignment = Assignments::<Test>::get(&node).expect("the target is assigned");
			assert_eq!(assignment.epoch, 1);
			assert_eq!(assignment.seed, ProofOfSync::node_seed(&epoch_seed, 1, &node));
			let mut verifiers = drawn(&node);
			assert_eq!(verifiers.len(), 3);
			verifiers.sort();
			assert_eq!(verifiers, vec![validator(1), validator(2), validator(3)]);
			assert!(assignment
				.slots
				.iter()
				.all(|slot| slot.commitment.is_none() && slot.report.is_none()));
			assert!(pos_events().contains(&Event::VerifiersDrawn {
				epoch: 1,
				node: node.clone(),
				verifiers: drawn(&node),
			}));
		}
		// The two targets have different challenge seeds.
		assert_ne!(
			Assignments::<Test>::get(service(1)).unwrap().seed,
			Assignments::<Test>::get(service(2)).unwrap().seed
		);
	});
}

#[test]
fn the_draw_takes_the_smallest_hashes_and_never_the_node_itself() {
	ExtBuilder::default().build_and_execute(|| {
		let candidates: Vec<AccountId> = (1..=10).map(validator).collect();
		let seed = [42u8; 32];
		let node = validator(4);
		let drawn = ProofOfSync::draw_verifiers(&seed, &node, &candidates, 4);
		assert_eq!(drawn.len(), 4);
		assert!(!drawn.contains(&node));
		// Deterministic.
		assert_eq!(drawn, ProofOfSync::draw_verifiers(&seed, &node, &candidates, 4));
		// The smallest hashes, in order.
		let hash = |candidate: &AccountId| {
			let mut data = seed.to_vec();
			codec::Encode::encode_to(candidate, &mut data);
			sp_io::hashing::blake2_256(&data)
		};
		let mut others: Vec<AccountId> =
			candidates.iter().filter(|c| **c != node).cloned().collect();
		others.sort_by_key(|c| hash(c));
		assert_eq!(drawn, others[..4].to_vec());
		// Fewer candidates than k: all of them.
		assert_eq!(ProofOfSync::draw_verifiers(&seed, &node, &candidates[..3], 8).len(), 3);
		// Another seed draws from the same set, usually in another order.
		let other = ProofOfSync::draw_verifiers(&[7u8; 32], &node, &candidates, 9);
		assert_eq!(other.len(), 9);
		assert!(!other.contains(&node));
	});
}

#[test]
fn commit_and_reveal_windows_at_their_edge_blocks() {
	ExtBuilder::default().build_and_execute(|| {
		let (v1, v2, v3, node) = (validator(1), validator(2), validator(3), service(1));
		let report = good_report();
		// Block 1: the epoch started but nothing is assigned yet.
		assert_noop!(commit(&v1, &node, &report), Error::<Test>::NoAssignment);

		// Block 2: assigned; the commit window is blocks 1..=5.
		next_block();
		assert_ok!(commit(&v1, &node, &report));
		run_to_block(5);
		assert_eq!(phase(), Phase::Collecting);
		assert_ok!(commit(&v2, &node, &report));
		assert_noop!(reveal(&v1, &node, &report), Error::<Test>::NotInRevealWindow);

		// Block 6: the reveal window is blocks 6..=10.
		next_block();
		assert_noop!(commit(&v3, &node, &report), Error::<Test>::NotInCommitWindow);
		assert_ok!(reveal(&v1, &node, &report));
		run_to_block(10);
		assert_eq!(phase(), Phase::Collecting);
		assert_ok!(reveal(&v2, &node, &report));

		// Block 11: the tally ran (two targets fit in one block) and took the assignments.
		next_block();
		assert_eq!(phase(), Phase::Paying { cursor: 0 });
		assert_noop!(reveal(&v2, &node, &report), Error::<Test>::NoAssignment);
	});
}

#[test]
fn an_epoch_goes_through_every_phase() {
	ExtBuilder::default().build_and_execute(|| {
		let mut phases = vec![(1, phase())];
		for _ in 2..=13 {
			next_block();
			phases.push((System::block_number(), phase()));
		}
		assert_eq!(
			phases,
			vec![
				(1, Phase::Assigning { cursor: 0 }),
				(2, Phase::Collecting),
				(3, Phase::Collecting),
				(4, Phase::Collecting),
				(5, Phase::Collecting),
				(6, Phase::Collecting),
				(7, Phase::Collecting),
				(8, Phase::Collecting),
				(9, Phase::Collecting),
				(10, Phase::Collecting),
				(11, Phase::Paying { cursor: 0 }),
				(12, Phase::Starting),
				(13, Phase::Assigning { cursor: 0 }),
			]
		);
		assert_eq!(Epoch::<Test>::get().index, 2);
		assert_eq!(Epoch::<Test>::get().start, 13);
		assert_eq!(MockEpochStarts::get(), vec![1, 2]);
		assert!(pos_events().contains(&Event::EpochClosed { epoch: 1, budget: 0, distributed: 0 }));
	});
}

#[test]
fn cursors_span_blocks_when_nodes_per_block_is_small() {
	ExtBuilder::empty().services(5).validators(3).build_and_execute(|| {
		NodesPerBlock::set(2);
		let drawn_in_block = || {
			pos_events()
				.iter()
				.filter(|event| matches!(event, Event::VerifiersDrawn { .. }))
				.count()
		};

		System::reset_events();
		next_block();
		assert_eq!(phase(), Phase::Assigning { cursor: 2 });
		assert_eq!(drawn_in_block(), 2);
		System::reset_events();
		next_block();
		assert_eq!(phase(), Phase::Assigning { cursor: 4 });
		assert_eq!(drawn_in_block(), 2);
		System::reset_events();
		next_block();
		assert_eq!(phase(), Phase::Collecting);
		assert_eq!(drawn_in_block(), 1);
		assert_eq!(System::block_number(), 4);

		let reports = all_report(|_| good_report());
		for (verifier, node, report) in &reports {
			assert_ok!(commit(verifier, node, report));
		}
		run_to_reveal_window();
		for (verifier, node, report) in &reports {
			assert_ok!(reveal(verifier, node, report));
		}

		run_to_block(11);
		assert_eq!(phase(), Phase::Tallying { cursor: 2 });
		let scored = || {
			pos_events()
				.iter()
				.filter(|event| matches!(event, Event::NodeScored { .. }))
				.count()
		};
		assert_eq!(scored(), 2);
		next_block();
		assert_eq!(phase(), Phase::Tallying { cursor: 4 });
		assert_eq!(scored(), 4);
		next_block();
		// 5 nodes and 3 candidates to pay.
		assert_eq!(phase(), Phase::Paying { cursor: 0 });
		assert_eq!(scored(), 5);
		for cursor in [2, 4, 6] {
			next_block();
			assert_eq!(phase(), Phase::Paying { cursor });
		}
		next_block();
		assert_eq!(phase(), Phase::Starting);
		assert_eq!(System::block_number(), 17);
	});
}

#[test]
fn targets_and_candidates_are_snapshots_of_the_epoch_start() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		// Registered after the start: probed (or drawn) from the next epoch on.
		MockRegistry::add_service(&service(3), 10, NodeStatus::Pending);
		MockRegistry::add_validator(&validator(4), key_of(&validator(4)), NodeStatus::Active);
		// Leaving: no longer probed from the next epoch on.
		MockRegistry::update(&service(2), |node| node.status = NodeStatus::Unbonding);
		assert_eq!(Targets::<Test>::get().len(), 2);
		assert_eq!(Verifiers::<Test>::get().len(), 3);
		assert!(Assignments::<Test>::get(service(3)).is_none());

		play_epoch_with(|_| good_report());
		next_block();
		run_to_collecting();
		assert_eq!(Targets::<Test>::get().into_inner(), vec![service(1), service(3)]);
		assert_eq!(Verifiers::<Test>::get().len(), 4);
		assert!(Assignments::<Test>::get(service(2)).is_none());
		assert!(Assignments::<Test>::get(service(3)).is_some());
	});
}

#[test]
fn inactive_and_disreputable_validators_are_not_candidates() {
	ExtBuilder::default().build_and_execute(|| {
		play_epoch_with(|_| good_report());
		InactiveValidators::put(vec![validator(1)]);
		Reputation::<Test>::insert(validator(2), Perbill::from_percent(49));
		next_block();
		run_to_collecting();
		assert_eq!(Verifiers::<Test>::get().into_inner(), vec![validator(3)]);
		assert_eq!(drawn(&service(1)), vec![validator(3)]);

		// Exactly the minimum reputation is enough.
		play_epoch_with(|_| good_report());
		InactiveValidators::kill();
		Reputation::<Test>::insert(validator(2), Perbill::from_percent(50));
		next_block();
		run_to_collecting();
		assert_eq!(
			Verifiers::<Test>::get().into_inner(),
			vec![validator(1), validator(2), validator(3)]
		);
	});
}

#[test]
fn candidates_are_cut_to_the_bound_after_filtering() {
	// More active validator nodes than candidate slots, the first 64 outside the session: the
	// two in the session are still found.
	let bound = <Test as Config>::MaxVerifierCandidates::get();
	ExtBuilder::empty()
		.services(1)
		.validators(bound as u8 + 2)
		.build_and_execute(|| {
			play_epoch_with(|_| good_report());
			InactiveValidators::put((1..=bound as u8).map(validator).collect::<Vec<_>>());
			next_block();
			run_to_collecting();
			assert_eq!(
				Verifiers::<Test>::get().into_inner(),
				vec![validator(bound as u8 + 1), validator(bound as u8 + 2)]
			);
			assert!(!drawn(&service(1)).is_empty());

			// With everyone in the session the list is cut at the bound.
			play_epoch_with(|_| good_report());
			InactiveValidators::kill();
			next_block();
			run_to_collecting();
			assert_eq!(Verifiers::<Test>::get().len() as u32, bound);
		});
}

#[test]
fn without_candidates_targets_are_not_scored() {
	ExtBuilder::empty().services(1).build_and_execute(|| {
		run_to_collecting();
		assert_eq!(Assignments::<Test>::get(service(1)).unwrap().slots.len(), 0);
		run_to_epoch_end();
		let events = pos_events();
		assert!(events.contains(&Event::NodeNotScored { epoch: 1, node: service(1) }));
		assert!(events.contains(&Event::EpochClosed { epoch: 1, budget: 0, distributed: 0 }));
		assert!(Scores::<Test>::get(service(1)).is_none());
	});
}

#[test]
fn the_epoch_view_reports_the_state_machine() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(
			ProofOfSync::epoch_view(),
			EpochView {
				index: 1,
				start: 1,
				phase: Phase::Assigning { cursor: 0 },
				epoch_length: 10
			}
		);
		run_to_block(11);
		let view = ProofOfSync::epoch_view();
		assert_eq!(view.phase, Phase::Paying { cursor: 0 });
		assert_eq!(view.phase.as_u8(), 4);
	});
}

#[test]
fn the_integrity_test_passes() {
	ExtBuilder::default().build_and_execute(|| {
		<ProofOfSync as Hooks<u64>>::integrity_test();
	});
}
