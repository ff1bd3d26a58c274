//! `do_try_state` catches every broken invariant, and the burned totals match the fall of the
//! total issuance.

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
use sp_runtime::{FixedU128, Perbill};

/// Break the state with `break_it`, check that `do_try_state` notices, then restore it.
fn assert_detected(break_it: impl FnOnce()) {
	let snapshot = sp_io::storage::root(sp_runtime::StateVersion::V1);
	frame_support::storage::with_transaction(|| {
		break_it();
		assert!(Tokenomics::do_try_state().is_err(), "the broken invariant went unnoticed");
		sp_runtime::TransactionOutcome::Rollback(Ok::<(), sp_runtime::DispatchError>(()))
	})
	.unwrap();
	assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), snapshot);
}

#[test]
fn try_state_detects_every_broken_invariant() {
	ExtBuilder::default().build_and_execute(|| {
		// Some activity first, so that every total is non-zero.
		assert_ok!(<Tokenomics as ServicePayment<u64, u64>>::charge(
			&ALICE,
			Some(&BOB),
			1_000,
			ServiceKind::GpuInference
		));
		let fee = <Balances as Balanced<u64>>::withdraw(
			&ALICE,
			1_000,
			Precision::Exact,
			Preservation::Preserve,
			Fortitude::Polite,
		)
		.unwrap();
		DealWithFees::<Test>::on_unbalanced(fee);
		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 1_000_000));
		Tokenomics::on_idle(1, Weight::MAX);
		assert_ok!(Tokenomics::do_try_state());

		assert_detected(|| {
			ServiceRates::<Test>::insert(
				ServiceKind::Naming,
				SplitRates::new(Perbill::one(), Perbill::one()),
			)
		});
		assert_detected(|| {
			FeeSplit::<Test>::put(SplitRates::new(Perbill::one(), Perbill::from_percent(1)))
		});
		assert_detected(|| {
			BuybackParameters::<Test>::mutate(|params| params.oracle_smoothing = Perbill::zero())
		});
		assert_detected(|| BuybackParameters::<Test>::mutate(|params| params.min_interval = 0));
		assert_detected(|| {
			ServiceTotals::<Test>::mutate(ServiceKind::GpuInference, |ledger| ledger.charged += 1)
		});
		assert_detected(|| {
			ServiceTotals::<Test>::mutate(ServiceKind::Storage, |ledger| ledger.burned += 1)
		});
		assert_detected(|| FeeTotals::<Test>::mutate(|ledger| ledger.to_authors += 1));
		assert_detected(|| FeeTotals::<Test>::mutate(|ledger| ledger.tips += 1));
		assert_detected(|| BuybackTotals::<Test>::mutate(|ledger| ledger.revenue_deposited += 1));
		assert_detected(|| BuybackTotals::<Test>::mutate(|ledger| ledger.stable_spent += 1));
		assert_detected(|| BuybackBudget::<Test>::mutate(|budget| *budget += 1));
		assert_detected(|| {
			BuybackTotals::<Test>::mutate(|ledger| ledger.native_burned = ledger.native_bought + 1)
		});
		assert_detected(|| {
			// The revenue account loses stable the budget counts on.
			<Assets as frame_support::traits::fungibles::Mutate<u64>>::set_balance(
				STABLE,
				&Tokenomics::revenue_account(),
				1,
			);
		});
		assert_detected(|| {
			OraclePrice::<Test>::put(OracleState { price: FixedU128::from_inner(0), updated_at: 1 })
		});
		assert_detected(|| {
			OraclePrice::<Test>::put(OracleState { price: FixedU128::from_u32(1), updated_at: 2 })
		});
		assert_detected(|| LastBuybackAttempt::<Test>::put(2));
	});
}

#[test]
fn everything_burned_is_missing_from_the_total_issuance() {
	ExtBuilder::default().build_and_execute(|| {
		let issued = issuance();

		for kind in ServiceKind::ALL {
			assert_ok!(<Tokenomics as ServicePayment<u64, u64>>::charge(
				&ALICE,
				Some(&BOB),
				12_345,
				kind
			));
			assert_ok!(<Tokenomics as ServicePayment<u64, u64>>::charge(&ALICE, None, 777, kind));
		}
		for fee in [1_000, 333, 1] {
			let credit = <Balances as Balanced<u64>>::withdraw(
				&ALICE,
				fee,
				Precision::Exact,
				Preservation::Preserve,
				Fortitude::Polite,
			)
			.unwrap();
			DealWithFees::<Test>::on_unbalanced(credit);
		}
		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 1_000_000));
		run_to_block(5);

		assert!(BuybackTotals::<Test>::get().executed > 0);
		assert!(FeeTotals::<Test>::get().burned > 0);
		assert_eq!(issued - issuance(), Tokenomics::total_burned());
	});
}
