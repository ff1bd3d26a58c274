//! Bonds: the minimum (scaling with capacity, at its edges), `bond_extra`, `unbond` and
//! `withdraw_unbonded` of a node that stays registered.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, TokenError};

#[test]
fn the_minimum_bond_scales_with_capacity() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Registry::minimum_bond(&service_declaration()), SERVICE_MIN_BOND);
		assert_eq!(Registry::minimum_bond(&validator_declaration()), VALIDATOR_MIN_BOND);
		for cores in [1u32, 100, MAX_CPU_CORES] {
			assert_eq!(
				Registry::minimum_bond(&small_declaration(cores)),
				BASE_BOND + BOND_PER_UNIT * u64::from(cores)
			);
		}
	});
}

#[test]
fn exactly_the_minimum_is_accepted_and_one_planck_less_refused() {
	ExtBuilder::default().build_and_execute(|| {
		for (who, cores, seed) in [(ALICE, 1u32, 1u8), (BOB, 100, 2), (CHARLIE, 4096, 3)] {
			let minimum = BASE_BOND + BOND_PER_UNIT * u64::from(cores);
			assert_noop!(
				Registry::register(
					RuntimeOrigin::signed(who.clone()),
					NodeRole::Service,
					small_declaration(cores),
					key(seed),
					proof(&key(seed), &who.clone()),
					minimum - 1
				),
				Error::<Test>::BondBelowMinimum
			);
			assert_ok!(Registry::register(
				RuntimeOrigin::signed(who.clone()),
				NodeRole::Service,
				small_declaration(cores),
				key(seed),
				proof(&key(seed), &who.clone()),
				minimum
			));
			assert_eq!(held(&who), minimum);
		}
		// A zero bond is below any minimum.
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(DAVE),
				NodeRole::Service,
				small_declaration(1),
				key(4),
				proof(&key(4), &DAVE),
				0
			),
			Error::<Test>::BondBelowMinimum
		);
	});
}

#[test]
fn bond_extra_holds_more() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		let before = free(&ALICE);

		assert_ok!(Registry::bond_extra(RuntimeOrigin::signed(ALICE), 700));

		assert_eq!(free(&ALICE), before - 700);
		assert_eq!(held(&ALICE), SERVICE_MIN_BOND + 700);
		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().bond, SERVICE_MIN_BOND + 700);
		assert_eq!(
			last_event(),
			Event::BondIncreased { node: ALICE, amount: 700, bond: SERVICE_MIN_BOND + 700 }
		);
	});
}

#[test]
fn bond_extra_errors() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::bond_extra(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::NotRegistered
		);
		assert_noop!(Registry::bond_extra(RuntimeOrigin::root(), 1), DispatchError::BadOrigin);
		register_service(&DAVE, 4, SERVICE_MIN_BOND);
		assert_noop!(
			Registry::bond_extra(RuntimeOrigin::signed(DAVE), 0),
			Error::<Test>::ZeroAmount
		);
		// Dave keeps the existential deposit.
		let spare = DAVE_BALANCE - SERVICE_MIN_BOND - ED;
		assert_noop!(
			Registry::bond_extra(RuntimeOrigin::signed(DAVE), spare + 1),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		assert_ok!(Registry::bond_extra(RuntimeOrigin::signed(DAVE), spare));
		assert_eq!(free(&DAVE), ED);

		assert_ok!(Registry::exit(RuntimeOrigin::signed(DAVE)));
		assert_noop!(
			Registry::bond_extra(RuntimeOrigin::signed(DAVE), 1),
			Error::<Test>::NodeUnbonding
		);
	});
}

#[test]
fn unbond_moves_bond_into_a_held_chunk() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 1_000);
		let before = free(&ALICE);
		run_to_block(5);

		assert_ok!(Registry::unbond(RuntimeOrigin::signed(ALICE), 400));

		let node = Nodes::<Test>::get(&ALICE).unwrap();
		assert_eq!(node.bond, SERVICE_MIN_BOND + 600);
		assert_eq!(node.unbonding, Some((400, 5 + UNBONDING_DELAY)));
		// Still held, still registered.
		assert_eq!(held(&ALICE), SERVICE_MIN_BOND + 1_000);
		assert_eq!(free(&ALICE), before);
		assert_eq!(node.status, NodeStatus::Pending);
		assert_eq!(
			last_event(),
			Event::Unbonded { node: ALICE, amount: 400, release_at: 5 + UNBONDING_DELAY }
		);

		// Unbonding again merges into the chunk and restarts its delay.
		run_to_block(8);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(ALICE), 600));
		let node = Nodes::<Test>::get(&ALICE).unwrap();
		assert_eq!(node.bond, SERVICE_MIN_BOND);
		assert_eq!(node.unbonding, Some((1_000, 8 + UNBONDING_DELAY)));
		assert_eq!(
			last_event(),
			Event::Unbonded { node: ALICE, amount: 600, release_at: 8 + UNBONDING_DELAY }
		);
	});
}

#[test]
fn unbond_keeps_the_minimum_of_the_declaration_in_force() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 100);
		assert_noop!(
			Registry::unbond(RuntimeOrigin::signed(ALICE), 101),
			Error::<Test>::BondBelowMinimum
		);
		// More than the whole bond.
		assert_noop!(
			Registry::unbond(RuntimeOrigin::signed(ALICE), SERVICE_MIN_BOND + 101),
			Error::<Test>::BondBelowMinimum
		);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(ALICE), 100));
		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().bond, SERVICE_MIN_BOND);
		assert_noop!(
			Registry::unbond(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::BondBelowMinimum
		);
	});
}

#[test]
fn unbond_keeps_the_minimum_of_the_pending_declaration() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 500);
		// The pending declaration is 20 units larger: it needs 200 more.
		let mut bigger = service_declaration();
		bigger.resources.cpu_cores += 20;
		assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(ALICE), bigger));
		assert_noop!(
			Registry::unbond(RuntimeOrigin::signed(ALICE), 301),
			Error::<Test>::BondBelowMinimum
		);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(ALICE), 300));

		// A smaller pending declaration does not lower the minimum of the one in force.
		register_service(&BOB, 2, SERVICE_MIN_BOND + 500);
		assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(BOB), small_declaration(1)));
		assert_noop!(
			Registry::unbond(RuntimeOrigin::signed(BOB), 501),
			Error::<Test>::BondBelowMinimum
		);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(BOB), 500));
	});
}

#[test]
fn unbond_errors() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::unbond(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::NotRegistered
		);
		assert_noop!(Registry::unbond(RuntimeOrigin::none(), 1), DispatchError::BadOrigin);
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 100);
		assert_noop!(Registry::unbond(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ZeroAmount);
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		assert_noop!(
			Registry::unbond(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::NodeUnbonding
		);
	});
}

#[test]
fn withdraw_unbonded_releases_a_due_chunk_and_keeps_the_node() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 1_000);
		let before = free(&ALICE);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(ALICE), 1_000));
		let release_at = 1 + UNBONDING_DELAY;

		run_to_block(release_at - 1);
		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::UnbondingNotDue
		);

		run_to_block(release_at);
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));

		assert_eq!(free(&ALICE), before + 1_000);
		assert_eq!(held(&ALICE), SERVICE_MIN_BOND);
		let node = Nodes::<Test>::get(&ALICE).unwrap();
		assert_eq!(node.unbonding, None);
		assert_eq!(node.bond, SERVICE_MIN_BOND);
		assert_eq!(node.status, NodeStatus::Pending);
		assert_eq!(last_event(), Event::Withdrawn { node: ALICE, amount: 1_000 });
		assert_eq!(ServiceNodes::<Test>::get().into_inner(), vec![ALICE]);

		// Nothing left to withdraw.
		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NothingToWithdraw
		);
	});
}

#[test]
fn withdraw_unbonded_errors() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(Registry::withdraw_unbonded(RuntimeOrigin::root()), DispatchError::BadOrigin);
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NothingToWithdraw
		);
	});
}
