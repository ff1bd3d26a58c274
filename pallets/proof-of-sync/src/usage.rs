//! Usage recording: service pallets report what each node delivered, which weighs into its
//! reward (the usage factor of the reward weight) and is counted per provider and per client.

use crate::{
	ClientUsage, Config, EpochUsage, Event, MaxEpochUsage, Pallet, ProviderUsage, ServiceKind,
};
use dsync_primitives::traits::{NodeRegistry, NodeRole, NodeStatus, UsageRecorder};

impl<T: Config> UsageRecorder<T::AccountId> for Pallet<T> {
	/// Record that `provider` delivered `units` of `kind` to `client`.
	///
	/// Ignored unless `provider` owns a registered node. The cumulative totals
	/// ([`ProviderUsage`], [`ClientUsage`]) count every registered node; the epoch usage that
	/// weighs into rewards ([`EpochUsage`], [`MaxEpochUsage`]) counts only service nodes that
	/// are not leaving, the only ones that can be rewarded. All counters saturate. Emits
	/// [`Event::UsageRecorded`].
	fn record_usage(provider: &T::AccountId, client: &T::AccountId, kind: ServiceKind, units: u64) {
		let Some(node) = T::Registry::node(provider) else { return };
		if node.role == NodeRole::Service && node.status != NodeStatus::Unbonding {
			let used = EpochUsage::<T>::mutate(provider, |usage| {
				*usage = usage.saturating_add(units);
				*usage
			});
			MaxEpochUsage::<T>::mutate(|max| *max = (*max).max(used));
		}
		ProviderUsage::<T>::mutate(provider, |usage| *usage = usage.saturating_add(units));
		ClientUsage::<T>::mutate(client, kind, |usage| *usage = usage.saturating_add(units));
		Self::deposit_event(Event::UsageRecorded {
			provider: provider.clone(),
			client: client.clone(),
			kind,
			units,
		});
	}
}
