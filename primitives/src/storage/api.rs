//! The storage runtime API: what a storage provider's node and clients read about orders.

use super::cid::Cid;
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use scale_info::TypeInfo;

/// What a provider's node has to do now for one slot.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum SlotTask {
	/// The slot is offered to the node: fetch it and accept it by proving piece `challenge`
	/// before block `deadline` ends.
	Accept {
		/// The last block of the offer.
		deadline: u32,
		/// The piece the acceptance proves.
		challenge: u64,
	},
	/// The slot is held and due for `epoch` (the current one): prove these pieces, in order.
	Prove {
		/// The epoch.
		epoch: u32,
		/// The challenged pieces.
		challenges: Vec<u64>,
	},
	/// The slot is held and already proven for the current epoch (or its term has not started).
	Keep,
}

/// One slot offered to or held by a provider.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct SlotWork {
	/// The order.
	pub order: u64,
	/// The slot's index in the order.
	pub slot: u8,
	/// The order's content.
	pub cid: Cid,
	/// The slot's root ([`super::pieces::slot_root`]).
	pub root: [u8; 32],
	/// The slot's length in bytes.
	pub len: u64,
	/// What to do now.
	pub task: SlotTask,
}

sp_api::decl_runtime_apis! {
	/// Storage orders as providers' nodes and clients read them.
	///
	/// The runtime implements `StorageApi<Block, AccountId>` with the storage pallet's views.
	pub trait StorageApi<AccountId>
	where
		AccountId: Codec,
	{
		/// The slots offered to or held by the node of `provider` (its owner account), with what
		/// to do for each now.
		fn provider_work(provider: AccountId) -> Vec<SlotWork>;

		/// The pieces of slot `slot` of order `order` challenged in `epoch`; `None` before the
		/// epoch's first block (or for an unknown slot).
		fn challenges(order: u64, slot: u8, epoch: u32) -> Option<Vec<u64>>;

		/// The current storage epoch.
		fn current_epoch() -> u32;
	}
}
