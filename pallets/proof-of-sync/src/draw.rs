//! The draw: the epoch seed, each target's challenge seed, the verifier candidates of an epoch,
//! and the verifiers drawn for each target, in bounded batches.

use crate::{
	epoch::{len_u32, to_usize},
	Assignment, Assignments, BalanceOf, Config, Epoch, EpochInfo, EpochSeed, Event, Pallet, Params,
	Phase, ProofOfSyncParams, Reputation, Slot, Targets, Verifiers, WeightInfo,
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

/// The subject of the randomness the epoch seed is drawn from.
pub const RANDOMNESS_SUBJECT: &[u8] = b"dsync/pos";

impl<T: Config> Pallet<T> {
	/// The verifier candidates of a new epoch: the `Active` validator nodes whose owner is an
	/// active validator ([`Config::IsActiveValidator`]) with at least `min_reputation`, in the
	/// registry's order, at most `MaxVerifierCandidates`. Returns them with the number of active
	/// validator nodes examined.
	pub(crate) fn verifier_candidates(
		params: &ProofOfSyncParams<BalanceOf<T>>,
	) -> (BoundedVec<T::AccountId, T::MaxVerifierCandidates>, u32) {
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
			.take(to_usize(T::MaxVerifierCandidates::get()))
			.collect();
		(BoundedVec::truncate_from(candidates), examined)
	}

	/// The seed of epoch `index`: `blake2_256(SCALE((Randomness::random(b"dsync/pos"), index)))`.
	pub(crate) fn epoch_seed(index: u32) -> [u8; 32] {
		let (random, _) = T::Randomness::random(RANDOMNESS_SUBJECT);
		sp_io::hashing::blake2_256(&(random, index).encode())
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
