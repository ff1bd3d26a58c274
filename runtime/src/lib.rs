//! # The DSYNC runtime
//!
//! The state transition function of the DSYNC chain, compiled to Wasm and stored on chain.
//!
//! ## What is inside
//!
//! | index | pallet | job |
//! | --- | --- | --- |
//! | 0 | `System` | accounts, nonces, events, runtime upgrades |
//! | 1 | `Timestamp` | block time (set by an inherent, checked against the BABE slot) |
//! | 2 | `Babe` | block production (BABE slots of 6 s, epochs = sessions) |
//! | 3 | `Grandpa` | finality |
//! | 4 | `Authorship` | who authored the block (fees and era points go to them) |
//! | 5 | `Balances` | the DSYNC token (18 decimals), holds and freezes |
//! | 6 | `TransactionPayment` | fees: weight + length, with a slowly adjusting multiplier |
//! | 7 | `Session` | session keys and validator-set rotation |
//! | 8 | `Historical` | historical validator sets, for equivocation proofs |
//! | 9 | `Staking` | NPoS: bonding, nominating, eras, rewards, slashing |
//! | 10 | `Offences` | offence reports from BABE/GRANDPA equivocations to staking |
//! | 11 | `VoterList` | bags-list ordering of nominators for the election snapshot |
//! | 12 | `Utility` | batches |
//! | 13 | `Multisig` | multi-signature accounts |
//! | 14 | `Proxy` | proxy accounts |
//! | 15 | `Sudo` | superuser of the development preset only (no key elsewhere) |
//! | 16 | `Assets` | fungible assets, among them the stable revenue asset USDd |
//! | 17 | `PoolAssets` | liquidity tokens of the asset-conversion pools |
//! | 18 | `AssetConversion` | constant-product pools, among them DSYNC/USDd |
//! | 19 | `Tokenomics` | burns on fees and service payments, treasury shares, buybacks |
//! | 20 | `NodeRegistry` | service nodes and validators: declarations, bonds, lifecycle |
//! | 21 | `ProofOfSync` | verifier epochs, scores, rewards, penalties |
//! | 22 | `GpuJobs` | escrowed GPU inference jobs and the model registry |
//! | 23 | `Naming` | names under `.dsync` and their DNS records |
//! | 30 | `Scheduler` | enacts passed referenda at their block |
//! | 31 | `Preimage` | proposals' calls stored by hash, against a deposit |
//! | 32 | `Treasury` | spends from the treasury account by referendum |
//! | 33 | `ConvictionVoting` | DSYNC holders' votes, with conviction and vote locks |
//! | 34 | `Referenda` | referenda on the tracks of [`governance::tracks`] |
//! | 35 | `Origins` | the governance origins of the tracks ([`governance::origins`]) |
//!
//! Elections are computed on chain (`OnChainExecution` + sequential Phragmén) within the bounds
//! of [`configs::staking::ElectionBoundsOnChain`].
//!
//! ## Layout
//!
//! - [`constants`]: the ids, accounts and bounds several modules share (treasury, tokenomics,
//!   the stable asset, the most service nodes).
//! - [`governance`]: the governance origins ([`governance::origins`]), the referendum tracks
//!   ([`governance::tracks`]), the configs of the governance pallets and the treasury, and the
//!   admin origins the other configs accept.
//! - [`configs`]: every other pallet's configuration, grouped by topic, with the glue they share
//!   (the challenge randomness, the off-chain workers' transactions).
//! - `benchmarks.rs`: the benchmarked pallets (with `runtime-benchmarks`).
//! - `apis.rs`: the runtime APIs; [`genesis_config_presets`]: the genesis presets.
//!
//! Dependencies between these modules point one way, `constants` ← `governance` ← `configs` ←
//! `benchmarks`: each imports from the crate root and from the modules to its left, never from
//! one to its right.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime!` does a lot of recursion and requires us to increase the limit.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

// Defines the `list_benchmarks!`/`add_benchmarks!` macros `apis` uses: must come first.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
pub mod benchmarks;
mod apis;
pub use apis::RuntimeApi;
pub mod configs;
pub mod constants;
pub mod genesis_config_presets;
pub mod governance;

use alloc::vec::Vec;
use frame_support::weights::Weight;
use sp_runtime::{generic, impl_opaque_keys, traits::BlakeTwo256, MultiAddress};
use sp_version::{runtime_version, RuntimeVersion};

pub use dsync_primitives::{
	currency, time, AccountId, Balance, BlockNumber, Hash, Moment, Nonce, Signature,
};
pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_staking::StakerStatus;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types: what the node needs to know about blocks without knowing the runtime's
/// extrinsic format, so it keeps syncing across runtime upgrades.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = dsync_primitives::Header;
	/// Opaque block type.
	pub type Block = dsync_primitives::OpaqueBlock;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as sp_runtime::traits::Hash>::Output;
}

impl_opaque_keys! {
	/// The session keys of a validator: one key per consensus protocol it takes part in.
	pub struct SessionKeys {
		/// BABE block production (sr25519).
		pub babe: Babe,
		/// GRANDPA finality (ed25519).
		pub grandpa: Grandpa,
	}
}

/// The runtime version. Bump `spec_version` on every change of the runtime logic.
#[cfg(not(feature = "upgrade-test"))]
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("dsync"),
	impl_name: alloc::borrow::Cow::Borrowed("dsync-node"),
	authoring_version: 1,
	spec_version: 108,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 2,
	system_version: 1,
};

/// The same runtime one `spec_version` higher, built only by `scripts/build-upgrade-runtime.sh`
/// for the end-to-end test of a runtime upgrade by referendum (the version must be a literal in
/// `#[runtime_version]`, hence the copy; keep both in step).
#[cfg(feature = "upgrade-test")]
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("dsync"),
	impl_name: alloc::borrow::Cow::Borrowed("dsync-node"),
	authoring_version: 1,
	spec_version: 109,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 2,
	system_version: 1,
};

/// BABE's genesis epoch configuration: 1/4 of the slots get a primary (VRF-lottery) author, the
/// others fall back to a secondary author chosen by VRF, so no slot stays empty while the
/// validators are online.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: time::PRIMARY_PROBABILITY,
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

#[frame_support::runtime]
mod runtime {
	/// The DSYNC runtime.
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(4)]
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(5)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(6)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(7)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(8)]
	pub type Historical = pallet_session::historical;
	#[runtime::pallet_index(9)]
	pub type Staking = pallet_staking;
	#[runtime::pallet_index(10)]
	pub type Offences = pallet_offences;
	#[runtime::pallet_index(11)]
	pub type VoterList = pallet_bags_list<Instance1>;
	#[runtime::pallet_index(12)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(13)]
	pub type Multisig = pallet_multisig;
	#[runtime::pallet_index(14)]
	pub type Proxy = pallet_proxy;
	#[runtime::pallet_index(15)]
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(16)]
	pub type Assets = pallet_assets<Instance1>;
	#[runtime::pallet_index(17)]
	pub type PoolAssets = pallet_assets<Instance2>;
	#[runtime::pallet_index(18)]
	pub type AssetConversion = pallet_asset_conversion;
	#[runtime::pallet_index(19)]
	pub type Tokenomics = pallet_tokenomics;
	#[runtime::pallet_index(20)]
	pub type NodeRegistry = pallet_node_registry;
	#[runtime::pallet_index(21)]
	pub type ProofOfSync = pallet_proof_of_sync;
	#[runtime::pallet_index(22)]
	pub type GpuJobs = pallet_gpu_jobs;
	#[runtime::pallet_index(23)]
	pub type Naming = pallet_naming;
	#[runtime::pallet_index(24)]
	pub type Storage = pallet_storage;

	// Governance.
	#[runtime::pallet_index(30)]
	pub type Scheduler = pallet_scheduler;
	#[runtime::pallet_index(31)]
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(32)]
	pub type Treasury = pallet_treasury;
	#[runtime::pallet_index(33)]
	pub type ConvictionVoting = pallet_conviction_voting;
	#[runtime::pallet_index(34)]
	pub type Referenda = pallet_referenda;
	#[runtime::pallet_index(35)]
	pub type Origins = governance::origins;
}

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;

/// The transaction extensions: what every signed transaction carries besides its call.
///
/// `CheckMetadataHash` (RFC-78, `transaction_version` 2) lets hardware wallets and offline
/// signers sign against the runtime's metadata: mode 0 (every client's default) signs no hash;
/// mode 1 adds the metadata hash the Wasm builder computed (feature `metadata-hash`, enabled by
/// the node) to the signed data, so a signer holding other metadata makes a signature the chain
/// refuses.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// The transaction extensions of an immortal transaction with `nonce` and `tip`, without the
/// metadata hash in the signed data (mode 0, every client's default): what the `dsync` client
/// and the runtime's tests sign. Not in the Wasm: only clients build transactions.
#[cfg(feature = "std")]
pub fn tx_extension(nonce: Nonce, tip: Balance) -> TxExtension {
	(
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(generic::Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(tip),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	)
}

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on the next runtime upgrade, besides those of the pallets' own versions.
///
/// - The node registry's storage version 1 to 2: at most one pending slash per node and reason
///   (pending ones of the same node and reason merged, fractions compounded), due slashes
///   indexed by epoch without a per-epoch bound, so that scheduling a slash is never refused
///   for room (a no-op on chains that started at version 2).
/// - [`configs::depin::RaiseSlashDeferral`]: Proof of Sync's `slash_defer_epochs` raised to
///   cover the slowest `network_admin` referendum where it was shorter (2 epochs in the former
///   genesis presets), so appeals land before slashes apply.
/// - [`configs::storage::InitStorageParams`]: the storage pallet's parameters on a chain that ran
///   without it (the production values; a no-op where they are set, e.g. at genesis).
/// - The node registry's storage version 0 to 1: the per-service-kind provider index and the
///   parameters under `Params` (a no-op on chains that started at version 1).
/// - Proof of Sync's storage version 0 to 1: its parameters gain `burn_per_usage_unit` and
///   `unproven_epochs` (the pallet's defaults) and `MaxEpochUsage` is removed (a no-op on
///   chains that started at version 1 or later).
/// - Proof of Sync's storage version 1 to 2: the per-client usage totals (`ClientUsage`, storage
///   any account could grow without a deposit) are removed, at most
///   `pallet_proof_of_sync::migrations::v2::MAX_REMOVED` entries (any left over would be dead
///   keys that nothing reads); clients' totals come from the `UsageRecorded` events. It runs
///   after the step to version 1, so a chain at version 0 takes both (a no-op on chains that
///   started at version 2).
/// - GPU jobs' storage version 0 to 1: its parameters gain `unavailable_forfeit` (the pallet's
///   default; a no-op on chains that started at version 1).
/// - Naming's storage version 1 to 2: every open commitment holds a deposit. The parameters gain
///   `commitment_deposit` (`pallet_naming::DEFAULT_COMMITMENT_DEPOSIT`, 0.1133 DSYNC), the
///   stored commitments a deposit of zero (nothing was held for them), and the empty commitment
///   lists are removed; it reads and writes every `Commitments` entry, one per account that
///   ever committed (a no-op on chains that started at version 2).
type Migrations = (
	pallet_node_registry::migrations::v1::MigrateToV1<Runtime>,
	pallet_node_registry::migrations::v2::MigrateToV2<Runtime>,
	pallet_proof_of_sync::migrations::v1::MigrateToV1<Runtime>,
	pallet_proof_of_sync::migrations::v2::MigrateToV2<Runtime>,
	pallet_gpu_jobs::migrations::v1::MigrateToV1<Runtime>,
	pallet_naming::migrations::v2::MigrateToV2<Runtime>,
	// After Proof of Sync's own steps: it reads the parameters in their current layout.
	configs::depin::RaiseSlashDeferral,
	configs::storage::InitStorageParams,
);

/// Executive: dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// The maximum weight of a block (2 s of compute in a 6 s slot), re-exported for the node.
pub const MAXIMUM_BLOCK_WEIGHT: Weight = configs::system::MAXIMUM_BLOCK_WEIGHT;
