//! GPU jobs across pallets: GPU providers registered in `NodeRegistry` and scored by Proof of
//! Sync are drawn for a job of the genesis digits model; they commit and reveal through their
//! off-chain keys with real signed transactions; the client pays through `Tokenomics` (the burn
//! share leaves the issuance), Proof of Sync records the usage, and failures become Proof-of-Sync
//! misses, suspensions and slashes. The development preset, with its short job periods.

use crate::chain::{account_of, free, signed, signed_by_pair, total_issuance, TestChain};
use codec::Encode;
use dsync_aivm_core::{bundled::DIGITS_64_128_64_10, result_hash, Model};
use dsync_primitives::{
	traits::{NodeRegistry as _, NodeRole, NodeStatus, ServiceKind, SlashReason},
	AccountId, Balance,
};
use dsync_runtime::{
	constants::TreasuryAccount, genesis_config_presets::DEVELOPMENT, BalancesCall, GpuJobs,
	NodeRegistry, Runtime, RuntimeCall, RuntimeEvent, RuntimeHoldReason, System,
};
use frame_support::traits::fungible::InspectHold;
use pallet_gpu_jobs::{commitment_of, Event as JobEvent, JobInput, PenaltyReason};
use pallet_proof_of_sync::Event as PosEvent;
use sp_core::{sr25519, Pair as _, H256};
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::{MultiAddress, Perbill};

/// The genesis id of the digits model.
const DIGITS: u32 = 0;
/// The salt of every commitment.
const SALT: [u8; 32] = [0x5a; 32];
/// What each provider key gets for fees paid up front (refunded on success).
const KEY_FUNDS: Balance = 10 * dsync_primitives::currency::DSYNC;

/// Submit `call` from `who` in its own block; require success; the block's events.
pub(crate) fn run(
	chain: &mut TestChain,
	who: Sr25519Keyring,
	call: RuntimeCall,
) -> Vec<RuntimeEvent> {
	let xt = chain.execute(|| signed(who, call));
	assert_eq!(chain.next_block(vec![xt]), vec![Ok(Ok(()))]);
	chain.events()
}

/// Submit `call` signed by the off-chain key `key`; require success; the block's events.
pub(crate) fn run_key(
	chain: &mut TestChain,
	key: &sr25519::Pair,
	call: RuntimeCall,
) -> Vec<RuntimeEvent> {
	let who = account_of(key);
	let xt = chain.execute(|| signed_by_pair(key, System::account_nonce(&who), call));
	assert_eq!(chain.next_block(vec![xt]), vec![Ok(Ok(()))]);
	chain.events()
}

/// `owner`'s worker commits to `result` on `job` with its off-chain `key`, in its own block.
fn commit(
	chain: &mut TestChain,
	key: &sr25519::Pair,
	owner: &AccountId,
	job: pallet_gpu_jobs::JobId,
	result: H256,
) {
	let commitment = commitment_of(job, owner, &result, &SALT);
	run_key(
		chain,
		key,
		RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::commit_result { job, commitment }),
	);
}

/// The worker with off-chain `key` reveals `result` on `job`; the block's events.
fn reveal(
	chain: &mut TestChain,
	key: &sr25519::Pair,
	job: pallet_gpu_jobs::JobId,
	result: H256,
) -> Vec<RuntimeEvent> {
	run_key(
		chain,
		key,
		RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::reveal_result { job, result, salt: SALT }),
	)
}

/// `owner` registers a GPU service node serving the digits model with off-chain `key`, which
/// Proof of Sync has activated and scored (set directly: the probing itself is covered by the
/// Proof-of-Sync tests).
pub(crate) fn gpu_provider(chain: &mut TestChain, owner: Sr25519Keyring, key: &sr25519::Pair) {
	let declaration = pallet_node_registry::Declaration {
		resources: pallet_node_registry::Resources {
			cpu_cores: 8,
			memory_mib: 16 * 1024,
			storage_gib: 100,
			bandwidth_mbps: 100,
			gpus: vec![pallet_node_registry::GpuSpec {
				model: b"RTX 4090".to_vec().try_into().unwrap(),
				count: 1,
				memory_mib: 24 * 1024,
			}]
			.try_into()
			.unwrap(),
		},
		services: vec![ServiceKind::GpuInference].try_into().unwrap(),
		models: vec![DIGITS].try_into().unwrap(),
		endpoint: b"http://127.0.0.1:9955".to_vec().try_into().unwrap(),
	};
	scored_service_node(chain, owner, key, declaration);
}

/// `owner` funds its off-chain `key` with [`KEY_FUNDS`], registers a service node with
/// `declaration` and that key (with its real key proof), and the node is made `Active` with a
/// Proof-of-Sync score of 80 % (set directly: the probing itself is covered by the
/// Proof-of-Sync tests).
pub(crate) fn scored_service_node(
	chain: &mut TestChain,
	owner: Sr25519Keyring,
	key: &sr25519::Pair,
	declaration: pallet_node_registry::DeclarationOf<Runtime>,
) {
	run(
		chain,
		owner,
		RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
			dest: MultiAddress::Id(account_of(key)),
			value: KEY_FUNDS,
		}),
	);
	let bond = chain.execute(|| NodeRegistry::minimum_bond(&declaration));
	let message = chain.execute(|| NodeRegistry::key_proof_message(&owner.to_account_id()));
	run(
		chain,
		owner,
		RuntimeCall::NodeRegistry(pallet_node_registry::Call::register {
			role: NodeRole::Service,
			declaration,
			offchain_key: account_of(key),
			key_proof: key.sign(&message).into(),
			bond,
		}),
	);
	let owner = owner.to_account_id();
	chain.execute(|| {
		NodeRegistry::set_status(&owner, NodeStatus::Active).unwrap();
		pallet_proof_of_sync::Scores::<Runtime>::insert(
			&owner,
			pallet_proof_of_sync::NodeScore {
				score: Perbill::from_percent(80),
				..Default::default()
			},
		);
	});
}

/// The digits model's logits for `input`, as the runtime re-executes them.
pub(crate) fn logits(input: &[i8]) -> Vec<i32> {
	Model::parse(DIGITS_64_128_64_10).unwrap().evaluate(input).unwrap()
}

/// An 8×8 "one": a vertical stroke.
pub(crate) fn one() -> Vec<i8> {
	(0..64).map(|i| if i % 8 == 4 { 16 } else { 0 }).collect()
}

pub(crate) fn escrow_of(who: &AccountId) -> Balance {
	let reason: RuntimeHoldReason = pallet_gpu_jobs::HoldReason::Escrow.into();
	pallet_balances::Pallet::<Runtime>::balance_on_hold(&reason, who)
}

/// Post a one-item job of the digits model from `client` with `k` providers at the price
/// floor, due `blocks` after the block it lands in; returns its id, the drawn providers and
/// the price.
fn post(
	chain: &mut TestChain,
	client: Sr25519Keyring,
	k: u8,
	blocks: u32,
) -> (u64, Vec<AccountId>, Balance) {
	let price = dsync_runtime::genesis_config_presets::DIGITS_PRICE_FLOOR;
	// The job lands in the next block: its deadline is `blocks` after that.
	let deadline = chain.execute(System::block_number) + 1 + blocks;
	let events = run(
		chain,
		client,
		post_call(JobInput::Inline(one().try_into().unwrap()), k, price, deadline),
	);
	let job = posted(&events);
	(job, drawn(chain, job), price)
}

/// The id of the job posted in `events`.
pub(crate) fn posted(events: &[RuntimeEvent]) -> u64 {
	events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::GpuJobs(JobEvent::JobPosted { job, .. }) => Some(*job),
			_ => None,
		})
		.expect("the job was posted")
}

/// Run blocks until `job`'s providers are drawn (`DrawDelay` blocks after posting); they, in
/// draw order.
pub(crate) fn drawn(chain: &mut TestChain, job: u64) -> Vec<AccountId> {
	let events = run_until(chain, |events| assigned(events, job).is_some());
	assigned(&events, job).expect("the providers were drawn")
}

/// The providers drawn for `job` in `events`, if they were.
fn assigned(events: &[RuntimeEvent], job: u64) -> Option<Vec<AccountId>> {
	events.iter().find_map(|e| match e {
		RuntimeEvent::GpuJobs(JobEvent::JobAssigned { job: id, providers }) if *id == job => {
			Some(providers.clone())
		},
		_ => None,
	})
}

/// `post_job` of the digits model with `input`, `k` providers at `price` each, due at
/// `deadline`.
pub(crate) fn post_call(
	input: pallet_gpu_jobs::JobInputOf<Runtime>,
	k: u8,
	price: Balance,
	deadline: u32,
) -> RuntimeCall {
	RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::post_job {
		model: DIGITS,
		input,
		replication: k,
		price_per_provider: price,
		deadline,
	})
}

fn run_until(chain: &mut TestChain, done: impl Fn(&[RuntimeEvent]) -> bool) -> Vec<RuntimeEvent> {
	for _ in 0..40 {
		chain.next_block(vec![]);
		let events = chain.events();
		if done(&events) {
			return events;
		}
	}
	panic!("the awaited event did not come within 40 blocks");
}

#[test]
fn a_job_is_computed_revealed_paid_with_burn_and_counted_as_usage() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let key = sr25519::Pair::from_seed(&[0x61; 32]);
	gpu_provider(&mut chain, Bob, &key);
	let (bob, charlie) = (Bob.to_account_id(), Charlie.to_account_id());
	let charlie_before = chain.execute(|| free(&charlie));

	let (job, providers, price) = post(&mut chain, Charlie, 1, 8);
	assert_eq!(providers, vec![bob.clone()]);
	chain.execute(|| assert_eq!(escrow_of(&charlie), price));

	// The provider's worker computes the item and commits, then reveals.
	let result = H256(result_hash(&logits(&one())));
	let job_id = job as pallet_gpu_jobs::JobId;
	commit(&mut chain, &key, &bob, job_id, result);
	let events = reveal(&mut chain, &key, job_id, result);

	// Concluded at once (every provider revealed), paid when the challenge window ends.
	let payable_at = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::GpuJobs(JobEvent::JobConcluded { job, result: r, payable_at })
				if *job == job_id && *r == result =>
			{
				Some(*payable_at)
			},
			_ => None,
		})
		.unwrap_or_else(|| panic!("the job concluded: {events:?}"));
	while chain.execute(System::block_number) + 1 < payable_at {
		chain.next_block(vec![]);
	}
	chain.execute(|| assert_eq!(escrow_of(&charlie), price, "held until the window ends"));
	let bob_before = chain.execute(|| free(&bob));
	let (issuance_before, treasury_before) =
		chain.execute(|| (total_issuance(), free(&TreasuryAccount::get())));
	chain.next_block(vec![]);
	let events = chain.events();

	// Paid at the window's end: 10 % burned, 5 % to the treasury, 85 % to Bob.
	let settled = events.iter().find_map(|e| match e {
		RuntimeEvent::GpuJobs(JobEvent::JobSettled {
			result: r,
			winners,
			paid,
			burned,
			refunded,
			..
		}) => Some((*r, winners.clone(), *paid, *burned, *refunded)),
		_ => None,
	});
	let burn = price / 10;
	assert_eq!(settled, Some((result, vec![bob.clone()], price, burn, 0)), "{events:?}");
	chain.execute(|| {
		assert_eq!(escrow_of(&charlie), 0);
		assert_eq!(free(&bob) - bob_before, price - burn - price / 20);
		assert_eq!(free(&TreasuryAccount::get()) - treasury_before, price / 20);
		// The burn left the issuance (the block had no transaction: no fee burned).
		assert_eq!(issuance_before - total_issuance(), burn);
		// Charlie paid the price and the fee of posting, nothing else.
		assert!(charlie_before - free(&charlie) >= price);
		// Proof of Sync counted the delivered item for Bob; Charlie's consumption is in the
		// event only: no per-client state, which any account could grow without a deposit.
		let units =
			u64::from(pallet_gpu_jobs::Models::<Runtime>::get(DIGITS).unwrap().units_per_item);
		assert_eq!(pallet_proof_of_sync::ProviderUsage::<Runtime>::get(&bob), units);
		// One provider checked by nobody: delivered, but not verified, so it weighs nothing
		// into Bob's rewards (issue 17, finding 9).
		assert_eq!(pallet_proof_of_sync::EpochUsage::<Runtime>::get(&bob), 0);
		assert!(
			events.iter().any(|e| matches!(
				e,
				RuntimeEvent::ProofOfSync(PosEvent::UsageRecorded {
					provider,
					client,
					kind: ServiceKind::GpuInference,
					units: recorded,
					rewardable: 0,
				}) if *provider == bob && *client == charlie && *recorded == units
			)),
			"{events:?}"
		);
		assert!(!frame_support::storage::unhashed::contains_prefixed_key(
			&frame_support::storage::storage_prefix(b"ProofOfSync", b"ClientUsage")
		));
		assert!(
			pallet_gpu_jobs::Jobs::<Runtime>::get(job_id).is_none(),
			"an ended job leaves state"
		);
	});
}

#[test]
fn a_job_nobody_answers_is_refunded_and_the_provider_misses() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let key = sr25519::Pair::from_seed(&[0x62; 32]);
	gpu_provider(&mut chain, Bob, &key);
	let (bob, charlie) = (Bob.to_account_id(), Charlie.to_account_id());
	let (job, _, price) = post(&mut chain, Charlie, 1, 8);
	let free_after_posting = chain.execute(|| free(&charlie));

	let events = run_until(&mut chain, |events| {
		events
			.iter()
			.any(|e| matches!(e, RuntimeEvent::GpuJobs(JobEvent::JobExpired { .. })))
	});
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::GpuJobs(JobEvent::JobExpired { job: j, refunded }) if *j == job && *refunded == price
	)));
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::GpuJobs(JobEvent::ProviderPenalised { provider, reason: PenaltyReason::NoShow, .. }) if *provider == bob
	)));
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::ProofOfSync(PosEvent::ServiceFailed { node, proven_wrong: false, misses: 1, .. }) if *node == bob
	)));
	chain.execute(|| {
		assert_eq!(escrow_of(&charlie), 0);
		assert_eq!(free(&charlie), free_after_posting + price, "the whole escrow came back");
		assert_eq!(NodeRegistry::node(&bob).unwrap().status, NodeStatus::Active, "one miss");
	});
}

#[test]
fn a_wrong_result_is_proven_by_re_execution_and_slashed() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let (honest, liar) =
		(sr25519::Pair::from_seed(&[0x63; 32]), sr25519::Pair::from_seed(&[0x64; 32]));
	gpu_provider(&mut chain, Bob, &honest);
	gpu_provider(&mut chain, Dave, &liar);
	let (bob, dave) = (Bob.to_account_id(), Dave.to_account_id());
	let (job, mut providers, price) = post(&mut chain, Charlie, 2, 8);
	providers.sort();
	let mut expected = vec![bob.clone(), dave.clone()];
	expected.sort();
	assert_eq!(providers, expected);
	let job_id = job as pallet_gpu_jobs::JobId;

	let right = H256(result_hash(&logits(&one())));
	let wrong = H256::repeat_byte(0x77);
	for (key, owner, result) in [(&honest, &bob, right), (&liar, &dave, wrong)] {
		commit(&mut chain, key, owner, job_id, result);
	}
	reveal(&mut chain, &honest, job_id, right);
	let events = reveal(&mut chain, &liar, job_id, wrong);
	// One of two is no majority: disputed.
	assert!(
		events
			.iter()
			.any(|e| matches!(e, RuntimeEvent::GpuJobs(JobEvent::JobDisputed { .. }))),
		"{events:?}"
	);

	// Anyone re-executes the item on chain: the honest result wins, the liar is proven wrong.
	let events = run(
		&mut chain,
		Eve,
		RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::resolve_by_execution {
			job: job_id,
			item_index: 0,
			batch_item: None,
			claims: Default::default(),
		}),
	);
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::GpuJobs(JobEvent::JobSettled { winners, paid, .. }) if *winners == vec![bob.clone()] && *paid == price
	)), "{events:?}");
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::GpuJobs(JobEvent::ProviderPenalised { provider, reason: PenaltyReason::WrongResult, .. }) if *provider == dave
	)));
	chain.execute(|| {
		assert_eq!(NodeRegistry::node(&dave).unwrap().status, NodeStatus::Suspended);
		let slashes: Vec<_> = pallet_node_registry::PendingSlashes::<Runtime>::iter_values()
			.filter(|slash| slash.node == dave)
			.collect();
		assert_eq!(slashes.len(), 1);
		assert_eq!(slashes[0].reason, SlashReason::WrongResult);
		assert_eq!(escrow_of(&Charlie.to_account_id()), 0);
		// A suspended provider is no longer drawn.
		let digits_providers: Vec<_> = NodeRegistry::providers(ServiceKind::GpuInference, u32::MAX)
			.into_iter()
			.filter(|owner| NodeRegistry::serves_model(owner, DIGITS))
			.take(10)
			.collect();
		assert_eq!(digits_providers, vec![bob.clone()]);
	});
	chain.execute(|| assert!(GpuJobs::job_view(job_id).is_none(), "a resolved job leaves state"));
}

#[test]
fn a_wrong_majority_is_challenged_by_re_execution_and_a_failed_challenge_pays_its_fee() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let honest = sr25519::Pair::from_seed(&[0x65; 32]);
	let liars = [sr25519::Pair::from_seed(&[0x66; 32]), sr25519::Pair::from_seed(&[0x67; 32])];
	gpu_provider(&mut chain, Bob, &honest);
	gpu_provider(&mut chain, Dave, &liars[0]);
	gpu_provider(&mut chain, Eve, &liars[1]);
	let (bob, dave, eve) = (Bob.to_account_id(), Dave.to_account_id(), Eve.to_account_id());
	let right = H256(result_hash(&logits(&one())));
	let wrong = H256::repeat_byte(0x77);
	let challenge = |job_id| {
		RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::resolve_by_execution {
			job: job_id,
			item_index: 0,
			batch_item: None,
			claims: Default::default(),
		})
	};

	// Job 1: Bob is right, Dave and Eve agree on a wrong result: a wrong majority concludes.
	let (job, providers, price) = post(&mut chain, Charlie, 3, 10);
	assert_eq!(providers.len(), 3);
	let job_id = job as pallet_gpu_jobs::JobId;
	let plays = [(&honest, &bob, right), (&liars[0], &dave, wrong), (&liars[1], &eve, wrong)];
	for (key, owner, result) in plays {
		commit(&mut chain, key, owner, job_id, result);
	}
	let mut events = Vec::new();
	for (key, _, result) in plays {
		events = reveal(&mut chain, key, job_id, result);
	}
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::GpuJobs(JobEvent::JobConcluded { job, result, .. }) if *job == job_id && *result == wrong
	)), "{events:?}");

	// Bob challenges within the window: the re-execution proves the majority wrong, for free.
	let bob_before = chain.execute(|| free(&bob));
	let events = run(&mut chain, Bob, challenge(job_id));
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::GpuJobs(JobEvent::JobSettled { result, winners, paid, refunded, .. })
				if *result == right && *winners == vec![bob.clone()] && *paid == price && *refunded == 2 * price
		)),
		"{events:?}"
	);
	chain.execute(|| {
		assert_eq!(free(&bob) - bob_before, price - price / 10 - price / 20, "paid, no fee");
		for liar in [&dave, &eve] {
			assert_eq!(NodeRegistry::node(liar).unwrap().status, NodeStatus::Suspended);
			assert!(pallet_node_registry::PendingSlashes::<Runtime>::iter_values()
				.any(|slash| slash.node == *liar && slash.reason == SlashReason::WrongResult));
		}
		assert_eq!(escrow_of(&Charlie.to_account_id()), 0);
		assert!(GpuJobs::job_view(job_id).is_none(), "a challenged job leaves state");
	});

	// Job 2, Bob alone: right. Ferdie's challenge fails, changes nothing and pays its fee.
	let (job, providers, _) = post(&mut chain, Charlie, 1, 8);
	assert_eq!(providers, vec![bob.clone()]);
	let job_id = job as pallet_gpu_jobs::JobId;
	commit(&mut chain, &honest, &bob, job_id, right);
	reveal(&mut chain, &honest, job_id, right);
	let ferdie = Ferdie.to_account_id();
	let ferdie_before = chain.execute(|| free(&ferdie));
	let xt = chain.execute(|| signed(Ferdie, challenge(job_id)));
	let outcome = chain.next_block(vec![xt]);
	assert!(
		matches!(
			outcome.as_slice(),
			[Ok(Err(sp_runtime::DispatchError::Module(error)))]
				if error.message == Some("MajorityConfirmed")
		),
		"{outcome:?}"
	);
	chain.execute(|| {
		assert!(free(&ferdie) < ferdie_before, "the failed challenge paid its fee");
		let view = GpuJobs::job_view(job_id).expect("the job waits out its window");
		assert_eq!(view.status, pallet_gpu_jobs::JobStatus::Concluded);
	});
	let events = run_until(&mut chain, |events| {
		events
			.iter()
			.any(|e| matches!(e, RuntimeEvent::GpuJobs(JobEvent::JobSettled { .. })))
	});
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::GpuJobs(JobEvent::JobSettled { job, winners, .. }) if *job == job_id && *winners == vec![bob.clone()]
	)));
}

#[test]
fn a_wrong_batch_majority_is_walked_down_to_its_wrong_item_and_slashed() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let honest = sr25519::Pair::from_seed(&[0x68; 32]);
	let liars = [sr25519::Pair::from_seed(&[0x69; 32]), sr25519::Pair::from_seed(&[0x6a; 32])];
	gpu_provider(&mut chain, Bob, &honest);
	gpu_provider(&mut chain, Dave, &liars[0]);
	gpu_provider(&mut chain, Eve, &liars[1]);
	let (bob, dave, eve) = (Bob.to_account_id(), Dave.to_account_id(), Eve.to_account_id());

	// Four items: a "one" and three variations of it. Dave and Eve agree on a result that is
	// wrong at item 2 only.
	let items: Vec<Vec<i8>> = (0..4i8)
		.map(|shift| one().iter().map(|v| if *v == 0 { shift } else { *v }).collect())
		.collect();
	let leaves: Vec<[u8; 32]> = items.iter().map(|item| result_hash(&logits(item))).collect();
	let mut bad_leaves = leaves.clone();
	bad_leaves[2] = [0xbd; 32];
	let right = H256(dsync_aivm_core::batch_merkle_root(&leaves));
	let wrong = H256(dsync_aivm_core::batch_merkle_root(&bad_leaves));
	let price = 4 * dsync_runtime::genesis_config_presets::DIGITS_PRICE_FLOOR;
	let deadline = chain.execute(System::block_number) + 1 + 10;
	let events = run(
		&mut chain,
		Charlie,
		post_call(JobInput::Inline(items.concat().try_into().unwrap()), 3, price, deadline),
	);
	let job_id = posted(&events);
	drawn(&mut chain, job_id);
	let plays = [(&honest, &bob, right), (&liars[0], &dave, wrong), (&liars[1], &eve, wrong)];
	for (key, owner, result) in plays {
		commit(&mut chain, key, owner, job_id, result);
	}
	for (key, _, result) in plays {
		reveal(&mut chain, key, job_id, result);
	}

	// Bob challenges with his result; one round of nodes (two levels) finds item 2.
	let events = run(
		&mut chain,
		Bob,
		RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::challenge { job: job_id, result: right }),
	);
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::GpuJobs(JobEvent::ChallengeOpened { job, result, defender, .. })
			if *job == job_id && *result == right && *defender == wrong
	)));
	let nodes = |leaves: &[[u8; 32]]| -> frame_support::BoundedVec<H256, _> {
		leaves.iter().copied().map(H256).collect::<Vec<_>>().try_into().unwrap()
	};
	// Anyone may send a side's nodes, and accepted answers are free.
	let ferdie = Ferdie.to_account_id();
	let ferdie_before = chain.execute(|| free(&ferdie));
	run(
		&mut chain,
		Ferdie,
		RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::reveal_nodes {
			job: job_id,
			result: right,
			nodes: nodes(&leaves),
		}),
	);
	assert_eq!(chain.execute(|| free(&ferdie)), ferdie_before, "an accepted answer is free");
	let events = run_key(
		&mut chain,
		&liars[0],
		RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::reveal_nodes {
			job: job_id,
			result: wrong,
			nodes: nodes(&bad_leaves),
		}),
	);
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::GpuJobs(JobEvent::ChallengeNarrowed { job, level: 0, position: 2, .. })
			if *job == job_id
	)));

	// The re-execution of item 2 proves the majority wrong: Bob is paid, the liars slashed.
	let events = run(
		&mut chain,
		Bob,
		RuntimeCall::GpuJobs(pallet_gpu_jobs::Call::resolve_by_execution {
			job: job_id,
			item_index: 2,
			batch_item: None,
			claims: Default::default(),
		}),
	);
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::GpuJobs(JobEvent::JobSettled { result, winners, paid, .. })
				if *result == right && *winners == vec![bob.clone()] && *paid == price
		)),
		"{events:?}"
	);
	chain.execute(|| {
		for liar in [&dave, &eve] {
			assert_eq!(NodeRegistry::node(liar).unwrap().status, NodeStatus::Suspended);
			assert!(pallet_node_registry::PendingSlashes::<Runtime>::iter_values()
				.any(|slash| slash.node == *liar && slash.reason == SlashReason::WrongResult));
		}
		assert_eq!(escrow_of(&Charlie.to_account_id()), 0);
		assert!(GpuJobs::job_view(job_id).is_none());
	});
}

/// Attack (finding 1): a client that would rather not pay delegates its votes with its whole
/// balance, escrow included, so the conviction-voting lock covers every DSYNC it has. Before,
/// settlement released the escrow to the free balance and charged it from there, which the
/// lock refused: the provider got nothing and the client a full refund. The escrow is now
/// charged from the hold itself, which no lock can stop: the provider is paid.
#[test]
fn a_client_that_locks_its_whole_balance_still_pays_from_its_escrow() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let key = sr25519::Pair::from_seed(&[0x65; 32]);
	gpu_provider(&mut chain, Bob, &key);
	let (bob, charlie) = (Bob.to_account_id(), Charlie.to_account_id());
	let total = |chain: &mut TestChain| {
		chain.execute(|| {
			<pallet_balances::Pallet<Runtime> as frame_support::traits::fungible::Inspect<
				AccountId,
			>>::total_balance(&charlie)
		})
	};
	// Half of everything Charlie has, so a lock over 99 % of it decides.
	let price = total(&mut chain) / 2;
	let deadline = chain.execute(System::block_number) + 1 + 8;
	let events = run(
		&mut chain,
		Charlie,
		post_call(JobInput::Inline(one().try_into().unwrap()), 1, price, deadline),
	);
	let job_id = posted(&events);
	drawn(&mut chain, job_id);
	let result = H256(result_hash(&logits(&one())));
	commit(&mut chain, &key, &bob, job_id, result);
	reveal(&mut chain, &key, job_id, result);

	// The attack: lock 99 % of everything, escrow included (1 % left for this call's fee: far
	// less than the price, so a charge of the free balance would fail).
	let locked = total(&mut chain) / 100 * 99;
	run(
		&mut chain,
		Charlie,
		RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::delegate {
			class: dsync_runtime::governance::tracks::ROOT,
			to: MultiAddress::Id(Dave.to_account_id()),
			conviction: pallet_conviction_voting::Conviction::Locked6x,
			balance: locked,
		}),
	);
	chain.execute(|| assert_eq!(escrow_of(&charlie), price));

	let bob_before = chain.execute(|| free(&bob));
	let events = run_until(&mut chain, |events| {
		events.iter().any(
			|e| matches!(e, RuntimeEvent::GpuJobs(JobEvent::JobSettled { job, .. }) if *job == job_id),
		)
	});
	assert!(
		!events
			.iter()
			.any(|e| matches!(e, RuntimeEvent::GpuJobs(JobEvent::ProviderPaymentFailed { .. }))),
		"{events:?}"
	);
	let settled = events.iter().find_map(|e| match e {
		RuntimeEvent::GpuJobs(JobEvent::JobSettled { winners, paid, refunded, .. }) => {
			Some((winners.clone(), *paid, *refunded))
		},
		_ => None,
	});
	assert_eq!(settled, Some((vec![bob.clone()], price, 0)));
	chain.execute(|| {
		assert_eq!(escrow_of(&charlie), 0);
		// 85 % of the price: 10 % burned, 5 % to the treasury.
		assert_eq!(free(&bob) - bob_before, price - price / 10 - price / 20);
		// The lock is still there: it just could not stop the payment.
		assert!(pallet_balances::Locks::<Runtime>::get(&charlie)
			.iter()
			.any(|lock| lock.amount >= locked));
	});
}

/// The attack (issue 17, finding 11): Charlie controls the GPU provider Bob and wants his jobs
/// drawn to Bob (who would not compute them, or would collude). Before each block he predicts
/// the draw from everything public (the randomness a draw in the next block would use, the next
/// job id, the eligible providers and their scores: what a draw at posting is seeded with) and
/// posts only when the prediction is Bob. The providers are drawn two blocks after posting,
/// with the VRF output of a block authored after the post: Bob gets his fair share (one in
/// four), not every job. The blocks' VRF outputs are fixed here (set as BABE stores them), so
/// the test is deterministic.
#[test]
fn a_client_cannot_steer_the_draw_of_its_job_to_a_provider_it_controls() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let owners = [Bob, Dave, Eve, Ferdie];
	for (i, owner) in owners.iter().enumerate() {
		let key = sr25519::Pair::from_seed(&[0x70 + u8::try_from(i).unwrap(); 32]);
		gpu_provider(&mut chain, *owner, &key);
	}
	let (bob, charlie) = (Bob.to_account_id(), Charlie.to_account_id());
	let price = dsync_runtime::genesis_config_presets::DIGITS_PRICE_FLOOR;
	// The VRF output of each block, as BABE stores it for the next block's randomness.
	let set_vrf = |chain: &mut TestChain| {
		chain.execute(|| {
			let vrf = sp_io::hashing::blake2_256(&(b"vrf", System::block_number()).encode());
			pallet_babe::AuthorVrfRandomness::<Runtime>::put(Some(vrf));
		})
	};
	let mut steered = Vec::new();
	let mut assigned_to: Vec<(u64, Vec<AccountId>)> = Vec::new();
	let mut record = |events: &[RuntimeEvent]| {
		assigned_to.extend(events.iter().filter_map(|e| match e {
			RuntimeEvent::GpuJobs(JobEvent::JobAssigned { job, providers }) => {
				Some((*job, providers.clone()))
			},
			_ => None,
		}))
	};
	let mut tries = 0u32;
	while steered.len() < 12 && tries < 200 {
		tries += 1;
		set_vrf(&mut chain);
		// Everything a draw at posting in the next block would be seeded with is public now.
		let (next, predicted) = chain.execute(|| {
			let next = pallet_gpu_jobs::NextJobId::<Runtime>::get();
			let drawn = GpuJobs::draw_providers(DIGITS, 1, &charlie, next).expect("4 providers");
			(next, drawn[0].who.clone())
		});
		if predicted != bob {
			chain.next_block(vec![]);
			record(&chain.events());
			continue;
		}
		// Far enough that no job ends (and no provider misses) while Charlie tries.
		let deadline = chain.execute(System::block_number) + 1 + 500;
		let events = run(
			&mut chain,
			Charlie,
			post_call(JobInput::Inline(one().try_into().unwrap()), 1, price, deadline),
		);
		assert_eq!(posted(&events), next);
		record(&events);
		steered.push(next);
	}
	assert_eq!(steered.len(), 12, "Charlie found blocks where a draw at posting gives Bob");
	// The last jobs' draw blocks, each with its own VRF output.
	for _ in 0..3 {
		set_vrf(&mut chain);
		chain.next_block(vec![]);
		record(&chain.events());
	}
	assert!(steered.iter().all(|id| assigned_to.iter().any(|(job, _)| job == id)));
	let to_bob = assigned_to
		.iter()
		.filter(|(job, providers)| steered.contains(job) && *providers == vec![bob.clone()])
		.count();
	// A draw at posting would give Bob all 12; his fair share is 3.
	assert!(to_bob <= 6, "Charlie steered {to_bob} of 12 jobs to Bob");
}

/// Every eligible provider can be drawn: the draw considers as many candidates as there can be
/// service nodes, not only the first of them.
#[test]
fn the_draw_considers_every_service_node() {
	use frame_support::traits::Get;
	let candidates = <<Runtime as pallet_gpu_jobs::Config>::MaxCandidates as Get<u32>>::get();
	assert!(candidates >= dsync_runtime::constants::MaxServiceNodes::get());
}

/// The attack (issue 17, finding 5): Charlie posts a batch job whose URL serves nothing, to get
/// the drawn providers penalised (a `NoShow` miss each; two misses suspend) for one posting
/// fee. The providers, unable to download it, vote that the input was unavailable through the
/// same commit and reveal as a result: nobody is penalised, and Charlie forfeits 10 % of the
/// price per voter (burned and to the treasury) instead.
#[test]
fn a_client_whose_batch_url_fails_pays_a_forfeit_and_no_provider_is_penalised() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let keys = [sr25519::Pair::from_seed(&[0x81; 32]), sr25519::Pair::from_seed(&[0x82; 32])];
	gpu_provider(&mut chain, Bob, &keys[0]);
	gpu_provider(&mut chain, Dave, &keys[1]);
	let charlie = Charlie.to_account_id();
	let price = 10 * dsync_runtime::genesis_config_presets::DIGITS_PRICE_FLOOR;
	let deadline = chain.execute(System::block_number) + 1 + 8;
	let events = run(
		&mut chain,
		Charlie,
		post_call(
			JobInput::Batch {
				items: 10,
				inputs_hash: H256::repeat_byte(0x42),
				url: b"https://nothing.example/batch.bin".to_vec().try_into().unwrap(),
			},
			2,
			price,
			deadline,
		),
	);
	let job = posted(&events);
	let drawn = drawn(&mut chain, job);
	assert_eq!(drawn.len(), 2);
	let before = chain.execute(|| free(&charlie));
	let vote = pallet_gpu_jobs::INPUT_UNAVAILABLE;
	let owner_key = |owner: &AccountId| {
		if *owner == Bob.to_account_id() {
			&keys[0]
		} else {
			&keys[1]
		}
	};
	for owner in &drawn {
		commit(&mut chain, owner_key(owner), owner, job, vote);
	}
	for owner in &drawn {
		reveal(&mut chain, owner_key(owner), job, vote);
	}
	let events = run_until(&mut chain, |events| {
		events
			.iter()
			.any(|e| matches!(e, RuntimeEvent::GpuJobs(JobEvent::InputUnavailable { .. })))
	});
	let forfeit = 2 * (price / 10);
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::GpuJobs(JobEvent::InputUnavailable { job: j, forfeited, refunded })
			if *j == job && *forfeited == forfeit && *refunded == 2 * price - forfeit
	)));
	chain.execute(|| {
		assert_eq!(escrow_of(&charlie), 0);
		assert_eq!(free(&charlie), before + 2 * price - forfeit);
		for owner in &drawn {
			let score = pallet_proof_of_sync::Scores::<Runtime>::get(owner).unwrap();
			assert_eq!(score.misses, 0, "a provider was penalised for the client's URL");
			assert_eq!(NodeRegistry::node(owner).unwrap().status, NodeStatus::Active);
		}
	});
}

/// Rules for all code (issue 17): every block's hooks take no longer than the weight they
/// declare. GPU jobs are posted in every block for 40 blocks (drawn two blocks later, ending
/// unanswered at their deadline, a `NoShow` each), while Proof of Sync runs its epochs (tally
/// and payment in `on_initialize`); each block's initialisation is timed and compared with
/// the weight declared for it. The declared weights are the reference machine's benchmarks at
/// their worst case, with database weights far above this in-memory state: a hook that does
/// work its weight does not account for (an unbounded loop) is what this finds.
#[test]
#[cfg_attr(debug_assertions, ignore = "timings mean something only in release builds")]
fn every_blocks_hooks_take_no_longer_than_they_declare() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let owners = [Bob, Dave, Eve, Ferdie];
	for (i, owner) in owners.iter().enumerate() {
		let key = sr25519::Pair::from_seed(&[0x90 + u8::try_from(i).unwrap(); 32]);
		gpu_provider(&mut chain, *owner, &key);
	}
	let price = dsync_runtime::genesis_config_presets::DIGITS_PRICE_FLOOR;
	let mut worst = (0.0f64, 0u32);
	let (mut drawn_jobs, mut expired_jobs) = (0usize, 0usize);
	for block in 0..80u32 {
		let extrinsics = if block < 40 {
			let nonce = chain.execute(|| System::account_nonce(Charlie.to_account_id()));
			let deadline = chain.execute(System::block_number) + 1 + 8;
			(0..4u32)
				.map(|i| {
					let call =
						post_call(JobInput::Inline(one().try_into().unwrap()), 3, price, deadline);
					chain.execute(|| crate::chain::signed_with(Charlie, call, nonce + i, 0))
				})
				.collect()
		} else {
			Vec::new()
		};
		chain.next_block(extrinsics);
		for event in chain.events() {
			match event {
				RuntimeEvent::GpuJobs(JobEvent::JobAssigned { .. }) => drawn_jobs += 1,
				RuntimeEvent::GpuJobs(JobEvent::JobExpired { .. }) => expired_jobs += 1,
				_ => {},
			}
		}
		let (took, declared) = chain.last_initialization;
		let took_ps = took.as_nanos().saturating_mul(1_000);
		let declared_ps = u128::from(declared.ref_time());
		assert!(
			took_ps <= declared_ps,
			"block {block}: the hooks took {took:?}, more than the {declared:?} they declared"
		);
		let ratio = took_ps as f64 / declared_ps.max(1) as f64;
		if ratio > worst.0 {
			worst = (ratio, block);
		}
	}
	println!("the slowest block against its declared weight: {:.3} at block {}", worst.0, worst.1);
	// The traffic happened: jobs were drawn in `on_initialize` and ended there.
	assert!(drawn_jobs >= 4 && expired_jobs >= 4, "{drawn_jobs} drawn, {expired_jobs} expired");
}
