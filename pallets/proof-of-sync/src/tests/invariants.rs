//! `do_try_state` holds at every block of busy epochs and catches every broken invariant.

use crate::{mock::*, *};
use frame_support::{assert_ok, BoundedVec};

/// Break the state with `break_it`, check that `do_try_state` notices, then restore it.
fn assert_detected(break_it: impl FnOnce()) {
	let snapshot = sp_io::storage::root(sp_runtime::StateVersion::V1);
	frame_support::storage::with_transaction(|| {
		break_it();
		assert!(ProofOfSync::do_try_state().is_err(), "the broken invariant went unnoticed");
		sp_runtime::TransactionOutcome::Rollback(Ok::<(), sp_runtime::DispatchError>(()))
	})
	.unwrap();
	assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), snapshot);
}

#[test]
fn the_invariants_hold_at_every_block() {
	ExtBuilder::empty().services(5).validators(4).build_and_execute(|| {
		NodesPerBlock::set(2);
		for epoch in 1..=3u32 {
			while phase() != Phase::Collecting {
				next_block();
				assert_ok!(ProofOfSync::do_try_state());
			}
			let reports: Vec<_> =
				all_report(|node| if *node == service(2) { down_report() } else { good_report() })
					.into_iter()
					// One verifier is absent on one node.
					.filter(|(verifier, node, _)| {
						!(*verifier == validator(4) && *node == service(3))
					})
					.collect();
			for (verifier, node, report) in &reports {
				assert_ok!(commit(verifier, node, report));
			}
			run_to_reveal_window();
			for (verifier, node, report) in &reports {
				assert_ok!(reveal(verifier, node, report));
			}
			while !(phase() == Phase::Starting && epoch_index() == epoch) {
				next_block();
				assert_ok!(ProofOfSync::do_try_state());
			}
			next_block();
		}
		assert!(TotalRewardsPaid::<Test>::get() > 0);
	});
}

#[test]
fn try_state_detects_every_broken_invariant() {
	ExtBuilder::default().build_and_execute(|| {
		// Some activity first: scores, rewards, reputations; then an epoch being collected.
		play_epoch_with(|_| good_report());
		next_block();
		run_to_collecting();
		let node = service(1);
		assert_ok!(commit(&validator(1), &node, &good_report()));
		assert_ok!(ProofOfSync::do_try_state());

		assert_detected(|| Params::<Test>::mutate(|params| params.verifiers_per_node = 0));
		assert_detected(|| Epoch::<Test>::mutate(|epoch| epoch.start = 1_000));
		for phase in [
			Phase::Assigning { cursor: 3 },
			Phase::Tallying { cursor: 1 },
			Phase::Paying { cursor: 6 },
		] {
			assert_detected(|| Epoch::<Test>::mutate(|epoch| epoch.phase = phase));
		}
		assert_detected(|| {
			Targets::<Test>::put(BoundedVec::truncate_from(vec![node.clone(), node.clone()]))
		});
		assert_detected(|| Assignments::<Test>::remove(&node));
		assert_detected(|| {
			let assignment = Assignments::<Test>::get(&node).unwrap();
			Assignments::<Test>::insert(service(9), assignment);
		});
		assert_detected(|| {
			Assignments::<Test>::mutate(&node, |assignment| {
				assignment.as_mut().unwrap().epoch = 1;
			})
		});
		assert_detected(|| {
			Assignments::<Test>::mutate(&node, |assignment| {
				let slot = &mut assignment.as_mut().unwrap().slots[1];
				slot.commitment = None;
				slot.report = Some(good_report());
			})
		});
		assert_detected(|| {
			Assignments::<Test>::mutate(&node, |assignment| {
				let slots = &mut assignment.as_mut().unwrap().slots;
				slots[1].verifier = slots[0].verifier.clone();
			})
		});
		assert_detected(|| {
			Assignments::<Test>::mutate(&node, |assignment| {
				assignment.as_mut().unwrap().slots[0].verifier = validator(9);
			})
		});
		assert_detected(|| TotalRewardsPaid::<Test>::mutate(|paid| *paid += 1));
		assert_detected(|| {
			Scores::<Test>::mutate(service(2), |record| {
				record.as_mut().unwrap().total_rewards += 1;
			})
		});
		assert_detected(|| Totals::<Test>::mutate(|totals| totals.total_credits = 1));
		assert_detected(|| Credits::<Test>::insert(validator(1), 1));
		assert_detected(|| RewardWeights::<Test>::insert(service(1), 1));
		assert_detected(|| ProvenWrong::<Test>::insert(service(1), 3));
		assert_detected(|| {
			Totals::<Test>::mutate(|totals| {
				totals.budget = 10;
				totals.node_part = 10;
				totals.distributed = 11;
			})
		});
	});
}

#[test]
fn try_state_checks_the_tally_and_payment_totals() {
	ExtBuilder::default().build_and_execute(|| {
		NodesPerBlock::set(1);
		play_epoch_with_tally_paused();
		assert_eq!(phase(), Phase::Tallying { cursor: 1 });
		assert_ok!(ProofOfSync::do_try_state());
		assert_detected(|| Totals::<Test>::mutate(|totals| totals.total_credits += 1));
		assert_detected(|| Totals::<Test>::mutate(|totals| totals.total_weight += 1));

		// Into the payment.
		next_block();
		assert_eq!(phase(), Phase::Paying { cursor: 0 });
		next_block();
		assert_eq!(phase(), Phase::Paying { cursor: 1 });
		assert_ok!(ProofOfSync::do_try_state());
		assert_detected(|| Credits::<Test>::mutate(validator(1), |credits| *credits += 100));
		assert_detected(|| Totals::<Test>::mutate(|totals| totals.distributed = totals.budget + 1));
	});
}

/// Play the current epoch with good reports and stop after the first tally block.
fn play_epoch_with_tally_paused() {
	run_to_collecting();
	let reports = all_report(|_| good_report());
	for (verifier, node, report) in &reports {
		assert_ok!(commit(verifier, node, report));
	}
	run_to_reveal_window();
	for (verifier, node, report) in &reports {
		assert_ok!(reveal(verifier, node, report));
	}
	let params = Params::<Test>::get();
	run_to_block(epoch_start() + u64::from(params.epoch_length));
}
