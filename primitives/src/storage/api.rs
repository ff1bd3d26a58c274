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

/// Where a slot is, as clients read it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum SlotPhase<AccountId> {
	/// Waiting for its provider to be drawn.
	Unassigned,
	/// Offered to `provider`: upload the slot's bytes to its node at `endpoint` (the service
	/// endpoint it declared) before block `deadline` ends.
	Offered {
		/// The provider drawn.
		provider: AccountId,
		/// Its node's declared service endpoint (`http(s)://host[:port]`).
		endpoint: Vec<u8>,
		/// The last block of the offer.
		deadline: u32,
	},
	/// Kept and proven by `provider`; `misses` epochs in a row unproven.
	Held {
		/// The provider keeping the slot.
		provider: AccountId,
		/// Its node's declared service endpoint.
		endpoint: Vec<u8>,
		/// Consecutive epochs without a valid proof.
		misses: u8,
	},
	/// No provider could be found within the tries (its remaining epochs refunded).
	Lost,
	/// Its term is over.
	Done,
}

/// One slot of an order, as clients read it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct SlotView<AccountId> {
	/// The slot's root ([`super::pieces::slot_root`]).
	pub root: [u8; 32],
	/// The slot's length in bytes.
	pub len: u64,
	/// Where it is.
	pub phase: SlotPhase<AccountId>,
}

/// Where an order is.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OrderPhase {
	/// Placed; its providers are drawn in block `draw_at`.
	Drawing {
		/// The block of the draw.
		draw_at: u32,
	},
	/// Offered to providers; active once every slot is accepted.
	Filling,
	/// Every slot was accepted; the term runs over epochs `start..end`.
	Active {
		/// The first epoch.
		start: u32,
		/// The first epoch after the term.
		end: u32,
	},
}

/// An open order, as clients read it (a settled or cancelled order is gone: its events tell
/// what happened).
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct OrderView<AccountId> {
	/// Who pays.
	pub client: AccountId,
	/// The content.
	pub cid: Cid,
	/// The content's bytes.
	pub size: u64,
	/// Data shards of each segment (the other slots are parity).
	pub data_shards: u8,
	/// The term in epochs.
	pub duration: u32,
	/// Where the order is.
	pub phase: OrderPhase,
	/// The slots, in order.
	pub slots: Vec<SlotView<AccountId>>,
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

		/// An open order with its slots and their providers' endpoints; `None` for an order
		/// that is settled, cancelled or was never placed.
		fn order(order: u64) -> Option<OrderView<AccountId>>;

		/// The slot `slot` of order `order` as a provider's node checks an upload against it:
		/// the order's view alone would cost the node every slot's endpoint.
		fn slot(order: u64, slot: u8) -> Option<SlotView<AccountId>>;

		/// The open orders keeping content `cid` (its DAG's root), oldest first: where a gateway
		/// finds the content it is asked for.
		fn orders_of_cid(cid: Cid) -> Vec<u64>;

		/// The storage provider whose node's off-chain (`dsyn`) key is `key`: a node takes
		/// uploads only for the slots of the providers whose keys it holds.
		fn owner_of_key(key: AccountId) -> Option<AccountId>;
	}
}

/// The path prefix of a storage node's slot endpoints, after its declared endpoint: a client
/// uploads slot `s` of order `o` with `PUT {endpoint}/dsync/storage/v1/slots/{o}/{s}`, and
/// the node's own worker (and anyone checking retrievability) reads the proof of piece `p`
/// with `GET {endpoint}/dsync/storage/v1/slots/{o}/{s}/proofs/{p}` (the SCALE encoding of a
/// [`PieceProof`](super::PieceProof)).
pub const SLOTS_PATH: &str = "/dsync/storage/v1/slots/";

/// `{SLOTS_PATH}{order}/{slot}`.
pub fn slot_path(order: u64, slot: u8) -> alloc::string::String {
	alloc::format!("{SLOTS_PATH}{order}/{slot}")
}

/// `{SLOTS_PATH}{order}/{slot}/proofs/{piece}`.
pub fn proof_path(order: u64, slot: u8, piece: u64) -> alloc::string::String {
	alloc::format!("{SLOTS_PATH}{order}/{slot}/proofs/{piece}")
}
