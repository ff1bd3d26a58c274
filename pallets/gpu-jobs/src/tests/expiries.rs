//! The expiry queue: bounded work per block, a cursor that carries the rest over, stale entries.

use crate::{mock::*, *};
use frame_support::traits::Hooks;

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
		let id = post(&ALICE, inline(input), 1, FLOOR);
		play(id, &[(providers_of(id)[0].clone(), result)]);
		assert!(!Jobs::<Test>::contains_key(id));
		// Its entries at its deadline and dispute end are still queued, and handled as no-ops.
		assert!(Expiries::<Test>::get(21).contains(&id));
		let count = events().len();
		run_to_block(32);
		assert_eq!(events().len(), count);
		assert_eq!(Expiries::<Test>::iter().count(), 0);
		assert_eq!(ExpiryCursor::<Test>::get(), Some(33));
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
