//! The governed parameters and reserved labels.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;
use sp_runtime::DispatchResult;

fn set(change: impl FnOnce(&mut NamingParams<Balance, u64>)) -> DispatchResult {
	let mut params = Params::<Test>::get();
	change(&mut params);
	Naming::set_parameters(RuntimeOrigin::root(), params)
}

#[test]
fn parameters_are_checked_at_their_edges() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(
			Naming::set_parameters(RuntimeOrigin::signed(ALICE), test_params()),
			DispatchError::BadOrigin
		);
		assert_ok!(set(|p| {
			p.min_commitment_age = 0;
			p.max_commitment_age = 1;
		}));
		assert_noop!(
			set(|p| {
				p.min_commitment_age = 5;
				p.max_commitment_age = 5;
			}),
			Error::<Test>::InvalidParameters
		);
		assert_noop!(set(|p| p.year_length = 0), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.year_length = 1));
		assert_noop!(set(|p| p.premium_period = 0), Error::<Test>::InvalidParameters);
		assert_noop!(set(|p| p.max_years = 0), Error::<Test>::InvalidParameters);
		assert_noop!(set(|p| p.rent_per_year[4] = 0), Error::<Test>::InvalidParameters);
		// A commitment must hold a deposit: it pins state until it is revealed or removed.
		assert_noop!(set(|p| p.commitment_deposit = 0), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.commitment_deposit = 1));
		// Zero grace, premium and subname deposit are allowed.
		assert_ok!(set(|p| {
			p.grace_period = 0;
			p.premium_start = 0;
			p.subname_deposit = 0;
		}));
		let params = Params::<Test>::get();
		assert_eq!(last_event(), Event::ParametersSet { parameters: params });
	});
}

#[test]
fn a_parameter_change_changes_behaviour() {
	ExtBuilder::build_and_execute(|| {
		assert_ok!(set(|p| p.rent_per_year = [10, 10, 10, 10, 7]));
		let before = free(&ALICE);
		register(&ALICE, "alice", &ALICE, 3);
		assert_eq!(before - free(&ALICE), 21);
	});
}

#[test]
fn labels_are_reserved_and_freed_by_the_admin() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(
			Naming::set_reserved(RuntimeOrigin::signed(ALICE), b"www".to_vec(), true),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Naming::set_reserved(RuntimeOrigin::root(), b"W".to_vec(), true),
			Error::<Test>::InvalidLabel
		);
		assert_noop!(
			Naming::set_reserved(RuntimeOrigin::root(), b"ns1".to_vec(), true),
			Error::<Test>::ReservationUnchanged
		);
		assert_ok!(Naming::set_reserved(RuntimeOrigin::root(), b"www".to_vec(), true));
		let label = Naming::checked_label(b"www").unwrap();
		assert_eq!(last_event(), Event::ReservationSet { label: label.clone(), reserved: true });
		assert!(Reserved::<Test>::contains_key(&label));
		assert_ok!(Naming::set_reserved(RuntimeOrigin::root(), b"ns1".to_vec(), false));
		register(&ALICE, "ns1", &ALICE, 1);
	});
}

#[test]
fn rent_that_overflows_is_refused() {
	ExtBuilder::build_and_execute(|| {
		assert_ok!(set(|p| p.rent_per_year = [Balance::MAX; 5]));
		let commitment = Naming::commitment_of(b"alice", &ALICE, &SECRET);
		assert_ok!(Naming::commit(RuntimeOrigin::signed(ALICE), commitment));
		run_to_block(3);
		assert_noop!(
			Naming::register(RuntimeOrigin::signed(ALICE), b"alice".to_vec(), ALICE, SECRET, 2),
			Error::<Test>::Overflow
		);
		assert_eq!(Naming::price(b"alice", 2), None);
	});
}
