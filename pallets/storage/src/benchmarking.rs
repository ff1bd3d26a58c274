//! Benchmarks of the storage pallet, every call and task at its worst: orders of `MaxSlots`
//! slots of the largest size a proof covers (512 GiB slots: 31-level proofs), draws examining
//! `MaxDrawAttempts` eligible providers, the acceptance that activates an order, a proof of
//! `MaxChallenges` pieces that pays, a cancellation releasing every offer, and a missed epoch
//! that frees the slot.

use super::*;
use crate::{traits::BenchmarkHelper, Pallet as Storage};
use alloc::{vec, vec::Vec};
use dsync_primitives::storage::{
	layout::shard_len,
	pieces::{merkle_node, piece_leaf, slot_root_of, PieceProof, MAX_SLOT_BYTES, PIECE_SIZE},
	Cid,
};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::traits::Saturating;

const SEED: u32 = 0;

/// The benchmarks' parameters: the bounds of the runtime, plain copies allowed, the largest
/// orders, every challenge.
fn bench_params<T: Config>() -> ParamsOf<T> {
	StorageParams {
		epoch_length: 600u32.into(),
		min_data_shards: 1,
		min_parity_shards: 0,
		max_slots: u8::try_from(T::MaxSlots::get()).unwrap_or(u8::MAX),
		max_order_bytes: MAX_SLOT_BYTES,
		min_duration: 1,
		max_duration: 1000,
		min_price: 1u32.into(),
		accept_window: 20u32.into(),
		max_offers: u8::try_from(T::MaxOffersPerSlot::get()).unwrap_or(u8::MAX),
		challenges: u8::try_from(T::MaxChallenges::get()).unwrap_or(u8::MAX),
		max_missed_epochs: 1,
	}
}

/// The largest slot: content of [`MAX_SLOT_BYTES`] kept whole by every slot (one data shard).
const SIZE: u64 = MAX_SLOT_BYTES;

/// A slot whose pieces are all the same 256 bytes: every level of its tree is one node repeated,
/// so every piece has the same 31-level proof, whatever piece a challenge draws.
fn deep_slot() -> (SlotSpec, PieceProof) {
	let piece = vec![0xabu8; PIECE_SIZE];
	let mut node = piece_leaf(&piece);
	let mut path = Vec::new();
	let len = shard_len(SIZE, 1).unwrap_or(SIZE);
	let mut width = dsync_primitives::storage::pieces::piece_count(len);
	while width > 1 {
		path.push(node);
		node = merkle_node(&node, &node);
		width = width.div_ceil(2);
	}
	let spec = SlotSpec { root: slot_root_of(len, &node), len };
	let proof = PieceProof {
		piece: BoundedVec::truncate_from(piece),
		path: BoundedVec::truncate_from(path),
	};
	(spec, proof)
}

/// `count` storage providers with room for one of the largest slots; their owners.
fn providers<T: Config>(count: u32) -> Vec<T::AccountId> {
	(0..count)
		.map(|i| {
			let owner: T::AccountId = account("provider", i, SEED);
			let key: T::AccountId = account("provider-key", i, SEED);
			T::BenchmarkHelper::register_provider(&owner, &key, MAX_SLOT_BYTES);
			owner
		})
		.collect()
}

/// A funded client.
fn client<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("client", 0, SEED);
	let amount: BalanceOf<T> = 1_000_000_000u32.into();
	let _ = <T::Currency as fungible::Mutate<T::AccountId>>::mint_into(
		&who,
		amount.saturating_mul(amount),
	);
	who
}

/// Places the worst order (MaxSlots slots of the deep slot); its id.
fn place<T: Config>(client: &T::AccountId) -> Result<OrderId, BenchmarkError> {
	let (spec, _) = deep_slot();
	let slots: BoundedVec<SlotSpec, T::MaxSlots> = BoundedVec::truncate_from(vec![
			spec;
			dsync_primitives::convert::u32_to_usize(T::MaxSlots::get())
		]);
	let id = NextOrderId::<T>::get();
	Storage::<T>::do_place_order(
		client.clone(),
		Cid::raw(b"bench"),
		SIZE,
		1,
		slots,
		10,
		1u32.into(),
	)
	.map_err(|_| BenchmarkError::Stop("the benchmark order is refused"))?;
	Ok(id)
}

/// Runs the order's draw now: every slot offered.
fn draw<T: Config>(id: OrderId) -> Result<(), BenchmarkError> {
	let order = Orders::<T>::get(id).ok_or(BenchmarkError::Stop("no order"))?;
	let at = order.draw_at.ok_or(BenchmarkError::Stop("no draw"))?;
	frame_system::Pallet::<T>::set_block_number(at);
	Storage::<T>::unschedule(at, AgendaTask::Draw(id));
	Storage::<T>::draw_order(id, at, at);
	Ok(())
}

/// The offers of an order: (slot, provider).
fn offered<T: Config>(id: OrderId) -> Vec<(SlotIndex, T::AccountId, u64)> {
	Orders::<T>::get(id)
		.map(|order| {
			order
				.slots
				.iter()
				.enumerate()
				.filter_map(|(j, slot)| match &slot.state {
					SlotState::Offered { provider, challenge, .. } => {
						Some((crate::orders::slot_index(j), provider.clone(), *challenge))
					},
					_ => None,
				})
				.collect()
		})
		.unwrap_or_default()
}

/// Places, draws and fills the worst order; its id and first epoch.
fn active<T: Config>() -> Result<(OrderId, EpochIndex), BenchmarkError> {
	let client = client::<T>();
	let id = place::<T>(&client)?;
	draw::<T>(id)?;
	let (_, proof) = deep_slot();
	for (j, who, _) in offered::<T>(id) {
		Storage::<T>::do_accept_slot(who, id, j, proof.clone())
			.map_err(|_| BenchmarkError::Stop("acceptance refused"))?;
	}
	match Orders::<T>::get(id).map(|order| order.status) {
		Some(OrderStatus::Active { start }) => Ok((id, start)),
		_ => Err(BenchmarkError::Stop("the order is not active")),
	}
}

/// Moves to the first block of `epoch` (its seed drawn).
fn enter_epoch<T: Config>(epoch: EpochIndex) {
	while Storage::<T>::current_epoch() < epoch {
		let next = Storage::<T>::epoch_start(Storage::<T>::current_epoch() + 1);
		frame_system::Pallet::<T>::set_block_number(next);
		Storage::<T>::tick_clock(next);
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	fn setup<T: Config>() {
		Params::<T>::put(bench_params::<T>());
		frame_system::Pallet::<T>::set_block_number(1u32.into());
		Storage::<T>::tick_clock(1u32.into());
	}

	#[benchmark]
	fn place_order() -> Result<(), BenchmarkError> {
		setup::<T>();
		providers::<T>(T::MaxDrawAttempts::get());
		let client = client::<T>();
		let (spec, _) = deep_slot();
		let slots: BoundedVec<SlotSpec, T::MaxSlots> = BoundedVec::truncate_from(vec![
			spec;
			dsync_primitives::convert::u32_to_usize(T::MaxSlots::get())
		]);
		#[extrinsic_call]
		_(RawOrigin::Signed(client), Cid::raw(b"bench"), SIZE, 1, slots, 10, 1u32.into());
		assert_eq!(OpenOrders::<T>::get(), 1);
		Ok(())
	}

	/// A filling order with every slot offered: each offer's expiry taken off the agenda and
	/// its capacity released.
	#[benchmark]
	fn cancel_order() -> Result<(), BenchmarkError> {
		setup::<T>();
		providers::<T>(T::MaxDrawAttempts::get().max(T::MaxSlots::get()));
		let client = client::<T>();
		let id = place::<T>(&client)?;
		draw::<T>(id)?;
		assert_eq!(offered::<T>(id).len() as u32, T::MaxSlots::get());
		#[extrinsic_call]
		_(RawOrigin::Signed(client), id);
		assert_eq!(OpenOrders::<T>::get(), 0);
		Ok(())
	}

	/// The last acceptance: the order becomes active and every slot's first deadline goes on
	/// the agenda.
	#[benchmark]
	fn accept_slot() -> Result<(), BenchmarkError> {
		setup::<T>();
		providers::<T>(T::MaxDrawAttempts::get().max(T::MaxSlots::get()));
		let client = client::<T>();
		let id = place::<T>(&client)?;
		draw::<T>(id)?;
		let (_, proof) = deep_slot();
		let mut offers = offered::<T>(id);
		let (last, who, _) = offers.pop().ok_or(BenchmarkError::Stop("no offer"))?;
		for (j, other, _) in offers {
			Storage::<T>::do_accept_slot(other, id, j, proof.clone())
				.map_err(|_| BenchmarkError::Stop("acceptance refused"))?;
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(who), id, last, proof);
		assert!(matches!(Orders::<T>::get(id).map(|o| o.status), Some(OrderStatus::Active { .. })));
		Ok(())
	}

	/// `c` challenges answered with 31-level proofs, the epoch paid.
	#[benchmark]
	fn prove_slot(c: Linear<1, { T::MaxChallenges::get() }>) -> Result<(), BenchmarkError> {
		setup::<T>();
		let mut params = bench_params::<T>();
		params.challenges = u8::try_from(c).unwrap_or(u8::MAX);
		Params::<T>::put(params);
		providers::<T>(T::MaxDrawAttempts::get().max(T::MaxSlots::get()));
		let (id, start) = active::<T>()?;
		enter_epoch::<T>(start);
		let (_, proof) = deep_slot();
		let proofs: BoundedVec<PieceProof, T::MaxChallenges> =
			BoundedVec::truncate_from(vec![proof; dsync_primitives::convert::u32_to_usize(c)]);
		let order = Orders::<T>::get(id).ok_or(BenchmarkError::Stop("no order"))?;
		let SlotState::Held { provider, .. } = order.slots[0].state.clone() else {
			return Err(BenchmarkError::Stop("slot 0 is not held"));
		};
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), id, 0, start, proofs);
		let order = Orders::<T>::get(id).ok_or(BenchmarkError::Stop("no order"))?;
		assert_eq!(order.slots[0].next_epoch, start + 1, "proven and paid");
		Ok(())
	}

	#[benchmark]
	fn set_parameters() -> Result<(), BenchmarkError> {
		setup::<T>();
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = bench_params::<T>();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params.clone());
		assert_eq!(Params::<T>::get(), Some(params));
		Ok(())
	}

	/// A new epoch: the clock moves, a seed drawn, an old one dropped.
	#[benchmark]
	fn on_initialize_epoch() -> Result<(), BenchmarkError> {
		setup::<T>();
		enter_epoch::<T>(3);
		let next = Storage::<T>::epoch_start(Storage::<T>::current_epoch() + 1);
		frame_system::Pallet::<T>::set_block_number(next);
		#[block]
		{
			Storage::<T>::tick_clock(next);
		}
		assert_eq!(Storage::<T>::current_epoch(), 4);
		Ok(())
	}

	/// The draw of an order of `s` slots, each examining `MaxDrawAttempts` eligible providers.
	#[benchmark]
	fn on_initialize_draw(s: Linear<1, { T::MaxSlots::get() }>) -> Result<(), BenchmarkError> {
		setup::<T>();
		providers::<T>(T::MaxDrawAttempts::get().max(T::MaxSlots::get()));
		let client = client::<T>();
		let (spec, _) = deep_slot();
		let slots: BoundedVec<SlotSpec, T::MaxSlots> =
			BoundedVec::truncate_from(vec![spec; dsync_primitives::convert::u32_to_usize(s)]);
		let id = NextOrderId::<T>::get();
		Storage::<T>::do_place_order(client, Cid::raw(b"bench"), SIZE, 1, slots, 10, 1u32.into())
			.map_err(|_| BenchmarkError::Stop("the benchmark order is refused"))?;
		let at = Orders::<T>::get(id)
			.and_then(|o| o.draw_at)
			.ok_or(BenchmarkError::Stop("no draw"))?;
		frame_system::Pallet::<T>::set_block_number(at);
		Storage::<T>::unschedule(at, AgendaTask::Draw(id));
		#[block]
		{
			Storage::<T>::draw_order(id, at, at);
		}
		assert_eq!(offered::<T>(id).len() as u32, s);
		Ok(())
	}

	/// An offer expires and the slot is offered to another provider.
	#[benchmark]
	fn on_initialize_offer_expiry() -> Result<(), BenchmarkError> {
		setup::<T>();
		providers::<T>(T::MaxDrawAttempts::get().max(T::MaxSlots::get()).saturating_add(1));
		let client = client::<T>();
		let id = place::<T>(&client)?;
		draw::<T>(id)?;
		let order = Orders::<T>::get(id).ok_or(BenchmarkError::Stop("no order"))?;
		let SlotState::Offered { deadline, provider, .. } = order.slots[0].state.clone() else {
			return Err(BenchmarkError::Stop("slot 0 is not offered"));
		};
		let now: BlockNumberFor<T> = deadline.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		Storage::<T>::unschedule(now, AgendaTask::OfferExpiry(id, 0));
		#[block]
		{
			Storage::<T>::expire_offer(id, 0, now);
		}
		let order = Orders::<T>::get(id).ok_or(BenchmarkError::Stop("no order"))?;
		assert!(
			matches!(&order.slots[0].state, SlotState::Offered { provider: p, .. } if *p != provider)
		);
		Ok(())
	}

	/// An epoch passed unproven: refunded, penalised, and (one miss allowed) the slot freed.
	#[benchmark]
	fn on_initialize_proof_due() -> Result<(), BenchmarkError> {
		setup::<T>();
		providers::<T>(T::MaxDrawAttempts::get().max(T::MaxSlots::get()));
		let (id, start) = active::<T>()?;
		enter_epoch::<T>(start + 1);
		let order = Orders::<T>::get(id).ok_or(BenchmarkError::Stop("no order"))?;
		let SlotState::Held { due_at: Some(at), .. } = order.slots[0].state.clone() else {
			return Err(BenchmarkError::Stop("slot 0 has no deadline"));
		};
		Storage::<T>::unschedule(at, AgendaTask::ProofDue(id, 0, start));
		#[block]
		{
			Storage::<T>::proof_due(id, 0, start);
		}
		let order = Orders::<T>::get(id).ok_or(BenchmarkError::Stop("no order"))?;
		assert!(matches!(order.slots[0].state, SlotState::Unassigned), "freed");
		Ok(())
	}

	impl_benchmark_test_suite!(
		Storage,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
