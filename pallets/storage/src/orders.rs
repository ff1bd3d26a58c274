//! Orders: placing and cancelling, drawing providers, offers and acceptance, refunds, and the
//! end of an order.

use crate::{
	AgendaTask, BalanceOf, CancelReason, Config, Error, Event, FreedReason, HoldReason, OpenOrders,
	OpenSlots, Order, OrderId, OrderStatus, Orders, Pallet, Params, Reserved, SlotIndex, SlotSpec,
	SlotState, StorageProviders, WeightInfo,
};
use alloc::vec::Vec;
use codec::Encode;
use dsync_primitives::storage::{
	layout::shard_len,
	pieces::{challenged_piece, verify_piece, PieceProof},
	Cid,
};
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision, Get},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_io::hashing::blake2_256;
use sp_runtime::traits::{CheckedMul, Saturating, Zero};

/// The randomness subject of provider draws.
const DRAW_SUBJECT: &[u8] = b"dsync/storage/draw";

/// The `n`-th random number of a draw: the first 8 bytes of `blake2_256(seed ++ n)`.
fn ticket(seed: &[u8; 32], n: u32) -> u64 {
	let [b0, b1, b2, b3, b4, b5, b6, b7, ..] = blake2_256(&(seed, n).encode());
	u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
}

impl<T: Config> Pallet<T> {
	/// Whether `who` acts for `provider`: the provider itself or its node's off-chain key.
	pub(crate) fn acts_for(who: &T::AccountId, provider: &T::AccountId) -> bool {
		who == provider || T::Providers::owner_of_key(who).as_ref() == Some(provider)
	}

	/// [`Pallet::place_order`]'s logic.
	pub(crate) fn do_place_order(
		client: T::AccountId,
		cid: Cid,
		size: u64,
		data_shards: u8,
		slots: BoundedVec<SlotSpec, T::MaxSlots>,
		duration: u32,
		price: BalanceOf<T>,
	) -> DispatchResult {
		let params = Params::<T>::get().ok_or(Error::<T>::NotConfigured)?;
		ensure!(size >= 1 && size <= params.max_order_bytes, Error::<T>::InvalidSize);
		let count = slots.len();
		let parity = count.saturating_sub(usize::from(data_shards));
		ensure!(
			data_shards >= params.min_data_shards
				&& usize::from(data_shards) <= count
				&& parity >= usize::from(params.min_parity_shards)
				&& count <= usize::from(params.max_slots),
			Error::<T>::InvalidRedundancy
		);
		let len = shard_len(size, u64::from(data_shards))
			.filter(|len| *len <= dsync_primitives::storage::pieces::MAX_SLOT_BYTES)
			.ok_or(Error::<T>::InvalidSlotLength)?;
		ensure!(slots.iter().all(|slot| slot.len == len), Error::<T>::InvalidSlotLength);
		ensure!(
			(params.min_duration..=params.max_duration).contains(&duration),
			Error::<T>::InvalidDuration
		);
		ensure!(price >= params.min_price, Error::<T>::PriceTooLow);
		let count_u32 = dsync_primitives::convert::usize_to_u32(count);
		let slot_epochs = count_u32.checked_mul(duration).ok_or(Error::<T>::Overflow)?;
		let held = price
			.checked_mul(&BalanceOf::<T>::from(slot_epochs))
			.ok_or(Error::<T>::Overflow)?;
		ensure!(OpenOrders::<T>::get() < T::MaxOpenOrders::get(), Error::<T>::TooManyOrders);
		let open_slots = OpenSlots::<T>::get().saturating_add(count_u32);
		ensure!(open_slots <= Self::slot_capacity(&params), Error::<T>::TooManyOrders);
		let candidates = T::Providers::candidates();
		let others = candidates.iter().filter(|who| **who != client).count();
		ensure!(others >= count, Error::<T>::NotEnoughProviders);

		T::Currency::hold(&HoldReason::Order.into(), &client, held)?;
		let id = crate::NextOrderId::<T>::get();
		crate::NextOrderId::<T>::put(id.saturating_add(1));
		let now = frame_system::Pallet::<T>::block_number();
		let draw_at = Self::schedule(now.saturating_add(T::DrawDelay::get()), AgendaTask::Draw(id));
		let order = Order::<T> {
			client: client.clone(),
			cid,
			size,
			data_shards,
			duration,
			price,
			status: OrderStatus::Drawing,
			draw_at: Some(draw_at),
			slots: slots
				.iter()
				.map(|spec| crate::Slot {
					spec: *spec,
					state: SlotState::Unassigned,
					offers: 0,
					next_epoch: 0,
				})
				.collect::<Vec<_>>()
				.try_into()
				.map_err(|_| Error::<T>::InvalidRedundancy)?,
			excluded: BoundedVec::new(),
			unsettled: slot_epochs,
			paid: Zero::zero(),
			refunded: Zero::zero(),
		};
		Orders::<T>::insert(id, order);
		OpenOrders::<T>::mutate(|open| *open = open.saturating_add(1));
		OpenSlots::<T>::put(open_slots);
		Self::deposit_event(Event::OrderPlaced {
			order: id,
			client,
			cid,
			size,
			slots: u8::try_from(count).unwrap_or(u8::MAX),
			held,
			draw_at,
		});
		Ok(())
	}

	/// [`Pallet::cancel_order`]'s logic.
	pub(crate) fn do_cancel_order(client: T::AccountId, id: OrderId) -> DispatchResult {
		let order = Orders::<T>::get(id).ok_or(Error::<T>::UnknownOrder)?;
		ensure!(order.client == client, Error::<T>::NotClient);
		ensure!(!matches!(order.status, OrderStatus::Active { .. }), Error::<T>::OrderActive);
		Self::cancel(id, order, CancelReason::ByClient);
		Ok(())
	}

	/// Ends an order before its term: every reservation released, every task taken off the
	/// agenda, the escrow refunded in full.
	pub(crate) fn cancel(id: OrderId, mut order: Order<T>, reason: CancelReason) {
		if let Some(draw_at) = order.draw_at {
			Self::unschedule(draw_at, AgendaTask::Draw(id));
		}
		for (index, slot) in order.slots.iter().enumerate() {
			let index = slot_index(index);
			match &slot.state {
				SlotState::Offered { provider, deadline, .. } => {
					Self::unschedule(
						deadline.saturating_add(1u32.into()),
						AgendaTask::OfferExpiry(id, index),
					);
					Self::release_capacity(provider, slot.spec.len);
				},
				SlotState::Held { provider, due_at, .. } => {
					if let Some(at) = due_at {
						Self::unschedule(*at, AgendaTask::ProofDue(id, index, slot.next_epoch));
					}
					Self::release_capacity(provider, slot.spec.len);
				},
				_ => {},
			}
		}
		let unsettled = order.unsettled;
		let refunded = Self::refund(&mut order, unsettled);
		Self::remove(id, &order);
		Self::deposit_event(Event::OrderCancelled { order: id, reason, refunded });
	}

	/// Removes a finished order and its counts.
	fn remove(id: OrderId, order: &Order<T>) {
		Orders::<T>::remove(id);
		OpenOrders::<T>::mutate(|open| *open = open.saturating_sub(1));
		let count = dsync_primitives::convert::usize_to_u32(order.slots.len());
		OpenSlots::<T>::mutate(|open| *open = open.saturating_sub(count));
	}

	/// Stores an order, or completes it when every slot of an active order is done or lost:
	/// what is still held (nothing, unless a payment failed) goes back to the client.
	pub(crate) fn store(id: OrderId, mut order: Order<T>) {
		let finished = matches!(order.status, OrderStatus::Active { .. })
			&& order
				.slots
				.iter()
				.all(|slot| matches!(slot.state, SlotState::Done | SlotState::Lost));
		if !finished {
			Orders::<T>::insert(id, order);
			return;
		}
		if order.unsettled != 0 {
			defensive!("a finished order has unsettled slot-epochs", id);
			let unsettled = order.unsettled;
			Self::refund(&mut order, unsettled);
		}
		Self::remove(id, &order);
		Self::deposit_event(Event::OrderCompleted {
			order: id,
			paid: order.paid,
			refunded: order.refunded,
		});
	}

	/// Refunds `epochs` slot-epochs of `order` to its client (released from the hold).
	pub(crate) fn refund(order: &mut Order<T>, epochs: u32) -> BalanceOf<T> {
		let epochs = epochs.min(order.unsettled);
		let amount = order.price.saturating_mul(BalanceOf::<T>::from(epochs));
		if amount.is_zero() {
			return amount;
		}
		let released = T::Currency::release(
			&HoldReason::Order.into(),
			&order.client,
			amount,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| Zero::zero());
		if released != amount {
			defensive!("an order's escrow is smaller than its unsettled slot-epochs");
		}
		order.unsettled = order.unsettled.saturating_sub(epochs);
		order.refunded = order.refunded.saturating_add(released);
		released
	}

	/// Releases `len` bytes of `provider`'s reserved capacity.
	pub(crate) fn release_capacity(provider: &T::AccountId, len: u64) {
		Reserved::<T>::mutate_exists(provider, |reserved| {
			let left = reserved.unwrap_or(0).saturating_sub(len);
			*reserved = (left != 0).then_some(left);
		});
	}

	/// The agenda's [`AgendaTask::Draw`]: the order leaves `Drawing`; every unassigned slot is offered.
	pub(crate) fn draw_order(id: OrderId, at: BlockNumberFor<T>, now: BlockNumberFor<T>) -> Weight {
		let Some(mut order) = Orders::<T>::get(id) else {
			return T::DbWeight::get().reads(1);
		};
		// This task was the order's draw (it may run after its block when the agenda is late).
		if order.draw_at == Some(at) {
			order.draw_at = None;
		}
		if order.status == OrderStatus::Drawing {
			order.status = OrderStatus::Filling;
		}
		// The provider index is read once for every slot drawn here.
		let candidates = T::Providers::candidates();
		let mut offered = 0u32;
		for index in 0..order.slots.len() {
			if order.slots.get(index).map(|slot| &slot.state) != Some(&SlotState::Unassigned) {
				continue;
			}
			offered.saturating_inc();
			if !Self::offer_slot(id, &mut order, slot_index(index), now, &candidates) {
				return Self::out_of_offers(id, order, slot_index(index))
					.saturating_add(T::WeightInfo::on_initialize_draw(offered));
			}
		}
		Self::store(id, order);
		T::WeightInfo::on_initialize_draw(offered)
	}

	/// A slot ran out of offers: a filling order is cancelled with a full refund; an active
	/// order loses the slot (its remaining epochs refunded).
	fn out_of_offers(id: OrderId, mut order: Order<T>, index: SlotIndex) -> Weight {
		if matches!(order.status, OrderStatus::Active { .. }) {
			Self::lose_slot(id, &mut order, index);
			Self::store(id, order);
		} else {
			Self::cancel(id, order, CancelReason::NoProviders);
		}
		T::WeightInfo::cancel_order()
	}

	/// Marks a slot of an active order lost: its remaining epochs go back to the client.
	fn lose_slot(id: OrderId, order: &mut Order<T>, index: SlotIndex) {
		let end = order.end().unwrap_or(0);
		let Some(next) = order.slots.get(usize::from(index)).map(|slot| slot.next_epoch) else {
			return;
		};
		let refunded = Self::refund(order, end.saturating_sub(next));
		if let Some(slot) = order.slots.get_mut(usize::from(index)) {
			slot.next_epoch = end.max(next);
			slot.state = SlotState::Lost;
		}
		Self::deposit_event(Event::SlotLost { order: id, slot: index, refunded });
	}

	/// Offers slot `index` to a provider drawn now (the slot must be unassigned). Returns
	/// false when the slot has had `max_offers` offers already. A draw that finds nobody still
	/// counts as an offer and is retried `accept_window` blocks later. A slot of an active order
	/// whose term has no whole epoch left is not offered: its vacant epochs are refunded and it
	/// is done.
	pub(crate) fn offer_slot(
		id: OrderId,
		order: &mut Order<T>,
		index: SlotIndex,
		now: BlockNumberFor<T>,
		candidates: &[T::AccountId],
	) -> bool {
		let Some(params) = Params::<T>::get() else {
			return false;
		};
		if let Some(end) = order.end() {
			if Self::current_epoch().saturating_add(1) >= end {
				Self::settle_vacancy(id, order, index, end);
				return true;
			}
		}
		let Some(slot) = order.slots.get(usize::from(index)) else {
			return true;
		};
		if slot.offers >= params.max_offers {
			return false;
		}
		let offers = slot.offers.saturating_add(1);
		let len = slot.spec.len;
		let seed = blake2_256(&(Self::random(DRAW_SUBJECT), id, index, offers).encode());
		let drawn = Self::draw_provider(order, len, &seed, candidates);
		let Some(slot) = order.slots.get_mut(usize::from(index)) else {
			return true;
		};
		slot.offers = offers;
		match drawn {
			Some(provider) => {
				if order.excluded.try_push(provider.clone()).is_err() {
					defensive!("an order's providers exceed MaxProvidersPerOrder");
					return false;
				}
				Reserved::<T>::mutate(&provider, |reserved| {
					*reserved = reserved.saturating_add(len)
				});
				let deadline = now.saturating_add(params.accept_window);
				let challenge = challenged_piece(&seed, &(id, index).encode(), 0, len);
				slot.state = SlotState::Offered { provider: provider.clone(), deadline, challenge };
				Self::schedule(
					deadline.saturating_add(1u32.into()),
					AgendaTask::OfferExpiry(id, index),
				);
				Self::deposit_event(Event::SlotOffered {
					order: id,
					slot: index,
					provider,
					deadline,
					challenge,
				});
			},
			None => {
				slot.state = SlotState::Unassigned;
				Self::schedule_draw(id, order, now.saturating_add(params.accept_window));
				Self::deposit_event(Event::NoProviderDrawn { order: id, slot: index });
			},
		}
		true
	}

	/// Draws a provider for a slot of `len` bytes: from a random position of `candidates` (the
	/// provider index), up to `MaxDrawAttempts` consecutive candidates are examined; the eligible ones
	/// (not the client, never offered this order, an active storage provider with a non-zero
	/// score and `len` bytes of unreserved capacity) are weighed by score and one is picked.
	fn draw_provider(
		order: &Order<T>,
		len: u64,
		seed: &[u8; 32],
		candidates: &[T::AccountId],
	) -> Option<T::AccountId> {
		let count = candidates.len();
		if count == 0 {
			return None;
		}
		let window = count.min(dsync_primitives::convert::u32_to_usize(T::MaxDrawAttempts::get()));
		let start = usize::try_from(ticket(seed, 0) % count as u64).unwrap_or(0);
		let mut eligible: Vec<(T::AccountId, u64)> = Vec::new();
		for step in 0..window {
			let Some(who) = candidates.get((start + step) % count) else { continue };
			if *who == order.client || order.excluded.contains(who) {
				continue;
			}
			let Some((capacity, score)) = T::Providers::offer(who) else { continue };
			if score.is_zero() || capacity.saturating_sub(Reserved::<T>::get(who)) < len {
				continue;
			}
			eligible.push((who.clone(), u64::from(score.deconstruct())));
		}
		let total = eligible.iter().fold(0u64, |sum, (_, weight)| sum.saturating_add(*weight));
		let point = ticket(seed, 1).checked_rem(total)?;
		let mut cumulative = 0u64;
		eligible
			.into_iter()
			.find(|(_, weight)| {
				cumulative = cumulative.saturating_add(*weight);
				point < cumulative
			})
			.map(|(who, _)| who)
	}

	/// The agenda's [`AgendaTask::OfferExpiry`]: an offer not accepted in time is taken back (no
	/// penalty: the provider may never have received the data) and the slot offered again.
	pub(crate) fn expire_offer(id: OrderId, index: SlotIndex, now: BlockNumberFor<T>) -> Weight {
		let Some(mut order) = Orders::<T>::get(id) else {
			return T::DbWeight::get().reads(1);
		};
		let Some(slot) = order.slots.get_mut(usize::from(index)) else {
			return T::DbWeight::get().reads(1);
		};
		let SlotState::Offered { provider, deadline, .. } = &slot.state else {
			return T::DbWeight::get().reads(1);
		};
		if *deadline >= now {
			return T::DbWeight::get().reads(1);
		}
		let provider = provider.clone();
		slot.state = SlotState::Unassigned;
		Self::release_capacity(&provider, slot.spec.len);
		Self::deposit_event(Event::OfferExpired { order: id, slot: index, provider });
		if Self::offer_slot(id, &mut order, index, now, &T::Providers::candidates()) {
			Self::store(id, order);
			T::WeightInfo::on_initialize_offer_expiry()
		} else {
			Self::out_of_offers(id, order, index)
				.saturating_add(T::WeightInfo::on_initialize_offer_expiry())
		}
	}

	/// [`Pallet::accept_slot`]'s logic.
	pub(crate) fn do_accept_slot(
		who: T::AccountId,
		id: OrderId,
		index: SlotIndex,
		proof: PieceProof,
	) -> DispatchResult {
		let mut order = Orders::<T>::get(id).ok_or(Error::<T>::UnknownOrder)?;
		let slot = order.slots.get_mut(usize::from(index)).ok_or(Error::<T>::UnknownSlot)?;
		let SlotState::Offered { provider, deadline, challenge } = &slot.state else {
			return Err(Error::<T>::NotOffered.into());
		};
		ensure!(Self::acts_for(&who, provider), Error::<T>::NotOffered);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= *deadline, Error::<T>::OfferExpired);
		verify_piece(&slot.spec.root, slot.spec.len, *challenge, &proof)
			.map_err(|_| Error::<T>::InvalidProof)?;
		let provider = provider.clone();
		Self::unschedule(deadline.saturating_add(1u32.into()), AgendaTask::OfferExpiry(id, index));
		slot.state = SlotState::Held { provider: provider.clone(), misses: 0, due_at: None };
		Self::deposit_event(Event::SlotAccepted { order: id, slot: index, provider });
		match order.status {
			OrderStatus::Active { .. } => Self::resume_slot(id, &mut order, index),
			_ => {
				let all_held =
					order.slots.iter().all(|slot| matches!(slot.state, SlotState::Held { .. }));
				if all_held {
					Self::activate(id, &mut order);
				}
			},
		}
		Self::store(id, order);
		Ok(())
	}

	/// Every slot is held: the term starts at the next epoch; each slot's first deadline is put
	/// on the agenda.
	fn activate(id: OrderId, order: &mut Order<T>) {
		let start = Self::current_epoch().saturating_add(1);
		order.status = OrderStatus::Active { start };
		let due = Self::epoch_start(start.saturating_add(1));
		for (index, slot) in order.slots.iter_mut().enumerate() {
			slot.next_epoch = start;
			let at = Self::schedule(due, AgendaTask::ProofDue(id, slot_index(index), start));
			if let SlotState::Held { due_at, .. } = &mut slot.state {
				*due_at = Some(at);
			}
		}
		Self::deposit_event(Event::OrderActivated {
			order: id,
			start,
			end: start.saturating_add(order.duration),
		});
	}

	/// A repaired slot was accepted: the epochs it stood vacant are refunded and it is proven
	/// from the next epoch on.
	fn resume_slot(id: OrderId, order: &mut Order<T>, index: SlotIndex) {
		let end = order.end().unwrap_or(0);
		let first = Self::current_epoch().saturating_add(1);
		if first >= end {
			Self::settle_vacancy(id, order, index, end);
			return;
		}
		Self::settle_vacancy(id, order, index, first);
		if let Some(slot) = order.slots.get_mut(usize::from(index)) {
			let at = Self::schedule(
				Self::epoch_start(first.saturating_add(1)),
				AgendaTask::ProofDue(id, index, first),
			);
			if let SlotState::Held { due_at, .. } = &mut slot.state {
				*due_at = Some(at);
			}
		}
	}

	/// Refunds the epochs of slot `index` from its next unsettled epoch up to `until` (it
	/// stood vacant); at the end of the term the slot is done and its capacity released.
	fn settle_vacancy(id: OrderId, order: &mut Order<T>, index: SlotIndex, until: u32) {
		let end = order.end().unwrap_or(0);
		let Some(next) = order.slots.get(usize::from(index)).map(|slot| slot.next_epoch) else {
			return;
		};
		let epochs = until.saturating_sub(next);
		if epochs > 0 {
			let refunded = Self::refund(order, epochs);
			Self::deposit_event(Event::VacantEpochsRefunded {
				order: id,
				slot: index,
				epochs,
				refunded,
			});
		}
		let Some(slot) = order.slots.get_mut(usize::from(index)) else { return };
		slot.next_epoch = until.max(next);
		if slot.next_epoch >= end {
			Self::finish_slot(slot);
		}
	}

	/// The slot's term is over: its provider's capacity is released.
	pub(crate) fn finish_slot(slot: &mut crate::Slot<T::AccountId, BlockNumberFor<T>>) {
		match &slot.state {
			SlotState::Held { provider, .. } | SlotState::Offered { provider, .. } => {
				Self::release_capacity(provider, slot.spec.len)
			},
			_ => {},
		}
		slot.state = SlotState::Done;
	}

	/// Takes a held slot from its provider (capacity released) and puts it up for repair: it is
	/// drawn again `DrawDelay` blocks later, with randomness nobody knows now.
	pub(crate) fn free_slot(
		id: OrderId,
		order: &mut Order<T>,
		index: SlotIndex,
		reason: FreedReason,
	) {
		let Some(slot) = order.slots.get_mut(usize::from(index)) else { return };
		let SlotState::Held { provider, .. } = &slot.state else { return };
		let provider = provider.clone();
		Self::release_capacity(&provider, slot.spec.len);
		slot.state = SlotState::Unassigned;
		Self::deposit_event(Event::SlotFreed { order: id, slot: index, provider, reason });
		let now = frame_system::Pallet::<T>::block_number();
		Self::schedule_draw(id, order, now.saturating_add(T::DrawDelay::get()));
	}

	/// Puts a draw of the order's unassigned slots on the agenda at `at`, unless one is there
	/// already no later.
	fn schedule_draw(id: OrderId, order: &mut Order<T>, at: BlockNumberFor<T>) {
		match order.draw_at {
			Some(pending) if pending <= at => {},
			pending => {
				if let Some(pending) = pending {
					Self::unschedule(pending, AgendaTask::Draw(id));
				}
				order.draw_at = Some(Self::schedule(at, AgendaTask::Draw(id)));
			},
		}
	}
}

/// A slot's index as the pallet stores it (orders have at most 256 slots).
pub(crate) fn slot_index(index: usize) -> SlotIndex {
	SlotIndex::try_from(index).unwrap_or(SlotIndex::MAX)
}
