//! The price oracle: spot price, moving average, once-per-block updates, deviation.

use crate::{
	mock::*,
	oracle::{deviates, smooth},
	*,
};
use frame_support::assert_ok;
use sp_runtime::{FixedU128, Perbill};

fn price(n: u32) -> FixedU128 {
	FixedU128::from_u32(n)
}

fn oracle() -> Option<OracleState<u64>> {
	OraclePrice::<Test>::get()
}

#[test]
fn the_first_block_seeds_the_oracle_with_the_spot_price() {
	ExtBuilder::default().build_and_execute(|| {
		// 10_000_000 stable for 1_000_000_000 native: 10 stable per 1_000 native.
		assert_eq!(oracle(), Some(OracleState { price: price(10), updated_at: 1 }));
	});
}

#[test]
fn spot_price_is_stable_per_price_unit_of_native() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Tokenomics::spot_price(POOL_NATIVE, POOL_STABLE), Some(price(10)));
		assert_eq!(Tokenomics::spot_price(2_000, 1), Some(FixedU128::from_rational(1, 2)));
		// One third, rounded down at the 18th decimal.
		assert_eq!(
			Tokenomics::spot_price(3_000, 1),
			Some(FixedU128::from_inner(333_333_333_333_333_333))
		);
		assert_eq!(Tokenomics::spot_price(0, 1), None);
		assert_eq!(Tokenomics::spot_price(1, 0), None);
		// Close to the precision of the price, which still tells it apart from zero.
		assert_eq!(Tokenomics::spot_price(u64::MAX, 1), Some(FixedU128::from_inner(54)));
	});
}

#[test]
fn native_for_stable_inverts_the_price() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Tokenomics::native_for_stable(10_000, price(10)), Some(1_000_000));
		assert_eq!(Tokenomics::native_for_stable(0, price(10)), Some(0));
		assert_eq!(Tokenomics::native_for_stable(1, FixedU128::from_rational(1, 3)), Some(3_000));
		assert_eq!(Tokenomics::native_for_stable(10, FixedU128::from_inner(0)), None);
		// More native than the balance type holds.
		assert_eq!(Tokenomics::native_for_stable(u64::MAX, price(1)), None);
	});
}

#[test]
fn smoothing_moves_a_share_of_the_gap() {
	ExtBuilder::default().build_and_execute(|| {
		let ten_percent = Perbill::from_percent(10);
		assert_eq!(smooth(price(10), price(20), ten_percent), price(11));
		assert_eq!(smooth(price(10), price(0), ten_percent), price(9));
		assert_eq!(smooth(price(10), price(10), ten_percent), price(10));
		assert_eq!(smooth(price(10), price(20), Perbill::one()), price(20));
		assert_eq!(
			smooth(price(10), price(20), Perbill::from_parts(1)),
			price(10) + FixedU128::from_inner(10_000_000_000)
		);
	});
}

#[test]
fn deviation_is_relative_to_the_oracle_price() {
	ExtBuilder::default().build_and_execute(|| {
		let two_percent = Perbill::from_percent(2);
		let one = FixedU128::from_inner(1);
		let up = FixedU128::from_rational(102, 10);
		let down = FixedU128::from_rational(98, 10);
		assert!(!deviates(price(10), price(10), two_percent));
		assert!(!deviates(up, price(10), two_percent));
		assert!(deviates(up + one, price(10), two_percent));
		assert!(!deviates(down, price(10), two_percent));
		assert!(deviates(down - one, price(10), two_percent));
		assert!(deviates(one, FixedU128::from_inner(0), Perbill::one()));
	});
}

#[test]
fn the_oracle_moves_by_the_smoothing_factor_each_block() {
	ExtBuilder::default().build_and_execute(|| {
		// Double the price after the oracle's update of block 1.
		set_pool(POOL_NATIVE, 2 * POOL_STABLE);
		assert_eq!(oracle().unwrap().price, price(10));

		next_block();
		assert_eq!(oracle(), Some(OracleState { price: price(11), updated_at: 2 }));
		next_block();
		assert_eq!(
			oracle(),
			Some(OracleState { price: FixedU128::from_rational(119, 10), updated_at: 3 })
		);
	});
}

#[test]
fn the_oracle_updates_at_most_once_per_block() {
	ExtBuilder::default().build_and_execute(|| {
		set_pool(POOL_NATIVE, 2 * POOL_STABLE);
		Tokenomics::update_oracle(1);
		assert_eq!(oracle(), Some(OracleState { price: price(10), updated_at: 1 }));
	});
}

#[test]
fn a_thin_pool_does_not_feed_the_oracle() {
	ExtBuilder::default().build_and_execute(|| {
		let params = default_buyback();
		set_pool(params.min_native_reserve - 1, 20 * POOL_STABLE);
		next_block();
		assert_eq!(oracle(), Some(OracleState { price: price(10), updated_at: 1 }));

		set_pool(POOL_NATIVE, params.min_stable_reserve - 1);
		next_block();
		assert_eq!(oracle(), Some(OracleState { price: price(10), updated_at: 1 }));

		set_pool(POOL_NATIVE, POOL_STABLE);
		next_block();
		assert_eq!(oracle(), Some(OracleState { price: price(10), updated_at: 4 }));
	});
}

#[test]
fn without_pool_the_oracle_keeps_its_price() {
	ExtBuilder::default().build_and_execute(|| {
		PoolExists::set(false);
		next_block();
		assert_eq!(oracle(), Some(OracleState { price: price(10), updated_at: 1 }));
	});
}

#[test]
fn the_first_healthy_pool_seeds_the_oracle() {
	ExtBuilder::default().build_and_execute(|| {
		OraclePrice::<Test>::kill();
		PoolExists::set(false);
		next_block();
		assert_eq!(oracle(), None);

		PoolExists::set(true);
		set_pool(POOL_NATIVE, 3 * POOL_STABLE);
		next_block();
		assert_eq!(oracle(), Some(OracleState { price: price(30), updated_at: 3 }));
	});
}

#[test]
fn the_oracle_runs_while_buybacks_are_paused() {
	ExtBuilder::default()
		.buyback(BuybackParams { enabled: false, ..default_buyback() })
		.build_and_execute(|| {
			set_pool(POOL_NATIVE, 2 * POOL_STABLE);
			next_block();
			assert_eq!(oracle(), Some(OracleState { price: price(11), updated_at: 2 }));
		});
}

#[test]
fn governance_can_make_the_oracle_follow_the_pool_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Tokenomics::set_buyback_parameters(
			RuntimeOrigin::root(),
			BuybackParams { oracle_smoothing: Perbill::one(), ..default_buyback() }
		));
		set_pool(POOL_NATIVE, 2 * POOL_STABLE);
		next_block();
		assert_eq!(oracle().unwrap().price, price(20));
	});
}
