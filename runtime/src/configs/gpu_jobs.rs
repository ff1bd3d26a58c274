//! GPU jobs: escrowed inference jobs served by the registry's GPU providers.
//!
//! - Providers are the `Active` service nodes of `NodeRegistry` that offer `GpuInference` and
//!   serve the job's model, drawn by their Proof-of-Sync score (a provider with a zero score is
//!   never drawn).
//! - Clients pay through `Tokenomics` (the GPU-inference burn share applies there); delivered
//!   items are reported to Proof of Sync as usage, which weighs into the providers' epoch
//!   rewards.
//! - A provider that does not deliver or dissents from the majority gets a Proof-of-Sync miss; a
//!   result proven wrong by on-chain re-execution (a dispute, or a challenge of a majority
//!   result within its window) suspends the node and schedules a slash of Proof of Sync's
//!   `wrong_answer_slash` (deferred and cancellable like every slash).
//! - Throughput bounds: `on_initialize` handles up to 128 expiry entries per block and 256 may
//!   be queued per block; a job takes two (its deadline and its dispute end; a challenge that
//!   moves the dispute end, a third), so 64 jobs a block (about a million inferences of
//!   16,384-item batches) can end in steady state, at most about 150 ms of the block's 2 s by the
//!   benchmarked weight (1.0 to 1.1 ms per paid job over the runs).

use crate::{
	configs::randomness::ChallengeRandomness,
	constants::MaxServiceNodes,
	governance::{NetworkAdminOrigin, ParameterAdminOrigin},
	AccountId, Balance, Balances, NodeRegistry, ProofOfSync, Runtime, RuntimeHoldReason,
	Tokenomics,
};
use dsync_primitives::traits::{
	ModelId, NodeRegistry as Registry, NodeScores, ServiceFaults, ServiceKind,
};
use frame_support::{
	traits::{ConstU32, Get},
	weights::Weight,
};
use pallet_gpu_jobs::{PenaltyReason, ProviderSource};
use sp_runtime::Perbill;

/// GPU providers from the node registry, scored and penalised by Proof of Sync, both reached
/// through the traits of `dsync_primitives::traits` (`NodeRegistry`, `NodeScores`,
/// `ServiceFaults`), never through their storage.
pub struct RegistryProviders;

impl ProviderSource<AccountId> for RegistryProviders {
	fn eligible(model: ModelId, max: u32) -> alloc::vec::Vec<(AccountId, Perbill)> {
		let max = dsync_primitives::convert::u32_to_usize(max);
		let gpu_providers = <NodeRegistry as Registry<AccountId, Balance>>::providers(
			ServiceKind::GpuInference,
			u32::MAX,
		);
		gpu_providers
			.into_iter()
			.filter(|owner| {
				<NodeRegistry as Registry<AccountId, Balance>>::serves_model(owner, model)
			})
			.filter_map(|owner| {
				let score = <ProofOfSync as NodeScores<AccountId>>::score(&owner)?;
				(!score.is_zero()).then_some((owner, score))
			})
			.take(max)
			.collect()
	}

	/// Beyond the benchmarks (`post_job(c)`, `on_initialize_draw`), which examine
	/// `MaxCandidates` eligible providers, one node record and one score each: the providers
	/// examined beyond them, up to every service node. None in this runtime, whose
	/// `MaxCandidates` is `MaxServiceNodes` (a GPU provider that serves another model or has no
	/// score costs the same two reads as an eligible one).
	fn eligible_overhead() -> Weight {
		let beyond = <MaxServiceNodes as Get<u32>>::get()
			.saturating_sub(<Runtime as pallet_gpu_jobs::Config>::MaxCandidates::get());
		<Runtime as frame_system::Config>::DbWeight::get().reads(2 * u64::from(beyond))
	}

	fn owner_of_key(key: &AccountId) -> Option<AccountId> {
		<NodeRegistry as Registry<AccountId, Balance>>::node_of_key(key)
	}

	fn penalise(provider: &AccountId, reason: PenaltyReason) {
		let kind = ServiceKind::GpuInference;
		match reason {
			PenaltyReason::NoShow | PenaltyReason::Dissent | PenaltyReason::Unanswered => {
				<ProofOfSync as ServiceFaults<AccountId>>::missed(provider, kind)
			},
			PenaltyReason::WrongResult => {
				<ProofOfSync as ServiceFaults<AccountId>>::proven_wrong(provider, kind)
			},
		}
	}
}

impl pallet_gpu_jobs::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Payment = Tokenomics;
	type Providers = RegistryProviders;
	type Usage = ProofOfSync;
	type Randomness = ChallengeRandomness;
	type AuthorityId = dsync_primitives::offchain::DsyncAuthId;
	type ModelOrigin = NetworkAdminOrigin;
	type AdminOrigin = ParameterAdminOrigin;
	type MaxModelBytes = ConstU32<65_536>;
	type MaxInlineInput = ConstU32<4096>;
	type MaxReplication = ConstU32<7>;
	// Every service node can be a candidate: every eligible provider can be drawn.
	type MaxCandidates = MaxServiceNodes;
	type MaxOpenJobs = ConstU32<10_000>;
	type MaxJobsPerBlockSettled = ConstU32<128>;
	type MaxExpiriesPerBlock = ConstU32<256>;
	type DrawDelay = ConstU32<2>;
	type MaxDrawsPerBlock = ConstU32<64>;
	type MaxUrlLen = ConstU32<256>;
	type WeightInfo = pallet_gpu_jobs::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = super::benchmark_helpers::GpuJobsBenchmarkHelper;
}
