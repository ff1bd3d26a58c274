//! The governed parameters: who sets them, their edges, and the genesis check.

use super::*;
use crate::{Error, Params, StorageParams};
use frame_support::assert_noop;
use sp_runtime::{BuildStorage, DispatchError};

#[test]
fn root_sets_valid_parameters_only() {
	ExtBuilder::default().build_and_execute(|| {
		let good = test_params();
		assert_noop!(
			Storage::set_parameters(RuntimeOrigin::signed(ALICE), good.clone()),
			DispatchError::BadOrigin
		);
		let mut changed = good.clone();
		changed.challenges = 4;
		assert_ok!(Storage::set_parameters(RuntimeOrigin::root(), changed.clone()));
		assert_eq!(Params::<Test>::get(), Some(changed.clone()));
		assert!(has_event(Event::ParametersSet { parameters: changed }));
		type Edit = fn(&mut StorageParams<Balance, u64>);
		let bad: [(&str, Edit); 14] = [
			("epoch of one block", |p| p.epoch_length = 1),
			("no data shard", |p| p.min_data_shards = 0),
			("shards beyond the slots", |p| p.min_parity_shards = 8),
			("more slots than MaxSlots", |p| p.max_slots = 9),
			("no bytes", |p| p.max_order_bytes = 0),
			("no duration", |p| p.min_duration = 0),
			("empty duration range", |p| p.max_duration = 0),
			("free storage", |p| p.min_price = 0),
			("a one-block accept window", |p| p.accept_window = 1),
			("no offer", |p| p.max_offers = 0),
			("more offers than MaxOffersPerSlot", |p| p.max_offers = 4),
			("no challenge", |p| p.challenges = 0),
			("more challenges than MaxChallenges", |p| p.challenges = 5),
			("no miss tolerated", |p| p.max_missed_epochs = 0),
		];
		for (what, edit) in bad {
			let mut params = good.clone();
			edit(&mut params);
			assert_noop!(
				Storage::set_parameters(RuntimeOrigin::root(), params),
				Error::<Test>::InvalidParameters
			);
			let _ = what;
		}
		// The edges themselves are valid.
		let mut edge = good.clone();
		edge.epoch_length = 2;
		edge.accept_window = 2;
		edge.max_slots = 8;
		edge.max_offers = 3;
		edge.challenges = 4;
		edge.min_duration = 7;
		edge.max_duration = 7;
		assert_ok!(Storage::set_parameters(RuntimeOrigin::root(), edge));
	});
}

#[test]
fn epochs_cannot_shrink_below_what_open_slots_need() {
	ExtBuilder::default().build_and_execute(|| {
		// 64 tasks a block: a 2-block epoch holds 64 open slots.
		for _ in 0..7 {
			place_by(&ALICE);
		}
		assert_eq!(crate::OpenSlots::<Test>::get(), 21);
		MaxTasksPerBlock::set(4);
		let mut params = test_params();
		params.epoch_length = 10; // 10 * 4 / 2 = 20 < 21
		assert_noop!(
			Storage::set_parameters(RuntimeOrigin::root(), params.clone()),
			Error::<Test>::InvalidParameters
		);
		params.epoch_length = 11; // 22
		assert_ok!(Storage::set_parameters(RuntimeOrigin::root(), params));
		MaxTasksPerBlock::set(64);
	});
}

#[test]
#[should_panic(expected = "invalid storage parameters")]
fn genesis_refuses_invalid_parameters() {
	let mut params = test_params();
	params.challenges = 0;
	let _ = crate::GenesisConfig::<Test> { parameters: Some(params) }.build_storage();
}
