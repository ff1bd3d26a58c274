//! `set_parameters` and its bounds at their edges, the effect of new parameters on bonds and
//! delays, the genesis config, the storage version and the integrity test.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{GetStorageVersion, Hooks, StorageVersion},
};
use sp_runtime::{BuildStorage, DispatchError};

fn params(
	base_bond: u64,
	bond_per_capacity_unit: u64,
	unbonding_delay: u64,
) -> NodeRegistryParams<u64, u64> {
	NodeRegistryParams { base_bond, bond_per_capacity_unit, unbonding_delay }
}

#[test]
fn set_parameters_stores_them_and_emits_an_event() {
	ExtBuilder::default().build_and_execute(|| {
		let new = params(5_000, 3, 20);
		assert_ok!(Registry::set_parameters(RuntimeOrigin::root(), new));
		assert_eq!(Params::<Test>::get(), new);
		assert_eq!(last_event(), Event::ParametersSet { params: new });
	});
}

#[test]
fn set_parameters_accepts_the_smallest_valid_values() {
	ExtBuilder::default().build_and_execute(|| {
		let smallest = params(1, 0, 1);
		assert_ok!(Registry::set_parameters(RuntimeOrigin::root(), smallest));
		assert_eq!(Params::<Test>::get(), smallest);
		assert_eq!(Registry::minimum_bond(&service_declaration()), 1);
		// The largest values are fine too; the minimum saturates.
		let largest = params(u64::MAX, u64::MAX, u64::MAX);
		assert_ok!(Registry::set_parameters(RuntimeOrigin::root(), largest));
		assert_eq!(Registry::minimum_bond(&small_declaration(1)), u64::MAX);
	});
}

#[test]
fn set_parameters_refuses_a_zero_base_bond_or_delay() {
	ExtBuilder::default().build_and_execute(|| {
		for invalid in [params(0, 10, 10), params(1_000, 10, 0), params(0, 0, 0)] {
			assert!(!invalid.is_valid());
			assert_noop!(
				Registry::set_parameters(RuntimeOrigin::root(), invalid),
				Error::<Test>::InvalidParameters
			);
		}
		assert_eq!(Params::<Test>::get(), default_params());
	});
}

#[test]
fn set_parameters_requires_the_admin_origin() {
	ExtBuilder::default().build_and_execute(|| {
		for origin in [RuntimeOrigin::signed(ALICE), RuntimeOrigin::signed(APPEALS)] {
			assert_noop!(
				Registry::set_parameters(origin, params(5_000, 3, 20)),
				DispatchError::BadOrigin
			);
		}
	});
}

#[test]
fn new_parameters_apply_to_new_checks_only() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 100);
		// Double the per-unit bond: the existing bond stays, but cannot be unbonded below the
		// new minimum; new registrations need the new minimum.
		assert_ok!(Registry::set_parameters(RuntimeOrigin::root(), params(1_000, 20, 30)));
		let new_minimum = 1_000 + 20 * SERVICE_UNITS;
		assert_eq!(Registry::minimum_bond(&service_declaration()), new_minimum);
		assert_eq!(held(&ALICE), SERVICE_MIN_BOND + 100);
		assert_noop!(
			Registry::unbond(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::BondBelowMinimum
		);
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(BOB),
				NodeRole::Service,
				service_declaration(),
				key(2),
				proof(&key(2), &BOB),
				new_minimum - 1
			),
			Error::<Test>::BondBelowMinimum
		);
		register_service(&BOB, 2, new_minimum);

		// The new delay applies to the next unbonding.
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().unbonding.map(|(_, at)| at), Some(31));
	});
}

#[test]
fn genesis_sets_the_parameters() {
	ExtBuilder::default().params(params(7, 8, 9)).build_and_execute(|| {
		assert_eq!(Params::<Test>::get(), params(7, 8, 9));
		assert_eq!(CurrentEpoch::<Test>::get(), 0);
		assert_eq!(NextSlashId::<Test>::get(), 0);
		assert_eq!(Nodes::<Test>::iter().count(), 0);
		assert_eq!(Registry::on_chain_storage_version(), StorageVersion::new(0));
	});
}

#[test]
fn the_default_genesis_config_is_valid() {
	let storage = GenesisConfig::<Test>::default().build_storage().unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(Params::<Test>::get(), params(1, 0, 1));
		Registry::do_try_state().unwrap();
	});
}

#[test]
fn the_genesis_config_reads_json() {
	let config: GenesisConfig<Test> = serde_json::from_str(
		r#"{
			"parameters": { "base_bond": 1000, "bond_per_capacity_unit": 10, "unbonding_delay": 10 }
		}"#,
	)
	.unwrap();
	assert_eq!(config.parameters, default_params());
	let json = serde_json::to_value(&config).unwrap();
	assert_eq!(json["parameters"]["unbonding_delay"], 10);
}

#[test]
#[should_panic(expected = "invalid node-registry genesis parameters")]
fn genesis_refuses_a_zero_base_bond() {
	ExtBuilder::default().params(params(0, 1, 1)).build();
}

#[test]
#[should_panic(expected = "invalid node-registry genesis parameters")]
fn genesis_refuses_a_zero_unbonding_delay() {
	ExtBuilder::default().params(params(1, 1, 0)).build();
}

#[test]
fn the_integrity_test_passes() {
	<Registry as Hooks<u64>>::integrity_test();
}
