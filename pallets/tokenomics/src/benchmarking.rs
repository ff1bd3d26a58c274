//! Benchmarks of the tokenomics pallet: every call, the two hooks at their worst case, a
//! service charge and the distribution of a transaction fee.

use super::*;
use crate::Pallet as Tokenomics;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{self, Balanced},
		fungibles, EnsureOrigin, Get, Hooks, OnUnbalanced,
	},
	weights::Weight,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::{traits::Saturating, Perbill};

/// An amount of native currency no transfer in these benchmarks falls short of: the existential
/// deposit, or one planck when there is none.
fn native_unit<T: Config>() -> T::Balance {
	<T::Currency as fungible::Inspect<T::AccountId>>::minimum_balance().max(1u32.into())
}

/// An amount of the stable asset at least its minimum balance. Creates the asset if needed.
fn stable_unit<T: Config>() -> T::Balance {
	T::BenchmarkHelper::create_stable();
	<T::Assets as fungibles::Inspect<T::AccountId>>::minimum_balance(T::StableAsset::get())
		.max(1_000u32.into())
}

/// Buyback parameters under which the swap of [`prepare_buyback`] succeeds.
fn enabled_params<T: Config>(cap: T::Balance) -> BuybackParams<T::Balance> {
	BuybackParams {
		enabled: true,
		revenue_share: Perbill::from_percent(50),
		max_spend_per_block: cap,
		min_interval: 1,
		oracle_tolerance: T::MaxOracleTolerance::get(),
		oracle_smoothing: Perbill::from_percent(10),
		min_native_reserve: 0u32.into(),
		min_stable_reserve: 0u32.into(),
	}
}

/// Set up the worst case of a buyback in the current block: a pool, an oracle price, a budget
/// at the revenue account larger than the cap, and enabled parameters. A swap spends 1/1000 of
/// the pool's stable reserve, so price impact and pool fee stay within `MaxOracleTolerance`
/// (which must be above about 0.5 % for these benchmarks).
fn prepare_buyback<T: Config>() -> T::Balance {
	let native = native_unit::<T>();
	let stable = stable_unit::<T>();
	T::BenchmarkHelper::setup_pool(
		native.saturating_mul(1_000_000u32.into()),
		stable.saturating_mul(1_000_000u32.into()),
	);
	let cap = stable.saturating_mul(1_000u32.into());
	let budget = cap.saturating_mul(2u32.into());
	BuybackParameters::<T>::put(enabled_params::<T>(cap));
	T::BenchmarkHelper::fund_stable(&Tokenomics::<T>::revenue_account(), budget);
	BuybackBudget::<T>::put(budget);
	BuybackTotals::<T>::mutate(|ledger| {
		ledger.revenue_deposited.saturating_accrue(budget);
		ledger.budgeted.saturating_accrue(budget);
	});
	// Seed the oracle with this pool's price, whatever it held before.
	OraclePrice::<T>::kill();
	Tokenomics::<T>::update_oracle(frame_system::Pallet::<T>::block_number());
	cap
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_service_rates() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let rates = SplitRates::new(Perbill::from_percent(30), Perbill::from_percent(20));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, ServiceKind::GpuInference, rates);

		assert_eq!(ServiceRates::<T>::get(ServiceKind::GpuInference), rates);
		Ok(())
	}

	#[benchmark]
	fn set_fee_split() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let rates = SplitRates::new(Perbill::from_percent(50), Perbill::from_percent(20));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, rates);

		assert_eq!(FeeSplit::<T>::get(), rates);
		Ok(())
	}

	#[benchmark]
	fn set_buyback_parameters() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let parameters = enabled_params::<T>(1_000u32.into());

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, parameters);

		assert_eq!(BuybackParameters::<T>::get(), parameters);
		Ok(())
	}

	/// Worst case: both parts are transferred, to accounts that do not hold the asset yet.
	#[benchmark]
	fn deposit_revenue() {
		let caller: T::AccountId = whitelisted_caller();
		let amount = stable_unit::<T>().saturating_mul(1_000u32.into());
		T::BenchmarkHelper::fund_stable(&caller, amount.saturating_mul(2u32.into()));
		BuybackParameters::<T>::put(enabled_params::<T>(amount));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), amount);

		assert_eq!(BuybackTotals::<T>::get().revenue_deposited, amount);
	}

	/// Worst case: the buyback swaps and burns.
	#[benchmark]
	fn execute_buyback() {
		let caller: T::AccountId = whitelisted_caller();
		let cap = prepare_buyback::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller));

		assert_eq!(BuybackTotals::<T>::get().executed, 1);
		assert_eq!(BuybackTotals::<T>::get().stable_spent, cap);
	}

	/// Worst case: the oracle has a price and moves it towards the pool's.
	#[benchmark]
	fn on_initialize_oracle() {
		let native = native_unit::<T>();
		let stable = stable_unit::<T>();
		T::BenchmarkHelper::setup_pool(
			native.saturating_mul(1_000_000u32.into()),
			stable.saturating_mul(1_000_000u32.into()),
		);
		BuybackParameters::<T>::put(enabled_params::<T>(stable));
		let now = frame_system::Pallet::<T>::block_number();
		OraclePrice::<T>::kill();
		Tokenomics::<T>::update_oracle(now);
		let next = now.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(next);

		#[block]
		{
			Tokenomics::<T>::on_initialize(next);
		}

		assert_eq!(OraclePrice::<T>::get().map(|state| state.updated_at), Some(next));
	}

	/// Worst case: the automatic buyback swaps and burns.
	#[benchmark]
	fn on_idle_buyback() {
		let cap = prepare_buyback::<T>();
		let now: BlockNumberFor<T> = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Tokenomics::<T>::on_idle(now, Weight::MAX);
		}

		assert_eq!(BuybackTotals::<T>::get().executed, 1);
		assert_eq!(BuybackTotals::<T>::get().stable_spent, cap);
	}

	/// Worst case: all three parts are paid, the provider's to a new account.
	#[benchmark]
	fn charge() {
		let payer: T::AccountId = account("payer", 0, 0);
		let provider: T::AccountId = account("provider", 0, 0);
		let amount = native_unit::<T>().saturating_mul(1_000u32.into());
		<T::Currency as fungible::Mutate<T::AccountId>>::set_balance(
			&payer,
			amount.saturating_mul(2u32.into()),
		);
		ServiceRates::<T>::insert(
			ServiceKind::GpuInference,
			SplitRates::new(Perbill::from_percent(10), Perbill::from_percent(10)),
		);

		#[block]
		{
			assert!(<Tokenomics<T> as ServicePayment<T::AccountId, T::Balance>>::charge(
				&payer,
				Some(&provider),
				amount,
				ServiceKind::GpuInference,
			)
			.is_ok());
		}

		assert_eq!(ServiceTotals::<T>::get(ServiceKind::GpuInference).charged, amount);
	}

	/// A fee and a tip split three ways (the author part goes to the treasury when the runtime
	/// knows no author during benchmarks).
	#[benchmark]
	fn handle_fees() {
		let amount = native_unit::<T>().saturating_mul(1_000u32.into());
		FeeSplit::<T>::put(SplitRates::new(Perbill::from_percent(50), Perbill::from_percent(20)));
		let fee = <T::Currency as Balanced<T::AccountId>>::issue(amount);
		let tip = <T::Currency as Balanced<T::AccountId>>::issue(amount);

		#[block]
		{
			DealWithFees::<T>::on_unbalanceds([fee, tip].into_iter());
		}

		assert_eq!(FeeTotals::<T>::get().fees, amount);
	}

	impl_benchmark_test_suite!(Tokenomics, crate::mock::new_bench_ext(), crate::mock::Test);
}
