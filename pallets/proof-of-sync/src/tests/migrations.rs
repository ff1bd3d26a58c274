//! The storage migrations: version 0 to 1 (the two new parameters, `MaxEpochUsage` removed)
//! and version 1 to 2 (the per-client totals, `ClientUsage`, removed).

use crate::{
	migrations::{
		v1::{v0, MigrateToV1},
		v2::{self, MigrateToV2, MAX_REMOVED},
	},
	mock::*,
	*,
};
use codec::{Decode, Encode};
use frame_support::{
	storage::StoragePrefixedMap,
	traits::{
		GetStorageVersion, OnRuntimeUpgrade, PalletInfoAccess, StorageVersion,
		UncheckedOnRuntimeUpgrade,
	},
};

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
		assert_eq!(ProofOfSync::in_code_storage_version(), StorageVersion::new(2));
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

/// The per-client totals of version 1: two kinds of one client, and one entry of two others.
fn client_entries() -> Vec<(AccountId, ServiceKind, u64)> {
	vec![
		(service(60), ServiceKind::GpuInference, 1_000),
		(service(60), ServiceKind::Naming, 400),
		(service(61), ServiceKind::Storage, 7),
		(validator(1), ServiceKind::Other, u64::MAX),
	]
}

/// Version-1 storage: `entries` under `ClientUsage`, and the version 1.
fn version_1_state(entries: &[(AccountId, ServiceKind, u64)]) {
	for (client, kind, units) in entries {
		v2::v1::ClientUsage::<Test>::insert(client, kind, units);
	}
	StorageVersion::new(1).put::<ProofOfSync>();
}

/// The number of `ClientUsage` entries stored.
fn client_entries_stored() -> usize {
	v2::v1::ClientUsage::<Test>::iter_keys().count()
}

#[test]
fn the_client_totals_are_removed() {
	ExtBuilder::default().build_and_execute(|| {
		ProofOfSync::record_usage(&service(1), &service(60), ServiceKind::Naming, 5, verified(0));
		let entries = client_entries();
		version_1_state(&entries);
		// The alias names the item version 1 kept: the pallet's name and `ClientUsage`.
		assert_eq!(
			v2::v1::ClientUsage::<Test>::final_prefix(),
			frame_support::storage::storage_prefix(ProofOfSync::name().as_bytes(), b"ClientUsage")
		);
		assert_eq!(client_entries_stored(), entries.len());
		assert_eq!(v2::v1::ClientUsage::<Test>::get(service(60), ServiceKind::Naming), 400);
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(1));

		let _ = MigrateToV2::<Test>::on_runtime_upgrade();

		assert_eq!(client_entries_stored(), 0);
		let prefix = v2::v1::ClientUsage::<Test>::final_prefix();
		assert!(!frame_support::storage::unhashed::contains_prefixed_key(&prefix));
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(2));
		// The rest of the pallet's state stays: the provider's total, the parameters.
		assert_eq!(ProviderUsage::<Test>::get(service(1)), 5);
		assert_eq!(EpochUsage::<Test>::get(service(1)), 5);
		assert_eq!(Params::<Test>::get(), test_params());

		// At version 2 a second run changes nothing.
		v2::v1::ClientUsage::<Test>::insert(service(62), ServiceKind::Naming, 3);
		let _ = MigrateToV2::<Test>::on_runtime_upgrade();
		assert_eq!(v2::v1::ClientUsage::<Test>::get(service(62), ServiceKind::Naming), 3);
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(2));
		v2::v1::ClientUsage::<Test>::remove(service(62), ServiceKind::Naming);
	});
}

#[test]
fn a_chain_at_version_0_takes_both_steps() {
	ExtBuilder::default().build_and_execute(|| {
		let old = version_0_state(test_params());
		for (client, kind, units) in client_entries() {
			v2::v1::ClientUsage::<Test>::insert(client, kind, units);
		}
		// In the runtime's order: version 0 to 1, then 1 to 2.
		let _ = <(MigrateToV1<Test>, MigrateToV2<Test>) as OnRuntimeUpgrade>::on_runtime_upgrade();
		assert_eq!(Params::<Test>::get(), old.upgrade());
		assert!(!v0::MaxEpochUsage::<Test>::exists());
		assert_eq!(client_entries_stored(), 0);
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(2));
	});
}

#[test]
fn one_run_removes_at_most_its_bound_and_leaves_dead_keys() {
	let mut ext = ExtBuilder::default().build();
	let beyond = 5u32;
	ext.execute_with(|| {
		for i in 0..MAX_REMOVED.saturating_add(beyond) {
			let client = AccountId::new(sp_io::hashing::blake2_256(&i.encode()));
			v2::v1::ClientUsage::<Test>::insert(client, ServiceKind::GpuInference, 1);
		}
		StorageVersion::new(1).put::<ProofOfSync>();
	});
	// In the database, as on a chain (entries written in the same block would all go).
	ext.commit_all().expect("the test state commits");
	ext.execute_with(|| {
		let _ = MigrateToV2::<Test>::on_runtime_upgrade();
		// The bound removed; the rest left as dead keys, which nothing reads.
		assert_eq!(client_entries_stored(), usize::try_from(beyond).unwrap());
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(2));
		ProofOfSync::do_try_state().expect("dead keys break no invariant");
	});
	ext.commit_all().expect("the test state commits");
	ext.execute_with(|| {
		// A later run of the removal (without the version check) removes the rest.
		let _ = <v2::InnerMigrateToV2<Test> as UncheckedOnRuntimeUpgrade>::on_runtime_upgrade();
		assert_eq!(client_entries_stored(), 0);
	});
}

#[cfg(feature = "try-runtime")]
#[test]
fn the_migration_to_v2_passes_its_own_checks() {
	ExtBuilder::default().build_and_execute(|| {
		version_1_state(&client_entries());
		frame_support::assert_ok!(MigrateToV2::<Test>::try_on_runtime_upgrade(true));
		assert_eq!(client_entries_stored(), 0);
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(2));
	});
}
