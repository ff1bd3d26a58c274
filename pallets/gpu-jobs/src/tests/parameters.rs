//! `set_parameters`, every bound at its edges, the genesis config and the storage version.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{GetStorageVersion, Hooks, StorageVersion},
};
use sp_runtime::{BuildStorage, DispatchError, Perbill};

/// Set `change`d test parameters as root.
fn set(change: impl FnOnce(&mut GpuJobsParams)) -> sp_runtime::DispatchResult {
	let mut params = test_params();
	change(&mut params);
	GpuJobs::set_parameters(RuntimeOrigin::root(), params)
}

#[test]
fn set_parameters_stores_them_and_emits_an_event() {
	ExtBuilder::default().build_and_execute(|| {
		let params = GpuJobsParams {
			min_deadline: 20,
			max_deadline: 500,
			reveal_period: 8,
			dispute_period: 7,
			unavailable_forfeit: Perbill::from_percent(25),
		};
		assert_ok!(GpuJobs::set_parameters(RuntimeOrigin::root(), params));
		assert_eq!(Params::<Test>::get(), params);
		assert_eq!(last_event(), Event::ParametersSet { parameters: params });
		// New jobs get the new windows.
		let id = post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!((job.commit_deadline, job.deadline, job.dispute_end), (13, 21, 28));
	});
}

#[test]
fn set_parameters_requires_the_admin_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			GpuJobs::set_parameters(RuntimeOrigin::signed(ALICE), test_params()),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn every_bound_at_its_edges() {
	ExtBuilder::default().build_and_execute(|| {
		// A reveal period of at least one block, leaving a commit window of at least two blocks
		// after the draw before the nearest deadline (10): `10 > reveal + delay + 1`.
		assert_ok!(set(|p| p.reveal_period = 1));
		assert_noop!(set(|p| p.reveal_period = 0), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.reveal_period = 8));
		assert_noop!(set(|p| p.reveal_period = 9), Error::<Test>::InvalidParameters);
		with_draw_delay(2, || {
			assert_ok!(set(|p| p.reveal_period = 6));
			assert_noop!(set(|p| p.reveal_period = 7), Error::<Test>::InvalidParameters);
		});
		// min_deadline <= max_deadline <= MAX_PERIOD.
		assert_ok!(set(|p| p.min_deadline = 1_000));
		assert_noop!(set(|p| p.min_deadline = 1_001), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.max_deadline = MAX_PERIOD));
		assert_noop!(set(|p| p.max_deadline = MAX_PERIOD + 1), Error::<Test>::InvalidParameters);
		// A dispute period of 1..=MAX_PERIOD.
		assert_ok!(set(|p| p.dispute_period = 1));
		assert_noop!(set(|p| p.dispute_period = 0), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.dispute_period = MAX_PERIOD));
		assert_noop!(set(|p| p.dispute_period = MAX_PERIOD + 1), Error::<Test>::InvalidParameters);
		// Any forfeit share.
		assert_ok!(set(|p| p.unavailable_forfeit = Perbill::zero()));
		assert_ok!(set(|p| p.unavailable_forfeit = Perbill::one()));
		assert!(GpuJobsParams::default().is_valid(2));
	});
}

#[test]
fn the_default_genesis_builds_without_models() {
	let storage = GenesisConfig::<Test>::default().build_storage().unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(Params::<Test>::get(), GpuJobsParams::default());
		assert_eq!(NextModelId::<Test>::get(), 0);
		// The pallet's genesis alone writes no storage version (the runtime's genesis writes
		// the in-code one, 1, for every pallet).
		assert_eq!(GpuJobs::on_chain_storage_version(), StorageVersion::new(0));
		assert_eq!(GpuJobs::in_code_storage_version(), StorageVersion::new(1));
		GpuJobs::integrity_test();
		assert_ok!(GpuJobs::do_try_state());
	});
}

#[test]
#[should_panic(expected = "invalid gpu-jobs genesis parameters")]
fn invalid_genesis_parameters_are_refused() {
	let parameters = GpuJobsParams { reveal_period: 0, ..GpuJobsParams::default() };
	let _ = GenesisConfig::<Test> { parameters, models: Vec::new() }.build_storage();
}

#[test]
#[should_panic(expected = "gpu-jobs genesis model 0 is invalid")]
fn invalid_genesis_models_are_refused() {
	let _ = GenesisConfig::<Test> { parameters: test_params(), models: vec![(vec![1, 2, 3], 1)] }
		.build_storage();
}

#[test]
fn the_genesis_config_reads_json() {
	let config = GenesisConfig::<Test> { parameters: test_params(), models: vec![(vec![7, 8], 9)] };
	let json = serde_json::to_value(&config).unwrap();
	assert_eq!(
		json,
		serde_json::json!({
			"parameters": {
				"min_deadline": 10,
				"max_deadline": 1_000,
				"reveal_period": 4,
				"dispute_period": 10,
				"unavailable_forfeit": 100_000_000
			},
			"models": [[[7, 8], 9]]
		})
	);
	let back: GenesisConfig<Test> = serde_json::from_value(json).unwrap();
	assert_eq!(back.parameters, test_params());
	assert_eq!(back.models, vec![(vec![7, 8], 9)]);
}
