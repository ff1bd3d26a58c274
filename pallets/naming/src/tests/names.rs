//! Views: resolving full names, the registration view, prices, and the invariants.

use crate::{mock::*, *};
use frame_support::assert_ok;

#[test]
fn full_names_resolve_case_insensitively() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		assert_ok!(Naming::set_subname(
			RuntimeOrigin::signed(ALICE),
			id("alice.dsync"),
			b"www".to_vec(),
			BOB
		));
		let (name, info) = Naming::live_name(b"WWW.Alice.DSYNC.").unwrap();
		assert_eq!(name, id("www.alice.dsync"));
		assert_eq!(info.owner, BOB);
		assert_eq!(Naming::full_name(name), Some(b"www.alice.dsync".to_vec()));
		assert!(Naming::live_name(b"alice.com").is_none());
		assert!(Naming::live_name(b"bob.dsync").is_none());
		assert!(Naming::live_name(b"dsync").is_none());
	});
}

#[test]
fn the_name_view_reports_expiry_and_grace() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let expires = 3 + YEAR;
		let view = Naming::name_view(b"alice.dsync").unwrap();
		assert_eq!(
			view,
			NameView { owner: ALICE, expires, grace_ends: expires + GRACE, live: true, ttl: 3_600 }
		);
		run_to_block(expires + 1);
		assert!(!Naming::name_view(b"alice.dsync").unwrap().live);
		assert_eq!(Naming::name_view(b"bob.dsync"), None);
	});
}

#[test]
fn prices_for_the_user_interface() {
	ExtBuilder::build_and_execute(|| {
		assert_eq!(Naming::price(b"abc", 2), Some(1_000));
		assert_eq!(Naming::price(b"abc", 0), None);
		assert_eq!(Naming::price(b"abc", 6), None);
		assert_eq!(Naming::price(b"ns1", 1), None);
		assert_eq!(Naming::price(b"A", 1), None);
		register(&ALICE, "abc", &ALICE, 1);
		assert_eq!(Naming::price(b"abc", 1), None);
	});
}

#[test]
fn try_state_catches_broken_invariants() {
	ExtBuilder::build().execute_with(|| {
		register(&ALICE, "alice", &ALICE, 1);
		assert_ok!(Naming::set_subname(
			RuntimeOrigin::signed(ALICE),
			id("alice.dsync"),
			b"www".to_vec(),
			BOB
		));
		assert_ok!(Naming::do_try_state());
		// A deposit that is not held.
		Names::<Test>::mutate(id("www.alice.dsync"), |info| info.as_mut().unwrap().deposit += 1);
		assert!(Naming::do_try_state().is_err());
		Names::<Test>::mutate(id("www.alice.dsync"), |info| info.as_mut().unwrap().deposit -= 1);
		// A name under the wrong id.
		let info = Names::<Test>::take(id("www.alice.dsync")).unwrap();
		Names::<Test>::insert(id("web.alice.dsync"), info.clone());
		assert!(Naming::do_try_state().is_err());
		Names::<Test>::remove(id("web.alice.dsync"));
		Names::<Test>::insert(id("www.alice.dsync"), info);
		// Records of an unknown name.
		Records::<Test>::insert(
			id("ghost.dsync"),
			RecordsOf::<Test>::truncate_from(vec![Record {
				kind: RecordKind::A,
				value: RecordValue::<Test>::truncate_from(vec![1, 2, 3, 4]),
			}]),
		);
		assert!(Naming::do_try_state().is_err());
		Records::<Test>::remove(id("ghost.dsync"));
		assert_ok!(Naming::do_try_state());
	});
}
