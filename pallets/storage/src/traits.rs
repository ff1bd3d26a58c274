//! What the runtime provides the pallet: storage providers, their capacity and score, their
//! keys and their penalties ([`StorageProviders`]); for benchmarks, a way to make providers.

use alloc::vec::Vec;
use sp_runtime::Perbill;

/// A provider's fault, turned by the runtime into Proof-of-Sync penalties.
#[derive(Clone, Copy, PartialEq, Eq, Debug, codec::Encode, codec::Decode)]
pub enum StoragePenalty {
	/// An epoch passed without a valid proof of a slot the provider keeps (a Proof-of-Sync
	/// miss: graduated penalties).
	Missed,
	/// The provider submitted a proof that does not match the slot's root: it does not have
	/// the data (suspension and a deferred, appealable slash).
	WrongProof,
}

/// The storage providers as the pallet sees them. The runtime implements it over the node
/// registry and Proof of Sync; the pallet depends on no other DSYNC pallet.
pub trait StorageProviders<AccountId> {
	/// The owners of the service nodes offering storage (the registry's provider index), in a
	/// deterministic order: the draw picks among them at random.
	fn candidates() -> Vec<AccountId>;

	/// `who`'s declared storage capacity in bytes and its score, when it is an `Active`
	/// storage provider; `None` otherwise (it is then never offered a slot).
	fn offer(who: &AccountId) -> Option<(u64, Perbill)>;

	/// The owner of the node whose off-chain (`dsyn`) key is `key`, if any: the provider that
	/// accepts and proves through that key.
	fn owner_of_key(key: &AccountId) -> Option<AccountId>;

	/// The service endpoint `provider`'s node declared (`http(s)://host[:port]`), where clients
	/// upload its slots; empty when it has none.
	fn endpoint(provider: &AccountId) -> Vec<u8>;

	/// `provider` committed `penalty`. Must not fail.
	fn penalise(provider: &AccountId, penalty: StoragePenalty);
}

/// Sets up what the benchmarks need and the pallet cannot create: storage providers.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Make `owner` (new) an active storage provider with `capacity` bytes, a non-zero score and
	/// off-chain key `key`.
	fn register_provider(owner: &AccountId, key: &AccountId, capacity: u64);
}
