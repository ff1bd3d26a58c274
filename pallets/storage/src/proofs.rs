//! Proofs of storage: each epoch's challenges, their answers, payment of proven epochs and the
//! misses of unproven ones.

use crate::{
	AgendaTask, Config, EpochIndex, EpochSeeds, Error, Event, FreedReason, HoldReason, Order,
	OrderId, OrderStatus, Orders, Pallet, Params, SlotIndex, SlotState, StoragePenalty,
	StorageProviders, WeightInfo,
};
use codec::Encode;
use dsync_primitives::{
	storage::{
		pieces::{challenged_piece, verify_piece, PieceProof},
		OrderPhase, OrderView, SlotPhase, SlotTask, SlotView, SlotWork,
	},
	traits::{
		RetrievalCheck, ServiceKind, ServicePayment, StorageRetrieval, UsageProof, UsageRecorder,
	},
};
use frame_support::{pallet_prelude::*, traits::Get};
use sp_runtime::{traits::Saturating, SaturatedConversion};

/// Usage is reported in MiB kept for an epoch.
const USAGE_UNIT_BYTES: u64 = 1 << 20;

impl<T: Config> Pallet<T> {
	/// The pieces of slot `index` of order `id` challenged in `epoch` (seeded by the epoch's
	/// seed), `None` before the epoch's first block. What the provider's node answers.
	pub fn challenges(
		id: OrderId,
		index: SlotIndex,
		epoch: EpochIndex,
	) -> Option<alloc::vec::Vec<u64>> {
		let seed = EpochSeeds::<T>::get(epoch)?;
		let order = Orders::<T>::get(id)?;
		let len = order.slots.get(usize::from(index))?.spec.len;
		let count = Params::<T>::get()?.challenges;
		let key = (id, index).encode();
		Some(
			(0..u32::from(count))
				.map(|round| challenged_piece(&seed, &key, round, len))
				.collect(),
		)
	}

	/// Open order `id` as clients read it (the runtime API `StorageApi::order`).
	pub fn order_view(id: OrderId) -> Option<OrderView<T::AccountId>> {
		let order = Orders::<T>::get(id)?;
		let phase = match order.status {
			OrderStatus::Drawing => OrderPhase::Drawing {
				draw_at: order.draw_at.map(|b| b.saturated_into::<u32>()).unwrap_or_default(),
			},
			OrderStatus::Filling => OrderPhase::Filling,
			OrderStatus::Active { start } => {
				OrderPhase::Active { start, end: start.saturating_add(order.duration) }
			},
		};
		let slots = order.slots.iter().map(Self::slot_of).collect();
		Some(OrderView {
			client: order.client,
			cid: order.cid,
			size: order.size,
			data_shards: order.data_shards,
			duration: order.duration,
			phase,
			slots,
		})
	}

	/// The open orders keeping `cid`, by id (the runtime API `StorageApi::orders_of_cid`). Reads
	/// every open order: for nodes and clients, never called on chain.
	pub fn orders_of_cid(cid: &dsync_primitives::storage::Cid) -> alloc::vec::Vec<OrderId> {
		let mut ids: alloc::vec::Vec<OrderId> = Orders::<T>::iter()
			.filter(|(_, order)| order.cid == *cid)
			.map(|(id, _)| id)
			.collect();
		ids.sort_unstable();
		ids
	}

	/// Slot `index` of open order `id` (the runtime API `StorageApi::slot`).
	pub fn slot_view(id: OrderId, index: SlotIndex) -> Option<SlotView<T::AccountId>> {
		let order = Orders::<T>::get(id)?;
		order.slots.get(usize::from(index)).map(Self::slot_of)
	}

	fn slot_of(
		slot: &crate::Slot<T::AccountId, frame_system::pallet_prelude::BlockNumberFor<T>>,
	) -> SlotView<T::AccountId> {
		let phase = match &slot.state {
			SlotState::Unassigned => SlotPhase::Unassigned,
			SlotState::Offered { provider, deadline, .. } => SlotPhase::Offered {
				endpoint: T::Providers::endpoint(provider),
				provider: provider.clone(),
				deadline: (*deadline).saturated_into::<u32>(),
			},
			SlotState::Held { provider, misses, .. } => SlotPhase::Held {
				endpoint: T::Providers::endpoint(provider),
				provider: provider.clone(),
				misses: *misses,
			},
			SlotState::Lost => SlotPhase::Lost,
			SlotState::Done => SlotPhase::Done,
		};
		SlotView { root: slot.spec.root, len: slot.spec.len, phase }
	}

	/// The slots offered to or held by `provider`, with what its node has to do now (the
	/// runtime API `StorageApi::provider_work`). Reads every open order: for nodes and clients,
	/// never called on chain.
	pub fn provider_work(provider: &T::AccountId) -> alloc::vec::Vec<SlotWork> {
		use sp_runtime::SaturatedConversion;
		let epoch = Self::current_epoch();
		let mut work = alloc::vec::Vec::new();
		for (id, order) in Orders::<T>::iter() {
			for (index, slot) in order.slots.iter().enumerate() {
				let index = crate::orders::slot_index(index);
				let task = match &slot.state {
					SlotState::Offered { provider: p, deadline, challenge } if p == provider => {
						SlotTask::Accept {
							deadline: (*deadline).saturated_into::<u32>(),
							challenge: *challenge,
						}
					},
					SlotState::Held { provider: p, .. } if p == provider => {
						let due =
							order.end().is_some_and(|end| slot.next_epoch == epoch && epoch < end);
						match Self::challenges(id, index, epoch).filter(|_| due) {
							Some(challenges) => SlotTask::Prove { epoch, challenges },
							None => SlotTask::Keep,
						}
					},
					_ => continue,
				};
				work.push(SlotWork {
					order: id,
					slot: index,
					cid: order.cid,
					root: slot.spec.root,
					len: slot.spec.len,
					task,
				});
			}
		}
		work
	}

	/// [`Pallet::prove_slot`]'s logic. `Ok(true)`: proven and paid; `Ok(false)`: a proof did
	/// not match (the slot is freed and the provider penalised).
	pub(crate) fn do_prove_slot(
		who: T::AccountId,
		id: OrderId,
		index: SlotIndex,
		epoch: EpochIndex,
		proofs: BoundedVec<PieceProof, T::MaxChallenges>,
	) -> Result<bool, DispatchError> {
		let mut order = Orders::<T>::get(id).ok_or(Error::<T>::UnknownOrder)?;
		let slot = order.slots.get(usize::from(index)).ok_or(Error::<T>::UnknownSlot)?;
		let SlotState::Held { provider, .. } = &slot.state else {
			return Err(Error::<T>::NotHolder.into());
		};
		ensure!(Self::acts_for(&who, provider), Error::<T>::NotHolder);
		ensure!(epoch == Self::current_epoch(), Error::<T>::WrongEpoch);
		// Epochs before this one that the agenda has not judged yet (it runs late only when more
		// tasks are due than blocks do) were not proven: they are misses, judged now, so an
		// honest provider can always prove the current epoch.
		while order.slots.get(usize::from(index)).is_some_and(|slot| {
			slot.next_epoch < epoch && matches!(slot.state, SlotState::Held { .. })
		}) {
			Self::miss(id, &mut order, index);
		}
		let slot = order.slots.get(usize::from(index)).ok_or(Error::<T>::UnknownSlot)?;
		let SlotState::Held { provider, due_at, .. } = &slot.state else {
			return Err(Error::<T>::NotDue.into());
		};
		let end = order.end().ok_or(Error::<T>::NotDue)?;
		ensure!(slot.next_epoch == epoch && epoch < end, Error::<T>::NotDue);
		let params = Params::<T>::get().ok_or(Error::<T>::NotConfigured)?;
		ensure!(proofs.len() == usize::from(params.challenges), Error::<T>::WrongProofCount);
		let seed = EpochSeeds::<T>::get(epoch).ok_or(Error::<T>::NoSeed)?;
		let key = (id, index).encode();
		let len = slot.spec.len;
		let root = slot.spec.root;
		let valid = proofs.iter().enumerate().all(|(round, proof)| {
			let round = u32::try_from(round).unwrap_or(u32::MAX);
			verify_piece(&root, len, challenged_piece(&seed, &key, round, len), proof).is_ok()
		});
		let provider = provider.clone();
		if let Some(at) = due_at {
			Self::unschedule(*at, AgendaTask::ProofDue(id, index, epoch));
		}
		if valid {
			Self::pay(id, &mut order, index, epoch, &provider);
		} else {
			Self::deposit_event(Event::ProofRejected {
				order: id,
				slot: index,
				epoch,
				provider: provider.clone(),
			});
			T::Providers::penalise(&provider, StoragePenalty::WrongProof);
			Self::refund(&mut order, 1);
			if let Some(slot) = order.slots.get_mut(usize::from(index)) {
				slot.next_epoch = epoch.saturating_add(1);
			}
			Self::free_slot(id, &mut order, index, FreedReason::WrongProof);
		}
		Self::store(id, order);
		Ok(valid)
	}

	/// Pays the proven `epoch` of slot `index` to `provider` from the client's hold (through the
	/// service payment: the burn share applied), records the usage, and puts the slot's next
	/// deadline on the agenda (or ends its term). A payment the currency refuses is refunded to
	/// the client instead.
	fn pay(
		id: OrderId,
		order: &mut Order<T>,
		index: SlotIndex,
		epoch: EpochIndex,
		provider: &T::AccountId,
	) {
		let price = order.price;
		match T::Payment::charge_held(
			&HoldReason::Order.into(),
			&order.client,
			Some(provider),
			price,
			ServiceKind::Storage,
		) {
			Ok(split) => {
				order.unsettled = order.unsettled.saturating_sub(1);
				order.paid = order.paid.saturating_add(price);
				let len =
					order.slots.get(usize::from(index)).map(|slot| slot.spec.len).unwrap_or(0);
				T::Usage::record_usage(
					provider,
					&order.client,
					ServiceKind::Storage,
					len.div_ceil(USAGE_UNIT_BYTES),
					UsageProof { verified: true, burned: split.burned.saturated_into() },
				);
				Self::deposit_event(Event::SlotProven {
					order: id,
					slot: index,
					epoch,
					provider: provider.clone(),
					paid: price,
					burned: split.burned,
				});
			},
			Err(error) => {
				log::warn!(target: "runtime::storage", "payment of order {id} slot {index} failed: {error:?}; refunded");
				Self::refund(order, 1);
			},
		}
		Self::advance(id, order, index, epoch, 0);
	}

	/// Moves slot `index` past `epoch` with `misses` misses in a row: its next deadline goes on
	/// the agenda, or its term ends.
	fn advance(id: OrderId, order: &mut Order<T>, index: SlotIndex, epoch: EpochIndex, misses: u8) {
		let end = order.end().unwrap_or(0);
		let Some(slot) = order.slots.get_mut(usize::from(index)) else { return };
		let next = epoch.saturating_add(1);
		slot.next_epoch = next;
		if next >= end {
			Self::finish_slot(slot);
			return;
		}
		let at = Self::schedule(
			Self::epoch_start(next.saturating_add(1)),
			AgendaTask::ProofDue(id, index, next),
		);
		if let SlotState::Held { misses: held_misses, due_at, .. } = &mut slot.state {
			*held_misses = misses;
			*due_at = Some(at);
		}
	}

	/// The agenda's [`AgendaTask::ProofDue`]: if the slot's `epoch` is over and still unproven, it is
	/// a miss. A task that finds the epoch still running (its length was changed) is moved to
	/// the epoch's real end.
	pub(crate) fn proof_due(id: OrderId, index: SlotIndex, epoch: EpochIndex) -> Weight {
		let Some(mut order) = Orders::<T>::get(id) else {
			return T::DbWeight::get().reads(1);
		};
		let due = order.slots.get(usize::from(index)).is_some_and(|slot| {
			slot.next_epoch == epoch && matches!(slot.state, SlotState::Held { .. })
		});
		if !due || !matches!(order.status, OrderStatus::Active { .. }) {
			return T::DbWeight::get().reads(1);
		}
		if Self::current_epoch() <= epoch {
			let at = Self::schedule(
				Self::epoch_start(epoch.saturating_add(1)),
				AgendaTask::ProofDue(id, index, epoch),
			);
			if let Some(SlotState::Held { due_at, .. }) =
				order.slots.get_mut(usize::from(index)).map(|slot| &mut slot.state)
			{
				*due_at = Some(at);
			}
			Self::store(id, order);
			return T::DbWeight::get().reads_writes(3, 2);
		}
		Self::miss(id, &mut order, index);
		Self::store(id, order);
		T::WeightInfo::on_initialize_proof_due()
	}

	/// The slot's next epoch went unproven: refunded to the client, a Proof-of-Sync miss for
	/// the provider; `max_missed_epochs` in a row free the slot for repair.
	fn miss(id: OrderId, order: &mut Order<T>, index: SlotIndex) {
		let Some(slot) = order.slots.get(usize::from(index)) else { return };
		let SlotState::Held { provider, misses, .. } = &slot.state else { return };
		let provider = provider.clone();
		let epoch = slot.next_epoch;
		let misses = misses.saturating_add(1);
		Self::refund(order, 1);
		T::Providers::penalise(&provider, StoragePenalty::Missed);
		Self::deposit_event(Event::SlotMissed { order: id, slot: index, epoch, provider, misses });
		let max = Params::<T>::get().map(|p| p.max_missed_epochs).unwrap_or(1);
		if misses >= max {
			if let Some(slot) = order.slots.get_mut(usize::from(index)) {
				slot.next_epoch = epoch.saturating_add(1);
			}
			Self::free_slot(id, order, index, FreedReason::Missed);
		} else {
			Self::advance(id, order, index, epoch, misses);
		}
	}
}

/// The pieces Proof of Sync's verifiers fetch from a provider ([`StorageRetrieval`]): one held
/// slot chosen by the verifier's seed among the slots of active orders that run at least one
/// more whole epoch (so the provider's node, whose view may be a block ahead of the verifier's,
/// has not deleted a slot whose term just ended), then one piece of it, [`challenged_piece`]
/// with a round no epoch challenge uses. Read off chain only: it walks every order, like
/// [`Pallet::provider_work`].
impl<T: Config> StorageRetrieval<T::AccountId> for Pallet<T> {
	fn retrieval_check(provider: &T::AccountId, seed: &[u8; 32]) -> Option<RetrievalCheck> {
		let epoch = Self::current_epoch();
		let mut held = alloc::vec::Vec::new();
		for (id, order) in Orders::<T>::iter() {
			if order.end().is_none_or(|end| end <= epoch.saturating_add(1)) {
				continue;
			}
			for (index, slot) in order.slots.iter().enumerate() {
				if matches!(&slot.state, SlotState::Held { provider: p, .. } if p == provider) {
					held.push((
						id,
						crate::orders::slot_index(index),
						slot.spec.root,
						slot.spec.len,
					));
				}
			}
		}
		let count = u64::try_from(held.len()).ok().filter(|count| *count > 0)?;
		let mut preimage = b"dsync/storage/retrieval".to_vec();
		preimage.extend_from_slice(seed);
		let hash = sp_io::hashing::blake2_256(&preimage);
		let mut pick = [0u8; 8];
		pick.copy_from_slice(&hash[..8]);
		let pick = usize::try_from(u64::from_le_bytes(pick) % count).ok()?;
		let (order, slot, root, len) = *held.get(pick)?;
		let piece = challenged_piece(seed, &(order, slot).encode(), RETRIEVAL_ROUND, len);
		Some(RetrievalCheck { order, slot, piece, root, len })
	}
}

/// The [`challenged_piece`] round of retrieval checks: above any epoch challenge's round.
pub const RETRIEVAL_ROUND: u32 = u32::MAX;
