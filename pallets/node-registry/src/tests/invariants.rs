//! `do_try_state` catches every broken invariant; a long pseudo-random run of calls keeps them
//! all and never strands funds: once every node has exited, every account holds what it started
//! with, less what was slashed, and the treasury holds exactly the slashed amount more.

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	traits::{fungible::MutateHold, tokens::Precision},
	BoundedVec,
};
use sp_runtime::{DispatchError, Perbill, TransactionOutcome};

/// A provider list.
fn provider_list(
	owners: Vec<AccountId>,
) -> BoundedVec<AccountId, <Test as Config>::MaxServiceNodes> {
	bounded(owners)
}

/// Break the state with `break_it`, check that `do_try_state` notices, then restore it.
fn assert_detected(break_it: impl FnOnce()) {
	let snapshot = sp_io::storage::root(sp_runtime::StateVersion::V1);
	frame_support::storage::with_transaction(|| {
		break_it();
		assert!(Registry::do_try_state().is_err(), "the broken invariant went unnoticed");
		TransactionOutcome::Rollback(Ok::<(), DispatchError>(()))
	})
	.unwrap();
	assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), snapshot);
}

#[test]
fn try_state_detects_every_broken_invariant() {
	ExtBuilder::default().build_and_execute(|| {
		register_service(&ALICE, 1, 3_000);
		register_validator(&BOB, 2, VALIDATOR_MIN_BOND + 500);
		register_service(&CHARLIE, 3, 3_000);
		assert_ok!(Registry::unbond(RuntimeOrigin::signed(BOB), 500));
		assert_ok!(Registry::update_declaration(
			RuntimeOrigin::signed(ALICE),
			small_declaration(3)
		));
		assert_ok!(Registry::exit(RuntimeOrigin::signed(CHARLIE)));
		assert_ok!(<Registry as NodeRegistry<AccountId, u64>>::schedule_slash(
			&ALICE,
			Perbill::from_percent(10),
			SlashReason::RepeatedMisses,
			2
		));
		assert_ok!(<Registry as NodeRegistry<AccountId, u64>>::set_status(
			&ALICE,
			NodeStatus::Active
		));
		assert_ok!(Registry::do_try_state());

		// 1. Parameters.
		assert_detected(|| Params::<Test>::mutate(|params| params.base_bond = 0));
		assert_detected(|| Params::<Test>::mutate(|params| params.unbonding_delay = 0));
		// 2. Holds and records.
		assert_detected(|| Nodes::<Test>::mutate_extant(&ALICE, |node| node.bond += 1));
		assert_detected(|| {
			Nodes::<Test>::mutate_extant(&BOB, |node| node.unbonding = Some((499, 11)))
		});
		assert_detected(|| {
			<Balances as MutateHold<AccountId>>::release(
				&HoldReason::Bond.into(),
				&ALICE,
				1,
				Precision::Exact,
			)
			.unwrap();
		});
		assert_detected(|| Nodes::<Test>::mutate_extant(&CHARLIE, |node| node.unbonding = None));
		assert_detected(|| {
			Nodes::<Test>::mutate_extant(&CHARLIE, |node| {
				node.pending_declaration = Some(small_declaration(1))
			});
			DeclarationUpdates::<Test>::mutate(|updates| updates.try_push(CHARLIE).unwrap());
		});
		// 3. Keys.
		assert_detected(|| NodeOfKey::<Test>::remove(key(1)));
		assert_detected(|| NodeOfKey::<Test>::insert(key(9), ALICE));
		assert_detected(|| NodeOfKey::<Test>::insert(key(1), BOB));
		// 4. Lists.
		assert_detected(ServiceNodes::<Test>::kill);
		assert_detected(|| ServiceNodes::<Test>::mutate(|nodes| nodes.try_push(ALICE).unwrap()));
		assert_detected(|| ServiceNodes::<Test>::mutate(|nodes| nodes.try_push(BOB).unwrap()));
		assert_detected(|| ValidatorNodes::<Test>::mutate(|nodes| nodes.try_push(DAVE).unwrap()));
		// 5. Pending declarations.
		assert_detected(DeclarationUpdates::<Test>::kill);
		assert_detected(|| {
			DeclarationUpdates::<Test>::mutate(|updates| updates.try_push(BOB).unwrap())
		});
		assert_detected(|| {
			DeclarationUpdates::<Test>::mutate(|updates| updates.try_push(ALICE).unwrap())
		});
		// 6. Slashes.
		assert_detected(|| Nodes::<Test>::mutate_extant(&ALICE, |node| node.pending_slashes = 0));
		assert_detected(|| PendingSlashCount::<Test>::put(2u32));
		assert_detected(|| DueSlashes::<Test>::remove(2u32, 0u32));
		assert_detected(|| DueSlashes::<Test>::insert(3u32, 0u32, ()));
		assert_detected(|| DueSlashes::<Test>::insert(4u32, 7u32, ()));
		assert_detected(|| DueCursor::<Test>::put(3u32));
		assert_detected(|| DueCursor::<Test>::put(CurrentEpoch::<Test>::get() + 2));
		assert_detected(|| NodeSlashes::<Test>::remove(ALICE, SlashReason::RepeatedMisses));
		assert_detected(|| NodeSlashes::<Test>::insert(ALICE, SlashReason::WrongAnswer, 0u32));
		assert_detected(|| NodeSlashes::<Test>::insert(BOB, SlashReason::RepeatedMisses, 0u32));
		assert_detected(|| {
			PendingSlashes::<Test>::mutate(0u32, |slash| {
				if let Some(slash) = slash {
					slash.node = BOB;
				}
			})
		});
		assert_detected(|| {
			PendingSlashes::<Test>::insert(
				9u32,
				PendingSlash {
					node: ALICE,
					fraction: Perbill::one(),
					reason: SlashReason::WrongAnswer,
					apply_at: 5,
				},
			)
		});
		// 7. The provider index (Alice, active, offers GPU inference and storage).
		assert_detected(|| Providers::<Test>::remove(ServiceKind::Storage));
		assert_detected(|| {
			Providers::<Test>::mutate(ServiceKind::GpuInference, |providers| {
				providers.try_push(ALICE).unwrap()
			})
		});
		assert_detected(|| {
			Providers::<Test>::insert(ServiceKind::Naming, provider_list(vec![ALICE]))
		});
		assert_detected(|| Providers::<Test>::insert(ServiceKind::Other, provider_list(vec![BOB])));
		assert_detected(|| {
			Providers::<Test>::insert(ServiceKind::Storage, provider_list(vec![ALICE, CHARLIE]))
		});
	});
}

/// A small deterministic generator (xorshift64*), so the run is reproducible without a new
/// dependency.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	fn below(&mut self, bound: u64) -> u64 {
		self.next() % bound
	}
}

#[test]
fn a_random_run_keeps_the_invariants_and_never_strands_funds() {
	ExtBuilder::default().build_and_execute(|| {
		let operators: Vec<AccountId> = (0..8).map(filler).collect();
		let starts: Vec<u64> = operators.iter().map(free).collect();
		let treasury = free(&TREASURY);
		let issued = issuance();
		let mut slashed = 0u64;
		let mut epoch = 0u32;
		let mut rng = Rng(0x005e_ed0f_d59c);

		for step in 0..600u64 {
			run_to_block(2 + step);
			let index = rng.below(operators.len() as u64) as usize;
			let who = operators[index].clone();
			let origin = RuntimeOrigin::signed(who.clone());
			let amount = 1 + rng.below(2_000);
			// Errors are expected (wrong state, bounds): only the invariants matter here.
			let _ = match rng.below(11) {
				0 | 1 => {
					let role =
						if rng.below(2) == 0 { NodeRole::Service } else { NodeRole::Validator };
					let declaration = if role == NodeRole::Service {
						small_declaration(1 + rng.below(200) as u32)
					} else {
						validator_declaration()
					};
					let bond = Registry::minimum_bond(&declaration) + rng.below(3_000);
					Registry::register(
						origin,
						role,
						declaration,
						key(index as u8),
						proof(&key(index as u8), &who),
						bond,
					)
				},
				2 => Registry::update_declaration(
					origin,
					small_declaration(1 + rng.below(300) as u32),
				),
				3 => Registry::bond_extra(origin, amount),
				4 => Registry::unbond(origin, amount),
				5 => Registry::withdraw_unbonded(origin),
				6 => Registry::exit(origin),
				7 => {
					let status = [NodeStatus::Pending, NodeStatus::Active, NodeStatus::Suspended]
						[rng.below(3) as usize];
					<Registry as NodeRegistry<AccountId, u64>>::set_status(&who, status)
				},
				8 => {
					let fraction = Perbill::from_percent(rng.below(30) as u32);
					let apply_at = epoch + rng.below(3) as u32;
					let reason = [
						SlashReason::RepeatedMisses,
						SlashReason::WrongAnswer,
						SlashReason::AbsentVerifier,
						SlashReason::WrongResult,
					][rng.below(4) as usize];
					<Registry as NodeRegistry<AccountId, u64>>::schedule_slash(
						&who, fraction, reason, apply_at,
					)
					.map(|_| ())
				},
				9 => {
					let id = NextSlashId::<Test>::get().saturating_sub(1 + rng.below(3) as u32);
					Registry::cancel_slash(RuntimeOrigin::signed(APPEALS), id)
				},
				_ => {
					epoch += 1;
					start_epoch(epoch);
					Ok(())
				},
			};
			slashed += registry_events()
				.iter()
				.map(|event| match event {
					Event::Slashed { amount, .. } => *amount,
					_ => 0,
				})
				.sum::<u64>();
			clear_events();
			Registry::do_try_state().expect("the invariants hold after every step");
		}

		// Wind down: cancel nothing, apply every pending slash (at most `MAX_SLASHES_PER_EPOCH`
		// per epoch start, so it may take more epochs than the latest is due at), and let
		// everyone exit.
		for _ in 0..100 {
			if PendingSlashCount::<Test>::get() == 0 {
				break;
			}
			epoch += 1;
			start_epoch(epoch);
			Registry::do_try_state().expect("the invariants hold while slashes drain");
		}
		for who in &operators {
			let _ = Registry::exit(RuntimeOrigin::signed(who.clone()));
		}
		run_to_block(10_000);
		for who in &operators {
			if Nodes::<Test>::contains_key(who) {
				assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(who.clone())));
			}
		}
		slashed += registry_events()
			.iter()
			.map(|event| match event {
				Event::Slashed { amount, .. } => *amount,
				_ => 0,
			})
			.sum::<u64>();

		assert_eq!(Nodes::<Test>::iter().count(), 0);
		assert!(ServiceNodes::<Test>::get().is_empty());
		assert!(ValidatorNodes::<Test>::get().is_empty());
		assert_eq!(PendingSlashCount::<Test>::get(), 0);
		let lost: u64 = operators
			.iter()
			.zip(&starts)
			.map(|(who, start)| {
				assert_eq!(held(who), 0);
				start - free(who)
			})
			.sum();
		assert_eq!(lost, slashed);
		assert_eq!(free(&TREASURY), treasury + slashed);
		assert_eq!(issuance(), issued);
	});
}
