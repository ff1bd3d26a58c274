//! `UsageRecorder`: what is counted, for whom, what of it is rewardable (verified, as far as the
//! burned fee pays for it), and when the epoch usage is cleared. Nothing is stored per client:
//! a client's consumption is what the `UsageRecorded` events report.

use crate::{mock::*, *};
use frame_support::traits::PalletInfoAccess;

/// The `UsageRecorded` events so far, oldest first, as
/// `(provider, client, kind, units, rewardable)`.
fn usage_events() -> Vec<(AccountId, AccountId, ServiceKind, u64, u64)> {
	pos_events()
		.into_iter()
		.filter_map(|event| match event {
			Event::UsageRecorded { provider, client, kind, units, rewardable } => {
				Some((provider, client, kind, units, rewardable))
			},
			_ => None,
		})
		.collect()
}

/// What `client` consumed of `kind`, as an indexer sums it from the `UsageRecorded` events.
fn consumed(client: &AccountId, kind: ServiceKind) -> u64 {
	usage_events()
		.into_iter()
		.filter(|(_, served, served_kind, _, _)| served == client && *served_kind == kind)
		.fold(0, |sum: u64, (_, _, _, units, _)| sum.saturating_add(units))
}

/// Whether any key is stored under the prefix of the per-client totals that storage version 1
/// kept (`ClientUsage`, removed in version 2).
fn client_usage_stored() -> bool {
	let prefix =
		frame_support::storage::storage_prefix(ProofOfSync::name().as_bytes(), b"ClientUsage");
	frame_support::storage::unhashed::contains_prefixed_key(&prefix)
}

#[test]
fn usage_of_a_service_node_is_recorded() {
	ExtBuilder::default().build_and_execute(|| {
		let (provider, client) = (service(1), service(60));
		ProofOfSync::record_usage(&provider, &client, ServiceKind::GpuInference, 700, verified(0));
		ProofOfSync::record_usage(&provider, &client, ServiceKind::GpuInference, 300, verified(0));
		ProofOfSync::record_usage(&service(2), &client, ServiceKind::Naming, 400, verified(0));
		assert_eq!(EpochUsage::<Test>::get(&provider), 1_000);
		assert_eq!(EpochUsage::<Test>::get(service(2)), 400);
		assert_eq!(ProviderUsage::<Test>::get(&provider), 1_000);
		// Each delivery reported with its client, kind and units: what the client consumed.
		assert_eq!(
			usage_events(),
			vec![
				(provider.clone(), client.clone(), ServiceKind::GpuInference, 700, 700),
				(provider.clone(), client.clone(), ServiceKind::GpuInference, 300, 300),
				(service(2), client.clone(), ServiceKind::Naming, 400, 400),
			]
		);
		assert_eq!(consumed(&client, ServiceKind::GpuInference), 1_000);
		assert_eq!(consumed(&client, ServiceKind::Naming), 400);
		assert_eq!(consumed(&client, ServiceKind::Storage), 0);
		// Nothing of it stored for the client.
		assert!(!client_usage_stored());
		// The runtime API's view of the providers; the client delivered nothing.
		assert_eq!(
			ProofOfSync::usage_view(&provider),
			UsageView { delivered: 1_000, delivered_this_epoch: 1_000 }
		);
		assert_eq!(
			ProofOfSync::usage_view(&client),
			UsageView { delivered: 0, delivered_this_epoch: 0 }
		);
		assert_eq!(
			last_event(),
			Event::UsageRecorded {
				provider: service(2),
				client,
				kind: ServiceKind::Naming,
				units: 400,
				rewardable: 400,
			}
		);
	});
}

#[test]
fn usage_stores_nothing_per_client() {
	ExtBuilder::default().build_and_execute(|| {
		// A farm of fresh client accounts, each paying for every kind of service: only the
		// provider's counters change, and only the events name the clients.
		for i in 60..70 {
			for kind in ServiceKind::ALL {
				ProofOfSync::record_usage(&service(1), &service(i), kind, 1, verified(0));
			}
		}
		assert!(!client_usage_stored());
		let kinds = u64::try_from(ServiceKind::ALL.len()).unwrap();
		assert_eq!(ProviderUsage::<Test>::get(service(1)), 10 * kinds);
		assert_eq!(usage_events().len(), 10 * ServiceKind::ALL.len());
		for i in 60..70 {
			for kind in ServiceKind::ALL {
				assert_eq!(consumed(&service(i), kind), 1);
			}
			assert_eq!(ProviderUsage::<Test>::get(service(i)), 0);
		}
	});
}

#[test]
fn usage_of_an_unregistered_provider_is_ignored() {
	ExtBuilder::default().build_and_execute(|| {
		let events = pos_events().len();
		ProofOfSync::record_usage(&service(9), &service(60), ServiceKind::Storage, 5, verified(0));
		assert_eq!(EpochUsage::<Test>::get(service(9)), 0);
		assert_eq!(ProviderUsage::<Test>::get(service(9)), 0);
		assert_eq!(pos_events().len(), events);
		assert!(!client_usage_stored());
	});
}

#[test]
fn only_rewardable_nodes_count_for_the_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		// A validator node, and a leaving service node: counted, but not for rewards.
		MockRegistry::update(&service(2), |node| node.status = NodeStatus::Unbonding);
		for provider in [validator(1), service(2)] {
			ProofOfSync::record_usage(&provider, &service(60), ServiceKind::Other, 50, verified(0));
			assert_eq!(ProviderUsage::<Test>::get(&provider), 50);
			assert_eq!(EpochUsage::<Test>::get(&provider), 0);
			assert_eq!(
				last_event(),
				Event::UsageRecorded {
					provider,
					client: service(60),
					kind: ServiceKind::Other,
					units: 50,
					rewardable: 0,
				}
			);
		}
		assert_eq!(consumed(&service(60), ServiceKind::Other), 100);
		assert!(!client_usage_stored());
	});
}

#[test]
fn unverified_usage_counts_in_the_totals_but_not_for_rewards() {
	ExtBuilder::default().build_and_execute(|| {
		// A job of one provider: nobody but the provider checked it, whatever it burned.
		let (provider, client) = (service(1), service(1));
		ProofOfSync::record_usage(
			&provider,
			&client,
			ServiceKind::GpuInference,
			500,
			unverified(u128::MAX),
		);
		assert_eq!(ProviderUsage::<Test>::get(&provider), 500);
		assert_eq!(EpochUsage::<Test>::get(&provider), 0);
		assert_eq!(ProofOfSync::usage_view(&provider).delivered, 500);
		assert_eq!(ProofOfSync::usage_view(&provider).delivered_this_epoch, 0);
		assert_eq!(
			last_event(),
			Event::UsageRecorded {
				provider: provider.clone(),
				client,
				kind: ServiceKind::GpuInference,
				units: 500,
				rewardable: 0,
			}
		);

		// It proves no capacity either: after the tally nothing is proven.
		play_epoch_with(|_| good_report());
		assert_eq!(Scores::<Test>::get(&provider).unwrap().proven_capacity, 0);
	});
}

#[test]
fn rewardable_usage_is_capped_by_the_burned_fee() {
	ExtBuilder::default()
		.with_params(|params| params.burn_per_usage_unit = 10)
		.build_and_execute(|| {
			let (provider, client) = (service(1), service(60));
			// 55 burned pays for 5 units of the 100 delivered.
			ProofOfSync::record_usage(&provider, &client, ServiceKind::Storage, 100, verified(55));
			assert_eq!(EpochUsage::<Test>::get(&provider), 5);
			assert_eq!(ProviderUsage::<Test>::get(&provider), 100);
			assert_eq!(
				last_event(),
				Event::UsageRecorded {
					provider: provider.clone(),
					client: client.clone(),
					kind: ServiceKind::Storage,
					units: 100,
					rewardable: 5,
				}
			);
			// Less than one unit's fee pays for nothing.
			ProofOfSync::record_usage(&provider, &client, ServiceKind::Storage, 100, verified(9));
			assert_eq!(EpochUsage::<Test>::get(&provider), 5);
			// A fee that pays for more than was delivered counts the delivery, no more.
			ProofOfSync::record_usage(
				&provider,
				&client,
				ServiceKind::Storage,
				100,
				verified(10_000),
			);
			assert_eq!(EpochUsage::<Test>::get(&provider), 105);
			assert_eq!(ProviderUsage::<Test>::get(&provider), 300);
			// The events report every unit delivered, and the rewardable part of each.
			assert_eq!(
				usage_events()
					.into_iter()
					.map(|(_, _, _, units, rewardable)| (units, rewardable))
					.collect::<Vec<_>>(),
				vec![(100, 5), (100, 0), (100, 100)]
			);
			assert_eq!(consumed(&client, ServiceKind::Storage), 300);
		});
}

#[test]
fn the_rewardable_usage_formula_at_its_edges() {
	let mut params = test_params();
	// No cap: every verified unit, and no unverified one.
	params.burn_per_usage_unit = 0;
	assert_eq!(rewardable_usage(&params, 1_000, verified(0)), 1_000);
	assert_eq!(rewardable_usage(&params, u64::MAX, verified(0)), u64::MAX);
	assert_eq!(rewardable_usage(&params, 1_000, unverified(u128::MAX)), 0);
	// A cap of 10 per unit: the burned fee over 10, rounded down, at most the units.
	params.burn_per_usage_unit = 10;
	assert_eq!(rewardable_usage(&params, 1_000, verified(0)), 0);
	assert_eq!(rewardable_usage(&params, 1_000, verified(9)), 0);
	assert_eq!(rewardable_usage(&params, 1_000, verified(10)), 1);
	assert_eq!(rewardable_usage(&params, 1_000, verified(10_000)), 1_000);
	assert_eq!(rewardable_usage(&params, 1_000, verified(u128::MAX)), 1_000);
	assert_eq!(rewardable_usage(&params, 1_000, unverified(u128::MAX)), 0);
	// A fee beyond what `u64` counts saturates.
	params.burn_per_usage_unit = 1;
	assert_eq!(rewardable_usage(&params, u64::MAX, verified(u128::MAX)), u64::MAX);
	// The largest cap: only the largest burn pays for a unit.
	params.burn_per_usage_unit = Balance::MAX;
	assert_eq!(rewardable_usage(&params, 5, verified(u128::from(u64::MAX) - 1)), 0);
	assert_eq!(rewardable_usage(&params, 5, verified(u128::from(u64::MAX))), 1);
	// The default counts a job at the digits model's price floor in full: 10^15 per item and
	// provider, 10 % burned, 18 units per item.
	let defaults = ProofOfSyncParams::<u128>::default();
	assert_eq!(defaults.burn_per_usage_unit, DEFAULT_BURN_PER_USAGE_UNIT);
	let floor_burn = 1_000_000_000_000_000u128 / 10;
	assert_eq!(rewardable_usage(&defaults, 18, verified(floor_burn)), 18);
	assert_eq!(rewardable_usage(&defaults, 18, verified(floor_burn / 10)), 2);
}

#[test]
fn usage_counters_saturate() {
	ExtBuilder::default().build_and_execute(|| {
		for _ in 0..2 {
			ProofOfSync::record_usage(
				&service(1),
				&service(60),
				ServiceKind::Storage,
				u64::MAX,
				verified(0),
			);
		}
		assert_eq!(EpochUsage::<Test>::get(service(1)), u64::MAX);
		assert_eq!(ProviderUsage::<Test>::get(service(1)), u64::MAX);
		// Each event reports its own delivery; an indexer's sum saturates like the counters.
		assert_eq!(
			usage_events(),
			vec![(service(1), service(60), ServiceKind::Storage, u64::MAX, u64::MAX); 2]
		);
		assert_eq!(consumed(&service(60), ServiceKind::Storage), u64::MAX);
	});
}

#[test]
fn the_epoch_usage_is_cleared_by_the_tally() {
	ExtBuilder::default().build_and_execute(|| {
		ProofOfSync::record_usage(
			&service(1),
			&service(60),
			ServiceKind::GpuInference,
			10,
			verified(0),
		);
		play_epoch_with(|_| good_report());
		assert_eq!(EpochUsage::<Test>::get(service(1)), 0);
		assert_eq!(Totals::<Test>::get(), EpochTotals::default());
		// The provider's cumulative counter stays; nothing was stored for the client.
		assert_eq!(ProviderUsage::<Test>::get(service(1)), 10);
		assert_eq!(consumed(&service(60), ServiceKind::GpuInference), 10);
		assert!(!client_usage_stored());

		// Usage recorded after the tally counts for the next epoch.
		ProofOfSync::record_usage(
			&service(2),
			&service(60),
			ServiceKind::GpuInference,
			7,
			verified(0),
		);
		assert_eq!(EpochUsage::<Test>::get(service(2)), 7);
	});
}
