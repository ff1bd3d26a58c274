//! `do_try_state` catches every broken invariant.

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	traits::{fungible::MutateHold, tokens::Precision},
};
use sp_core::H256;
use sp_runtime::{DispatchError, TransactionOutcome};

/// Break the state with `break_it`, check that `do_try_state` notices, then restore it.
fn assert_detected(break_it: impl FnOnce()) {
	let snapshot = sp_io::storage::root(sp_runtime::StateVersion::V1);
	frame_support::storage::with_transaction(|| {
		break_it();
		assert!(Naming::do_try_state().is_err(), "the broken invariant went unnoticed");
		TransactionOutcome::Rollback(Ok::<(), DispatchError>(()))
	})
	.unwrap();
	assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), snapshot);
}

/// A record of `kind` with `value`.
fn record(kind: RecordKind, value: &[u8]) -> Record<Test> {
	Record { kind, value: RecordValue::<Test>::truncate_from(value.to_vec()) }
}

/// A stored record list.
fn record_list(items: Vec<Record<Test>>) -> RecordsOf<Test> {
	RecordsOf::<Test>::truncate_from(items)
}

/// Change the stored name `name` with `change`.
fn change_name(name: NameId, change: impl FnOnce(&mut NameInfo<Test>)) {
	Names::<Test>::mutate(name, |info| change(info.as_mut().expect("a stored name")));
}

#[test]
fn try_state_detects_every_broken_invariant() {
	ExtBuilder::build_and_execute(|| {
		// Alice's registration with an A record, Bob's subname under it (Alice's deposit), and
		// Charlie's pending commitment.
		register(&ALICE, "alice", &ALICE, 1);
		let alice = id("alice.dsync");
		let value = RecordValue::<Test>::truncate_from(vec![10, 0, 0, 1]);
		let values = RecordValues::<Test>::truncate_from(vec![value]);
		assert_ok!(Naming::set_records(RuntimeOrigin::signed(ALICE), alice, RecordKind::A, values));
		assert_ok!(Naming::set_subname(RuntimeOrigin::signed(ALICE), alice, b"www".to_vec(), BOB));
		let www = id("www.alice.dsync");
		assert_ok!(Naming::commit(RuntimeOrigin::signed(CHARLIE), H256::repeat_byte(7)));
		assert_ok!(Naming::do_try_state());

		// 1. Parameters.
		assert_detected(|| Params::<Test>::mutate(|params| params.year_length = 0));
		assert_detected(|| Params::<Test>::mutate(|params| params.max_years = 0));
		assert_detected(|| Params::<Test>::mutate(|params| params.commitment_deposit = 0));
		// 2. Names: label, id, generation, registrations and subnames.
		assert_detected(|| {
			change_name(alice, |info| info.label = Label::truncate_from(b"A B".to_vec()))
		});
		assert_detected(|| {
			let info = Names::<Test>::take(www).expect("the subname is stored");
			Names::<Test>::insert(H256::repeat_byte(9), info);
			Generations::<Test>::insert(H256::repeat_byte(9), 1u32);
		});
		assert_detected(|| Generations::<Test>::remove(alice));
		assert_detected(|| change_name(alice, |info| info.depth = 2));
		assert_detected(|| change_name(alice, |info| info.deposit = 1));
		assert_detected(|| change_name(www, |info| info.depth = 1));
		assert_detected(|| change_name(www, |info| info.depth = 5));
		// 3. Deposits.
		assert_detected(|| change_name(www, |info| info.deposit = SUBNAME_DEPOSIT + 1));
		assert_detected(|| {
			<Balances as MutateHold<AccountId>>::release(
				&HoldReason::SubnameDeposit.into(),
				&ALICE,
				1,
				Precision::Exact,
			)
			.unwrap();
		});
		// 4. Records.
		assert_detected(|| {
			Records::<Test>::insert(
				id("nobody.dsync"),
				record_list(vec![record(RecordKind::A, &[1, 1, 1, 1])]),
			)
		});
		assert_detected(|| Records::<Test>::insert(alice, record_list(vec![])));
		assert_detected(|| {
			Records::<Test>::insert(
				alice,
				record_list(vec![
					record(RecordKind::Txt, b"x"),
					record(RecordKind::A, &[1, 1, 1, 1]),
				]),
			)
		});
		assert_detected(|| {
			Records::<Test>::insert(alice, record_list(vec![record(RecordKind::A, &[1, 1, 1])]))
		});
		assert_detected(|| {
			Records::<Test>::insert(
				alice,
				record_list(vec![
					record(RecordKind::Cname, b"bob.dsync"),
					record(RecordKind::Cname, b"carol.dsync"),
				]),
			)
		});
		assert_detected(|| {
			Records::<Test>::insert(
				alice,
				record_list(vec![
					record(RecordKind::A, &[1, 1, 1, 1]),
					record(RecordKind::Cname, b"bob.dsync"),
				]),
			)
		});
		// 5. Commitments: twice, an empty list.
		assert_detected(|| {
			Commitments::<Test>::mutate(CHARLIE, |commitments| {
				let first = commitments[0];
				commitments.try_push(first).unwrap()
			})
		});
		assert_detected(|| Commitments::<Test>::insert(BOB, CommitmentsOf::<Test>::default()));
		// 6. Commitment deposits: recorded differently from what is held, or a commitment
		// recorded with a deposit that was never held.
		assert_detected(|| {
			Commitments::<Test>::mutate(CHARLIE, |commitments| {
				commitments.iter_mut().for_each(|commitment| commitment.deposit += 1)
			})
		});
		assert_detected(|| {
			<Balances as MutateHold<AccountId>>::release(
				&HoldReason::CommitmentDeposit.into(),
				&CHARLIE,
				1,
				Precision::Exact,
			)
			.unwrap();
		});
		assert_detected(|| {
			Commitments::<Test>::mutate(CHARLIE, |commitments| {
				commitments
					.try_push(Commitment {
						hash: H256::repeat_byte(8),
						at: 1,
						deposit: COMMITMENT_DEPOSIT,
					})
					.unwrap()
			})
		});
	});
}
