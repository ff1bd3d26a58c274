//! The pallet's invariants, checked by `try_state` (and after every test).
//!
//! 1. Escrow: for every client, the funds held under [`HoldReason::Order`] equal
//!    `Σ price * unsettled` over its open orders.
//! 2. Settlement: for every order, `paid + refunded + price * unsettled == price * slots *
//!    duration`.
//! 3. Counts: [`OpenOrders`] is the number of orders, [`OpenSlots`] the number of their slots,
//!    [`AgendaCount`] the number of agenda tasks; every order id is below [`NextOrderId`].
//! 4. Capacity: [`Reserved`] of each provider is the sum of the lengths of the slots offered
//!    to it or held by it.
//! 5. Progress: an order drawing or with an unassigned slot has a draw on the agenda (and
//!    `draw_at` names one that is); every offered slot has its expiry
//!    on the agenda after its deadline; every held slot of an active order whose term is not
//!    over has its deadline on the agenda; an order's providers are distinct among its offered
//!    and held slots and listed in `excluded`; no slot has had more than `MaxOffersPerSlot`
//!    offers.
//! 6. Parameters: when set, they are valid.

use crate::{
	Agenda, AgendaCount, AgendaTask, BalanceOf, Config, HoldReason, NextOrderId, OpenOrders,
	OpenSlots, OrderStatus, Orders, Pallet, Params, Reserved, SlotState,
};
use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use frame_support::traits::{fungible::InspectHold, Get};
use sp_runtime::{traits::Saturating, TryRuntimeError};

impl<T: Config> Pallet<T> {
	/// Checks every invariant of the module documentation.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut reserved: BTreeMap<T::AccountId, u64> = BTreeMap::new();
		let mut orders = 0u32;
		let mut slots = 0u32;
		let next_id = NextOrderId::<T>::get();
		for (id, order) in Orders::<T>::iter() {
			orders.saturating_inc();
			slots.saturating_accrue(order.slots.len() as u32);
			if id >= next_id {
				return Err("an order id is not below NextOrderId".into());
			}
			let price = order.price;
			let escrow = price.saturating_mul(BalanceOf::<T>::from(order.unsettled));
			let entry = held.entry(order.client.clone()).or_default();
			*entry = entry.saturating_add(escrow);
			let total = price.saturating_mul(BalanceOf::<T>::from(
				(order.slots.len() as u32).saturating_mul(order.duration),
			));
			if order.paid.saturating_add(order.refunded).saturating_add(escrow) != total {
				return Err("paid + refunded + escrow is not the order's price".into());
			}
			if let Some(draw_at) = order.draw_at {
				if !Agenda::<T>::contains_key(draw_at, AgendaTask::Draw(id)) {
					return Err("an order's draw is not on the agenda".into());
				}
			}
			let unassigned =
				order.slots.iter().any(|slot| matches!(slot.state, SlotState::Unassigned));
			if (order.status == OrderStatus::Drawing || unassigned) && order.draw_at.is_none() {
				return Err("an order with unassigned slots has no draw coming".into());
			}
			let mut providers: Vec<&T::AccountId> = Vec::new();
			for (index, slot) in order.slots.iter().enumerate() {
				let index = crate::orders::slot_index(index);
				if u32::from(slot.offers) > T::MaxOffersPerSlot::get() {
					return Err("a slot had more offers than MaxOffersPerSlot".into());
				}
				match &slot.state {
					SlotState::Offered { provider, deadline, .. } => {
						let at = deadline.saturating_add(1u32.into());
						if !Agenda::<T>::contains_key(at, AgendaTask::OfferExpiry(id, index)) {
							return Err("an offered slot has no expiry on the agenda".into());
						}
						providers.push(provider);
						let entry = reserved.entry(provider.clone()).or_default();
						*entry = entry.saturating_add(slot.spec.len);
					},
					SlotState::Held { provider, due_at, .. } => {
						if let Some(end) = order.end() {
							if slot.next_epoch < end {
								let at = due_at.ok_or("a held slot has no deadline")?;
								if !Agenda::<T>::contains_key(
									at,
									AgendaTask::ProofDue(id, index, slot.next_epoch),
								) {
									return Err(
										"a held slot's deadline is not on the agenda".into()
									);
								}
							}
						}
						providers.push(provider);
						let entry = reserved.entry(provider.clone()).or_default();
						*entry = entry.saturating_add(slot.spec.len);
					},
					_ => {},
				}
			}
			for (i, provider) in providers.iter().enumerate() {
				if providers.iter().skip(i + 1).any(|other| other == provider) {
					return Err("a provider holds two slots of one order".into());
				}
				if !order.excluded.contains(provider) {
					return Err("a provider of an order is not in its excluded list".into());
				}
			}
		}
		if OpenOrders::<T>::get() != orders {
			return Err("OpenOrders is not the number of orders".into());
		}
		if OpenSlots::<T>::get() != slots {
			return Err("OpenSlots is not the number of slots".into());
		}
		if AgendaCount::<T>::get() != Agenda::<T>::iter_keys().count() as u32 {
			return Err("AgendaCount is not the number of tasks".into());
		}
		for (client, amount) in &held {
			if T::Currency::balance_on_hold(&HoldReason::Order.into(), client) != *amount {
				return Err("a client's hold is not its orders' escrow".into());
			}
		}
		for (provider, bytes) in Reserved::<T>::iter() {
			if reserved.get(&provider).copied().unwrap_or(0) != bytes {
				return Err("a provider's reserved capacity is not its slots'".into());
			}
		}
		for (provider, bytes) in &reserved {
			if Reserved::<T>::get(provider) != *bytes {
				return Err("a provider's slots are not all reserved".into());
			}
		}
		if let Some(params) = Params::<T>::get() {
			if !Self::params_valid(&params) {
				return Err("the parameters are invalid".into());
			}
		}
		Ok(())
	}
}
