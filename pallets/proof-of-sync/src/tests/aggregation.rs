//! Aggregation of the revealed reports: lower medians, clipping of deviating reports (also
//! against colluding verifiers), reputation, credits and era points.

use crate::{
	aggregate::{lower_median, Medians},
	mock::*,
	*,
};
use sp_runtime::Perbill;

#[test]
fn the_lower_median_takes_the_lower_middle() {
	assert_eq!(lower_median(vec![]), 0);
	assert_eq!(lower_median(vec![5]), 5);
	assert_eq!(lower_median(vec![2, 1]), 1);
	assert_eq!(lower_median(vec![3, 1, 2]), 2);
	assert_eq!(lower_median(vec![4, 1, 3, 2]), 2);
	assert_eq!(lower_median(vec![9, 9, 1, 1, 5]), 5);
	assert_eq!(lower_median(vec![u32::MAX, 0]), 0);
}

#[test]
fn medians_of_flags_and_numbers() {
	let reports = [
		good_report(),
		ProbeReport { latency_ms: 500, sync_lag: 4, ..good_report() },
		down_report(),
	];
	let medians = Medians::of(reports.iter());
	assert_eq!(
		medians,
		Medians { available: true, challenge_ok: true, latency_ms: 500, sync_lag: 4 }
	);
	// Two reports: the lower median of a tie is the lower value (false, the smaller number).
	let medians = Medians::of(reports[1..].iter());
	assert_eq!(
		medians,
		Medians { available: false, challenge_ok: false, latency_ms: 500, sync_lag: 4 }
	);
	let params = test_params();
	let agreeing = ProbeReport {
		available: false,
		challenge_ok: false,
		latency_ms: 500,
		sync_lag: 4,
		evidence: None,
	};
	assert!(!medians.deviates(&agreeing, &params));
	assert!(medians.deviates(&reports[1], &params));
	assert!(medians.deviates(&down_report(), &params));
}

#[test]
fn deviation_uses_the_clip_thresholds() {
	let params = test_params();
	let medians = Medians { available: true, challenge_ok: true, latency_ms: 300, sync_lag: 5 };
	let at = |latency_ms, sync_lag| ProbeReport { latency_ms, sync_lag, ..good_report() };
	// Exactly at the thresholds (200 ms, 3 blocks) is not a deviation.
	assert!(!medians.deviates(&at(100, 2), &params));
	assert!(!medians.deviates(&at(500, 8), &params));
	// One more is.
	assert!(medians.deviates(&at(99, 5), &params));
	assert!(medians.deviates(&at(501, 5), &params));
	assert!(medians.deviates(&at(300, 1), &params));
	assert!(medians.deviates(&at(300, 9), &params));
	// A different flag is.
	assert!(medians.deviates(&ProbeReport { challenge_ok: false, ..at(300, 5) }, &params));
	assert!(medians.deviates(&ProbeReport { available: false, ..at(300, 5) }, &params));
}

/// One service node and three validators, so every validator is drawn for the node.
fn one_node() -> ExtBuilder {
	ExtBuilder::empty().services(1).validators(3)
}

#[test]
fn one_liar_of_three_is_clipped() {
	one_node().build_and_execute(|| {
		let node = service(1);
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), good_report()),
			(validator(3), node.clone(), down_report()),
		]);
		let events = pos_events();
		assert!(events.contains(&Event::VerifierClipped {
			epoch: 1,
			node: node.clone(),
			verifier: validator(3)
		}));
		assert_eq!(
			events
				.iter()
				.filter(|event| matches!(event, Event::VerifierClipped { .. }))
				.count(),
			1
		);
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node: node.clone(),
			quality: Perbill::one(),
			score: Perbill::from_percent(50),
			reports: 3,
		}));
		assert_eq!(Reputation::<Test>::get(validator(3)), Perbill::from_percent(90));
		// Honest reports recover reputation up to 100 %.
		assert_eq!(Reputation::<Test>::get(validator(1)), Perbill::one());
		// Era points for the honest ones only.
		assert_eq!(MockEraPoints::get(), vec![(validator(1), 20), (validator(2), 20)]);
		// Credits were paid out: only the honest verifiers were rewarded.
		let rewarded = |who: AccountId| {
			events.iter().any(|event| match event {
				Event::VerifierRewarded { verifier, .. } => *verifier == who,
				_ => false,
			})
		};
		assert!(rewarded(validator(1)));
		assert!(rewarded(validator(2)));
		assert!(!rewarded(validator(3)));
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
		assert!(events.contains(&Event::VerifierClipped {
			epoch: 1,
			node: node.clone(),
			verifier: validator(1)
		}));
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
		assert!(!events.iter().any(|event| matches!(event, Event::VerifierClipped { .. })));
		// Median latency 150 ms: (1_100 - 150) / (1_100 - 100) = 95 %; median lag 0.
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node,
			quality: Perbill::from_percent(95),
			score: Perbill::from_parts(475_000_000),
			reports: 3,
		}));
	});
}

#[test]
fn a_lagging_outlier_is_clipped() {
	one_node().build_and_execute(|| {
		let node = service(1);
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), good_report()),
			(validator(3), node.clone(), ProbeReport { sync_lag: 4, ..good_report() }),
		]);
		assert!(pos_events().contains(&Event::VerifierClipped {
			epoch: 1,
			node,
			verifier: validator(3)
		}));
	});
}

#[test]
fn with_two_reports_a_split_decision_fails_the_node() {
	one_node().build_and_execute(|| {
		let node = service(1);
		// The third verifier is absent.
		play_epoch(&[
			(validator(1), node.clone(), good_report()),
			(validator(2), node.clone(), down_report()),
		]);
		let events = pos_events();
		assert!(events.contains(&Event::NodeScored {
			epoch: 1,
			node: node.clone(),
			quality: Perbill::zero(),
			score: Perbill::zero(),
			reports: 2,
		}));
		assert!(events.contains(&Event::VerifierClipped {
			epoch: 1,
			node: node.clone(),
			verifier: validator(1)
		}));
		assert!(events.contains(&Event::VerifierAbsent { epoch: 1, node, verifier: validator(3) }));
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
