//! Records: per-kind encodings, single and multiple values, the CNAME rule, bounds, TTL and
//! primary names.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_core::ConstU32;
use sp_runtime::BoundedVec;
use sp_runtime::DispatchResult;

fn values(items: &[&[u8]]) -> RecordValues<Test> {
	RecordValues::<Test>::truncate_from(
		items.iter().map(|v| RecordValue::<Test>::truncate_from(v.to_vec())).collect(),
	)
}

fn set(who: &AccountId, name: &str, kind: RecordKind, items: &[&[u8]]) -> DispatchResult {
	Naming::set_records(RuntimeOrigin::signed(who.clone()), id(name), kind, values(items))
}

fn text(key: &str) -> RecordKind {
	RecordKind::Text(BoundedVec::<u8, ConstU32<32>>::truncate_from(key.as_bytes().to_vec()))
}

#[test]
fn records_are_set_replaced_and_removed() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let name = id("alice.dsync");
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::A, &[&[10, 0, 0, 1], &[10, 0, 0, 2]]));
		assert_eq!(last_event(), Event::RecordsSet { name, kind: RecordKind::A, count: 2 });
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::Txt, &[b"hello"]));
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::Aaaa, &[&[0xfe; 16]]));
		assert_ok!(set(&ALICE, "alice.dsync", text("email"), &[b"a@b.c"]));
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::Address(60), &[&[0xab; 20]]));
		let view = Naming::records_view(b"alice.dsync").unwrap();
		assert_eq!(view.ttl, 3_600);
		let kinds: Vec<_> = view.records.iter().map(|(k, _)| k.clone()).collect();
		// Sorted by kind, values of a kind in order.
		assert_eq!(
			kinds,
			vec![
				RecordKind::A,
				RecordKind::A,
				RecordKind::Aaaa,
				RecordKind::Txt,
				RecordKind::Address(60),
				text("email")
			]
		);
		assert_eq!(
			Naming::resolve(b"alice.dsync", &RecordKind::A),
			vec![vec![10, 0, 0, 1], vec![10, 0, 0, 2]]
		);
		// Replace, then remove.
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::A, &[&[10, 0, 0, 3]]));
		assert_eq!(Naming::resolve(b"alice.dsync", &RecordKind::A), vec![vec![10, 0, 0, 3]]);
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::A, &[]));
		assert_eq!(last_event(), Event::RecordsSet { name, kind: RecordKind::A, count: 0 });
		assert!(Naming::resolve(b"alice.dsync", &RecordKind::A).is_empty());
		for kind in [RecordKind::Aaaa, RecordKind::Txt, RecordKind::Address(60), text("email")] {
			assert_ok!(set(&ALICE, "alice.dsync", kind, &[]));
		}
		assert!(!Records::<Test>::contains_key(name));
	});
}

#[test]
fn invalid_values_are_refused() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let cases: Vec<(RecordKind, Vec<u8>)> = vec![
			(RecordKind::A, vec![1, 2, 3]),
			(RecordKind::Aaaa, vec![0; 4]),
			(RecordKind::Cname, b"not a host".to_vec()),
			(RecordKind::Mx, b"\x00".to_vec()),
			(RecordKind::Srv, b"\x00\x01\x00\x02\x00\x03".to_vec()),
			(RecordKind::Ns, b"ns..example".to_vec()),
			(RecordKind::Txt, vec![]),
			(RecordKind::ContentHash, vec![]),
			(text("bad key"), b"x".to_vec()),
			(text("key"), vec![0xff, 0xfe]),
		];
		for (kind, value) in cases {
			assert_noop!(
				set(&ALICE, "alice.dsync", kind.clone(), &[&value]),
				Error::<Test>::InvalidRecord
			);
		}
		// Values longer than MaxRecordLen (64) do not even decode into the call's bounds; an
		// in-bound value over the kind's limit is refused.
		assert_noop!(
			set(&ALICE, "alice.dsync", RecordKind::ContentHash, &[&[1], &[2]]),
			Error::<Test>::SingleValueKind
		);
		assert_noop!(
			set(&ALICE, "alice.dsync", RecordKind::Cname, &[b"a.example", b"b.example"]),
			Error::<Test>::SingleValueKind
		);
	});
}

#[test]
fn a_cname_stands_alone() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::A, &[&[1, 1, 1, 1]]));
		assert_noop!(
			set(&ALICE, "alice.dsync", RecordKind::Cname, &[b"bob.dsync"]),
			Error::<Test>::CnameConflict
		);
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::A, &[]));
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::Cname, &[b"bob.dsync"]));
		assert_noop!(
			set(&ALICE, "alice.dsync", RecordKind::Txt, &[b"x"]),
			Error::<Test>::CnameConflict
		);
		// Non-DNS records may sit beside a CNAME; a CNAME may be replaced.
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::ContentHash, &[b"\x01\x70"]));
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::Cname, &[b"carol.example.org."]));
	});
}

#[test]
fn records_are_bounded_per_name() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		// MaxRecords is 6.
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::Txt, &[b"1", b"2", b"3", b"4", b"5"]));
		assert_ok!(set(&ALICE, "alice.dsync", RecordKind::A, &[&[1, 1, 1, 1]]));
		assert_noop!(
			set(&ALICE, "alice.dsync", RecordKind::Aaaa, &[&[0; 16]]),
			Error::<Test>::TooManyRecords
		);
	});
}

#[test]
fn only_the_owner_of_a_live_name_sets_records_and_ttl() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let name = id("alice.dsync");
		assert_noop!(
			set(&BOB, "alice.dsync", RecordKind::A, &[&[1, 1, 1, 1]]),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			set(&ALICE, "nobody.dsync", RecordKind::A, &[&[1, 1, 1, 1]]),
			Error::<Test>::UnknownName
		);
		assert_noop!(
			Naming::set_ttl(RuntimeOrigin::signed(BOB), name, 60),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Naming::set_ttl(RuntimeOrigin::signed(ALICE), name, 29),
			Error::<Test>::InvalidTtl
		);
		assert_noop!(
			Naming::set_ttl(RuntimeOrigin::signed(ALICE), name, 86_401),
			Error::<Test>::InvalidTtl
		);
		assert_ok!(Naming::set_ttl(RuntimeOrigin::signed(ALICE), name, 30));
		assert_ok!(Naming::set_ttl(RuntimeOrigin::signed(ALICE), name, 86_400));
		assert_eq!(last_event(), Event::TtlSet { name, ttl: 86_400 });
		assert_eq!(Naming::records_view(b"alice.dsync").unwrap().ttl, 86_400);
		run_to_block(3 + YEAR + 1);
		assert_noop!(
			set(&ALICE, "alice.dsync", RecordKind::A, &[&[1, 1, 1, 1]]),
			Error::<Test>::NameNotLive
		);
		assert_noop!(
			Naming::set_ttl(RuntimeOrigin::signed(ALICE), name, 60),
			Error::<Test>::NameNotLive
		);
		// An expired name resolves to nothing.
		assert_eq!(Naming::records_view(b"alice.dsync"), None);
	});
}

#[test]
fn the_primary_name_resolves_back_or_not_at_all() {
	ExtBuilder::build_and_execute(|| {
		register(&ALICE, "alice", &ALICE, 1);
		let name = id("alice.dsync");
		assert_noop!(
			Naming::set_primary_name(RuntimeOrigin::signed(BOB), Some(name)),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Naming::set_primary_name(RuntimeOrigin::signed(ALICE), Some(id("x.dsync"))),
			Error::<Test>::UnknownName
		);
		assert_ok!(Naming::set_primary_name(RuntimeOrigin::signed(ALICE), Some(name)));
		assert_eq!(last_event(), Event::PrimaryNameSet { who: ALICE, name: Some(name) });
		assert_eq!(Naming::reverse(&ALICE), Some(b"alice.dsync".to_vec()));
		// A subname as primary name.
		assert_ok!(Naming::set_subname(RuntimeOrigin::signed(ALICE), name, b"www".to_vec(), ALICE));
		assert_ok!(Naming::set_primary_name(
			RuntimeOrigin::signed(ALICE),
			Some(id("www.alice.dsync"))
		));
		assert_eq!(Naming::reverse(&ALICE), Some(b"www.alice.dsync".to_vec()));
		// Given away: no longer Alice's reverse name.
		assert_ok!(Naming::transfer(RuntimeOrigin::signed(ALICE), id("www.alice.dsync"), BOB));
		assert_eq!(Naming::reverse(&ALICE), None);
		// Expired: nothing either.
		assert_ok!(Naming::set_primary_name(RuntimeOrigin::signed(ALICE), Some(name)));
		run_to_block(3 + YEAR + 1);
		assert_eq!(Naming::reverse(&ALICE), None);
		assert_ok!(Naming::set_primary_name(RuntimeOrigin::signed(ALICE), None));
		assert_eq!(last_event(), Event::PrimaryNameSet { who: ALICE, name: None });
		assert!(PrimaryNames::<Test>::get(&ALICE).is_none());
	});
}
