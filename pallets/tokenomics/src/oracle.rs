//! The price oracle: the pool's spot price and its moving average, and the price arithmetic of
//! the buyback.
//!
//! Prices are [`FixedU128`] numbers of stable base units per [`Config::PriceUnit`] of native
//! currency. Integer conversions go through `multiply_by_rational_with_rounding`, whose 256-bit
//! intermediate cannot overflow; a result that does not fit is `None`.

use crate::{
	BuybackParameters, BuybackParams, BuybackPool, Config, OraclePrice, OracleState, Pallet,
};
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Zero, FixedPointNumber, FixedU128,
	Perbill, Rounding, SaturatedConversion,
};

impl<T: Config> Pallet<T> {
	/// Move the oracle price towards the pool's spot price, once per block at most.
	///
	/// Nothing changes when the oracle was already updated in block `now`, when there is no
	/// pool, or when its reserves are below the governed minimums (a thin pool is cheap to move,
	/// so its price must not feed the oracle). The first price seeds the oracle; later ones move
	/// it by `oracle_smoothing` of the gap.
	pub(crate) fn update_oracle(now: BlockNumberFor<T>) {
		let previous = OraclePrice::<T>::get();
		if previous.is_some_and(|state| state.updated_at == now) {
			return;
		}
		let Some((native_reserve, stable_reserve)) = T::Pool::reserves() else { return };
		let params = BuybackParameters::<T>::get();
		if !Self::has_min_liquidity(native_reserve, stable_reserve, &params) {
			return;
		}
		let Some(spot) = Self::spot_price(native_reserve, stable_reserve) else { return };
		let price = match previous {
			None => spot,
			Some(state) => smooth(state.price, spot, params.oracle_smoothing),
		};
		OraclePrice::<T>::put(OracleState { price, updated_at: now });
	}

	/// Whether the pool's reserves are non-zero and at least the governed minimums.
	pub(crate) fn has_min_liquidity(
		native_reserve: T::Balance,
		stable_reserve: T::Balance,
		params: &BuybackParams<T::Balance>,
	) -> bool {
		!native_reserve.is_zero()
			&& !stable_reserve.is_zero()
			&& native_reserve >= params.min_native_reserve
			&& stable_reserve >= params.min_stable_reserve
	}

	/// `PriceUnit * 10^18`: the factor between a reserve ratio and a price's inner value.
	/// `None` when `PriceUnit` is zero or the product overflows (`integrity_test` refuses both).
	pub(crate) fn price_scale() -> Option<u128> {
		let unit: u128 = T::PriceUnit::get().saturated_into();
		if unit == 0 {
			return None;
		}
		unit.checked_mul(<FixedU128 as FixedPointNumber>::DIV)
	}

	/// The spot price of reserves `native_reserve` and `stable_reserve`: stable base units per
	/// `PriceUnit` of native, rounded down. `None` for an empty reserve or a price of zero.
	pub fn spot_price(native_reserve: T::Balance, stable_reserve: T::Balance) -> Option<FixedU128> {
		let native: u128 = native_reserve.saturated_into();
		let stable: u128 = stable_reserve.saturated_into();
		if native == 0 {
			return None;
		}
		let inner = multiply_by_rational_with_rounding(
			stable,
			Self::price_scale()?,
			native,
			Rounding::Down,
		)?;
		(inner > 0).then_some(FixedU128::from_inner(inner))
	}

	/// The native amount `stable_amount` buys at `price`, rounded down; `None` for a zero price
	/// or a result that does not fit the balance type.
	pub fn native_for_stable(stable_amount: T::Balance, price: FixedU128) -> Option<T::Balance> {
		let inner = price.into_inner();
		if inner == 0 {
			return None;
		}
		let stable: u128 = stable_amount.saturated_into();
		let native = multiply_by_rational_with_rounding(
			stable,
			Self::price_scale()?,
			inner,
			Rounding::Down,
		)?;
		<T::Balance as TryFrom<u128>>::try_from(native).ok()
	}
}

/// One step of the exponential moving average: `old + smoothing * (spot - old)`, rounded
/// towards `old`.
pub(crate) fn smooth(old: FixedU128, spot: FixedU128, smoothing: Perbill) -> FixedU128 {
	let (old, spot) = (old.into_inner(), spot.into_inner());
	let step = smoothing.mul_floor(old.abs_diff(spot));
	let new = if spot >= old { old.saturating_add(step) } else { old.saturating_sub(step) };
	FixedU128::from_inner(new)
}

/// Whether `spot` is further from `oracle` than `tolerance` of `oracle`.
pub(crate) fn deviates(spot: FixedU128, oracle: FixedU128, tolerance: Perbill) -> bool {
	let (spot, oracle) = (spot.into_inner(), oracle.into_inner());
	spot.abs_diff(oracle) > tolerance.mul_floor(oracle)
}
