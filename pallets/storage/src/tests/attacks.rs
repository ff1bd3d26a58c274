//! Attacks, one per person who gains by breaking a rule.

use super::*;
use crate::{CancelReason, Error, HoldReason, Reserved, StoragePenalty};
use frame_support::{assert_noop, traits::fungible::InspectHold};

/// A provider deleted the slot it is paid for and answers the challenges with bytes it made
/// up: each proof is refused, it is penalised, the slot goes to another provider.
#[test]
fn a_provider_that_deleted_its_data_cannot_prove_it() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, start) = active_order();
		run_to_epoch(start);
		let cheat = holder(id, 0).unwrap();
		let len = specs(SIZE, DATA, SLOTS)[0].len;
		let made_up = vec![0u8; len as usize];
		let leaves = dsync_primitives::storage::pieces::slot_leaves(&made_up);
		let proofs: Vec<_> = Storage::challenges(id, 0, start)
			.unwrap()
			.into_iter()
			.map(|index| {
				dsync_primitives::storage::pieces::prove_piece(&made_up, &leaves, index).unwrap()
			})
			.collect();
		let before = Balances::free_balance(&cheat);
		assert_ok!(Storage::prove_slot(
			RuntimeOrigin::signed(cheat.clone()),
			id,
			0,
			start,
			proofs.try_into().unwrap()
		));
		assert_eq!(Balances::free_balance(&cheat), before, "not paid");
		assert_eq!(Penalties::get(), vec![(cheat.clone(), StoragePenalty::WrongProof)]);
		assert_eq!(holder(id, 0), None);
	});
}

/// A client places an order and never uploads: no provider can accept, nobody is penalised,
/// the order is cancelled after the allowed offers with a full refund and all capacity freed.
#[test]
fn a_client_that_never_uploads_gets_a_refund_and_providers_lose_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let id = place_and_draw();
		for _ in 0..60 {
			next_block();
			if Orders::<Test>::get(id).is_none() {
				break;
			}
		}
		assert!(Orders::<Test>::get(id).is_none(), "never stuck");
		let total = PRICE * SLOTS as u64 * u64::from(DURATION);
		assert!(has_event(Event::OrderCancelled {
			order: id,
			reason: CancelReason::NoProviders,
			refunded: total
		}));
		assert_eq!(Balances::free_balance(&ALICE), CLIENT_BALANCE);
		assert!(Penalties::get().is_empty());
		assert_eq!(Reserved::<Test>::iter().count(), 0);
		assert!(crate::Agenda::<Test>::iter().next().is_none());
	});
}

/// A provider tries to take over, or prove, a slot offered to or held by another.
#[test]
fn nobody_accepts_or_proves_a_slot_for_another_provider() {
	ExtBuilder::default().build_and_execute(|| {
		let id = place_and_draw();
		let (j, _, challenge, _) = offers(id)[0].clone();
		let outsider = (1..=5)
			.map(provider)
			.find(|p| !offers(id).iter().any(|(_, o, _, _)| o == p))
			.unwrap();
		assert_noop!(
			Storage::accept_slot(
				RuntimeOrigin::signed(outsider.clone()),
				id,
				j,
				piece_proof(SIZE, DATA, usize::from(j), challenge)
			),
			Error::<Test>::NotOffered
		);
		accept_all(id);
		let start = match Orders::<Test>::get(id).unwrap().status {
			OrderStatus::Active { start } => start,
			_ => unreachable!(),
		};
		run_to_epoch(start);
		assert_noop!(
			Storage::prove_slot(
				RuntimeOrigin::signed(outsider),
				id,
				0,
				start,
				epoch_proofs(id, 0, start, SIZE, DATA)
			),
			Error::<Test>::NotHolder
		);
	});
}

/// A proof from one epoch is replayed in the next: refused (challenges change every epoch and
/// a proof names its epoch).
#[test]
fn last_epochs_proof_does_not_answer_this_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, start) = active_order();
		run_to_epoch(start);
		let who = holder(id, 0).unwrap();
		let old = epoch_proofs(id, 0, start, SIZE, DATA);
		assert_ok!(Storage::prove_slot(
			RuntimeOrigin::signed(who.clone()),
			id,
			0,
			start,
			old.clone()
		));
		run_to_epoch(start + 1);
		assert_noop!(
			Storage::prove_slot(RuntimeOrigin::signed(who.clone()), id, 0, start, old.clone()),
			Error::<Test>::WrongEpoch
		);
		// Presented as this epoch's: the challenged pieces differ, so it fails as a wrong proof
		// (unless every challenge happened to fall on the same pieces).
		let now = Storage::challenges(id, 0, start + 1).unwrap();
		let then = Storage::challenges(id, 0, start).unwrap();
		if now != then {
			assert_ok!(Storage::prove_slot(
				RuntimeOrigin::signed(who.clone()),
				id,
				0,
				start + 1,
				old
			));
			assert!(has_event(Event::ProofRejected {
				order: id,
				slot: 0,
				epoch: start + 1,
				provider: who
			}));
		}
	});
}

/// A client wants its own node paid for its order, or a provider wants two slots of one order
/// (one copy of the data paid twice): the draw never picks the client, never one provider twice.
#[test]
fn the_client_and_repeat_providers_are_never_drawn() {
	ExtBuilder::default().providers(4).build_and_execute(|| {
		// Provider 1 places an order: three slots among providers 2, 3 and 4.
		let client = provider(1);
		let _ = <Balances as frame_support::traits::fungible::Mutate<AccountId>>::mint_into(
			&client,
			CLIENT_BALANCE,
		);
		for round in 0..10u8 {
			MockVrf::set(&[round; 32]);
			let id = place_by(&client);
			run_to_block(System::block_number() + 2);
			let drawn: Vec<_> = offers(id).into_iter().map(|(_, who, _, _)| who).collect();
			assert_eq!(drawn.len(), 3);
			assert!(!drawn.contains(&client));
			assert_ok!(Storage::cancel_order(RuntimeOrigin::signed(client.clone()), id));
		}
	});
}

/// A provider with no room left, or a zero score, or suspended, is not offered slots.
#[test]
fn full_zero_score_and_inactive_providers_are_not_drawn() {
	ExtBuilder::default().providers(5).build_and_execute(|| {
		let mut list = ProviderList::get();
		list[0].capacity = 100; // too small for a 2,560-byte slot
		list[1].score = sp_runtime::Perbill::zero();
		list[2].active = false;
		ProviderList::set(&list);
		for round in 0..5u8 {
			MockVrf::set(&[round; 32]);
			let id = place_by(&ALICE);
			run_to_block(System::block_number() + 2);
			let drawn: Vec<_> = offers(id).into_iter().map(|(_, who, _, _)| who).collect();
			// Only providers 4 and 5 can take slots: two offered, the third found nobody.
			assert!(
				drawn.iter().all(|who| *who == provider(4) || *who == provider(5)),
				"{drawn:?}"
			);
			assert_ok!(Storage::cancel_order(RuntimeOrigin::signed(ALICE), id));
		}
		assert_eq!(Balances::balance_on_hold(&HoldReason::Order.into(), &ALICE), 0);
	});
}
