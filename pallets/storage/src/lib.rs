//! # Storage pallet
//!
//! The network's third service: clients pay to keep content on the network for a term, storage
//! providers earn for every epoch they prove they still hold it, a share of every payment is
//! burned (tokenomics), and a lost provider's part is rebuilt elsewhere.
//!
//! ## Overview
//!
//! A client places an order ([`Pallet::place_order`]): the content's IPFS CID and size, how it
//! is coded (`data_shards` data slots, the rest parity: see
//! [`dsync_primitives::storage::layout`]), one [`SlotSpec`] per slot (the root and length of
//! the bytes that slot keeps), the term in epochs and the price of one slot for one epoch. The
//! whole price, `price * slots * duration`, is held from the client ([`HoldReason::Order`]).
//!
//! [`Config::DrawDelay`] blocks later each slot is offered to a provider drawn at random,
//! weighted by Proof-of-Sync score, among the storage providers with free declared capacity,
//! never the client and never twice for one order. The provider fetches its slot from the
//! client (off chain) and accepts it ([`Pallet::accept_slot`]) by proving a random piece of it
//! against the slot's root before `accept_window` blocks pass; otherwise the slot is offered to
//! another provider, and after `max_offers` offers of one slot the order is cancelled with a
//! full refund. Once every slot is accepted the order is active: its term starts at the next
//! epoch.
//!
//! Every epoch (`epoch_length` blocks, a governed parameter) the chain draws `challenges` pieces of every
//! held slot from randomness nobody knew before the epoch began. The provider's node answers
//! with the pieces and their Merkle paths ([`Pallet::prove_slot`]); a valid proof pays that
//! slot-epoch's price to the provider from the hold, through the service payment (burn share
//! applied), and records the usage for Proof of Sync. An epoch left unproven is refunded to
//! the client and is a Proof-of-Sync miss; `max_missed_epochs` in a row free the slot. A proof
//! that does not match the root is a provable fault: the slot is freed at once and the provider
//! penalised (suspension and a deferred, appealable slash). A freed slot is offered to another
//! provider, who rebuilds it from the other slots (any `data_shards` of them give the content
//! back) and accepts it like a new one; the epochs it stays vacant are refunded.
//!
//! Every order ends with its escrow settled: each slot-epoch is either paid to the provider who
//! proved it or refunded to the client, and a cancelled order is refunded in full.
//!
//! ## Terminology
//!
//! - **Slot**: what one provider keeps for an order: one coded shard of every segment.
//! - **Piece**: 256 bytes of a slot, the unit of challenges
//!   ([`dsync_primitives::storage::pieces`]).
//! - **Epoch**: `epoch_length` blocks ([`Clock`]); the unit of terms, prices and proofs.
//! - **Agenda**: the work of later blocks ([`Agenda`]: draws, offer expiries, proof deadlines),
//!   done in `on_initialize`, at most [`Config::MaxTasksPerBlock`] tasks a block, late tasks
//!   first, none ever dropped.
//!
//! ## Calls
//!
//! - [`Pallet::place_order`], [`Pallet::cancel_order`] (client, before the order is active);
//! - [`Pallet::accept_slot`], [`Pallet::prove_slot`] (the provider, or its node's `dsyn` key);
//! - [`Pallet::set_parameters`] ([`Config::AdminOrigin`]).
//!
//! ## Design choices
//!
//! - **No stuck orders.** Every state has a deadline in the agenda: a draw, an offer's expiry,
//!   an epoch's proof deadline. An order that cannot be filled is cancelled with a full refund.
//! - **Honest providers are not penalised for the network's or the client's faults.** A
//!   provider who cannot accept (the client never uploaded) loses nothing: the slot moves on.
//!   A proof names its epoch: a proof that arrives in the next epoch is refused without
//!   penalty, never judged against another epoch's challenges. `prove_slot` is an operational
//!   transaction, so a flood of ordinary transactions cannot keep proofs out of blocks, and free
//!   when it succeeds.
//! - **Possession is checked by the chain, retrievability by Proof of Sync.** A provider that
//!   deleted a fraction `f` of its slot fails an epoch's `c` challenges with probability
//!   `1 - (1 - f)^c` ([`dsync_primitives::storage::pieces`]). A provider that keeps nothing and
//!   fetches the challenged pieces from the others when challenged cannot be told apart by
//!   possession proofs while the others serve them; with coded slots no other provider holds
//!   its shard, so it must fetch and decode `data_shards` pieces per challenge.
//! - **Capacity is reserved when a slot is offered** and released when the offer expires, the
//!   slot is freed or the term ends, so no provider is offered more than it declared.
//! - **Bounded work**: at most [`Config::MaxSlots`] slots an order, [`Config::MaxOpenOrders`]
//!   orders, [`Config::MaxDrawAttempts`] candidates examined per slot drawn,
//!   [`Config::MaxTasksPerBlock`] tasks a block.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod agenda;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod invariants;
#[cfg(test)]
mod mock;
pub mod ocw;
mod orders;
mod proofs;
#[cfg(test)]
mod tests;
pub mod traits;
pub mod types;
pub mod weights;

pub use pallet::*;
pub use traits::{StoragePenalty, StorageProviders};
pub use types::*;
pub use weights::WeightInfo;

use dsync_primitives::traits::{ServicePayment, UsageRecorder};
use frame_support::traits::fungible;

/// The log target of the pallet (its off-chain worker logs there).
pub const LOG_TARGET: &str = "runtime::storage";

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The parameters type of a runtime.
pub type ParamsOf<T> = StorageParams<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use dsync_primitives::storage::{Cid, PieceProof};
	use frame_support::{
		dispatch::{DispatchClass, Pays},
		pallet_prelude::*,
		traits::Randomness,
	};
	use frame_system::{
		offchain::{AppCrypto, CreateSignedTransaction},
		pallet_prelude::*,
	};
	use sp_runtime::traits::Saturating;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the pallet. The off-chain worker signs its acceptances and proofs
	/// through the runtime's `CreateSignedTransaction`.
	#[pallet::config]
	pub trait Config: CreateSignedTransaction<Call<Self>> + frame_system::Config {
		/// The native currency escrows are held in.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's aggregated hold reason; escrows are held under [`HoldReason::Order`].
		type RuntimeHoldReason: From<HoldReason>;

		/// How clients pay providers (tokenomics: the burn share is applied there).
		type Payment: ServicePayment<
			Self::AccountId,
			BalanceOf<Self>,
			HoldReason = Self::RuntimeHoldReason,
		>;

		/// The storage providers, their capacity, scores, keys and penalties.
		type Providers: StorageProviders<Self::AccountId>;

		/// Where proven storage is reported (Proof of Sync's usage tracking).
		type Usage: UsageRecorder<Self::AccountId>;

		/// The randomness of draws and challenges (the runtime: the block's VRF output).
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// The key the off-chain worker signs with:
		/// [`DsyncAuthId`](dsync_primitives::offchain::DsyncAuthId), the node's `dsyn` key.
		type AuthorityId: AppCrypto<Self::Public, Self::Signature>;

		/// Who may set the parameters.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Blocks between placing an order and drawing its providers (at least 1: the draw uses
		/// randomness the client could not know when it placed the order).
		#[pallet::constant]
		type DrawDelay: Get<BlockNumberFor<Self>>;

		/// The most slots of one order.
		#[pallet::constant]
		type MaxSlots: Get<u32>;

		/// The most offers of one slot over an order's life.
		#[pallet::constant]
		type MaxOffersPerSlot: Get<u32>;

		/// The most providers one order ever involves: `MaxSlots * MaxOffersPerSlot`.
		#[pallet::constant]
		type MaxProvidersPerOrder: Get<u32>;

		/// The most pieces challenged per slot and epoch.
		#[pallet::constant]
		type MaxChallenges: Get<u32>;

		/// The most orders open at once.
		#[pallet::constant]
		type MaxOpenOrders: Get<u32>;

		/// Candidates examined to draw one slot's provider.
		#[pallet::constant]
		type MaxDrawAttempts: Get<u32>;

		/// Agenda tasks done per block at most.
		#[pallet::constant]
		type MaxTasksPerBlock: Get<u32>;

		/// The weight the agenda may use in one block: no task starts once it is spent (one task
		/// always runs, so the agenda never stalls).
		#[pallet::constant]
		type AgendaWeight: Get<Weight>;

		/// Weights of the calls and hooks.
		type WeightInfo: WeightInfo;

		/// Makes storage providers for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: traits::BenchmarkHelper<Self::AccountId>;
	}

	/// The reasons the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A client's escrow for its orders.
		#[codec(index = 0)]
		Order,
	}

	/// The governed parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, ParamsOf<T>, OptionQuery>;

	/// The open orders.
	// `Twox64Concat`: ids are sequential, chosen by the chain.
	#[pallet::storage]
	pub type Orders<T: Config> = StorageMap<_, Twox64Concat, OrderId, Order<T>, OptionQuery>;

	/// The id of the next order.
	#[pallet::storage]
	pub type NextOrderId<T: Config> = StorageValue<_, OrderId, ValueQuery>;

	/// How many orders are open.
	#[pallet::storage]
	pub type OpenOrders<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Bytes of each provider's declared capacity reserved by offered and held slots.
	#[pallet::storage]
	pub type Reserved<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u64, ValueQuery>;

	/// The work of later blocks: by block, the tasks due then (done at that block or, when more
	/// are due than a block does, in the following ones).
	// `Twox64Concat` for the block (chosen by the chain), `Blake2_128Concat` for the task.
	#[pallet::storage]
	pub type Agenda<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		Blake2_128Concat,
		AgendaTask,
		(),
		OptionQuery,
	>;

	/// The first block whose tasks may not all be done yet.
	#[pallet::storage]
	pub type AgendaCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// The current epoch and its first block.
	#[pallet::storage]
	pub type Clock<T: Config> = StorageValue<_, EpochClock<BlockNumberFor<T>>, ValueQuery>;

	/// Slots of open orders (every slot of every order, whatever its state): bounded so the
	/// agenda's proof deadlines of one epoch fit in half of it
	/// (`epoch_length * MaxTasksPerBlock / 2`).
	#[pallet::storage]
	pub type OpenSlots<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Tasks in the agenda.
	#[pallet::storage]
	pub type AgendaCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The seed of each recent epoch's challenges: the randomness of its first block.
	#[pallet::storage]
	pub type EpochSeeds<T: Config> = StorageMap<_, Twox64Concat, EpochIndex, [u8; 32], OptionQuery>;

	/// Genesis: the parameters.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The parameters (none: the pallet refuses orders until they are set).
		pub parameters: Option<ParamsOf<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(parameters) = &self.parameters {
				assert!(Pallet::<T>::params_valid(parameters), "invalid storage parameters");
				Params::<T>::put(parameters);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An order was placed; its providers are drawn in block `draw_at`.
		OrderPlaced {
			/// The order.
			order: OrderId,
			/// The client.
			client: T::AccountId,
			/// The content.
			cid: Cid,
			/// The content's bytes.
			size: u64,
			/// The number of slots.
			slots: u8,
			/// The escrow held: `price * slots * duration`.
			held: BalanceOf<T>,
			/// The block of the draw.
			draw_at: BlockNumberFor<T>,
		},
		/// A slot was offered to a provider, who must accept it by `deadline` by proving piece
		/// `challenge`.
		SlotOffered {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
			/// The provider drawn.
			provider: T::AccountId,
			/// The last block of the offer.
			deadline: BlockNumberFor<T>,
			/// The piece the acceptance proves.
			challenge: u64,
		},
		/// An offer ended unaccepted (the provider is not penalised: it may never have received
		/// the data).
		OfferExpired {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
			/// The provider.
			provider: T::AccountId,
		},
		/// No provider could be drawn for a slot this time (each such draw counts as an offer).
		NoProviderDrawn {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
		},
		/// A provider accepted a slot.
		SlotAccepted {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
			/// The provider.
			provider: T::AccountId,
		},
		/// Every slot was accepted: the term runs over epochs `start..end`.
		OrderActivated {
			/// The order.
			order: OrderId,
			/// The first epoch.
			start: EpochIndex,
			/// The first epoch after the term.
			end: EpochIndex,
		},
		/// A slot was proven for an epoch and its provider paid.
		SlotProven {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
			/// The epoch.
			epoch: EpochIndex,
			/// The provider.
			provider: T::AccountId,
			/// The price paid (all shares).
			paid: BalanceOf<T>,
			/// The part of it burned.
			burned: BalanceOf<T>,
		},
		/// An epoch of a held slot passed without a proof: refunded, a miss for the provider.
		SlotMissed {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
			/// The epoch.
			epoch: EpochIndex,
			/// The provider.
			provider: T::AccountId,
			/// Misses in a row.
			misses: u8,
		},
		/// A provider submitted a proof that does not match the slot's root.
		ProofRejected {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
			/// The epoch.
			epoch: EpochIndex,
			/// The provider.
			provider: T::AccountId,
		},
		/// A slot was taken from its provider; it is offered to another (repair).
		SlotFreed {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
			/// The provider that lost it.
			provider: T::AccountId,
			/// Why.
			reason: FreedReason,
		},
		/// A slot of an active order found no provider within its offers: its remaining epochs
		/// were refunded.
		SlotLost {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
			/// The refund of its remaining epochs.
			refunded: BalanceOf<T>,
		},
		/// Epochs of a slot nobody held (while it was repaired) were refunded.
		VacantEpochsRefunded {
			/// The order.
			order: OrderId,
			/// The slot.
			slot: SlotIndex,
			/// The epochs refunded.
			epochs: u32,
			/// The refund.
			refunded: BalanceOf<T>,
		},
		/// An order ended before its term, its escrow refunded in full.
		OrderCancelled {
			/// The order.
			order: OrderId,
			/// Why.
			reason: CancelReason,
			/// The refund.
			refunded: BalanceOf<T>,
		},
		/// An order's term is over for every slot; its escrow is settled.
		OrderCompleted {
			/// The order.
			order: OrderId,
			/// Paid to providers in all.
			paid: BalanceOf<T>,
			/// Refunded to the client in all.
			refunded: BalanceOf<T>,
		},
		/// The parameters were set.
		ParametersSet {
			/// The new parameters.
			parameters: ParamsOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No parameters are set: the chain does not take storage orders yet.
		NotConfigured,
		/// The parameters are invalid ([`StorageParams::is_valid`]), or their epochs too short
		/// for the slots open (`epoch_length * MaxTasksPerBlock / 2` must hold them).
		InvalidParameters,
		/// The size is zero or above `max_order_bytes`.
		InvalidSize,
		/// The slots do not fit the parameters: fewer data shards than `min_data_shards`, more
		/// data shards than slots, fewer parity slots than `min_parity_shards`, or more slots
		/// than `max_slots`.
		InvalidRedundancy,
		/// A slot's length is not the shard length of the content
		/// ([`dsync_primitives::storage::layout::shard_len`]), or that length is above the
		/// largest slot a proof covers (512 GiB).
		InvalidSlotLength,
		/// The duration is outside `min_duration..=max_duration`.
		InvalidDuration,
		/// The price is below `min_price`.
		PriceTooLow,
		/// The escrow does not fit the balance type.
		Overflow,
		/// Fewer storage providers than slots (the client excluded).
		NotEnoughProviders,
		/// As many orders (or slots) are open as the chain keeps: try later.
		TooManyOrders,
		/// No such order.
		UnknownOrder,
		/// No such slot in the order.
		UnknownSlot,
		/// Only the client may do this.
		NotClient,
		/// The order is active: its term runs until its end.
		OrderActive,
		/// The slot is not offered to the caller (or its node's key).
		NotOffered,
		/// The offer's deadline passed.
		OfferExpired,
		/// The proof does not show the challenged piece of the slot.
		InvalidProof,
		/// The slot is not held by the caller (or its node's key).
		NotHolder,
		/// The proof is for another epoch than the current one.
		WrongEpoch,
		/// The slot was already proven for this epoch, or its term has not started or is over.
		NotDue,
		/// The number of proofs is not the number of challenges.
		WrongProofCount,
		/// The epoch's challenges are not drawn yet (its first block has not run).
		NoSeed,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Start a new epoch when its first block comes (its seed drawn), then do the agenda's
		/// due tasks.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::tick_clock(now).saturating_add(Self::run_agenda(now))
		}

		/// A storage provider's node accepts its offers and proves its slots ([`ocw`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_offchain_worker(now);
		}

		fn integrity_test() {
			assert!(T::DrawDelay::get() >= 1u32.into(), "DrawDelay must be at least 1 block");
			assert!(
				(1..=u32::from(SlotIndex::MAX) + 1).contains(&T::MaxSlots::get()),
				"MaxSlots must be in 1..=256 (slot indices are u8)"
			);
			assert!(
				(1..=255).contains(&T::MaxOffersPerSlot::get()),
				"MaxOffersPerSlot must be in 1..=255"
			);
			assert!(
				T::MaxProvidersPerOrder::get()
					>= T::MaxSlots::get().saturating_mul(T::MaxOffersPerSlot::get()),
				"MaxProvidersPerOrder must be at least MaxSlots * MaxOffersPerSlot"
			);
			assert!(
				(1..=255).contains(&T::MaxChallenges::get()),
				"MaxChallenges must be in 1..=255"
			);
			assert!(T::MaxOpenOrders::get() >= 1, "MaxOpenOrders must be >= 1");
			assert!(T::MaxDrawAttempts::get() >= 1, "MaxDrawAttempts must be >= 1");
			assert!(T::MaxTasksPerBlock::get() >= 1, "MaxTasksPerBlock must be >= 1");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Place an order to keep content `cid` of `size` bytes for `duration` epochs at
		/// `price` per slot and epoch, coded into `slots` (the first `data_shards` data, the
		/// rest parity). Holds `price * slots * duration`; the providers are drawn
		/// [`Config::DrawDelay`] blocks later.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::place_order())]
		pub fn place_order(
			origin: OriginFor<T>,
			cid: Cid,
			size: u64,
			data_shards: u8,
			slots: BoundedVec<SlotSpec, T::MaxSlots>,
			duration: EpochIndex,
			#[pallet::compact] price: BalanceOf<T>,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			Self::do_place_order(client, cid, size, data_shards, slots, duration, price)
		}

		/// Cancel an order that is not active yet: the escrow is refunded in full and every
		/// reserved capacity released.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::cancel_order())]
		pub fn cancel_order(origin: OriginFor<T>, order: OrderId) -> DispatchResult {
			let client = ensure_signed(origin)?;
			Self::do_cancel_order(client, order)
		}

		/// Accept a slot offered to the caller (the provider, or its node's `dsyn` key) by
		/// proving the offer's challenged piece. Free when it succeeds.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::accept_slot())]
		pub fn accept_slot(
			origin: OriginFor<T>,
			order: OrderId,
			slot: SlotIndex,
			proof: PieceProof,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_accept_slot(who, order, slot, proof)?;
			Ok(Pays::No.into())
		}

		/// Prove a held slot for the current `epoch` with one proof per challenge, in order.
		/// Valid proofs pay the epoch's price to the provider (free); proofs that do not match
		/// the slot's root free the slot and penalise the provider (the fee is paid). An
		/// operational transaction, so ordinary traffic cannot crowd proofs out of blocks.
		#[pallet::call_index(3)]
		#[pallet::weight((T::WeightInfo::prove_slot(proofs.len() as u32), DispatchClass::Operational))]
		pub fn prove_slot(
			origin: OriginFor<T>,
			order: OrderId,
			slot: SlotIndex,
			epoch: EpochIndex,
			proofs: BoundedVec<PieceProof, T::MaxChallenges>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let valid = Self::do_prove_slot(who, order, slot, epoch, proofs)?;
			Ok(if valid { Pays::No } else { Pays::Yes }.into())
		}

		/// Set the parameters. Orders already placed keep their terms, prices and slots; offers
		/// and proofs from now on follow the new values.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::set_parameters())]
		pub fn set_parameters(origin: OriginFor<T>, parameters: ParamsOf<T>) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(
				Self::params_valid(&parameters)
					&& OpenSlots::<T>::get() <= Self::slot_capacity(&parameters),
				Error::<T>::InvalidParameters
			);
			Params::<T>::put(&parameters);
			Self::deposit_event(Event::ParametersSet { parameters });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Whether `parameters` are valid for this runtime's bounds.
		pub fn params_valid(parameters: &ParamsOf<T>) -> bool {
			parameters.is_valid(
				T::MaxSlots::get(),
				T::MaxOffersPerSlot::get(),
				T::MaxChallenges::get(),
			)
		}

		/// The most slots open at once under `parameters`: the proof deadlines of one epoch
		/// take at most half of the epoch's agenda.
		pub fn slot_capacity(parameters: &ParamsOf<T>) -> u32 {
			let per_epoch =
				parameters.epoch_length.saturating_mul(T::MaxTasksPerBlock::get().into())
					/ 2u32.into();
			per_epoch.try_into().unwrap_or(u32::MAX)
		}

		/// The current epoch.
		pub fn current_epoch() -> EpochIndex {
			Clock::<T>::get().epoch
		}

		/// The first block of `epoch` (the current one or later), as the parameters now say.
		pub fn epoch_start(epoch: EpochIndex) -> BlockNumberFor<T> {
			let clock = Clock::<T>::get();
			let length = Params::<T>::get().map(|p| p.epoch_length).unwrap_or(2u32.into());
			let ahead = epoch.saturating_sub(clock.epoch);
			clock.start.saturating_add(length.saturating_mul(ahead.into()))
		}

		/// The random bytes of a draw or seed in this block.
		pub(crate) fn random(subject: &[u8]) -> [u8; 32] {
			let (random, _) = T::Randomness::random(subject);
			sp_io::hashing::blake2_256(random.as_ref())
		}
	}
}
