//! `do_try_state` holds through busy runs and catches every broken invariant.

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	traits::fungible::{Mutate, MutateHold},
	BoundedVec,
};
use sp_core::H256;

/// Break the state with `break_it`, check that `do_try_state` notices, then restore it.
fn assert_detected(break_it: impl FnOnce()) {
	let snapshot = sp_io::storage::root(sp_runtime::StateVersion::V1);
	frame_support::storage::with_transaction(|| {
		break_it();
		assert!(GpuJobs::do_try_state().is_err(), "the broken invariant went unnoticed");
		sp_runtime::TransactionOutcome::Rollback(Ok::<(), sp_runtime::DispatchError>(()))
	})
	.unwrap();
	assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), snapshot);
}

#[test]
fn try_state_detects_every_broken_invariant() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 0);
		let id = post(&ALICE, inline(input.clone()), 3, 100);
		let other = post(&BOB, inline(input), 2, 50);
		let drawn = providers_of(id);
		assert_ok!(commit(&drawn[0], id, H256::repeat_byte(1)));
		assert_ok!(GpuJobs::do_try_state());

		assert_detected(|| Params::<Test>::mutate(|params| params.reveal_period = 0));
		assert_detected(|| NextModelId::<Test>::put(0));
		assert_detected(|| ModelCode::<Test>::remove(DIGITS));
		assert_detected(|| {
			ModelCode::<Test>::insert(DIGITS, BoundedVec::truncate_from(vec![1, 2, 3]))
		});
		assert_detected(|| ModelCode::<Test>::insert(5, BoundedVec::truncate_from(vec![1])));
		assert_detected(|| NextJobId::<Test>::put(1));
		assert_detected(|| OpenJobCount::<Test>::put(3));
		assert_detected(|| OpenEscrow::<Test>::put(1));
		assert_detected(|| ProviderJobs::<Test>::remove(&drawn[1], id));
		assert_detected(|| ProviderJobs::<Test>::insert(&ALICE, id, ()));
		assert_detected(|| Expiries::<Test>::remove(31));
		assert_detected(|| {
			Expiries::<Test>::insert(0, BoundedVec::truncate_from(vec![id]));
		});
		let mutate_job = |change: fn(&mut Job<Test>)| {
			move || Jobs::<Test>::mutate(id, |job| change(job.as_mut().expect("the job is open")))
		};
		assert_detected(mutate_job(|job| job.model = 9));
		assert_detected(mutate_job(|job| job.price = 101));
		assert_detected(mutate_job(|job| job.items = 0));
		assert_detected(mutate_job(|job| job.commit_deadline = job.deadline));
		// A status its results do not allow: concluded without a majority, disputed without a
		// reveal, disputed with a majority.
		assert_detected(mutate_job(|job| job.status = JobStatus::Concluded));
		assert_detected(mutate_job(|job| job.status = JobStatus::Disputed));
		assert_detected(mutate_job(|job| {
			for slot in job.providers.iter_mut().take(2) {
				slot.commitment = Some(H256::zero());
				slot.result = Some(H256::zero());
			}
			job.status = JobStatus::Disputed;
		}));
		assert_detected(mutate_job(|job| job.providers[1].result = Some(H256::zero())));
		assert_detected(mutate_job(|job| {
			let first = job.providers[0].clone();
			job.providers[1] = first;
		}));
		assert_detected(mutate_job(|job| job.providers.truncate(0)));
		assert_detected(mutate_job(|job| job.client = BOB));
		assert_detected(|| Jobs::<Test>::remove(other));
		// Funds held for escrow beyond the open jobs.
		assert_detected(|| {
			assert_ok!(Balances::hold(&HoldReason::Escrow.into(), &ALICE, 1));
		});
		assert_detected(|| {
			assert_ok!(<Balances as Mutate<AccountId>>::transfer(
				&BOB,
				&ALICE,
				1,
				frame_support::traits::tokens::Preservation::Preserve
			));
			assert_ok!(Balances::hold(&HoldReason::Escrow.into(), &ALICE, 1));
			assert_ok!(Balances::release(
				&HoldReason::Escrow.into(),
				&BOB,
				1,
				frame_support::traits::tokens::Precision::Exact
			));
		});
	});
}

#[test]
fn the_invariants_hold_at_every_block_of_a_busy_run() {
	ExtBuilder::default().build_and_execute(|| {
		MaxJobsPerBlockSettled::set(2);
		let input = digit_items(1, 5);
		let truth = digit_result(&input);
		let mut ids = Vec::new();
		for k in 1..=5u8 {
			ids.push(post(&ALICE, inline(input.clone()), k, 100));
			ids.push(post(&BOB, inline(input.clone()), k, 70));
		}
		for (n, id) in ids.iter().enumerate() {
			let drawn = providers_of(*id);
			for (i, who) in drawn.iter().enumerate() {
				// Some commit the truth, some a wrong result, some nothing.
				match (n + i) % 4 {
					0 | 1 => {
						assert_ok!(commit(who, *id, truth));
					},
					2 => {
						assert_ok!(commit(who, *id, H256::repeat_byte(2)));
					},
					_ => {},
				}
			}
		}
		run_to_block(17);
		for (n, id) in ids.iter().enumerate() {
			let Some(job) = Jobs::<Test>::get(id) else { continue };
			for (i, slot) in job.providers.iter().enumerate() {
				let result = match (n + i) % 4 {
					0 | 1 => truth,
					2 => H256::repeat_byte(2),
					_ => continue,
				};
				if Jobs::<Test>::contains_key(id) {
					assert_ok!(reveal(&slot.who, *id, result));
				}
			}
		}
		run_to_block(40);
		assert_eq!(OpenJobCount::<Test>::get(), 0);
		assert_eq!(OpenEscrow::<Test>::get(), 0);
		assert_eq!(held(&ALICE), 0);
		assert_eq!(held(&BOB), 0);
	});
}
