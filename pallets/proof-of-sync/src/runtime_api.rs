//! The runtime API of the Proof-of-Sync pallet, so that operators, wallets and explorers read a
//! node's score and the epoch in one call.
//!
//! The runtime implements `ProofOfSyncApi<Block, AccountId, Balance>` in its
//! `impl_runtime_apis!` block, with `node_score` returning
//! [`Pallet::node_score_view`](crate::Pallet::node_score_view), `epoch` returning
//! [`Pallet::epoch_view`](crate::Pallet::epoch_view) and `usage` returning
//! [`Pallet::usage_view`](crate::Pallet::usage_view). Clients call them as
//! `api.call.proofOfSyncApi.nodeScore(node)`, `api.call.proofOfSyncApi.epoch()` and
//! `api.call.proofOfSyncApi.usage(account)` (`@polkadot/api`, from the metadata's runtime API
//! section).

pub use crate::types::{EpochView, NodeScoreView, Phase, UsageView};
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Scores and epoch of Proof of Sync.
	pub trait ProofOfSyncApi<AccountId, Balance> where AccountId: Codec, Balance: Codec {
		/// The Proof-of-Sync record of `node` with its registry status; `None` when the node
		/// has neither a record nor a registration.
		fn node_score(node: AccountId) -> Option<NodeScoreView<Balance>>;

		/// The current epoch: index, start block, phase and the governed epoch length.
		fn epoch() -> EpochView;

		/// What `account` delivered as a provider, all time and this epoch. (What an account
		/// consumed as a client is not kept in state: sum the `units` of the `UsageRecorded`
		/// events that name it as the client.)
		fn usage(account: AccountId) -> UsageView;
	}
}
