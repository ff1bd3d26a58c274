//! The genesis config, the storage version and the integrity test.

use crate::{mock::*, *};
use frame_support::traits::{GetStorageVersion, Hooks, StorageVersion};
use sp_runtime::{BuildStorage, Perbill};

#[test]
fn genesis_sets_the_parameters() {
	ExtBuilder::default().build_and_execute(|| {
		let rates = default_service_rates();
		for kind in ServiceKind::ALL {
			assert_eq!(ServiceRates::<Test>::get(kind), rates.rates(kind));
			assert_eq!(ServiceTotals::<Test>::get(kind), ServiceLedger::default());
		}
		assert_eq!(FeeSplit::<Test>::get(), default_fee_split());
		assert_eq!(BuybackParameters::<Test>::get(), default_buyback());
		assert_eq!(BuybackBudget::<Test>::get(), 0);
		assert_eq!(FeeTotals::<Test>::get(), FeeLedger::default());
		assert_eq!(BuybackTotals::<Test>::get(), BuybackLedger::default());
		assert_eq!(LastBuybackAttempt::<Test>::get(), None);
		assert_eq!(Tokenomics::on_chain_storage_version(), StorageVersion::new(0));
	});
}

#[test]
fn the_default_genesis_config_is_valid_and_neutral() {
	let storage = pallet_tokenomics_genesis(GenesisConfig::<Test>::default());
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(ServiceRates::<Test>::get(ServiceKind::GpuInference), SplitRates::default());
		assert_eq!(FeeSplit::<Test>::get(), SplitRates::default());
		let buyback = BuybackParameters::<Test>::get();
		assert!(!buyback.enabled);
		assert_eq!(buyback.revenue_share, Perbill::from_percent(10));
		assert_eq!(buyback.oracle_tolerance, Perbill::from_percent(2));
		assert_eq!(buyback.min_interval, 1);
		Tokenomics::do_try_state().unwrap();
	});
}

/// The storage `config` builds, without the other pallets.
fn pallet_tokenomics_genesis(config: GenesisConfig<Test>) -> sp_runtime::Storage {
	config.build_storage().unwrap()
}

#[test]
#[should_panic(expected = "invalid tokenomics genesis rates of Naming")]
fn genesis_refuses_service_shares_above_one_hundred_percent() {
	let mut rates = default_service_rates();
	rates.naming = SplitRates::new(Perbill::from_percent(60), Perbill::from_percent(50));
	ExtBuilder::default().service_rates(rates).build();
}

#[test]
#[should_panic(expected = "invalid tokenomics genesis fee split")]
fn genesis_refuses_an_invalid_fee_split() {
	ExtBuilder::default()
		.fee_split(SplitRates::new(Perbill::one(), Perbill::from_percent(1)))
		.build();
}

#[test]
#[should_panic(expected = "invalid tokenomics genesis buyback parameters")]
fn genesis_refuses_enabled_buybacks_without_cap() {
	ExtBuilder::default()
		.buyback(BuybackParams { max_spend_per_block: 0, ..default_buyback() })
		.build();
}

#[test]
#[should_panic(expected = "ShareAboveOneHundredPercent")]
fn genesis_json_with_a_share_above_one_hundred_percent_is_refused() {
	let mut json = serde_json::to_value(GenesisConfig::<Test>::default()).unwrap();
	json["serviceRates"]["storage"]["burn"] = serde_json::json!(1_500_000_000u32);
	let config: GenesisConfig<Test> = serde_json::from_value(json).unwrap();
	pallet_tokenomics_genesis(config);
}

#[test]
fn genesis_json_round_trips() {
	ExtBuilder::default().build_and_execute(|| {
		let config = GenesisConfig::<Test> {
			service_rates: default_service_rates(),
			fee_split: default_fee_split(),
			buyback: default_buyback(),
		};
		let json = serde_json::to_string(&config).unwrap();
		assert!(json.contains("\"serviceRates\""));
		let read: GenesisConfig<Test> = serde_json::from_str(&json).unwrap();
		assert_eq!(read.service_rates, config.service_rates);
		assert_eq!(read.fee_split, config.fee_split);
		assert_eq!(read.buyback, config.buyback);
	});
}

#[test]
fn the_integrity_test_passes() {
	ExtBuilder::default().build_and_execute(|| {
		Tokenomics::integrity_test();
	});
}
