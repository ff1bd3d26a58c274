//! The pallets benchmarked in this runtime (with the `runtime-benchmarks` feature), and the
//! helpers their benchmarks need. `scripts/benchmark.sh` runs them and writes `weights.rs`.

use crate::{configs::tokenomics::STABLE_ASSET_ID, AccountId, Assets, Balance, RuntimeOrigin};
use alloc::boxed::Box;
use frame_support::traits::{
	fungible::{Mutate as _, NativeOrWithId},
	fungibles::{Create, Inspect as _, Mutate as _},
};

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_tokenomics, Tokenomics]
);

/// Sets up the stable asset and the DSYNC/stable pool for the tokenomics benchmarks.
pub struct TokenomicsBenchmarkHelper;
impl pallet_tokenomics::BenchmarkHelper<AccountId, Balance> for TokenomicsBenchmarkHelper {
	fn create_stable() {
		if !Assets::asset_exists(STABLE_ASSET_ID) {
			let owner: AccountId = frame_benchmarking::account("stable-owner", 0, 0);
			let _ = <Assets as Create<AccountId>>::create(STABLE_ASSET_ID, owner, true, 1);
		}
	}

	fn fund_stable(who: &AccountId, amount: Balance) {
		Self::create_stable();
		let _ = Assets::mint_into(STABLE_ASSET_ID, who, amount);
	}

	fn setup_pool(native: Balance, stable: Balance) {
		let provider: AccountId = frame_benchmarking::account("pool-provider", 0, 0);
		let _ = crate::Balances::mint_into(&provider, native.saturating_mul(2));
		Self::fund_stable(&provider, stable.saturating_mul(2));
		let native_kind = Box::new(NativeOrWithId::Native);
		let stable_kind = Box::new(NativeOrWithId::WithId(STABLE_ASSET_ID));
		let origin = RuntimeOrigin::signed(provider.clone());
		let _ = crate::AssetConversion::create_pool(
			origin.clone(),
			native_kind.clone(),
			stable_kind.clone(),
		);
		let _ = crate::AssetConversion::add_liquidity(
			origin,
			native_kind,
			stable_kind,
			native,
			stable,
			0,
			0,
			provider,
		);
	}
}
