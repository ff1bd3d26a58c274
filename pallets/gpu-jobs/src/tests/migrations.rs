//! The storage migration from version 0 to 1 (the client's forfeit for an unavailable input).

use crate::{
	migrations::v1::{v0, MigrateToV1},
	mock::*,
	*,
};
use codec::{Decode, Encode};
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
use sp_runtime::Perbill;

/// Version-0 storage: `params` without their version-1 field, and the version 0.
fn version_0_state(params: GpuJobsParams) -> v0::GpuJobsParamsV0 {
	// The version-1 encoding starts with the version-0 one: the new field is appended.
	let encoded = params.encode();
	let old = v0::GpuJobsParamsV0::decode(&mut &encoded[..])
		.expect("a version-1 encoding starts with a version-0 one");
	assert_eq!(old.encode().len() + 4, encoded.len());
	Params::<Test>::kill();
	v0::Params::<Test>::put(old);
	StorageVersion::new(0).put::<GpuJobs>();
	old
}

#[test]
fn the_parameters_gain_the_forfeit_from_its_default() {
	ExtBuilder::default().build_and_execute(|| {
		let params = GpuJobsParams {
			min_deadline: 30,
			unavailable_forfeit: Perbill::from_percent(40),
			..test_params()
		};
		version_0_state(params);
		assert_eq!(GpuJobs::in_code_storage_version(), StorageVersion::new(1));

		let _ = MigrateToV1::<Test>::on_runtime_upgrade();

		let expected = GpuJobsParams { unavailable_forfeit: Perbill::from_percent(10), ..params };
		assert_eq!(Params::<Test>::get(), expected);
		assert_eq!(GpuJobs::on_chain_storage_version(), StorageVersion::new(1));

		// At version 1 a second run changes nothing.
		Params::<Test>::put(test_params());
		let _ = MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Params::<Test>::get(), test_params());
	});
}

#[test]
fn without_stored_parameters_nothing_is_written() {
	ExtBuilder::default().build_and_execute(|| {
		version_0_state(test_params());
		v0::Params::<Test>::kill();
		let _ = MigrateToV1::<Test>::on_runtime_upgrade();
		assert!(!Params::<Test>::exists());
		assert_eq!(GpuJobs::on_chain_storage_version(), StorageVersion::new(1));
		Params::<Test>::put(test_params());
	});
}
