//! Benchmarks of the Proof-of-Sync pallet: the three calls (the reveal at its worst: evidence of
//! a wrong answer with a valid signature, the compute check, the suspension and the slash), each
//! step of the epoch state machine at its worst, and usage recording.

use super::*;
use crate::Pallet as ProofOfSync;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use dsync_primitives::probe::{self, compute_challenge, ProbeAnswer, SignedProbeAnswer};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible, EnsureOrigin, Get, Hooks},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::H256;
use sp_runtime::{traits::Saturating, Perbill, RuntimeAppPublic};

const SEED: u32 = 0;

/// The parameters of the benchmarks: the defaults, with `k` verifiers per node.
fn bench_params<T: Config>(k: u32) -> ProofOfSyncParams<BalanceOf<T>> {
	let mut params = ProofOfSyncParams::<BalanceOf<T>>::default();
	params.verifiers_per_node = k.clamp(1, T::MaxVerifiers::get().max(1));
	params.epoch_length = params.epoch_length.max(T::MinEpochLength::get());
	params
}

/// Register `count` validator nodes: `(owner, key)` pairs.
fn register_validators<T: Config>(count: u32) -> Vec<(T::AccountId, T::AccountId)> {
	(0..count)
		.map(|i| {
			let owner: T::AccountId = account("validator", i, SEED);
			let key: T::AccountId = account("validator-key", i, SEED);
			T::BenchmarkHelper::register_validator_node(&owner, &key);
			(owner, key)
		})
		.collect()
}

/// Register `count` service nodes in `status`; their owners.
fn register_services<T: Config>(count: u32, status: NodeStatus) -> Vec<T::AccountId> {
	(0..count)
		.map(|i| {
			let owner: T::AccountId = account("service", i, SEED);
			let key: T::AccountId = account("service-key", i, SEED);
			T::BenchmarkHelper::register_service_node(&owner, &key, status);
			owner
		})
		.collect()
}

/// The current block.
fn now<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number()
}

/// Start an epoch at the current block whose targets and candidates are exactly the given
/// ones, and draw the verifiers.
fn collect_with<T: Config>(
	targets: &[T::AccountId],
	candidates: &[T::AccountId],
) -> Result<(), BenchmarkError> {
	let now = now::<T>();
	Epoch::<T>::put(EpochInfo { index: 0, start: now, phase: Phase::Starting });
	ProofOfSync::<T>::on_initialize(now);
	Targets::<T>::put(BoundedVec::truncate_from(targets.to_vec()));
	Verifiers::<T>::put(BoundedVec::truncate_from(candidates.to_vec()));
	for _ in 0..targets.len().saturating_add(1) {
		if Epoch::<T>::get().phase == Phase::Collecting {
			break;
		}
		ProofOfSync::<T>::on_initialize(now);
	}
	if Epoch::<T>::get().phase == Phase::Collecting {
		Ok(())
	} else {
		Err(BenchmarkError::Stop("the epoch did not reach the collection phase"))
	}
}

/// The verifier in the last slot of `node`'s assignment (the longest search) and its key.
fn last_verifier<T: Config>(
	node: &T::AccountId,
	validators: &[(T::AccountId, T::AccountId)],
) -> Result<(T::AccountId, T::AccountId), BenchmarkError> {
	let assignment =
		Assignments::<T>::get(node).ok_or(BenchmarkError::Stop("the node is not assigned"))?;
	let verifier = assignment
		.slots
		.last()
		.map(|slot| slot.verifier.clone())
		.ok_or(BenchmarkError::Stop("no verifier was drawn"))?;
	validators
		.iter()
		.find(|(owner, _)| *owner == verifier)
		.cloned()
		.ok_or(BenchmarkError::Stop("the drawn verifier is unknown"))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Worst case: the verifier holds the last of `MaxVerifiers` slots.
	#[benchmark]
	fn commit_report() -> Result<(), BenchmarkError> {
		let k = T::MaxVerifiers::get();
		Params::<T>::put(bench_params::<T>(k));
		let validators = register_validators::<T>(k);
		let node = register_services::<T>(1, NodeStatus::Active)
			.pop()
			.ok_or(BenchmarkError::Stop("no service node"))?;
		let owners: Vec<_> = validators.iter().map(|(owner, _)| owner.clone()).collect();
		collect_with::<T>(core::slice::from_ref(&node), &owners)?;
		let (verifier, key) = last_verifier::<T>(&node, &validators)?;
		let commitment = H256::repeat_byte(1);

		#[extrinsic_call]
		_(RawOrigin::Signed(key), node.clone(), commitment);

		let assignment = Assignments::<T>::get(&node).ok_or(BenchmarkError::Stop("gone"))?;
		assert!(assignment
			.slots
			.iter()
			.any(|slot| slot.verifier == verifier && slot.commitment == Some(commitment)));
		Ok(())
	}

	/// Worst case: the evidence is a wrong answer signed by the node's key, so the signature and
	/// the compute result are checked, the node suspended and a slash scheduled.
	#[benchmark]
	fn reveal_report() -> Result<(), BenchmarkError> {
		let k = T::MaxVerifiers::get();
		let params = bench_params::<T>(k);
		Params::<T>::put(params);
		let validators = register_validators::<T>(k);

		let node_key = probe::crypto::Public::generate_pair(None);
		let raw: sp_core::sr25519::Public = node_key.clone().into();
		let key_account = T::AccountId::decode(&mut &raw.encode()[..])
			.map_err(|_| BenchmarkError::Stop("account ids are not 32-byte public keys"))?;
		let node: T::AccountId = account("service", 0, SEED);
		T::BenchmarkHelper::register_service_node(&node, &key_account, NodeStatus::Active);

		let owners: Vec<_> = validators.iter().map(|(owner, _)| owner.clone()).collect();
		collect_with::<T>(core::slice::from_ref(&node), &owners)?;
		let (verifier, key) = last_verifier::<T>(&node, &validators)?;
		let info = Epoch::<T>::get();
		let seed = Assignments::<T>::get(&node).ok_or(BenchmarkError::Stop("gone"))?.seed;

		let mut compute = compute_challenge(&seed);
		compute[0] ^= 1;
		let answer = ProbeAnswer {
			seed,
			best_number: 1,
			best_hash: H256::repeat_byte(1),
			finalized_number: 1,
			finalized_hash: H256::repeat_byte(1),
			compute,
		};
		let signature = node_key
			.sign(&answer.signing_payload())
			.ok_or(BenchmarkError::Stop("the node key cannot sign"))?;
		let report = ProbeReport {
			available: true,
			challenge_ok: false,
			latency_ms: 100,
			sync_lag: 0,
			evidence: Some(SignedProbeAnswer { answer, signature: signature.into() }),
		};
		let salt = [7u8; 32];
		let commitment = report.commitment(info.index, &node, &verifier, &salt);
		Assignments::<T>::mutate(&node, |assignment| {
			if let Some(assignment) = assignment {
				for slot in assignment.slots.iter_mut() {
					if slot.verifier == verifier {
						slot.commitment = Some(commitment);
					}
				}
			}
		});
		let reveal_at = info.start.saturating_add(params.half_length().into());
		frame_system::Pallet::<T>::set_block_number(reveal_at);

		#[extrinsic_call]
		_(RawOrigin::Signed(key), node.clone(), report, salt);

		assert_eq!(ProvenWrong::<T>::get(&node), Some(info.index));
		Ok(())
	}

	#[benchmark]
	fn set_parameters() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let mut parameters = bench_params::<T>(T::MaxVerifiers::get());
		parameters.ema_alpha = Perbill::from_percent(40);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, parameters);

		assert_eq!(Params::<T>::get(), parameters);
		Ok(())
	}

	/// The registry's `n` targets and `v` candidates are read and filtered.
	#[benchmark]
	fn on_initialize_start_epoch(
		n: Linear<0, { T::MaxProbeTargets::get() }>,
		v: Linear<0, { T::MaxVerifierCandidates::get() }>,
	) {
		Params::<T>::put(bench_params::<T>(T::MaxVerifiers::get()));
		register_services::<T>(n, NodeStatus::Active);
		register_validators::<T>(v);
		let now = now::<T>();
		Epoch::<T>::put(EpochInfo { index: 0, start: now, phase: Phase::Starting });

		#[block]
		{
			ProofOfSync::<T>::on_initialize(now);
		}

		assert_eq!(Epoch::<T>::get().phase, Phase::Assigning { cursor: 0 });
	}

	/// `n` targets each draw `MaxVerifiers` verifiers among `v` candidates.
	#[benchmark]
	fn on_initialize_assign(
		n: Linear<1, { T::NodesPerBlock::get().min(T::MaxProbeTargets::get()) }>,
		v: Linear<1, { T::MaxVerifierCandidates::get() }>,
	) {
		Params::<T>::put(bench_params::<T>(T::MaxVerifiers::get()));
		let targets: Vec<T::AccountId> = (0..n).map(|i| account("service", i, SEED)).collect();
		let candidates: Vec<T::AccountId> = (0..v).map(|i| account("validator", i, SEED)).collect();
		let now = now::<T>();
		Targets::<T>::put(BoundedVec::truncate_from(targets.clone()));
		Verifiers::<T>::put(BoundedVec::truncate_from(candidates));
		EpochSeed::<T>::put([1u8; 32]);
		Epoch::<T>::put(EpochInfo { index: 1, start: now, phase: Phase::Assigning { cursor: 0 } });

		#[block]
		{
			ProofOfSync::<T>::on_initialize(now);
		}

		assert!(targets.iter().all(Assignments::<T>::contains_key));
	}

	/// A block of the collection phase: nothing to do.
	#[benchmark]
	fn on_initialize_idle() {
		Params::<T>::put(bench_params::<T>(T::MaxVerifiers::get()));
		let now = now::<T>();
		Epoch::<T>::put(EpochInfo { index: 1, start: now, phase: Phase::Collecting });

		#[block]
		{
			ProofOfSync::<T>::on_initialize(now);
		}

		assert_eq!(Epoch::<T>::get().phase, Phase::Collecting);
	}

	/// The first tally block at its worst: the reference usage is the median of `n` distinct
	/// non-zero usages (every target used, none equal: the longest sort); `n` pending nodes,
	/// each with one revealed report (the node becomes active: a registry call) and `k - 1`
	/// verifiers that revealed nothing, each of them a registered validator node on the edge
	/// of suspension and slashing (two registry calls each: the heaviest path of an absent
	/// verifier, heavier than an honest one's credits); then the budget is fixed. The median's
	/// reads of targets beyond the first batch are added by `begin_tally` itself.
	#[benchmark]
	fn on_initialize_tally(
		n: Linear<1, { T::NodesPerBlock::get().min(T::MaxProbeTargets::get()) }>,
		k: Linear<1, { T::MaxVerifiers::get() }>,
	) {
		let mut params = bench_params::<T>(k);
		params.suspend_after_misses = 1;
		params.slash_after_misses = 1;
		Params::<T>::put(params);
		let targets = register_services::<T>(n, NodeStatus::Pending);
		let verifiers: Vec<T::AccountId> =
			register_validators::<T>(k).into_iter().map(|(owner, _)| owner).collect();
		// One miss behind them: the next absence suspends and slashes.
		for verifier in &verifiers {
			Scores::<T>::insert(verifier, NodeScore { misses: 1, ..Default::default() });
		}
		let report = ProbeReport {
			available: true,
			challenge_ok: true,
			latency_ms: params.target_latency_ms,
			sync_lag: 0,
			evidence: None,
		};
		for (i, node) in targets.iter().enumerate() {
			// The first verifier committed to (for this epoch, target and verifier) and
			// revealed the report.
			let slots: Vec<Slot<T::AccountId>> = verifiers
				.iter()
				.enumerate()
				.map(|(j, verifier)| Slot {
					verifier: verifier.clone(),
					commitment: (j == 0).then(|| report.commitment(1, node, verifier, &[0u8; 32])),
					report: (j == 0).then(|| report.clone()),
				})
				.collect();
			Assignments::<T>::insert(
				node,
				Assignment::<T> {
					epoch: 1,
					seed: [1u8; 32],
					slots: BoundedVec::truncate_from(slots),
				},
			);
			Scores::<T>::insert(
				node,
				NodeScore {
					score: Perbill::one(),
					epochs: params.warmup_epochs,
					..Default::default()
				},
			);
			// Distinct and non-zero: every target takes part in the median.
			EpochUsage::<T>::insert(node, (i as u64).saturating_add(1));
		}
		Targets::<T>::put(BoundedVec::truncate_from(targets.clone()));
		Verifiers::<T>::put(BoundedVec::truncate_from(verifiers.clone()));
		let start = now::<T>();
		Epoch::<T>::put(EpochInfo { index: 1, start, phase: Phase::Collecting });
		let end = start.saturating_add(params.epoch_length.into());
		frame_system::Pallet::<T>::set_block_number(end);

		#[block]
		{
			ProofOfSync::<T>::on_initialize(end);
		}

		assert_eq!(Epoch::<T>::get().phase, Phase::Paying { cursor: 0 });
		// Usages 1..=n: the lower median is the `(n − 1) / 2`-th, `(n − 1) / 2 + 1`.
		let median = u64::from(n.saturating_sub(1) / 2).saturating_add(1);
		assert_eq!(Totals::<T>::get().reference_usage, median);
		assert!(targets.iter().all(RewardWeights::<T>::contains_key));
		assert!(verifiers.iter().skip(1).all(|verifier| {
			T::Registry::node(verifier).is_some_and(|node| node.status == NodeStatus::Suspended)
		}));
	}

	/// `n` nodes are paid, each into a new account, and the epoch closes.
	#[benchmark]
	fn on_initialize_pay(n: Linear<1, { T::NodesPerBlock::get().min(T::MaxProbeTargets::get()) }>) {
		Params::<T>::put(bench_params::<T>(T::MaxVerifiers::get()));
		let amount = <T::Currency as fungible::Inspect<T::AccountId>>::minimum_balance()
			.max(1u32.into())
			.saturating_mul(10u32.into());
		let budget = amount.saturating_mul(n.into());
		let source = T::RewardSource::get();
		<T::Currency as fungible::Mutate<T::AccountId>>::set_balance(
			&source,
			budget.saturating_mul(2u32.into()),
		);
		let targets: Vec<T::AccountId> = (0..n).map(|i| account("paid", i, SEED)).collect();
		for node in &targets {
			RewardWeights::<T>::insert(node, 1);
		}
		Targets::<T>::put(BoundedVec::truncate_from(targets.clone()));
		Verifiers::<T>::kill();
		Totals::<T>::put(EpochTotals {
			total_weight: u128::from(n),
			budget,
			node_part: budget,
			..Default::default()
		});
		let now = now::<T>();
		Epoch::<T>::put(EpochInfo { index: 1, start: now, phase: Phase::Paying { cursor: 0 } });

		#[block]
		{
			ProofOfSync::<T>::on_initialize(now);
		}

		assert_eq!(Epoch::<T>::get().phase, Phase::Starting);
		assert!(targets.iter().all(|node| {
			<T::Currency as fungible::Inspect<T::AccountId>>::balance(node) == amount
		}));
	}

	/// A registered service node's verified, fully paid usage, into every counter (the
	/// parameters read for the burn cap).
	#[benchmark]
	fn record_usage() {
		Params::<T>::put(bench_params::<T>(T::MaxVerifiers::get()));
		let node = register_services::<T>(1, NodeStatus::Active).pop();
		let node = node.unwrap_or_else(|| account("service", 0, SEED));
		let client: T::AccountId = account("client", 0, SEED);
		let proof = UsageProof { verified: true, burned: u128::MAX };

		#[block]
		{
			<ProofOfSync<T> as UsageRecorder<T::AccountId>>::record_usage(
				&node,
				&client,
				ServiceKind::GpuInference,
				1_000,
				proof,
			);
		}

		assert_eq!(ProviderUsage::<T>::get(&node), 1_000);
		assert_eq!(EpochUsage::<T>::get(&node), 1_000);
	}

	impl_benchmark_test_suite!(ProofOfSync, crate::mock::new_bench_ext(), crate::mock::Test);
}
