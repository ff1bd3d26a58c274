//! The [`NodeRegistry`] interface Proof of Sync and the service pallets work through, and the
//! epoch-start work.

use crate::{
	BalanceOf, Config, CurrentEpoch, EpochIndex, ModelId, NodeOfKey, NodeRegistry, NodeStatus,
	NodeSummary, Nodes, Pallet, Providers, ServiceKind, ServiceNodes, SlashId, SlashReason,
	ValidatorNodes, WeightInfo,
};
use alloc::vec::Vec;
use sp_runtime::{DispatchError, DispatchResult, Perbill, Weight};

impl<T: Config> Pallet<T> {
	/// The start of epoch `epoch`: record it as the current epoch, apply the pending
	/// declarations, promote `Pending` validator nodes to `Active` and apply the slashes due.
	///
	/// The work is bounded by the list bounds: at most `MaxServiceNodes + MaxValidatorNodes`
	/// declarations, `MaxValidatorNodes` validators and `MaxSlashesPerEpoch` slashes (or epochs
	/// read). Slashes due at an epoch that is skipped, or beyond an epoch start's bound, apply
	/// at a later epoch start; until then they stay pending (and cancellable).
	pub fn do_on_epoch_start(epoch: EpochIndex) -> Weight {
		CurrentEpoch::<T>::put(epoch);
		let declarations = Self::apply_pending_declarations();
		let validators = Self::promote_pending_validators();
		let slashes = Self::apply_due_slashes(epoch);
		T::WeightInfo::on_epoch_start(declarations, validators, slashes)
	}

	/// The owners in `list` whose node has one of `statuses`, in list order, at most `max`.
	fn filter_nodes<'a>(
		list: impl IntoIterator<Item = &'a T::AccountId>,
		statuses: &[NodeStatus],
		max: u32,
	) -> Vec<T::AccountId> {
		let max = dsync_primitives::convert::u32_to_usize(max);
		list.into_iter()
			.filter(|owner| {
				Nodes::<T>::get(*owner).is_some_and(|node| statuses.contains(&node.status))
			})
			.take(max)
			.cloned()
			.collect()
	}
}

impl<T: Config> NodeRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	/// The summary of `owner`'s node: the declaration in force (its endpoint and capacity
	/// units) and the active bond, excluding the unbonding chunk.
	fn node(owner: &T::AccountId) -> Option<NodeSummary<T::AccountId, BalanceOf<T>>> {
		Nodes::<T>::get(owner).map(|node| NodeSummary {
			role: node.role,
			status: node.status,
			capacity_units: node.declaration.capacity_units(),
			storage_gib: node.declaration.resources.storage_gib,
			endpoint: node.declaration.endpoint.into_inner(),
			offchain_key: node.offchain_key,
			bond: node.bond,
		})
	}

	fn node_of_key(key: &T::AccountId) -> Option<T::AccountId> {
		NodeOfKey::<T>::get(key)
	}

	fn probe_targets(max: u32) -> Vec<T::AccountId> {
		let nodes = ServiceNodes::<T>::get();
		Self::filter_nodes(
			nodes.iter(),
			&[NodeStatus::Pending, NodeStatus::Active, NodeStatus::Suspended],
			max,
		)
	}

	fn active_validator_nodes(max: u32) -> Vec<T::AccountId> {
		let nodes = ValidatorNodes::<T>::get();
		Self::filter_nodes(nodes.iter(), &[NodeStatus::Active], max)
	}

	/// The first `max` owners of [`Providers`] of `kind`, in the order they became providers.
	/// Reads the one list, whatever `max`.
	fn providers(kind: ServiceKind, max: u32) -> Vec<T::AccountId> {
		let max = dsync_primitives::convert::u32_to_usize(max);
		Providers::<T>::get(kind).into_iter().take(max).collect()
	}

	/// Whether the declaration in force of `owner`'s node lists `model`. Reads one node record.
	fn serves_model(owner: &T::AccountId, model: ModelId) -> bool {
		Nodes::<T>::get(owner).is_some_and(|node| node.declaration.models.contains(&model))
	}

	fn set_status(owner: &T::AccountId, status: NodeStatus) -> DispatchResult {
		Self::do_set_status(owner, status)
	}

	fn schedule_slash(
		owner: &T::AccountId,
		fraction: Perbill,
		reason: SlashReason,
		apply_at: u32,
	) -> Result<SlashId, DispatchError> {
		Self::do_schedule_slash(owner, fraction, reason, apply_at)
	}

	fn on_epoch_start(epoch: u32) -> Weight {
		Self::do_on_epoch_start(epoch)
	}
}
