//! The pallet's tests, by topic, and the helpers they share.

mod attacks;
mod lifecycle;
mod ocw;
mod parameters;
mod proofs;
mod random;

use crate::{mock::*, Event, OrderId, OrderStatus, Orders, SlotIndex, SlotState};
use frame_support::assert_ok;

/// Content size, data shards, slots, duration and price of the usual test order.
pub const SIZE: usize = 5000;
pub const DATA: u8 = 2;
pub const SLOTS: usize = 3;
pub const DURATION: u32 = 4;
pub const PRICE: Balance = 100;

/// `client` places the usual order.
pub fn place_usual(client: &AccountId) -> sp_runtime::DispatchResult {
	Storage::place_order(
		RuntimeOrigin::signed(client.clone()),
		cid_of(SIZE),
		SIZE as u64,
		DATA,
		specs(SIZE, DATA, SLOTS),
		DURATION,
		PRICE,
	)
}

/// Places the usual order by `client`; returns its id.
pub fn place_by(client: &AccountId) -> OrderId {
	let id = crate::NextOrderId::<Test>::get();
	assert_ok!(place_usual(client));
	id
}

/// Places the usual order by Alice and runs to its draw.
pub fn place_and_draw() -> OrderId {
	let id = place_by(&ALICE);
	let order = Orders::<Test>::get(id).unwrap();
	assert_eq!(order.status, OrderStatus::Drawing);
	let draw_at = order.draw_at.expect("a new order's draw is on the agenda");
	run_to_block(draw_at);
	id
}

/// The offered slots of an order: (slot, provider, challenge, deadline).
pub fn offers(id: OrderId) -> Vec<(SlotIndex, AccountId, u64, u64)> {
	Orders::<Test>::get(id)
		.unwrap()
		.slots
		.iter()
		.enumerate()
		.filter_map(|(j, slot)| match &slot.state {
			SlotState::Offered { provider, challenge, deadline } => {
				Some((j as SlotIndex, provider.clone(), *challenge, *deadline))
			},
			_ => None,
		})
		.collect()
}

/// The provider holding slot `j`.
pub fn holder(id: OrderId, j: SlotIndex) -> Option<AccountId> {
	match &Orders::<Test>::get(id)?.slots[usize::from(j)].state {
		SlotState::Held { provider, .. } => Some(provider.clone()),
		_ => None,
	}
}

/// Every offered slot accepted by its provider with a valid proof.
pub fn accept_all(id: OrderId) {
	for (j, who, challenge, _) in offers(id) {
		assert_ok!(Storage::accept_slot(
			RuntimeOrigin::signed(who),
			id,
			j,
			piece_proof(SIZE, DATA, usize::from(j), challenge),
		));
	}
}

/// Places, draws and fills the usual order; returns its id and first epoch.
pub fn active_order() -> (OrderId, u32) {
	let id = place_and_draw();
	accept_all(id);
	match Orders::<Test>::get(id).unwrap().status {
		OrderStatus::Active { start } => (id, start),
		other => panic!("not active: {other:?}"),
	}
}

/// Runs to the first block of `epoch`.
pub fn run_to_epoch(epoch: u32) {
	while Storage::current_epoch() < epoch {
		next_block();
	}
}

/// Every held slot of `id` proven for the current epoch by its provider.
pub fn prove_all(id: OrderId) {
	let epoch = Storage::current_epoch();
	for j in 0..SLOTS as SlotIndex {
		if let Some(who) = holder(id, j) {
			assert_ok!(Storage::prove_slot(
				RuntimeOrigin::signed(who),
				id,
				j,
				epoch,
				epoch_proofs(id, j, epoch, SIZE, DATA),
			));
		}
	}
}

/// Whether an event of this pallet was deposited.
pub fn has_event(event: Event<Test>) -> bool {
	storage_events().contains(&event)
}
