//! The storage migration from version 1 to 2: the parameters gain `commitment_deposit`, the
//! commitments a deposit of zero, and the empty lists go.

use crate::{
	migrations::v2::{v1, MigrateToV2},
	mock::*,
	*,
};
use codec::{Decode, Encode};
use frame_support::{
	assert_ok,
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
};
use sp_core::H256;

/// A version-1 commitment list.
fn v1_list(items: Vec<(H256, u64)>) -> v1::CommitmentsV1<Test> {
	v1::CommitmentsV1::<Test>::truncate_from(items)
}

/// Version-1 storage: the test parameters without `commitment_deposit`; Alice with two
/// commitments (one for `alice.dsync`, made at block 1), Bob with the empty list a reveal left
/// behind, Charlie with one (made at block 2); the version 1. Returns the version-1
/// parameters.
fn version_1_state() -> v1::NamingParamsV1<Balance, u64> {
	// The version-2 encoding starts with the version-1 one: the new field is appended.
	let encoded = test_params().encode();
	let old = v1::NamingParamsV1::<Balance, u64>::decode(&mut &encoded[..])
		.expect("a version-2 encoding starts with a version-1 one");
	let old_encoded = old.encode();
	// Sixteen bytes of `commitment_deposit` (a `u128` balance here).
	assert_eq!(old_encoded.len() + 16, encoded.len());
	assert_eq!(&encoded[..old_encoded.len()], &old_encoded[..]);

	v1::Params::<Test>::put(old);
	v1::Commitments::<Test>::insert(
		ALICE,
		v1_list(vec![
			(Naming::commitment_of(b"alice", &ALICE, &SECRET), 1),
			(H256::repeat_byte(1), 1),
		]),
	);
	v1::Commitments::<Test>::insert(BOB, v1_list(vec![]));
	v1::Commitments::<Test>::insert(CHARLIE, v1_list(vec![(H256::repeat_byte(2), 2)]));
	StorageVersion::new(1).put::<Naming>();
	old
}

#[test]
fn the_parameters_and_commitments_are_translated() {
	ExtBuilder::build_and_execute(|| {
		let old = version_1_state();
		assert_eq!(Naming::in_code_storage_version(), StorageVersion::new(2));
		assert_eq!(Naming::on_chain_storage_version(), StorageVersion::new(1));

		let _ = MigrateToV2::<Test>::on_runtime_upgrade();

		// Every version-1 value kept; the deposit from the default.
		let expected =
			NamingParams { commitment_deposit: DEFAULT_COMMITMENT_DEPOSIT, ..test_params() };
		assert_eq!(old.upgrade(), expected);
		assert_eq!(Params::<Test>::get(), expected);
		assert_eq!(DEFAULT_COMMITMENT_DEPOSIT, 113_300_000_000_000_000);
		// Every commitment kept with a deposit of zero (nothing was held); the empty list gone.
		assert_eq!(
			Commitments::<Test>::get(&ALICE).into_inner(),
			vec![
				Commitment {
					hash: Naming::commitment_of(b"alice", &ALICE, &SECRET),
					at: 1,
					deposit: 0
				},
				Commitment { hash: H256::repeat_byte(1), at: 1, deposit: 0 },
			]
		);
		assert!(!Commitments::<Test>::contains_key(&BOB));
		assert_eq!(
			Commitments::<Test>::get(&CHARLIE).into_inner(),
			vec![Commitment { hash: H256::repeat_byte(2), at: 2, deposit: 0 }]
		);
		assert_eq!(Naming::on_chain_storage_version(), StorageVersion::new(2));
		Naming::do_try_state().expect("the migrated state is consistent");

		// At version 2 a second run changes nothing.
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		let _ = MigrateToV2::<Test>::on_runtime_upgrade();
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
		assert_eq!(Naming::on_chain_storage_version(), StorageVersion::new(2));
	});
}

#[test]
fn migrated_commitments_are_revealed_and_removed_without_a_release() {
	ExtBuilder::build_and_execute(|| {
		version_1_state();
		let _ = MigrateToV2::<Test>::on_runtime_upgrade();
		// The test deposit again (the default is more than the test accounts hold).
		Params::<Test>::put(test_params());
		// Alice reveals her version-1 commitment: rent paid, nothing was held, nothing
		// released.
		run_to_block(3);
		assert_ok!(Naming::register(
			RuntimeOrigin::signed(ALICE),
			b"alice".to_vec(),
			ALICE,
			SECRET,
			1
		));
		assert_eq!(free(&ALICE), RICH - 100);
		assert_eq!(committed(&ALICE), 0);
		// Charlie's expires and anyone removes it, releasing nothing.
		run_to_block(13);
		assert_ok!(Naming::remove_expired_commitments(RuntimeOrigin::signed(BOB), CHARLIE));
		assert_eq!(last_event(), Event::CommitmentsExpired { who: CHARLIE, count: 1, released: 0 });
		assert!(!Commitments::<Test>::contains_key(&CHARLIE));
		assert_eq!(free(&CHARLIE), RICH);
		// Alice's other one goes with her next commit, which holds the new deposit.
		assert_ok!(Naming::commit(RuntimeOrigin::signed(ALICE), H256::repeat_byte(3)));
		assert_eq!(committed(&ALICE), COMMITMENT_DEPOSIT);
		assert_eq!(Commitments::<Test>::get(&ALICE).len(), 1);
	});
}

#[test]
fn without_stored_parameters_only_the_commitments_are_translated() {
	ExtBuilder::build_and_execute(|| {
		version_1_state();
		v1::Params::<Test>::kill();
		let _ = MigrateToV2::<Test>::on_runtime_upgrade();
		assert!(!Params::<Test>::exists());
		assert_eq!(Commitments::<Test>::iter_keys().count(), 2);
		assert_eq!(Naming::on_chain_storage_version(), StorageVersion::new(2));
		// The invariants read the stored parameters; put the test ones back for them.
		Params::<Test>::put(test_params());
	});
}

#[cfg(feature = "try-runtime")]
#[test]
fn the_migration_passes_its_own_checks() {
	ExtBuilder::build_and_execute(|| {
		let old = version_1_state();
		assert_ok!(MigrateToV2::<Test>::try_on_runtime_upgrade(true));
		assert_eq!(Params::<Test>::get(), old.upgrade());
		assert!(!Commitments::<Test>::contains_key(&BOB));
		assert_eq!(Naming::on_chain_storage_version(), StorageVersion::new(2));
	});
}
