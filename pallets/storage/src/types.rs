//! The pallet's data types: orders, slots, the agenda's tasks and the governed parameters.

use crate::{BalanceOf, Config};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dsync_primitives::storage::Cid;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;

/// An order's id, counted from 0.
pub type OrderId = u64;
/// A slot's position in its order.
pub type SlotIndex = u8;
/// A storage epoch: `epoch_length` blocks ([`crate::Clock`]).
pub type EpochIndex = u32;

/// What a client declares about one slot: the root of the bytes the slot's provider keeps
/// ([`dsync_primitives::storage::pieces::slot_root`], which binds the length) and their length
/// ([`dsync_primitives::storage::layout::shard_len`] of the content).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct SlotSpec {
	/// The slot's root.
	pub root: [u8; 32],
	/// The slot's length in bytes.
	pub len: u64,
}

/// Where a slot is in its life.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum SlotState<AccountId, BlockNumber> {
	/// Waiting for a provider to be drawn (the order's draw, or a retry after a draw found
	/// nobody).
	Unassigned,
	/// Offered to `provider`, who must accept before `deadline` by proving piece `challenge`
	/// of the slot's bytes; its capacity is reserved meanwhile.
	Offered {
		/// The provider drawn.
		provider: AccountId,
		/// The last block in which it may accept.
		deadline: BlockNumber,
		/// The piece its acceptance proves.
		challenge: u64,
	},
	/// Kept by `provider`, who proves it every epoch; `misses` epochs in a row unproven.
	Held {
		/// The provider keeping the slot.
		provider: AccountId,
		/// Consecutive epochs without a valid proof.
		misses: u8,
		/// The block of the agenda's deadline task for the slot's next epoch (none yet before
		/// the order is active).
		due_at: Option<BlockNumber>,
	},
	/// No provider could be found within the tries: its remaining epochs were refunded.
	Lost,
	/// The order's term is over for this slot.
	Done,
}

/// One slot of an order.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Slot<AccountId, BlockNumber> {
	/// What the slot holds.
	pub spec: SlotSpec,
	/// Its state.
	pub state: SlotState<AccountId, BlockNumber>,
	/// Offers made for it so far (the first, reassignments and repairs).
	pub offers: u8,
	/// The first epoch of its term not yet paid or refunded (the order's start until active).
	pub next_epoch: EpochIndex,
}

/// Where an order is in its life (a cancelled or completed order is removed).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum OrderStatus {
	/// Placed; its providers are drawn at the order's `draw_at`.
	Drawing,
	/// Offered to providers; active once every slot is accepted.
	Filling,
	/// Every slot was accepted; the term runs from epoch `start` for the order's duration.
	Active {
		/// The first epoch of the term.
		start: EpochIndex,
	},
}

/// A client's order.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct Order<T: Config> {
	/// Who pays.
	pub client: T::AccountId,
	/// The content's IPFS CID.
	pub cid: Cid,
	/// The content's bytes.
	pub size: u64,
	/// Data shards of each segment (the other slots are parity).
	pub data_shards: u8,
	/// The term in epochs.
	pub duration: EpochIndex,
	/// The price of one slot for one epoch, paid to its provider per proven epoch.
	pub price: BalanceOf<T>,
	/// The status.
	pub status: OrderStatus,
	/// The block of the order's next draw, when one is on the agenda (the first draw, a retry
	/// of a draw that found nobody, a repair): it draws every unassigned slot.
	pub draw_at: Option<BlockNumberFor<T>>,
	/// The slots.
	pub slots: BoundedVec<Slot<T::AccountId, BlockNumberFor<T>>, T::MaxSlots>,
	/// Every provider ever offered a slot of this order (never offered another).
	pub excluded: BoundedVec<T::AccountId, T::MaxProvidersPerOrder>,
	/// Slot-epochs not yet paid or refunded: the held escrow is `price * unsettled`.
	pub unsettled: u32,
	/// Paid to providers so far (all shares, burn included).
	pub paid: BalanceOf<T>,
	/// Refunded to the client so far.
	pub refunded: BalanceOf<T>,
}

impl<T: Config> Order<T> {
	/// The first epoch after the term, once active.
	pub fn end(&self) -> Option<EpochIndex> {
		match self.status {
			OrderStatus::Active { start } => Some(start.saturating_add(self.duration)),
			_ => None,
		}
	}
}

/// Work the pallet does in a later block's `on_initialize`, in [`crate::Agenda`].
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum AgendaTask {
	/// Draw the providers of the order's unassigned slots.
	Draw(OrderId),
	/// The offer of a slot ends: reassign it unless it was accepted.
	OfferExpiry(OrderId, SlotIndex),
	/// A slot's epoch is over: a miss unless it was proven.
	ProofDue(OrderId, SlotIndex, EpochIndex),
}

/// The epoch clock: the current epoch and its first block.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct EpochClock<BlockNumber> {
	/// The current epoch.
	pub epoch: EpochIndex,
	/// Its first block.
	pub start: BlockNumber,
}

/// Why an order ended before its term.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum CancelReason {
	/// The client cancelled it before it became active.
	ByClient,
	/// A slot was offered to as many providers as allowed and none accepted (or none could be
	/// drawn): the client is refunded in full.
	NoProviders,
}

/// How a slot left its provider.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum FreedReason {
	/// `max_missed_epochs` epochs in a row without a proof.
	Missed,
	/// A proof that does not match the slot's root: the data is not there.
	WrongProof,
}

/// The governed parameters ([`crate::Params`], `set_parameters`). Valid when
/// [`StorageParams::is_valid`].
#[derive(
	Clone,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct StorageParams<Balance, BlockNumber> {
	/// Blocks per epoch (a change takes effect at the next epoch).
	pub epoch_length: BlockNumber,
	/// The fewest data shards an order may use (1 allows plain copies).
	pub min_data_shards: u8,
	/// The fewest parity slots an order must have (the providers it survives losing).
	pub min_parity_shards: u8,
	/// The most slots of an order (at most `MaxSlots`).
	pub max_slots: u8,
	/// The largest content of one order, in bytes.
	pub max_order_bytes: u64,
	/// The shortest term, in epochs.
	pub min_duration: EpochIndex,
	/// The longest term, in epochs.
	pub max_duration: EpochIndex,
	/// The lowest price of one slot for one epoch.
	pub min_price: Balance,
	/// Blocks a drawn provider has to fetch its slot and accept it.
	pub accept_window: BlockNumber,
	/// The most offers of one slot over the order's life (first offer, reassignments and
	/// repairs; at most `MaxOffersPerSlot`).
	pub max_offers: u8,
	/// Pieces challenged per slot and epoch (1 to `MaxChallenges`).
	pub challenges: u8,
	/// Epochs in a row without a proof after which a slot is freed and repaired.
	pub max_missed_epochs: u8,
}

impl<Balance: Copy + PartialOrd + Default, BlockNumber: Copy + PartialOrd + From<u32>>
	StorageParams<Balance, BlockNumber>
{
	/// Whether the parameters can run: epochs of at least 2 blocks, at least one data shard, enough slots for the shards,
	/// `max_slots <= max_slots_bound`, a non-empty duration range, a non-zero price floor, an
	/// accept window of at least 2 blocks, `1..=max_offers_bound` offers, `1..=max_challenges`
	/// challenges and at least one miss tolerated.
	pub fn is_valid(
		&self,
		max_slots_bound: u32,
		max_offers_bound: u32,
		max_challenges: u32,
	) -> bool {
		self.epoch_length >= BlockNumber::from(2u32)
			&& self.min_data_shards >= 1
			&& u32::from(self.min_data_shards) + u32::from(self.min_parity_shards)
				<= u32::from(self.max_slots)
			&& u32::from(self.max_slots) <= max_slots_bound
			&& self.max_order_bytes >= 1
			&& self.min_duration >= 1
			&& self.min_duration <= self.max_duration
			&& self.min_price > Balance::default()
			&& self.accept_window >= BlockNumber::from(2u32)
			&& self.max_offers >= 1
			&& u32::from(self.max_offers) <= max_offers_bound
			&& self.challenges >= 1
			&& u32::from(self.challenges) <= max_challenges
			&& self.max_missed_epochs >= 1
	}
}
