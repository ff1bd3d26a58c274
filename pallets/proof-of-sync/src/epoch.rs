//! The epoch state machine: each block's step, the commit and reveal windows, the start of an
//! epoch (snapshots and seed), the tally of each target (in the order of the rules: aggregate,
//! score, penalties, reward weight) and the close of a paid epoch.

use crate::{
	aggregate::Aggregate, reference_usage, Assignments, BalanceOf, Config, Epoch, EpochInfo,
	EpochSeed, EpochTotals, EpochUsage, Event, Pallet, Params, Phase, ProbeReport,
	ProofOfSyncParams, ProvenWrong, Scores, Targets, Totals, VerificationPoints, Verifiers,
	WeightInfo,
};
use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use dsync_primitives::traits::NodeRegistry;
use frame_support::{traits::Get, weights::Weight, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

// A length as a `u32` (all lengths here are bounded by `u32` constants) and an index as a
// `usize`: the shared saturating conversions, under the names this pallet uses.
pub(crate) use dsync_primitives::convert::{u32_to_usize as to_usize, usize_to_u32 as len_u32};

impl<T: Config> Pallet<T> {
	/// Run this block's step of the epoch state machine and return its weight.
	pub(crate) fn advance_epoch(now: BlockNumberFor<T>) -> Weight {
		let info = Epoch::<T>::get();
		match info.phase {
			Phase::Starting => Self::start_epoch(now, info.index),
			Phase::Assigning { cursor } => Self::assign_batch(&info, cursor),
			Phase::Collecting => {
				let params = Params::<T>::get();
				if now >= Self::epoch_end(&info, &params) {
					Self::begin_tally(&info)
				} else {
					T::WeightInfo::on_initialize_idle()
				}
			},
			Phase::Tallying { cursor } => Self::tally_batch(&info, cursor),
			Phase::Paying { cursor } => Self::pay_batch(&info, cursor),
		}
	}

	/// The first block after the reveal window: `start + epoch_length`.
	pub(crate) fn epoch_end(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &ProofOfSyncParams<BalanceOf<T>>,
	) -> BlockNumberFor<T> {
		info.start.saturating_add(params.epoch_length.into())
	}

	/// The first block of the reveal window: `start + epoch_length / 2`.
	pub(crate) fn reveal_start(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &ProofOfSyncParams<BalanceOf<T>>,
	) -> BlockNumberFor<T> {
		info.start.saturating_add(params.half_length().into())
	}

	/// Whether `now` is in the commit window: `start <= now < start + epoch_length / 2`, while
	/// verifiers are drawn or reports collected.
	pub fn in_commit_window(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &ProofOfSyncParams<BalanceOf<T>>,
		now: BlockNumberFor<T>,
	) -> bool {
		matches!(info.phase, Phase::Assigning { .. } | Phase::Collecting)
			&& info.start <= now
			&& now < Self::reveal_start(info, params)
	}

	/// Whether `now` is in the reveal window:
	/// `start + epoch_length / 2 <= now < start + epoch_length`, while reports are collected.
	pub fn in_reveal_window(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &ProofOfSyncParams<BalanceOf<T>>,
		now: BlockNumberFor<T>,
	) -> bool {
		info.phase == Phase::Collecting
			&& Self::reveal_start(info, params) <= now
			&& now < Self::epoch_end(info, params)
	}

	/// Start the epoch after `previous`: tell the registry, snapshot the targets and the
	/// verifier candidates, draw the epoch seed.
	pub(crate) fn start_epoch(now: BlockNumberFor<T>, previous: u32) -> Weight {
		let index = previous.saturating_add(1);
		let registry_weight = T::Registry::on_epoch_start(index);
		let params = Params::<T>::get();

		let targets = BoundedVec::<T::AccountId, T::MaxProbeTargets>::truncate_from(
			T::Registry::probe_targets(T::MaxProbeTargets::get()),
		);
		let (verifiers, examined) = Self::verifier_candidates(&params);
		let seed = Self::epoch_seed(index);

		let target_count = len_u32(targets.len());
		let verifier_count = len_u32(verifiers.len());
		EpochSeed::<T>::put(seed);
		Targets::<T>::put(targets);
		Verifiers::<T>::put(verifiers);
		Totals::<T>::put(EpochTotals::<BalanceOf<T>>::default());
		Epoch::<T>::put(EpochInfo { index, start: now, phase: Phase::Assigning { cursor: 0 } });
		Self::deposit_event(Event::EpochStarted {
			epoch: index,
			targets: target_count,
			verifiers: verifier_count,
		});
		T::WeightInfo::on_initialize_start_epoch(target_count, examined.max(verifier_count))
			.saturating_add(registry_weight)
	}

	/// The reveal window is over: fix the epoch's reference usage (the lower median of the
	/// targets' non-zero rewardable usages, [`reference_usage`]), then tally the first batch.
	///
	/// The median reads the epoch usage of every target: at most `MaxProbeTargets` reads, added
	/// to the weight of the first batch (whose benchmark, `on_initialize_tally`, also measures
	/// them for its own `n` targets, each with a distinct non-zero usage).
	pub(crate) fn begin_tally(info: &EpochInfo<BlockNumberFor<T>>) -> Weight {
		let targets = Targets::<T>::get();
		let usages = targets.iter().map(EpochUsage::<T>::get).collect();
		let reference = reference_usage(usages);
		Totals::<T>::mutate(|totals| {
			*totals = EpochTotals::default();
			totals.reference_usage = reference;
		});
		let tallying = EpochInfo { phase: Phase::Tallying { cursor: 0 }, ..*info };
		Epoch::<T>::put(tallying);
		let median_reads = T::DbWeight::get().reads(u64::from(len_u32(targets.len())));
		Self::tally_batch(&tallying, 0).saturating_add(median_reads)
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

	/// Aggregate the revealed reports of `node`, judge its verifiers, and, when the reports
	/// decide (no tie), update its score, status and reward weight.
	pub(crate) fn tally_node(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &ProofOfSyncParams<BalanceOf<T>>,
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

		let aggregate = Aggregate::of(revealed.iter().map(|(_, report)| report));
		Self::judge_verifiers(epoch, params, node, &revealed, &aggregate, totals, points);

		// A tie decides nothing: the target is neither scored nor rewarded, as without reports.
		let Some(quality) = aggregate.quality(params) else {
			Self::deposit_event(Event::NodeNotScored { epoch, node: node.clone() });
			return;
		};
		let mut record = Self::score_epoch(epoch, params, node, quality);

		let summary = T::Registry::node(node);
		let status = summary.as_ref().map(|summary| summary.status);
		let status = status.map(|status| {
			Self::service_transition(epoch, params, node, status, &mut record, proven_wrong)
		});

		let declared = summary.map(|summary| summary.capacity_units).unwrap_or_default();
		Self::weigh_reward(params, node, &mut record, status, declared, usage, totals);

		Scores::<T>::insert(node, record);
		Self::deposit_event(Event::NodeScored {
			epoch,
			node: node.clone(),
			quality,
			score: record.score,
			reports: len_u32(revealed.len()),
		});
	}

	/// Every recipient was paid: report the epoch and clear its storage.
	pub(crate) fn close_epoch(
		info: &EpochInfo<BlockNumberFor<T>>,
		totals: &EpochTotals<BalanceOf<T>>,
	) {
		Self::deposit_event(Event::EpochClosed {
			epoch: info.index,
			budget: totals.budget,
			distributed: totals.distributed,
		});
		Totals::<T>::kill();
		Targets::<T>::kill();
		Verifiers::<T>::kill();
		EpochSeed::<T>::kill();
		Epoch::<T>::mutate(|epoch| epoch.phase = Phase::Starting);
	}
}
