//! The admin calls: `set_service_rates`, `set_fee_split`, `set_buyback_parameters`, and their
//! bounds.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, Perbill};

fn rates(burn: u32, treasury: u32) -> SplitRates {
	SplitRates::new(Perbill::from_percent(burn), Perbill::from_percent(treasury))
}

#[test]
fn set_service_rates_stores_rates_and_emits_event() {
	ExtBuilder::default().build_and_execute(|| {
		let new = rates(30, 25);
		assert_ok!(Tokenomics::set_service_rates(RuntimeOrigin::root(), ServiceKind::Storage, new));
		assert_eq!(ServiceRates::<Test>::get(ServiceKind::Storage), new);
		// Other kinds are untouched.
		assert_eq!(ServiceRates::<Test>::get(ServiceKind::Naming), rates(50, 0));
		assert_eq!(last_event(), Event::ServiceRatesSet { kind: ServiceKind::Storage, rates: new });
	});
}

#[test]
fn set_service_rates_accepts_exactly_one_hundred_percent() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Tokenomics::set_service_rates(
			RuntimeOrigin::root(),
			ServiceKind::Other,
			rates(70, 30)
		));
		assert_ok!(Tokenomics::set_service_rates(
			RuntimeOrigin::root(),
			ServiceKind::Other,
			rates(100, 0)
		));
		assert_eq!(ServiceRates::<Test>::get(ServiceKind::Other), rates(100, 0));
	});
}

#[test]
fn set_service_rates_requires_admin_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Tokenomics::set_service_rates(
				RuntimeOrigin::signed(ALICE),
				ServiceKind::Storage,
				rates(1, 1)
			),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Tokenomics::set_service_rates(RuntimeOrigin::none(), ServiceKind::Storage, rates(1, 1)),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn set_service_rates_refuses_shares_above_one_hundred_percent() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Tokenomics::set_service_rates(
				RuntimeOrigin::root(),
				ServiceKind::GpuInference,
				rates(60, 41)
			),
			Error::<Test>::SharesAboveOneHundredPercent
		);
		assert_noop!(
			Tokenomics::set_service_rates(
				RuntimeOrigin::root(),
				ServiceKind::GpuInference,
				SplitRates::new(Perbill::one(), Perbill::from_parts(1))
			),
			Error::<Test>::SharesAboveOneHundredPercent
		);
		assert_eq!(ServiceRates::<Test>::get(ServiceKind::GpuInference), rates(20, 10));
	});
}

#[test]
fn a_single_share_above_one_hundred_percent_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		// Only JSON (a genesis config) can carry such a value: the SCALE decoder of `Perbill`
		// refuses it.
		let invalid: SplitRates =
			serde_json::from_str(r#"{ "burn": 1000000001, "treasury": 0 }"#).unwrap();
		assert_eq!(
			Tokenomics::check_split_rates(&invalid).map_err(DispatchError::from),
			Err(Error::<Test>::ShareAboveOneHundredPercent.into())
		);
		assert_noop!(
			Tokenomics::set_fee_split(RuntimeOrigin::root(), invalid),
			Error::<Test>::ShareAboveOneHundredPercent
		);

		let mut json = serde_json::to_value(default_buyback()).unwrap();
		json["revenue_share"] = serde_json::json!(2_000_000_000u32);
		let invalid: BuybackParams<u64> = serde_json::from_value(json).unwrap();
		assert_noop!(
			Tokenomics::set_buyback_parameters(RuntimeOrigin::root(), invalid),
			Error::<Test>::ShareAboveOneHundredPercent
		);
	});
}

#[test]
fn set_fee_split_stores_split_and_emits_event() {
	ExtBuilder::default().build_and_execute(|| {
		let new = rates(80, 20);
		assert_ok!(Tokenomics::set_fee_split(RuntimeOrigin::root(), new));
		assert_eq!(FeeSplit::<Test>::get(), new);
		assert_eq!(last_event(), Event::FeeSplitSet { rates: new });
	});
}

#[test]
fn set_fee_split_requires_admin_and_valid_rates() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Tokenomics::set_fee_split(RuntimeOrigin::signed(ALICE), rates(10, 10)),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Tokenomics::set_fee_split(RuntimeOrigin::root(), rates(90, 20)),
			Error::<Test>::SharesAboveOneHundredPercent
		);
		assert_eq!(FeeSplit::<Test>::get(), default_fee_split());
	});
}

#[test]
fn set_buyback_parameters_stores_parameters_and_emits_event() {
	ExtBuilder::default().build_and_execute(|| {
		let new = BuybackParams {
			revenue_share: Perbill::from_percent(25),
			max_spend_per_block: 1_234,
			min_interval: 7,
			oracle_tolerance: MaxTolerance::get(),
			oracle_smoothing: Perbill::one(),
			..default_buyback()
		};
		assert_ok!(Tokenomics::set_buyback_parameters(RuntimeOrigin::root(), new));
		assert_eq!(BuybackParameters::<Test>::get(), new);
		assert_eq!(last_event(), Event::BuybackParametersSet { parameters: new });
	});
}

#[test]
fn set_buyback_parameters_requires_admin_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Tokenomics::set_buyback_parameters(RuntimeOrigin::signed(ALICE), default_buyback()),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn set_buyback_parameters_refuses_nonsense() {
	ExtBuilder::default().build_and_execute(|| {
		let base = default_buyback();
		let refused = [
			(BuybackParams { max_spend_per_block: 0, ..base }, Error::<Test>::ZeroSpendCap),
			(
				BuybackParams { oracle_tolerance: Perbill::zero(), ..base },
				Error::<Test>::ZeroOracleTolerance,
			),
			(
				BuybackParams { oracle_tolerance: Perbill::from_percent(6), ..base },
				Error::<Test>::OracleToleranceTooHigh,
			),
			(
				BuybackParams { oracle_tolerance: Perbill::one(), enabled: false, ..base },
				Error::<Test>::OracleToleranceTooHigh,
			),
			(
				BuybackParams { oracle_smoothing: Perbill::zero(), ..base },
				Error::<Test>::ZeroOracleSmoothing,
			),
			(BuybackParams { min_interval: 0, ..base }, Error::<Test>::ZeroBuybackInterval),
		];
		for (parameters, error) in refused {
			assert_noop!(
				Tokenomics::set_buyback_parameters(RuntimeOrigin::root(), parameters),
				error
			);
		}
		assert_eq!(BuybackParameters::<Test>::get(), base);
	});
}

#[test]
fn paused_buybacks_may_have_zero_cap_and_tolerance() {
	ExtBuilder::default().build_and_execute(|| {
		let paused = BuybackParams {
			enabled: false,
			max_spend_per_block: 0,
			oracle_tolerance: Perbill::zero(),
			..default_buyback()
		};
		assert_ok!(Tokenomics::set_buyback_parameters(RuntimeOrigin::root(), paused));
		assert_eq!(BuybackParameters::<Test>::get(), paused);
		// Enabling them again needs a cap and a tolerance.
		assert_noop!(
			Tokenomics::set_buyback_parameters(
				RuntimeOrigin::root(),
				BuybackParams { enabled: true, ..paused }
			),
			Error::<Test>::ZeroSpendCap
		);
	});
}

#[test]
fn split_rates_split_rounds_shares_down() {
	ExtBuilder::default().build_and_execute(|| {
		let shares = rates(20, 10).split(999u64);
		assert_eq!(shares, Shares { burn: 199, treasury: 99, rest: 701 });
		assert_eq!(rates(0, 0).split(5u64), Shares { burn: 0, treasury: 0, rest: 5 });
		assert_eq!(rates(100, 0).split(5u64), Shares { burn: 5, treasury: 0, rest: 0 });
		assert_eq!(rates(33, 33).split(1u64), Shares { burn: 0, treasury: 0, rest: 1 });
	});
}
