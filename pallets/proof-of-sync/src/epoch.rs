//! The epoch state machine: starting an epoch, drawing verifiers, the commit and reveal
//! windows, and the dispatch of each block's step to the tally and the payment.

use crate::{
	Assignment, Assignments, BalanceOf, Config, Epoch, EpochInfo, EpochSeed, EpochTotals, Event,
	Pallet, Parameters, Params, Phase, Reputation, Slot, Targets, Totals, Verifiers, WeightInfo,
};
use alloc::vec::Vec;
use codec::Encode;
use dsync_primitives::traits::NodeRegistry;
use frame_support::{
	traits::{Contains, Get, Randomness},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

/// The subject of the randomness the epoch seed is drawn from.
pub const RANDOMNESS_SUBJECT: &[u8] = b"dsync/pos";

/// `len` as a `u32` (all lengths here are bounded by `u32` constants).
pub(crate) fn len_u32(len: usize) -> u32 {
	u32::try_from(len).unwrap_or(u32::MAX)
}

/// `index` as a `usize`.
pub(crate) fn to_usize(index: u32) -> usize {
	usize::try_from(index).unwrap_or(usize::MAX)
}

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
		params: &Parameters<BalanceOf<T>>,
	) -> BlockNumberFor<T> {
		info.start.saturating_add(params.epoch_length.into())
	}

	/// The first block of the reveal window: `start + epoch_length / 2`.
	pub(crate) fn reveal_start(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &Parameters<BalanceOf<T>>,
	) -> BlockNumberFor<T> {
		info.start.saturating_add(params.half_length().into())
	}

	/// Whether `now` is in the commit window: `start <= now < start + epoch_length / 2`, while
	/// verifiers are drawn or reports collected.
	pub fn in_commit_window(
		info: &EpochInfo<BlockNumberFor<T>>,
		params: &Parameters<BalanceOf<T>>,
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
		params: &Parameters<BalanceOf<T>>,
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
		// Every active validator node (the registry bounds them), filtered, then cut to the
		// bound: cutting first could leave only nodes outside the session and no verifier.
		let active_validators = T::Registry::active_validator_nodes(u32::MAX);
		let examined = len_u32(active_validators.len());
		let candidates: Vec<T::AccountId> = active_validators
			.into_iter()
			.filter(|owner| {
				T::IsActiveValidator::contains(owner)
					&& Reputation::<T>::get(owner) >= params.min_reputation
			})
			.take(usize::try_from(T::MaxVerifierCandidates::get()).unwrap_or(usize::MAX))
			.collect();
		let verifiers =
			BoundedVec::<T::AccountId, T::MaxVerifierCandidates>::truncate_from(candidates);

		let (random, _) = T::Randomness::random(RANDOMNESS_SUBJECT);
		let seed = sp_io::hashing::blake2_256(&(random, index).encode());

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

	/// Draw the verifiers of up to `NodesPerBlock` targets from `cursor` on.
	pub(crate) fn assign_batch(info: &EpochInfo<BlockNumberFor<T>>, cursor: u32) -> Weight {
		let targets = Targets::<T>::get();
		let candidates = Verifiers::<T>::get();
		let params = Params::<T>::get();
		let epoch_seed = EpochSeed::<T>::get();
		let k = params.verifiers_per_node.min(T::MaxVerifiers::get());
		let total = len_u32(targets.len());
		let end = cursor.saturating_add(T::NodesPerBlock::get().max(1)).min(total);
		let count = end.saturating_sub(cursor);

		for node in targets.iter().skip(to_usize(cursor)).take(to_usize(count)) {
			let seed = Self::node_seed(&epoch_seed, info.index, node);
			let drawn = Self::draw_verifiers(&seed, node, &candidates, k);
			let slots = BoundedVec::<Slot<T::AccountId>, T::MaxVerifiers>::truncate_from(
				drawn
					.iter()
					.map(|verifier| Slot {
						verifier: verifier.clone(),
						commitment: None,
						report: None,
					})
					.collect(),
			);
			Assignments::<T>::insert(node, Assignment::<T> { epoch: info.index, seed, slots });
			Self::deposit_event(Event::VerifiersDrawn {
				epoch: info.index,
				node: node.clone(),
				verifiers: drawn,
			});
		}

		let phase = if end >= total { Phase::Collecting } else { Phase::Assigning { cursor: end } };
		Epoch::<T>::mutate(|epoch| epoch.phase = phase);
		T::WeightInfo::on_initialize_assign(count, len_u32(candidates.len()))
	}

	/// The challenge seed of `node` in epoch `index`:
	/// `blake2_256(SCALE((epoch_seed, index, node)))`.
	pub fn node_seed(epoch_seed: &[u8; 32], index: u32, node: &T::AccountId) -> [u8; 32] {
		sp_io::hashing::blake2_256(&(epoch_seed, index, node).encode())
	}

	/// The `k` candidates other than `node` with the smallest
	/// `blake2_256(seed ++ SCALE(candidate))`, smallest first.
	pub fn draw_verifiers(
		seed: &[u8; 32],
		node: &T::AccountId,
		candidates: &[T::AccountId],
		k: u32,
	) -> Vec<T::AccountId> {
		let mut keyed: Vec<([u8; 32], &T::AccountId)> = candidates
			.iter()
			.filter(|candidate| *candidate != node)
			.map(|candidate| {
				let mut data = seed.to_vec();
				candidate.encode_to(&mut data);
				(sp_io::hashing::blake2_256(&data), candidate)
			})
			.collect();
		keyed.sort_by_key(|entry| entry.0);
		keyed
			.into_iter()
			.take(to_usize(k))
			.map(|(_, candidate)| candidate.clone())
			.collect()
	}
}
