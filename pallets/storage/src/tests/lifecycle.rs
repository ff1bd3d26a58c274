//! Orders from placement to their end: draws, offers, acceptance, activation, a whole term paid,
//! cancellation and every error of placing, cancelling and accepting.

use super::*;
use crate::{
	AgendaTask, CancelReason, Error, HoldReason, OpenOrders, OpenSlots, Params, Reserved, SlotSpec,
};
use frame_support::{
	assert_noop,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::{DispatchError, TokenError};

#[test]
fn placing_holds_the_whole_price_and_draws_distinct_providers_later() {
	ExtBuilder::default().build_and_execute(|| {
		let id = place_by(&ALICE);
		let held = PRICE * (SLOTS as u64) * u64::from(DURATION);
		assert_eq!(Balances::balance_on_hold(&HoldReason::Order.into(), &ALICE), held);
		assert_eq!(Balances::balance(&ALICE), CLIENT_BALANCE - held);
		assert!(has_event(Event::OrderPlaced {
			order: id,
			client: ALICE,
			cid: cid_of(SIZE),
			size: SIZE as u64,
			slots: SLOTS as u8,
			held,
			draw_at: 3,
		}));
		assert_eq!((OpenOrders::<Test>::get(), OpenSlots::<Test>::get()), (1, 3));
		// Nobody is offered anything before the draw block.
		next_block();
		assert!(offers(id).is_empty());
		next_block();
		let offered = offers(id);
		assert_eq!(offered.len(), SLOTS);
		assert_eq!(Orders::<Test>::get(id).unwrap().status, OrderStatus::Filling);
		let mut providers: Vec<_> = offered.iter().map(|(_, who, _, _)| who.clone()).collect();
		providers.sort();
		providers.dedup();
		assert_eq!(providers.len(), SLOTS, "distinct providers");
		let len = specs(SIZE, DATA, SLOTS)[0].len;
		for (j, who, challenge, deadline) in offered {
			assert_ne!(who, ALICE);
			assert_eq!(deadline, 3 + 5);
			assert_eq!(Reserved::<Test>::get(&who), len);
			assert!(challenge < len.div_ceil(256));
			assert!(has_event(Event::SlotOffered {
				order: id,
				slot: j,
				provider: who,
				deadline,
				challenge
			}));
		}
	});
}

#[test]
fn accepting_every_slot_activates_the_order_at_the_next_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		let id = place_and_draw();
		let offered = offers(id);
		// The first provider accepts through its node's key, the others themselves.
		let (j0, p0, c0, _) = offered[0].clone();
		let bytes: &[u8] = p0.as_ref();
		assert_ok!(Storage::accept_slot(
			RuntimeOrigin::signed(key_of(bytes[0])),
			id,
			j0,
			piece_proof(SIZE, DATA, usize::from(j0), c0),
		));
		assert!(has_event(Event::SlotAccepted { order: id, slot: j0, provider: p0.clone() }));
		assert_eq!(Orders::<Test>::get(id).unwrap().status, OrderStatus::Filling);
		accept_all(id);
		let epoch = Storage::current_epoch();
		assert_eq!(
			Orders::<Test>::get(id).unwrap().status,
			OrderStatus::Active { start: epoch + 1 }
		);
		assert!(has_event(Event::OrderActivated {
			order: id,
			start: epoch + 1,
			end: epoch + 1 + DURATION
		}));
		// Accepting is free.
		assert_eq!(Balances::balance(&p0), PROVIDER_BALANCE);
	});
}

#[test]
fn a_whole_term_proven_pays_every_slot_epoch_and_completes_the_order() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, start) = active_order();
		let providers: Vec<_> = (0..SLOTS as SlotIndex).map(|j| holder(id, j).unwrap()).collect();
		let treasury = Balances::balance(&TREASURY);
		let issuance = Balances::total_issuance();
		for epoch in start..start + DURATION {
			run_to_epoch(epoch);
			prove_all(id);
			for (j, who) in providers.iter().enumerate() {
				assert!(has_event(Event::SlotProven {
					order: id,
					slot: j as SlotIndex,
					epoch,
					provider: who.clone(),
					paid: PRICE,
					burned: burn_share(PRICE),
				}));
			}
		}
		// The term ends with the last proofs: the order completes, nothing left held.
		assert!(Orders::<Test>::get(id).is_none());
		let total = PRICE * SLOTS as u64 * u64::from(DURATION);
		assert!(has_event(Event::OrderCompleted { order: id, paid: total, refunded: 0 }));
		assert_eq!(Balances::balance_on_hold(&HoldReason::Order.into(), &ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), CLIENT_BALANCE - total);
		let per_provider =
			(PRICE - burn_share(PRICE) - treasury_share(PRICE)) * u64::from(DURATION);
		for who in &providers {
			assert_eq!(Balances::balance(who), PROVIDER_BALANCE + per_provider);
			assert_eq!(Reserved::<Test>::get(who), 0);
		}
		assert_eq!(
			Balances::balance(&TREASURY),
			treasury + treasury_share(PRICE) * SLOTS as u64 * u64::from(DURATION)
		);
		assert_eq!(
			Balances::total_issuance(),
			issuance - burn_share(PRICE) * SLOTS as u64 * u64::from(DURATION)
		);
		// Usage: every proven slot-epoch, in MiB (one, rounded up), with its burn.
		let usage = Usage::get();
		assert_eq!(usage.len(), SLOTS * DURATION as usize);
		assert!(usage.iter().all(|(_, client, units, burned)| *client == ALICE
			&& *units == 1
			&& *burned == u128::from(burn_share(PRICE))));
		assert_eq!((OpenOrders::<Test>::get(), OpenSlots::<Test>::get()), (0, 0));
		assert!(Penalties::get().is_empty());
	});
}

#[test]
fn an_offer_not_accepted_moves_to_another_provider_without_penalty() {
	ExtBuilder::default().build_and_execute(|| {
		let id = place_and_draw();
		let (j, first, _, deadline) = offers(id)[0].clone();
		// Every slot but j is accepted; j's provider never answers.
		for (slot, who, challenge, _) in offers(id).into_iter().skip(1) {
			assert_ok!(Storage::accept_slot(
				RuntimeOrigin::signed(who),
				id,
				slot,
				piece_proof(SIZE, DATA, usize::from(slot), challenge),
			));
		}
		run_to_block(deadline + 1);
		assert!(has_event(Event::OfferExpired { order: id, slot: j, provider: first.clone() }));
		assert_eq!(Reserved::<Test>::get(&first), 0);
		let (j2, second, challenge, _) = offers(id)[0].clone();
		assert_eq!(j2, j);
		assert_ne!(second, first);
		assert!(Penalties::get().is_empty(), "an unaccepted offer is not a fault");
		assert_ok!(Storage::accept_slot(
			RuntimeOrigin::signed(second),
			id,
			j,
			piece_proof(SIZE, DATA, usize::from(j), challenge),
		));
		assert!(matches!(Orders::<Test>::get(id).unwrap().status, OrderStatus::Active { .. }));
		// The first provider is never offered this order again.
		assert!(Orders::<Test>::get(id).unwrap().excluded.contains(&first));
	});
}

#[test]
fn the_client_cancels_before_activation_and_gets_everything_back() {
	ExtBuilder::default().build_and_execute(|| {
		// While drawing.
		let id = place_by(&ALICE);
		assert_noop!(
			Storage::cancel_order(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotClient
		);
		assert_noop!(
			Storage::cancel_order(RuntimeOrigin::signed(ALICE), 99),
			Error::<Test>::UnknownOrder
		);
		assert_ok!(Storage::cancel_order(RuntimeOrigin::signed(ALICE), id));
		let total = PRICE * SLOTS as u64 * u64::from(DURATION);
		assert!(has_event(Event::OrderCancelled {
			order: id,
			reason: CancelReason::ByClient,
			refunded: total
		}));
		assert_eq!(Balances::balance(&ALICE), CLIENT_BALANCE);
		assert!(crate::Agenda::<Test>::iter().next().is_none(), "the draw is off the agenda");
		// While filling, one slot accepted.
		let id = place_and_draw();
		let (j, who, challenge, _) = offers(id)[0].clone();
		assert_ok!(Storage::accept_slot(
			RuntimeOrigin::signed(who.clone()),
			id,
			j,
			piece_proof(SIZE, DATA, usize::from(j), challenge),
		));
		assert_ok!(Storage::cancel_order(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(Balances::balance(&ALICE), CLIENT_BALANCE);
		assert_eq!(Reserved::<Test>::iter().count(), 0);
		assert!(crate::Agenda::<Test>::iter().next().is_none());
		// Once active, the term runs.
		let (id, _) = active_order();
		assert_noop!(
			Storage::cancel_order(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::OrderActive
		);
	});
}

#[test]
fn bad_orders_are_refused_and_change_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let place = |size: u64,
		             data: u8,
		             slots: frame_support::BoundedVec<SlotSpec, MaxSlots>,
		             duration: u32,
		             price: Balance| {
			Storage::place_order(
				RuntimeOrigin::signed(ALICE),
				cid_of(SIZE),
				size,
				data,
				slots,
				duration,
				price,
			)
		};
		let good = specs(SIZE, DATA, SLOTS);
		assert_noop!(place(0, DATA, good.clone(), DURATION, PRICE), Error::<Test>::InvalidSize);
		assert_noop!(
			place((1 << 20) + 1, DATA, good.clone(), DURATION, PRICE),
			Error::<Test>::InvalidSize
		);
		assert_noop!(
			place(SIZE as u64, 0, good.clone(), DURATION, PRICE),
			Error::<Test>::InvalidRedundancy
		);
		assert_noop!(
			place(SIZE as u64, 4, good.clone(), DURATION, PRICE),
			Error::<Test>::InvalidRedundancy
		);
		// No parity slot (min_parity_shards is 1).
		assert_noop!(
			place(SIZE as u64, 3, specs(SIZE, 3, 3), DURATION, PRICE),
			Error::<Test>::InvalidRedundancy
		);
		// A slot of the wrong length.
		let mut wrong = good.clone();
		wrong[1].len += 64;
		assert_noop!(
			place(SIZE as u64, DATA, wrong, DURATION, PRICE),
			Error::<Test>::InvalidSlotLength
		);
		// Lengths of another size.
		assert_noop!(
			place(SIZE as u64 + 5000, DATA, good.clone(), DURATION, PRICE),
			Error::<Test>::InvalidSlotLength
		);
		assert_noop!(
			place(SIZE as u64, DATA, good.clone(), 0, PRICE),
			Error::<Test>::InvalidDuration
		);
		assert_noop!(
			place(SIZE as u64, DATA, good.clone(), 101, PRICE),
			Error::<Test>::InvalidDuration
		);
		assert_noop!(
			place(SIZE as u64, DATA, good.clone(), DURATION, 9),
			Error::<Test>::PriceTooLow
		);
		assert_noop!(
			place(SIZE as u64, DATA, good.clone(), DURATION, Balance::MAX / 2),
			Error::<Test>::Overflow
		);
		// More than the client has.
		assert_noop!(
			place(SIZE as u64, DATA, good.clone(), 100, CLIENT_BALANCE / 100),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		// Six slots, five providers, one of them... none is the client, but six > five.
		assert_noop!(
			place(SIZE as u64, DATA, specs(SIZE, DATA, 6), DURATION, PRICE),
			Error::<Test>::NotEnoughProviders
		);
		assert_eq!(Balances::balance(&ALICE), CLIENT_BALANCE);
	});
}

#[test]
fn placing_needs_parameters_and_room() {
	ExtBuilder::default().unconfigured().build_and_execute(|| {
		assert_noop!(place_usual(&ALICE), Error::<Test>::NotConfigured);
	});
	ExtBuilder::default().build_and_execute(|| {
		MaxOpenOrders::set(2);
		place_by(&ALICE);
		place_by(&BOB);
		assert_noop!(place_usual(&ALICE), Error::<Test>::TooManyOrders);
	});
	ExtBuilder::default().build_and_execute(|| {
		// Ten-block epochs and 4 tasks a block: 20 open slots at most.
		MaxTasksPerBlock::set(4);
		for _ in 0..6 {
			place_by(&ALICE);
		}
		assert_eq!(OpenSlots::<Test>::get(), 18);
		assert_noop!(place_usual(&ALICE), Error::<Test>::TooManyOrders);
		assert!(Params::<Test>::get().is_some());
	});
}

#[test]
fn accepting_needs_the_offer_the_deadline_and_a_valid_proof() {
	ExtBuilder::default().build_and_execute(|| {
		let id = place_and_draw();
		let (j, who, challenge, deadline) = offers(id)[0].clone();
		let good = piece_proof(SIZE, DATA, usize::from(j), challenge);
		let other = offers(id)[1].1.clone();
		assert_noop!(
			Storage::accept_slot(RuntimeOrigin::signed(who.clone()), 99, j, good.clone()),
			Error::<Test>::UnknownOrder
		);
		assert_noop!(
			Storage::accept_slot(RuntimeOrigin::signed(who.clone()), id, 7, good.clone()),
			Error::<Test>::UnknownSlot
		);
		assert_noop!(
			Storage::accept_slot(RuntimeOrigin::signed(other), id, j, good.clone()),
			Error::<Test>::NotOffered
		);
		assert_noop!(
			Storage::accept_slot(RuntimeOrigin::signed(ALICE), id, j, good.clone()),
			Error::<Test>::NotOffered
		);
		// Another piece than the challenged one, and the right piece of another slot.
		let wrong_index = piece_proof(SIZE, DATA, usize::from(j), (challenge + 1) % 10);
		assert_noop!(
			Storage::accept_slot(RuntimeOrigin::signed(who.clone()), id, j, wrong_index),
			Error::<Test>::InvalidProof
		);
		let other_slot = piece_proof(SIZE, DATA, (usize::from(j) + 1) % SLOTS, challenge);
		assert_noop!(
			Storage::accept_slot(RuntimeOrigin::signed(who.clone()), id, j, other_slot),
			Error::<Test>::InvalidProof
		);
		// After the deadline (before the expiry ran): refused.
		System::set_block_number(deadline + 1);
		assert_noop!(
			Storage::accept_slot(RuntimeOrigin::signed(who.clone()), id, j, good.clone()),
			Error::<Test>::OfferExpired
		);
		System::set_block_number(deadline);
		assert_ok!(Storage::accept_slot(RuntimeOrigin::signed(who.clone()), id, j, good.clone()));
		assert_noop!(
			Storage::accept_slot(RuntimeOrigin::signed(who), id, j, good),
			Error::<Test>::NotOffered
		);
		// Its expiry is off the agenda.
		assert!(!crate::Agenda::<Test>::contains_key(deadline + 1, AgendaTask::OfferExpiry(id, j)));
	});
}

#[test]
fn a_provider_reads_its_work_offers_then_proofs_due() {
	use dsync_primitives::storage::SlotTask;
	ExtBuilder::default().build_and_execute(|| {
		let id = place_and_draw();
		let (j, who, challenge, deadline) = offers(id)[0].clone();
		let work = Storage::provider_work(&who);
		assert_eq!(work.len(), 1);
		assert_eq!((work[0].order, work[0].slot, work[0].cid), (id, j, cid_of(SIZE)));
		assert_eq!(work[0].root, specs(SIZE, DATA, SLOTS)[usize::from(j)].root);
		assert_eq!(work[0].task, SlotTask::Accept { deadline: deadline as u32, challenge });
		assert!(Storage::provider_work(&ALICE).is_empty());
		accept_all(id);
		// Held, its term not started: keep.
		assert_eq!(Storage::provider_work(&who)[0].task, SlotTask::Keep);
		let start = match Orders::<Test>::get(id).unwrap().status {
			OrderStatus::Active { start } => start,
			_ => unreachable!(),
		};
		run_to_epoch(start);
		let challenges = Storage::challenges(id, j, start).unwrap();
		assert_eq!(
			Storage::provider_work(&who)[0].task,
			SlotTask::Prove { epoch: start, challenges }
		);
		prove_all(id);
		assert_eq!(Storage::provider_work(&who)[0].task, SlotTask::Keep);
	});
}
