//! Commitment deposits: held on commit, released on reveal, on the committer's next commit once
//! expired, and by anyone through `remove_expired_commitments`; the farm-of-accounts attack.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::Mutate};
use sp_core::H256;
use sp_runtime::{DispatchResult, TokenError};

fn commit(who: &AccountId, label: &str) -> DispatchResult {
	let commitment = Naming::commitment_of(label.as_bytes(), who, &SECRET);
	Naming::commit(RuntimeOrigin::signed(who.clone()), commitment)
}

fn reveal(who: &AccountId, label: &str) -> DispatchResult {
	Naming::register(
		RuntimeOrigin::signed(who.clone()),
		label.as_bytes().to_vec(),
		who.clone(),
		SECRET,
		1,
	)
}

fn remove_expired(caller: &AccountId, who: &AccountId) -> DispatchResult {
	Naming::remove_expired_commitments(RuntimeOrigin::signed(caller.clone()), who.clone())
}

/// The commitment `who` makes for `label`, committed at `at` with `deposit`.
fn stored(who: &AccountId, label: &str, at: u64, deposit: Balance) -> CommitmentOf<Test> {
	Commitment { hash: Naming::commitment_of(label.as_bytes(), who, &SECRET), at, deposit }
}

/// A new account with `balance`.
fn account_with(seed: u8, balance: Balance) -> AccountId {
	let who = AccountId::new([seed; 32]);
	assert_ok!(<Balances as Mutate<AccountId>>::mint_into(&who, balance));
	who
}

#[test]
fn a_commitment_holds_its_deposit_until_the_reveal() {
	ExtBuilder::build_and_execute(|| {
		assert_ok!(commit(&ALICE, "alice"));
		assert_ok!(commit(&ALICE, "other"));
		assert_eq!(committed(&ALICE), 2 * COMMITMENT_DEPOSIT);
		assert_eq!(free(&ALICE), RICH - 2 * COMMITMENT_DEPOSIT);
		assert_eq!(
			Commitments::<Test>::get(&ALICE).into_inner(),
			vec![
				stored(&ALICE, "alice", 1, COMMITMENT_DEPOSIT),
				stored(&ALICE, "other", 1, COMMITMENT_DEPOSIT)
			]
		);
		assert_eq!(
			last_event(),
			Event::Committed {
				who: ALICE,
				commitment: Naming::commitment_of(b"other", &ALICE, &SECRET),
				deposit: COMMITMENT_DEPOSIT,
			}
		);
		// The reveal releases the deposit of the commitment it uses, and only that one.
		run_to_block(3);
		assert_ok!(reveal(&ALICE, "alice"));
		assert_eq!(committed(&ALICE), COMMITMENT_DEPOSIT);
		assert_eq!(free(&ALICE), RICH - 100 - COMMITMENT_DEPOSIT);
		assert_eq!(
			Commitments::<Test>::get(&ALICE).into_inner(),
			vec![stored(&ALICE, "other", 1, COMMITMENT_DEPOSIT)]
		);
		// The deposit is locked, not paid: nothing of it was burned or sent to the treasury.
		assert_eq!(free(&TREASURY), ED + 90);
	});
}

#[test]
fn a_commit_without_the_deposit_is_refused_and_changes_nothing() {
	ExtBuilder::build_and_execute(|| {
		// The existential deposit stays: one planck short of the deposit.
		let short = account_with(60, ED + COMMITMENT_DEPOSIT - 1);
		assert_noop!(commit(&short, "short"), TokenError::FundsUnavailable);
		assert!(!Commitments::<Test>::contains_key(&short));
		// With the deposit on top of the existential deposit, it goes through.
		let enough = account_with(61, ED + COMMITMENT_DEPOSIT);
		assert_ok!(commit(&enough, "enough"));
		assert_eq!(committed(&enough), COMMITMENT_DEPOSIT);
		assert_eq!(free(&enough), ED);
		// Refused for the bound or a duplicate: nothing held either.
		assert_noop!(commit(&enough, "enough"), Error::<Test>::DuplicateCommitment);
		assert_ok!(commit(&ALICE, "one"));
		assert_ok!(commit(&ALICE, "two"));
		assert_noop!(commit(&ALICE, "three"), Error::<Test>::TooManyCommitments);
		assert_eq!(committed(&ALICE), 2 * COMMITMENT_DEPOSIT);
		assert_deposits_recorded(&short);
		assert_deposits_recorded(&enough);
	});
}

#[test]
fn expired_deposits_come_back_on_the_next_commit_and_pay_for_it() {
	ExtBuilder::build_and_execute(|| {
		// An account that can hold two deposits and no more.
		let who = account_with(62, ED + 2 * COMMITMENT_DEPOSIT);
		assert_ok!(commit(&who, "one"));
		run_to_block(5);
		assert_ok!(commit(&who, "two"));
		assert_eq!(free(&who), ED);
		// At block 12 the first (block 1) is expired, the second (block 5) is not.
		run_to_block(12);
		assert_ok!(commit(&who, "three"));
		let events = naming_events();
		assert_eq!(
			events[events.len() - 2..],
			[
				Event::CommitmentsExpired {
					who: who.clone(),
					count: 1,
					released: COMMITMENT_DEPOSIT
				},
				Event::Committed {
					who: who.clone(),
					commitment: Naming::commitment_of(b"three", &who, &SECRET),
					deposit: COMMITMENT_DEPOSIT,
				},
			]
		);
		assert_eq!(
			Commitments::<Test>::get(&who).into_inner(),
			vec![
				stored(&who, "two", 5, COMMITMENT_DEPOSIT),
				stored(&who, "three", 12, COMMITMENT_DEPOSIT)
			]
		);
		// The released deposit paid for the new one.
		assert_eq!(committed(&who), 2 * COMMITMENT_DEPOSIT);
		assert_eq!(free(&who), ED);
		assert_deposits_recorded(&who);
	});
}

#[test]
fn anyone_removes_expired_commitments_and_the_committer_gets_the_deposits() {
	ExtBuilder::build_and_execute(|| {
		assert_ok!(commit(&ALICE, "one"));
		assert_ok!(commit(&ALICE, "two"));
		let bob = free(&BOB);
		// Nothing expired yet (at block 11 the age is 10, `max_commitment_age`: still usable).
		assert_noop!(remove_expired(&BOB, &ALICE), Error::<Test>::NoExpiredCommitments);
		run_to_block(11);
		assert_noop!(remove_expired(&BOB, &ALICE), Error::<Test>::NoExpiredCommitments);
		// No commitments at all.
		assert_noop!(remove_expired(&BOB, &CHARLIE), Error::<Test>::NoExpiredCommitments);
		run_to_block(12);
		assert_ok!(remove_expired(&BOB, &ALICE));
		assert_eq!(
			last_event(),
			Event::CommitmentsExpired { who: ALICE, count: 2, released: 2 * COMMITMENT_DEPOSIT }
		);
		// The state shrank; the deposits went to Alice, none to Bob.
		assert!(!Commitments::<Test>::contains_key(&ALICE));
		assert_eq!(committed(&ALICE), 0);
		assert_eq!(free(&ALICE), RICH);
		assert_eq!(free(&BOB), bob);
		assert_noop!(remove_expired(&BOB, &ALICE), Error::<Test>::NoExpiredCommitments);
	});
}

#[test]
fn only_the_expired_commitments_are_removed() {
	ExtBuilder::build_and_execute(|| {
		assert_ok!(commit(&ALICE, "old"));
		run_to_block(6);
		assert_ok!(commit(&ALICE, "new"));
		run_to_block(12);
		// The committer may remove its own too.
		assert_ok!(remove_expired(&ALICE, &ALICE));
		assert_eq!(
			last_event(),
			Event::CommitmentsExpired { who: ALICE, count: 1, released: COMMITMENT_DEPOSIT }
		);
		assert_eq!(
			Commitments::<Test>::get(&ALICE).into_inner(),
			vec![stored(&ALICE, "new", 6, COMMITMENT_DEPOSIT)]
		);
		assert_eq!(committed(&ALICE), COMMITMENT_DEPOSIT);
		// The one left is still revealed, and its deposit comes back then.
		assert_ok!(reveal(&ALICE, "new"));
		assert_eq!(committed(&ALICE), 0);
		assert!(!Commitments::<Test>::contains_key(&ALICE));
	});
}

#[test]
fn each_commitment_returns_what_was_held_for_it_after_a_parameter_change() {
	ExtBuilder::build_and_execute(|| {
		assert_ok!(commit(&ALICE, "alice"));
		let mut params = Params::<Test>::get();
		params.commitment_deposit = 3 * COMMITMENT_DEPOSIT;
		assert_ok!(Naming::set_parameters(RuntimeOrigin::root(), params));
		assert_ok!(commit(&ALICE, "later"));
		assert_eq!(committed(&ALICE), 4 * COMMITMENT_DEPOSIT);
		// The reveal of the first returns the old deposit, not the new one.
		run_to_block(3);
		assert_ok!(reveal(&ALICE, "alice"));
		assert_eq!(committed(&ALICE), 3 * COMMITMENT_DEPOSIT);
		// A lower deposit now: the expired second still returns all that was held for it.
		params.commitment_deposit = 1;
		assert_ok!(Naming::set_parameters(RuntimeOrigin::root(), params));
		run_to_block(12);
		assert_ok!(remove_expired(&CHARLIE, &ALICE));
		assert_eq!(
			last_event(),
			Event::CommitmentsExpired { who: ALICE, count: 1, released: 3 * COMMITMENT_DEPOSIT }
		);
		assert_eq!(committed(&ALICE), 0);
		assert_eq!(free(&ALICE), RICH - 100);
	});
}

#[test]
fn a_farm_of_accounts_that_never_reveal_pays_deposits_that_come_back_when_the_state_shrinks() {
	ExtBuilder::build_and_execute(|| {
		const FARM: u8 = 30;
		const FUNDS: Balance = 1_000;
		let issuance = Balances::total_issuance();
		let farm: Vec<AccountId> = (0..FARM).map(|i| account_with(150 + i, FUNDS)).collect();
		let minted = Balances::total_issuance() - issuance;
		// Each commits as much as it may and never reveals: every commitment holds a deposit.
		for who in &farm {
			for byte in 0..2u8 {
				let commitment = H256::repeat_byte(byte);
				assert_ok!(Naming::commit(RuntimeOrigin::signed(who.clone()), commitment));
			}
			assert_noop!(
				Naming::commit(RuntimeOrigin::signed(who.clone()), H256::repeat_byte(0xee)),
				Error::<Test>::TooManyCommitments
			);
			assert_eq!(committed(who), 2 * COMMITMENT_DEPOSIT);
			assert_eq!(free(who), FUNDS - 2 * COMMITMENT_DEPOSIT);
		}
		assert_eq!(Commitments::<Test>::iter_keys().count(), usize::from(FARM));
		Naming::do_try_state().expect("every commitment is backed by its deposit");
		// Before expiry nobody can remove them.
		assert_noop!(remove_expired(&CHARLIE, &farm[0]), Error::<Test>::NoExpiredCommitments);

		// After expiry anyone removes them: the state is back to empty, every deposit back.
		run_to_block(12);
		for who in &farm {
			assert_ok!(remove_expired(&CHARLIE, who));
			assert_eq!(
				last_event(),
				Event::CommitmentsExpired {
					who: who.clone(),
					count: 2,
					released: 2 * COMMITMENT_DEPOSIT,
				}
			);
			assert_eq!(committed(who), 0);
			assert_eq!(free(who), FUNDS);
			assert_deposits_recorded(who);
		}
		assert_eq!(Commitments::<Test>::iter_keys().count(), 0);
		// Nothing was burned or paid: the deposits were only locked.
		assert_eq!(Balances::total_issuance(), issuance + minted);
		assert_eq!(free(&CHARLIE), RICH);
	});
}

#[test]
fn the_deposit_is_the_callers_to_get_back_whoever_registers() {
	ExtBuilder::build_and_execute(|| {
		// Alice commits for Bob as owner: the deposit is Alice's, and comes back to her.
		let commitment = Naming::commitment_of(b"gifts", &BOB, &SECRET);
		assert_ok!(Naming::commit(RuntimeOrigin::signed(ALICE), commitment));
		run_to_block(3);
		assert_ok!(Naming::register(
			RuntimeOrigin::signed(ALICE),
			b"gifts".to_vec(),
			BOB,
			SECRET,
			1
		));
		assert_eq!(committed(&ALICE), 0);
		assert_eq!(free(&ALICE), RICH - 100);
		assert_eq!(committed(&BOB), 0);
		assert_eq!(free(&BOB), RICH);
	});
}
