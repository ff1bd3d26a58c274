//! The `NodeRegistry` interface Proof of Sync works through: summaries, key lookup, probe
//! targets, verifier candidates, status changes and the epoch start.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::Perbill;

type Nr = Registry;

fn summary(who: &AccountId) -> Option<NodeSummary<AccountId, u64>> {
	<Nr as NodeRegistry<AccountId, u64>>::node(who)
}

fn probe_targets(max: u32) -> Vec<AccountId> {
	<Nr as NodeRegistry<AccountId, u64>>::probe_targets(max)
}

fn active_validators(max: u32) -> Vec<AccountId> {
	<Nr as NodeRegistry<AccountId, u64>>::active_validator_nodes(max)
}

fn set_status(who: &AccountId, to: NodeStatus) -> sp_runtime::DispatchResult {
	<Nr as NodeRegistry<AccountId, u64>>::set_status(who, to)
}

#[test]
fn node_summarises_the_declaration_in_force_and_the_active_bond() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(summary(&ALICE), None);
		register_service(&ALICE, 1, SERVICE_MIN_BOND + 300);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(ALICE), 300));
		assert_ok!(Registry::update_declaration(
			RuntimeOrigin::signed(ALICE),
			small_declaration(2)
		));

		assert_eq!(
			summary(&ALICE),
			Some(NodeSummary {
				role: NodeRole::Service,
				status: NodeStatus::Pending,
				offchain_key: key(1),
				endpoint: b"https://node.example.org:9955/".to_vec(),
				capacity_units: SERVICE_UNITS,
				// The declaration in force (the update waits for the next epoch).
				storage_gib: 500,
				bond: SERVICE_MIN_BOND,
			})
		);
	});
}

#[test]
fn node_of_key_finds_the_owner() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		register_validator(&BOB, 2, VALIDATOR_MIN_BOND);
		let of_key = |seed| <Nr as NodeRegistry<AccountId, u64>>::node_of_key(&key(seed));
		assert_eq!(of_key(1), Some(ALICE));
		assert_eq!(of_key(2), Some(BOB));
		assert_eq!(of_key(3), None);
		// An owner account is not a key.
		assert_eq!(<Nr as NodeRegistry<AccountId, u64>>::node_of_key(&ALICE), None);
		assert_ok!(Registry::set_offchain_key(
			RuntimeOrigin::signed(BOB),
			key(5),
			proof(&key(5), &BOB)
		));
		assert_eq!(of_key(2), None);
		assert_eq!(of_key(5), Some(BOB));
	});
}

#[test]
fn probe_targets_are_the_live_service_nodes_in_order() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		register_validator(&BOB, 2, VALIDATOR_MIN_BOND);
		register_service(&CHARLIE, 3, SERVICE_MIN_BOND);
		register_service(&DAVE, 4, SERVICE_MIN_BOND);
		register_service(&filler(0), 10, SERVICE_MIN_BOND);
		assert_ok!(set_status(&CHARLIE, NodeStatus::Active));
		assert_ok!(set_status(&DAVE, NodeStatus::Suspended));
		assert_ok!(Registry::exit(RuntimeOrigin::signed(filler(0))));

		// Pending, active and suspended service nodes; not exiting ones, not validators.
		assert_eq!(probe_targets(10), vec![ALICE, CHARLIE, DAVE]);
		assert_eq!(probe_targets(2), vec![ALICE, CHARLIE]);
		assert!(probe_targets(0).is_empty());
	});
}

#[test]
fn verifier_candidates_are_the_active_validators_in_order() {
	ExtBuilder::default().build_and_execute(|| {
		register_validator(&ALICE, 1, VALIDATOR_MIN_BOND);
		register_service(&BOB, 2, SERVICE_MIN_BOND);
		register_validator(&CHARLIE, 3, VALIDATOR_MIN_BOND);
		register_validator(&DAVE, 4, VALIDATOR_MIN_BOND);
		assert!(active_validators(10).is_empty());

		start_epoch(1);
		assert_ok!(set_status(&BOB, NodeStatus::Active));
		assert_eq!(active_validators(10), vec![ALICE, CHARLIE, DAVE]);
		assert_eq!(active_validators(1), vec![ALICE]);

		assert_ok!(set_status(&CHARLIE, NodeStatus::Suspended));
		assert_ok!(Registry::exit(RuntimeOrigin::signed(DAVE)));
		assert_eq!(active_validators(10), vec![ALICE]);
	});
}

#[test]
fn set_status_changes_the_status_once() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		clear_events();
		assert_ok!(set_status(&ALICE, NodeStatus::Active));
		assert_eq!(
			registry_events(),
			vec![Event::StatusChanged {
				node: ALICE,
				from: NodeStatus::Pending,
				to: NodeStatus::Active
			}]
		);
		// Unchanged: no event.
		clear_events();
		assert_ok!(set_status(&ALICE, NodeStatus::Active));
		assert!(registry_events().is_empty());
		// Back to pending is allowed (Proof of Sync decides).
		assert_ok!(set_status(&ALICE, NodeStatus::Pending));
		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().status, NodeStatus::Pending);
	});
}

#[test]
fn set_status_errors() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(set_status(&ALICE, NodeStatus::Active), Error::<Test>::NotRegistered);
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		// `Unbonding` is reached only through `exit`.
		assert_noop!(set_status(&ALICE, NodeStatus::Unbonding), Error::<Test>::InvalidTransition);
		// An exiting node never comes back.
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		for to in [NodeStatus::Pending, NodeStatus::Active, NodeStatus::Suspended] {
			assert_noop!(set_status(&ALICE, to), Error::<Test>::NodeUnbonding);
		}
		assert_noop!(set_status(&ALICE, NodeStatus::Unbonding), Error::<Test>::InvalidTransition);
	});
}

#[test]
fn on_epoch_start_records_the_epoch_and_returns_the_weight_of_its_work() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		register_validator(&BOB, 2, VALIDATOR_MIN_BOND);
		register_validator(&CHARLIE, 3, VALIDATOR_MIN_BOND);
		assert_ok!(<Nr as NodeRegistry<AccountId, u64>>::schedule_slash(
			&ALICE,
			Perbill::from_percent(1),
			SlashReason::RepeatedMisses,
			7
		));
		start_epoch(6);
		assert_ok!(Registry::update_declaration(
			RuntimeOrigin::signed(ALICE),
			small_declaration(2)
		));
		let weight = <Nr as NodeRegistry<AccountId, u64>>::on_epoch_start(7);

		assert_eq!(CurrentEpoch::<Test>::get(), 7);
		assert_eq!(weight, <() as WeightInfo>::on_epoch_start(1, 2, 1));
		assert_eq!(active_validators(10), vec![BOB, CHARLIE]);
		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().bond, 2_970);
		// A quiet epoch costs the base weight.
		let weight = <Nr as NodeRegistry<AccountId, u64>>::on_epoch_start(8);
		assert_eq!(weight, <() as WeightInfo>::on_epoch_start(0, 2, 0));
	});
}

#[test]
fn gpu_providers_follow_status_declarations_and_exits() {
	ExtBuilder::default().build_and_execute(|| {
		// Pending nodes are not candidates; validators never are.
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		register_service(&BOB, 2, SERVICE_MIN_BOND);
		register_validator(&CHARLIE, 3, VALIDATOR_MIN_BOND);
		start_epoch(1);
		assert!(providers(ServiceKind::GpuInference).is_empty());
		assert_eq!(gpu_providers(1, 10), Vec::<AccountId>::new());

		// Activation adds them, in the order they became active.
		assert_ok!(set_status(&BOB, NodeStatus::Active));
		assert_ok!(set_status(&ALICE, NodeStatus::Active));
		assert_eq!(providers(ServiceKind::GpuInference), vec![BOB, ALICE]);
		assert_eq!(gpu_providers(1, 10), vec![BOB, ALICE]);
		assert_eq!(gpu_providers(2, 1), vec![BOB]);
		assert_eq!(gpu_providers(3, 10), Vec::<AccountId>::new());

		// Suspension removes, reactivation adds again.
		assert_ok!(set_status(&BOB, NodeStatus::Suspended));
		assert_eq!(gpu_providers(1, 10), vec![ALICE]);
		assert_ok!(set_status(&BOB, NodeStatus::Active));
		assert_eq!(gpu_providers(1, 10), vec![ALICE, BOB]);

		// A declaration without GPU inference takes effect at the next epoch, and only then.
		assert_ok!(Registry::update_declaration(
			RuntimeOrigin::signed(ALICE),
			small_declaration(SERVICE_UNITS as u32)
		));
		assert_eq!(gpu_providers(1, 10), vec![ALICE, BOB]);
		start_epoch(2);
		assert_eq!(gpu_providers(1, 10), vec![BOB]);
		// And back, serving model 2 only: a claim of more, verified again in warm-up first.
		let mut only_two = service_declaration();
		only_two.models = bounded(vec![2]);
		assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(ALICE), only_two));
		start_epoch(3);
		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().status, NodeStatus::Pending);
		assert_eq!(gpu_providers(2, 10), vec![BOB]);
		assert_ok!(set_status(&ALICE, NodeStatus::Active));
		assert_eq!(gpu_providers(1, 10), vec![BOB]);
		assert_eq!(gpu_providers(2, 10), vec![BOB, ALICE]);

		// An exit removes at once.
		assert_ok!(Registry::exit(RuntimeOrigin::signed(BOB)));
		assert_eq!(providers(ServiceKind::GpuInference), vec![ALICE]);
	});
}

#[test]
fn every_service_kind_has_its_provider_list() {
	ExtBuilder::default().build_and_execute(|| {
		// Alice and Bob offer GPU inference and storage, Dave naming only.
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		register_service(&BOB, 2, SERVICE_MIN_BOND);
		assert_ok!(Registry::register(
			RuntimeOrigin::signed(DAVE),
			NodeRole::Service,
			small_declaration(4),
			key(4),
			proof(&key(4), &DAVE),
			BASE_BOND + BOND_PER_UNIT * 4,
		));
		for kind in ServiceKind::ALL {
			assert!(providers(kind).is_empty());
		}

		for owner in [&DAVE, &BOB, &ALICE] {
			assert_ok!(set_status(owner, NodeStatus::Active));
		}
		assert_eq!(providers(ServiceKind::GpuInference), vec![BOB, ALICE]);
		assert_eq!(providers(ServiceKind::Storage), vec![BOB, ALICE]);
		assert_eq!(providers(ServiceKind::Naming), vec![DAVE]);
		assert!(providers(ServiceKind::Other).is_empty());
		let first_storage_providers =
			|max: u32| <Nr as NodeRegistry<AccountId, u64>>::providers(ServiceKind::Storage, max);
		assert_eq!(first_storage_providers(1), vec![BOB]);
		assert!(first_storage_providers(0).is_empty());

		// Bob drops storage: he leaves that list only, at the next epoch.
		let mut gpu_only = service_declaration();
		gpu_only.services = bounded(vec![ServiceKind::GpuInference]);
		assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(BOB), gpu_only));
		assert_eq!(providers(ServiceKind::Storage), vec![BOB, ALICE]);
		start_epoch(1);
		assert_eq!(providers(ServiceKind::GpuInference), vec![BOB, ALICE]);
		assert_eq!(providers(ServiceKind::Storage), vec![ALICE]);

		// Suspension and exit remove a node from every list it is in.
		assert_ok!(set_status(&ALICE, NodeStatus::Suspended));
		assert_eq!(providers(ServiceKind::GpuInference), vec![BOB]);
		assert!(providers(ServiceKind::Storage).is_empty());
		assert_ok!(Registry::exit(RuntimeOrigin::signed(DAVE)));
		assert!(providers(ServiceKind::Naming).is_empty());
	});
}

#[test]
fn serves_model_reads_the_declaration_in_force() {
	ExtBuilder::default().build_and_execute(|| {
		let serves = |owner: &AccountId, model| {
			<Nr as NodeRegistry<AccountId, u64>>::serves_model(owner, model)
		};
		assert!(!serves(&ALICE, 1));
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		assert!(serves(&ALICE, 1) && serves(&ALICE, 2));
		assert!(!serves(&ALICE, 3));

		// A new model list applies at the next epoch.
		let mut only_three = service_declaration();
		only_three.models = bounded(vec![3]);
		assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(ALICE), only_three));
		assert!(serves(&ALICE, 1) && !serves(&ALICE, 3));
		start_epoch(1);
		assert!(!serves(&ALICE, 1) && serves(&ALICE, 3));
	});
}
