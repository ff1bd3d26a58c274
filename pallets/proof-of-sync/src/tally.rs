//! The tally: aggregation of the revealed reports of each target, quality, score, status
//! transitions and penalties, reputation and credits of the verifiers, reward weights.

use crate::{
	epoch::{len_u32, to_usize},
	Assignments, BalanceOf, Config, Credits, Epoch, EpochInfo, EpochTotals, EpochUsage, Event,
	MaxEpochUsage, NodeScore, Pallet, Parameters, Params, Phase, ProbeReport, ProvenWrong,
	Reputation, RewardWeights, Scores, Targets, Totals, VerificationPoints, WeightInfo, LOG_TARGET,
};
use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use dsync_primitives::traits::{NodeRegistry, NodeStatus, SlashReason};
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
	traits::{Saturating, Zero},
	Perbill,
};

/// Parts per billion of 100 %.
const PARTS_PER_BILLION: u128 = 1_000_000_000;

/// The lower medians of the revealed reports of one target.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Medians {
	/// Lower median of `available` (as 0/1).
	pub available: bool,
	/// Lower median of `challenge_ok` (as 0/1).
	pub challenge_ok: bool,
	/// Lower median of `latency_ms`.
	pub latency_ms: u32,
	/// Lower median of `sync_lag`.
	pub sync_lag: u32,
}

impl Medians {
	/// The lower medians of `reports` (all zero / false for no report).
	pub fn of<'a>(reports: impl Iterator<Item = &'a ProbeReport> + Clone) -> Self {
		let available = reports.clone().map(|report| u32::from(report.available)).collect();
		let challenge_ok = reports.clone().map(|report| u32::from(report.challenge_ok)).collect();
		let latency_ms = reports.clone().map(|report| report.latency_ms).collect();
		let sync_lag = reports.map(|report| report.sync_lag).collect();
		Self {
			available: lower_median(available) == 1,
			challenge_ok: lower_median(challenge_ok) == 1,
			latency_ms: lower_median(latency_ms),
			sync_lag: lower_median(sync_lag),
		}
	}

	/// Whether `report` deviates from the medians: a different `available` or `challenge_ok`,
	/// or a latency (lag) further than `clip_latency_ms` (`clip_lag`) from the median.
	pub fn deviates<Balance>(&self, report: &ProbeReport, params: &Parameters<Balance>) -> bool {
		report.available != self.available
			|| report.challenge_ok != self.challenge_ok
			|| report.latency_ms.abs_diff(self.latency_ms) > params.clip_latency_ms
			|| report.sync_lag.abs_diff(self.sync_lag) > params.clip_lag
	}

	/// The quality of the aggregated report: zero unless available and the challenge passed,
	/// otherwise the product of the latency and lag factors.
	pub fn quality<Balance>(&self, params: &Parameters<Balance>) -> Perbill {
		if !self.available || !self.challenge_ok {
			return Perbill::zero();
		}
		linear_factor(self.latency_ms, params.target_latency_ms, params.max_latency_ms)
			.saturating_mul(linear_factor(self.sync_lag, params.tolerated_lag, params.max_lag))
	}
}

/// The lower median of `values`: `sorted[(len - 1) / 2]`; 0 for no value.
pub fn lower_median(mut values: Vec<u32>) -> u32 {
	values.sort_unstable();
	values.get(values.len().saturating_sub(1) / 2).copied().unwrap_or_default()
}

/// 100 % for `value <= full_until`, 0 for `value >= zero_from`, and
/// `(zero_from - value) / (zero_from - full_until)` (rounded down) between.
pub fn linear_factor(value: u32, full_until: u32, zero_from: u32) -> Perbill {
	if value <= full_until {
		Perbill::one()
	} else if value >= zero_from {
		Perbill::zero()
	} else {
		Perbill::from_rational(
			zero_from.saturating_sub(value),
			zero_from.saturating_sub(full_until),
		)
	}
}

/// `score = alpha · quality + (1 − alpha) · score`, each product rounded down.
pub fn ema(score: Perbill, quality: Perbill, alpha: Perbill) -> Perbill {
	alpha
		.saturating_mul(quality)
		.saturating_add(Perbill::one().saturating_sub(alpha).saturating_mul(score))
}

/// `idle + (1 − idle) · usage / max_usage`; `idle` when `max_usage` is zero. Usage above the
/// maximum counts as the maximum.
pub fn usage_factor(idle: Perbill, usage: u64, max_usage: u64) -> Perbill {
	if max_usage == 0 {
		return idle;
	}
	let used = Perbill::from_rational(usage.min(max_usage), max_usage);
	idle.saturating_add(Perbill::one().saturating_sub(idle).saturating_mul(used))
}

/// The capacity units proven after an epoch in which the node delivered `usage` units:
/// `max(usage / usage_per_capacity_unit, previous − ema_alpha · previous)` (the product rounded
/// down, so a proof fades to 0).
pub fn proven_capacity<Balance>(params: &Parameters<Balance>, previous: u64, usage: u64) -> u64 {
	let demonstrated = usage / params.usage_per_capacity_unit.max(1);
	let faded = previous.saturating_sub(params.ema_alpha.mul_ceil(previous));
	demonstrated.max(faded)
}

/// The capacity units a node's reward weight uses: `min(declared, max(unproven_capacity,
/// proven))`. What a node declares counts only as far as delivered usage proved it, beyond the
/// governed `unproven_capacity`.
pub fn credited_capacity<Balance>(params: &Parameters<Balance>, declared: u64, proven: u64) -> u64 {
	declared.min(params.unproven_capacity.max(proven))
}

/// The reward weight `score (ppb) · capacity_units · usage_factor (ppb) / 10^9`, saturating.
pub fn reward_weight(score: Perbill, capacity_units: u64, usage_factor: Perbill) -> u128 {
	u128::from(score.deconstruct())
		.saturating_mul(u128::from(capacity_units))
		.saturating_mul(u128::from(usage_factor.deconstruct()))
		/ PARTS_PER_BILLION
}

impl<T: Config> Pallet<T> {
	/// The reveal window is over: fix the epoch's maximum usage, then tally the first batch.
	pub(crate) fn begin_tally(info: &EpochInfo<BlockNumberFor<T>>) -> Weight {
		let max_usage = MaxEpochUsage::<T>::take();
		Totals::<T>::mutate(|totals| {
			*totals = EpochTotals::default();
			totals.max_usage = max_usage;
		});
		let tallying = EpochInfo { phase: Phase::Tallying { cursor: 0 }, ..*info };
		Epoch::<T>::put(tallying);
		Self::tally_batch(&tallying, 0)
	}

	/// Tally up to `NodesPerBlock` targets from `cursor` on; after the last one fix the budget
	/// and move to payment.
	pub(crate) fn tally_batch(info: &EpochInfo<BlockNumberFor<T>>, cursor: u32) -> Weight {
		let targets = Targets::<T>::get();
		let params = Params::<T>::get();
		let mut totals = Totals::<T>::get();
		let total = len_u32(targets.len());
		let end = cursor.saturating_add(T::NodesPerBlock::get().max(1)).min(total);
		let count = end.saturating_sub(cursor);
		let mut points = BTreeMap::<T::AccountId, u32>::new();

		for node in targets.iter().skip(to_usize(cursor)).take(to_usize(count)) {
			Self::tally_node(info, &params, node, &mut totals, &mut points);
		}
		if !points.is_empty() {
			T::EraPoints::reward(points.into_iter().collect());
		}

		let phase = if end >= total {
			Self::fix_budget(&params, &mut totals);
			Phase::Paying { cursor: 0 }
		} else {
			Phase::Tallying { cursor: end }
		};
		Totals::<T>::put(totals);
		Epoch::<T>::mutate(|epoch| epoch.phase = phase);
		let k = params.verifiers_per_node.min(T::MaxVerifiers::get());
		T::WeightInfo::on_initialize_tally(count, k)
	}

	/// Aggregate the revealed reports of `node`, update its score, status and reward weight, and
	/// judge its verifiers.
	pub(crate) fn tally_node(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &Parameters<BalanceOf<T>>,
		node: &T::AccountId,
		totals: &mut EpochTotals<BalanceOf<T>>,
		points: &mut BTreeMap<T::AccountId, u32>,
	) {
		let epoch = info.index;
		let usage = EpochUsage::<T>::take(node);
		let proven_wrong = ProvenWrong::<T>::take(node) == Some(epoch);
		let assignment = Assignments::<T>::take(node).filter(|a| a.epoch == epoch);

		let mut revealed: Vec<(T::AccountId, ProbeReport)> = Vec::new();
		for slot in assignment.map(|a| a.slots.into_inner()).unwrap_or_default() {
			match slot.report {
				Some(report) => revealed.push((slot.verifier, report)),
				None => Self::verifier_absent(info, params, node, &slot.verifier),
			}
		}
		if revealed.is_empty() {
			Self::deposit_event(Event::NodeNotScored { epoch, node: node.clone() });
			return;
		}

		let medians = Medians::of(revealed.iter().map(|(_, report)| report));
		for (verifier, report) in &revealed {
			if medians.deviates(report, params) {
				Reputation::<T>::mutate(verifier, |reputation| {
					*reputation = reputation.saturating_sub(params.reputation_penalty)
				});
				Self::deposit_event(Event::VerifierClipped {
					epoch,
					node: node.clone(),
					verifier: verifier.clone(),
				});
			} else {
				Reputation::<T>::mutate(verifier, |reputation| {
					*reputation = reputation.saturating_add(params.reputation_recovery)
				});
				Credits::<T>::mutate(verifier, |credits| credits.saturating_inc());
				totals.total_credits.saturating_inc();
				let entry = points.entry(verifier.clone()).or_default();
				*entry = entry.saturating_add(params.verification_points);
				Scores::<T>::mutate_exists(verifier, |record| {
					if let Some(record) = record {
						record.misses = 0;
					}
				});
			}
		}

		let quality = medians.quality(params);
		let mut record = Scores::<T>::get(node).unwrap_or_default();
		record.score = ema(record.score, quality, params.ema_alpha);
		record.last_quality = quality;
		record.epochs.saturating_inc();
		record.last_epoch = epoch;
		if quality < params.miss_quality {
			record.misses.saturating_inc();
			record.good_streak = 0;
			Self::deposit_event(Event::NodeMissed {
				epoch,
				node: node.clone(),
				misses: record.misses,
			});
		} else {
			record.misses = 0;
			record.good_streak.saturating_inc();
		}

		let summary = T::Registry::node(node);
		let status = summary.as_ref().map(|summary| summary.status);
		let status = status.map(|status| {
			Self::service_transition(epoch, params, node, status, &mut record, proven_wrong)
		});

		record.proven_capacity = proven_capacity(params, record.proven_capacity, usage);
		if status == Some(NodeStatus::Active) {
			let declared = summary.map(|summary| summary.capacity_units).unwrap_or_default();
			let capacity = credited_capacity(params, declared, record.proven_capacity);
			let factor = usage_factor(params.idle_usage_weight, usage, totals.max_usage);
			let weight = reward_weight(record.score, capacity, factor);
			if weight > 0 {
				RewardWeights::<T>::insert(node, weight);
				totals.total_weight = totals.total_weight.saturating_add(weight);
			}
		}

		Scores::<T>::insert(node, record);
		Self::deposit_event(Event::NodeScored {
			epoch,
			node: node.clone(),
			quality,
			score: record.score,
			reports: len_u32(revealed.len()),
		});
	}

	/// Move a service node through the registry after its score was updated; returns the
	/// status it ends up in.
	fn service_transition(
		epoch: u32,
		params: &Parameters<BalanceOf<T>>,
		node: &T::AccountId,
		status: NodeStatus,
		record: &mut NodeScore<BalanceOf<T>>,
		proven_wrong: bool,
	) -> NodeStatus {
		let qualified = record.score >= params.activation_score;
		let slash_at = params.suspend_after_misses.saturating_add(params.slash_after_misses);
		match status {
			NodeStatus::Pending if record.epochs >= params.warmup_epochs && qualified => {
				Self::move_to(node, status, NodeStatus::Active)
			},
			// A node still warming up that keeps missing is suspended like an active one: a
			// node that never answers must not sit in warm-up forever.
			NodeStatus::Pending | NodeStatus::Active
				if record.misses >= params.suspend_after_misses =>
			{
				Self::move_to(node, status, NodeStatus::Suspended)
			},
			NodeStatus::Suspended if record.misses >= slash_at => {
				Self::slash(epoch, params, node, SlashReason::RepeatedMisses);
				record.misses = params.suspend_after_misses;
				status
			},
			NodeStatus::Suspended
				if !proven_wrong && record.good_streak >= params.warmup_epochs && qualified =>
			{
				Self::move_to(node, status, NodeStatus::Active)
			},
			_ => status,
		}
	}

	/// Ask the registry to move `node` from `from` to `to`; returns the status it is in after.
	fn move_to(node: &T::AccountId, from: NodeStatus, to: NodeStatus) -> NodeStatus {
		match T::Registry::set_status(node, to) {
			Ok(()) => to,
			Err(error) => {
				log::debug!(target: LOG_TARGET, "cannot move {node:?} to {to:?}: {error:?}");
				from
			},
		}
	}

	/// Schedule a `miss_slash` of `node` for `epoch + slash_defer_epochs`.
	fn slash(
		epoch: u32,
		params: &Parameters<BalanceOf<T>>,
		node: &T::AccountId,
		reason: SlashReason,
	) {
		let apply_at = epoch.saturating_add(params.slash_defer_epochs);
		if let Err(error) = T::Registry::schedule_slash(node, params.miss_slash, reason, apply_at) {
			log::warn!(target: LOG_TARGET, "cannot slash {node:?} ({reason:?}): {error:?}");
		}
	}

	/// `verifier` did not reveal a report on `node`: reputation, absence count, suspension and
	/// slash.
	fn verifier_absent(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &Parameters<BalanceOf<T>>,
		node: &T::AccountId,
		verifier: &T::AccountId,
	) {
		Reputation::<T>::mutate(verifier, |reputation| {
			*reputation = reputation.saturating_sub(params.reputation_penalty)
		});
		let mut record = Scores::<T>::get(verifier).unwrap_or_default();
		record.misses.saturating_inc();
		let mut status = T::Registry::node(verifier).map(|summary| summary.status);
		if status == Some(NodeStatus::Active) && record.misses >= params.suspend_after_misses {
			status = Some(Self::move_to(verifier, NodeStatus::Active, NodeStatus::Suspended));
		}
		let slash_at = params.suspend_after_misses.saturating_add(params.slash_after_misses);
		if status == Some(NodeStatus::Suspended) && record.misses >= slash_at {
			Self::slash(info.index, params, verifier, SlashReason::AbsentVerifier);
			record.misses = params.suspend_after_misses;
		}
		Scores::<T>::insert(verifier, record);
		Self::deposit_event(Event::VerifierAbsent {
			epoch: info.index,
			node: node.clone(),
			verifier: verifier.clone(),
		});
	}

	/// Fix the budget once the tally is over: `min(epoch_reward, what the source can spend)`,
	/// split into the verifier part and the node part; a part without recipients is dropped.
	pub(crate) fn fix_budget(
		params: &Parameters<BalanceOf<T>>,
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
}
