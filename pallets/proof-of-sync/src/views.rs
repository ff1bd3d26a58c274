//! What the pallet reports: the views behind the runtime API.

use crate::{
	BalanceOf, Config, Epoch, EpochUsage, EpochView, NodeScoreView, Pallet, Params, ProviderUsage,
	Scores, UsageView,
};
use dsync_primitives::traits::NodeRegistry;
use sp_runtime::SaturatedConversion;

impl<T: Config> Pallet<T> {
	/// The Proof-of-Sync record of `node` with its registry status; `None` when the node has
	/// neither a record nor a registration.
	pub fn node_score_view(node: &T::AccountId) -> Option<NodeScoreView<BalanceOf<T>>> {
		let summary = T::Registry::node(node);
		let status = summary.as_ref().map(|summary| summary.status);
		let record = Scores::<T>::get(node);
		if record.is_none() && status.is_none() {
			return None;
		}
		let record = record.unwrap_or_default();
		let declared = summary.map(|summary| summary.capacity_units).unwrap_or_default();
		// As of its last tally; a node never scored yet is in its first epoch.
		let credited_capacity = crate::credited_capacity(
			&Params::<T>::get(),
			declared,
			record.proven_capacity,
			record.epochs.max(1),
		);
		Some(NodeScoreView {
			score: record.score,
			last_quality: record.last_quality,
			epochs: record.epochs,
			misses: record.misses,
			good_streak: record.good_streak,
			total_rewards: record.total_rewards,
			proven_capacity: record.proven_capacity,
			credited_capacity,
			status,
		})
	}

	/// What `account` delivered as a provider. What it consumed as a client is not kept in
	/// state; it is the sum of the [`Event::UsageRecorded`](crate::Event::UsageRecorded) events
	/// that name it as the client.
	pub fn usage_view(account: &T::AccountId) -> UsageView {
		UsageView {
			delivered: ProviderUsage::<T>::get(account),
			delivered_this_epoch: EpochUsage::<T>::get(account),
		}
	}

	/// The current epoch as the runtime API returns it.
	pub fn epoch_view() -> EpochView {
		let info = Epoch::<T>::get();
		EpochView {
			index: info.index,
			start: info.start.saturated_into(),
			phase: info.phase,
			epoch_length: Params::<T>::get().epoch_length,
		}
	}
}
