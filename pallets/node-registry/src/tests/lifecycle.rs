//! The lifecycle: pending -> active -> suspended -> (reactivate) pending for validators, the
//! status changes of service nodes, and exit -> withdraw -> exited with every planck back.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

fn status(who: &AccountId) -> Option<NodeStatus> {
	Nodes::<Test>::get(who).map(|node| node.status)
}

fn set_status(who: &AccountId, to: NodeStatus) -> sp_runtime::DispatchResult {
	<Registry as NodeRegistry<AccountId, u64>>::set_status(who, to)
}

#[test]
fn validators_go_pending_active_suspended_and_back() {
	ExtBuilder::default().build_and_execute(|| {
		register_validator(&BOB, 2, VALIDATOR_MIN_BOND);
		assert_eq!(status(&BOB), Some(NodeStatus::Pending));

		// The next epoch start promotes it.
		start_epoch(1);
		assert_eq!(status(&BOB), Some(NodeStatus::Active));
		assert_eq!(
			last_event(),
			Event::StatusChanged { node: BOB, from: NodeStatus::Pending, to: NodeStatus::Active }
		);

		// Proof of Sync suspends it.
		assert_ok!(set_status(&BOB, NodeStatus::Suspended));
		assert_eq!(status(&BOB), Some(NodeStatus::Suspended));
		assert_eq!(
			last_event(),
			Event::StatusChanged { node: BOB, from: NodeStatus::Active, to: NodeStatus::Suspended }
		);
		// A suspended validator is not promoted by an epoch start.
		start_epoch(2);
		assert_eq!(status(&BOB), Some(NodeStatus::Suspended));

		// The operator reactivates it: pending, then active at the next epoch start.
		assert_ok!(Registry::reactivate(RuntimeOrigin::signed(BOB)));
		assert_eq!(status(&BOB), Some(NodeStatus::Pending));
		assert_eq!(
			last_event(),
			Event::StatusChanged {
				node: BOB,
				from: NodeStatus::Suspended,
				to: NodeStatus::Pending
			}
		);
		start_epoch(3);
		assert_eq!(status(&BOB), Some(NodeStatus::Active));
	});
}

#[test]
fn service_nodes_change_status_only_through_proof_of_sync() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		// Epoch starts do not promote service nodes: Proof of Sync does after warm-up.
		start_epoch(1);
		assert_eq!(status(&ALICE), Some(NodeStatus::Pending));

		assert_ok!(set_status(&ALICE, NodeStatus::Active));
		assert_ok!(set_status(&ALICE, NodeStatus::Suspended));
		// Service nodes do not reactivate by call.
		assert_noop!(
			Registry::reactivate(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotAValidator
		);
		assert_ok!(set_status(&ALICE, NodeStatus::Active));
		assert_eq!(status(&ALICE), Some(NodeStatus::Active));
		let changes: Vec<_> = registry_events()
			.into_iter()
			.filter_map(|event| match event {
				Event::StatusChanged { from, to, .. } => Some((from, to)),
				_ => None,
			})
			.collect();
		assert_eq!(
			changes,
			vec![
				(NodeStatus::Pending, NodeStatus::Active),
				(NodeStatus::Active, NodeStatus::Suspended),
				(NodeStatus::Suspended, NodeStatus::Active),
			]
		);
	});
}

#[test]
fn reactivate_errors() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::reactivate(RuntimeOrigin::signed(BOB)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(Registry::reactivate(RuntimeOrigin::root()), DispatchError::BadOrigin);
		register_validator(&BOB, 2, VALIDATOR_MIN_BOND);
		// Pending, then active: not suspended.
		assert_noop!(Registry::reactivate(RuntimeOrigin::signed(BOB)), Error::<Test>::NotSuspended);
		start_epoch(1);
		assert_noop!(Registry::reactivate(RuntimeOrigin::signed(BOB)), Error::<Test>::NotSuspended);
		// Exiting: not suspended either.
		assert_ok!(Registry::exit(RuntimeOrigin::signed(BOB)));
		assert_noop!(Registry::reactivate(RuntimeOrigin::signed(BOB)), Error::<Test>::NotSuspended);
	});
}

#[test]
fn exit_unbonds_everything_and_marks_the_node_unbonding() {
	ExtBuilder::default().build_and_execute(|| {
		register_validator(&BOB, 2, VALIDATOR_MIN_BOND + 300);
		start_epoch(1);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(BOB), 300));
		run_to_block(4);
		clear_events();

		assert_ok!(Registry::exit(RuntimeOrigin::signed(BOB)));

		let node = Nodes::<Test>::get(&BOB).unwrap();
		assert_eq!(node.status, NodeStatus::Unbonding);
		assert_eq!(node.bond, 0);
		// The earlier chunk merges and its delay restarts.
		assert_eq!(node.unbonding, Some((VALIDATOR_MIN_BOND + 300, 4 + UNBONDING_DELAY)));
		assert_eq!(held(&BOB), VALIDATOR_MIN_BOND + 300);
		assert_eq!(
			registry_events(),
			vec![
				Event::StatusChanged {
					node: BOB,
					from: NodeStatus::Active,
					to: NodeStatus::Unbonding
				},
				Event::ExitStarted { node: BOB, release_at: 4 + UNBONDING_DELAY },
			]
		);
		// An exiting validator is no longer a candidate, and epoch starts leave it alone.
		start_epoch(2);
		assert_eq!(status(&BOB), Some(NodeStatus::Unbonding));
		assert!(<Registry as NodeRegistry<AccountId, u64>>::active_validator_nodes(10).is_empty());
	});
}

#[test]
fn exit_drops_a_pending_declaration() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		assert_ok!(Registry::update_declaration(
			RuntimeOrigin::signed(ALICE),
			small_declaration(3)
		));
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));

		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().pending_declaration, None);
		assert!(DeclarationUpdates::<Test>::get().is_empty());
		start_epoch(1);
		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().declaration, service_declaration());
	});
}

#[test]
fn exit_errors() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Registry::exit(RuntimeOrigin::signed(ALICE)), Error::<Test>::NotRegistered);
		assert_noop!(Registry::exit(RuntimeOrigin::root()), DispatchError::BadOrigin);
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		assert_noop!(Registry::exit(RuntimeOrigin::signed(ALICE)), Error::<Test>::AlreadyUnbonding);
	});
}

#[test]
fn exit_then_withdraw_restores_the_free_balance_exactly() {
	ExtBuilder::default().build_and_execute(|| {
		let before = free(&ALICE);
		let issued = issuance();
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 777);
		assert_ok!(Registry::bond_extra(RuntimeOrigin::signed(ALICE), 123));
		start_epoch(1);
		assert_ok!(set_status(&ALICE, NodeStatus::Active));
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(ALICE), 500));
		run_to_block(3);
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));

		run_to_block(3 + UNBONDING_DELAY - 1);
		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::UnbondingNotDue
		);
		run_to_block(3 + UNBONDING_DELAY);
		clear_events();
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));

		assert_eq!(free(&ALICE), before);
		assert_eq!(held(&ALICE), 0);
		assert_eq!(issuance(), issued);
		assert_eq!(Nodes::<Test>::get(&ALICE), None);
		assert_eq!(NodeOfKey::<Test>::get(key(1)), None);
		assert!(ServiceNodes::<Test>::get().is_empty());
		assert_eq!(
			registry_events(),
			vec![
				Event::Withdrawn { node: ALICE, amount: SERVICE_MIN_BOND + 900 },
				Event::NodeExited { node: ALICE },
			]
		);
		// Gone: every call says so, and the owner and key may register again.
		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(Registry::exit(RuntimeOrigin::signed(ALICE)), Error::<Test>::NotRegistered);
		register_validator(&ALICE, 1, VALIDATOR_MIN_BOND);
		assert_eq!(ValidatorNodes::<Test>::get().into_inner(), vec![ALICE]);
	});
}

#[test]
fn an_exited_node_leaves_its_list_in_order() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		register_service(&BOB, 2, SERVICE_MIN_BOND);
		register_service(&CHARLIE, 3, SERVICE_MIN_BOND);
		assert_ok!(Registry::exit(RuntimeOrigin::signed(BOB)));
		// Listed until the exit completes.
		assert_eq!(ServiceNodes::<Test>::get().into_inner(), vec![ALICE, BOB, CHARLIE]);

		run_to_block(1 + UNBONDING_DELAY);
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(BOB)));
		assert_eq!(ServiceNodes::<Test>::get().into_inner(), vec![ALICE, CHARLIE]);
		// The freed place can be taken.
		register_service(&DAVE, 4, SERVICE_MIN_BOND);
		assert_eq!(ServiceNodes::<Test>::get().into_inner(), vec![ALICE, CHARLIE, DAVE]);
	});
}

#[test]
fn a_partial_withdrawal_before_exit_does_not_remove_the_node() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 100);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(ALICE), 100));
		run_to_block(1 + UNBONDING_DELAY);
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert!(Nodes::<Test>::contains_key(&ALICE));
		assert!(!registry_events().contains(&Event::NodeExited { node: ALICE }));

		// Exit later: the rest comes back.
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		run_to_block(1 + 2 * UNBONDING_DELAY);
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(free(&ALICE), RICH);
		assert!(!Nodes::<Test>::contains_key(&ALICE));
	});
}
