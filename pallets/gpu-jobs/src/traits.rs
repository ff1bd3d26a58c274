//! The traits the runtime implements for the pallet: where providers come from and how they are
//! penalised ([`ProviderSource`]) and, for benchmarks, a helper that makes providers eligible.

use crate::PenaltyReason;
use alloc::vec::Vec;
use dsync_primitives::traits::ModelId;
use sp_runtime::{Perbill, Weight};

/// The providers of GPU inference, as the pallet sees them. The runtime implements it over the
/// node registry and Proof of Sync; the pallet depends on no other DSYNC pallet.
pub trait ProviderSource<AccountId> {
	/// Up to `max` providers that may serve a new job of `model`, with their Proof-of-Sync
	/// score: owners of `Active` service nodes offering `ServiceKind::GpuInference` and `model`.
	/// Providers with a zero score are never drawn; duplicates are drawn at most once. The order
	/// should be deterministic (e.g. registration order).
	fn eligible(model: ModelId, max: u32) -> Vec<(AccountId, Perbill)>;

	/// The weight [`Self::eligible`] may take beyond what this pallet's `post_job` benchmark
	/// measures, where every provider examined is eligible: a source that also examines
	/// providers of other models, or inactive ones, charges that here. Added to `post_job`'s
	/// weight.
	fn eligible_overhead() -> Weight;

	/// The owner of the node whose off-chain (`dsyn`) key is `key`, if any: the provider that
	/// commits and reveals through that key.
	fn owner_of_key(key: &AccountId) -> Option<AccountId>;

	/// `provider` failed a job for `reason`: the runtime turns it into a registry slash or a
	/// Proof-of-Sync miss. Must not fail; a provider that is no longer registered is ignored.
	fn penalise(provider: &AccountId, reason: PenaltyReason);
}

/// Sets up what the benchmarks need and the pallet cannot create by itself: eligible providers.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Make `owner` (new) an eligible provider of `model` with off-chain key `key` and a non-zero
	/// score, funded as the runtime needs (a registered, active service node), so that
	/// [`ProviderSource::eligible`] returns it and [`ProviderSource::owner_of_key`] maps `key` to
	/// it.
	fn register_provider(owner: &AccountId, key: &AccountId, model: ModelId);
}
