//! The model registry: genesis, registration, status and price floor.

use crate::{mock::*, *};
use dsync_aivm_core::bundled::{DIGITS_64_128_64_10, DIGITS_64_128_64_10_HASH};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use sp_core::H256;
use sp_runtime::DispatchError;

/// `bytes` as the argument of `register_model`.
fn bounded(bytes: &[u8]) -> BoundedVec<u8, MaxModelBytes> {
	BoundedVec::try_from(bytes.to_vec()).expect("within MaxModelBytes")
}

#[test]
fn genesis_registers_the_digits_model() {
	ExtBuilder::default().build_and_execute(|| {
		let record = Models::<Test>::get(DIGITS).expect("the digits model is registered");
		let units = (digits().weight_count() as u64).div_ceil(1_000) as u32;
		assert_eq!(
			record,
			ModelRecord {
				hash: H256(DIGITS_64_128_64_10_HASH),
				input_len: 64,
				output_len: 10,
				units_per_item: units,
				price_floor: FLOOR,
				active: true,
			}
		);
		assert_eq!(units, 18);
		assert_eq!(
			ModelCode::<Test>::get(DIGITS).map(|code| code.to_vec()),
			Some(DIGITS_64_128_64_10.to_vec())
		);
		assert_eq!(NextModelId::<Test>::get(), 1);
		assert_eq!(GpuJobs::model_view(DIGITS), Some(record));
		assert_eq!(GpuJobs::model_view(1), None);
	});
}

#[test]
fn register_model_stores_it_and_emits_an_event() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(GpuJobs::register_model(RuntimeOrigin::root(), bounded(DIGITS_64_128_64_10), 3));
		assert_eq!(NextModelId::<Test>::get(), 2);
		let record = Models::<Test>::get(1).expect("registered as model 1");
		assert_eq!(record.price_floor, 3);
		assert!(record.active);
		assert_eq!(
			last_event(),
			Event::ModelRegistered {
				model: 1,
				hash: H256(DIGITS_64_128_64_10_HASH),
				input_len: 64,
				output_len: 10,
				price_floor: 3,
			}
		);
	});
}

#[test]
fn model_calls_require_the_model_origin() {
	ExtBuilder::default().build_and_execute(|| {
		let signed = RuntimeOrigin::signed(ALICE);
		assert_noop!(
			GpuJobs::register_model(signed.clone(), bounded(DIGITS_64_128_64_10), 1),
			DispatchError::BadOrigin
		);
		assert_noop!(
			GpuJobs::set_model_status(signed.clone(), DIGITS, false),
			DispatchError::BadOrigin
		);
		assert_noop!(GpuJobs::set_price_floor(signed, DIGITS, 1), DispatchError::BadOrigin);
	});
}

#[test]
fn a_corrupt_model_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let good = DIGITS_64_128_64_10;
		let truncated = &good[..good.len() - 1];
		let mut trailing = good.to_vec();
		trailing.push(0);
		let mut bad_magic = good.to_vec();
		bad_magic[0] = b'X';
		for bytes in [truncated.to_vec(), trailing, bad_magic, Vec::new()] {
			assert_noop!(
				GpuJobs::register_model(RuntimeOrigin::root(), bounded(&bytes), 1),
				Error::<Test>::InvalidModel
			);
		}
		assert_eq!(NextModelId::<Test>::get(), 1);
	});
}

#[test]
fn set_model_status_and_price_floor() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(GpuJobs::set_model_status(RuntimeOrigin::root(), DIGITS, false));
		assert!(!Models::<Test>::get(DIGITS).unwrap().active);
		assert_eq!(last_event(), Event::ModelStatusSet { model: DIGITS, active: false });
		assert_noop!(
			GpuJobs::post_job(
				RuntimeOrigin::signed(ALICE),
				DIGITS,
				inline(digit_items(1, 0)),
				1,
				FLOOR,
				now() + 20
			),
			Error::<Test>::ModelInactive
		);
		assert_ok!(GpuJobs::set_model_status(RuntimeOrigin::root(), DIGITS, true));

		assert_ok!(GpuJobs::set_price_floor(RuntimeOrigin::root(), DIGITS, 25));
		assert_eq!(Models::<Test>::get(DIGITS).unwrap().price_floor, 25);
		assert_eq!(last_event(), Event::PriceFloorSet { model: DIGITS, price_floor: 25 });

		assert_noop!(
			GpuJobs::set_model_status(RuntimeOrigin::root(), 7, true),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			GpuJobs::set_price_floor(RuntimeOrigin::root(), 7, 1),
			Error::<Test>::UnknownModel
		);
	});
}
