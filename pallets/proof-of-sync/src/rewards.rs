//! Rewards: the reward weight of a service node (score, usage factor against the epoch's
//! reference usage, proven and credited capacity), the usage service pallets record
//! ([`UsageRecorder`]) and the part of it that is rewardable, the epoch budget, and its payment
//! to service nodes by reward weight and to verifiers by credits, in bounded batches.

use crate::{
	epoch::{len_u32, to_usize},
	BalanceOf, Config, Credits, Epoch, EpochInfo, EpochTotals, EpochUsage, Event, NodeScore,
	Pallet, Params, Phase, ProofOfSyncParams, ProviderUsage, RewardWeights, Scores, ServiceKind,
	Targets, TotalRewardsPaid, Totals, Verifiers, WeightInfo, LOG_TARGET,
};
use alloc::vec::Vec;
use dsync_primitives::traits::{NodeRegistry, NodeRole, NodeStatus, UsageProof, UsageRecorder};
use frame_support::{
	traits::{
		fungible,
		tokens::{Fortitude, Preservation},
		Get,
	},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{AtLeast32BitUnsigned, Saturating, UniqueSaturatedInto, Zero},
	Perbill, Rounding, SaturatedConversion,
};

/// Parts per billion of 100 %.
const PARTS_PER_BILLION: u128 = 1_000_000_000;

/// `idle + (1 − idle) · min(usage, reference) / reference`; `idle` when `reference` is zero.
/// Usage at or above the reference (the epoch's [`reference_usage`]) gets the full factor.
pub fn usage_factor(idle: Perbill, usage: u64, reference: u64) -> Perbill {
	if reference == 0 {
		return idle;
	}
	let used = Perbill::from_rational(usage.min(reference), reference);
	idle.saturating_add(Perbill::one().saturating_sub(idle).saturating_mul(used))
}

/// The usage an epoch's usage factors are measured against: the lower median of the non-zero
/// `usages` (the element at index `(n − 1) / 2` of the `n` non-zero values in ascending order),
/// 0 when there is none.
///
/// Why a median and not the maximum: with the maximum, one node recording a huge usage lowered
/// every other node's factor towards `idle`. The lower median is a value of the lower half:
/// outliers that are at most half of the used nodes (one beside a single honest node
/// included), however large, cannot raise it above what the other used nodes delivered, so
/// they cannot lower their factors (nodes at or above the median get the full factor).
pub fn reference_usage(mut usages: Vec<u64>) -> u64 {
	usages.retain(|usage| *usage > 0);
	usages.sort_unstable();
	usages
		.len()
		.checked_sub(1)
		.and_then(|last| usages.get(last / 2))
		.copied()
		.unwrap_or(0)
}

/// The units of a delivery of `units`, backed by `proof`, that weigh into rewards:
/// `min(units, proof.burned / burn_per_usage_unit)` when the delivery was verified
/// ([`UsageProof::verified`]), all of `units` when `burn_per_usage_unit` is 0, and none when it
/// was not verified.
///
/// A delivery nobody but its provider could check (a job of one provider, which a client may
/// post to its own node) proves nothing, and usage counts only as far as the fees burned for it
/// pay for: self-dealt usage costs its dealer at least `burn_per_usage_unit` per unit, burned.
pub fn rewardable_usage<Balance: Copy + UniqueSaturatedInto<u128>>(
	params: &ProofOfSyncParams<Balance>,
	units: u64,
	proof: UsageProof,
) -> u64 {
	if !proof.verified {
		return 0;
	}
	let per_unit: u128 = params.burn_per_usage_unit.unique_saturated_into();
	if per_unit == 0 {
		return units;
	}
	let paid_for = u64::try_from(proof.burned / per_unit).unwrap_or(u64::MAX);
	units.min(paid_for)
}

/// The capacity units proven after an epoch in which the node delivered `usage` units:
/// `max(usage / usage_per_capacity_unit, previous − ema_alpha · previous)` (the product rounded
/// down, so a proof fades to 0).
pub fn proven_capacity<Balance>(
	params: &ProofOfSyncParams<Balance>,
	previous: u64,
	usage: u64,
) -> u64 {
	let demonstrated = usage / params.usage_per_capacity_unit.max(1);
	let faded = previous.saturating_sub(params.ema_alpha.mul_ceil(previous));
	demonstrated.max(faded)
}

/// The capacity units a node's reward weight uses in its `epochs`-th scored epoch (counting
/// the epoch being weighed, so at least 1): `min(declared, max(unproven_capacity, proven))`
/// while `epochs <= unproven_epochs`, `min(declared, proven)` after. What a node declares
/// counts only as far as delivered usage proved it, beyond the governed `unproven_capacity` of
/// its first `unproven_epochs` scored epochs.
///
/// Why the window: credited for ever, `unproven_capacity` paid every registered node for idle
/// capacity, so a sybil operator earned it once per node, epoch after epoch. Within the window
/// each node gets a one-off, bounded credit, paid for by its registration bond and fee; the
/// record outlives the node ([`crate::Scores`]), so exiting and registering again does not
/// open a new window.
pub fn credited_capacity<Balance>(
	params: &ProofOfSyncParams<Balance>,
	declared: u64,
	proven: u64,
	epochs: u32,
) -> u64 {
	let unproven = if epochs <= params.unproven_epochs { params.unproven_capacity } else { 0 };
	declared.min(unproven.max(proven))
}

/// The reward weight `score (ppb) · capacity_units · usage_factor (ppb) / 10^9`, saturating.
pub fn reward_weight(score: Perbill, capacity_units: u64, usage_factor: Perbill) -> u128 {
	u128::from(score.deconstruct())
		.saturating_mul(u128::from(capacity_units))
		.saturating_mul(u128::from(usage_factor.deconstruct()))
		/ PARTS_PER_BILLION
}

/// `part · numerator / denominator`, rounded down; zero for a zero denominator. With
/// `numerator <= denominator` the share is at most `part`, and the shares of numerators adding up
/// to the denominator add up to `part` less than one planck per share.
pub fn share<Balance: AtLeast32BitUnsigned + Copy>(
	part: Balance,
	numerator: u128,
	denominator: u128,
) -> Balance {
	if denominator == 0 {
		return Zero::zero();
	}
	let part: u128 = part.saturated_into();
	let numerator = numerator.min(denominator);
	multiply_by_rational_with_rounding(part, numerator, denominator, Rounding::Down)
		.map(|amount| amount.saturated_into())
		.unwrap_or_else(Zero::zero)
}

/// Who a payment goes to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Recipient {
	/// A service node, by reward weight.
	Node,
	/// A verifier, by credits.
	Verifier,
}

impl<T: Config> Pallet<T> {
	/// After `node`'s tally: its proven capacity takes in the epoch's rewardable `usage`
	/// ([`proven_capacity`]) and, when it ends the tally `Active`, its reward weight
	/// ([`reward_weight`] of its score, its credited capacity out of `declared` in its
	/// `record.epochs`-th scored epoch, and its usage factor against the epoch's reference
	/// usage) is recorded and added to the epoch's total.
	pub(crate) fn weigh_reward(
		params: &ProofOfSyncParams<BalanceOf<T>>,
		node: &T::AccountId,
		record: &mut NodeScore<BalanceOf<T>>,
		status: Option<NodeStatus>,
		declared: u64,
		usage: u64,
		totals: &mut EpochTotals<BalanceOf<T>>,
	) {
		record.proven_capacity = proven_capacity(params, record.proven_capacity, usage);
		if status == Some(NodeStatus::Active) {
			let capacity =
				credited_capacity(params, declared, record.proven_capacity, record.epochs);
			let factor = usage_factor(params.idle_usage_weight, usage, totals.reference_usage);
			let weight = reward_weight(record.score, capacity, factor);
			if weight > 0 {
				RewardWeights::<T>::insert(node, weight);
				totals.total_weight = totals.total_weight.saturating_add(weight);
			}
		}
	}

	/// Fix the budget once the tally is over: `min(epoch_reward, what the source can spend)`,
	/// split into the verifier part and the node part; a part without recipients is dropped.
	pub(crate) fn fix_budget(
		params: &ProofOfSyncParams<BalanceOf<T>>,
		totals: &mut EpochTotals<BalanceOf<T>>,
	) {
		let source = T::RewardSource::get();
		let spendable = <T::Currency as fungible::Inspect<T::AccountId>>::reducible_balance(
			&source,
			Preservation::Preserve,
			Fortitude::Polite,
		);
		let budget = params.epoch_reward.min(spendable);
		let verifier_part = params.verifier_share.mul_floor(budget);
		let node_part = budget.saturating_sub(verifier_part);
		totals.node_part = if totals.total_weight == 0 { Zero::zero() } else { node_part };
		totals.verifier_part = if totals.total_credits == 0 { Zero::zero() } else { verifier_part };
		totals.budget = totals.node_part.saturating_add(totals.verifier_part);
	}

	/// Pay up to `NodesPerBlock` recipients from `cursor` on (targets, then verifier candidates);
	/// after the last one, close the epoch.
	pub(crate) fn pay_batch(info: &EpochInfo<BlockNumberFor<T>>, cursor: u32) -> Weight {
		let targets = Targets::<T>::get();
		let verifiers = Verifiers::<T>::get();
		let mut totals = Totals::<T>::get();
		let node_count = len_u32(targets.len());
		let total = node_count.saturating_add(len_u32(verifiers.len()));
		let end = cursor.saturating_add(T::NodesPerBlock::get().max(1)).min(total);
		let count = end.saturating_sub(cursor);

		let mut index = cursor;
		while index < end {
			if index < node_count {
				if let Some(node) = targets.get(to_usize(index)) {
					let weight = RewardWeights::<T>::take(node).unwrap_or_default();
					if weight > 0 {
						let amount = share(totals.node_part, weight, totals.total_weight);
						Self::pay(info.index, node, amount, Recipient::Node, &mut totals);
					}
				}
			} else {
				let verifier_index = to_usize(index.saturating_sub(node_count));
				if let Some(verifier) = verifiers.get(verifier_index) {
					let credits = Credits::<T>::take(verifier);
					if credits > 0 {
						let amount = share(
							totals.verifier_part,
							u128::from(credits),
							u128::from(totals.total_credits),
						);
						Self::pay(info.index, verifier, amount, Recipient::Verifier, &mut totals);
					}
				}
			}
			index.saturating_inc();
		}

		if end >= total {
			Self::close_epoch(info, &totals);
		} else {
			Totals::<T>::put(totals);
			Epoch::<T>::mutate(|epoch| epoch.phase = Phase::Paying { cursor: end });
		}
		T::WeightInfo::on_initialize_pay(count)
	}

	/// Transfer `amount` from the reward source to `who`, or report the failure.
	fn pay(
		epoch: u32,
		who: &T::AccountId,
		amount: BalanceOf<T>,
		recipient: Recipient,
		totals: &mut EpochTotals<BalanceOf<T>>,
	) {
		totals.recipients.saturating_inc();
		if amount.is_zero() {
			return;
		}
		let source = T::RewardSource::get();
		match <T::Currency as fungible::Mutate<T::AccountId>>::transfer(
			&source,
			who,
			amount,
			Preservation::Preserve,
		) {
			Ok(_) => {
				totals.distributed = totals.distributed.saturating_add(amount);
				TotalRewardsPaid::<T>::mutate(|paid| *paid = paid.saturating_add(amount));
				Scores::<T>::mutate(who, |record| {
					let record = record.get_or_insert_with(Default::default);
					record.total_rewards = record.total_rewards.saturating_add(amount);
				});
				Self::deposit_event(match recipient {
					Recipient::Node => Event::NodeRewarded { epoch, node: who.clone(), amount },
					Recipient::Verifier => {
						Event::VerifierRewarded { epoch, verifier: who.clone(), amount }
					},
				});
			},
			Err(error) => {
				log::warn!(target: LOG_TARGET, "reward of {who:?} failed: {error:?}");
				totals.failed = totals.failed.saturating_add(amount);
				Self::deposit_event(Event::RewardFailed { epoch, who: who.clone(), amount });
			},
		}
	}
}

impl<T: Config> UsageRecorder<T::AccountId> for Pallet<T> {
	/// Record that `provider` delivered `units` of `kind` to `client`, backed by `proof`.
	///
	/// Ignored unless `provider` owns a registered node. The provider's cumulative total
	/// ([`ProviderUsage`]) counts every unit of every registered node. The epoch usage that
	/// weighs into rewards ([`EpochUsage`]) counts only the [`rewardable_usage`] (verified
	/// deliveries, as far as their burned fees pay for them), and only for service nodes that
	/// are not leaving, the only ones that can be rewarded. Both counters saturate. Nothing is
	/// stored for `client`: any account can be one, and a per-client entry would be storage
	/// that anyone grows without a deposit; [`Event::UsageRecorded`] carries the client, the
	/// kind, the units and the rewardable units, and indexers sum a client's consumption from
	/// it.
	fn record_usage(
		provider: &T::AccountId,
		client: &T::AccountId,
		kind: ServiceKind,
		units: u64,
		proof: UsageProof,
	) {
		let Some(node) = T::Registry::node(provider) else { return };
		let rewarded = node.role == NodeRole::Service && node.status != NodeStatus::Unbonding;
		let rewardable =
			if rewarded { rewardable_usage(&Params::<T>::get(), units, proof) } else { 0 };
		if rewardable > 0 {
			EpochUsage::<T>::mutate(provider, |usage| *usage = usage.saturating_add(rewardable));
		}
		ProviderUsage::<T>::mutate(provider, |usage| *usage = usage.saturating_add(units));
		Self::deposit_event(Event::UsageRecorded {
			provider: provider.clone(),
			client: client.clone(),
			kind,
			units,
			rewardable,
		});
	}
}
