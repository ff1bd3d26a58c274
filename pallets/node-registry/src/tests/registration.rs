//! `register` and `set_offchain_key`: success, every error, the events, the lists.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, TokenError};

#[test]
fn register_holds_the_bond_and_stores_the_node() {
	ExtBuilder::default().build_and_execute(|| {
		let before = free(&ALICE);
		let bond = SERVICE_MIN_BOND + 500;

		assert_ok!(Registry::register(
			RuntimeOrigin::signed(ALICE),
			NodeRole::Service,
			service_declaration(),
			key(1),
			proof(&key(1), &ALICE),
			bond
		));

		assert_eq!(free(&ALICE), before - bond);
		assert_eq!(held(&ALICE), bond);
		assert_eq!(
			Nodes::<Test>::get(&ALICE),
			Some(NodeInfo {
				role: NodeRole::Service,
				status: NodeStatus::Pending,
				declaration: service_declaration(),
				pending_declaration: None,
				offchain_key: key(1),
				bond,
				unbonding: None,
				registered_at: 1,
				pending_slashes: 0,
			})
		);
		assert_eq!(NodeOfKey::<Test>::get(key(1)), Some(ALICE));
		assert_eq!(ServiceNodes::<Test>::get().into_inner(), vec![ALICE]);
		assert!(ValidatorNodes::<Test>::get().is_empty());
		assert_eq!(
			last_event(),
			Event::NodeRegistered {
				node: ALICE,
				role: NodeRole::Service,
				offchain_key: key(1),
				bond,
				capacity_units: SERVICE_UNITS,
			}
		);
	});
}

#[test]
fn register_validator_joins_the_validator_list() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_block(7);
		assert_ok!(Registry::register(
			RuntimeOrigin::signed(BOB),
			NodeRole::Validator,
			validator_declaration(),
			key(2),
			proof(&key(2), &BOB),
			VALIDATOR_MIN_BOND
		));

		let node = Nodes::<Test>::get(&BOB).unwrap();
		assert_eq!(node.role, NodeRole::Validator);
		assert_eq!(node.status, NodeStatus::Pending);
		assert_eq!(node.registered_at, 7);
		assert_eq!(ValidatorNodes::<Test>::get().into_inner(), vec![BOB]);
		assert!(ServiceNodes::<Test>::get().is_empty());
		assert_eq!(
			last_event(),
			Event::NodeRegistered {
				node: BOB,
				role: NodeRole::Validator,
				offchain_key: key(2),
				bond: VALIDATOR_MIN_BOND,
				capacity_units: VALIDATOR_UNITS,
			}
		);
	});
}

#[test]
fn the_lists_keep_registration_order() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&CHARLIE, 3, SERVICE_MIN_BOND);
		register_validator(&BOB, 2, VALIDATOR_MIN_BOND);
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		register_validator(&filler(0), 10, VALIDATOR_MIN_BOND);

		assert_eq!(ServiceNodes::<Test>::get().into_inner(), vec![CHARLIE, ALICE]);
		assert_eq!(ValidatorNodes::<Test>::get().into_inner(), vec![BOB, filler(0)]);
	});
}

#[test]
fn register_requires_a_signed_origin() {
	ExtBuilder::default().build_and_execute(|| {
		for origin in [RuntimeOrigin::root(), RuntimeOrigin::none()] {
			assert_noop!(
				Registry::register(
					origin,
					NodeRole::Service,
					service_declaration(),
					key(1),
					proof(&key(1), &ALICE),
					SERVICE_MIN_BOND
				),
				DispatchError::BadOrigin
			);
		}
	});
}

#[test]
fn register_refuses_a_second_node_of_the_same_owner() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		for role in [NodeRole::Service, NodeRole::Validator] {
			assert_noop!(
				Registry::register(
					RuntimeOrigin::signed(ALICE),
					role,
					service_declaration(),
					key(2),
					proof(&key(2), &ALICE),
					SERVICE_MIN_BOND
				),
				Error::<Test>::AlreadyRegistered
			);
		}
	});
}

#[test]
fn register_refuses_a_key_in_use() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(BOB),
				NodeRole::Validator,
				validator_declaration(),
				key(1),
				proof(&key(1), &BOB),
				VALIDATOR_MIN_BOND
			),
			Error::<Test>::OffchainKeyInUse
		);
	});
}

#[test]
fn register_refuses_a_full_list() {
	ExtBuilder::default().build_and_execute(|| {
		for index in 0..MAX_SERVICE_NODES as u8 {
			register_service(&filler(index), 10 + index, SERVICE_MIN_BOND);
		}
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(ALICE),
				NodeRole::Service,
				service_declaration(),
				key(1),
				proof(&key(1), &ALICE),
				SERVICE_MIN_BOND
			),
			Error::<Test>::TooManyNodes
		);

		// The validator list is separate.
		for index in 0..MAX_VALIDATOR_NODES as u8 {
			register_validator(&filler(10 + index), 30 + index, VALIDATOR_MIN_BOND);
		}
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(ALICE),
				NodeRole::Validator,
				validator_declaration(),
				key(1),
				proof(&key(1), &ALICE),
				VALIDATOR_MIN_BOND
			),
			Error::<Test>::TooManyNodes
		);
		assert_eq!(ServiceNodes::<Test>::get().len(), MAX_SERVICE_NODES as usize);
		assert_eq!(ValidatorNodes::<Test>::get().len(), MAX_VALIDATOR_NODES as usize);
	});
}

#[test]
fn register_fails_with_the_currency_error_when_the_bond_cannot_be_held() {
	ExtBuilder::default().build_and_execute(|| {
		// Dave must keep the existential deposit.
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(DAVE),
				NodeRole::Service,
				service_declaration(),
				key(4),
				proof(&key(4), &DAVE),
				DAVE_BALANCE - ED + 1
			),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		assert!(ServiceNodes::<Test>::get().is_empty());

		assert_ok!(Registry::register(
			RuntimeOrigin::signed(DAVE),
			NodeRole::Service,
			service_declaration(),
			key(4),
			proof(&key(4), &DAVE),
			DAVE_BALANCE - ED
		));
		assert_eq!(free(&DAVE), ED);
		assert_eq!(held(&DAVE), DAVE_BALANCE - ED);
	});
}

#[test]
fn a_failed_registration_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let mut declaration = service_declaration();
		declaration.endpoint = bounded(b"ftp://node".to_vec());
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(ALICE),
				NodeRole::Service,
				declaration,
				key(1),
				proof(&key(1), &ALICE),
				SERVICE_MIN_BOND
			),
			Error::<Test>::InvalidEndpoint
		);
		assert_eq!(held(&ALICE), 0);
		assert_eq!(free(&ALICE), RICH);
	});
}

#[test]
fn set_offchain_key_replaces_the_key_and_its_mapping() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);

		assert_ok!(Registry::set_offchain_key(
			RuntimeOrigin::signed(ALICE),
			key(9),
			proof(&key(9), &ALICE)
		));

		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().offchain_key, key(9));
		assert_eq!(NodeOfKey::<Test>::get(key(9)), Some(ALICE));
		assert_eq!(NodeOfKey::<Test>::get(key(1)), None);
		assert_eq!(
			last_event(),
			Event::OffchainKeyChanged { node: ALICE, old: key(1), new: key(9) }
		);

		// The old key is free for another node.
		register_validator(&BOB, 1, VALIDATOR_MIN_BOND);
		assert_eq!(NodeOfKey::<Test>::get(key(1)), Some(BOB));
	});
}

#[test]
fn set_offchain_key_errors() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::set_offchain_key(
				RuntimeOrigin::signed(ALICE),
				key(9),
				proof(&key(9), &ALICE)
			),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Registry::set_offchain_key(RuntimeOrigin::root(), key(9), proof(&key(9), &ALICE)),
			DispatchError::BadOrigin
		);

		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		register_service(&BOB, 2, SERVICE_MIN_BOND);
		// Another node's key, and the node's own key.
		assert_noop!(
			Registry::set_offchain_key(
				RuntimeOrigin::signed(ALICE),
				key(2),
				proof(&key(2), &ALICE)
			),
			Error::<Test>::OffchainKeyInUse
		);
		assert_noop!(
			Registry::set_offchain_key(
				RuntimeOrigin::signed(ALICE),
				key(1),
				proof(&key(1), &ALICE)
			),
			Error::<Test>::OffchainKeyInUse
		);

		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		assert_noop!(
			Registry::set_offchain_key(
				RuntimeOrigin::signed(ALICE),
				key(9),
				proof(&key(9), &ALICE)
			),
			Error::<Test>::NodeUnbonding
		);
	});
}

#[test]
fn register_requires_the_off_chain_keys_signature() {
	ExtBuilder::default().build_and_execute(|| {
		let register = |key_proof| {
			Registry::register(
				RuntimeOrigin::signed(ALICE),
				NodeRole::Service,
				service_declaration(),
				key(1),
				key_proof,
				SERVICE_MIN_BOND,
			)
		};
		// Signed by another key, for another owner, over another message, or garbage: refused,
		// nothing changes (a front-runner cannot register a key it does not hold).
		assert_noop!(register(proof(&key(2), &ALICE)), Error::<Test>::InvalidKeyProof);
		assert_noop!(register(proof(&key(1), &BOB)), Error::<Test>::InvalidKeyProof);
		let other_message = {
			use sp_core::Pair;
			sp_core::sr25519::Pair::from_seed(&[1; 32]).sign(b"dsync/node-key").into()
		};
		assert_noop!(register(other_message), Error::<Test>::InvalidKeyProof);
		let garbage =
			sp_runtime::MultiSignature::Sr25519(sp_core::sr25519::Signature::from_raw([0; 64]));
		assert_noop!(register(garbage), Error::<Test>::InvalidKeyProof);
		assert_ok!(register(proof(&key(1), &ALICE)));
	});
}

#[test]
fn the_key_proof_message_binds_the_owner_and_the_chain() {
	ExtBuilder::default().build_and_execute(|| {
		let alice = Registry::key_proof_message(&ALICE);
		assert_ne!(alice, Registry::key_proof_message(&BOB));
		assert!(alice.starts_with(KEY_PROOF_CONTEXT));
		// Another genesis hash, another message: a proof does not carry over to another chain.
		frame_system::BlockHash::<Test>::insert(0, sp_core::H256::repeat_byte(1));
		assert_ne!(Registry::key_proof_message(&ALICE), alice);
	});
}

#[test]
fn set_offchain_key_requires_the_new_keys_signature() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		assert_noop!(
			Registry::set_offchain_key(
				RuntimeOrigin::signed(ALICE),
				key(9),
				proof(&key(8), &ALICE)
			),
			Error::<Test>::InvalidKeyProof
		);
		assert_noop!(
			Registry::set_offchain_key(RuntimeOrigin::signed(ALICE), key(9), proof(&key(9), &BOB)),
			Error::<Test>::InvalidKeyProof
		);
	});
}
