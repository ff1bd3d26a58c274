//! Aggregation of the revealed reports: strict-majority verdicts, medians of the passing
//! reports, ties that decide nothing, and the judgement of each report (confirmed, excused or
//! clipped; also against colluding verifiers): reputation, credits and era points.

use crate::{
	aggregate::{median, Aggregate, Judgement, Verdict},
	mock::*,
	*,
};
use sp_runtime::Perbill;

#[test]
fn the_median_shares_an_even_count_between_the_middle_values() {
	assert_eq!(median(&[]), None);
	assert_eq!(median(&[5]), Some(5));
	assert_eq!(median(&[1, 2, 3]), Some(2));
	assert_eq!(median(&[1, 1, 5, 9, 9]), Some(5));
	// Even counts: the mean of the two middle values, rounded down.
	assert_eq!(median(&[1, 3]), Some(2));
	assert_eq!(median(&[1, 2]), Some(1));
	assert_eq!(median(&[1, 2, 3, 4]), Some(2));
	assert_eq!(median(&[10, 600, 610, 620]), Some(605));
	// No overflow at the edges.
	assert_eq!(median(&[0, u32::MAX]), Some(u32::MAX / 2));
	assert_eq!(median(&[u32::MAX, u32::MAX]), Some(u32::MAX));
}

#[test]
fn a_verdict_needs_a_strict_majority() {
	assert_eq!(Verdict::of(1, 1), Verdict::Yes);
	assert_eq!(Verdict::of(0, 1), Verdict::No);
	assert_eq!(Verdict::of(2, 3), Verdict::Yes);
	assert_eq!(Verdict::of(1, 3), Verdict::No);
	assert_eq!(Verdict::of(3, 4), Verdict::Yes);
	assert_eq!(Verdict::of(1, 4), Verdict::No);
	// Ties decide nothing.
	assert_eq!(Verdict::of(1, 2), Verdict::Tie);
	assert_eq!(Verdict::of(2, 4), Verdict::Tie);
	assert_eq!(Verdict::of(0, 0), Verdict::Tie);
}

#[test]
fn the_aggregate_takes_majorities_and_the_medians_of_the_passing_reports() {
	let params = test_params();
	let slower = ProbeReport { latency_ms: 500, sync_lag: 4, ..good_report() };
	let reports = [good_report(), slower.clone(), down_report()];
	let aggregate = Aggregate::of(reports.iter());
	// The down report measured nothing: its placeholders do not count toward the medians.
	assert_eq!(
		aggregate,
		Aggregate {
			available: Verdict::Yes,
			challenge_ok: Verdict::Yes,
			latencies: vec![50, 500],
			lags: vec![0, 4],
		}
	);
	assert_eq!(aggregate.latency_ms(), Some(275));
	assert_eq!(aggregate.sync_lag(), Some(2));
	// (1_100 - 275) / (1_100 - 100); the lag is tolerated.
	assert_eq!(aggregate.quality(&params), Some(Perbill::from_parts(825_000_000)));

	// Two reports that disagree: a tie, nothing decided, nobody judged.
	let split = Aggregate::of(reports[1..].iter());
	assert_eq!(split.available, Verdict::Tie);
	assert_eq!(split.quality(&params), None);
	assert_eq!(split.judge(&slower, &params), Judgement::Excused);
	assert_eq!(split.judge(&down_report(), &params), Judgement::Excused);

	// A malformed answer to the majority: available, failed, worth nothing.
	let malformed = ProbeReport { challenge_ok: false, sync_lag: 12, ..good_report() };
	let failed = Aggregate::of([&malformed, &malformed, &good_report()]);
	assert_eq!((failed.available, failed.challenge_ok), (Verdict::Yes, Verdict::No));
	assert_eq!(failed.quality(&params), Some(Perbill::zero()));
	assert_eq!(failed.judge(&malformed, &params), Judgement::Confirmed);
	assert_eq!(failed.judge(&good_report(), &params), Judgement::Clipped);
}

#[test]
fn a_report_is_clipped_only_when_a_strict_majority_saw_the_target_worse() {
	let params = test_params();
	let at = |latency_ms, sync_lag| ProbeReport { latency_ms, sync_lag, ..good_report() };
	// Two reports at 300 ms and 5 blocks, and the judged one.
	let judge = |report: ProbeReport| {
		Aggregate::of([&at(300, 5), &at(300, 5), &report]).judge(&report, &params)
	};
	// Exactly at the thresholds (200 ms, 3 blocks) of the medians: confirmed.
	assert_eq!(judge(at(100, 2)), Judgement::Confirmed);
	assert_eq!(judge(at(500, 8)), Judgement::Confirmed);
	// Faster or less behind than the majority by more: clipped (it claims more than they saw).
	assert_eq!(judge(at(99, 5)), Judgement::Clipped);
	assert_eq!(judge(at(300, 1)), Judgement::Clipped);
	// Slower or further behind by more: excused (the target can slow down one verifier).
	assert_eq!(judge(at(501, 5)), Judgement::Excused);
	assert_eq!(judge(at(300, 9)), Judgement::Excused);
	// Down or failed where the majority saw it pass: excused.
	assert_eq!(judge(down_report()), Judgement::Excused);
	assert_eq!(judge(ProbeReport { challenge_ok: false, ..at(300, 5) }), Judgement::Excused);

	// Passing where a strict majority saw the target down: clipped; the majority confirmed.
	let up = good_report();
	let down = Aggregate::of([&down_report(), &down_report(), &up]);
	assert_eq!(down.quality(&params), Some(Perbill::zero()));
	assert_eq!(down.judge(&up, &params), Judgement::Clipped);
	assert_eq!(down.judge(&down_report(), &params), Judgement::Confirmed);
	// Claiming only that it answered is claiming more than "down" too.
	let answered = ProbeReport { challenge_ok: false, ..good_report() };
	let down = Aggregate::of([&down_report(), &down_report(), &answered]);
	assert_eq!(down.judge(&answered, &params), Judgement::Clipped);

	// Far from the median, but no strict majority saw it clearly slower: 2 of 4 reports are
	// more than 200 ms above 50 ms. Not confirmed (210 ms from the median 260), not clipped.
	let fast = at(50, 0);
	let spread = Aggregate::of([&fast, &at(240, 0), &at(280, 0), &at(290, 0)]);
	assert_eq!(spread.latency_ms(), Some(260));
	assert_eq!(spread.judge(&fast, &params), Judgement::Excused);
}

#[test]
fn one_outlier_of_four_moves_nothing() {
	let params = test_params();
	let at = |latency_ms| ProbeReport { latency_ms, ..good_report() };
	// A slow outlier: the median is the mean of the other two middle values.
	let slow = Aggregate::of([&at(50), &at(60), &at(70), &at(1_050)]);
	assert_eq!(slow.latency_ms(), Some(65));
	assert_eq!(slow.quality(&params), Some(Perbill::one()));
	assert_eq!(slow.judge(&at(1_050), &params), Judgement::Excused);
	assert_eq!(slow.judge(&at(50), &params), Judgement::Confirmed);
	// A fast outlier: three of four saw the target clearly slower, so it is clipped.
	let fast = Aggregate::of([&at(10), &at(600), &at(610), &at(620)]);
	assert_eq!(fast.latency_ms(), Some(605));
	assert_eq!(fast.quality(&params), Some(Perbill::from_parts(495_000_000)));
	assert_eq!(fast.judge(&at(10), &params), Judgement::Clipped);
	assert_eq!(fast.judge(&at(600), &params), Judgement::Confirmed);
}

/// One service node and three validators, so every validator is drawn for the node.
fn one_node() -> ExtBuilder {
	ExtBuilder::empty().services(1).validators(3)
}

/// One service node and four validators, all four drawn for it.
fn one_node_four_verifiers() -> ExtBuilder {
	ExtBuilder::empty()
		.services(1)
		.validators(4)
		.with_params(|params| params.verifiers_per_node = 4)
}

/// The verifiers clipped in `events`, in order.
fn clipped(events: &[Event<Test>]) -> Vec<(u32, AccountId)> {
	events
		.iter()
		.filter_map(|event| match event {
			Event::VerifierClipped { epoch, verifier, .. } => Some((*epoch, verifier.clone())),
			_ => None,
		})
		.collect()
}

/// Whether `who` was paid as a verifier in `events`.
fn rewarded(events: &[Event<Test>], who: &AccountId) -> bool {
	events.iter().any(|event| match event {
		Event::VerifierRewarded { verifier, .. } => verifier == who,
		_ => false,
	})
}

#[test]
fn one_liar_of_three_claiming_a_down_node_up_is_clipped() {
	one_node().build_and_execute(|| {
		let node = service(1);
		play_epoch(&[
			(validator(1), node.clone(), down_report()),
			(validator(2), node.clone(), down_report()),
			(validator(3), node.clone(), good_report()),
		]);
		let events = pos_events();
		assert_eq!(clipped(&events), vec![(1, validator(3))]);
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node: node.clone(),
			quality: Perbill::zero(),
			score: Perbill::zero(),
			reports: 3,
		}));
		assert!(events.contains(&Event::NodeMissed { epoch: 1, node, misses: 1 }));
		assert_eq!(Reputation::<Test>::get(validator(3)), Perbill::from_percent(90));
		// Honest reports recover reputation up to 100 %.
		assert_eq!(Reputation::<Test>::get(validator(1)), Perbill::one());
		// Era points and the verifiers' part for the confirmed reports only.
		assert_eq!(MockEraPoints::get(), vec![(validator(1), 20), (validator(2), 20)]);
		assert!(rewarded(&events, &validator(1)));
		assert!(rewarded(&events, &validator(2)));
		assert!(!rewarded(&events, &validator(3)));
	});
}

#[test]
fn a_down_report_outvoted_by_a_clear_majority_is_excused_not_clipped() {
	one_node().build_and_execute(|| {
		let node = service(1);
		// Below 100 %, so that a recovery would show as well as a penalty.
		Reputation::<Test>::insert(validator(3), Perbill::from_percent(80));
		Scores::<Test>::insert(validator(3), NodeScore { misses: 1, ..Default::default() });
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), good_report()),
			(validator(3), node.clone(), down_report()),
		]);
		let events = pos_events();
		// The majority decides: the node was up.
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node: node.clone(),
			quality: Perbill::one(),
			score: Perbill::from_percent(50),
			reports: 3,
		}));
		// The target may have refused the third verifier alone: not clipped (the old lower
		// median clipped it), not credited either.
		assert_eq!(clipped(&events), vec![]);
		assert_eq!(Reputation::<Test>::get(validator(3)), Perbill::from_percent(80));
		assert_eq!(MockEraPoints::get(), vec![(validator(1), 20), (validator(2), 20)]);
		assert!(rewarded(&events, &validator(1)));
		assert!(!rewarded(&events, &validator(3)));
		// It showed up: its absences start again.
		assert_eq!(Scores::<Test>::get(validator(3)).unwrap().misses, 0);
	});
}

#[test]
fn two_colluding_liars_of_three_win_and_the_honest_one_is_clipped() {
	one_node().build_and_execute(|| {
		let node = service(1);
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), down_report()),
			(validator(3), node.clone(), down_report()),
		]);
		let events = pos_events();
		assert_eq!(clipped(&events), vec![(1, validator(1))]);
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node: node.clone(),
			quality: Perbill::zero(),
			score: Perbill::zero(),
			reports: 3,
		}));
		assert!(events.contains(&Event::NodeMissed { epoch: 1, node, misses: 1 }));
		assert_eq!(Reputation::<Test>::get(validator(1)), Perbill::from_percent(90));
		assert_eq!(MockEraPoints::get(), vec![(validator(2), 20), (validator(3), 20)]);
	});
}

#[test]
fn measurement_noise_within_the_thresholds_is_not_clipped() {
	one_node().build_and_execute(|| {
		let node = service(1);
		play_epoch(&[
			(validator(1), node.clone(), ProbeReport { latency_ms: 50, ..good_report() }),
			(validator(2), node.clone(), ProbeReport { latency_ms: 150, ..good_report() }),
			(
				validator(3),
				node.clone(),
				ProbeReport { latency_ms: 240, sync_lag: 3, ..good_report() },
			),
		]);
		let events = pos_events();
		assert_eq!(clipped(&events), vec![]);
		// Median latency 150 ms: (1_100 - 150) / (1_100 - 100) = 95 %; median lag 0.
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node,
			quality: Perbill::from_percent(95),
			score: Perbill::from_parts(475_000_000),
			reports: 3,
		}));
		// All three confirmed.
		assert_eq!(
			MockEraPoints::get(),
			vec![(validator(1), 20), (validator(2), 20), (validator(3), 20)]
		);
	});
}

#[test]
fn a_lagging_outlier_is_excused_and_a_leading_one_clipped() {
	one_node().build_and_execute(|| {
		let node = service(1);
		// The third saw the node 4 blocks behind, the others in sync: the node can serve one
		// verifier a stale head. Excused (the old rule clipped it).
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), good_report()),
			(validator(3), node.clone(), ProbeReport { sync_lag: 4, ..good_report() }),
		]);
		assert_eq!(clipped(&pos_events()), vec![]);
		assert_eq!(Reputation::<Test>::get(validator(3)), Perbill::one());
		assert_eq!(MockEraPoints::get(), vec![(validator(1), 20), (validator(2), 20)]);

		// The others saw it 8 blocks behind, the third in sync: it claims more than a strict
		// majority saw.
		next_block();
		play_epoch(&[
			(validator(1), node.clone(), ProbeReport { sync_lag: 8, ..good_report() }),
			(validator(2), node.clone(), ProbeReport { sync_lag: 8, ..good_report() }),
			(validator(3), node.clone(), good_report()),
		]);
		assert_eq!(clipped(&pos_events()), vec![(2, validator(3))]);
		assert_eq!(Reputation::<Test>::get(validator(3)), Perbill::from_percent(90));
	});
}

#[test]
fn with_two_reports_a_split_decides_nothing() {
	one_node().build_and_execute(|| {
		let node = service(1);
		// The third verifier is absent; the other two disagree.
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), down_report()),
		]);
		let events = pos_events();
		// The old lower median let the down report decide (quality 0) and clipped the first.
		assert!(events.contains(&Event::NodeNotScored { epoch: 1, node: node.clone() }));
		assert!(!events.iter().any(|event| matches!(event, Event::NodeScored { .. })));
		assert!(!events.iter().any(|event| matches!(event, Event::NodeMissed { .. })));
		assert_eq!(clipped(&events), vec![]);
		assert_eq!(Scores::<Test>::get(&node), None);
		assert_eq!(Reputation::<Test>::get(validator(1)), Perbill::one());
		assert_eq!(Reputation::<Test>::get(validator(2)), Perbill::one());
		assert!(MockEraPoints::get().is_empty());
		// Absence is still absence.
		assert!(events.contains(&Event::VerifierAbsent { epoch: 1, node, verifier: validator(3) }));
		assert_eq!(Reputation::<Test>::get(validator(3)), Perbill::from_percent(90));
	});
}

#[test]
fn two_reports_far_apart_split_the_difference_and_clip_nobody() {
	one_node().build_and_execute(|| {
		let node = service(1);
		// The third verifier is absent; the two others measured 50 ms and 1_050 ms.
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), ProbeReport { latency_ms: 1_050, ..good_report() }),
		]);
		let events = pos_events();
		// Median 550 ms: (1_100 - 550) / 1_000 = 55 %. (The old lower median took the faster
		// report alone: 100 %, and clipped the slower.)
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node,
			quality: Perbill::from_percent(55),
			score: Perbill::from_parts(275_000_000),
			reports: 2,
		}));
		assert_eq!(clipped(&events), vec![]);
		// Neither is within 200 ms of the median: neither is confirmed.
		assert!(MockEraPoints::get().is_empty());
		assert_eq!(Reputation::<Test>::get(validator(1)), Perbill::one());
		assert_eq!(Reputation::<Test>::get(validator(2)), Perbill::one());
	});
}

#[test]
fn a_tie_decides_nothing_and_clips_nobody() {
	one_node_four_verifiers().build_and_execute(|| {
		let node = service(1);
		play_epoch_with(|_| good_report());
		let before = Scores::<Test>::get(&node).unwrap();
		assert_eq!(before.score, Perbill::from_percent(50));
		next_block();

		// Below 100 %, so that a recovery would show as well as a penalty.
		run_to_collecting();
		assert_eq!(drawn(&node).len(), 4);
		for i in 1..=4 {
			Reputation::<Test>::insert(validator(i), Perbill::from_percent(80));
		}
		MockEraPoints::kill();
		System::reset_events();
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), good_report()),
			(validator(3), node.clone(), down_report()),
			(validator(4), node.clone(), down_report()),
		]);
		let events = pos_events();
		// No decision: not scored, no miss, no reward (the old lower median decided "down",
		// scored 0 and clipped the first two).
		assert!(events.contains(&Event::NodeNotScored { epoch: 2, node: node.clone() }));
		assert!(!events.iter().any(|event| matches!(event, Event::NodeScored { .. })));
		assert!(!events.iter().any(|event| matches!(event, Event::NodeMissed { .. })));
		assert_eq!(Scores::<Test>::get(&node).unwrap(), before);
		assert_eq!(MockRegistry::status(&node), Some(NodeStatus::Active));
		// Nobody clipped, nobody credited.
		assert_eq!(clipped(&events), vec![]);
		for i in 1..=4 {
			assert_eq!(Reputation::<Test>::get(validator(i)), Perbill::from_percent(80));
			assert!(!rewarded(&events, &validator(i)));
		}
		assert!(MockEraPoints::get().is_empty());
		// Nothing to pay: no reward weight, no credit.
		assert!(events.contains(&Event::EpochClosed { epoch: 2, budget: 0, distributed: 0 }));
	});
}

#[test]
fn a_clear_majority_clips_only_a_minority_that_claims_more() {
	one_node_four_verifiers().build_and_execute(|| {
		let node = service(1);
		// Three of four saw the node up; the fourth saw it down: excused, not clipped (the
		// old lower median clipped it), and not credited.
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), good_report()),
			(validator(3), node.clone(), good_report()),
			(validator(4), node.clone(), down_report()),
		]);
		let events = pos_events();
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node: node.clone(),
			quality: Perbill::one(),
			score: Perbill::from_percent(50),
			reports: 4,
		}));
		assert_eq!(clipped(&events), vec![]);
		assert_eq!(Reputation::<Test>::get(validator(4)), Perbill::one());
		assert_eq!(
			MockEraPoints::get(),
			vec![(validator(1), 20), (validator(2), 20), (validator(3), 20)]
		);
		assert!(!rewarded(&events, &validator(4)));

		// Three of four saw the node down; the fourth claims it answered: clipped.
		next_block();
		MockEraPoints::kill();
		System::reset_events();
		play_epoch(&[
			(validator(1), node.clone(), down_report()),
			(validator(2), node.clone(), down_report()),
			(validator(3), node.clone(), down_report()),
			(validator(4), node.clone(), good_report()),
		]);
		let events = pos_events();
		assert!(events.contains(&Event::NodeScored {
			epoch: 2,
			node: node.clone(),
			quality: Perbill::zero(),
			score: Perbill::from_percent(25),
			reports: 4,
		}));
		assert_eq!(clipped(&events), vec![(2, validator(4))]);
		assert_eq!(Reputation::<Test>::get(validator(4)), Perbill::from_percent(90));
		for i in 1..=3 {
			assert_eq!(Reputation::<Test>::get(validator(i)), Perbill::one());
		}
		assert_eq!(
			MockEraPoints::get(),
			vec![(validator(1), 20), (validator(2), 20), (validator(3), 20)]
		);
		assert!(rewarded(&events, &validator(1)));
		assert!(!rewarded(&events, &validator(4)));
	});
}

#[test]
fn era_points_add_up_per_verifier_in_a_batch() {
	ExtBuilder::default().build_and_execute(|| {
		play_epoch_with(|_| good_report());
		// Two targets tallied in one block: one entry per verifier, 2 × 20 points.
		assert_eq!(
			MockEraPoints::get(),
			vec![(validator(1), 40), (validator(2), 40), (validator(3), 40)]
		);
	});
}
