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
//! `network_admin` track, and Proof of Sync refuses a slash deferral shorter than that track's
//! longest referendum ([`SlashAppealWindow`](crate::governance::tracks::SlashAppealWindow)), so
//! an appeal can always land before a slash applies. The presets set the genesis values.
//!
//! Pending slashes are bounded by the registered nodes (one per node and reason; a later one
//! for the same reason is added to it), and each epoch start applies at most 64 of them (the
//! rest later, never earlier), so no offender escapes a slash by filling a queue.

use crate::{
	configs::randomness::ChallengeRandomness,
	constants::{MaxServiceNodes, TreasuryAccount},
	governance::{tracks::SlashAppealWindow, NetworkAdminOrigin, ParameterAdminOrigin},
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
	type MaxSlashesPerEpoch = ConstU32<64>;
	type WeightInfo = pallet_node_registry::weights::SubstrateWeight<Runtime>;
	/// The off-chain key's signature, as any account's.
	type KeyProof = dsync_primitives::Signature;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = super::benchmark_helpers::RegistryBenchmarkHelper;
}

/// A runtime-upgrade step (in the runtime's `Migrations`): when the stored Proof-of-Sync
/// parameters defer slashes less than [`SlashAppealWindow`] (chains whose genesis deferred 2
/// epochs), raise `slash_defer_epochs` to the fewest epochs that cover the window; otherwise do
/// nothing. Two reads (the parameters, the governance timing) and at most one write; running it
/// again changes nothing. Slashes already pending keep their epoch; an appeal for one of them
/// can still go through root.
pub struct RaiseSlashDeferral;

impl frame_support::traits::OnRuntimeUpgrade for RaiseSlashDeferral {
	fn on_runtime_upgrade() -> frame_support::weights::Weight {
		use frame_support::traits::Get;
		let db = <Runtime as frame_system::Config>::DbWeight::get();
		let mut params = pallet_proof_of_sync::Params::<Runtime>::get();
		if pallet_proof_of_sync::Pallet::<Runtime>::check_appeal_window(&params).is_ok() {
			return db.reads(2);
		}
		let window = SlashAppealWindow::get();
		let before = params.slash_defer_epochs;
		params.slash_defer_epochs = window.div_ceil(params.epoch_length.max(1));
		pallet_proof_of_sync::Params::<Runtime>::put(params);
		log::info!(
			target: "runtime::dsync",
			"slash deferral raised from {before} to {} epochs (appeal window {window} blocks)",
			params.slash_defer_epochs,
		);
		db.reads_writes(2, 1)
	}
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
	type Storage = crate::Storage;
	type Randomness = ChallengeRandomness;
	type EraPoints = VerificationEraPoints;
	type AuthorityId = dsync_primitives::offchain::DsyncAuthId;
	type AdminOrigin = ParameterAdminOrigin;
	type MaxProbeTargets = ConstU32<1000>;
	type MaxVerifierCandidates = ConstU32<64>;
	type MaxVerifiers = ConstU32<8>;
	type NodesPerBlock = ConstU32<32>;
	type MinEpochLength = ConstU32<6>;
	type MinAppealWindow = SlashAppealWindow;
	type WeightInfo = pallet_proof_of_sync::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = super::benchmark_helpers::ProofOfSyncBenchmarkHelper;
}
