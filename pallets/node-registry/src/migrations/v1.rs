//! Storage version 1: one provider index for every service kind, and the parameters under the
//! name every DSYNC pallet uses.
//!
//! Version 0 kept one list of GPU providers (`GpuProviders`, a value) and the governed
//! parameters under `Parameters`. Version 1 keeps a list per service kind ([`Providers`]) and
//! the parameters under [`Params`]. [`MigrateToV1`] builds every kind's list from the node
//! records (the `Active` service nodes whose declaration in force offers it), keeps the GPU
//! providers in their former order (the order they became providers) and lists the others in
//! registration order, moves the parameters, and removes both old values. It reads every
//! service node once: at most `MaxServiceNodes` records.

use crate::{Config, Nodes, Pallet, Params, Providers, ServiceKind, ServiceNodes, LOG_TARGET};
use alloc::{
	collections::{btree_map::BTreeMap, btree_set::BTreeSet},
	vec::Vec,
};
use frame_support::{
	defensive,
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
	BoundedVec,
};

/// The storage of version 0 that the migration reads and removes.
mod v0 {
	use crate::{Config, NodeRegistryParamsOf, Pallet};
	use frame_support::{
		pallet_prelude::{OptionQuery, ValueQuery},
		storage_alias, BoundedVec,
	};

	/// The governed parameters, under their version-0 name.
	#[storage_alias]
	pub(super) type Parameters<T: Config> =
		StorageValue<Pallet<T>, NodeRegistryParamsOf<T>, OptionQuery>;

	/// The owners of the `Active` service nodes offering GPU inference, in the order they
	/// became so.
	#[storage_alias]
	pub(super) type GpuProviders<T: Config> = StorageValue<
		Pallet<T>,
		BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxServiceNodes>,
		ValueQuery,
	>;
}

/// Builds the provider index and moves the parameters, without checking the storage version:
/// use it through [`MigrateToV1`].
pub struct InnerMigrateToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let parameters = v0::Parameters::<T>::take();
		let moved = parameters.is_some();
		if let Some(parameters) = parameters {
			Params::<T>::put(parameters);
		}
		let former_gpu_providers = v0::GpuProviders::<T>::take();
		let service_nodes = ServiceNodes::<T>::get();
		let provided: BTreeMap<T::AccountId, Vec<ServiceKind>> = service_nodes
			.iter()
			.filter_map(|owner| {
				let node = Nodes::<T>::get(owner)?;
				Some((owner.clone(), Pallet::<T>::provided_kinds(&node)))
			})
			.collect();

		for kind in ServiceKind::ALL {
			// The GPU providers first, in their former order; then the other providers of the
			// kind, in registration order.
			let former = former_gpu_providers.iter().filter(|_| kind == ServiceKind::GpuInference);
			let mut listed = BTreeSet::new();
			let mut providers = BoundedVec::<T::AccountId, T::MaxServiceNodes>::new();
			for owner in former.chain(service_nodes.iter()) {
				let provides = provided.get(owner).is_some_and(|kinds| kinds.contains(&kind));
				if !provides || !listed.insert(owner.clone()) {
					continue;
				}
				// Bounded like the service-node list, which holds every provider: cannot fail.
				if providers.try_push(owner.clone()).is_err() {
					defensive!("a provider list is bounded like the service-node list");
				}
			}
			if !providers.is_empty() {
				Providers::<T>::insert(kind, providers);
			}
		}
		log::info!(
			target: LOG_TARGET,
			"migrated to v1: provider index of {} service nodes, parameters moved: {moved}",
			provided.len(),
		);

		// The two old values, the service-node list and one record per service node read; the
		// two old values removed, the parameters and up to one list per kind written.
		let records = dsync_primitives::convert::usize_to_u64(service_nodes.len());
		let kinds = dsync_primitives::convert::usize_to_u64(ServiceKind::ALL.len());
		T::DbWeight::get().reads_writes(
			records.saturating_add(3),
			kinds.saturating_add(2).saturating_add(u64::from(moved)),
		)
	}

	/// The version-0 parameters and GPU-provider list, for [`Self::post_upgrade`].
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let parameters = v0::Parameters::<T>::get();
		let gpu_providers = v0::GpuProviders::<T>::get().into_inner();
		Ok(codec::Encode::encode(&(parameters, gpu_providers)))
	}

	/// The old values are gone, the parameters moved, the GPU providers kept their order, and
	/// the pallet's invariants hold (among them: every kind's list is exactly its providers).
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		use crate::NodeRegistryParamsOf;
		use frame_support::ensure;
		let (parameters, gpu_providers): (Option<NodeRegistryParamsOf<T>>, Vec<T::AccountId>) =
			codec::Decode::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
		ensure!(!v0::Parameters::<T>::exists(), "the version-0 parameters are still stored");
		ensure!(!v0::GpuProviders::<T>::exists(), "the version-0 GPU providers are still stored");
		if let Some(parameters) = parameters {
			ensure!(Params::<T>::get() == parameters, "the parameters did not move");
		}
		let listed = Providers::<T>::get(ServiceKind::GpuInference);
		ensure!(
			listed.iter().take(gpu_providers.len()).eq(gpu_providers.iter()),
			"the GPU providers did not keep their order"
		);
		Pallet::<T>::do_try_state()
	}
}

/// Migrates the node registry from storage version 0 to 1 (see the module docs); at any other
/// on-chain version it does nothing but log.
pub type MigrateToV1<T> =
	VersionedMigration<0, 1, InnerMigrateToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{mock::*, NodeRegistry, NodeRole, NodeStatus};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	/// Alice and Bob run GPU and storage nodes (registered in that order, Bob activated first),
	/// Charlie a naming node, Dave a GPU node still warming up; then the storage is put back to
	/// version 0.
	fn version_0_state() {
		register_service(&ALICE, 1, SERVICE_MIN_BOND);
		register_service(&BOB, 2, SERVICE_MIN_BOND);
		frame_support::assert_ok!(Registry::register(
			RuntimeOrigin::signed(CHARLIE),
			NodeRole::Service,
			small_declaration(4),
			key(3),
			proof(&key(3), &CHARLIE),
			SERVICE_MIN_BOND,
		));
		register_service(&DAVE, 4, SERVICE_MIN_BOND);
		for owner in [&BOB, &ALICE, &CHARLIE] {
			frame_support::assert_ok!(<Registry as NodeRegistry<AccountId, u64>>::set_status(
				owner,
				NodeStatus::Active
			));
		}
		for kind in ServiceKind::ALL {
			Providers::<Test>::remove(kind);
		}
		v0::Parameters::<Test>::put(Params::<Test>::take());
		v0::GpuProviders::<Test>::put(bounded::<_, MaxServiceNodesOf>(vec![BOB, ALICE]));
		StorageVersion::new(0).put::<Registry>();
	}

	/// The bound of the test runtime's lists of service nodes.
	type MaxServiceNodesOf = <Test as Config>::MaxServiceNodes;

	/// What version 1 holds after [`version_0_state`] migrated.
	fn assert_version_1_state() {
		assert_eq!(Registry::on_chain_storage_version(), StorageVersion::new(1));
		assert_eq!(Params::<Test>::get(), default_params());
		assert!(!v0::Parameters::<Test>::exists());
		assert!(!v0::GpuProviders::<Test>::exists());
		let providers = |kind: ServiceKind| Providers::<Test>::get(kind).into_inner();
		assert_eq!(providers(ServiceKind::GpuInference), vec![BOB, ALICE]);
		assert_eq!(providers(ServiceKind::Storage), vec![ALICE, BOB]);
		assert_eq!(providers(ServiceKind::Naming), vec![CHARLIE]);
		assert!(providers(ServiceKind::Other).is_empty());
	}

	#[test]
	fn migrates_the_gpu_list_into_the_provider_index_and_moves_the_parameters() {
		ExtBuilder::default().build_and_execute(|| {
			version_0_state();
			let _ = MigrateToV1::<Test>::on_runtime_upgrade();
			assert_version_1_state();

			// Once at version 1 it does nothing.
			Providers::<Test>::remove(ServiceKind::Naming);
			let _ = MigrateToV1::<Test>::on_runtime_upgrade();
			assert!(Providers::<Test>::get(ServiceKind::Naming).is_empty());
			let charlie = bounded::<_, MaxServiceNodesOf>(vec![CHARLIE]);
			Providers::<Test>::insert(ServiceKind::Naming, charlie);
		});
	}

	#[cfg(feature = "try-runtime")]
	#[test]
	fn the_migration_passes_its_own_checks() {
		ExtBuilder::default().build_and_execute(|| {
			version_0_state();
			frame_support::assert_ok!(MigrateToV1::<Test>::try_on_runtime_upgrade(true));
			assert_version_1_state();
		});
	}
}
