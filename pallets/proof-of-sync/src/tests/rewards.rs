//! Rewards: the budget and its parts, payment by weight and credits, conservation and dust
//! (also over many pseudo-random cases), failed payments, usage weighting against the median
//! reference, proven capacity and the window of unproven capacity.

use crate::{
	mock::*,
	rewards::{credited_capacity, proven_capacity, reference_usage, reward_weight, share},
	*,
};
use frame_support::traits::fungible::Mutate;
use sp_runtime::Perbill;

/// The `EpochClosed` event of `epoch`: `(budget, distributed)`.
fn closed(epoch: u32) -> (Balance, Balance) {
	pos_events()
		.into_iter()
		.find_map(|event| match event {
			Event::EpochClosed { epoch: e, budget, distributed } if e == epoch => {
				Some((budget, distributed))
			},
			_ => None,
		})
		.expect("the epoch was closed")
}

#[test]
fn the_budget_is_shared_by_weight_and_credits() {
	ExtBuilder::default().build_and_execute(|| {
		let treasury = free(&TREASURY);
		play_epoch_with(|_| good_report());
		// Both nodes: score 50 %, capacity 10, idle: the same weight, 400_000 each of the
		// 800_000 node part. Verifiers: 2 honest reports each of 6, 66_666 each of 200_000.
		assert_eq!(free(&service(1)), OWNER_BALANCE + 400_000);
		assert_eq!(free(&service(2)), OWNER_BALANCE + 400_000);
		for i in 1..=3 {
			assert_eq!(free(&validator(i)), OWNER_BALANCE + 66_666);
		}
		assert_eq!(closed(1), (1_000_000, 999_998));
		assert_eq!(treasury - free(&TREASURY), 999_998);
		assert_eq!(TotalRewardsPaid::<Test>::get(), 999_998);
		assert_eq!(Scores::<Test>::get(service(1)).unwrap().total_rewards, 400_000);
		assert_eq!(Scores::<Test>::get(validator(1)).unwrap().total_rewards, 66_666);
		let events = pos_events();
		assert!(events.contains(&Event::NodeRewarded {
			epoch: 1,
			node: service(1),
			amount: 400_000
		}));
		assert!(events.contains(&Event::VerifierRewarded {
			epoch: 1,
			verifier: validator(2),
			amount: 66_666
		}));
		// Per-epoch storage is gone.
		assert_eq!(Credits::<Test>::iter().count(), 0);
		assert_eq!(RewardWeights::<Test>::iter().count(), 0);
		assert_eq!(Totals::<Test>::get(), EpochTotals::default());
		assert!(Targets::<Test>::get().is_empty());
	});
}

#[test]
fn the_budget_is_limited_by_the_reward_source() {
	ExtBuilder::default().treasury(ED + 1_000).build_and_execute(|| {
		play_epoch_with(|_| good_report());
		// The treasury keeps its existential deposit: 1_000 to share.
		let (budget, distributed) = closed(1);
		assert_eq!(budget, 1_000);
		// Nodes 400 each, verifiers 200 · 2/6 = 66 each.
		assert_eq!(distributed, 998);
		assert_eq!(free(&TREASURY), ED + 2);
	});
}

#[test]
fn a_part_without_recipients_stays_at_the_source() {
	// Pending nodes have no reward weight: only the verifiers are paid.
	ExtBuilder::empty()
		.service_node(service(1), key_of(&service(1)), 10, NodeStatus::Pending)
		.validators(3)
		.build_and_execute(|| {
			play_epoch_with(|_| good_report());
			assert_eq!(closed(1), (200_000, 199_998));
		});
	// Nobody reported: no weight and no credit, nothing paid.
	ExtBuilder::default().build_and_execute(|| {
		let treasury = free(&TREASURY);
		run_to_epoch_end();
		assert_eq!(closed(1), (0, 0));
		assert_eq!(free(&TREASURY), treasury);
	});
}

#[test]
fn a_failed_payment_is_skipped_and_stays_at_the_source() {
	ExtBuilder::default()
		.with_params(|params| params.epoch_reward = 6)
		.build_and_execute(|| {
			// Service 1's account is gone: it cannot receive less than the existential deposit.
			<Balances as Mutate<AccountId>>::set_balance(&service(1), 0);
			play_epoch_with(|_| good_report());
			// Node part 5: 2 each; verifier part 1: 0 each.
			let events = pos_events();
			let failed = Event::RewardFailed { epoch: 1, who: service(1), amount: 2 };
			assert!(events.contains(&failed));
			let paid = Event::NodeRewarded { epoch: 1, node: service(2), amount: 2 };
			assert!(events.contains(&paid));
			assert_eq!(closed(1), (6, 2));
			assert_eq!(free(&service(1)), 0);
			assert_eq!(free(&TREASURY), TREASURY_BALANCE - 2);
			assert_eq!(Scores::<Test>::get(service(1)).unwrap().total_rewards, 0);
		});
}

#[test]
fn a_used_node_earns_more_than_an_idle_one() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_collecting();
		ProofOfSync::record_usage(
			&service(1),
			&service(50),
			ServiceKind::GpuInference,
			100,
			verified(0),
		);
		play_epoch_with(|_| good_report());
		// Usage factor 100 % against 50 %: 2/3 and 1/3 of 800_000.
		assert_eq!(free(&service(1)), OWNER_BALANCE + 533_333);
		assert_eq!(free(&service(2)), OWNER_BALANCE + 266_666);
		assert!(free(&service(1)) > free(&service(2)));
	});
}

#[test]
fn capacity_weighs_in() {
	ExtBuilder::empty()
		.service_node(service(1), key_of(&service(1)), 30, NodeStatus::Active)
		.service_node(service(2), key_of(&service(2)), 10, NodeStatus::Active)
		.validators(3)
		.build_and_execute(|| {
			play_epoch_with(|_| good_report());
			assert_eq!(free(&service(1)), OWNER_BALANCE + 600_000);
			assert_eq!(free(&service(2)), OWNER_BALANCE + 200_000);
		});
}

#[test]
fn declared_capacity_counts_only_as_far_as_usage_proved_it() {
	// Service 1 declares 30 units, service 2 declares 10; only 5 units count without proof.
	ExtBuilder::empty()
		.service_node(service(1), key_of(&service(1)), 30, NodeStatus::Active)
		.service_node(service(2), key_of(&service(2)), 10, NodeStatus::Active)
		.validators(3)
		.with_params(|params| params.unproven_capacity = 5)
		.build_and_execute(|| {
			play_epoch_with(|_| good_report());
			// Both are credited 5 units: the 30 declared by service 1 are a claim.
			assert_eq!(free(&service(1)), OWNER_BALANCE + 400_000);
			assert_eq!(free(&service(2)), OWNER_BALANCE + 400_000);
			let view = ProofOfSync::node_score_view(&service(1)).unwrap();
			assert_eq!((view.proven_capacity, view.credited_capacity), (0, 5));

			// Service 1 delivers 200 units (10 per capacity unit): 20 units proven, credited
			// 20; service 2 is idle. Weights 20 · 100 % and 5 · 50 % (score 75 % each).
			run_to_collecting();
			ProofOfSync::record_usage(
				&service(1),
				&service(50),
				ServiceKind::GpuInference,
				200,
				verified(0),
			);
			let before = (free(&service(1)), free(&service(2)));
			play_epoch_with(|_| good_report());
			assert_eq!(free(&service(1)) - before.0, 711_111);
			assert_eq!(free(&service(2)) - before.1, 88_888);
			let view = ProofOfSync::node_score_view(&service(1)).unwrap();
			assert_eq!((view.proven_capacity, view.credited_capacity), (20, 20));

			// Unused for an epoch, the proof fades with α = 50 %: 10 units.
			play_epoch_with(|_| good_report());
			let view = ProofOfSync::node_score_view(&service(1)).unwrap();
			assert_eq!((view.proven_capacity, view.credited_capacity), (10, 10));
		});
}

#[test]
fn proof_beyond_the_declaration_is_not_credited() {
	ExtBuilder::empty()
		.service_node(service(1), key_of(&service(1)), 4, NodeStatus::Active)
		.validators(3)
		.with_params(|params| params.unproven_capacity = 0)
		.build_and_execute(|| {
			run_to_collecting();
			ProofOfSync::record_usage(
				&service(1),
				&service(50),
				ServiceKind::GpuInference,
				1_000,
				verified(0),
			);
			play_epoch_with(|_| good_report());
			let view = ProofOfSync::node_score_view(&service(1)).unwrap();
			// 100 units proven, 4 declared: 4 credited.
			assert_eq!((view.proven_capacity, view.credited_capacity), (100, 4));
		});
}

#[test]
fn idle_capacity_earns_nothing_without_an_unproven_allowance() {
	ExtBuilder::default()
		.with_params(|params| params.unproven_capacity = 0)
		.build_and_execute(|| {
			play_epoch_with(|_| good_report());
			// No weight at all: the node part stays at the source, verifiers are paid.
			assert_eq!(free(&service(1)), OWNER_BALANCE);
			assert_eq!(free(&service(2)), OWNER_BALANCE);
			assert_eq!(closed(1), (200_000, 199_998));
		});
}

#[test]
fn the_capacity_formulas_at_their_edges() {
	let mut params = test_params();
	params.usage_per_capacity_unit = 10;
	params.ema_alpha = Perbill::from_percent(50);
	// Usage below one unit proves nothing; a proof halves and fades to 0 (rounded down).
	assert_eq!(proven_capacity(&params, 0, 9), 0);
	assert_eq!(proven_capacity(&params, 0, 10), 1);
	assert_eq!(proven_capacity(&params, 7, 0), 3);
	assert_eq!(proven_capacity(&params, 1, 0), 0);
	assert_eq!(proven_capacity(&params, 7, 100), 10);
	assert_eq!(proven_capacity(&params, u64::MAX, u64::MAX), u64::MAX / 2);
	// α = 100 %: only this epoch counts.
	params.ema_alpha = Perbill::one();
	assert_eq!(proven_capacity(&params, 50, 20), 2);
	params.usage_per_capacity_unit = 1;
	assert_eq!(proven_capacity(&params, 0, u64::MAX), u64::MAX);
	params.unproven_capacity = 5;
	params.unproven_epochs = 3;
	// Within the first 3 scored epochs: `min(declared, max(unproven, proven))`.
	assert_eq!(credited_capacity(&params, 30, 0, 1), 5);
	assert_eq!(credited_capacity(&params, 30, 0, 3), 5);
	assert_eq!(credited_capacity(&params, 3, 0, 1), 3);
	assert_eq!(credited_capacity(&params, 30, 12, 2), 12);
	assert_eq!(credited_capacity(&params, 30, 100, 3), 30);
	// After them: `min(declared, proven)`.
	assert_eq!(credited_capacity(&params, 30, 0, 4), 0);
	assert_eq!(credited_capacity(&params, 30, 3, 4), 3);
	assert_eq!(credited_capacity(&params, 30, 12, u32::MAX), 12);
	assert_eq!(credited_capacity(&params, 30, 100, 4), 30);
	// No window: unproven capacity is never credited (a scored epoch counts from 1).
	params.unproven_epochs = 0;
	assert_eq!(credited_capacity(&params, 30, 0, 1), 0);
	assert_eq!(credited_capacity(&params, 30, 7, 1), 7);
	// The largest window: credited in every epoch.
	params.unproven_epochs = u32::MAX;
	assert_eq!(credited_capacity(&params, 30, 0, u32::MAX), 5);
	params.unproven_capacity = 0;
	assert_eq!(credited_capacity(&params, 30, 0, 1), 0);
	params.unproven_capacity = u64::MAX;
	assert_eq!(credited_capacity(&params, 30, 0, 1), 30);
}

#[test]
fn the_reference_usage_is_the_lower_median_of_the_used_nodes() {
	// Nobody used: no reference (every factor is `idle`).
	assert_eq!(reference_usage(vec![]), 0);
	assert_eq!(reference_usage(vec![0, 0, 0]), 0);
	// One used node: its own usage.
	assert_eq!(reference_usage(vec![0, 5, 0]), 5);
	// An odd count: the middle value; an even count: the lower of the two middle values.
	assert_eq!(reference_usage(vec![3, 1, 2]), 2);
	assert_eq!(reference_usage(vec![4, 1, 3, 2]), 2);
	assert_eq!(reference_usage(vec![5, 100]), 5);
	// Zeros are left out: idle nodes do not pull the reference down.
	assert_eq!(reference_usage(vec![0, 0, 0, 0, 7, 3, 1_000_000]), 7);
	// One outlier, or up to half of the used nodes, do not move it above the others' usages,
	// not even beside a single honest node.
	assert_eq!(reference_usage(vec![100, u64::MAX]), 100);
	assert_eq!(reference_usage(vec![100, 100, u64::MAX]), 100);
	assert_eq!(reference_usage(vec![100, 90, 110, u64::MAX, u64::MAX]), 110);
	assert_eq!(reference_usage(vec![100, 90, 110, 95, u64::MAX, u64::MAX, u64::MAX]), 110);
	assert_eq!(reference_usage(vec![100, 90, 110, u64::MAX, u64::MAX, u64::MAX]), 110);
	// A majority of them can.
	assert_eq!(reference_usage(vec![100, u64::MAX, u64::MAX]), u64::MAX);
}

#[test]
fn the_usage_factor_formula() {
	let half = Perbill::from_percent(50);
	// No reference: idle.
	assert_eq!(usage_factor(half, 0, 0), half);
	assert_eq!(usage_factor(half, 1_000, 0), half);
	// Unused: idle; at or above the reference: the full factor.
	assert_eq!(usage_factor(half, 0, 100), half);
	assert_eq!(usage_factor(half, 100, 100), Perbill::one());
	assert_eq!(usage_factor(half, u64::MAX, 100), Perbill::one());
	// Between: linear.
	assert_eq!(usage_factor(half, 50, 100), Perbill::from_percent(75));
}

#[test]
fn one_outlier_does_not_lower_the_others_usage_factor() {
	// Services 1 and 2 deliver 100 units each; service 3, in the second run, 10^12 (verified and
	// paid for: the test parameters have no burn cap).
	let run = |outlier: u64| {
		let mut weights = Vec::new();
		ExtBuilder::empty().services(3).validators(3).build_and_execute(|| {
			run_to_collecting();
			for (i, units) in [(1, 100), (2, 100), (3, outlier)] {
				ProofOfSync::record_usage(
					&service(i),
					&service(60),
					ServiceKind::GpuInference,
					units,
					verified(0),
				);
			}
			weights = reward_weights_of_epoch(&[service(1), service(2), service(3)]);
		});
		weights
	};
	let without = run(100);
	let with = run(1_000_000_000_000);
	// The median of (100, 100, 10^12) is 100: services 1 and 2 keep the full factor. With the
	// maximum as the reference their factor fell to a hair above 50 %, halving their weight.
	assert_eq!(with[0], without[0]);
	assert_eq!(with[1], without[1]);
	// Score 50 %, 10 capacity units, factor 100 %.
	assert_eq!(without[0], 5_000_000_000);
	// The outlier itself gets no more than the full factor either.
	assert_eq!(with[2], without[2]);
}

#[test]
fn unproven_capacity_is_credited_only_in_the_first_epochs() {
	// Both declare 30 units; 5 count without proof, during the first 2 scored epochs.
	ExtBuilder::empty()
		.service_node(service(1), key_of(&service(1)), 30, NodeStatus::Active)
		.service_node(service(2), key_of(&service(2)), 30, NodeStatus::Active)
		.validators(3)
		.with_params(|params| {
			params.unproven_capacity = 5;
			params.unproven_epochs = 2;
		})
		.build_and_execute(|| {
			// Epoch 1: both credited 5 units.
			play_epoch_with(|_| good_report());
			for i in 1..=2 {
				let view = ProofOfSync::node_score_view(&service(i)).unwrap();
				let capacity = (view.epochs, view.proven_capacity, view.credited_capacity);
				assert_eq!(capacity, (1, 0, 5));
			}
			assert_eq!(free(&service(1)), free(&service(2)));

			// Epoch 2: service 1 delivers 100 units (10 per capacity unit): 10 proven.
			run_to_collecting();
			ProofOfSync::record_usage(
				&service(1),
				&service(60),
				ServiceKind::GpuInference,
				100,
				verified(0),
			);
			play_epoch_with(|_| good_report());
			let view = ProofOfSync::node_score_view(&service(1)).unwrap();
			assert_eq!((view.epochs, view.proven_capacity, view.credited_capacity), (2, 10, 10));
			let view = ProofOfSync::node_score_view(&service(2)).unwrap();
			assert_eq!((view.epochs, view.proven_capacity, view.credited_capacity), (2, 0, 5));

			// Epoch 3: the window is over. Service 2 proved nothing: no weight, no reward.
			// Service 1's proof fades to 5 (α = 50 %): credited 5.
			let before = (free(&service(1)), free(&service(2)));
			play_epoch_with(|_| good_report());
			let view = ProofOfSync::node_score_view(&service(2)).unwrap();
			assert_eq!((view.epochs, view.proven_capacity, view.credited_capacity), (3, 0, 0));
			let view = ProofOfSync::node_score_view(&service(1)).unwrap();
			assert_eq!((view.epochs, view.proven_capacity, view.credited_capacity), (3, 5, 5));
			assert_eq!(free(&service(2)), before.1);
			assert!(free(&service(1)) > before.0);
			assert!(!pos_events().iter().any(|event| matches!(
				event,
				Event::NodeRewarded { epoch: 3, node, .. } if *node == service(2)
			)));
		});
}

#[test]
fn the_reward_weight_formula() {
	assert_eq!(reward_weight(Perbill::one(), 1, Perbill::one()), 1_000_000_000);
	let half = Perbill::from_percent(50);
	assert_eq!(reward_weight(half, 10, half), 2_500_000_000);
	assert_eq!(reward_weight(Perbill::zero(), 1_000, Perbill::one()), 0);
	// Saturates instead of overflowing.
	assert!(reward_weight(Perbill::one(), u64::MAX, Perbill::one()) > 0);
}

/// xorshift64*: small, fast and good enough to spread test cases.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	/// A number in `0..bound`.
	fn below(&mut self, bound: u64) -> u64 {
		self.next() % bound
	}
}

#[test]
fn shares_never_exceed_the_part_and_lose_less_than_one_planck_each() {
	let mut rng = Rng(0x05ee_d0f5_ca1e);
	for _ in 0..2_000 {
		let part = u128::from(rng.next()) << rng.below(64);
		let count = rng.below(20) + 1;
		let weights: Vec<u128> =
			(0..count).map(|_| u128::from(rng.next()) >> rng.below(64)).collect();
		let total: u128 = weights.iter().sum();
		let paid: u128 = weights.iter().map(|weight| share(part, *weight, total)).sum();
		if total == 0 {
			assert_eq!(paid, 0);
			continue;
		}
		assert!(paid <= part);
		let recipients = weights.iter().filter(|weight| **weight > 0).count() as u128;
		assert!(part - paid < recipients.max(1), "part {part}, paid {paid}, weights {weights:?}");
	}
	assert_eq!(share(100u64, 1, 0), 0);
	assert_eq!(share(100u64, 5, 3), 100);
}

#[test]
fn every_epoch_pays_its_budget_less_dust_over_random_cases() {
	let mut rng = Rng(0xd5_c0ffee);
	for case in 0..25 {
		let services = rng.below(6) as u8 + 1;
		let mut builder = ExtBuilder::empty().validators(3).with_params(|params| {
			params.epoch_reward = rng.below(10_000_000);
			params.verifier_share = Perbill::from_percent(rng.below(101) as u32);
			params.idle_usage_weight = Perbill::from_percent(rng.below(101) as u32);
		});
		for i in 1..=services {
			let capacity = rng.below(1_000) + 1;
			let status = if rng.below(5) == 0 { NodeStatus::Pending } else { NodeStatus::Active };
			builder = builder.service_node(service(i), key_of(&service(i)), capacity, status);
		}
		let scores: Vec<u32> = (0..services).map(|_| rng.below(1_000_000_001) as u32).collect();
		let usages: Vec<u64> = (0..services).map(|_| rng.below(3) * rng.below(1_000)).collect();
		let reports: Vec<u32> = (0..services).map(|_| rng.below(1_100) as u32).collect();

		builder.build_and_execute(|| {
			for i in 1..=services {
				let index = usize::from(i - 1);
				Scores::<Test>::insert(
					service(i),
					NodeScore { score: Perbill::from_parts(scores[index]), ..Default::default() },
				);
				let (usage, kind) = (usages[index], ServiceKind::Storage);
				ProofOfSync::record_usage(&service(i), &TREASURY, kind, usage, verified(0));
			}
			let before: Vec<Balance> = (1..=services)
				.map(service)
				.chain((1..=3).map(validator))
				.map(|who| free(&who))
				.collect();
			let treasury = free(&TREASURY);

			play_epoch_with(|node| {
				let index = Targets::<Test>::get().iter().position(|n| n == node).unwrap();
				ProbeReport { latency_ms: reports[index], ..good_report() }
			});

			let (budget, distributed) = closed(1);
			let after: Vec<Balance> = (1..=services)
				.map(service)
				.chain((1..=3).map(validator))
				.map(|who| free(&who))
				.collect();
			let received: Balance = after.iter().zip(&before).map(|(a, b)| a - b).sum();
			assert_eq!(received, distributed, "case {case}");
			assert_eq!(treasury - free(&TREASURY), distributed, "case {case}");
			assert!(distributed <= budget, "case {case}");
			// Dust: less than one planck per recipient (at most every node and verifier).
			let recipients = u64::from(services) + 3;
			assert!(budget - distributed < recipients, "case {case}: {budget} - {distributed}");
			assert!(
				pos_events().iter().all(|event| !matches!(event, Event::RewardFailed { .. })),
				"case {case}"
			);
		});
	}
}
