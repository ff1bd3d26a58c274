//! `Pallet::totals`, the answer of the runtime API.

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	traits::{
		fungible::Balanced,
		tokens::{Fortitude, Precision, Preservation},
		Hooks, OnUnbalanced,
	},
	weights::Weight,
};
use sp_runtime::FixedU128;

#[test]
fn totals_report_every_ledger_the_parameters_and_the_oracle() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(<Tokenomics as ServicePayment<u64, u64>>::charge(
			&ALICE,
			Some(&BOB),
			1_000,
			ServiceKind::Naming
		));
		let fee = <Balances as Balanced<u64>>::withdraw(
			&ALICE,
			100,
			Precision::Exact,
			Preservation::Preserve,
			Fortitude::Polite,
		)
		.unwrap();
		DealWithFees::<Test>::on_unbalanced(fee);
		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 1_000_000));
		Tokenomics::on_idle(1, Weight::MAX);

		let totals = Tokenomics::totals();

		let kinds: Vec<ServiceKind> = totals.services.iter().map(|service| service.kind).collect();
		assert_eq!(kinds, ServiceKind::ALL.to_vec());
		let naming = &totals.services[1];
		assert_eq!(naming.rates, default_service_rates().naming);
		assert_eq!(
			naming.totals,
			ServiceLedger { charged: 1_000, burned: 500, to_providers: 500, to_treasury: 0 }
		);
		assert_eq!(totals.fee_split, default_fee_split());
		assert_eq!(
			totals.fees,
			FeeLedger { fees: 100, tips: 0, burned: 50, to_authors: 30, to_treasury: 20 }
		);
		assert_eq!(totals.buyback_parameters, default_buyback());
		assert_eq!(totals.buyback, BuybackTotals::<Test>::get());
		assert_eq!(totals.buyback_budget, 90_000);
		assert_eq!(totals.oracle_price, Some(FixedU128::from_u32(10)));
		assert_eq!(totals.oracle_updated_at, Some(1));
		assert_eq!(totals.last_buyback_attempt, Some(1));
		let bought = quote(POOL_NATIVE, POOL_STABLE, 10_000);
		assert_eq!(totals.total_burned, 500 + 50 + bought);
		assert_eq!(Tokenomics::total_burned(), totals.total_burned);
	});
}

#[test]
fn totals_start_empty() {
	ExtBuilder::default().build_and_execute(|| {
		let totals = Tokenomics::totals();
		assert!(totals.services.iter().all(|service| service.totals == ServiceLedger::default()));
		assert_eq!(totals.fees, FeeLedger::default());
		assert_eq!(totals.buyback, BuybackLedger::default());
		assert_eq!(totals.total_burned, 0);
		assert_eq!(totals.last_buyback_attempt, None);
	});
}
