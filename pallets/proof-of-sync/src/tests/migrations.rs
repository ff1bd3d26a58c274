//! The storage migrations: version 0 to 1 (the two new parameters, `MaxEpochUsage` removed).

use crate::{
	migrations::v1::{v0, MigrateToV1},
	mock::*,
	*,
};
use codec::{Decode, Encode};
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

/// Version-0 storage: `params` without their two version-1 fields, an epoch maximum, and the
/// version 0. Returns the version-0 parameters.
fn version_0_state(params: ProofOfSyncParams<Balance>) -> v0::ProofOfSyncParamsV0<Balance> {
	// The version-1 encoding starts with the version-0 one: the new fields are appended.
	let encoded = params.encode();
	let old = v0::ProofOfSyncParamsV0::<Balance>::decode(&mut &encoded[..])
		.expect("a version-1 encoding starts with a version-0 one");
	let old_encoded = old.encode();
	// Eight bytes of `burn_per_usage_unit` (a `u64` balance here) and four of `unproven_epochs`.
	assert_eq!(old_encoded.len() + 8 + 4, encoded.len());
	assert_eq!(&encoded[..old_encoded.len()], &old_encoded[..]);

	Params::<Test>::kill();
	v0::Params::<Test>::put(old);
	v0::MaxEpochUsage::<Test>::put(1_234);
	StorageVersion::new(0).put::<ProofOfSync>();
	old
}

#[test]
fn the_parameters_gain_their_new_fields_from_the_defaults() {
	ExtBuilder::default().build_and_execute(|| {
		let mut params = test_params();
		params.epoch_length = 20;
		params.epoch_reward = 7;
		params.unproven_capacity = 5;
		version_0_state(params);
		assert_eq!(ProofOfSync::in_code_storage_version(), StorageVersion::new(1));
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(0));

		let _ = MigrateToV1::<Test>::on_runtime_upgrade();

		// Every version-0 value kept; the new fields from the defaults (not the test
		// parameters' values, which the version-0 storage did not hold).
		let defaults = ProofOfSyncParams::<Balance>::default();
		let expected = ProofOfSyncParams {
			burn_per_usage_unit: defaults.burn_per_usage_unit,
			unproven_epochs: defaults.unproven_epochs,
			..params
		};
		assert_eq!(expected.burn_per_usage_unit, 5_000_000_000_000);
		assert_eq!(expected.unproven_epochs, 12);
		assert_eq!(Params::<Test>::get(), expected);
		assert!(!v0::MaxEpochUsage::<Test>::exists());
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(1));
		ProofOfSync::do_try_state().expect("the migrated parameters are valid");

		// At version 1 a second run changes nothing.
		Params::<Test>::put(test_params());
		v0::MaxEpochUsage::<Test>::put(9);
		let _ = MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Params::<Test>::get(), test_params());
		assert_eq!(v0::MaxEpochUsage::<Test>::get(), 9);
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(1));
		v0::MaxEpochUsage::<Test>::kill();
	});
}

#[test]
fn without_stored_parameters_only_the_maximum_is_removed() {
	ExtBuilder::default().build_and_execute(|| {
		version_0_state(test_params());
		v0::Params::<Test>::kill();
		let _ = MigrateToV1::<Test>::on_runtime_upgrade();
		assert!(!Params::<Test>::exists());
		assert!(!v0::MaxEpochUsage::<Test>::exists());
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(1));
		// The invariants read the default parameters; put the test ones back for them.
		Params::<Test>::put(test_params());
	});
}

#[cfg(feature = "try-runtime")]
#[test]
fn the_migration_passes_its_own_checks() {
	ExtBuilder::default().build_and_execute(|| {
		let old = version_0_state(test_params());
		frame_support::assert_ok!(MigrateToV1::<Test>::try_on_runtime_upgrade(true));
		assert_eq!(Params::<Test>::get(), old.upgrade());
		assert!(!v0::MaxEpochUsage::<Test>::exists());
	});
}
