//! The helpers the custom pallets' benchmarks need (with the `runtime-benchmarks` feature):
//! what a benchmark cannot set up by itself goes through the real registry, Proof of Sync, assets
//! and pool, as the runtime's configs name them.

use crate::{constants::STABLE_ASSET_ID, AccountId, Assets, Balance, RuntimeOrigin};
use alloc::boxed::Box;
use frame_support::traits::{
	fungible::{Mutate as _, NativeOrWithId},
	fungibles::{Create, Inspect as _, Mutate as _},
};

/// Registers nodes through the real registry for the Proof-of-Sync benchmarks.
pub struct ProofOfSyncBenchmarkHelper;
impl ProofOfSyncBenchmarkHelper {
	fn register(owner: &AccountId, key: &AccountId, role: dsync_primitives::traits::NodeRole) {
		use dsync_primitives::traits::{NodeRole, ServiceKind};
		let services = match role {
			NodeRole::Service => alloc::vec![ServiceKind::Naming],
			NodeRole::Validator => alloc::vec![],
		};
		Self::register_with(owner, key, role, services, alloc::vec![]);
	}

	fn register_with(
		owner: &AccountId,
		key: &AccountId,
		role: dsync_primitives::traits::NodeRole,
		services: alloc::vec::Vec<dsync_primitives::traits::ServiceKind>,
		models: alloc::vec::Vec<dsync_primitives::traits::ModelId>,
	) {
		Self::register_full(owner, key, role, services, models, 100);
	}

	fn register_with_storage(
		owner: &AccountId,
		key: &AccountId,
		services: alloc::vec::Vec<dsync_primitives::traits::ServiceKind>,
		storage_gib: u64,
	) {
		let role = dsync_primitives::traits::NodeRole::Service;
		Self::register_full(owner, key, role, services, alloc::vec![], storage_gib);
	}

	fn register_full(
		owner: &AccountId,
		key: &AccountId,
		role: dsync_primitives::traits::NodeRole,
		services: alloc::vec::Vec<dsync_primitives::traits::ServiceKind>,
		models: alloc::vec::Vec<dsync_primitives::traits::ModelId>,
		storage_gib: u64,
	) {
		let declaration = pallet_node_registry::DeclarationOf::<crate::Runtime> {
			resources: pallet_node_registry::Resources {
				cpu_cores: 4,
				memory_mib: 8 * 1024,
				storage_gib,
				bandwidth_mbps: 100,
				// GPU inference needs a declared GPU.
				gpus: if services.contains(&dsync_primitives::traits::ServiceKind::GpuInference) {
					alloc::vec![pallet_node_registry::GpuSpec {
						model: b"bench GPU".to_vec().try_into().unwrap_or_default(),
						count: 1,
						memory_mib: 24 * 1024,
					}]
					.try_into()
					.unwrap_or_default()
				} else {
					Default::default()
				},
			},
			services: services.try_into().unwrap_or_default(),
			models: models.try_into().unwrap_or_default(),
			endpoint: b"http://127.0.0.1:9955".to_vec().try_into().unwrap_or_default(),
		};
		let bond = 100_000 * dsync_primitives::currency::DSYNC;
		let _ = crate::Balances::mint_into(owner, bond.saturating_mul(2));
		// Directly, without the key proof: the benchmarks choose the key accounts.
		let _ =
			crate::NodeRegistry::do_register(owner.clone(), role, declaration, key.clone(), bond);
	}
}

impl pallet_proof_of_sync::BenchmarkHelper<AccountId> for ProofOfSyncBenchmarkHelper {
	fn register_service_node(
		owner: &AccountId,
		key: &AccountId,
		status: dsync_primitives::traits::NodeStatus,
	) {
		use dsync_primitives::traits::NodeRegistry as _;
		Self::register(owner, key, dsync_primitives::traits::NodeRole::Service);
		let _ = crate::NodeRegistry::set_status(owner, status);
	}

	fn register_validator_node(owner: &AccountId, key: &AccountId) {
		use dsync_primitives::traits::{NodeRegistry as _, NodeStatus};
		Self::register(owner, key, dsync_primitives::traits::NodeRole::Validator);
		let _ = crate::NodeRegistry::set_status(owner, NodeStatus::Active);
		pallet_session::Validators::<crate::Runtime>::mutate(|validators| {
			if !validators.contains(owner) {
				validators.push(owner.clone());
			}
		});
	}
}

/// Off-chain keys for the node-registry benchmarks: sr25519 keys generated in the benchmark
/// keystore (`dsyn` key type), signing the key proof.
pub struct RegistryBenchmarkHelper;
impl pallet_node_registry::BenchmarkHelper<AccountId, dsync_primitives::Signature>
	for RegistryBenchmarkHelper
{
	fn key_with_proof(seed: u32, message: &[u8]) -> (AccountId, dsync_primitives::Signature) {
		use sp_runtime::traits::IdentifyAccount;
		let key_type = dsync_primitives::probe::KEY_TYPE;
		let suri = alloc::format!("//dsync-bench-{seed}").into_bytes();
		let public = sp_io::crypto::sr25519_generate(key_type, Some(suri));
		let signature = sp_io::crypto::sr25519_sign(key_type, &public, message)
			.expect("the key was just generated in the benchmark keystore; qed");
		(sp_runtime::MultiSigner::from(public).into_account(), signature.into())
	}
}

/// Makes GPU providers through the real registry and Proof of Sync for the GPU-jobs benchmarks.
pub struct GpuJobsBenchmarkHelper;
impl pallet_gpu_jobs::BenchmarkHelper<AccountId> for GpuJobsBenchmarkHelper {
	fn register_provider(
		owner: &AccountId,
		key: &AccountId,
		model: dsync_primitives::traits::ModelId,
	) {
		use dsync_primitives::traits::{NodeRegistry as _, NodeRole, NodeStatus, ServiceKind};
		ProofOfSyncBenchmarkHelper::register_with(
			owner,
			key,
			NodeRole::Service,
			alloc::vec![ServiceKind::GpuInference],
			alloc::vec![model],
		);
		let _ = crate::NodeRegistry::set_status(owner, NodeStatus::Active);
		pallet_proof_of_sync::Scores::<crate::Runtime>::insert(
			owner,
			pallet_proof_of_sync::NodeScore {
				score: sp_runtime::Perbill::from_percent(80),
				..Default::default()
			},
		);
	}
}

/// Makes storage providers through the real registry and Proof of Sync for the storage
/// benchmarks, with the capacity asked for (rounded up to whole GiB).
pub struct StorageBenchmarkHelper;
impl pallet_storage::traits::BenchmarkHelper<AccountId> for StorageBenchmarkHelper {
	fn register_provider(owner: &AccountId, key: &AccountId, capacity: u64) {
		use dsync_primitives::traits::{NodeRegistry as _, NodeStatus, ServiceKind};
		ProofOfSyncBenchmarkHelper::register_with_storage(
			owner,
			key,
			alloc::vec![ServiceKind::Storage],
			capacity.div_ceil(1 << 30).max(1),
		);
		let _ = crate::NodeRegistry::set_status(owner, NodeStatus::Active);
		pallet_proof_of_sync::Scores::<crate::Runtime>::insert(
			owner,
			pallet_proof_of_sync::NodeScore {
				score: sp_runtime::Perbill::from_percent(80),
				..Default::default()
			},
		);
	}
}

/// Sets up the stable asset and the DSYNC/stable pool for the tokenomics benchmarks.
pub struct TokenomicsBenchmarkHelper;
impl pallet_tokenomics::BenchmarkHelper<AccountId, Balance> for TokenomicsBenchmarkHelper {
	fn create_stable() {
		if !Assets::asset_exists(STABLE_ASSET_ID) {
			let owner: AccountId = frame_benchmarking::account("stable-owner", 0, 0);
			let _ = <Assets as Create<AccountId>>::create(STABLE_ASSET_ID, owner, true, 1);
		}
	}

	fn fund_stable(who: &AccountId, amount: Balance) {
		Self::create_stable();
		let _ = Assets::mint_into(STABLE_ASSET_ID, who, amount);
	}

	fn setup_pool(native: Balance, stable: Balance) {
		let provider: AccountId = frame_benchmarking::account("pool-provider", 0, 0);
		let _ = crate::Balances::mint_into(&provider, native.saturating_mul(2));
		Self::fund_stable(&provider, stable.saturating_mul(2));
		let native_kind = Box::new(NativeOrWithId::Native);
		let stable_kind = Box::new(NativeOrWithId::WithId(STABLE_ASSET_ID));
		let origin = RuntimeOrigin::signed(provider.clone());
		let _ = crate::AssetConversion::create_pool(
			origin.clone(),
			native_kind.clone(),
			stable_kind.clone(),
		);
		let _ = crate::AssetConversion::add_liquidity(
			origin,
			native_kind,
			stable_kind,
			native,
			stable,
			0,
			0,
			provider,
		);
	}
}
