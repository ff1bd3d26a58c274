//! The expiry queue: bounded work per block, a cursor that carries the rest over, stale entries.

use crate::{mock::*, *};
use frame_support::{assert_ok, traits::Hooks};
use sp_core::H256;

#[test]
fn the_cursor_handles_at_most_the_budget_per_block() {
	ExtBuilder::default().build_and_execute(|| {
		MaxJobsPerBlockSettled::set(2);
		let ids: Vec<JobId> =
			(0..5).map(|_| post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR)).collect();
		run_to_block(20);
		assert_eq!(OpenJobCount::<Test>::get(), 5);

		// Block 21: two of the five; the rest stay queued at block 21.
		run_to_block(21);
		assert_eq!(OpenJobCount::<Test>::get(), 3);
		assert_eq!(Expiries::<Test>::get(21).into_inner(), ids[2..].to_vec());
		assert_eq!(ExpiryCursor::<Test>::get(), Some(21));
		run_to_block(22);
		assert_eq!(OpenJobCount::<Test>::get(), 1);
		run_to_block(23);
		assert_eq!(OpenJobCount::<Test>::get(), 0);
		assert!(!Expiries::<Test>::contains_key(21));
		// The cursor lags behind and catches up two blocks at a time over empty blocks.
		assert_eq!(ExpiryCursor::<Test>::get(), Some(23));
		run_to_block(25);
		assert_eq!(ExpiryCursor::<Test>::get(), Some(26));
		assert_eq!(held(&ALICE), 0);
	});
}

#[test]
fn stale_entries_are_passed_over() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 0);
		let result = digit_result(&input);
		let id = post(&ALICE, inline(input), 2, FLOOR);
		let drawn = providers_of(id);
		// Disputed, and resolved by re-execution long before its deadline.
		play(id, &[(drawn[0].clone(), result), (drawn[1].clone(), H256::repeat_byte(7))]);
		assert_ok!(GpuJobs::resolve_by_execution(
			RuntimeOrigin::signed(BOB),
			id,
			0,
			None,
			Default::default()
		));
		assert!(!Jobs::<Test>::contains_key(id));
		// Its entries at its deadline and dispute end are still queued, and handled as no-ops.
		assert!(Expiries::<Test>::get(21).contains(&id));
		assert!(Expiries::<Test>::get(31).contains(&id));
		let count = events().len();
		run_to_block(32);
		assert_eq!(events().len(), count);
		assert_eq!(Expiries::<Test>::iter().count(), 0);
		assert_eq!(ExpiryCursor::<Test>::get(), Some(33));
	});
}

#[test]
fn a_concluded_job_passes_its_deadline_and_is_paid_at_its_dispute_end() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(1, 0);
		let result = digit_result(&input);
		let id = post(&ALICE, inline(input), 1, FLOOR);
		play(id, &[(providers_of(id)[0].clone(), result)]);
		let count = events().len();
		// The deadline's entry finds the job concluded, not due: nothing happens.
		run_to_block(30);
		assert_eq!(events().len(), count);
		assert_eq!(Jobs::<Test>::get(id).map(|job| job.status), Some(JobStatus::Concluded));
		run_to_block(31);
		assert!(matches!(last_event(), Event::JobSettled { job, .. } if job == id));
		assert_eq!(Expiries::<Test>::iter().count(), 0);
	});
}

#[test]
fn the_cursor_starts_at_the_first_block_it_sees() {
	ExtBuilder::default().build_and_execute(|| {
		// A chain that gains the pallet late: no cursor yet, and no backlog of empty blocks.
		ExpiryCursor::<Test>::kill();
		System::set_block_number(1_000);
		GpuJobs::on_initialize(1_000);
		assert_eq!(ExpiryCursor::<Test>::get(), Some(1_001));
	});
}
