//! Slashes: scheduled, applied at their epoch (bond first, then the unbonding chunk), applied at
//! once when due, cancelled on appeal, the queue bounds, and withdrawals blocked while one is
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
		assert_eq!(SlashesDue::<Test>::get(3u32).into_inner(), vec![0]);
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
		assert!(!SlashesDue::<Test>::contains_key(2u32));
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
		assert_ok!(schedule(&ALICE, 50, SlashReason::RepeatedMisses, 1));
		assert_ok!(<Registry as NodeRegistry<AccountId, u64>>::schedule_slash(
			&ALICE,
			Perbill::from_parts(1),
			SlashReason::RepeatedMisses,
			1
		));
		start_epoch(1);

		// 50 % of 3_001 is 1_500 (rounded down), then 50 % of 1_501 is 750, then nothing.
		assert_eq!(node(&ALICE).bond, 751);
		let amounts: Vec<_> = registry_events()
			.into_iter()
			.filter_map(|event| match event {
				Event::Slashed { amount, .. } => Some(amount),
				_ => None,
			})
			.collect();
		assert_eq!(amounts, vec![1_500, 750, 0]);
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
		assert!(!SlashesDue::<Test>::contains_key(5u32));
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
fn a_slash_applied_at_once_is_not_refused_for_a_full_queue() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		for epoch in [1, 2] {
			for _ in 0..MAX_SLASHES_PER_EPOCH {
				assert_ok!(schedule(&ALICE, 1, SlashReason::RepeatedMisses, epoch));
			}
		}
		assert_eq!(PendingSlashCount::<Test>::get(), MAX_PENDING_SLASHES);
		assert_ok!(schedule(&ALICE, 1, SlashReason::WrongAnswer, 0));
		assert_eq!(PendingSlashCount::<Test>::get(), MAX_PENDING_SLASHES);
	});
}

#[test]
fn the_slash_queues_are_bounded() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		for _ in 0..MAX_SLASHES_PER_EPOCH {
			assert_ok!(schedule(&ALICE, 1, SlashReason::RepeatedMisses, 5));
		}
		assert_noop!(
			schedule(&ALICE, 1, SlashReason::RepeatedMisses, 5),
			Error::<Test>::SlashQueueFull
		);
		for _ in 0..MAX_PENDING_SLASHES - MAX_SLASHES_PER_EPOCH {
			assert_ok!(schedule(&ALICE, 1, SlashReason::RepeatedMisses, 6));
		}
		assert_eq!(PendingSlashCount::<Test>::get(), MAX_PENDING_SLASHES);
		assert_noop!(
			schedule(&ALICE, 1, SlashReason::RepeatedMisses, 7),
			Error::<Test>::TooManyPendingSlashes
		);
		// A cancellation makes room again.
		assert_ok!(Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 0));
		assert_ok!(schedule(&ALICE, 1, SlashReason::RepeatedMisses, 7));
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
		assert_eq!(SlashesDue::<Test>::get(2u32).into_inner(), vec![1]);
		assert_eq!(PendingSlashCount::<Test>::get(), 1);
		assert_eq!(node(&ALICE).pending_slashes, 0);

		start_epoch(1);
		start_epoch(2);
		assert_eq!(node(&ALICE).bond, 3_000);
		assert_eq!(held(&ALICE), 3_000);
		// The other slash of the epoch still applied.
		assert_eq!(node(&BOB).bond, 1_500);
	});
}

#[test]
fn cancelling_the_last_slash_of_an_epoch_clears_its_list() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		assert_ok!(schedule(&ALICE, 50, SlashReason::WrongAnswer, 2));
		assert_ok!(Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), 0));
		assert!(!SlashesDue::<Test>::contains_key(2u32));
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
