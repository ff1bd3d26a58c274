//! `UsageRecorder`: what is counted, for whom, and when the epoch usage is cleared.

use crate::{mock::*, *};

#[test]
fn usage_of_a_service_node_is_recorded() {
	ExtBuilder::default().build_and_execute(|| {
		let (provider, client) = (service(1), service(60));
		ProofOfSync::record_usage(&provider, &client, ServiceKind::GpuInference, 700);
		ProofOfSync::record_usage(&provider, &client, ServiceKind::GpuInference, 300);
		ProofOfSync::record_usage(&service(2), &client, ServiceKind::Naming, 400);
		assert_eq!(EpochUsage::<Test>::get(&provider), 1_000);
		assert_eq!(EpochUsage::<Test>::get(service(2)), 400);
		assert_eq!(MaxEpochUsage::<Test>::get(), 1_000);
		assert_eq!(ProviderUsage::<Test>::get(&provider), 1_000);
		assert_eq!(ClientUsage::<Test>::get(&client, ServiceKind::GpuInference), 1_000);
		assert_eq!(ClientUsage::<Test>::get(&client, ServiceKind::Naming), 400);
		assert_eq!(ClientUsage::<Test>::get(&client, ServiceKind::Storage), 0);
		// The runtime API's view of both sides.
		assert_eq!(
			ProofOfSync::usage_view(&provider),
			UsageView {
				delivered: 1_000,
				delivered_this_epoch: 1_000,
				consumed: ServiceKind::ALL.iter().map(|kind| (*kind, 0)).collect(),
			}
		);
		assert_eq!(
			ProofOfSync::usage_view(&client).consumed,
			vec![
				(ServiceKind::GpuInference, 1_000),
				(ServiceKind::Naming, 400),
				(ServiceKind::Storage, 0),
				(ServiceKind::Other, 0)
			]
		);
		assert_eq!(
			last_event(),
			Event::UsageRecorded {
				provider: service(2),
				client,
				kind: ServiceKind::Naming,
				units: 400
			}
		);
	});
}

#[test]
fn usage_of_an_unregistered_provider_is_ignored() {
	ExtBuilder::default().build_and_execute(|| {
		let events = pos_events().len();
		ProofOfSync::record_usage(&service(9), &service(60), ServiceKind::Storage, 5);
		assert_eq!(EpochUsage::<Test>::get(service(9)), 0);
		assert_eq!(ProviderUsage::<Test>::get(service(9)), 0);
		assert_eq!(ClientUsage::<Test>::get(service(60), ServiceKind::Storage), 0);
		assert_eq!(pos_events().len(), events);
	});
}

#[test]
fn only_rewardable_nodes_count_for_the_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		// A validator node, and a leaving service node: counted, but not for rewards.
		MockRegistry::update(&service(2), |node| node.status = NodeStatus::Unbonding);
		for provider in [validator(1), service(2)] {
			ProofOfSync::record_usage(&provider, &service(60), ServiceKind::Other, 50);
			assert_eq!(ProviderUsage::<Test>::get(&provider), 50);
			assert_eq!(EpochUsage::<Test>::get(&provider), 0);
		}
		assert_eq!(MaxEpochUsage::<Test>::get(), 0);
		assert_eq!(ClientUsage::<Test>::get(service(60), ServiceKind::Other), 100);
	});
}

#[test]
fn usage_counters_saturate() {
	ExtBuilder::default().build_and_execute(|| {
		for _ in 0..2 {
			ProofOfSync::record_usage(&service(1), &service(60), ServiceKind::Storage, u64::MAX);
		}
		assert_eq!(EpochUsage::<Test>::get(service(1)), u64::MAX);
		assert_eq!(MaxEpochUsage::<Test>::get(), u64::MAX);
		assert_eq!(ProviderUsage::<Test>::get(service(1)), u64::MAX);
		assert_eq!(ClientUsage::<Test>::get(service(60), ServiceKind::Storage), u64::MAX);
	});
}

#[test]
fn the_epoch_usage_is_cleared_by_the_tally() {
	ExtBuilder::default().build_and_execute(|| {
		ProofOfSync::record_usage(&service(1), &service(60), ServiceKind::GpuInference, 10);
		play_epoch_with(|_| good_report());
		assert_eq!(EpochUsage::<Test>::get(service(1)), 0);
		assert_eq!(MaxEpochUsage::<Test>::get(), 0);
		// The cumulative counters stay.
		assert_eq!(ProviderUsage::<Test>::get(service(1)), 10);
		assert_eq!(ClientUsage::<Test>::get(service(60), ServiceKind::GpuInference), 10);

		// Usage recorded after the tally counts for the next epoch.
		ProofOfSync::record_usage(&service(2), &service(60), ServiceKind::GpuInference, 7);
		assert_eq!(MaxEpochUsage::<Test>::get(), 7);
	});
}
