//! Epoch proofs: payment, misses, wrong proofs, repairs, lost slots, the agenda running late
//! and epochs changing length, and every error of `prove_slot`.

use super::*;
use crate::{AgendaTask, EpochSeeds, Error, FreedReason, HoldReason, Params, Reserved};
use frame_support::{
	assert_noop,
	dispatch::{Pays, PostDispatchInfo},
	traits::fungible::InspectHold,
};

fn held() -> Balance {
	Balances::balance_on_hold(&HoldReason::Order.into(), &ALICE)
}

#[test]
fn valid_proofs_are_free_and_wrong_ones_pay_their_fee() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, start) = active_order();
		run_to_epoch(start);
		let who = holder(id, 0).unwrap();
		let result = Storage::prove_slot(
			RuntimeOrigin::signed(who.clone()),
			id,
			0,
			start,
			epoch_proofs(id, 0, start, SIZE, DATA),
		);
		assert_eq!(result, Ok(PostDispatchInfo { actual_weight: None, pays_fee: Pays::No }));
		// Slot 1's provider answers with slot 2's bytes: it does not hold slot 1.
		let who1 = holder(id, 1).unwrap();
		let wrong: Vec<_> = Storage::challenges(id, 1, start)
			.unwrap()
			.into_iter()
			.map(|index| piece_proof(SIZE, DATA, 2, index))
			.collect();
		let result = Storage::prove_slot(
			RuntimeOrigin::signed(who1.clone()),
			id,
			1,
			start,
			wrong.try_into().unwrap(),
		);
		assert_eq!(result, Ok(PostDispatchInfo { actual_weight: None, pays_fee: Pays::Yes }));
		assert!(has_event(Event::ProofRejected {
			order: id,
			slot: 1,
			epoch: start,
			provider: who1.clone()
		}));
		assert!(has_event(Event::SlotFreed {
			order: id,
			slot: 1,
			provider: who1.clone(),
			reason: FreedReason::WrongProof
		}));
		assert_eq!(Penalties::get(), vec![(who1.clone(), crate::StoragePenalty::WrongProof)]);
		assert_eq!(Reserved::<Test>::get(&who1), 0);
		assert_eq!(holder(id, 1), None);
	});
}

#[test]
fn an_unproven_epoch_is_refunded_and_a_miss_and_repeated_misses_free_the_slot() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, start) = active_order();
		let lazy = holder(id, 2).unwrap();
		let before = held();
		// Epoch `start`: slots 0 and 1 proven, slot 2 not.
		run_to_epoch(start);
		for j in 0..2 {
			let who = holder(id, j).unwrap();
			assert_ok!(Storage::prove_slot(
				RuntimeOrigin::signed(who),
				id,
				j,
				start,
				epoch_proofs(id, j, start, SIZE, DATA)
			));
		}
		run_to_epoch(start + 1);
		assert!(has_event(Event::SlotMissed {
			order: id,
			slot: 2,
			epoch: start,
			provider: lazy.clone(),
			misses: 1
		}));
		// Two paid, one refunded.
		assert_eq!(held(), before - 3 * PRICE);
		assert_eq!(Balances::free_balance(&ALICE), CLIENT_BALANCE - before + PRICE);
		assert_eq!(Penalties::get(), vec![(lazy.clone(), crate::StoragePenalty::Missed)]);
		// A second miss in a row (max_missed_epochs = 2) frees the slot for repair.
		run_to_epoch(start + 2);
		assert!(has_event(Event::SlotMissed {
			order: id,
			slot: 2,
			epoch: start + 1,
			provider: lazy.clone(),
			misses: 2
		}));
		assert!(has_event(Event::SlotFreed {
			order: id,
			slot: 2,
			provider: lazy.clone(),
			reason: FreedReason::Missed
		}));
		assert_eq!(Reserved::<Test>::get(&lazy), 0);
		// Drawn again two blocks later, never to the same provider.
		next_block();
		next_block();
		let (j, repairer, challenge, _) = offers(id)[0].clone();
		assert_eq!(j, 2);
		assert_ne!(repairer, lazy);
		assert!(!(0..2).any(|k| holder(id, k) == Some(repairer.clone())));
		assert_ok!(Storage::accept_slot(
			RuntimeOrigin::signed(repairer.clone()),
			id,
			2,
			piece_proof(SIZE, DATA, 2, challenge)
		));
		// The epoch of the repair (start + 2) stood vacant: refunded; proofs resume next epoch.
		assert!(has_event(Event::VacantEpochsRefunded {
			order: id,
			slot: 2,
			epochs: 1,
			refunded: PRICE
		}));
		run_to_epoch(start + 3);
		assert_ok!(Storage::prove_slot(
			RuntimeOrigin::signed(repairer.clone()),
			id,
			2,
			start + 3,
			epoch_proofs(id, 2, start + 3, SIZE, DATA)
		));
		// The term ends (duration 4); slots 0 and 1, unproven since `start`, were freed and
		// repaired too: every slot-epoch is paid or refunded, nothing stays held.
		run_to_epoch(start + DURATION + 1);
		assert!(Orders::<Test>::get(id).is_none());
		assert_eq!(held(), 0);
	});
}

#[test]
fn a_slot_nobody_repairs_is_lost_and_its_remaining_epochs_refunded() {
	ExtBuilder::default().providers(3).build_and_execute(|| {
		let (id, start) = active_order();
		run_to_epoch(start);
		let who = holder(id, 0).unwrap();
		// A wrong proof frees slot 0; with three providers, all three already excluded, nobody
		// can repair it: after max_offers draws that found nobody the slot is lost.
		let wrong: Vec<_> = Storage::challenges(id, 0, start)
			.unwrap()
			.into_iter()
			.map(|index| piece_proof(SIZE, DATA, 1, index))
			.collect();
		assert_ok!(Storage::prove_slot(
			RuntimeOrigin::signed(who),
			id,
			0,
			start,
			wrong.try_into().unwrap()
		));
		for _ in 0..40 {
			next_block();
			if storage_events().iter().any(|e| matches!(e, Event::SlotLost { .. })) {
				break;
			}
		}
		// Epochs start (refunded with the wrong proof) and start+1..end: three refunded at once.
		assert!(has_event(Event::SlotLost {
			order: id,
			slot: 0,
			refunded: PRICE * u64::from(DURATION - 1)
		}));
		assert_eq!(
			storage_events()
				.iter()
				.filter(|e| matches!(e, Event::NoProviderDrawn { order, slot: 0 } if *order == id))
				.count(),
			2,
			"max_offers (3) counts the first offer"
		);
	});
}

#[test]
fn proving_needs_the_slot_the_current_epoch_and_every_challenge() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, start) = active_order();
		let who = holder(id, 0).unwrap();
		let other = holder(id, 1).unwrap();
		let signed = |who: &AccountId| RuntimeOrigin::signed(who.clone());
		// Before the term starts: not due.
		let epoch = Storage::current_epoch();
		assert_noop!(
			Storage::prove_slot(signed(&who), id, 0, epoch, epoch_proofs(id, 0, epoch, SIZE, DATA)),
			Error::<Test>::NotDue
		);
		run_to_epoch(start);
		let proofs = epoch_proofs(id, 0, start, SIZE, DATA);
		assert_noop!(
			Storage::prove_slot(signed(&who), 99, 0, start, proofs.clone()),
			Error::<Test>::UnknownOrder
		);
		assert_noop!(
			Storage::prove_slot(signed(&who), id, 9, start, proofs.clone()),
			Error::<Test>::UnknownSlot
		);
		assert_noop!(
			Storage::prove_slot(signed(&other), id, 0, start, proofs.clone()),
			Error::<Test>::NotHolder
		);
		assert_noop!(
			Storage::prove_slot(signed(&ALICE), id, 0, start, proofs.clone()),
			Error::<Test>::NotHolder
		);
		assert_noop!(
			Storage::prove_slot(signed(&who), id, 0, start + 1, proofs.clone()),
			Error::<Test>::WrongEpoch
		);
		assert_noop!(
			Storage::prove_slot(signed(&who), id, 0, start - 1, proofs.clone()),
			Error::<Test>::WrongEpoch
		);
		let mut short = proofs.clone();
		short.pop();
		assert_noop!(
			Storage::prove_slot(signed(&who), id, 0, start, short),
			Error::<Test>::WrongProofCount
		);
		let seed = EpochSeeds::<Test>::take(start).unwrap();
		assert_noop!(
			Storage::prove_slot(signed(&who), id, 0, start, proofs.clone()),
			Error::<Test>::NoSeed
		);
		EpochSeeds::<Test>::insert(start, seed);
		// Through the node's key.
		let bytes: &[u8] = who.as_ref();
		assert_ok!(Storage::prove_slot(
			RuntimeOrigin::signed(key_of(bytes[0])),
			id,
			0,
			start,
			proofs.clone()
		));
		// Once per epoch.
		assert_noop!(
			Storage::prove_slot(signed(&who), id, 0, start, proofs.clone()),
			Error::<Test>::NotDue
		);
		// Last epoch's proofs in the next epoch: refused, not judged.
		run_to_epoch(start + 1);
		assert_noop!(
			Storage::prove_slot(signed(&who), id, 0, start, proofs),
			Error::<Test>::WrongEpoch
		);
		assert!(Penalties::get().iter().all(|(p, _)| *p != who));
	});
}

#[test]
fn a_late_agenda_never_costs_an_honest_provider_its_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, start) = active_order();
		// One task a block from now on, and many tasks piled up at the start of the epoch:
		// slot 0's deadline for `start` is judged late, well into `start + 1`.
		MaxTasksPerBlock::set(1);
		for n in 0..30u64 {
			Storage::schedule(Storage::epoch_start(start + 1), AgendaTask::Draw(1000 + n));
		}
		run_to_epoch(start + 1);
		// Slot 0 was not proven in `start`; its provider proves `start + 1` right away, before
		// the agenda reached the old deadline: the missed epoch is judged, then the proof taken.
		let who = holder(id, 0).unwrap();
		assert_ok!(Storage::prove_slot(
			RuntimeOrigin::signed(who.clone()),
			id,
			0,
			start + 1,
			epoch_proofs(id, 0, start + 1, SIZE, DATA)
		));
		assert!(has_event(Event::SlotMissed {
			order: id,
			slot: 0,
			epoch: start,
			provider: who.clone(),
			misses: 1
		}));
		assert!(has_event(Event::SlotProven {
			order: id,
			slot: 0,
			epoch: start + 1,
			provider: who,
			paid: PRICE,
			burned: burn_share(PRICE)
		}));
		MaxTasksPerBlock::set(64);
		run_to_block(System::block_number() + 40);
	});
}

#[test]
fn longer_epochs_move_deadlines_instead_of_judging_early() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, start) = active_order();
		run_to_epoch(start);
		// Epochs become 30 blocks long during `start`: its deadline (at block start + 10) finds
		// the epoch running and moves to its real end; nobody misses.
		let mut params = Params::<Test>::get().unwrap();
		params.epoch_length = 30;
		assert_ok!(Storage::set_parameters(RuntimeOrigin::root(), params));
		let begin = System::block_number();
		run_to_block(begin + 15);
		assert_eq!(Storage::current_epoch(), start);
		prove_all(id);
		run_to_block(begin + 31);
		assert_eq!(Storage::current_epoch(), start + 1);
		assert!(Penalties::get().is_empty());
		prove_all(id);
	});
}

#[test]
fn a_payment_the_currency_refuses_is_refunded() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, start) = active_order();
		run_to_epoch(start);
		let before = held();
		PaymentFails::set(&true);
		prove_all(id);
		assert_eq!(held(), before - 3 * PRICE);
		assert_eq!(Balances::free_balance(&ALICE), CLIENT_BALANCE - before + 3 * PRICE);
		assert!(Usage::get().is_empty());
		PaymentFails::set(&false);
	});
}

#[test]
fn a_spent_agenda_weight_defers_tasks_and_loses_none() {
	ExtBuilder::default().build_and_execute(|| {
		// Almost no weight: one task a block (the first always runs).
		AgendaWeight::set(frame_support::weights::Weight::from_parts(1, 1));
		let first = place_by(&ALICE);
		let second = place_by(&BOB);
		// Both draws are due at the same block: one runs there, the other the block after.
		let at = Orders::<Test>::get(first).unwrap().draw_at.unwrap();
		assert_eq!(Orders::<Test>::get(second).unwrap().draw_at, Some(at));
		run_to_block(at);
		let drawn = |id| Orders::<Test>::get(id).unwrap().status != OrderStatus::Drawing;
		assert!(drawn(first) ^ drawn(second), "one draw this block");
		next_block();
		assert!(drawn(first) && drawn(second), "the other the next block");
		// Caught up: the cursor is past this block.
		assert_eq!(crate::AgendaCursor::<Test>::get(), at + 2);
	});
}

/// Proof of Sync's verifiers fetch one piece of a slot a provider holds
/// (`StorageRetrieval::retrieval_check`): only held slots, only while the term has more than the
/// current epoch to run, the piece chosen by the seed and verifiable against the slot's root.
#[test]
fn verifiers_fetch_a_piece_of_a_held_slot_while_its_term_runs() {
	use dsync_primitives::{
		storage::pieces::{piece_count, verify_piece},
		traits::StorageRetrieval,
	};
	ExtBuilder::default().build_and_execute(|| {
		let id = place_and_draw();
		let (_, offered, _, _) = offers(id)[0].clone();
		assert_eq!(Storage::retrieval_check(&offered, &[1; 32]), None, "offered, not held");
		accept_all(id);
		let OrderStatus::Active { start } = Orders::<Test>::get(id).unwrap().status else {
			panic!("active")
		};
		let order = Orders::<Test>::get(id).unwrap();
		for j in 0..SLOTS as u8 {
			let who = holder(id, j).unwrap();
			let check = Storage::retrieval_check(&who, &[1; 32]).expect("a held slot");
			let spec = &order.slots[usize::from(j)].spec;
			assert_eq!(
				(check.order, check.slot, check.root, check.len),
				(id, j, spec.root, spec.len)
			);
			assert!(check.piece < piece_count(spec.len));
			let proof = piece_proof(SIZE, DATA, usize::from(j), check.piece);
			assert_eq!(verify_piece(&check.root, check.len, check.piece, &proof), Ok(()));
			// The same seed asks for the same piece; the seeds spread over the pieces.
			assert_eq!(Storage::retrieval_check(&who, &[1; 32]), Some(check));
			let pieces: alloc::collections::BTreeSet<u64> = (0..32u8)
				.filter_map(|seed| Storage::retrieval_check(&who, &[seed; 32]))
				.map(|check| check.piece)
				.collect();
			assert!(pieces.len() > 1, "{pieces:?}");
		}
		assert_eq!(Storage::retrieval_check(&provider(99), &[1; 32]), None, "holds nothing");
		let who = holder(id, 0).unwrap();
		for epoch in start..start + DURATION - 1 {
			run_to_epoch(epoch);
			assert!(Storage::retrieval_check(&who, &[1; 32]).is_some(), "epoch {epoch}");
			prove_all(id);
		}
		// The term's last epoch: the provider's node may be a block from deleting the slot.
		run_to_epoch(start + DURATION - 1);
		assert_eq!(Storage::retrieval_check(&who, &[1; 32]), None);
	});
}
