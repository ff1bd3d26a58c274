//! Storage: clients pay to keep content on the network; storage providers from the node
//! registry, drawn by Proof-of-Sync score, prove what they keep every epoch.
//!
//! - Providers are the `Active` service nodes of `NodeRegistry` that offer `Storage`; their
//!   capacity is the `storage_gib` of their declaration in force. A provider with a zero score is
//!   never drawn.
//! - Clients pay through `Tokenomics` (the storage burn share applies there); every proven
//!   slot-epoch is reported to Proof of Sync as usage (MiB kept for an epoch), which weighs into
//!   the providers' epoch rewards.
//! - An epoch left unproven is a Proof-of-Sync miss (graduated penalties); a proof that does not
//!   match the slot's root suspends the node and schedules Proof of Sync's `wrong_answer_slash`
//!   (deferred and appealable like every slash).
//! - Bounds: orders of at most 16 slots, 4,096 orders open, 256 agenda tasks and at most 10 % of
//!   a block's weight per block.

use crate::{
	configs::randomness::ChallengeRandomness, governance::ParameterAdminOrigin, AccountId, Balance,
	Balances, BlockNumber, NodeRegistry, ProofOfSync, Runtime, RuntimeHoldReason, Tokenomics,
};
use dsync_primitives::traits::{
	NodeRegistry as Registry, NodeScores, NodeStatus, ServiceFaults, ServiceKind,
};
use dsync_primitives::{currency::DSYNC, time::MINUTES};
use frame_support::{parameter_types, traits::ConstU32, weights::Weight};
use pallet_storage::{StorageParams, StoragePenalty, StorageProviders};
use sp_runtime::Perbill;

/// Bytes in a GiB.
const GIB: u64 = 1 << 30;

/// Storage providers from the node registry, scored and penalised by Proof of Sync, both reached
/// through the traits of `dsync_primitives::traits`.
pub struct RegistryStorageProviders;

impl StorageProviders<AccountId> for RegistryStorageProviders {
	fn candidates() -> alloc::vec::Vec<AccountId> {
		<NodeRegistry as Registry<AccountId, Balance>>::providers(ServiceKind::Storage, u32::MAX)
	}

	fn offer(who: &AccountId) -> Option<(u64, Perbill)> {
		let node = <NodeRegistry as Registry<AccountId, Balance>>::node(who)?;
		if node.status != NodeStatus::Active {
			return None;
		}
		let score = <ProofOfSync as NodeScores<AccountId>>::score(who)?;
		Some((node.storage_gib.saturating_mul(GIB), score))
	}

	fn owner_of_key(key: &AccountId) -> Option<AccountId> {
		<NodeRegistry as Registry<AccountId, Balance>>::node_of_key(key)
	}

	fn endpoint(provider: &AccountId) -> alloc::vec::Vec<u8> {
		<NodeRegistry as Registry<AccountId, Balance>>::node(provider)
			.map(|node| node.endpoint)
			.unwrap_or_default()
	}

	fn penalise(provider: &AccountId, penalty: StoragePenalty) {
		let kind = ServiceKind::Storage;
		match penalty {
			StoragePenalty::Missed => {
				<ProofOfSync as ServiceFaults<AccountId>>::missed(provider, kind)
			},
			StoragePenalty::WrongProof => {
				<ProofOfSync as ServiceFaults<AccountId>>::proven_wrong(provider, kind)
			},
		}
	}
}

parameter_types! {
	/// A tenth of a block's compute for the agenda (draws, offer expiries, proof deadlines).
	pub StorageAgendaWeight: Weight = Weight::from_parts(
		frame_support::weights::constants::WEIGHT_REF_TIME_PER_SECOND / 5,
		u64::MAX,
	);
}

impl pallet_storage::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Payment = Tokenomics;
	type Providers = RegistryStorageProviders;
	type Usage = ProofOfSync;
	type Randomness = ChallengeRandomness;
	type AuthorityId = dsync_primitives::offchain::DsyncAuthId;
	type AdminOrigin = ParameterAdminOrigin;
	type DrawDelay = ConstU32<2>;
	type MaxSlots = ConstU32<16>;
	type MaxOffersPerSlot = ConstU32<5>;
	type MaxProvidersPerOrder = ConstU32<80>;
	type MaxChallenges = ConstU32<8>;
	type MaxOpenOrders = ConstU32<4096>;
	type MaxDrawAttempts = ConstU32<16>;
	type MaxTasksPerBlock = ConstU32<256>;
	type AgendaWeight = StorageAgendaWeight;
	type WeightInfo = pallet_storage::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = super::benchmark_helpers::StorageBenchmarkHelper;
}

/// Storage: one-hour epochs with 8 challenges per slot, orders coded into at least 4 data and
/// 2 parity slots (16 at most), 30 minutes to fetch and accept a slot, 5 offers per slot, a slot
/// freed after 3 epochs in a row unproven, terms of 1 hour to a year, at least 0.001 DSYNC per
/// slot and epoch, 64 GiB per order. On the development chain epochs are 10 blocks (1 minute),
/// plain copies are allowed (one data shard), a slot must be accepted within 20 blocks and 4
/// pieces are challenged per epoch, so a whole order life can be watched (and tested) in
/// minutes.
pub fn storage_params(development: bool) -> StorageParams<Balance, BlockNumber> {
	let production = StorageParams {
		epoch_length: 60 * MINUTES,
		min_data_shards: 4,
		min_parity_shards: 2,
		max_slots: 16,
		max_order_bytes: 64 << 30,
		min_duration: 1,
		max_duration: 365 * 24,
		min_price: DSYNC / 1_000,
		accept_window: 30 * MINUTES,
		max_offers: 5,
		challenges: 8,
		max_missed_epochs: 3,
	};
	if development {
		StorageParams {
			epoch_length: MINUTES,
			min_data_shards: 1,
			min_parity_shards: 1,
			accept_window: 20,
			challenges: 4,
			max_duration: 100_000,
			..production
		}
	} else {
		production
	}
}

/// Gives a chain that ran without the storage pallet its parameters (the production ones, as
/// [`storage_params`] says): without them it would refuse every order until a referendum set
/// them. Does nothing where parameters are set.
pub struct InitStorageParams;

impl frame_support::traits::OnRuntimeUpgrade for InitStorageParams {
	fn on_runtime_upgrade() -> Weight {
		let db = <Runtime as frame_system::Config>::DbWeight::get();
		if pallet_storage::Params::<Runtime>::exists() {
			return db.reads(1);
		}
		pallet_storage::Params::<Runtime>::put(storage_params(false));
		log::info!(target: "runtime::dsync", "storage parameters initialised");
		db.reads_writes(1, 1)
	}
}
