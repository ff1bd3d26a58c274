//! Commit-reveal timing, rent and premium, renewal, transfer, release, removal of expired
//! registrations.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchResult;
use sp_runtime::{DispatchError, TokenError};

fn commit(who: &AccountId, label: &str, owner: &AccountId) {
	let commitment = Naming::commitment_of(label.as_bytes(), owner, &SECRET);
	assert_ok!(Naming::commit(RuntimeOrigin::signed(who.clone()), commitment));
}

fn reveal(who: &AccountId, label: &str, owner: &AccountId, years: u32) -> DispatchResult {
	Naming::register(
		RuntimeOrigin::signed(who.clone()),
		label.as_bytes().to_vec(),
		owner.clone(),
		SECRET,
		years,
	)
}

#[test]
fn register_charges_the_rent_and_emits() {
	ExtBuilder::build_and_execute(|| {
		let issuance = Balances::total_issuance();
		commit(&ALICE, "alice", &BOB);
		assert_eq!(
			last_event(),
			Event::Committed {
				who: ALICE,
				commitment: Naming::commitment_of(b"alice", &BOB, &SECRET),
				deposit: COMMITMENT_DEPOSIT,
			}
		);
		// The commitment's deposit is held until the reveal.
		assert_eq!(committed(&ALICE), COMMITMENT_DEPOSIT);
		assert_eq!(free(&ALICE), RICH - COMMITMENT_DEPOSIT);
		run_to_block(3);
		assert_ok!(reveal(&ALICE, "alice", &BOB, 2));
		// Rent of a 5-letter label for 2 years, paid by the committer, burned 10 %; the
		// deposit is back.
		assert_eq!(committed(&ALICE), 0);
		assert_eq!(free(&ALICE), RICH - 200);
		assert_eq!(free(&TREASURY), ED + 180);
		assert_eq!(Balances::total_issuance(), issuance - 20);
		let info = Names::<Test>::get(id("alice.dsync")).unwrap();
		assert_eq!(info.owner, BOB);
		assert_eq!(info.expires, Some(3 + 2 * YEAR));
		assert_eq!(info.depth, 1);
		assert_eq!(Generations::<Test>::get(id("alice.dsync")), 1);
		// The used commitment is gone, and with the last one the account's entry.
		assert!(!Commitments::<Test>::contains_key(&ALICE));
		assert_eq!(
			last_event(),
			Event::NameRegistered {
				name: id("alice.dsync"),
				label: Naming::checked_label(b"alice").unwrap(),
				owner: BOB,
				expires: 3 + 2 * YEAR,
				cost: 200,
			}
		);
	});
}

#[test]
fn rent_depends_on_the_label_length() {
	ExtBuilder::build_and_execute(|| {
		for (label, rent) in [
			("a", 5_000),
			("ab", 2_000),
			("abc", 500),
			("abcd", 200),
			("abcde", 100),
			("abcdefghij", 100),
		] {
			let before = free(&ALICE);
			register(&ALICE, label, &ALICE, 1);
			assert_eq!(before - free(&ALICE), rent, "{label}");
			assert_eq!(Naming::rent(label.as_bytes(), 3), Some(3 * rent));
		}
	});
}

#[test]
fn the_commitment_must_be_old_enough_and_not_too_old() {
	ExtBuilder::build_and_execute(|| {
		commit(&ALICE, "alice", &ALICE);
		// Committed at block 1: usable at blocks 3 to 11.
		run_to_block(2);
		assert_noop!(reveal(&ALICE, "alice", &ALICE, 1), Error::<Test>::CommitmentTooNew);
		run_to_block(12);
		assert_noop!(reveal(&ALICE, "alice", &ALICE, 1), Error::<Test>::CommitmentTooOld);
		// At the edges.
		commit(&BOB, "bobby", &BOB);
		run_to_block(14);
		assert_ok!(reveal(&BOB, "bobby", &BOB, 1));
		commit(&BOB, "carol", &BOB);
		run_to_block(24);
		assert_ok!(reveal(&BOB, "carol", &BOB, 1));
	});
}

#[test]
fn the_reveal_must_match_the_commitment_and_the_committer() {
	ExtBuilder::build_and_execute(|| {
		commit(&ALICE, "alice", &ALICE);
		run_to_block(3);
		// Another label, owner, secret or caller: no commitment.
		assert_noop!(reveal(&ALICE, "alicf", &ALICE, 1), Error::<Test>::NoCommitment);
		assert_noop!(reveal(&ALICE, "alice", &BOB, 1), Error::<Test>::NoCommitment);
		assert_noop!(
			Naming::register(RuntimeOrigin::signed(ALICE), b"alice".to_vec(), ALICE, [8; 32], 1),
			Error::<Test>::NoCommitment
		);
		// A front-runner who saw the reveal cannot use it: the commitment is Alice's.
		assert_noop!(reveal(&BOB, "alice", &ALICE, 1), Error::<Test>::NoCommitment);
		assert_ok!(reveal(&ALICE, "alice", &ALICE, 1));
		// A commitment is used once.
		assert_noop!(reveal(&ALICE, "alice", &ALICE, 1), Error::<Test>::NoCommitment);
	});
}

#[test]
fn commitments_are_bounded_and_expire() {
	ExtBuilder::build_and_execute(|| {
		commit(&ALICE, "one", &ALICE);
		let again = Naming::commitment_of(b"one", &ALICE, &SECRET);
		assert_noop!(
			Naming::commit(RuntimeOrigin::signed(ALICE), again),
			Error::<Test>::DuplicateCommitment
		);
		commit(&ALICE, "two", &ALICE);
		let third = Naming::commitment_of(b"three", &ALICE, &SECRET);
		assert_noop!(
			Naming::commit(RuntimeOrigin::signed(ALICE), third),
			Error::<Test>::TooManyCommitments
		);
		assert_eq!(committed(&ALICE), 2 * COMMITMENT_DEPOSIT);
		// Once the first two are too old, they make room and their deposits come back.
		run_to_block(12);
		assert_ok!(Naming::commit(RuntimeOrigin::signed(ALICE), third));
		assert_eq!(Commitments::<Test>::get(&ALICE).len(), 1);
		assert_eq!(committed(&ALICE), COMMITMENT_DEPOSIT);
		assert!(naming_events().contains(&Event::CommitmentsExpired {
			who: ALICE,
			count: 2,
			released: 2 * COMMITMENT_DEPOSIT,
		}));
	});
}

#[test]
fn bad_registrations_change_nothing() {
	ExtBuilder::build_and_execute(|| {
		// Service labels (`_dmarc`) name subnames only.
		for label in ["Alice", "-a", "a-", "a.b", "", "ab--c", "bücher", "_dmarc"] {
			assert_noop!(reveal(&ALICE, label, &ALICE, 1), Error::<Test>::InvalidLabel);
		}
		let long = "a".repeat(64);
		assert_noop!(reveal(&ALICE, &long, &ALICE, 1), Error::<Test>::InvalidLabel);
		assert_noop!(reveal(&ALICE, "ns1", &ALICE, 1), Error::<Test>::Reserved);
		assert_noop!(reveal(&ALICE, "alice", &ALICE, 0), Error::<Test>::InvalidYears);
		assert_noop!(reveal(&ALICE, "alice", &ALICE, 6), Error::<Test>::InvalidYears);
		// Cannot pay: nothing changes, the commitment and its deposit stay.
		commit(&POOR, "p", &POOR);
		run_to_block(3);
		assert_noop!(reveal(&POOR, "p", &POOR, 1), TokenError::FundsUnavailable);
		assert_eq!(Commitments::<Test>::get(&POOR).len(), 1);
		assert_eq!(committed(&POOR), COMMITMENT_DEPOSIT);
		// Taken.
		register(&ALICE, "alice", &ALICE, 1);
		commit(&BOB, "alice", &BOB);
		run_to_block(System::block_number() + 2);
		assert_noop!(reveal(&BOB, "alice", &BOB, 1), Error::<Test>::NotAvailable);
	});
}

#[test]
fn an_expired_name_is_the_owners_in_grace_then_anyones_with_a_decaying_premium() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let name = id("alice.dsync");
		let expires = 3 + YEAR;
		// In grace: Bob cannot register it.
		run_to_block(expires + GRACE - 3);
		commit(&BOB, "alice", &BOB);
		run_to_block(expires + GRACE);
		assert_noop!(reveal(&BOB, "alice", &BOB, 1), Error::<Test>::NotAvailable);
		assert_eq!(Naming::price(b"alice", 1), None);
		// The first block after grace: the full premium on top of the rent.
		run_to_block(expires + GRACE + 1);
		assert_eq!(Naming::premium(expires + GRACE, expires + GRACE + 1), PREMIUM * 9 / 10);
		assert_eq!(Naming::price(b"alice", 1), Some(100 + PREMIUM * 9 / 10));
		let before = free(&BOB);
		Records::<Test>::insert(
			name,
			RecordsOf::<Test>::truncate_from(vec![Record {
				kind: RecordKind::A,
				value: RecordValue::<Test>::truncate_from(vec![1, 2, 3, 4]),
			}]),
		);
		assert_ok!(reveal(&BOB, "alice", &BOB, 1));
		// Rent and premium paid; the commitment's deposit (held before `before`) is back.
		assert_eq!(before - free(&BOB), 100 + 900 - COMMITMENT_DEPOSIT);
		assert_eq!(Names::<Test>::get(name).unwrap().owner, BOB);
		assert_eq!(Generations::<Test>::get(name), 2);
		// The old records are gone with the old registration.
		assert!(Records::<Test>::get(name).is_empty());
		assert!(naming_events().contains(&Event::NameRemoved { name, owner: ALICE }));
	});
}

#[test]
fn the_premium_decays_linearly_to_zero() {
	ExtBuilder::build_and_execute(|| {
		assert_eq!(Naming::premium(100, 100), PREMIUM);
		assert_eq!(Naming::premium(100, 105), PREMIUM / 2);
		assert_eq!(Naming::premium(100, 109), PREMIUM / 10);
		assert_eq!(Naming::premium(100, 110), 0);
		assert_eq!(Naming::premium(100, u64::MAX), 0);
		// Before the grace end (not reachable through register): the full premium.
		assert_eq!(Naming::premium(100, 50), PREMIUM);
	});
}

#[test]
fn anyone_renews_a_live_name_and_only_the_owner_in_grace() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let name = id("alice.dsync");
		let expires = 3 + YEAR;
		// Bob gives Alice a year.
		let before = free(&BOB);
		assert_ok!(Naming::renew(RuntimeOrigin::signed(BOB), name, 1));
		assert_eq!(before - free(&BOB), 100);
		assert_eq!(Names::<Test>::get(name).unwrap().expires, Some(expires + YEAR));
		assert_eq!(
			last_event(),
			Event::NameRenewed { name, payer: BOB, expires: expires + YEAR, cost: 100 }
		);
		// In grace, only Alice.
		run_to_block(expires + YEAR + 1);
		assert_noop!(
			Naming::renew(RuntimeOrigin::signed(BOB), name, 1),
			Error::<Test>::GracePeriodOwnerOnly
		);
		assert_ok!(Naming::renew(RuntimeOrigin::signed(ALICE), name, 1));
		// Past grace: register anew.
		run_to_block(expires + 3 * YEAR + GRACE + 1);
		assert_noop!(
			Naming::renew(RuntimeOrigin::signed(ALICE), name, 1),
			Error::<Test>::PastGracePeriod
		);
	});
}

#[test]
fn renewal_is_bounded_and_checked() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 4);
		let name = id("alice.dsync");
		// 4 + 1 years ahead is the limit; 4 + 2 is not.
		assert_noop!(
			Naming::renew(RuntimeOrigin::signed(ALICE), name, 2),
			Error::<Test>::InvalidYears
		);
		assert_noop!(
			Naming::renew(RuntimeOrigin::signed(ALICE), name, 0),
			Error::<Test>::InvalidYears
		);
		assert_ok!(Naming::renew(RuntimeOrigin::signed(ALICE), name, 1));
		assert_noop!(
			Naming::renew(RuntimeOrigin::signed(ALICE), id("nobody.dsync"), 1),
			Error::<Test>::UnknownName
		);
		assert_noop!(
			Naming::renew(RuntimeOrigin::signed(POOR), name, 1),
			Error::<Test>::InvalidYears
		);
		assert_ok!(Naming::set_subname(RuntimeOrigin::signed(ALICE), name, b"www".to_vec(), ALICE));
		assert_noop!(
			Naming::renew(RuntimeOrigin::signed(ALICE), id("www.alice.dsync"), 1),
			Error::<Test>::NotSubname
		);
	});
}

#[test]
fn a_poor_renewer_changes_nothing() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "a", &ALICE, 1);
		let name = id("a.dsync");
		assert_noop!(
			Naming::renew(RuntimeOrigin::signed(POOR), name, 1),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn transfer_and_release() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let name = id("alice.dsync");
		assert_noop!(
			Naming::transfer(RuntimeOrigin::signed(BOB), name, BOB),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Naming::transfer(RuntimeOrigin::signed(ALICE), id("x.dsync"), BOB),
			Error::<Test>::UnknownName
		);
		assert_ok!(Naming::transfer(RuntimeOrigin::signed(ALICE), name, BOB));
		assert_eq!(last_event(), Event::NameTransferred { name, from: ALICE, to: BOB });
		assert_eq!(Names::<Test>::get(name).unwrap().owner, BOB);
		// An expired name cannot be transferred.
		run_to_block(3 + YEAR + 1);
		assert_noop!(
			Naming::transfer(RuntimeOrigin::signed(BOB), name, ALICE),
			Error::<Test>::NameNotLive
		);
		// Release: only the owner; the name is available at once, without premium.
		assert_noop!(Naming::release(RuntimeOrigin::signed(ALICE), name), Error::<Test>::NotOwner);
		assert_noop!(
			Naming::release(RuntimeOrigin::signed(ALICE), id("x.dsync")),
			Error::<Test>::UnknownName
		);
		assert_ok!(Naming::release(RuntimeOrigin::signed(BOB), name));
		assert_eq!(last_event(), Event::NameRemoved { name, owner: BOB });
		assert_eq!(Naming::price(b"alice", 1), Some(100));
		register(&CHARLIE, "alice", &CHARLIE, 1);
		assert_eq!(Names::<Test>::get(name).unwrap().owner, CHARLIE);
	});
}

#[test]
fn expired_registrations_are_removable_after_the_premium_period() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let name = id("alice.dsync");
		let last = 3 + YEAR + GRACE + PREMIUM_PERIOD;
		assert_noop!(
			Naming::remove_stale(RuntimeOrigin::signed(BOB), name),
			Error::<Test>::StillLive
		);
		run_to_block(last);
		assert_noop!(
			Naming::remove_stale(RuntimeOrigin::signed(BOB), name),
			Error::<Test>::StillLive
		);
		run_to_block(last + 1);
		assert_ok!(Naming::remove_stale(RuntimeOrigin::signed(BOB), name));
		assert!(Names::<Test>::get(name).is_none());
		assert_noop!(
			Naming::remove_stale(RuntimeOrigin::signed(BOB), name),
			Error::<Test>::UnknownName
		);
	});
}

#[test]
fn unsigned_calls_are_refused() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(
			Naming::commit(RuntimeOrigin::none(), Default::default()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Naming::remove_stale(RuntimeOrigin::none(), Default::default()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Naming::remove_expired_commitments(RuntimeOrigin::none(), ALICE),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn the_missing_commitment_error_uses_the_commit_reveal_vocabulary() {
	use dsync_primitives::commit_reveal::CommitRevealError;
	assert_eq!(
		<&'static str>::from(Error::<Test>::NoCommitment),
		CommitRevealError::NoCommitment.as_str()
	);
}
