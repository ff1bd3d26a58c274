//! The runtime API of the naming pallet: what wallets, explorers and the node's DNS front-end
//! read.
//!
//! The API is declared in [`dsync_primitives::naming`] beside the types it returns, so the node
//! calls it without compiling this pallet; it is re-exported here under its former path. The
//! runtime implements `NamingApi<Block, AccountId, Balance, BlockNumber>` in its
//! `impl_runtime_apis!` block with the pallet's views. Clients call, e.g.,
//! `api.call.namingApi.records("alice.dsync")` (`@polkadot/api`; names as UTF-8 bytes).

pub use dsync_primitives::naming::{
	runtime_decl_for_naming_api, NameRecords, NameView, RecordKind,
};
// The client-side trait exists only with `sp-api/std` (which this crate's `std` turns on).
#[cfg(feature = "std")]
pub use dsync_primitives::naming::NamingApi;
