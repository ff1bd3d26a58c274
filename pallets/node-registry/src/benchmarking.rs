//! Benchmarks of the node registry: every call at its worst case (the largest declaration: every
//! GPU kind with the longest model name, every model, the longest endpoint; full lists where a
//! call scans one) and the epoch start with its three components.
//!
//! The runtime must have `MaxPendingSlashes >= MaxSlashesPerEpoch` (the epoch-start and
//! `cancel_slash` benchmarks fill one epoch's slash list).

use super::*;
use crate::Pallet as Registry;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::{traits::Saturating, Perbill};

const SEED: u32 = 0;

/// An amount no hold in these benchmarks falls short of: the existential deposit, or one planck
/// when there is none.
fn unit<T: Config>() -> BalanceOf<T> {
	<T::Currency as fungible::Inspect<T::AccountId>>::minimum_balance().max(1u32.into())
}

/// Parameters that make the bond depend on the capacity: a base of 100 units and one unit per
/// capacity unit, released after 10 blocks.
fn set_benchmark_parameters<T: Config>() {
	Params::<T>::put(NodeRegistryParams {
		base_bond: unit::<T>().saturating_mul(100u32.into()),
		bond_per_capacity_unit: unit::<T>(),
		unbonding_delay: 10u32.into(),
	});
}

/// `len` bytes: `prefix` followed by `fill` (or `prefix` truncated to `len`).
fn bytes(prefix: &[u8], fill: u8, len: u32) -> Vec<u8> {
	let len = dsync_primitives::convert::u32_to_usize(len);
	let mut bytes = prefix.to_vec();
	bytes.resize(len, fill);
	bytes
}

/// The largest valid declaration: `MaxGpuKinds` GPU kinds with the longest model name and 64
/// GPUs each, all four services, `MaxModels` models and the longest endpoint. `variant` changes
/// the endpoint's last byte, `a` to `z` (an update then differs from the registered
/// declaration).
fn worst_declaration<T: Config>(variant: u8) -> DeclarationOf<T> {
	let gpu = GpuSpec {
		model: BoundedVec::truncate_from(bytes(b"", b'G', T::MaxGpuModelLen::get())),
		count: MAX_GPUS_PER_KIND,
		memory_mib: 81_920,
	};
	let gpu_kinds = usize::try_from(T::MaxGpuKinds::get()).unwrap_or(0);
	let mut endpoint = bytes(b"http://", b'a', T::MaxEndpointLen::get());
	if let Some(last) = endpoint.last_mut() {
		*last = b'a'.saturating_add(variant.min(25));
	}
	Declaration {
		resources: Resources {
			cpu_cores: MAX_CPU_CORES,
			memory_mib: 2_097_152,
			storage_gib: 100_000,
			bandwidth_mbps: 100_000,
			gpus: BoundedVec::truncate_from(vec![gpu; gpu_kinds]),
		},
		services: BoundedVec::truncate_from(ServiceKind::ALL.to_vec()),
		models: BoundedVec::truncate_from((0..T::MaxModels::get()).collect()),
		endpoint: BoundedVec::truncate_from(endpoint),
	}
}

/// The minimum bond of the worst declaration under the benchmark parameters.
fn worst_bond<T: Config>() -> BalanceOf<T> {
	Registry::<T>::minimum_bond(&worst_declaration::<T>(0))
}

/// A fresh account holding four worst-case bonds.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	let amount = worst_bond::<T>().saturating_mul(4u32.into()).saturating_add(unit::<T>());
	<T::Currency as fungible::Mutate<T::AccountId>>::set_balance(&who, amount);
	who
}

/// Register `who` with `role`, the worst declaration, a fresh key and the minimum bond.
fn register_node<T: Config>(
	who: &T::AccountId,
	role: NodeRole,
	index: u32,
) -> Result<(), BenchmarkError> {
	let key: T::AccountId = account("key", index, SEED);
	let declaration = worst_declaration::<T>(0);
	Registry::<T>::do_register(who.clone(), role, declaration, key, worst_bond::<T>())?;
	Ok(())
}

/// Register `count` service nodes (`filler` accounts from `first`), each with a pending
/// declaration when `with_update`.
fn fill_service_nodes<T: Config>(
	first: u32,
	count: u32,
	with_update: bool,
) -> Result<(), BenchmarkError> {
	for index in first..first.saturating_add(count) {
		let who = funded::<T>("filler", index);
		register_node::<T>(&who, NodeRole::Service, index)?;
		if with_update {
			Registry::<T>::do_update_declaration(who, worst_declaration::<T>(1))?;
		}
	}
	Ok(())
}

/// The caller, registered as a service node after `MaxServiceNodes - 1` others, so its list
/// is full.
fn caller_in_full_list<T: Config>(with_update: bool) -> Result<T::AccountId, BenchmarkError> {
	set_benchmark_parameters::<T>();
	let others = T::MaxServiceNodes::get().saturating_sub(1);
	fill_service_nodes::<T>(0, others, with_update)?;
	let caller = funded::<T>("caller", 0);
	register_node::<T>(&caller, NodeRole::Service, u32::MAX)?;
	Ok(caller)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Worst case: the largest declaration, the last free place in the list.
	#[benchmark]
	fn register() -> Result<(), BenchmarkError> {
		set_benchmark_parameters::<T>();
		fill_service_nodes::<T>(0, T::MaxServiceNodes::get().saturating_sub(1), false)?;
		let caller = funded::<T>("caller", 0);
		let message = Registry::<T>::key_proof_message(&caller);
		let (key, proof) = T::BenchmarkHelper::key_with_proof(u32::MAX, &message);
		let declaration = worst_declaration::<T>(0);
		let bond = worst_bond::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), NodeRole::Service, declaration, key, proof, bond);

		assert_eq!(Nodes::<T>::get(&caller).map(|node| node.bond), Some(bond));
		Ok(())
	}

	/// Worst case: the largest declaration, every other node with a pending update.
	#[benchmark]
	fn update_declaration() -> Result<(), BenchmarkError> {
		let caller = caller_in_full_list::<T>(true)?;
		let declaration = worst_declaration::<T>(2);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), declaration.clone());

		assert_eq!(
			Nodes::<T>::get(&caller).and_then(|node| node.pending_declaration),
			Some(declaration)
		);
		Ok(())
	}

	#[benchmark]
	fn bond_extra() -> Result<(), BenchmarkError> {
		set_benchmark_parameters::<T>();
		let caller = funded::<T>("caller", 0);
		register_node::<T>(&caller, NodeRole::Service, 0)?;
		let amount = unit::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), amount);

		assert_eq!(
			Nodes::<T>::get(&caller).map(|node| node.bond),
			Some(worst_bond::<T>().saturating_add(amount))
		);
		Ok(())
	}

	/// Worst case: a pending declaration to check as well, and a chunk to merge with.
	#[benchmark]
	fn unbond() -> Result<(), BenchmarkError> {
		set_benchmark_parameters::<T>();
		let caller = funded::<T>("caller", 0);
		register_node::<T>(&caller, NodeRole::Service, 0)?;
		let amount = unit::<T>();
		Registry::<T>::do_bond_extra(caller.clone(), amount.saturating_mul(2u32.into()))?;
		Registry::<T>::do_update_declaration(caller.clone(), worst_declaration::<T>(1))?;
		Registry::<T>::do_unbond(caller.clone(), amount)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), amount);

		assert_eq!(
			Nodes::<T>::get(&caller).and_then(|node| node.unbonding).map(|(chunk, _)| chunk),
			Some(amount.saturating_mul(2u32.into()))
		);
		Ok(())
	}

	/// Worst case: the exit completes and the node leaves a full list.
	#[benchmark]
	fn withdraw_unbonded() -> Result<(), BenchmarkError> {
		let caller = caller_in_full_list::<T>(false)?;
		Registry::<T>::do_exit(caller.clone())?;
		let release_at = Registry::<T>::release_block();
		frame_system::Pallet::<T>::set_block_number(release_at);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert!(!Nodes::<T>::contains_key(&caller));
		Ok(())
	}

	/// Worst case: an `Active` provider of every service kind, last in each kind's full provider
	/// list, leaves them all; a chunk to merge with, and a pending declaration to drop from a
	/// full update list.
	#[benchmark]
	fn exit() -> Result<(), BenchmarkError> {
		let caller = caller_in_full_list::<T>(true)?;
		for owner in ServiceNodes::<T>::get() {
			Registry::<T>::do_set_status(&owner, NodeStatus::Active)?;
		}
		Registry::<T>::do_update_declaration(caller.clone(), worst_declaration::<T>(2))?;
		Registry::<T>::do_bond_extra(caller.clone(), unit::<T>())?;
		Registry::<T>::do_unbond(caller.clone(), unit::<T>())?;
		for kind in ServiceKind::ALL {
			let providers = Providers::<T>::get(kind);
			assert_eq!(u32::try_from(providers.len()), Ok(T::MaxServiceNodes::get()));
			assert_eq!(providers.last(), Some(&caller));
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert_eq!(Nodes::<T>::get(&caller).map(|node| node.status), Some(NodeStatus::Unbonding));
		assert!(ServiceKind::ALL.iter().all(|kind| !Providers::<T>::get(kind).contains(&caller)));
		Ok(())
	}

	#[benchmark]
	fn set_offchain_key() -> Result<(), BenchmarkError> {
		set_benchmark_parameters::<T>();
		let caller = funded::<T>("caller", 0);
		register_node::<T>(&caller, NodeRole::Service, 0)?;
		let message = Registry::<T>::key_proof_message(&caller);
		let (key, proof) = T::BenchmarkHelper::key_with_proof(u32::MAX - 1, &message);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), key.clone(), proof);

		assert_eq!(NodeOfKey::<T>::get(&key), Some(caller));
		Ok(())
	}

	#[benchmark]
	fn reactivate() -> Result<(), BenchmarkError> {
		set_benchmark_parameters::<T>();
		let caller = funded::<T>("caller", 0);
		register_node::<T>(&caller, NodeRole::Validator, 0)?;
		Registry::<T>::do_set_status(&caller, NodeStatus::Suspended)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert_eq!(Nodes::<T>::get(&caller).map(|node| node.status), Some(NodeStatus::Pending));
		Ok(())
	}

	#[benchmark]
	fn set_parameters() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = NodeRegistryParams {
			base_bond: unit::<T>().saturating_mul(1_000u32.into()),
			bond_per_capacity_unit: unit::<T>(),
			unbonding_delay: 100u32.into(),
		};

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	/// A pending slash cancelled: every one costs the same (its entries are removed by key).
	#[benchmark]
	fn cancel_slash() -> Result<(), BenchmarkError> {
		let origin = T::SlashCancelOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		set_benchmark_parameters::<T>();
		let node = funded::<T>("caller", 0);
		register_node::<T>(&node, NodeRole::Service, 0)?;
		let epoch = CurrentEpoch::<T>::get().saturating_add(1);
		let id = Registry::<T>::do_schedule_slash(
			&node,
			Perbill::from_percent(1),
			SlashReason::RepeatedMisses,
			epoch,
		)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert!(!PendingSlashes::<T>::contains_key(id));
		Ok(())
	}

	/// `d` declarations applied (each claiming more for an active GPU provider, which goes back to
	/// warm-up), `v` validator nodes examined (all promoted), `s` slashes applied
	/// (each to a different node, the chunk and the bond both touched).
	#[benchmark]
	fn on_epoch_start(
		d: Linear<0, { T::MaxServiceNodes::get().saturating_sub(T::MaxSlashesPerEpoch::get()) }>,
		v: Linear<0, { T::MaxValidatorNodes::get() }>,
		s: Linear<0, { T::MaxSlashesPerEpoch::get() }>,
	) -> Result<(), BenchmarkError> {
		set_benchmark_parameters::<T>();
		let epoch = CurrentEpoch::<T>::get().saturating_add(1);
		for index in 0..s {
			let who = funded::<T>("slashed", index);
			register_node::<T>(&who, NodeRole::Service, index)?;
			Registry::<T>::do_bond_extra(who.clone(), unit::<T>())?;
			Registry::<T>::do_unbond(who.clone(), unit::<T>())?;
			Registry::<T>::do_schedule_slash(
				&who,
				Perbill::from_percent(50),
				SlashReason::RepeatedMisses,
				epoch,
			)?;
		}
		// Every update is applied to an active GPU provider and claims more: each node goes back
		// to warm-up and leaves the provider index of every kind it offers (the costliest path).
		for index in s..s.saturating_add(d) {
			let who = funded::<T>("filler", index);
			let key: T::AccountId = account("key", index, SEED);
			let mut lesser = worst_declaration::<T>(0);
			lesser.resources.cpu_cores = MAX_CPU_CORES.saturating_sub(1);
			Registry::<T>::do_register(
				who.clone(),
				NodeRole::Service,
				lesser,
				key,
				worst_bond::<T>(),
			)?;
			Registry::<T>::do_set_status(&who, NodeStatus::Active)?;
			Registry::<T>::do_update_declaration(who, worst_declaration::<T>(1))?;
		}
		assert_eq!(u32::try_from(Providers::<T>::get(ServiceKind::GpuInference).len()), Ok(d));
		for index in 0..v {
			let who = funded::<T>("validator", index);
			let key_index = index.saturating_add(T::MaxServiceNodes::get());
			register_node::<T>(&who, NodeRole::Validator, key_index)?;
		}

		#[block]
		{
			Registry::<T>::do_on_epoch_start(epoch);
		}

		assert_eq!(CurrentEpoch::<T>::get(), epoch);
		assert!(DeclarationUpdates::<T>::get().is_empty());
		assert!(Providers::<T>::get(ServiceKind::GpuInference).is_empty());
		assert_eq!(PendingSlashCount::<T>::get(), 0);
		assert_eq!(u32::try_from(Registry::<T>::active_validator_nodes(u32::MAX).len()), Ok(v));
		Ok(())
	}

	impl_benchmark_test_suite!(Registry, crate::mock::new_bench_ext(), crate::mock::Test);
}
