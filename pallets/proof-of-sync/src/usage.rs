//! Usage recording: service pallets report what each node delivered, which weighs into its
//! reward (the usage factor of the reward weight) and is counted per provider and per client.

use crate::{
	ClientUsage, Config, Epoch, EpochUsage, Event, MaxEpochUsage, Pallet, Params, ProviderUsage,
	Scores, ServiceKind, LOG_TARGET,
};
use dsync_primitives::traits::{NodeRegistry, NodeRole, NodeStatus, SlashReason, UsageRecorder};

impl<T: Config> Pallet<T> {
	/// A service pallet reports that `node` failed paid work, with the graduated penalties of
	/// Proof of Sync and its governed parameters:
	///
	/// - `proven_wrong` (its result was proven wrong on chain): the node is suspended and
	///   `wrong_answer_slash` of its bond is scheduled `slash_defer_epochs` ahead (cancellable in
	///   the registry like every slash), reason `WrongResult`;
	/// - otherwise (it did not deliver, or dissented from the majority): a miss, counted with the
	///   epochs it missed; `suspend_after_misses` misses in a row suspend an active node (a good
	///   epoch resets the count, as for probes).
	///
	/// Ignored for accounts that own no service node. Emits [`Event::ServiceFailed`].
	pub fn penalise_service(node: &T::AccountId, proven_wrong: bool) {
		let Some(summary) = T::Registry::node(node) else { return };
		if summary.role != NodeRole::Service {
			return;
		}
		let params = Params::<T>::get();
		let epoch = Epoch::<T>::get().index;
		let misses = Scores::<T>::mutate(node, |record| {
			let record = record.get_or_insert_with(Default::default);
			record.misses = record.misses.saturating_add(1);
			record.good_streak = 0;
			record.misses
		});
		let suspend = proven_wrong || misses >= params.suspend_after_misses;
		if suspend && matches!(summary.status, NodeStatus::Active | NodeStatus::Pending) {
			if let Err(error) = T::Registry::set_status(node, NodeStatus::Suspended) {
				log::debug!(target: LOG_TARGET, "cannot suspend {node:?}: {error:?}");
			}
		}
		if proven_wrong {
			let apply_at = epoch.saturating_add(params.slash_defer_epochs);
			if let Err(error) = T::Registry::schedule_slash(
				node,
				params.wrong_answer_slash,
				SlashReason::WrongResult,
				apply_at,
			) {
				log::warn!(target: LOG_TARGET, "cannot slash {node:?} for a wrong result: {error:?}");
			}
		}
		Self::deposit_event(Event::ServiceFailed {
			epoch,
			node: node.clone(),
			proven_wrong,
			misses,
		});
	}
}

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
