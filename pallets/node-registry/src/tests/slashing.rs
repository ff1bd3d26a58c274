//! Slashes: scheduled, applied at their epoch (bond first, then the unbonding chunk), applied at
//! once when due, one pending per node and reason (later ones added to it), never refused for
//! room (applied late instead), cancelled on appeal, and withdrawals blocked while one is
//! pending.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, Perbill};

fn schedule(
	who: &AccountId,
	percent: u32,
	reason: SlashReason,
	apply_at: u32,
) -> Result<SlashId, DispatchError> {
	<Registry as NodeRegistry<AccountId, u64>>::schedule_slash(
		who,
		Perbill::from_percent(percent),
		reason,
		apply_at,
	)
}

fn node(who: &AccountId) -> NodeInfo<Test> {
	Nodes::<Test>::get(who).expect("the node is registered")
}

#[test]
fn a_scheduled_slash_is_queued_with_its_bookkeeping() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		start_epoch(1);

		assert_eq!(schedule(&ALICE, 10, SlashReason::RepeatedMisses, 3), Ok(0));

		assert_eq!(
			PendingSlashes::<Test>::get(0u32),
			Some(PendingSlash {
				node: ALICE,
				fraction: Perbill::from_percent(10),
				reason: SlashReason::RepeatedMisses,
				apply_at: 3,
			})
		);
		assert!(DueSlashes::<Test>::contains_key(3u32, 0u32));
		assert_eq!(NodeSlashes::<Test>::get(ALICE, SlashReason::RepeatedMisses), Some(0));
		assert_eq!(PendingSlashCount::<Test>::get(), 1);
		assert_eq!(NextSlashId::<Test>::get(), 1);
		assert_eq!(node(&ALICE).pending_slashes, 1);
		// Nothing is taken yet.
		assert_eq!(held(&ALICE), SERVICE_MIN_BOND);
		assert_eq!(
			last_event(),
			Event::SlashScheduled {
				slash: 0,
				node: ALICE,
				fraction: Perbill::from_percent(10),
				reason: SlashReason::RepeatedMisses,
				apply_at: 3,
			}
		);
		// Ids are sequential.
		assert_eq!(schedule(&ALICE, 1, SlashReason::WrongAnswer, 4), Ok(1));
	});
}

#[test]
fn a_slash_applies_at_the_start_of_its_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		let (issued, treasury) = (issuance(), free(&TREASURY));
		assert_ok!(schedule(&ALICE, 10, SlashReason::RepeatedMisses, 2));

		start_epoch(1);
		assert_eq!(node(&ALICE).bond, 3_000);
		assert_eq!(PendingSlashCount::<Test>::get(), 1);

		clear_events();
		start_epoch(2);

		assert_eq!(node(&ALICE).bond, 2_700);
		assert_eq!(node(&ALICE).pending_slashes, 0);
		assert_eq!(held(&ALICE), 2_700);
		// The slashed funds reach the treasury; nothing is created or destroyed.
		assert_eq!(free(&TREASURY), treasury + 300);
		assert_eq!(issuance(), issued);
		assert_eq!(PendingSlashes::<Test>::get(0u32), None);
		assert!(!DueSlashes::<Test>::contains_key(2u32, 0u32));
		assert_eq!(NodeSlashes::<Test>::get(ALICE, SlashReason::RepeatedMisses), None);
		assert_eq!(PendingSlashCount::<Test>::get(), 0);
		assert_eq!(
			registry_events(),
			vec![Event::Slashed {
				slash: 0,
				node: ALICE,
				amount: 300,
				reason: SlashReason::RepeatedMisses
			}]
		);
	});
}

#[test]
fn a_slash_takes_from_the_bond_first_then_from_the_unbonding_chunk() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 1_890);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(ALICE), 1_890));
		// Held: 2_110 bonded + 1_890 unbonding = 4_000. 60 % of it is 2_400.
		assert_ok!(schedule(&ALICE, 60, SlashReason::WrongAnswer, 1));
		start_epoch(1);

		let node = node(&ALICE);
		assert_eq!(node.bond, 0);
		assert_eq!(node.unbonding, Some((1_600, 1 + UNBONDING_DELAY)));
		assert_eq!(held(&ALICE), 1_600);
		assert_eq!(
			last_event(),
			Event::Slashed {
				slash: 0,
				node: ALICE,
				amount: 2_400,
				reason: SlashReason::WrongAnswer
			}
		);
	});
}

#[test]
fn slashes_round_down_and_apply_one_after_the_other() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_001);
		assert_ok!(schedule(&ALICE, 50, SlashReason::RepeatedMisses, 1));
		assert_ok!(schedule(&ALICE, 50, SlashReason::WrongAnswer, 1));
		assert_ok!(<Registry as NodeRegistry<AccountId, u64>>::schedule_slash(
			&ALICE,
			Perbill::from_parts(1),
			SlashReason::AbsentVerifier,
			1
		));
		start_epoch(1);

		// 50 % of 3_001 is 1_500 (rounded down), then 50 % of 1_501 is 750, and one part per
		// billion of either is nothing, in whichever order they apply.
		assert_eq!(node(&ALICE).bond, 751);
		let mut amounts: Vec<_> = registry_events()
			.into_iter()
			.filter_map(|event| match event {
				Event::Slashed { amount, .. } => Some(amount),
				_ => None,
			})
			.collect();
		amounts.sort();
		assert_eq!(amounts, vec![0, 750, 1_500]);
	});
}

#[test]
fn a_later_slash_for_the_same_reason_is_added_to_the_pending_one() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		assert_eq!(schedule(&ALICE, 10, SlashReason::RepeatedMisses, 3), Ok(0));
		clear_events();

		// Due later: added (10 %, then 50 % of the other 90 %: 55 %) and moved to epoch 5, so the
		// newer offence keeps its whole appeal window.
		assert_eq!(schedule(&ALICE, 50, SlashReason::RepeatedMisses, 5), Ok(0));
		assert_eq!(
			registry_events(),
			vec![Event::SlashIncreased {
				slash: 0,
				node: ALICE,
				added: Perbill::from_percent(50),
				fraction: Perbill::from_percent(55),
				reason: SlashReason::RepeatedMisses,
				apply_at: 5,
			}]
		);
		assert_eq!(PendingSlashes::<Test>::get(0u32).map(|slash| slash.apply_at), Some(5));
		assert!(!DueSlashes::<Test>::contains_key(3u32, 0u32));
		assert!(DueSlashes::<Test>::contains_key(5u32, 0u32));
		assert_eq!(PendingSlashCount::<Test>::get(), 1);
		assert_eq!(node(&ALICE).pending_slashes, 1);
		assert_eq!(NextSlashId::<Test>::get(), 1);

		// Due earlier: added, the later epoch kept.
		assert_eq!(schedule(&ALICE, 20, SlashReason::RepeatedMisses, 4), Ok(0));
		// 55 % and then 20 % of the other 45 % is 64 %.
		assert_eq!(
			PendingSlashes::<Test>::get(0u32),
			Some(PendingSlash {
				node: ALICE,
				fraction: Perbill::from_percent(64),
				reason: SlashReason::RepeatedMisses,
				apply_at: 5,
			})
		);
		// Another reason is a slash of its own.
		assert_eq!(schedule(&ALICE, 10, SlashReason::WrongAnswer, 4), Ok(1));
		assert_eq!(node(&ALICE).pending_slashes, 2);

		start_epoch(4);
		assert_eq!(node(&ALICE).bond, 2_700);
		start_epoch(5);
		// 64 % of 2_700 is 1_728.
		assert_eq!(node(&ALICE).bond, 972);
		assert_eq!(node(&ALICE).pending_slashes, 0);
		assert_eq!(PendingSlashCount::<Test>::get(), 0);
	});
}

#[test]
fn a_node_has_at_most_one_pending_slash_per_reason() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		let reasons = [
			SlashReason::RepeatedMisses,
			SlashReason::WrongAnswer,
			SlashReason::AbsentVerifier,
			SlashReason::WrongResult,
		];
		// An offline node slashed 1 % every epoch for a long appeal window.
		for epoch in 1..=200u32 {
			for reason in reasons {
				assert_ok!(schedule(&ALICE, 1, reason, epoch + 1_000));
			}
		}
		assert_eq!(PendingSlashCount::<Test>::get(), 4);
		assert_eq!(node(&ALICE).pending_slashes, 4);
		assert_eq!(NodeSlashes::<Test>::iter_prefix(ALICE).count(), 4);
		// 200 slashes of 1 % compounded: 1 - 0.99^200 = 86.6 %.
		let fraction = PendingSlashes::<Test>::get(0u32).map(|slash| slash.fraction);
		assert!(fraction
			.is_some_and(|f| f > Perbill::from_percent(86) && f < Perbill::from_percent(87)));
	});
}

#[test]
fn no_offender_escapes_a_slash_by_filling_the_queue() {
	ExtBuilder::default().build_and_execute(|| {
		// The attacker's accomplices get more slashes due at epoch 2 than one epoch start
		// applies; before, the queue was full and the attacker's own slash was refused.
		for (who, key) in [(&ALICE, 1), (&BOB, 2), (&CHARLIE, 3)] {
			register_service(who, key, 3_000);
		}
		register_service(&DAVE, 4, 2_500);
		let reasons = [SlashReason::RepeatedMisses, SlashReason::WrongResult];
		for who in [&ALICE, &BOB, &CHARLIE] {
			for reason in reasons {
				assert_ok!(schedule(who, 1, reason, 2));
			}
		}
		const { assert!(6 > MAX_SLASHES_PER_EPOCH) };
		let attacker = schedule(&DAVE, 50, SlashReason::WrongAnswer, 2);
		assert_eq!(attacker, Ok(6));

		start_epoch(1);
		clear_events();
		start_epoch(2);
		let slashed = |events: &[Event<Test>]| {
			events.iter().filter(|event| matches!(event, Event::Slashed { .. })).count()
		};
		assert_eq!(slashed(&registry_events()), MAX_SLASHES_PER_EPOCH as usize);
		assert_eq!(PendingSlashCount::<Test>::get(), 7 - MAX_SLASHES_PER_EPOCH);
		// The rest applies at the next epoch starts: late, never early, and never dropped.
		start_epoch(3);
		start_epoch(4);
		assert_eq!(PendingSlashCount::<Test>::get(), 0);
		assert_eq!(node(&DAVE).bond, 1_250);
		assert_eq!(DueCursor::<Test>::get(), 5);
	});
}

#[test]
fn a_slash_past_its_epoch_can_still_be_cancelled() {
	ExtBuilder::default().build_and_execute(|| {
		for (who, key) in [(&ALICE, 1), (&BOB, 2), (&CHARLIE, 3), (&DAVE, 4)] {
			register_service(who, key, 2_500);
			assert_ok!(schedule(who, 10, SlashReason::RepeatedMisses, 1));
		}
		start_epoch(1);
		// One of the four waits for the next epoch start; an appeal still reaches it.
		let left: Vec<SlashId> = PendingSlashes::<Test>::iter_keys().collect();
		assert_eq!(left.len(), 1);
		assert_ok!(Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), left[0]));
		assert_eq!(PendingSlashCount::<Test>::get(), 0);
		start_epoch(2);
		let bonds: Vec<u64> =
			[&ALICE, &BOB, &CHARLIE, &DAVE].iter().map(|who| node(who).bond).collect();
		assert_eq!(bonds.iter().filter(|bond| **bond == 2_500).count(), 1);
		assert_eq!(bonds.iter().filter(|bond| **bond == 2_250).count(), 3);
	});
}

#[test]
fn a_slash_due_now_or_earlier_applies_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		start_epoch(5);
		clear_events();

		// Due in the current epoch.
		assert_eq!(schedule(&ALICE, 10, SlashReason::WrongAnswer, 5), Ok(0));
		assert_eq!(node(&ALICE).bond, 2_700);
		assert_eq!(node(&ALICE).pending_slashes, 0);
		assert_eq!(PendingSlashCount::<Test>::get(), 0);
		assert_eq!(PendingSlashes::<Test>::get(0u32), None);
		assert_eq!(DueSlashes::<Test>::iter().count(), 0);
		assert_eq!(
			registry_events(),
			vec![
				Event::SlashScheduled {
					slash: 0,
					node: ALICE,
					fraction: Perbill::from_percent(10),
					reason: SlashReason::WrongAnswer,
					apply_at: 5,
				},
				Event::Slashed {
					slash: 0,
					node: ALICE,
					amount: 300,
					reason: SlashReason::WrongAnswer
				},
			]
		);

		// Due in a past epoch.
		assert_eq!(schedule(&ALICE, 100, SlashReason::AbsentVerifier, 2), Ok(1));
		assert_eq!(node(&ALICE).bond, 0);
		assert_eq!(held(&ALICE), 0);
	});
}

#[test]
fn schedule_slash_needs_a_registered_node() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			schedule(&ALICE, 10, SlashReason::RepeatedMisses, 3),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			schedule(&ALICE, 10, SlashReason::RepeatedMisses, 0),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn cancelling_on_appeal_leaves_the_bond_intact() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		register_service(&BOB, 2, 3_000);
		assert_ok!(schedule(&ALICE, 50, SlashReason::WrongAnswer, 2));
		assert_ok!(schedule(&BOB, 50, SlashReason::WrongAnswer, 2));

		assert_ok!(Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 0));

		assert_eq!(last_event(), Event::SlashCancelled { slash: 0, node: ALICE });
		assert_eq!(PendingSlashes::<Test>::get(0u32), None);
		assert!(!DueSlashes::<Test>::contains_key(2u32, 0u32));
		assert!(DueSlashes::<Test>::contains_key(2u32, 1u32));
		assert_eq!(PendingSlashCount::<Test>::get(), 1);
		assert_eq!(node(&ALICE).pending_slashes, 0);
		// The next slash for the reason is a new one.
		assert_eq!(NodeSlashes::<Test>::get(ALICE, SlashReason::WrongAnswer), None);
		assert_eq!(schedule(&ALICE, 1, SlashReason::WrongAnswer, 9), Ok(2));
		assert_ok!(Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 2));

		start_epoch(1);
		start_epoch(2);
		assert_eq!(node(&ALICE).bond, 3_000);
		assert_eq!(held(&ALICE), 3_000);
		// The other slash of the epoch still applied.
		assert_eq!(node(&BOB).bond, 1_500);
	});
}

#[test]
fn cancelling_a_slash_clears_its_entries() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		assert_ok!(schedule(&ALICE, 50, SlashReason::WrongAnswer, 2));
		assert_ok!(Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 0));
		assert_eq!(DueSlashes::<Test>::iter().count(), 0);
		assert_eq!(NodeSlashes::<Test>::iter().count(), 0);
		assert_eq!(PendingSlashCount::<Test>::get(), 0);
	});
}

#[test]
fn cancel_slash_errors() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		assert_ok!(schedule(&ALICE, 50, SlashReason::WrongAnswer, 1));
		// Only the appeal origin: neither the admin (root) nor the node.
		for origin in [RuntimeOrigin::root(), RuntimeOrigin::signed(ALICE), RuntimeOrigin::none()] {
			assert_noop!(Registry::cancel_slash(origin, 0), DispatchError::BadOrigin);
		}
		assert_noop!(
			Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 7),
			Error::<Test>::UnknownSlash
		);
		// Applied slashes cannot be cancelled.
		start_epoch(1);
		assert_noop!(
			Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 0),
			Error::<Test>::UnknownSlash
		);
		// Nor can a slash be cancelled twice.
		assert_ok!(schedule(&ALICE, 50, SlashReason::WrongAnswer, 3));
		assert_ok!(Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 1));
		assert_noop!(
			Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 1),
			Error::<Test>::UnknownSlash
		);
	});
}

#[test]
fn withdrawal_is_blocked_while_a_slash_is_pending() {
	ExtBuilder::default().build_and_execute(|| {
		let before = free(&ALICE);
		register_service(&ALICE, 1, 3_000);
		assert_ok!(schedule(&ALICE, 20, SlashReason::RepeatedMisses, 3));
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		run_to_block(1 + UNBONDING_DELAY);

		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::SlashPending
		);

		// The slash applies to the exiting node's unbonding chunk.
		start_epoch(3);
		let node = node(&ALICE);
		assert_eq!(node.bond, 0);
		assert_eq!(node.unbonding.map(|(amount, _)| amount), Some(2_400));

		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(free(&ALICE), before - 600);
		assert!(!Nodes::<Test>::contains_key(&ALICE));
	});
}

#[test]
fn after_a_cancelled_slash_the_whole_bond_comes_back() {
	ExtBuilder::default().build_and_execute(|| {
		let before = free(&ALICE);
		register_service(&ALICE, 1, 3_000);
		assert_ok!(schedule(&ALICE, 20, SlashReason::RepeatedMisses, 3));
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		run_to_block(1 + UNBONDING_DELAY);
		assert_ok!(Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 0));

		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(free(&ALICE), before);
	});
}

#[test]
fn a_fully_slashed_node_can_still_exit() {
	ExtBuilder::default().build_and_execute(|| {
		let before = free(&ALICE);
		register_service(&ALICE, 1, 3_000);
		assert_ok!(schedule(&ALICE, 100, SlashReason::WrongAnswer, 0));
		assert_eq!(held(&ALICE), 0);
		assert_eq!(node(&ALICE).bond, 0);

		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		run_to_block(1 + UNBONDING_DELAY);
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::NodeExited { node: ALICE });
		assert_eq!(free(&ALICE), before - 3_000);
		assert!(ServiceNodes::<Test>::get().is_empty());
	});
}
