//! Buybacks: the `on_idle` hook and `execute_buyback`, the oracle guard, the cap, the rate limit
//! and every reason to skip.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::Hooks, weights::Weight};
use sp_runtime::{traits::Get, DispatchError, FixedU128};

/// Deposit revenue so that the budget grows by a tenth of `amount`.
fn deposit(amount: u64) {
	assert_ok!(Tokenomics::deposit_revenue(RuntimeOrigin::signed(ALICE), amount));
}

fn executed() -> Vec<Event<Test>> {
	tokenomics_events()
		.into_iter()
		.filter(|event| matches!(event, Event::BuybackExecuted { .. }))
		.collect()
}

fn skipped() -> Vec<SkipReason<u64>> {
	tokenomics_events()
		.into_iter()
		.filter_map(|event| match event {
			Event::BuybackSkipped { reason } => Some(reason),
			_ => None,
		})
		.collect()
}

fn set_params(parameters: BuybackParams<u64>) {
	assert_ok!(Tokenomics::set_buyback_parameters(RuntimeOrigin::root(), parameters));
}

#[test]
fn the_hook_buys_back_and_burns_what_it_bought() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		let revenue = Tokenomics::revenue_account();
		let issued = issuance();

		let weight = Tokenomics::on_idle(1, Weight::MAX);

		// 10_000 stable (the cap) at 10 stable per 1_000 native should buy 1_000_000 native; the
		// pool gives 999_000, above the minimum of 980_000 (2 % tolerance).
		let bought = quote(POOL_NATIVE, POOL_STABLE, 10_000);
		assert_eq!(bought, 999_000);
		assert_eq!(weight, <() as WeightInfo>::on_idle_buyback());
		assert_eq!(issuance(), issued - bought);
		assert_eq!(native(revenue), 0);
		assert_eq!(stable(revenue), 90_000);
		assert_eq!(native(POOL), POOL_NATIVE - bought);
		assert_eq!(stable(POOL), POOL_STABLE + 10_000);
		assert_eq!(BuybackBudget::<Test>::get(), 90_000);
		assert_eq!(LastBuybackAttempt::<Test>::get(), Some(1));
		let totals = BuybackTotals::<Test>::get();
		assert_eq!(
			(totals.stable_spent, totals.native_bought, totals.native_burned, totals.executed),
			(10_000, bought, bought, 1)
		);
		assert_eq!(
			last_event(),
			Event::BuybackExecuted {
				stable_spent: 10_000,
				native_bought: bought,
				native_burned: bought,
				spot_price: FixedU128::from_u32(10),
				oracle_price: FixedU128::from_u32(10),
				min_native_out: 980_000,
				budget_left: 90_000,
			}
		);
	});
}

#[test]
fn at_most_one_buyback_per_interval() {
	ExtBuilder::default()
		.buyback(BuybackParams { min_interval: 3, ..default_buyback() })
		.build_and_execute(|| {
			deposit(1_000_000);
			// The hook runs at the end of blocks 1 to 6: it buys in blocks 1 and 4.
			run_to_block(7);
			assert_eq!(executed().len(), 2);
			assert_eq!(BuybackTotals::<Test>::get().executed, 2);
			assert_eq!(BuybackBudget::<Test>::get(), 80_000);
			assert_eq!(LastBuybackAttempt::<Test>::get(), Some(4));
		});
}

#[test]
fn the_hook_buys_every_block_with_an_interval_of_one() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		run_to_block(4);
		assert_eq!(executed().len(), 3);
		assert_eq!(BuybackBudget::<Test>::get(), 70_000);
	});
}

#[test]
fn execute_buyback_buys_and_the_hook_then_waits() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);

		assert_ok!(Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)));
		assert!(matches!(last_event(), Event::BuybackExecuted { stable_spent: 10_000, .. }));

		// Not again in this block, neither by call nor by the hook.
		assert_noop!(
			Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)),
			Error::<Test>::BuybackTooSoon
		);
		assert_eq!(
			Tokenomics::on_idle(1, Weight::MAX),
			<<Test as frame_system::Config>::DbWeight as Get<
				frame_support::weights::RuntimeDbWeight,
			>>::get()
			.reads(3)
		);
		assert_eq!(executed().len(), 1);

		// The next block may buy again.
		next_block();
		assert_ok!(Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)));
		assert_eq!(executed().len(), 2);
	});
}

#[test]
fn execute_buyback_is_rate_limited_by_the_interval() {
	ExtBuilder::default()
		.buyback(BuybackParams { min_interval: 5, ..default_buyback() })
		.build_and_execute(|| {
			deposit(1_000_000);
			assert_ok!(Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)));
			run_to_block(3);
			assert_noop!(
				Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)),
				Error::<Test>::BuybackTooSoon
			);
			run_to_block(6);
			assert_ok!(Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)));
			assert_eq!(executed().len(), 2);
		});
}

#[test]
fn execute_buyback_fails_when_disabled_or_empty_or_unsigned() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)),
			Error::<Test>::EmptyBuybackBudget
		);
		deposit(1_000_000);
		assert_noop!(Tokenomics::execute_buyback(RuntimeOrigin::none()), DispatchError::BadOrigin);
		assert_noop!(Tokenomics::execute_buyback(RuntimeOrigin::root()), DispatchError::BadOrigin);
		set_params(BuybackParams { enabled: false, ..default_buyback() });
		assert_noop!(
			Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)),
			Error::<Test>::BuybackDisabled
		);
	});
}

#[test]
fn paused_buybacks_keep_the_budget() {
	ExtBuilder::default()
		.buyback(BuybackParams { enabled: false, ..default_buyback() })
		.build_and_execute(|| {
			deposit(1_000_000);
			run_to_block(5);
			assert_eq!(BuybackBudget::<Test>::get(), 100_000);
			assert!(executed().is_empty());
			assert!(skipped().is_empty());
			assert_eq!(LastBuybackAttempt::<Test>::get(), None);
		});
}

#[test]
fn a_price_moved_within_the_block_skips_the_buyback() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		let revenue = Tokenomics::revenue_account();
		let issued = issuance();
		// A front-runner pushes the price up 5 % after the oracle's update of this block.
		set_pool(POOL_NATIVE, POOL_STABLE / 100 * 105);

		assert_ok!(Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)));

		assert_eq!(
			last_event(),
			Event::BuybackSkipped {
				reason: SkipReason::PriceDeviation {
					spot_price: FixedU128::from_rational(105, 10),
					oracle_price: FixedU128::from_u32(10),
				},
			}
		);
		assert_eq!(BuybackBudget::<Test>::get(), 100_000);
		assert_eq!(stable(revenue), 100_000);
		assert_eq!(issuance(), issued);
		assert_eq!(LastBuybackAttempt::<Test>::get(), Some(1));
		assert_eq!(BuybackTotals::<Test>::get().skipped, 1);
		// The attempt counts: not again in this block.
		assert_noop!(
			Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)),
			Error::<Test>::BuybackTooSoon
		);
	});
}

#[test]
fn a_manipulated_price_must_last_many_blocks_to_reach_the_oracle() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		set_pool(POOL_NATIVE, POOL_STABLE / 100 * 105);

		// The oracle moves a tenth of the gap per block; a 5 % gap stays above the 2 %
		// tolerance for eight blocks.
		run_to_block(9);
		assert!(executed().is_empty());
		assert_eq!(skipped().len(), 8);
		assert!(skipped()
			.iter()
			.all(|reason| matches!(reason, SkipReason::PriceDeviation { .. })));

		// Once the price has held long enough, the buyback goes ahead at that price.
		run_to_block(11);
		assert_eq!(executed().len(), 1);
	});
}

#[test]
fn thin_liquidity_skips_the_buyback() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		// Same price, a twentieth of the liquidity: below the minimum native reserve.
		set_pool(POOL_NATIVE / 20, POOL_STABLE / 20);

		assert_ok!(Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)));

		assert_eq!(
			last_event(),
			Event::BuybackSkipped {
				reason: SkipReason::InsufficientLiquidity {
					native_reserve: POOL_NATIVE / 20,
					stable_reserve: POOL_STABLE / 20,
				},
			}
		);
		assert_eq!(BuybackBudget::<Test>::get(), 100_000);
	});
}

#[test]
fn a_missing_pool_skips_the_buyback() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		PoolExists::set(false);
		assert_ok!(Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)));
		assert_eq!(last_event(), Event::BuybackSkipped { reason: SkipReason::PoolUnavailable });
	});
}

#[test]
fn without_oracle_price_the_buyback_is_skipped() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		OraclePrice::<Test>::kill();
		// The pool is too thin to seed the oracle.
		set_params(BuybackParams { min_native_reserve: 2 * POOL_NATIVE, ..default_buyback() });

		assert_ok!(Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)));

		assert_eq!(last_event(), Event::BuybackSkipped { reason: SkipReason::NoOraclePrice });
		assert_eq!(OraclePrice::<Test>::get(), None);
	});
}

#[test]
fn a_failing_swap_skips_the_buyback_and_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		PoolFails::set(true);
		let revenue = Tokenomics::revenue_account();
		let issued = issuance();

		Tokenomics::on_idle(1, Weight::MAX);

		// `DispatchError::Other` keeps its message only in memory: events store it encoded.
		assert!(matches!(
			last_event(),
			Event::BuybackSkipped {
				reason: SkipReason::SwapFailed { error: DispatchError::Other(_) },
			}
		));
		assert_eq!(BuybackBudget::<Test>::get(), 100_000);
		assert_eq!(stable(revenue), 100_000);
		assert_eq!(native(POOL), POOL_NATIVE);
		assert_eq!(stable(POOL), POOL_STABLE);
		assert_eq!(issuance(), issued);
	});
}

#[test]
fn a_swap_below_the_minimum_output_is_skipped() {
	ExtBuilder::default()
		.buyback(BuybackParams { max_spend_per_block: 1_000_000, ..default_buyback() })
		.build_and_execute(|| {
			// A budget of 1_000_000 stable, a tenth of the pool: the price impact (about 9 %)
			// is far beyond the 2 % tolerance.
			deposit(10_000_000);
			let issued = issuance();

			assert_ok!(Tokenomics::execute_buyback(RuntimeOrigin::signed(BOB)));

			assert!(matches!(
				last_event(),
				Event::BuybackSkipped {
					reason: SkipReason::SwapFailed { error: DispatchError::Other(_) },
				}
			));
			assert_eq!(BuybackBudget::<Test>::get(), 1_000_000);
			assert_eq!(issuance(), issued);
		});
}

#[test]
fn each_buyback_spends_at_most_the_cap_and_at_most_the_budget() {
	ExtBuilder::default().build_and_execute(|| {
		// A budget of 15_000: one capped buyback of 10_000, then one of the remaining 5_000.
		deposit(150_000);
		run_to_block(5);
		let spent: Vec<u64> = executed()
			.into_iter()
			.filter_map(|event| match event {
				Event::BuybackExecuted { stable_spent, .. } => Some(stable_spent),
				_ => None,
			})
			.collect();
		assert_eq!(spent, vec![10_000, 5_000]);
		assert_eq!(BuybackBudget::<Test>::get(), 0);
		// With an empty budget the hook stays silent.
		assert!(skipped().is_empty());
		assert_eq!(LastBuybackAttempt::<Test>::get(), Some(2));
	});
}

#[test]
fn the_hook_needs_room_for_the_worst_case() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		let worst_case = <() as WeightInfo>::on_idle_buyback();

		assert_eq!(Tokenomics::on_idle(1, Weight::zero()), Weight::zero());
		assert_eq!(
			Tokenomics::on_idle(1, worst_case.saturating_sub(Weight::from_parts(1, 0))),
			Weight::zero()
		);
		assert!(executed().is_empty());
		assert_eq!(LastBuybackAttempt::<Test>::get(), None);

		assert_eq!(Tokenomics::on_idle(1, worst_case), worst_case);
		assert_eq!(executed().len(), 1);
	});
}

#[test]
fn only_what_was_bought_is_burned() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		let revenue = Tokenomics::revenue_account();
		// Some native sent to the revenue account beforehand stays there; only what the
		// buyback bought is burned.
		assert_ok!(<Balances as frame_support::traits::fungible::Mutate<u64>>::transfer(
			&ALICE,
			&revenue,
			500,
			frame_support::traits::tokens::Preservation::Preserve,
		));
		let issued = issuance();

		Tokenomics::on_idle(1, Weight::MAX);

		let bought = quote(POOL_NATIVE, POOL_STABLE, 10_000);
		assert_eq!(native(revenue), 500);
		assert_eq!(issuance(), issued - bought);
		assert_eq!(BuybackTotals::<Test>::get().native_burned, bought);
	});
}

#[test]
fn governance_can_change_the_cap_between_buybacks() {
	ExtBuilder::default().build_and_execute(|| {
		deposit(1_000_000);
		set_params(BuybackParams { max_spend_per_block: 2_000, ..default_buyback() });
		Tokenomics::on_idle(1, Weight::MAX);
		assert!(matches!(last_event(), Event::BuybackExecuted { stable_spent: 2_000, .. }));
		assert_eq!(BuybackBudget::<Test>::get(), 98_000);
	});
}
