//! Declarations: validation (every rule, at its edges), the capacity formula, and
//! `update_declaration` (pending until the next epoch start).

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::ConstU32};
use sp_runtime::{DispatchError, DispatchResult, TransactionOutcome};

/// Register Alice with `declaration` and `role`, bonding plenty.
fn register_with(role: NodeRole, declaration: DeclarationOf<Test>) -> DispatchResult {
	Registry::register(
		RuntimeOrigin::signed(ALICE),
		role,
		declaration,
		key(1),
		proof(&key(1), &ALICE),
		RICH / 2,
	)
}

/// `declaration` changed by `change`.
fn changed(
	mut declaration: DeclarationOf<Test>,
	change: impl FnOnce(&mut DeclarationOf<Test>),
) -> DeclarationOf<Test> {
	change(&mut declaration);
	declaration
}

/// `service_declaration` changed by `change`.
fn service_with(change: impl FnOnce(&mut DeclarationOf<Test>)) -> DeclarationOf<Test> {
	changed(service_declaration(), change)
}

/// `validator_declaration` changed by `change`.
fn validator_with(change: impl FnOnce(&mut DeclarationOf<Test>)) -> DeclarationOf<Test> {
	changed(validator_declaration(), change)
}

/// Resources of the test runtime.
fn resources(
	cpu_cores: u32,
	memory_mib: u64,
	storage_gib: u64,
	bandwidth_mbps: u32,
	gpus: Vec<GpuSpec<ConstU32<64>>>,
) -> Resources<ConstU32<8>, ConstU32<64>> {
	Resources { cpu_cores, memory_mib, storage_gib, bandwidth_mbps, gpus: bounded(gpus) }
}

#[test]
fn the_test_declarations_are_valid() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(service_declaration().validate(NodeRole::Service), Ok(()));
		assert_eq!(validator_declaration().validate(NodeRole::Validator), Ok(()));
		assert_eq!(small_declaration(1).validate(NodeRole::Service), Ok(()));
		// A validator may declare services too.
		assert_eq!(service_declaration().validate(NodeRole::Validator), Ok(()));
	});
}

#[test]
fn endpoints_must_be_probe_urls_for_both_roles() {
	ExtBuilder::default().build_and_execute(|| {
		for bad in [
			&b""[..],
			b"ftp://node.example",
			b"http://",
			b"https:///path",
			b"http://node example",
			b"http://node?query=1",
			b"http://node#fragment",
			b"node.example:9955",
		] {
			let declaration = service_with(|d| d.endpoint = bounded(bad.to_vec()));
			assert_eq!(
				declaration.validate(NodeRole::Service),
				Err(DeclarationError::InvalidEndpoint)
			);
			assert_noop!(
				register_with(NodeRole::Service, declaration),
				Error::<Test>::InvalidEndpoint
			);
			let declaration = validator_with(|d| d.endpoint = bounded(bad.to_vec()));
			assert_noop!(
				register_with(NodeRole::Validator, declaration),
				Error::<Test>::InvalidEndpoint
			);
		}
		// The longest endpoint the bound allows is fine.
		let mut longest = b"http://".to_vec();
		longest.resize(128, b'a');
		assert_ok!(register_with(
			NodeRole::Validator,
			validator_with(|d| d.endpoint = bounded(longest))
		));
	});
}

#[test]
fn cpu_cores_and_memory_are_bounded() {
	ExtBuilder::default().build_and_execute(|| {
		for invalid in [
			service_with(|d| d.resources.cpu_cores = 0),
			service_with(|d| d.resources.cpu_cores = MAX_CPU_CORES + 1),
			service_with(|d| d.resources.memory_mib = 0),
		] {
			assert_eq!(
				invalid.validate(NodeRole::Service),
				Err(DeclarationError::InvalidResources)
			);
			assert_noop!(
				register_with(NodeRole::Service, invalid),
				Error::<Test>::InvalidResources
			);
		}
		// The edges themselves are valid.
		assert_eq!(service_with(|d| d.resources.cpu_cores = 1).validate(NodeRole::Service), Ok(()));
		assert_eq!(
			service_with(|d| {
				d.resources.cpu_cores = MAX_CPU_CORES;
				d.resources.memory_mib = 1;
			})
			.validate(NodeRole::Service),
			Ok(())
		);
	});
}

#[test]
fn every_gpu_entry_is_checked() {
	ExtBuilder::default().build_and_execute(|| {
		for bad in [
			gpu(b"", 1, 1024),
			gpu(b"RTX\n4090", 1, 1024),
			gpu(b"H\xc3\xa9", 1, 1024),
			gpu(b"\x7f", 1, 1024),
			gpu(b"A100", 0, 1024),
			gpu(b"A100", MAX_GPUS_PER_KIND + 1, 1024),
			gpu(b"A100", 1, 0),
		] {
			let declaration =
				service_with(|d| d.resources.gpus = bounded(vec![gpu(b"L4", 1, 1024), bad]));
			assert_eq!(
				declaration.validate(NodeRole::Service),
				Err(DeclarationError::InvalidResources)
			);
			assert_noop!(
				register_with(NodeRole::Service, declaration),
				Error::<Test>::InvalidResources
			);
		}
		// Edges: one printable character (space and tilde included), 1 and 64 GPUs, 1 MiB.
		for good in [gpu(b" ", 1, 1), gpu(b"~", MAX_GPUS_PER_KIND, 1), gpu(&[b'x'; 64], 1, 1)] {
			let declaration = service_with(|d| d.resources.gpus = bounded(vec![good]));
			assert_eq!(declaration.validate(NodeRole::Service), Ok(()));
		}
	});
}

#[test]
fn services_must_be_distinct_and_backed_by_resources() {
	ExtBuilder::default().build_and_execute(|| {
		for invalid in [
			// Listed twice.
			service_with(|d| {
				d.services = bounded(vec![ServiceKind::Naming, ServiceKind::Naming]);
				d.models = bounded(vec![]);
			}),
			// A service node offering nothing.
			service_with(|d| {
				d.services = bounded(vec![]);
				d.models = bounded(vec![]);
			}),
			// GPU inference without a GPU.
			service_with(|d| d.resources.gpus = bounded(vec![])),
			// Storage without storage.
			service_with(|d| d.resources.storage_gib = 0),
		] {
			assert_eq!(invalid.validate(NodeRole::Service), Err(DeclarationError::InvalidServices));
			assert_noop!(register_with(NodeRole::Service, invalid), Error::<Test>::InvalidServices);
		}
		// A validator may offer nothing; storage of exactly 1 GiB backs the storage service.
		assert_eq!(validator_declaration().validate(NodeRole::Validator), Ok(()));
		assert_eq!(
			service_with(|d| d.resources.storage_gib = 1).validate(NodeRole::Service),
			Ok(())
		);
		// Validators are held to the same service rules.
		assert_noop!(
			register_with(
				NodeRole::Validator,
				validator_with(|d| d.services = bounded(vec![ServiceKind::GpuInference]))
			),
			Error::<Test>::InvalidServices
		);
	});
}

#[test]
fn models_need_gpu_inference_and_must_be_distinct() {
	ExtBuilder::default().build_and_execute(|| {
		for invalid in [
			service_with(|d| d.models = bounded(vec![7, 8, 7])),
			changed(small_declaration(4), |d| d.models = bounded(vec![1])),
			validator_with(|d| d.models = bounded(vec![1])),
		] {
			let role =
				if invalid.services.is_empty() { NodeRole::Validator } else { NodeRole::Service };
			assert_eq!(invalid.validate(role), Err(DeclarationError::InvalidModels));
			assert_noop!(register_with(role, invalid), Error::<Test>::InvalidModels);
		}
		// GPU inference without models is fine.
		assert_eq!(
			service_with(|d| d.models = bounded(vec![])).validate(NodeRole::Service),
			Ok(())
		);
	});
}

#[test]
fn capacity_units_follow_the_formula() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(service_declaration().capacity_units(), SERVICE_UNITS);
		assert_eq!(validator_declaration().capacity_units(), VALIDATOR_UNITS);
		assert_eq!(small_declaration(1).capacity_units(), 1);

		// Every division rounds down.
		assert_eq!(capacity_units(&resources(1, 1023, 99, 99, vec![])), 1);
		assert_eq!(capacity_units(&resources(1, 1024, 100, 100, vec![])), 4);
		assert_eq!(capacity_units(&resources(2, 2047, 250, 199, vec![])), 2 + 1 + 2 + 1);
		// A GPU counts 4 units plus one per GiB of its memory, times the count.
		assert_eq!(
			capacity_units(&resources(
				1,
				1,
				0,
				0,
				vec![gpu(b"A", 3, 2047), gpu(b"B", 1, 80 * 1024)]
			)),
			1 + 3 * (4 + 1) + (4 + 80)
		);
		// At least one unit, even for an (invalid) empty declaration.
		assert_eq!(capacity_units(&resources(0, 0, 0, 0, vec![])), 1);
		// Saturating.
		// The largest values without GPUs stay below the saturation point: every term is exact.
		assert_eq!(
			capacity_units(&resources(u32::MAX, u64::MAX, u64::MAX, u32::MAX, vec![])),
			u64::from(u32::MAX) + u64::MAX / 1024 + u64::MAX / 100 + u64::from(u32::MAX) / 100
		);
		assert_eq!(
			capacity_units(&resources(1, 1, 0, 0, vec![gpu(b"A", u32::MAX, u64::MAX); 8])),
			u64::MAX
		);
	});
}

#[test]
fn update_declaration_is_pending_until_the_next_epoch_start() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		start_epoch(4);
		let new = small_declaration(50);

		assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(ALICE), new.clone()));

		let node = Nodes::<Test>::get(&ALICE).unwrap();
		assert_eq!(node.declaration, service_declaration());
		assert_eq!(node.pending_declaration, Some(new.clone()));
		assert_eq!(DeclarationUpdates::<Test>::get().into_inner(), vec![ALICE]);
		assert_eq!(
			last_event(),
			Event::DeclarationUpdated { node: ALICE, capacity_units: 50, effective_epoch: 5 }
		);
		// Proof of Sync still sees the declaration in force.
		let summary = <Registry as NodeRegistry<AccountId, u64>>::node(&ALICE).unwrap();
		assert_eq!(summary.capacity_units, SERVICE_UNITS);

		start_epoch(5);

		let node = Nodes::<Test>::get(&ALICE).unwrap();
		assert_eq!(node.declaration, new);
		assert_eq!(node.pending_declaration, None);
		assert!(DeclarationUpdates::<Test>::get().is_empty());
		assert!(registry_events()
			.contains(&Event::DeclarationApplied { node: ALICE, capacity_units: 50 }));
		let summary = <Registry as NodeRegistry<AccountId, u64>>::node(&ALICE).unwrap();
		assert_eq!(summary.capacity_units, 50);
		assert_eq!(summary.endpoint, b"http://naming.example".to_vec());
	});
}

#[test]
fn a_new_update_replaces_the_pending_one() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		register_validator(&BOB, 2, VALIDATOR_MIN_BOND);
		assert_ok!(Registry::update_declaration(
			RuntimeOrigin::signed(ALICE),
			small_declaration(5)
		));
		assert_ok!(Registry::update_declaration(
			RuntimeOrigin::signed(BOB),
			validator_with(|d| d.resources.cpu_cores = 8)
		));
		assert_ok!(Registry::update_declaration(
			RuntimeOrigin::signed(ALICE),
			small_declaration(9)
		));

		assert_eq!(DeclarationUpdates::<Test>::get().into_inner(), vec![ALICE, BOB]);
		clear_events();
		start_epoch(1);

		assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().declaration, small_declaration(9));
		assert_eq!(Nodes::<Test>::get(&BOB).unwrap().declaration.resources.cpu_cores, 8);
		let applied: Vec<_> = registry_events()
			.into_iter()
			.filter(|event| matches!(event, Event::DeclarationApplied { .. }))
			.collect();
		assert_eq!(
			applied,
			vec![
				Event::DeclarationApplied { node: ALICE, capacity_units: 9 },
				Event::DeclarationApplied { node: BOB, capacity_units: VALIDATOR_UNITS - 8 },
			]
		);
	});
}

#[test]
fn update_declaration_needs_the_bond_to_cover_the_new_minimum() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		// Capacity 111 needs 2110; one more core needs 10 more.
		let bigger = service_with(|d| d.resources.cpu_cores = 9);
		assert_noop!(
			Registry::update_declaration(RuntimeOrigin::signed(ALICE), bigger.clone()),
			Error::<Test>::BondBelowMinimum
		);
		assert_ok!(Registry::bond_extra(RuntimeOrigin::signed(ALICE), BOND_PER_UNIT - 1));
		assert_noop!(
			Registry::update_declaration(RuntimeOrigin::signed(ALICE), bigger.clone()),
			Error::<Test>::BondBelowMinimum
		);
		assert_ok!(Registry::bond_extra(RuntimeOrigin::signed(ALICE), 1));
		assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(ALICE), bigger));
	});
}

#[test]
fn update_declaration_errors() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::update_declaration(RuntimeOrigin::signed(ALICE), service_declaration()),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Registry::update_declaration(RuntimeOrigin::root(), service_declaration()),
			DispatchError::BadOrigin
		);
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		// The role's rules apply: a service node must keep offering a service.
		assert_noop!(
			Registry::update_declaration(
				RuntimeOrigin::signed(ALICE),
				service_with(|d| {
					d.services = bounded(vec![]);
					d.models = bounded(vec![]);
				})
			),
			Error::<Test>::InvalidServices
		);
		assert_noop!(
			Registry::update_declaration(
				RuntimeOrigin::signed(ALICE),
				service_with(|d| d.endpoint = bounded(b"http://".to_vec()))
			),
			Error::<Test>::InvalidEndpoint
		);
		assert_noop!(
			Registry::update_declaration(
				RuntimeOrigin::signed(ALICE),
				service_with(|d| d.resources.memory_mib = 0)
			),
			Error::<Test>::InvalidResources
		);
		assert_noop!(
			Registry::update_declaration(
				RuntimeOrigin::signed(ALICE),
				service_with(|d| d.models = bounded(vec![3, 3]))
			),
			Error::<Test>::InvalidModels
		);
		assert_ok!(Registry::exit(RuntimeOrigin::signed(ALICE)));
		assert_noop!(
			Registry::update_declaration(RuntimeOrigin::signed(ALICE), small_declaration(1)),
			Error::<Test>::NodeUnbonding
		);
	});
}

#[test]
fn update_declaration_refuses_a_full_update_list() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		// The list holds every node at most once, so it can only be full if the bounds were
		// lowered below the nodes registered: simulate that, then roll back.
		frame_support::storage::with_transaction(|| {
			let full: Vec<AccountId> =
				(0..(MAX_SERVICE_NODES + MAX_VALIDATOR_NODES) as u8).map(filler).collect();
			DeclarationUpdates::<Test>::put(bounded::<_, MaxNodesOf<Test>>(full));
			assert_noop!(
				Registry::update_declaration(RuntimeOrigin::signed(ALICE), small_declaration(1)),
				Error::<Test>::TooManyUpdates
			);
			TransactionOutcome::Rollback(Ok::<(), DispatchError>(()))
		})
		.unwrap();
		assert!(DeclarationUpdates::<Test>::get().is_empty());
	});
}

/// Register Alice's GPU node, make it active, store `new` as her update and start epoch 1.
fn apply_to_active_node(new: DeclarationOf<Test>) {
	register_service(&ALICE, 1, RICH / 2);
	assert_ok!(<Registry as NodeRegistry<AccountId, u64>>::set_status(&ALICE, NodeStatus::Active));
	assert_eq!(providers(ServiceKind::GpuInference), vec![ALICE]);
	assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(ALICE), new.clone()));
	clear_events();
	start_epoch(1);
	assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().declaration, new);
}

#[test]
fn claiming_more_sends_an_active_node_back_to_warm_up() {
	let more_capacity = service_with(|d| d.resources.cpu_cores = 9);
	let new_service = service_with(|d| {
		d.services =
			bounded(vec![ServiceKind::GpuInference, ServiceKind::Storage, ServiceKind::Naming])
	});
	let new_model = service_with(|d| d.models = bounded(vec![1, 2, 3]));
	let bigger_gpu = service_with(|d| d.resources.gpus = bounded(vec![gpu(b"H100", 2, 80 * 1024)]));
	for new in [more_capacity, new_service, new_model, bigger_gpu] {
		ExtBuilder::default().build_and_execute(|| {
			apply_to_active_node(new.clone());
			let node = Nodes::<Test>::get(&ALICE).unwrap();
			assert_eq!(node.status, NodeStatus::Pending);
			// No longer a GPU provider until verified again.
			assert!(providers(ServiceKind::GpuInference).is_empty());
			assert!(gpu_providers(1, 10).is_empty());
			let capacity_units = new.capacity_units();
			assert_eq!(
				registry_events(),
				vec![
					Event::DeclarationApplied { node: ALICE, capacity_units },
					Event::StatusChanged {
						node: ALICE,
						from: NodeStatus::Active,
						to: NodeStatus::Pending
					},
				]
			);
			// Proof of Sync activates it again after a good epoch.
			assert_ok!(<Registry as NodeRegistry<AccountId, u64>>::set_status(
				&ALICE,
				NodeStatus::Active
			));
			assert_eq!(providers(ServiceKind::GpuInference), vec![ALICE]);
			Registry::do_try_state().unwrap();
		});
	}
}

#[test]
fn claiming_the_same_or_less_keeps_the_node_active() {
	let less_capacity = service_with(|d| d.resources.cpu_cores = 7);
	let new_endpoint =
		service_with(|d| d.endpoint = bounded(b"https://elsewhere.example".to_vec()));
	let fewer_models = service_with(|d| d.models = bounded(vec![2]));
	let without_gpu_inference = service_with(|d| {
		d.services = bounded(vec![ServiceKind::Storage]);
		d.models = bounded(vec![]);
	});
	for (new, provider) in [
		(less_capacity, true),
		(new_endpoint, true),
		(fewer_models, true),
		(without_gpu_inference, false),
	] {
		ExtBuilder::default().build_and_execute(|| {
			apply_to_active_node(new.clone());
			assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().status, NodeStatus::Active);
			assert_eq!(providers(ServiceKind::GpuInference).contains(&ALICE), provider);
			assert_eq!(
				registry_events(),
				vec![Event::DeclarationApplied {
					node: ALICE,
					capacity_units: new.capacity_units()
				}]
			);
			Registry::do_try_state().unwrap();
		});
	}
}

#[test]
fn claiming_more_while_pending_or_suspended_changes_no_status() {
	for status in [NodeStatus::Pending, NodeStatus::Suspended] {
		ExtBuilder::default().build_and_execute(|| {
			register_service(&ALICE, 1, RICH / 2);
			if status == NodeStatus::Suspended {
				assert_ok!(<Registry as NodeRegistry<AccountId, u64>>::set_status(&ALICE, status));
			}
			let new = service_with(|d| d.resources.cpu_cores = 9);
			assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(ALICE), new.clone()));
			clear_events();
			start_epoch(1);
			assert_eq!(Nodes::<Test>::get(&ALICE).unwrap().status, status);
			assert_eq!(
				registry_events(),
				vec![Event::DeclarationApplied {
					node: ALICE,
					capacity_units: new.capacity_units()
				}]
			);
		});
	}
}

#[test]
fn a_validator_node_claiming_more_stays_active() {
	ExtBuilder::default().build_and_execute(|| {
		register_validator(&BOB, 2, RICH / 2);
		start_epoch(1);
		assert_eq!(Nodes::<Test>::get(&BOB).unwrap().status, NodeStatus::Active);
		let new = validator_with(|d| d.resources.cpu_cores = 32);
		assert_ok!(Registry::update_declaration(RuntimeOrigin::signed(BOB), new));
		start_epoch(2);
		assert_eq!(Nodes::<Test>::get(&BOB).unwrap().status, NodeStatus::Active);
	});
}
