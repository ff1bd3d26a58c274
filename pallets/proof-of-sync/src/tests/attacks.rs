//! Attacks on Proof of Sync (issue 17): a verifier that copies another's commitment and reveal,
//! or replays its own commitment of an earlier epoch, to be credited without probing; a target
//! that answers two of its three verifiers to wear down the third's reputation; a node owner
//! that pays its own node for usage (self-dealing, finding 9) to take the others' rewards; and
//! sybil nodes living off unproven capacity.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::Perbill;

/// `verifier`'s slot in `node`'s assignment.
fn slot_of(node: &AccountId, verifier: &AccountId) -> Slot<AccountId> {
	Assignments::<Test>::get(node)
		.expect("the node is assigned")
		.slots
		.into_iter()
		.find(|slot| slot.verifier == *verifier)
		.expect("the verifier is drawn")
}

/// Whether `who` was paid as a verifier in `events`.
fn rewarded(events: &[Event<Test>], who: &AccountId) -> bool {
	events.iter().any(|event| match event {
		Event::VerifierRewarded { verifier, .. } => verifier == who,
		_ => false,
	})
}

#[test]
fn a_copied_commitment_and_reveal_earn_nothing() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		let node = service(1);
		let (honest, copier, other) = (validator(1), validator(2), validator(3));
		run_to_collecting();
		assert_eq!(drawn(&node).len(), 3);
		let report = good_report();
		assert_ok!(commit(&honest, &node, &report));
		assert_ok!(commit(&other, &node, &report));

		// The copier never probes: it reads the honest verifier's commitment from storage and
		// commits it as its own (the chain cannot tell yet).
		let copied = slot_of(&node, &honest).commitment.expect("the honest one committed");
		assert_ok!(ProofOfSync::commit_report(
			RuntimeOrigin::signed(key_of(&copier)),
			node.clone(),
			copied
		));
		assert_eq!(slot_of(&node, &copier).commitment, Some(copied));

		run_to_reveal_window();
		assert_ok!(reveal(&honest, &node, &report));
		assert_ok!(reveal(&other, &node, &report));
		// Then it reveals the honest verifier's report (from storage) and salt (from its reveal
		// transaction). The commitment binds the verifier, so it does not open for the copier
		// (with the old `(report, salt)` commitment it did).
		let revealed = slot_of(&node, &honest).report.expect("the honest one revealed");
		assert_noop!(
			ProofOfSync::reveal_report(
				RuntimeOrigin::signed(key_of(&copier)),
				node.clone(),
				revealed,
				salt_of(&honest, &node),
			),
			Error::<Test>::CommitmentMismatch
		);
		assert_eq!(slot_of(&node, &copier).report, None);

		// At the tally the copier is absent: no credit, no era points, no reward, and the
		// absence penalty.
		run_to_epoch_end();
		let events = pos_events();
		assert!(events.contains(&Event::VerifierAbsent {
			epoch: 1,
			node: node.clone(),
			verifier: copier.clone(),
		}));
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node,
			quality: Perbill::one(),
			score: Perbill::from_percent(50),
			reports: 2,
		}));
		assert_eq!(MockEraPoints::get(), vec![(honest.clone(), 20), (other.clone(), 20)]);
		assert!(rewarded(&events, &honest));
		assert!(rewarded(&events, &other));
		assert!(!rewarded(&events, &copier));
		assert_eq!(Credits::<Test>::get(&copier), 0);
		assert_eq!(Reputation::<Test>::get(&copier), Perbill::from_percent(90));
		assert_eq!(Scores::<Test>::get(&copier).expect("absences are recorded").misses, 1);
	});
}

#[test]
fn a_commitment_of_an_earlier_epoch_cannot_be_replayed() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		let node = service(1);
		let verifier = validator(1);
		let report = good_report();

		// Epoch 1: everyone commits and reveals; the commitment is kept.
		run_to_collecting();
		let reports = all_report(|_| report.clone());
		for (who, target, report) in &reports {
			assert_ok!(commit(who, target, report));
		}
		let earlier = slot_of(&node, &verifier).commitment.expect("committed");
		run_to_reveal_window();
		for (who, target, report) in &reports {
			assert_ok!(reveal(who, target, report));
		}
		run_to_epoch_end();

		// Epoch 2: without probing, the verifier commits its commitment of epoch 1 again, then
		// reveals the report and salt of epoch 1. The commitment binds the epoch, so it does
		// not open (with the old `(report, salt)` commitment it did).
		next_block();
		run_to_collecting();
		assert_eq!(epoch_index(), 2);
		assert_ok!(ProofOfSync::commit_report(
			RuntimeOrigin::signed(key_of(&verifier)),
			node.clone(),
			earlier
		));
		run_to_reveal_window();
		assert_noop!(
			ProofOfSync::reveal_report(
				RuntimeOrigin::signed(key_of(&verifier)),
				node.clone(),
				report.clone(),
				salt_of(&verifier, &node),
			),
			Error::<Test>::CommitmentMismatch
		);
		assert_eq!(slot_of(&node, &verifier).report, None);
	});
}

#[test]
fn a_target_answering_two_of_three_verifiers_cannot_wear_down_the_third() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		let node = service(1);
		let refused = validator(3);
		// Below 100 %, so that a recovery would show as well as a penalty.
		Reputation::<Test>::insert(&refused, Perbill::from_percent(80));

		for epoch in 1..=4u32 {
			run_to_collecting();
			assert_eq!(epoch_index(), epoch);
			assert!(drawn(&node).contains(&refused), "the third verifier is drawn in {epoch}");
			MockEraPoints::kill();
			// The node answers the first two verifiers and refuses the third, which honestly
			// reports it down.
			play_epoch(&[
				(validator(1), node.clone(), good_report()),
				(validator(2), node.clone(), good_report()),
				(refused.clone(), node.clone(), down_report()),
			]);
			let events = pos_events();
			// The majority decides: the node was up.
			assert!(events.iter().any(|event| matches!(
				event,
				Event::NodeScored { epoch: scored, quality, reports: 3, .. }
					if *scored == epoch && *quality == Perbill::one()
			)));
			// The refused verifier is not clipped (the old rule clipped it every epoch: 70 %,
			// 60 %, 50 %, then 40 % and no longer drawn), not absent, and not paid for a report
			// the majority did not confirm.
			assert!(!events.iter().any(|event| matches!(
				event,
				Event::VerifierClipped { verifier, .. } if *verifier == refused
			)));
			assert!(!events.iter().any(|event| matches!(
				event,
				Event::VerifierAbsent { verifier, .. } if *verifier == refused
			)));
			assert_eq!(Reputation::<Test>::get(&refused), Perbill::from_percent(80));
			assert_eq!(Scores::<Test>::get(&refused).map_or(0, |record| record.misses), 0);
			assert_eq!(MockEraPoints::get(), vec![(validator(1), 20), (validator(2), 20)]);
			assert!(!rewarded(&events, &refused));
			next_block();
		}

		// Still a verifier candidate.
		run_to_collecting();
		assert_eq!(epoch_index(), 5);
		assert!(Verifiers::<Test>::get().contains(&refused));
	});
}

/// One epoch of services 1 and 2, honest (100 units each, verified, their fees paying for
/// them), and service 3, the self-dealer, which records `attack` (units and proof) as its own
/// client. Returns the reward weights of the three at the end of the tally and what each was
/// paid.
fn self_dealing_epoch(attack: Option<(u64, UsageProof)>) -> (Vec<u128>, Vec<Balance>) {
	let mut outcome = (Vec::new(), Vec::new());
	ExtBuilder::empty()
		.services(3)
		.validators(3)
		.with_params(|params| params.burn_per_usage_unit = 10)
		.build_and_execute(|| {
			run_to_collecting();
			for i in 1..=2 {
				let (node, client) = (service(i), service(60));
				let proof = verified(1_000);
				ProofOfSync::record_usage(&node, &client, ServiceKind::GpuInference, 100, proof);
			}
			if let Some((units, proof)) = attack {
				let (dealer, kind) = (service(3), ServiceKind::GpuInference);
				ProofOfSync::record_usage(&dealer, &dealer, kind, units, proof);
				// The totals count what it recorded all the same.
				assert_eq!(ProviderUsage::<Test>::get(&dealer), units);
			}
			let nodes = [service(1), service(2), service(3)];
			let before: Vec<Balance> = nodes.iter().map(free).collect();
			let weights = reward_weights_of_epoch(&nodes);
			let paid = nodes.iter().zip(before).map(|(node, before)| free(node) - before).collect();
			outcome = (weights, paid);
		});
	outcome
}

#[test]
fn a_self_dealt_job_of_one_provider_changes_no_reward() {
	let (weights, paid) = self_dealing_epoch(None);
	// Score 50 % and 10 capacity units each; the honest nodes at the median usage (100) get the
	// full factor, the idle dealer half.
	assert_eq!(weights, vec![5_000_000_000, 5_000_000_000, 2_500_000_000]);
	assert_eq!(paid, vec![320_000, 320_000, 160_000]);

	// The dealer posts a `k = 1` batch to its own node: 10^9 units, and it even burns enough to
	// pay for them. Nobody else checked the result: not verified, it weighs nothing. With the
	// maximum as the reference it became the epoch's maximum and halved both honest factors,
	// taking two thirds of the node part.
	let attack = (1_000_000_000, unverified(10_000_000_000));
	let (attacked_weights, attacked_paid) = self_dealing_epoch(Some(attack));
	assert_eq!(attacked_weights, weights);
	assert_eq!(attacked_paid, paid);
}

#[test]
fn verified_but_cheap_self_dealing_buys_only_what_it_burned() {
	let (weights, _) = self_dealing_epoch(None);

	// The dealer gets its huge usage verified (say, its own second node drawn as the other
	// provider) but pays a tiny fee: 250 burned pays for 25 units at 10 per unit.
	let attack = (1_000_000_000, verified(250));
	let (attacked_weights, _) = self_dealing_epoch(Some(attack));
	// The reference is the median of (100, 100, 25): 100. The honest weights do not move (with
	// the maximum as the reference they halved).
	assert_eq!(attacked_weights[0], weights[0]);
	assert_eq!(attacked_weights[1], weights[1]);
	// The dealer's factor rose only by the 25 units it paid for: 50 % + 50 % · 25 / 100.
	assert_eq!(attacked_weights[2], 3_125_000_000);
}

#[test]
fn sybil_nodes_are_credited_unproven_capacity_once_not_for_ever() {
	// Service 1 is used every epoch and proves its capacity; services 2 to 4 are sybils of one
	// operator, registered to collect the unproven allowance while idle.
	ExtBuilder::empty()
		.services(4)
		.validators(3)
		.with_params(|params| {
			params.unproven_capacity = 10;
			params.unproven_epochs = 2;
		})
		.build_and_execute(|| {
			let sybils = [service(2), service(3), service(4)];
			for epoch in 1..=4u32 {
				run_to_collecting();
				assert_eq!(epoch_index(), epoch);
				let (node, client) = (service(1), service(60));
				ProofOfSync::record_usage(&node, &client, ServiceKind::Storage, 100, verified(0));
				let before = free(&service(1));
				play_epoch_with(|_| good_report());
				let rewarded_sybils = pos_events()
					.iter()
					.filter(|event| {
						matches!(
							event,
							Event::NodeRewarded { epoch: paid_in, node, .. }
								if *paid_in == epoch && sybils.contains(node)
						)
					})
					.count();
				if epoch <= 2 {
					// Their one-off credit: 10 units each at the idle factor.
					assert_eq!(rewarded_sybils, 3, "epoch {epoch}");
				} else {
					// Beyond the window the idle sybils earn nothing: the node that proved its
					// capacity gets the whole node part.
					assert_eq!(rewarded_sybils, 0, "epoch {epoch}");
					assert_eq!(free(&service(1)) - before, 800_000, "epoch {epoch}");
					for sybil in &sybils {
						let view = ProofOfSync::node_score_view(sybil).expect("registered");
						assert_eq!(view.credited_capacity, 0);
					}
				}
			}
		});
}
