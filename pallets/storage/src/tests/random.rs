//! A random run: many orders, providers that are honest, lazy (answer some epochs), cheating
//! (answer with made-up bytes) or gone, offers accepted or left to expire, clients cancelling;
//! the invariants hold at every block, and once every order has ended every slot-epoch was
//! paid or refunded, nothing is held and no capacity stays reserved.

use super::*;
use crate::{HoldReason, OrderStatus, Reserved};
use frame_support::traits::fungible::InspectHold;

/// xorshift64, seeded.
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0
	}
	fn chance(&mut self, percent: u64) -> bool {
		self.next() % 100 < percent
	}
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
	Honest,
	Lazy,
	Cheat,
	Gone,
}

#[test]
fn every_order_ends_settled_whatever_providers_and_clients_do() {
	for seed in [1u64, 7, 42, 1234] {
		ExtBuilder::default().providers(8).build_and_execute(|| {
			let mut rng = Rng(seed);
			let kinds: Vec<Kind> = (0..8)
				.map(|n| match n % 4 {
					0 => Kind::Honest,
					1 => Kind::Lazy,
					2 => Kind::Cheat,
					_ => Kind::Gone,
				})
				.collect();
			let kind_of = |who: &AccountId| {
				let bytes: &[u8] = who.as_ref();
				kinds[usize::from(bytes[0]) - 1]
			};
			let mut placed = Vec::new();
			let mut total = 0u64;
			for block in 0..400u64 {
				MockVrf::set(&[(seed as u8).wrapping_add(block as u8); 32]);
				if block < 150 && rng.chance(8) {
					let client = if rng.chance(50) { ALICE } else { BOB };
					placed.push(place_by(&client));
					total += PRICE * SLOTS as u64 * u64::from(DURATION);
				}
				for &id in &placed {
					let Some(order) = Orders::<Test>::get(id) else { continue };
					if order.status != OrderStatus::Drawing
						&& !matches!(order.status, OrderStatus::Active { .. })
						&& rng.chance(1)
					{
						frame_support::assert_ok!(Storage::cancel_order(
							RuntimeOrigin::signed(order.client.clone()),
							id
						));
						continue;
					}
					for (j, who, challenge, _) in offers(id) {
						if kind_of(&who) != Kind::Gone && rng.chance(40) {
							frame_support::assert_ok!(Storage::accept_slot(
								RuntimeOrigin::signed(who),
								id,
								j,
								piece_proof(SIZE, DATA, usize::from(j), challenge),
							));
						}
					}
					let epoch = Storage::current_epoch();
					for j in 0..SLOTS as u8 {
						let Some(who) = holder(id, j) else { continue };
						let Some(order) = Orders::<Test>::get(id) else { break };
						if order.slots[usize::from(j)].next_epoch != epoch || !rng.chance(30) {
							continue;
						}
						let proofs = match kind_of(&who) {
							Kind::Honest => epoch_proofs(id, j, epoch, SIZE, DATA),
							Kind::Lazy if rng.chance(50) => epoch_proofs(id, j, epoch, SIZE, DATA),
							Kind::Cheat => Storage::challenges(id, j, epoch)
								.unwrap()
								.into_iter()
								.map(|index| {
									piece_proof(SIZE, DATA, (usize::from(j) + 1) % SLOTS, index)
								})
								.collect::<Vec<_>>()
								.try_into()
								.unwrap(),
							_ => continue,
						};
						let _ =
							Storage::prove_slot(RuntimeOrigin::signed(who), id, j, epoch, proofs);
					}
				}
				next_block();
			}
			// Let every order run out.
			for _ in 0..400 {
				if Orders::<Test>::iter().next().is_none() {
					break;
				}
				next_block();
			}
			assert!(Orders::<Test>::iter().next().is_none(), "every order ended (seed {seed})");
			assert!(!placed.is_empty());
			for client in [ALICE, BOB] {
				assert_eq!(Balances::balance_on_hold(&HoldReason::Order.into(), &client), 0);
			}
			assert_eq!(Reserved::<Test>::iter().count(), 0);
			// Every order's escrow went out exactly once: paid or refunded.
			let settled: u64 = storage_events()
				.iter()
				.map(|event| match event {
					Event::OrderCompleted { paid, refunded, .. } => paid + refunded,
					Event::OrderCancelled { refunded, .. } => *refunded,
					_ => 0,
				})
				.sum();
			assert_eq!(settled, total, "seed {seed}");
			// Cheats were caught at least once when they held a slot that was challenged.
			let caught = storage_events()
				.iter()
				.filter(|e| matches!(e, Event::ProofRejected { .. }))
				.count();
			let paid_cheats = storage_events()
				.iter()
				.filter(
					|e| matches!(e, Event::SlotProven { provider, .. } if kind_of(provider) == Kind::Cheat),
				)
				.count();
			assert_eq!(paid_cheats, 0, "a cheat was paid (seed {seed})");
			// The run went through every path: proofs paid, proofs refused, completions.
			let completed = storage_events()
				.iter()
				.filter(|e| matches!(e, Event::OrderCompleted { .. }))
				.count();
			let proven = storage_events()
				.iter()
				.filter(|e| matches!(e, Event::SlotProven { .. }))
				.count();
			assert!(
				caught > 0 && completed > 0 && proven > 0,
				"seed {seed}: {caught} {completed} {proven}"
			);
		});
	}
}
