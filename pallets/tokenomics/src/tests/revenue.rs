//! `deposit_revenue`: stable revenue split between the buyback budget and the treasury.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, Perbill, TokenError};

fn with_revenue_share(percent: u32) -> ExtBuilder {
	ExtBuilder::default().buyback(BuybackParams {
		revenue_share: Perbill::from_percent(percent),
		..default_buyback()
	})
}

#[test]
fn revenue_is_split_between_budget_and_treasury() {
	ExtBuilder::default().build_and_execute(|| {
		let revenue = Tokenomics::revenue_account();

		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 1_000_000));

		assert_eq!(stable(ALICE), ALICE_STABLE - 1_000_000);
		assert_eq!(stable(revenue), 100_000);
		assert_eq!(stable(TREASURY), 900_000);
		assert_eq!(BuybackBudget::<Test>::get(), 100_000);
		assert_eq!(
			BuybackTotals::<Test>::get(),
			BuybackLedger {
				revenue_deposited: 1_000_000,
				revenue_to_treasury: 900_000,
				budgeted: 100_000,
				..Default::default()
			}
		);
		assert_eq!(
			last_event(),
			Event::RevenueDeposited {
				who: ALICE,
				amount: 1_000_000,
				to_buyback_budget: 100_000,
				to_treasury: 900_000,
			}
		);
	});
}

#[test]
fn the_budget_share_rounds_down() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 1_009));
		assert_eq!(BuybackBudget::<Test>::get(), 100);
		assert_eq!(stable(TREASURY), 909);
	});
}

#[test]
fn the_budget_accumulates() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 1_000));
		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 2_000));
		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(CHARLIE), 4));
		assert_eq!(BuybackBudget::<Test>::get(), 300);
		assert_eq!(stable(Tokenomics::revenue_account()), 300);
		assert_eq!(BuybackTotals::<Test>::get().revenue_deposited, 3_004);
	});
}

#[test]
fn a_zero_share_sends_everything_to_the_treasury() {
	with_revenue_share(0).build_and_execute(|| {
		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 1_000));
		assert_eq!(BuybackBudget::<Test>::get(), 0);
		assert_eq!(stable(Tokenomics::revenue_account()), 0);
		assert_eq!(stable(TREASURY), 1_000);
	});
}

#[test]
fn a_full_share_sets_everything_aside() {
	with_revenue_share(100).build_and_execute(|| {
		assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 1_000));
		assert_eq!(BuybackBudget::<Test>::get(), 1_000);
		assert_eq!(stable(TREASURY), 0);
	});
}

#[test]
fn revenue_is_set_aside_while_buybacks_are_paused() {
	ExtBuilder::default()
		.buyback(BuybackParams { enabled: false, ..default_buyback() })
		.build_and_execute(|| {
			assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 1_000));
			assert_eq!(BuybackBudget::<Test>::get(), 100);
		});
}

#[test]
fn deposit_revenue_refuses_zero() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ZeroAmount
		);
	});
}

#[test]
fn deposit_revenue_requires_a_signed_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Tokenomics::deposit_revenue(RuntimeOrigin::root(), 1_000),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Tokenomics::deposit_revenue(RuntimeOrigin::none(), 1_000),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn deposit_revenue_fails_without_enough_stable() {
	ExtBuilder::default().build_and_execute(|| {
		// Charlie holds 5 stable; Bob holds none.
		assert_noop!(
			Tokenomics::deposit_revenue(RuntimeOrigin::signed(CHARLIE), 100),
			TokenError::FundsUnavailable
		);
		assert!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(BOB), 100).is_err());
		// The caller keeps the asset's minimum balance.
		assert!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(CHARLIE), 5).is_err());
		assert_eq!(stable(CHARLIE), 5);
		assert_eq!(BuybackBudget::<Test>::get(), 0);
	});
}
