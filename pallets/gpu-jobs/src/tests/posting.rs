//! Posting jobs: the escrow, the draw of providers, every check and bound.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_core::H256;
use sp_runtime::{ArithmeticError, Perbill, TokenError};

/// `client` tries to post a job on the digits model.
fn try_post(
	client: &AccountId,
	input: JobInput<MaxInlineInput, MaxUrlLen>,
	k: u8,
	price: Balance,
	deadline: u64,
) -> sp_runtime::DispatchResult {
	GpuJobs::post_job(RuntimeOrigin::signed(client.clone()), DIGITS, input, k, price, deadline)
}

#[test]
fn post_job_holds_the_escrow_draws_providers_and_emits_an_event() {
	ExtBuilder::default().build_and_execute(|| {
		let input = digit_items(2, 1);
		let id = post(&ALICE, inline(input.clone()), 3, 100);
		assert_eq!(id, 0);

		let job = Jobs::<Test>::get(id).expect("the job is open");
		assert_eq!(job.client, ALICE);
		assert_eq!(job.model, DIGITS);
		assert_eq!(job.items, 2);
		assert_eq!(job.price, 100);
		assert_eq!(job.k(), 3);
		assert_eq!(job.escrow(), 300);
		assert_eq!(
			(job.posted_at, job.commit_deadline, job.deadline, job.dispute_end),
			(1, 17, 21, 31)
		);
		assert_eq!(job.status, JobStatus::Open);
		let drawn = providers_of(id);
		let mut distinct = drawn.clone();
		distinct.sort();
		distinct.dedup();
		assert_eq!(distinct.len(), 3);
		assert!(drawn.iter().all(|who| (1..=5).map(provider).any(|p| p == *who)));
		assert!(job
			.providers
			.iter()
			.all(|slot| slot.commitment.is_none() && slot.result.is_none()));

		assert_eq!(held(&ALICE), 300);
		assert_eq!(free(&ALICE), CLIENT_BALANCE - 300);
		assert_eq!(OpenEscrow::<Test>::get(), 300);
		assert_eq!(OpenJobCount::<Test>::get(), 1);
		assert_eq!(NextJobId::<Test>::get(), 1);
		for who in &drawn {
			assert!(ProviderJobs::<Test>::contains_key(who, id));
		}
		assert!(Expiries::<Test>::get(21).contains(&id));
		assert!(Expiries::<Test>::get(31).contains(&id));
		// Without a draw delay, the providers are drawn in the posting block.
		System::assert_has_event(
			Event::JobPosted {
				job: id,
				client: ALICE,
				model: DIGITS,
				k: 3,
				price: 100,
				draw_at: 1,
				deadline: 21,
			}
			.into(),
		);
		assert_eq!(last_event(), Event::JobAssigned { job: id, providers: drawn.clone() });

		// The runtime API's view.
		let view = GpuJobs::job_view(id).expect("the job is open");
		assert_eq!(view.input, JobInputView::Inline(input));
		assert_eq!((view.items, view.replication, view.price, view.escrow), (2, 3, 100, 300));
		assert_eq!(view.providers.len(), 3);
		assert_eq!(view.status, JobStatus::Open);
		assert_eq!(GpuJobs::job_view(1), None);
	});
}

#[test]
fn a_batch_job_is_priced_per_item() {
	ExtBuilder::default().build_and_execute(|| {
		let input = batch(5, H256::repeat_byte(1), "https://data.example/batch.bin");
		// Five items at a floor of 10: at least 50 per provider.
		assert_noop!(
			try_post(&ALICE, input.clone(), 2, 49, now() + 20),
			Error::<Test>::PriceBelowFloor
		);
		assert_ok!(try_post(&ALICE, input, 2, 50, now() + 20));
		let job = Jobs::<Test>::get(0).expect("the job is open");
		assert_eq!(job.items, 5);
		assert_eq!(held(&ALICE), 100);
		let view = GpuJobs::job_view(0).expect("the job is open");
		assert_eq!(
			view.input,
			JobInputView::Batch {
				items: 5,
				inputs_hash: H256::repeat_byte(1),
				url: b"https://data.example/batch.bin".to_vec(),
			}
		);
	});
}

#[test]
fn post_job_checks_its_arguments() {
	ExtBuilder::default().build_and_execute(|| {
		let one = || inline(digit_items(1, 0));
		let deadline = now() + 20;
		assert_noop!(
			GpuJobs::post_job(RuntimeOrigin::signed(ALICE), 9, one(), 1, FLOOR, deadline),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			try_post(&ALICE, one(), 0, FLOOR, deadline),
			Error::<Test>::InvalidReplication
		);
		assert_noop!(
			try_post(&ALICE, one(), 8, FLOOR, deadline),
			Error::<Test>::InvalidReplication
		);
		// Inputs: empty, or not a whole number of 64-value items.
		assert_noop!(
			try_post(&ALICE, inline(Vec::new()), 1, FLOOR, deadline),
			Error::<Test>::InvalidInput
		);
		assert_noop!(
			try_post(&ALICE, inline(vec![1; 63]), 1, FLOOR, deadline),
			Error::<Test>::InvalidInput
		);
		assert_noop!(
			try_post(&ALICE, inline(vec![1; 130]), 1, 30, deadline),
			Error::<Test>::InvalidInput
		);
		// Prices: zero, below the floor times the items.
		assert_noop!(try_post(&ALICE, one(), 1, 0, deadline), Error::<Test>::PriceBelowFloor);
		assert_noop!(
			try_post(&ALICE, inline(digit_items(3, 0)), 1, 29, deadline),
			Error::<Test>::PriceBelowFloor
		);
		// Deadlines: 10..=1_000 blocks ahead.
		assert_noop!(try_post(&ALICE, one(), 1, FLOOR, now() + 9), Error::<Test>::InvalidDeadline);
		assert_noop!(
			try_post(&ALICE, one(), 1, FLOOR, now() + 1_001),
			Error::<Test>::InvalidDeadline
		);
		assert_ok!(try_post(&ALICE, one(), 1, FLOOR, now() + 10));
		assert_ok!(try_post(&ALICE, one(), 1, FLOOR, now() + 1_000));
		// Batches: a usable URL, at least one item, at most 1 MiB of input.
		let hash = H256::zero();
		for url in ["ftp://data.example/b", "http://", "http://data example/b", "data.example"] {
			assert_noop!(
				try_post(&ALICE, batch(1, hash, url), 1, FLOOR, deadline),
				Error::<Test>::InvalidUrl
			);
		}
		let url = "http://data.example/b";
		assert_noop!(
			try_post(&ALICE, batch(0, hash, url), 1, FLOOR, deadline),
			Error::<Test>::InvalidInput
		);
		assert_noop!(
			try_post(&ALICE, batch(16_385, hash, url), 1, FLOOR * 16_385, deadline),
			Error::<Test>::JobTooLarge
		);
		assert_ok!(try_post(&ALICE, batch(16_384, hash, url), 1, FLOOR * 16_384, deadline));
		// Providers: five serve the model.
		assert_noop!(
			try_post(&ALICE, one(), 6, FLOOR, deadline),
			Error::<Test>::NotEnoughProviders
		);
		// Funds: the escrow must be holdable, and `k × price` must not overflow.
		assert_noop!(try_post(&POOR, one(), 2, 500, deadline), TokenError::FundsUnavailable);
		assert_noop!(
			try_post(&ALICE, one(), 3, Balance::MAX / 2, deadline),
			ArithmeticError::Overflow
		);
		assert_ok!(try_post(&POOR, one(), 2, 495, deadline));
		assert_eq!(held(&POOR), 990);
	});
}

#[test]
fn open_jobs_and_expiries_per_block_are_bounded() {
	ExtBuilder::default().build_and_execute(|| {
		MaxOpenJobs::set(2);
		post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR);
		post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR);
		assert_noop!(
			try_post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR, now() + 20),
			Error::<Test>::TooManyOpenJobs
		);

		MaxOpenJobs::set(50);
		MaxExpiriesPerBlock::set(2);
		// Block 21 holds the deadlines of the two jobs.
		assert_noop!(
			try_post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR, now() + 20),
			Error::<Test>::ExpiryQueueFull
		);
		// Block 31 holds their dispute ends: a deadline there is refused too.
		assert_noop!(
			try_post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR, now() + 30),
			Error::<Test>::ExpiryQueueFull
		);
		assert_ok!(try_post(&ALICE, inline(digit_items(1, 0)), 1, FLOOR, now() + 21));
	});
}

#[test]
fn the_draw_skips_zero_scores_and_the_client() {
	ExtBuilder::empty().providers(4).build_and_execute(|| {
		MockSource::set_score(&provider(2), Perbill::zero());
		// Provider 1 posts: only providers 3 and 4 can serve it.
		let id = post(&provider(1), inline(digit_items(1, 0)), 2, FLOOR);
		let mut drawn = providers_of(id);
		drawn.sort();
		assert_eq!(drawn, vec![provider(3), provider(4)]);
		assert_noop!(
			try_post(&provider(1), inline(digit_items(1, 0)), 3, FLOOR, now() + 20),
			Error::<Test>::NotEnoughProviders
		);
	});
}

#[test]
fn the_draw_ignores_duplicates_and_candidates_beyond_the_bound() {
	ExtBuilder::empty().providers(1).build_and_execute(|| {
		// The same provider listed twice is drawn once.
		MockSource::add(&provider(1), key_of(&provider(1)), Perbill::one(), vec![DIGITS]);
		assert_noop!(
			try_post(&ALICE, inline(digit_items(1, 0)), 2, FLOOR, now() + 20),
			Error::<Test>::NotEnoughProviders
		);
		// Only the first `MaxCandidates` (16) are considered.
		for i in 2..=20 {
			let score = if i <= 16 { Perbill::zero() } else { Perbill::one() };
			MockSource::add(&provider(i), key_of(&provider(i)), score, vec![DIGITS]);
		}
		assert_noop!(
			try_post(&ALICE, inline(digit_items(1, 0)), 2, FLOOR, now() + 20),
			Error::<Test>::NotEnoughProviders
		);
	});
}

#[test]
fn the_draw_is_weighted_by_score() {
	ExtBuilder::empty().providers(2).build_and_execute(|| {
		MockSource::set_score(&provider(1), Perbill::from_percent(90));
		MockSource::set_score(&provider(2), Perbill::from_percent(10));
		let mut first = 0;
		for job in 0..1_000u64 {
			let drawn = GpuJobs::draw_providers(DIGITS, 1, &ALICE, job).expect("two candidates");
			if drawn[0].who == provider(1) {
				first += 1;
			}
			// With k = 2 both are drawn, once each.
			let both = GpuJobs::draw_providers(DIGITS, 2, &ALICE, job).expect("two candidates");
			assert_ne!(both[0].who, both[1].who);
		}
		// 900 expected.
		assert!((850..=950).contains(&first), "provider 1 drawn {first} times of 1000");
	});
}
