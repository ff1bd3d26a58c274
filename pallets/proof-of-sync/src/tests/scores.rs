//! Quality, the score's moving average, misses and streaks, warm-up to active, and unscored
//! epochs.

use crate::{
	aggregate::{linear_factor, Aggregate},
	mock::*,
	scoring::ema,
	*,
};
use sp_runtime::Perbill;

#[test]
fn the_linear_factor_at_its_edges() {
	// Latency: 100 % up to 100 ms, 0 from 1_100 ms.
	assert_eq!(linear_factor(0, 100, 1_100), Perbill::one());
	assert_eq!(linear_factor(100, 100, 1_100), Perbill::one());
	assert_eq!(linear_factor(101, 100, 1_100), Perbill::from_rational(999u32, 1_000));
	assert_eq!(linear_factor(600, 100, 1_100), Perbill::from_percent(50));
	assert_eq!(linear_factor(1_099, 100, 1_100), Perbill::from_rational(1u32, 1_000));
	assert_eq!(linear_factor(1_100, 100, 1_100), Perbill::zero());
	assert_eq!(linear_factor(u32::MAX, 100, 1_100), Perbill::zero());
	// Lag: 100 % up to 2 blocks, 0 from 12.
	assert_eq!(linear_factor(2, 2, 12), Perbill::one());
	assert_eq!(linear_factor(7, 2, 12), Perbill::from_percent(50));
	assert_eq!(linear_factor(12, 2, 12), Perbill::zero());
	// Rounds down: 2/3.
	assert_eq!(linear_factor(4, 3, 6), Perbill::from_parts(666_666_666));
}

#[test]
fn quality_multiplies_the_factors_and_needs_a_passed_challenge() {
	let params = test_params();
	// The quality of one report.
	let quality = |available, challenge_ok, latency_ms, sync_lag| {
		let report = ProbeReport { available, challenge_ok, latency_ms, sync_lag, evidence: None };
		Aggregate::of([&report]).quality(&params)
	};
	// Exactly at the target latency and the tolerated lag: full quality.
	assert_eq!(quality(true, true, 100, 2), Some(Perbill::one()));
	// Exactly at the maximum latency or lag: nothing.
	assert_eq!(quality(true, true, 1_100, 0), Some(Perbill::zero()));
	assert_eq!(quality(true, true, 0, 12), Some(Perbill::zero()));
	// Half and half: a quarter.
	assert_eq!(quality(true, true, 600, 7), Some(Perbill::from_percent(25)));
	// Unavailable or a failed challenge: nothing, however fast.
	assert_eq!(quality(false, true, 0, 0), Some(Perbill::zero()));
	assert_eq!(quality(true, false, 0, 0), Some(Perbill::zero()));
	// No report: nothing decided.
	let none: [ProbeReport; 0] = [];
	assert_eq!(Aggregate::of(&none).quality(&params), None);
}

#[test]
fn the_score_is_an_exponential_moving_average() {
	let half = Perbill::from_percent(50);
	assert_eq!(ema(Perbill::zero(), Perbill::one(), half), Perbill::from_percent(50));
	assert_eq!(ema(Perbill::from_percent(50), Perbill::one(), half), Perbill::from_percent(75));
	assert_eq!(
		ema(Perbill::from_percent(75), Perbill::zero(), half),
		Perbill::from_parts(375_000_000)
	);
	// α = 100 %: the last quality only.
	assert_eq!(
		ema(Perbill::from_percent(80), Perbill::from_percent(10), Perbill::one()),
		Perbill::from_percent(10)
	);
	// A perfect node stays perfect, whatever α.
	for alpha in [1, 30, 99] {
		let alpha = Perbill::from_percent(alpha);
		assert_eq!(ema(Perbill::one(), Perbill::one(), alpha), Perbill::one());
	}
}

#[test]
fn scores_follow_the_epochs() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		let node = service(1);
		let mut expected = Vec::new();
		for (epoch, quality) in [(1, 100u32), (2, 100), (3, 0), (4, 100)] {
			let report = if quality == 100 { good_report() } else { down_report() };
			play_epoch_with(|_| report.clone());
			let record = Scores::<Test>::get(&node).unwrap();
			expected.push((epoch, record.score, record.misses, record.good_streak));
			assert_eq!(record.last_quality, Perbill::from_percent(quality));
			assert_eq!(record.epochs, epoch);
			assert_eq!(record.last_epoch, epoch);
			next_block();
		}
		assert_eq!(
			expected,
			vec![
				(1, Perbill::from_percent(50), 0, 1),
				(2, Perbill::from_percent(75), 0, 2),
				(3, Perbill::from_parts(375_000_000), 1, 0),
				(4, Perbill::from_parts(687_500_000), 0, 1),
			]
		);
	});
}

#[test]
fn a_pending_node_becomes_active_after_the_warm_up() {
	ExtBuilder::empty()
		.service_node(service(1), key_of(&service(1)), 10, NodeStatus::Pending)
		.validators(3)
		.build_and_execute(|| {
			let node = service(1);
			// Epoch 1: score 50 %, one epoch: still pending, not rewarded.
			play_epoch_with(|_| good_report());
			assert_eq!(MockRegistry::status(&node), Some(NodeStatus::Pending));
			assert!(!pos_events().iter().any(|event| matches!(event, Event::NodeRewarded { .. })));
			next_block();
			// Epoch 2: score 75 % >= 70 % after 2 epochs: active, and rewarded already.
			play_epoch_with(|_| good_report());
			assert_eq!(MockRegistry::status(&node), Some(NodeStatus::Active));
			assert_eq!(MockRegistry::status_changes(), vec![(node.clone(), NodeStatus::Active)]);
			assert!(pos_events()
				.iter()
				.any(|event| matches!(event, Event::NodeRewarded { epoch: 2, .. })));
		});
}

#[test]
fn a_pending_node_needs_the_score_too() {
	ExtBuilder::empty()
		.service_node(service(1), key_of(&service(1)), 10, NodeStatus::Pending)
		.validators(3)
		.with_params(|params| params.activation_score = Perbill::from_percent(80))
		.build_and_execute(|| {
			for _ in 0..2 {
				play_epoch_with(|_| good_report());
				next_block();
			}
			// 75 % < 80 % after two epochs.
			assert_eq!(MockRegistry::status(&service(1)), Some(NodeStatus::Pending));
			// 87.5 % after the third.
			play_epoch_with(|_| good_report());
			assert_eq!(MockRegistry::status(&service(1)), Some(NodeStatus::Active));
		});
}

#[test]
fn an_epoch_without_revealed_reports_is_not_scored() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		play_epoch_with(|_| good_report());
		let before = Scores::<Test>::get(service(1)).unwrap();
		next_block();
		// Everyone commits, nobody reveals.
		run_to_collecting();
		for verifier in drawn(&service(1)) {
			commit(&verifier, &service(1), &good_report()).unwrap();
		}
		run_to_epoch_end();
		assert!(pos_events().contains(&Event::NodeNotScored { epoch: 2, node: service(1) }));
		// No miss, no change.
		assert_eq!(Scores::<Test>::get(service(1)).unwrap(), before);
	});
}

#[test]
fn a_slow_node_misses() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		play_epoch_with(|_| ProbeReport { latency_ms: 5_000, ..good_report() });
		let record = Scores::<Test>::get(service(1)).unwrap();
		assert_eq!(record.last_quality, Perbill::zero());
		assert_eq!(record.misses, 1);
		let missed = Event::NodeMissed { epoch: 1, node: service(1), misses: 1 };
		assert!(pos_events().contains(&missed));
	});
}

#[test]
fn quality_exactly_at_the_miss_threshold_is_not_a_miss() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		// 600 ms: 50 % = miss_quality.
		play_epoch_with(|_| ProbeReport { latency_ms: 600, ..good_report() });
		let record = Scores::<Test>::get(service(1)).unwrap();
		assert_eq!(record.last_quality, Perbill::from_percent(50));
		assert_eq!(record.misses, 0);
		assert_eq!(record.good_streak, 1);
		next_block();
		// 601 ms: just below.
		play_epoch_with(|_| ProbeReport { latency_ms: 601, ..good_report() });
		let record = Scores::<Test>::get(service(1)).unwrap();
		assert_eq!(record.misses, 1);
		assert_eq!(record.good_streak, 0);
	});
}

#[test]
fn the_node_score_view_includes_the_registry_status() {
	ExtBuilder::default().build_and_execute(|| {
		// Registered but never scored.
		assert_eq!(
			ProofOfSync::node_score_view(&service(1)),
			Some(NodeScoreView {
				score: Perbill::zero(),
				last_quality: Perbill::zero(),
				epochs: 0,
				misses: 0,
				good_streak: 0,
				total_rewards: 0,
				proven_capacity: 0,
				credited_capacity: 10,
				status: Some(NodeStatus::Active),
			})
		);
		// Unknown.
		assert_eq!(ProofOfSync::node_score_view(&service(9)), None);
		play_epoch_with(|_| good_report());
		let view = ProofOfSync::node_score_view(&service(1)).unwrap();
		assert_eq!(view.score, Perbill::from_percent(50));
		assert_eq!(view.epochs, 1);
		assert_eq!(view.total_rewards, 400_000);
		// A record outlives the registration.
		MockRegistry::remove(&service(1));
		assert_eq!(ProofOfSync::node_score_view(&service(1)).unwrap().status, None);
	});
}

#[test]
fn node_scores_read_the_records() {
	ExtBuilder::empty().services(1).validators(3).build_and_execute(|| {
		let node = service(1);
		let score = |who: &AccountId| <ProofOfSync as NodeScores<AccountId>>::score(who);
		assert_eq!(score(&node), None);
		play_epoch_with(|_| good_report());
		assert_eq!(score(&node), Some(Perbill::from_percent(50)));
		assert_eq!(score(&node), Scores::<Test>::get(&node).map(|record| record.score));
		// Accounts without a record have no score.
		assert_eq!(score(&service(60)), None);
	});
}
