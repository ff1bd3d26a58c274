//! The traits the runtime implements for the pallet: the buyback pool and, for benchmarks, a
//! helper that sets up the stable asset and the pool.

use sp_runtime::DispatchError;

/// The DSYNC/stable pool the buyback trades with.
///
/// The runtime implements it over `pallet-asset-conversion` (reserves from
/// `Pallet::get_reserves`, the swap through its `Swap` trait with the path `[stable, native]`);
/// tests use a plain constant-product pool.
pub trait BuybackPool<AccountId, Balance> {
	/// The pool's reserves as `(native, stable)`, or `None` when there is no pool.
	fn reserves() -> Option<(Balance, Balance)>;

	/// Swap exactly `stable_in` of the stable asset held by `who` for native currency paid to
	/// `who`, failing (and changing nothing) if the output would be below `min_native_out`.
	///
	/// Returns the native amount bought.
	fn swap_stable_for_native(
		who: &AccountId,
		stable_in: Balance,
		min_native_out: Balance,
	) -> Result<Balance, DispatchError>;
}

/// No pool: buybacks are always skipped with [`crate::SkipReason::PoolUnavailable`] and the
/// oracle never gets a price. For runtimes that do not have the pool yet.
impl<AccountId, Balance> BuybackPool<AccountId, Balance> for () {
	fn reserves() -> Option<(Balance, Balance)> {
		None
	}

	fn swap_stable_for_native(
		_who: &AccountId,
		_stable_in: Balance,
		_min_native_out: Balance,
	) -> Result<Balance, DispatchError> {
		Err(DispatchError::Other("no buyback pool"))
	}
}

/// Sets up what the benchmarks need and the pallet cannot create by itself.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Balance> {
	/// Make sure the stable asset ([`crate::Config::StableAsset`]) exists.
	fn create_stable();

	/// Give `who` `amount` more of the stable asset, which exists. `amount` is at least the
	/// asset's minimum balance. If the asset is not sufficient, give `who` the native existential
	/// deposit first so that it can hold the asset.
	fn fund_stable(who: &AccountId, amount: Balance);

	/// Make sure the DSYNC/stable pool exists and holds reserves of (about) `native` and
	/// `stable`, so that [`BuybackPool::reserves`] returns them.
	fn setup_pool(native: Balance, stable: Balance);
}
