//! `set_parameters`, every bound at its edges, and the genesis config.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{GetStorageVersion, StorageVersion},
};
use sp_runtime::{BuildStorage, DispatchError, Perbill};

/// Set `change`d test parameters as root.
fn set(change: impl FnOnce(&mut ProofOfSyncParams<Balance>)) -> sp_runtime::DispatchResult {
	let mut params = test_params();
	change(&mut params);
	ProofOfSync::set_parameters(RuntimeOrigin::root(), params)
}

#[test]
fn set_parameters_stores_them_and_emits_an_event() {
	ExtBuilder::default().build_and_execute(|| {
		let mut params = test_params();
		params.epoch_length = 20;
		params.epoch_reward = 7;
		assert_ok!(ProofOfSync::set_parameters(RuntimeOrigin::root(), params));
		assert_eq!(Params::<Test>::get(), params);
		assert_eq!(last_event(), Event::ParametersSet { parameters: params });
	});
}

#[test]
fn set_parameters_requires_the_admin_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ProofOfSync::set_parameters(RuntimeOrigin::signed(service(1)), test_params()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ProofOfSync::set_parameters(RuntimeOrigin::none(), test_params()),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn every_bound_at_its_edges() {
	ExtBuilder::default().build_and_execute(|| {
		// Epoch length: MinEpochLength (6)..=100_800.
		assert_ok!(set(|p| p.epoch_length = 6));
		assert_noop!(set(|p| p.epoch_length = 5), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.epoch_length = 100_800));
		assert_noop!(set(|p| p.epoch_length = 100_801), Error::<Test>::InvalidParameters);
		// Verifiers per node: 1..=MaxVerifiers (8).
		assert_ok!(set(|p| p.verifiers_per_node = 1));
		assert_noop!(set(|p| p.verifiers_per_node = 0), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.verifiers_per_node = 8));
		assert_noop!(set(|p| p.verifiers_per_node = 9), Error::<Test>::InvalidParameters);
		// A non-zero smoothing factor.
		assert_ok!(set(|p| p.ema_alpha = Perbill::from_parts(1)));
		assert_ok!(set(|p| p.ema_alpha = Perbill::one()));
		assert_noop!(set(|p| p.ema_alpha = Perbill::zero()), Error::<Test>::InvalidParameters);
		// Counts of at least 1.
		assert_ok!(set(|p| p.warmup_epochs = 1));
		assert_noop!(set(|p| p.warmup_epochs = 0), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.suspend_after_misses = 1));
		assert_noop!(set(|p| p.suspend_after_misses = 0), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.slash_after_misses = 1));
		assert_noop!(set(|p| p.slash_after_misses = 0), Error::<Test>::InvalidParameters);
		// Targets strictly below maximums.
		assert_ok!(set(|p| p.target_latency_ms = 1_099));
		assert_noop!(set(|p| p.target_latency_ms = 1_100), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.tolerated_lag = 11));
		assert_noop!(set(|p| p.tolerated_lag = 12), Error::<Test>::InvalidParameters);
		// At least one usage unit per capacity unit; any unproven allowance.
		assert_ok!(set(|p| p.usage_per_capacity_unit = 1));
		assert_noop!(set(|p| p.usage_per_capacity_unit = 0), Error::<Test>::InvalidParameters);
		assert_ok!(set(|p| p.unproven_capacity = 0));
		assert_ok!(set(|p| p.unproven_capacity = u64::MAX));
		// Any burn cap (0: none) and any window of unproven capacity (0: none).
		assert_ok!(set(|p| p.burn_per_usage_unit = 0));
		assert_ok!(set(|p| p.burn_per_usage_unit = Balance::MAX));
		assert_ok!(set(|p| p.unproven_epochs = 0));
		assert_ok!(set(|p| p.unproven_epochs = u32::MAX));
		// Zero deferral, zero reward, shares at 0 and 100 % are fine.
		assert_ok!(set(|p| {
			p.slash_defer_epochs = 0;
			p.epoch_reward = 0;
			p.verifier_share = Perbill::one();
			p.idle_usage_weight = Perbill::zero();
			p.min_reputation = Perbill::one();
		}));
	});
}

#[test]
fn slashes_wait_at_least_the_appeal_window() {
	ExtBuilder::default().build_and_execute(|| {
		// An appeal referendum takes up to 120 blocks: with 20-block epochs slashes must wait 6.
		MinAppealWindow::set(120);
		let window = |epoch_length: u32, defer: u32| {
			set(|p| {
				p.epoch_length = epoch_length;
				p.slash_defer_epochs = defer;
			})
		};
		assert_ok!(window(20, 6));
		let before = Params::<Test>::get();
		assert_noop!(window(20, 5), Error::<Test>::AppealWindowTooShort);
		// Shorter epochs shorten the window too.
		assert_noop!(window(19, 6), Error::<Test>::AppealWindowTooShort);
		assert_noop!(window(20, 0), Error::<Test>::AppealWindowTooShort);
		assert_eq!(Params::<Test>::get(), before);
		assert_ok!(window(10, 12));
		// The product saturates instead of wrapping round to a short window.
		assert_ok!(window(MAX_EPOCH_LENGTH, u32::MAX));
		assert_ne!(Params::<Test>::get(), before);

		// try_state notices a window the bound has outgrown (e.g. a slower governance timing).
		assert_ok!(window(20, 6));
		assert_ok!(Pallet::<Test>::do_try_state());
		MinAppealWindow::set(121);
		assert!(Pallet::<Test>::do_try_state().is_err());
		MinAppealWindow::set(0);
	});
}

#[test]
fn shares_above_one_hundred_percent_are_refused() {
	ExtBuilder::default().build_and_execute(|| {
		// Only JSON can hold such a share.
		let too_much: Perbill = serde_json::from_str("1000000001").unwrap();
		assert!(!is_proper_share(too_much));
		assert_noop!(set(|p| p.miss_slash = too_much), Error::<Test>::InvalidParameters);
		assert_noop!(set(|p| p.verifier_share = too_much), Error::<Test>::InvalidParameters);
	});
}

#[test]
fn a_new_epoch_length_moves_the_windows() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		assert_ok!(set(|p| p.epoch_length = 20));
		// The commit window is now blocks 1..=10.
		run_to_block(8);
		assert_ok!(commit(&validator(1), &service(1), &good_report()));
		run_to_block(11);
		assert_ok!(reveal(&validator(1), &service(1), &good_report()));
		run_to_block(21);
		assert_eq!(phase(), Phase::Paying { cursor: 0 });
	});
}

#[test]
fn genesis_sets_the_parameters_and_the_starting_phase() {
	let storage = GenesisConfig::<Test> { parameters: test_params() }.build_storage().unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(Params::<Test>::get(), test_params());
		assert_eq!(Epoch::<Test>::get(), EpochInfo::default());
		assert_eq!(Epoch::<Test>::get().phase, Phase::Starting);
		assert_eq!(ProofOfSync::on_chain_storage_version(), StorageVersion::new(0));
		ProofOfSync::do_try_state().unwrap();
	});
}

#[test]
fn the_default_genesis_config_is_valid() {
	let config = GenesisConfig::<Test>::default();
	assert_eq!(config.parameters.verifiers_per_node, 3);
	assert_eq!(config.parameters.epoch_length, 600);
	assert_eq!(config.parameters.burn_per_usage_unit, 5_000_000_000_000);
	assert_eq!(config.parameters.unproven_epochs, 12);
	assert!(config.parameters.unproven_epochs > config.parameters.warmup_epochs);
	let storage = config.build_storage().unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		ProofOfSync::do_try_state().unwrap();
	});
}

#[test]
fn the_genesis_config_reads_json() {
	let json = serde_json::to_value(GenesisConfig::<Test> { parameters: test_params() }).unwrap();
	assert_eq!(json["parameters"]["epoch_length"], 10);
	assert_eq!(json["parameters"]["ema_alpha"], 500_000_000);
	assert_eq!(json["parameters"]["burn_per_usage_unit"], 0);
	assert_eq!(json["parameters"]["unproven_epochs"], u32::MAX);
	let back: GenesisConfig<Test> = serde_json::from_value(json).unwrap();
	assert_eq!(back.parameters, test_params());
}

#[test]
#[should_panic(expected = "invalid proof-of-sync genesis parameters")]
fn genesis_refuses_invalid_parameters() {
	let mut parameters = test_params();
	parameters.max_lag = parameters.tolerated_lag;
	let _ = GenesisConfig::<Test> { parameters }.build_storage();
}
