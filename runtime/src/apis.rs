//! The runtime APIs the node and clients call into.

use crate::{
	configs::consensus::EPOCH_DURATION_IN_SLOTS, genesis_config_presets, AccountId, Babe, Balance,
	Block, BlockNumber, Executive, GpuJobs, Grandpa, Historical, InherentDataExt, Naming, Nonce,
	ProofOfSync, Runtime, RuntimeCall, SessionKeys, Staking, System, Tokenomics,
	TransactionPayment, BABE_GENESIS_EPOCH_CONFIG, VERSION,
};
use alloc::vec::Vec;
// The benchmark list (`benchmarks.rs`) names the pallets as they are in scope here.
#[cfg(feature = "runtime-benchmarks")]
use crate::{NodeRegistry, Storage};
use codec::Encode;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	traits::KeyOwnerProofSystem,
	weights::Weight,
};
use pallet_grandpa::{fg_primitives, AuthorityId as GrandpaId};
use sp_api::impl_runtime_apis;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult, ExtrinsicInclusionMode,
};
use sp_version::RuntimeVersion;

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_babe::BabeApi<Block> for Runtime {
		fn configuration() -> sp_consensus_babe::BabeConfiguration {
			let epoch_config = Babe::epoch_config().unwrap_or(BABE_GENESIS_EPOCH_CONFIG);
			sp_consensus_babe::BabeConfiguration {
				slot_duration: Babe::slot_duration(),
				epoch_length: EPOCH_DURATION_IN_SLOTS,
				c: epoch_config.c,
				authorities: Babe::authorities().to_vec(),
				randomness: Babe::randomness(),
				allowed_slots: epoch_config.allowed_slots,
			}
		}

		fn current_epoch_start() -> sp_consensus_babe::Slot {
			Babe::current_epoch_start()
		}

		fn current_epoch() -> sp_consensus_babe::Epoch {
			Babe::current_epoch()
		}

		fn next_epoch() -> sp_consensus_babe::Epoch {
			Babe::next_epoch()
		}

		fn generate_key_ownership_proof(
			_slot: sp_consensus_babe::Slot,
			authority_id: sp_consensus_babe::AuthorityId,
		) -> Option<sp_consensus_babe::OpaqueKeyOwnershipProof> {
			Historical::prove((sp_consensus_babe::KEY_TYPE, authority_id))
				.map(|p| p.encode())
				.map(sp_consensus_babe::OpaqueKeyOwnershipProof::new)
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: sp_consensus_babe::EquivocationProof<<Block as BlockT>::Header>,
			key_owner_proof: sp_consensus_babe::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			let key_owner_proof = key_owner_proof.decode()?;
			Babe::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}
	}

	impl fg_primitives::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> fg_primitives::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> fg_primitives::SetId {
			pallet_grandpa::CurrentSetId::<Runtime>::get()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: fg_primitives::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			key_owner_proof: fg_primitives::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			let key_owner_proof = key_owner_proof.decode()?;
			Grandpa::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}

		fn generate_key_ownership_proof(
			_set_id: fg_primitives::SetId,
			authority_id: GrandpaId,
		) -> Option<fg_primitives::OpaqueKeyOwnershipProof> {
			Historical::prove((fg_primitives::KEY_TYPE, authority_id))
				.map(|p| p.encode())
				.map(fg_primitives::OpaqueKeyOwnershipProof::new)
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}

		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}

		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_staking_runtime_api::StakingApi<Block, Balance, AccountId> for Runtime {
		fn nominations_quota(balance: Balance) -> u32 {
			Staking::api_nominations_quota(balance)
		}

		fn eras_stakers_page_count(era: sp_staking::EraIndex, account: AccountId) -> sp_staking::Page {
			Staking::api_eras_stakers_page_count(era, account)
		}

		fn pending_rewards(era: sp_staking::EraIndex, account: AccountId) -> bool {
			Staking::api_pending_rewards(era, account)
		}
	}

	impl pallet_tokenomics::runtime_api::TokenomicsApi<Block, Balance> for Runtime {
		fn totals() -> pallet_tokenomics::runtime_api::TokenomicsTotals<Balance> {
			Tokenomics::totals()
		}
	}

	impl pallet_proof_of_sync::runtime_api::ProofOfSyncApi<Block, AccountId, Balance> for Runtime {
		fn node_score(
			node: AccountId,
		) -> Option<pallet_proof_of_sync::runtime_api::NodeScoreView<Balance>> {
			ProofOfSync::node_score_view(&node)
		}

		fn epoch() -> pallet_proof_of_sync::runtime_api::EpochView {
			ProofOfSync::epoch_view()
		}

		fn usage(account: AccountId) -> pallet_proof_of_sync::runtime_api::UsageView {
			ProofOfSync::usage_view(&account)
		}
	}

	impl pallet_gpu_jobs::runtime_api::GpuJobsApi<Block, AccountId, Balance, BlockNumber>
		for Runtime
	{
		fn job(
			id: pallet_gpu_jobs::runtime_api::JobId,
		) -> Option<pallet_gpu_jobs::runtime_api::JobView<AccountId, Balance, BlockNumber>> {
			GpuJobs::job_view(id)
		}

		fn model(
			id: pallet_gpu_jobs::runtime_api::ModelId,
		) -> Option<pallet_gpu_jobs::runtime_api::ModelRecord<Balance>> {
			GpuJobs::model_view(id)
		}
	}

	impl dsync_primitives::storage::api::StorageApi<Block, AccountId> for Runtime {
		fn provider_work(provider: AccountId) -> Vec<dsync_primitives::storage::SlotWork> {
			pallet_storage::Pallet::<Runtime>::provider_work(&provider)
		}

		fn challenges(order: u64, slot: u8, epoch: u32) -> Option<Vec<u64>> {
			pallet_storage::Pallet::<Runtime>::challenges(order, slot, epoch)
		}

		fn current_epoch() -> u32 {
			pallet_storage::Pallet::<Runtime>::current_epoch()
		}

		fn order(order: u64) -> Option<dsync_primitives::storage::OrderView<AccountId>> {
			pallet_storage::Pallet::<Runtime>::order_view(order)
		}

		fn slot(order: u64, slot: u8) -> Option<dsync_primitives::storage::SlotView<AccountId>> {
			pallet_storage::Pallet::<Runtime>::slot_view(order, slot)
		}

		fn orders_of_cid(cid: dsync_primitives::storage::Cid) -> Vec<u64> {
			pallet_storage::Pallet::<Runtime>::orders_of_cid(&cid)
		}

		fn owner_of_key(key: AccountId) -> Option<AccountId> {
			<crate::configs::storage::RegistryStorageProviders as pallet_storage::StorageProviders<
				AccountId,
			>>::owner_of_key(&key)
		}
	}

	impl dsync_primitives::naming::NamingApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn records(name: Vec<u8>) -> Option<dsync_primitives::naming::NameRecords> {
			Naming::records_view(&name)
		}

		fn resolve(name: Vec<u8>, kind: dsync_primitives::naming::RecordKind) -> Vec<Vec<u8>> {
			Naming::resolve(&name, &kind)
		}

		fn reverse(account: AccountId) -> Option<Vec<u8>> {
			Naming::reverse(&account)
		}

		fn name(
			name: Vec<u8>,
		) -> Option<dsync_primitives::naming::NameView<AccountId, BlockNumber>> {
			Naming::name_view(&name)
		}

		fn price(label: Vec<u8>, years: u32) -> Option<Balance> {
			Naming::price(&label, years)
		}
	}

	impl dsync_primitives::probe_auth::ProbeKeysApi<Block> for Runtime {
		fn verifier_keys() -> Vec<[u8; 32]> {
			use dsync_primitives::traits::NodeRegistry as Registry;
			type Nodes = crate::NodeRegistry;
			<Nodes as Registry<AccountId, Balance>>::active_validator_nodes(u32::MAX)
				.iter()
				.filter_map(<Nodes as Registry<AccountId, Balance>>::node)
				.map(|node| node.offchain_key.into())
				.collect()
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::BenchmarkList;
			use frame_support::traits::StorageInfoTrait;
			use frame_benchmarking::baseline::Pallet as BaselineBench;
			use frame_system_benchmarking::Pallet as SystemBench;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);
			let storage_info = crate::AllPalletsWithSystem::storage_info();
			(list, storage_info)
		}

		#[allow(non_local_definitions)]
		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig,
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::BenchmarkBatch;
			use frame_support::traits::{TrackedStorageKey, WhitelistedStorageKeys};
			use frame_benchmarking::baseline::Pallet as BaselineBench;
			use frame_system_benchmarking::Pallet as SystemBench;

			impl frame_system_benchmarking::Config for Runtime {}
			impl frame_benchmarking::baseline::Config for Runtime {}

			let whitelist: Vec<TrackedStorageKey> = crate::AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	#[cfg(feature = "try-runtime")]
	impl frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(checks: frame_try_runtime::UpgradeCheckSelect) -> (Weight, Weight) {
			// A failed check panics on purpose: the caller (`state_call`, try-runtime tooling)
			// gets an error and the node's log the reason.
			let weight = Executive::try_runtime_upgrade(checks).expect("try_runtime_upgrade failed");
			(weight, crate::configs::system::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: <Block as BlockT>::LazyBlock,
			state_root_check: bool,
			signature_check: bool,
			select: frame_try_runtime::TryStateSelect,
		) -> Weight {
			// As above: a failed check (block or `try_state`) panics with the reason.
			Executive::try_execute_block(block, state_root_check, signature_check, select)
				.expect("execute-block failed")
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<crate::RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<crate::RuntimeGenesisConfig>(id, genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			genesis_config_presets::preset_names()
		}
	}
}
