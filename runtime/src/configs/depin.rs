//! The DePIN layer: the node registry and Proof of Sync.
//!
//! - `NodeRegistry` (`pallet-node-registry`): validators and service nodes register their
//!   declared resources, services, probe endpoint and off-chain (`dsyn`) key, with a bond held in
//!   `Balances` that scales with the declared capacity. Slashed bonds go to the treasury account.
//! - `ProofOfSync` (`pallet-proof-of-sync`): every epoch, randomly drawn active validators probe
//!   each service node through their off-chain workers, commit then reveal their measurements;
//!   the runtime scores the nodes, pays the epoch's reward budget from the treasury account pro
//!   rata to score × capacity × usage, and suspends or slashes nodes that keep failing.
//!
//! Both pallets' economic and security knobs are parameters in storage, set by root or a passed
//! `parameter_admin` referendum; slash appeals (`cancel_slash`) go through root or the
//! `network_admin` track. The presets set the genesis values.

use crate::{
	configs::randomness::ChallengeRandomness,
	constants::{MaxServiceNodes, TreasuryAccount},
	governance::{NetworkAdminOrigin, ParameterAdminOrigin},
	AccountId, Balances, Runtime, RuntimeHoldReason, Session,
};
use frame_support::traits::{tokens::imbalance::ResolveTo, ConstU32, Contains, ValidatorSet};

impl pallet_node_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Slashed = ResolveTo<TreasuryAccount, Balances>;
	type AdminOrigin = ParameterAdminOrigin;
	type SlashCancelOrigin = NetworkAdminOrigin;
	type MaxServiceNodes = MaxServiceNodes;
	type MaxValidatorNodes = ConstU32<100>;
	type MaxGpuKinds = ConstU32<8>;
	type MaxGpuModelLen = ConstU32<64>;
	type MaxModels = ConstU32<32>;
	type MaxEndpointLen = ConstU32<128>;
	type MaxPendingSlashes = ConstU32<256>;
	type MaxSlashesPerEpoch = ConstU32<64>;
	type WeightInfo = pallet_node_registry::weights::SubstrateWeight<Runtime>;
	/// The off-chain key's signature, as any account's.
	type KeyProof = dsync_primitives::Signature;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = super::benchmark_helpers::RegistryBenchmarkHelper;
}

/// Verifiers must be in the current session's validator set, not only registered as validators.
pub struct SessionValidators;
impl Contains<AccountId> for SessionValidators {
	fn contains(who: &AccountId) -> bool {
		<Session as ValidatorSet<AccountId>>::validators().contains(who)
	}
}

/// Honest verification earns the verifier's validator stash era points, so staking rewards
/// reflect verification work as well as block production.
pub struct VerificationEraPoints;
impl pallet_proof_of_sync::VerificationPoints<AccountId> for VerificationEraPoints {
	fn reward(points: alloc::vec::Vec<(AccountId, u32)>) {
		use frame_support::traits::RewardsReporter;
		pallet_staking::Pallet::<Runtime>::reward_by_ids(points);
	}
}

impl pallet_proof_of_sync::Config for Runtime {
	type Currency = Balances;
	type Registry = crate::NodeRegistry;
	type RewardSource = TreasuryAccount;
	type IsActiveValidator = SessionValidators;
	type Randomness = ChallengeRandomness;
	type EraPoints = VerificationEraPoints;
	type AuthorityId = dsync_primitives::offchain::DsyncAuthId;
	type AdminOrigin = ParameterAdminOrigin;
	type MaxProbeTargets = ConstU32<1000>;
	type MaxVerifierCandidates = ConstU32<64>;
	type MaxVerifiers = ConstU32<8>;
	type NodesPerBlock = ConstU32<32>;
	type MinEpochLength = ConstU32<6>;
	type WeightInfo = pallet_proof_of_sync::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = super::benchmark_helpers::ProofOfSyncBenchmarkHelper;
}
