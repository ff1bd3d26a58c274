//! The traits the runtime implements for the pallet: era points for verifiers and, for
//! benchmarks, a helper that registers nodes through the runtime's node registry.

use alloc::vec::Vec;

/// Where verification work earns consensus credit: the runtime gives the points to staking as
/// era points, so validators that verify honestly earn more staking rewards.
pub trait VerificationPoints<AccountId> {
	/// Credit `points` to each listed verifier (the owner of a validator node; in the runtime, its
	/// stash). A verifier appears at most once per call.
	fn reward(points: Vec<(AccountId, u32)>);
}

/// No era points: verification earns only the pallet's own rewards.
impl<AccountId> VerificationPoints<AccountId> for () {
	fn reward(_points: Vec<(AccountId, u32)>) {}
}

/// Sets up what the benchmarks need and the pallet cannot create by itself: registered nodes.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Register a service node owned by `owner` (which does not have a node yet) with off-chain
	/// key `key`, a valid probe endpoint and a capacity of at least one unit, and put it in
	/// `status` (`Pending`, `Active` or `Suspended`). Fund `owner` as the registry needs.
	fn register_service_node(
		owner: &AccountId,
		key: &AccountId,
		status: dsync_primitives::traits::NodeStatus,
	);

	/// Register a validator node owned by `owner` (which does not have a node yet) with
	/// off-chain key `key`, make it `Active`, and make `owner` pass
	/// [`Config::IsActiveValidator`](crate::Config::IsActiveValidator) (e.g. by writing the
	/// session's validator set).
	fn register_validator_node(owner: &AccountId, key: &AccountId);
}
