//! The runtime API of the naming pallet: what wallets, explorers and the node's DNS front-end
//! read.
//!
//! The runtime implements `NamingApi<Block, AccountId, Balance, BlockNumber>` in its
//! `impl_runtime_apis!` block with the pallet's views. Clients call, e.g.,
//! `api.call.namingApi.records("alice.dsync")` (`@polkadot/api`; names as UTF-8 bytes).

pub use crate::types::{NameRecords, NameView, RecordKind};
use alloc::vec::Vec;
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Names under `.dsync`.
	pub trait NamingApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Every record of a live name with its TTL; `None` when the name is invalid, unknown,
		/// expired or stale (DNS: NXDOMAIN).
		fn records(name: Vec<u8>) -> Option<NameRecords>;

		/// The values of one kind on a live name (empty when none).
		fn resolve(name: Vec<u8>, kind: RecordKind) -> Vec<Vec<u8>>;

		/// The primary name of `account`, while live and owned by it.
		fn reverse(account: AccountId) -> Option<Vec<u8>>;

		/// Owner, expiry, grace end, liveness and TTL of a name.
		fn name(name: Vec<u8>) -> Option<NameView<AccountId, BlockNumber>>;

		/// What registering `label` for `years` costs now; `None` when it cannot be registered.
		fn price(label: Vec<u8>, years: u32) -> Option<Balance>;
	}
}
