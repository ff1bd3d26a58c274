//! Subnames: deposit, depth, revocation, giving up control, staleness and its clean-up.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchResult;
use sp_runtime::TokenError;

fn sub(who: &AccountId, parent: &str, label: &str, owner: &AccountId) -> DispatchResult {
	Naming::set_subname(
		RuntimeOrigin::signed(who.clone()),
		id(parent),
		label.as_bytes().to_vec(),
		owner.clone(),
	)
}

#[test]
fn the_owner_creates_subnames_for_a_deposit() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let before = free(&ALICE);
		assert_ok!(sub(&ALICE, "alice.dsync", "www", &BOB));
		assert_eq!(before - free(&ALICE), SUBNAME_DEPOSIT);
		assert_eq!(held(&ALICE), SUBNAME_DEPOSIT);
		let name = id("www.alice.dsync");
		assert_eq!(
			last_event(),
			Event::SubnameCreated {
				name,
				parent: id("alice.dsync"),
				label: Naming::checked_label(b"www").unwrap(),
				owner: BOB,
				deposit: SUBNAME_DEPOSIT,
			}
		);
		let info = Names::<Test>::get(name).unwrap();
		assert_eq!((info.owner, info.depth, info.expires), (BOB, 2, None));
		assert!(Naming::live_name(b"www.alice.dsync").is_some());
		// Bob owns it: he sets its records and makes sub-subnames.
		assert_ok!(sub(&BOB, "www.alice.dsync", "api", &BOB));
		assert_eq!(held(&BOB), SUBNAME_DEPOSIT);
	});
}

#[test]
fn service_labels_name_subnames() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		// SRV under `_sip._tcp`, DMARC, ACME and DKIM TXT names.
		assert_ok!(sub(&ALICE, "alice.dsync", "_tcp", &ALICE));
		assert_ok!(sub(&ALICE, "_tcp.alice.dsync", "_sip", &ALICE));
		assert_ok!(sub(&ALICE, "alice.dsync", "_dmarc", &ALICE));
		assert_ok!(sub(&ALICE, "alice.dsync", "_acme-challenge", &ALICE));
		assert_ok!(sub(&ALICE, "alice.dsync", "_domainkey", &ALICE));
		assert_ok!(sub(&ALICE, "_domainkey.alice.dsync", "selector1", &ALICE));
		assert_eq!(
			last_event(),
			Event::SubnameCreated {
				name: id("selector1._domainkey.alice.dsync"),
				parent: id("_domainkey.alice.dsync"),
				label: Naming::checked_label(b"selector1").unwrap(),
				owner: ALICE,
				deposit: SUBNAME_DEPOSIT,
			}
		);
		assert!(Naming::live_name(b"_sip._tcp.alice.dsync").is_some());
		assert!(Naming::live_name(b"selector1._domainkey.alice.dsync").is_some());
		for bad in ["_", "__a", "_-a", "_a-", "_A", "a_", "_a_b"] {
			assert_noop!(sub(&ALICE, "alice.dsync", bad, &ALICE), Error::<Test>::InvalidLabel);
		}
	});
}

#[test]
fn subname_errors_change_nothing() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		assert_noop!(sub(&BOB, "alice.dsync", "www", &BOB), Error::<Test>::NotOwner);
		assert_noop!(sub(&ALICE, "nobody.dsync", "www", &BOB), Error::<Test>::UnknownName);
		assert_noop!(sub(&ALICE, "alice.dsync", "W W", &BOB), Error::<Test>::InvalidLabel);
		assert_ok!(sub(&ALICE, "alice.dsync", "www", &ALICE));
		assert_noop!(sub(&ALICE, "alice.dsync", "www", &BOB), Error::<Test>::SubnameExists);
		// MaxDepth is 4 in the tests.
		assert_ok!(sub(&ALICE, "www.alice.dsync", "a", &ALICE));
		assert_ok!(sub(&ALICE, "a.www.alice.dsync", "b", &ALICE));
		assert_noop!(sub(&ALICE, "b.a.www.alice.dsync", "c", &ALICE), Error::<Test>::TooDeep);
		// 253 bytes at most: `z{63}.y{63}.x{63}.dsync` is 197 bytes; one more 63-byte label
		// makes 261, a 55-byte one 253.
		let (x, y, z) = ("x".repeat(63), "y".repeat(63), "z".repeat(63));
		register(&ALICE, &x, &ALICE, 1);
		assert_ok!(sub(&ALICE, &format!("{x}.dsync"), &y, &ALICE));
		assert_ok!(sub(&ALICE, &format!("{y}.{x}.dsync"), &z, &ALICE));
		let zname = format!("{z}.{y}.{x}.dsync");
		assert_noop!(sub(&ALICE, &zname, &"w".repeat(63), &ALICE), Error::<Test>::NameTooLong);
		assert_noop!(sub(&ALICE, &zname, &"w".repeat(56), &ALICE), Error::<Test>::NameTooLong);
		assert_ok!(sub(&ALICE, &zname, &"w".repeat(55), &ALICE));
		// A parent that cannot pay the deposit.
		register(&ALICE, "poor", &POOR, 1);
		<Balances as frame_support::traits::fungible::Mutate<AccountId>>::set_balance(
			&POOR,
			SUBNAME_DEPOSIT,
		);
		assert_noop!(sub(&POOR, "poor.dsync", "x", &POOR), TokenError::FundsUnavailable);
		// An expired parent.
		run_to_block(3 + YEAR + 1);
		assert_noop!(sub(&ALICE, "alice.dsync", "mail", &ALICE), Error::<Test>::NameNotLive);
	});
}

#[test]
fn the_parent_revokes_until_it_gives_up_control() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		assert_ok!(sub(&ALICE, "alice.dsync", "www", &BOB));
		assert_ok!(sub(&ALICE, "alice.dsync", "mail", &BOB));
		let www = id("www.alice.dsync");
		let mail = id("mail.alice.dsync");
		assert_noop!(
			Naming::revoke_subname(RuntimeOrigin::signed(BOB), www),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Naming::revoke_subname(RuntimeOrigin::signed(ALICE), id("alice.dsync")),
			Error::<Test>::NotSubname
		);
		assert_noop!(
			Naming::revoke_subname(RuntimeOrigin::signed(ALICE), id("x.alice.dsync")),
			Error::<Test>::UnknownName
		);
		let before = free(&ALICE);
		assert_ok!(Naming::revoke_subname(RuntimeOrigin::signed(ALICE), www));
		assert_eq!(last_event(), Event::NameRemoved { name: www, owner: BOB });
		assert_eq!(free(&ALICE) - before, SUBNAME_DEPOSIT);
		assert!(Names::<Test>::get(www).is_none());

		assert_ok!(Naming::give_up_control(RuntimeOrigin::signed(ALICE), mail));
		assert_eq!(last_event(), Event::ControlGivenUp { name: mail });
		assert_noop!(
			Naming::revoke_subname(RuntimeOrigin::signed(ALICE), mail),
			Error::<Test>::ControlGivenUp
		);
		assert_noop!(
			Naming::give_up_control(RuntimeOrigin::signed(ALICE), mail),
			Error::<Test>::ControlGivenUp
		);
		// The subname's owner may still release it; the deposit goes back to Alice.
		let before = free(&ALICE);
		assert_ok!(Naming::release(RuntimeOrigin::signed(BOB), mail));
		assert_eq!(free(&ALICE) - before, SUBNAME_DEPOSIT);
		assert_eq!(held(&ALICE), 0);
	});
}

#[test]
fn subnames_go_stale_with_their_parent_and_anyone_removes_them() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		assert_ok!(sub(&ALICE, "alice.dsync", "www", &BOB));
		assert_ok!(sub(&BOB, "www.alice.dsync", "api", &BOB));
		let www = id("www.alice.dsync");
		let api = id("api.www.alice.dsync");
		assert_noop!(
			Naming::remove_stale(RuntimeOrigin::signed(CHARLIE), www),
			Error::<Test>::StillLive
		);
		// Expired parent: the subnames stop resolving, but the owner may still renew.
		run_to_block(3 + YEAR + 1);
		assert!(Naming::live_name(b"www.alice.dsync").is_none());
		assert_noop!(
			Naming::remove_stale(RuntimeOrigin::signed(CHARLIE), www),
			Error::<Test>::StillLive
		);
		assert_ok!(Naming::renew(RuntimeOrigin::signed(ALICE), id("alice.dsync"), 1));
		assert!(Naming::live_name(b"api.www.alice.dsync").is_some());
		// Alice releases and Charlie registers "alice": the old subnames are stale.
		assert_ok!(Naming::release(RuntimeOrigin::signed(ALICE), id("alice.dsync")));
		register(&CHARLIE, "alice", &CHARLIE, 1);
		assert!(Naming::live_name(b"alice.dsync").is_some());
		assert!(Naming::live_name(b"www.alice.dsync").is_none());
		assert!(Naming::live_name(b"api.www.alice.dsync").is_none());
		// Charlie can make "www" again; the stale one is replaced and Alice gets her deposit.
		let alice_before = free(&ALICE);
		assert_ok!(sub(&CHARLIE, "alice.dsync", "www", &CHARLIE));
		assert_eq!(free(&ALICE) - alice_before, SUBNAME_DEPOSIT);
		// The old "api" hangs under the old "www" generation: still stale.
		assert!(Naming::live_name(b"api.www.alice.dsync").is_none());
		let bob_before = free(&BOB);
		assert_ok!(Naming::remove_stale(RuntimeOrigin::signed(CHARLIE), api));
		assert_eq!(free(&BOB) - bob_before, SUBNAME_DEPOSIT);
		assert_eq!(last_event(), Event::NameRemoved { name: api, owner: BOB });
	});
}
