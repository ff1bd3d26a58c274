//! The DePIN layer across pallets: nodes register in `NodeRegistry`, Proof of Sync draws Alice's
//! validator node to verify Bob's service node, and the verifier commits and reveals its report
//! with its off-chain key through real signed transactions; scores, statuses, rewards from the
//! treasury, era points, wrong-answer slashes (and their appeal) and exits follow.
//!
//! Every test runs the `development` preset (Alice is the only validator and sudo) with epochs
//! shortened to [`EPOCH_LENGTH`] blocks through sudo; every other parameter is read from storage.

use crate::chain::{account_of, active_era, free, signed, signed_by_pair, TestChain};
use dsync_primitives::{
	commit_reveal::{commitment, Domain},
	currency::DSYNC,
	probe::{compute_challenge, ProbeAnswer, SignedProbeAnswer},
	traits::{NodeRole, NodeStatus, ServiceKind, SlashReason},
	AccountId, Balance, BlockNumber,
};
use dsync_runtime::{
	constants::TreasuryAccount, genesis_config_presets::DEVELOPMENT, BalancesCall, Block,
	ProofOfSync, Runtime, RuntimeCall, RuntimeEvent, RuntimeHoldReason, Session, System,
};
use frame_support::{dispatch::Pays, traits::fungible::InspectHold};
use pallet_node_registry::{DeclarationOf, Event as RegistryEvent, NodeInfo, PendingSlash};
use pallet_proof_of_sync::{
	runtime_api::runtime_decl_for_proof_of_sync_api::ProofOfSyncApiV1, Assignment, EpochView,
	Event as PosEvent, NodeScoreView, Params, ProbeReport,
};
use sp_core::{sr25519, Pair as _, H256};
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::{DispatchError, MultiAddress, Perbill};

/// The Proof-of-Sync epoch length of these tests, in blocks (the runtime's `MinEpochLength`):
/// a commit window of 3 blocks, then a reveal window of 3 blocks.
const EPOCH_LENGTH: u32 = 6;

/// What Alice gives her verifier key so that it can pay report fees up front.
const VERIFIER_FUNDS: Balance = 10 * DSYNC;

/// Seed of Alice's off-chain (`dsyn`) key, with which her node signs its reports.
const VERIFIER_SEED: [u8; 32] = [0x56; 32];

/// Seed of Bob's off-chain (`dsyn`) key, with which his node signs its probe answers.
const SERVICE_SEED: [u8; 32] = [0x53; 32];

/// The salt of every commitment.
const SALT: [u8; 32] = [0x5a; 32];

/// More blocks than any wait in these tests needs.
const MAX_BLOCKS: u32 = 100;

/// A 4-core, 8 GiB, 100 GiB, 100 Mbit/s node (14 capacity units); a service node offers naming.
pub(crate) fn declaration(role: NodeRole, endpoint: &[u8]) -> DeclarationOf<Runtime> {
	let services = match role {
		NodeRole::Service => vec![ServiceKind::Naming],
		NodeRole::Validator => vec![],
	};
	pallet_node_registry::Declaration {
		resources: pallet_node_registry::Resources {
			cpu_cores: 4,
			memory_mib: 8 * 1024,
			storage_gib: 100,
			bandwidth_mbps: 100,
			gpus: Default::default(),
		},
		services: services.try_into().expect("at most one service per kind"),
		models: Default::default(),
		endpoint: endpoint.to_vec().try_into().expect("the endpoint is short"),
	}
}

/// The registry record of `who`'s node.
fn node(who: &AccountId) -> NodeInfo<Runtime> {
	pallet_node_registry::Nodes::<Runtime>::get(who).expect("the node is registered")
}

/// What the registry holds of `who`'s balance for bonds.
fn bond_held(who: &AccountId) -> Balance {
	let reason: RuntimeHoldReason = pallet_node_registry::HoldReason::Bond.into();
	pallet_balances::Pallet::<Runtime>::balance_on_hold(&reason, who)
}

/// `who`'s era points in the active era.
pub(crate) fn era_points(who: &AccountId) -> u32 {
	pallet_staking::ErasRewardPoints::<Runtime>::get(active_era())
		.individual
		.get(who)
		.copied()
		.unwrap_or_default()
}

/// The index of the current Proof-of-Sync epoch.
fn epoch_index() -> u32 {
	pallet_proof_of_sync::Epoch::<Runtime>::get().index
}

/// The fees `who` paid in `events`.
pub(crate) fn fees_paid_by(events: &[RuntimeEvent], who: &AccountId) -> Balance {
	events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid {
					who: payer,
					actual_fee,
					..
				},
			) if payer == who => Some(*actual_fee),
			_ => None,
		})
		.sum()
}

/// Whether `events` hold a registry `Slashed` event.
fn any_slashed(events: &[RuntimeEvent]) -> bool {
	events
		.iter()
		.any(|e| matches!(e, RuntimeEvent::NodeRegistry(RegistryEvent::Slashed { .. })))
}

/// The error of a withdrawal before the release block.
fn unbonding_not_due() -> DispatchError {
	pallet_node_registry::Error::<Runtime>::UnbondingNotDue.into()
}

/// Submit `call` from `who` in its own block, require success and return the block's events.
fn run(chain: &mut TestChain, who: Sr25519Keyring, call: RuntimeCall) -> Vec<RuntimeEvent> {
	let xt = chain.execute(|| signed(who, call));
	assert_eq!(chain.next_block(vec![xt]), vec![Ok(Ok(()))]);
	chain.events()
}

/// Dispatch `call` as root through Alice's sudo key, require success and return the events.
fn sudo(chain: &mut TestChain, call: RuntimeCall) -> Vec<RuntimeEvent> {
	let events =
		run(chain, Alice, RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) }));
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::Sudo(pallet_sudo::Event::Sudid { sudo_result: Ok(()) })
		)),
		"the root call failed: {events:?}"
	);
	events
}

/// Dispatch `call` as root through Alice's sudo key; the root call's own result.
fn sudo_result(chain: &mut TestChain, call: RuntimeCall) -> Result<(), DispatchError> {
	let events =
		run(chain, Alice, RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) }));
	events
		.into_iter()
		.find_map(|e| match e {
			RuntimeEvent::Sudo(pallet_sudo::Event::Sudid { sudo_result }) => Some(sudo_result),
			_ => None,
		})
		.expect("sudo reports the root call's result")
}

/// `owner` registers a node of `role` with off-chain key `key` and the minimum bond of its
/// declaration; returns the bond and the block's events.
fn register(
	chain: &mut TestChain,
	owner: Sr25519Keyring,
	role: NodeRole,
	key_pair: &sr25519::Pair,
	endpoint: &[u8],
) -> (Balance, Vec<RuntimeEvent>) {
	let key = account_of(key_pair);
	let declaration = declaration(role, endpoint);
	let bond = chain.execute(|| dsync_runtime::NodeRegistry::minimum_bond(&declaration));
	let message =
		chain.execute(|| dsync_runtime::NodeRegistry::key_proof_message(&owner.to_account_id()));
	let call = RuntimeCall::NodeRegistry(pallet_node_registry::Call::register {
		role,
		declaration,
		offchain_key: key.clone(),
		key_proof: key_pair.sign(&message).into(),
		bond,
	});
	let events = run(chain, owner, call);
	let owner = owner.to_account_id();
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::NodeRegistry(RegistryEvent::NodeRegistered {
				node, role: r, offchain_key, bond: b, ..
			}) if *node == owner && *r == role && *offchain_key == key && *b == bond
		)),
		"{events:?}"
	);
	chain.execute(|| {
		assert_eq!(node(&owner).status, NodeStatus::Pending, "a new node warms up");
		assert_eq!(bond_held(&owner), bond);
	});
	(bond, events)
}

/// Submit a Proof-of-Sync report `call` signed by the verifier key `key` in its own block,
/// require success and that it was free, and return the block's events.
fn submit_report(
	chain: &mut TestChain,
	key: &sr25519::Pair,
	call: RuntimeCall,
) -> Vec<RuntimeEvent> {
	let who = account_of(key);
	let xt = chain.execute(|| signed_by_pair(key, System::account_nonce(&who), call));
	assert_eq!(chain.next_block(vec![xt]), vec![Ok(Ok(()))]);
	let events = chain.events();
	// The fee withdrawn up front was refunded in full: the report paid nothing.
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid {
					who: payer, actual_fee: 0, tip: 0
				}
			) if *payer == who
		)),
		"{events:?}"
	);
	// The report is the block's last extrinsic (after the timestamp inherent).
	let pays = events.iter().rev().find_map(|e| match e {
		RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { dispatch_info }) => {
			Some(dispatch_info.pays_fee)
		},
		_ => None,
	});
	assert_eq!(pays, Some(Pays::No), "a successful report is free");
	events
}

/// The development chain with short epochs, Alice registered as a validator node verifying
/// through a fresh off-chain key, and Bob registered as a service node answering with another.
struct Network {
	chain: TestChain,
	/// Alice's off-chain key: her node signs its reports with it.
	verifier: sr25519::Pair,
	/// Bob's off-chain key: his node signs its probe answers with it.
	service: sr25519::Pair,
	alice: AccountId,
	bob: AccountId,
	/// The bond Bob's node holds.
	bob_bond: Balance,
}

fn network() -> Network {
	let mut chain = TestChain::new(DEVELOPMENT);
	let (alice, bob) = (Alice.to_account_id(), Bob.to_account_id());
	let verifier = sr25519::Pair::from_seed(&VERIFIER_SEED);
	let service = sr25519::Pair::from_seed(&SERVICE_SEED);

	// Short epochs with one verifier per node, active after one scored epoch; the rest as in the
	// preset.
	let preset = chain.execute(Params::<Runtime>::get);
	let params = pallet_proof_of_sync::ProofOfSyncParams {
		epoch_length: EPOCH_LENGTH,
		verifiers_per_node: 1,
		warmup_epochs: 1,
		..preset
	};
	sudo(
		&mut chain,
		RuntimeCall::ProofOfSync(pallet_proof_of_sync::Call::set_parameters { parameters: params }),
	);
	chain.execute(|| assert_eq!(Params::<Runtime>::get(), params));

	// The verifier key pays report fees up front (they are refunded when the report succeeds).
	run(
		&mut chain,
		Alice,
		RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
			dest: MultiAddress::Id(account_of(&verifier)),
			value: VERIFIER_FUNDS,
		}),
	);
	register(&mut chain, Alice, NodeRole::Validator, &verifier, b"http://127.0.0.1:9944");
	let (bob_bond, _) =
		register(&mut chain, Bob, NodeRole::Service, &service, b"http://127.0.0.1:9955");
	chain.execute(|| {
		assert_eq!(Session::validators(), vec![alice.clone()], "Alice is the session validator");
		assert_eq!(free(&account_of(&verifier)), VERIFIER_FUNDS);
	});
	Network { chain, verifier, service, alice, bob, bob_bond }
}

/// Produce blocks until `node` has its verifiers drawn in the current epoch; returns the
/// assignment.
pub(crate) fn run_to_assignment(chain: &mut TestChain, node: &AccountId) -> Assignment<Runtime> {
	for _ in 0..MAX_BLOCKS {
		let assignment = chain.execute(|| {
			pallet_proof_of_sync::Assignments::<Runtime>::get(node)
				.filter(|assignment| assignment.epoch == epoch_index())
		});
		if let Some(assignment) = assignment {
			return assignment;
		}
		chain.next_block(vec![]);
	}
	panic!("no verifiers were drawn for {node:?} within {MAX_BLOCKS} blocks");
}

/// Bob's node's answer to `seed`, signed with its key; with a wrong compute result unless
/// `correct`. It names the chain's last block as its best and finalised block.
fn signed_answer(
	key: &sr25519::Pair,
	seed: [u8; 32],
	correct: bool,
	best: (BlockNumber, H256),
) -> SignedProbeAnswer {
	let mut compute = compute_challenge(&seed);
	if !correct {
		compute[0] ^= 0xff;
	}
	let answer = ProbeAnswer {
		seed,
		best_number: best.0,
		best_hash: best.1,
		finalized_number: best.0,
		finalized_hash: best.1,
		compute,
	};
	assert_eq!(answer.compute_is_correct(), correct);
	let signature = key.sign(&answer.signing_payload());
	let signed = SignedProbeAnswer { answer, signature };
	assert!(signed.signature_is_valid(&key.public()));
	signed
}

/// One probe of Bob's node.
struct Round {
	/// The epoch of the probe.
	epoch: u32,
	/// The events of the block that revealed the report.
	reveal_events: Vec<RuntimeEvent>,
}

/// Act as Alice's off-chain worker for one epoch: wait until Bob's node has its verifier drawn
/// (Alice), take the node's signed answer to its challenge seed (correct or not), and commit to
/// the report in the commit window, then reveal it in the reveal window.
fn probe_round(net: &mut Network, correct: bool) -> Round {
	let assignment = run_to_assignment(&mut net.chain, &net.bob);
	let verifiers: Vec<AccountId> =
		assignment.slots.iter().map(|slot| slot.verifier.clone()).collect();
	assert_eq!(verifiers, vec![net.alice.clone()], "Alice's node is the only candidate");
	let alice = net.alice.clone();
	let (params, best) = net.chain.execute(|| {
		assert_eq!(node(&alice).status, NodeStatus::Active, "promoted at the epoch start");
		let last = System::block_number() - 1;
		(Params::<Runtime>::get(), (last, System::parent_hash()))
	});

	// What a verifier reports: the node answered fast and in sync; the challenge passed iff the
	// compute result was right.
	let report = ProbeReport {
		available: true,
		challenge_ok: correct,
		latency_ms: params.target_latency_ms / 2,
		sync_lag: params.tolerated_lag / 2,
		evidence: Some(signed_answer(&net.service, assignment.seed, correct, best)),
	};
	// Bound to the epoch, the target and the verifier (Alice, the owner of the verifying node).
	let commitment =
		commitment(Domain::SyncReport, &(assignment.epoch, &net.bob, &net.alice, &report, SALT));
	assert_eq!(commitment, report.commitment(assignment.epoch, &net.bob, &net.alice, &SALT));

	// Commit in the commit window.
	let open = net.chain.execute(|| {
		ProofOfSync::in_commit_window(
			&pallet_proof_of_sync::Epoch::<Runtime>::get(),
			&Params::<Runtime>::get(),
			System::block_number() + 1,
		)
	});
	assert!(open, "the commit window is open right after the draw");
	let commit = RuntimeCall::ProofOfSync(pallet_proof_of_sync::Call::commit_report {
		node: net.bob.clone(),
		commitment,
	});
	let events = submit_report(&mut net.chain, &net.verifier, commit);
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::ProofOfSync(PosEvent::ReportCommitted { epoch, node, verifier })
				if *epoch == assignment.epoch && *node == net.bob && *verifier == net.alice
		)),
		"{events:?}"
	);

	// Reveal in the reveal window.
	let mut waited = 0;
	while !net.chain.execute(|| {
		ProofOfSync::in_reveal_window(
			&pallet_proof_of_sync::Epoch::<Runtime>::get(),
			&Params::<Runtime>::get(),
			System::block_number() + 1,
		)
	}) {
		net.chain.next_block(vec![]);
		waited += 1;
		assert!(waited < MAX_BLOCKS, "the reveal window never opened");
	}
	let reveal = RuntimeCall::ProofOfSync(pallet_proof_of_sync::Call::reveal_report {
		node: net.bob.clone(),
		report: report.clone(),
		salt: SALT,
	});
	let reveal_events = submit_report(&mut net.chain, &net.verifier, reveal);
	assert!(
		reveal_events.iter().any(|e| matches!(
			e,
			RuntimeEvent::ProofOfSync(PosEvent::ReportRevealed {
				epoch, node, verifier, available, challenge_ok, latency_ms, sync_lag
			}) if *epoch == assignment.epoch
				&& *node == net.bob
				&& *verifier == net.alice
				&& *available == report.available
				&& *challenge_ok == report.challenge_ok
				&& *latency_ms == report.latency_ms
				&& *sync_lag == report.sync_lag
		)),
		"{reveal_events:?}"
	);
	Round { epoch: assignment.epoch, reveal_events }
}

/// Produce empty blocks until one emits a Proof-of-Sync event `wanted` accepts; returns the
/// events of every block produced, in order.
fn run_until(
	chain: &mut TestChain,
	what: &str,
	wanted: impl Fn(&PosEvent<Runtime>) -> bool,
) -> Vec<RuntimeEvent> {
	let mut all = Vec::new();
	for _ in 0..MAX_BLOCKS {
		chain.next_block(vec![]);
		let events = chain.events();
		let found = events.iter().any(|e| match e {
			RuntimeEvent::ProofOfSync(e) => wanted(e),
			_ => false,
		});
		all.extend(events);
		if found {
			return all;
		}
	}
	panic!("{what} did not happen within {MAX_BLOCKS} blocks");
}

/// The quality, score and report count of `node`'s `NodeScored` event in `events`.
fn node_scored(events: &[RuntimeEvent], who: &AccountId) -> Option<(Perbill, Perbill, u32)> {
	events.iter().find_map(|e| match e {
		RuntimeEvent::ProofOfSync(PosEvent::NodeScored {
			node, quality, score, reports, ..
		}) if node == who => Some((*quality, *score, *reports)),
		_ => None,
	})
}

/// The first block of an epoch, and what came before it.
struct EpochStart {
	/// Events of the blocks before the epoch's first.
	earlier: Vec<RuntimeEvent>,
	/// Events of the epoch's first block.
	events: Vec<RuntimeEvent>,
	/// The treasury's balance before the epoch's first block.
	treasury_before: Balance,
	/// The treasury's balance after it.
	treasury_after: Balance,
}

/// Produce blocks until Proof-of-Sync epoch `index` starts.
fn run_to_epoch(chain: &mut TestChain, index: u32) -> EpochStart {
	let treasury = TreasuryAccount::get();
	let mut earlier = Vec::new();
	for _ in 0..MAX_BLOCKS {
		assert!(chain.execute(epoch_index) < index, "epoch {index} has already started");
		let treasury_before = chain.execute(|| free(&treasury));
		chain.next_block(vec![]);
		let events = chain.events();
		if chain.execute(epoch_index) == index {
			let treasury_after = chain.execute(|| free(&treasury));
			return EpochStart { earlier, events, treasury_before, treasury_after };
		}
		earlier.extend(events);
	}
	panic!("epoch {index} did not start within {MAX_BLOCKS} blocks");
}

/// A wrong answer proved against Bob's node and the slash it scheduled.
struct WrongAnswer {
	slash: pallet_node_registry::SlashId,
	fraction: Perbill,
	apply_at: u32,
}

/// Alice reveals a report whose evidence is an answer signed by Bob's node with a wrong compute
/// result: Bob is suspended at once and a slash is scheduled for after the appeal window.
fn prove_wrong_answer(net: &mut Network) -> WrongAnswer {
	let round = probe_round(net, false);
	let params = net.chain.execute(Params::<Runtime>::get);
	assert!(params.slash_defer_epochs > 0, "the preset defers slashes (the appeal window)");
	let events = &round.reveal_events;
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::ProofOfSync(PosEvent::WrongAnswerProved { epoch, node, verifier })
				if *epoch == round.epoch && *node == net.bob && *verifier == net.alice
		)),
		"{events:?}"
	);
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::NodeRegistry(RegistryEvent::StatusChanged {
				node,
				from: NodeStatus::Pending,
				to: NodeStatus::Suspended,
			}) if *node == net.bob
		)),
		"{events:?}"
	);
	let (slash, fraction, apply_at) = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::NodeRegistry(RegistryEvent::SlashScheduled {
				slash,
				node,
				fraction,
				reason: SlashReason::WrongAnswer,
				apply_at,
			}) if *node == net.bob => Some((*slash, *fraction, *apply_at)),
			_ => None,
		})
		.expect("a wrong-answer slash is scheduled");
	assert_eq!(fraction, params.wrong_answer_slash);
	assert_eq!(apply_at, round.epoch + params.slash_defer_epochs);

	let (bob, bond) = (net.bob.clone(), net.bob_bond);
	net.chain.execute(|| {
		let record = node(&bob);
		assert_eq!(record.status, NodeStatus::Suspended);
		assert_eq!(record.pending_slashes, 1);
		// Nothing is taken yet.
		assert_eq!(record.bond, bond);
		assert_eq!(bond_held(&bob), bond);
		assert_eq!(
			pallet_node_registry::PendingSlashes::<Runtime>::get(slash),
			Some(PendingSlash {
				node: bob.clone(),
				fraction,
				reason: SlashReason::WrongAnswer,
				apply_at,
			})
		);
	});
	WrongAnswer { slash, fraction, apply_at }
}

#[test]
fn service_node_is_scored_and_paid_from_the_treasury() {
	let mut net = network();
	let (alice, bob) = (net.alice.clone(), net.bob.clone());
	let verifier_account = account_of(&net.verifier);
	let treasury = TreasuryAccount::get();

	let round = probe_round(&mut net, true);
	assert!(
		!round
			.reveal_events
			.iter()
			.any(|e| matches!(e, RuntimeEvent::ProofOfSync(PosEvent::WrongAnswerProved { .. }))),
		"a correct answer proves nothing"
	);
	let params = net.chain.execute(|| {
		// Commit and reveal were free: the verifier key has what it was given.
		assert_eq!(free(&verifier_account), VERIFIER_FUNDS);
		assert_eq!(node(&bob).status, NodeStatus::Pending, "Bob warms up until the tally");
		assert!(pallet_staking::ActiveEra::<Runtime>::get().is_some(), "era 0 is active");
		Params::<Runtime>::get()
	});
	assert!(params.verification_points > 0);
	assert!(params.ema_alpha >= params.activation_score, "one perfect epoch is enough to activate");

	// The tally: Alice's era points grow by her authoring points in every block, and by the
	// verification points in the tally's block.
	let mut plain_block_points = None;
	let mut tally = None;
	for _ in 0..MAX_BLOCKS {
		let before = net.chain.execute(|| era_points(&alice));
		net.chain.next_block(vec![]);
		let gained = net.chain.execute(|| era_points(&alice)) - before;
		let events = net.chain.events();
		if node_scored(&events, &bob).is_some() {
			tally = Some((events, gained));
			break;
		}
		plain_block_points = Some(gained);
	}
	let (events, tally_points) = tally.expect("Bob's node was tallied");
	let plain_block_points = plain_block_points.expect("a block without a tally came first");
	assert_eq!(
		tally_points - plain_block_points,
		params.verification_points,
		"honest verification earns Alice's stash era points"
	);

	// One report of a fast, synced node with the right answer: full quality; the first score is
	// `ema_alpha · 100 % + (1 − ema_alpha) · 0`.
	let (quality, score, reports) = node_scored(&events, &bob).expect("scored");
	assert_eq!(quality, Perbill::one());
	assert_eq!(score, params.ema_alpha);
	assert!(score > Perbill::zero());
	assert_eq!(reports, 1);
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::NodeRegistry(RegistryEvent::StatusChanged {
				node,
				from: NodeStatus::Pending,
				to: NodeStatus::Active,
			}) if *node == bob
		)),
		"warm-up passed: Bob is active: {events:?}"
	);
	assert!(!events
		.iter()
		.any(|e| matches!(e, RuntimeEvent::ProofOfSync(PosEvent::VerifierClipped { .. }))));
	let (treasury_before, bob_before, alice_before) = net.chain.execute(|| {
		let record = pallet_proof_of_sync::Scores::<Runtime>::get(&bob).expect("Bob has a record");
		assert_eq!(record.score, score);
		assert_eq!(record.last_quality, quality);
		assert_eq!(record.epochs, params.warmup_epochs);
		assert_eq!(record.misses, 0);
		assert_eq!(record.good_streak, 1);
		assert_eq!(record.last_epoch, round.epoch);
		assert_eq!(node(&bob).status, NodeStatus::Active);
		(free(&treasury), free(&bob), free(&alice))
	});

	// The payment: the epoch's budget leaves the treasury, to Bob by reward weight (he is the
	// only active node) and to Alice by honest reports (she made the only one).
	let events = run_until(
		&mut net.chain,
		"the epoch's payment",
		|e| matches!(e, PosEvent::EpochClosed { epoch, .. } if *epoch == round.epoch),
	);
	let (budget, distributed) = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::ProofOfSync(PosEvent::EpochClosed { budget, distributed, .. }) => {
				Some((*budget, *distributed))
			},
			_ => None,
		})
		.expect("the epoch closed");
	let node_reward = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::ProofOfSync(PosEvent::NodeRewarded { epoch, node, amount })
				if *epoch == round.epoch && *node == bob =>
			{
				Some(*amount)
			},
			_ => None,
		})
		.expect("Bob's node was rewarded");
	let verifier_reward = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::ProofOfSync(PosEvent::VerifierRewarded { epoch, verifier, amount })
				if *epoch == round.epoch && *verifier == alice =>
			{
				Some(*amount)
			},
			_ => None,
		})
		.expect("Alice was rewarded for verifying");
	// The treasury holds far more than one epoch's reward.
	assert_eq!(budget, params.epoch_reward);
	assert_eq!(verifier_reward, params.verifier_share.mul_floor(budget));
	assert_eq!(node_reward, budget - verifier_reward);
	assert_eq!(distributed, node_reward + verifier_reward);
	assert!(node_reward > 0);
	net.chain.execute(|| {
		assert_eq!(treasury_before - free(&treasury), distributed, "paid from the treasury");
		assert_eq!(free(&bob) - bob_before, node_reward);
		assert_eq!(free(&alice) - alice_before, verifier_reward);
		let record = pallet_proof_of_sync::Scores::<Runtime>::get(&bob).expect("Bob has a record");
		assert_eq!(record.total_rewards, node_reward);
		assert_eq!(pallet_proof_of_sync::TotalRewardsPaid::<Runtime>::get(), distributed);
		// The verifier key was never touched by the payment either.
		assert_eq!(free(&verifier_account), VERIFIER_FUNDS);
	});
}

#[test]
fn provably_wrong_answer_is_slashed_into_the_treasury_after_the_appeal_window() {
	let mut net = network();
	let (bob, bond) = (net.bob.clone(), net.bob_bond);
	let wrong = prove_wrong_answer(&mut net);

	let start = run_to_epoch(&mut net.chain, wrong.apply_at);
	assert!(!any_slashed(&start.earlier), "nothing is slashed before the apply epoch");
	let amount = wrong.fraction.mul_floor(bond);
	assert!(amount > 0);
	let slashed = start.events.iter().find_map(|e| match e {
		RuntimeEvent::NodeRegistry(RegistryEvent::Slashed { slash, node, amount, reason })
			if *slash == wrong.slash =>
		{
			Some((node.clone(), *amount, *reason))
		},
		_ => None,
	});
	assert_eq!(
		slashed,
		Some((bob.clone(), amount, SlashReason::WrongAnswer)),
		"{:?}",
		start.events
	);
	assert_eq!(
		start.treasury_after - start.treasury_before,
		amount,
		"the slash went to the treasury"
	);
	net.chain.execute(|| {
		let record = node(&bob);
		assert_eq!(record.bond, bond - amount);
		assert_eq!(record.pending_slashes, 0);
		assert_eq!(bond_held(&bob), bond - amount);
		assert!(pallet_node_registry::PendingSlashes::<Runtime>::get(wrong.slash).is_none());
		assert_eq!(pallet_node_registry::CurrentEpoch::<Runtime>::get(), wrong.apply_at);
	});
}

#[test]
fn appeal_cancels_a_slash() {
	let mut net = network();
	let (bob, bond) = (net.bob.clone(), net.bob_bond);
	let wrong = prove_wrong_answer(&mut net);

	// Root upholds the appeal within the window.
	assert!(net.chain.execute(epoch_index) < wrong.apply_at);
	let events = sudo(
		&mut net.chain,
		RuntimeCall::NodeRegistry(pallet_node_registry::Call::cancel_slash {
			slash_id: wrong.slash,
		}),
	);
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::NodeRegistry(RegistryEvent::SlashCancelled { slash, node })
				if *slash == wrong.slash && *node == bob
		)),
		"{events:?}"
	);
	net.chain.execute(|| {
		assert!(pallet_node_registry::PendingSlashes::<Runtime>::get(wrong.slash).is_none());
		assert_eq!(node(&bob).pending_slashes, 0);
	});

	// The apply epoch comes and goes without a slash.
	let start = run_to_epoch(&mut net.chain, wrong.apply_at);
	assert!(!any_slashed(&start.earlier));
	assert!(!any_slashed(&start.events), "{:?}", start.events);
	assert_eq!(start.treasury_after, start.treasury_before);
	net.chain.execute(|| {
		assert_eq!(node(&bob).bond, bond, "the bond is intact");
		assert_eq!(bond_held(&bob), bond);
		assert!(!pallet_node_registry::DueSlashes::<Runtime>::contains_key(
			wrong.apply_at,
			wrong.slash
		));
	});
}

/// The honest operator's case: Bob's node was slashed and he appeals through a `network_admin`
/// referendum (no sudo involved) that is decided as late as its track allows: nobody votes
/// until the last block of the decision period, then it confirms and enacts. The slash is still
/// pending when the referendum enacts, so the appeal cancels it and Bob loses nothing. With the
/// former 2-epoch deferral the slash applied long before such a referendum could end.
#[test]
fn an_appeal_decided_at_the_last_moment_still_lands_before_the_slash() {
	use crate::governance::{decide, propose, vote_through};
	use dsync_runtime::governance::{origins::Origin, tracks};
	use pallet_referenda::{ReferendumInfo, ReferendumInfoFor};

	let mut net = network();
	let (bob, bond) = (net.bob.clone(), net.bob_bond);
	let wrong = prove_wrong_answer(&mut net);

	let cancel = RuntimeCall::NodeRegistry(pallet_node_registry::Call::cancel_slash {
		slash_id: wrong.slash,
	});
	let index =
		propose(&mut net.chain, dsync_runtime::OriginCaller::Origins(Origin::NetworkAdmin), cancel);
	// Wait, without a vote, until the referendum is deciding and in its last block.
	let (decision_period, deciding_since) = loop {
		net.chain.next_block(vec![]);
		let since = net.chain.execute(|| match ReferendumInfoFor::<Runtime>::get(index) {
			Some(ReferendumInfo::Ongoing(status)) => status.deciding.map(|d| d.since),
			other => panic!("the appeal is not ongoing: {other:?}"),
		});
		if let Some(since) = since {
			let period = net.chain.execute(|| {
				<dsync_runtime::governance::tracks::TracksInfo as pallet_referenda::TracksInfo<
					_,
					_,
				>>::info(tracks::NETWORK_ADMIN)
				.map(|info| info.decision_period)
			});
			break (period.expect("the network_admin track exists"), since);
		}
	};
	// The votes go into the block before the one at which the referendum would time out.
	while net.chain.execute(System::block_number) + 2 < deciding_since + decision_period {
		net.chain.next_block(vec![]);
	}
	vote_through(&mut net.chain, index);
	let events = decide(&mut net.chain, index);

	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::NodeRegistry(RegistryEvent::SlashCancelled { slash, node })
				if *slash == wrong.slash && *node == bob
		)),
		"the appeal enacted and cancelled the slash: {events:?}"
	);
	assert!(net.chain.execute(epoch_index) <= wrong.apply_at, "enacted inside the window");
	let start = run_to_epoch(&mut net.chain, wrong.apply_at);
	let bob_slashed = |events: &[RuntimeEvent]| {
		events.iter().any(
			|e| matches!(e, RuntimeEvent::NodeRegistry(RegistryEvent::Slashed { node, .. }) if *node == bob),
		)
	};
	assert!(!bob_slashed(&events) && !bob_slashed(&start.earlier) && !bob_slashed(&start.events));
	net.chain.execute(|| {
		assert_eq!(node(&bob).bond, bond, "the bond is intact");
		assert_eq!(bond_held(&bob), bond);
	});
}

/// Every preset defers Proof-of-Sync slashes at least as long as the slowest `network_admin`
/// referendum (the appeal) with the preset's governance timing; staking's deferral outlasts it
/// with standard timing; and governance cannot shorten the window below it.
#[test]
fn slashes_wait_longer_than_the_slowest_appeal() {
	use dsync_runtime::{
		configs::{
			consensus::EPOCH_DURATION_IN_BLOCKS,
			staking::{SessionsPerEra, SlashDeferDuration},
		},
		governance::{origins::Timing, tracks},
	};
	let standard = tracks::longest_referendum(tracks::NETWORK_ADMIN, Timing::Standard).unwrap();
	let fast = tracks::longest_referendum(tracks::NETWORK_ADMIN, Timing::Fast).unwrap();
	// 1 h + 6 d + 1 h + 10 min; 1 + 20 + 2 + 1 blocks.
	assert_eq!(standard, 87_700);
	assert_eq!(fast, 24);
	let staking_window =
		SlashDeferDuration::get() * SessionsPerEra::get() * EPOCH_DURATION_IN_BLOCKS;
	assert!(staking_window >= standard, "staking defers {staking_window} blocks");

	for (preset, window) in
		[(DEVELOPMENT, fast), (dsync_runtime::genesis_config_presets::LOCAL_TESTNET, standard)]
	{
		let mut chain = TestChain::new(preset);
		let params = chain.execute(Params::<Runtime>::get);
		let deferred = params.slash_defer_epochs * params.epoch_length;
		assert!(
			deferred >= window,
			"{preset:?} defers {deferred} blocks, an appeal takes {window}"
		);
		let bound =
			chain.execute(<tracks::SlashAppealWindow as frame_support::traits::Get<u32>>::get);
		assert_eq!(bound, window);
	}

	// Root itself cannot set a shorter window on the development chain: one epoch less is
	// refused, the edge is accepted.
	let mut chain = TestChain::new(DEVELOPMENT);
	let preset = chain.execute(Params::<Runtime>::get);
	let set = |chain: &mut TestChain, epoch_length: u32, defer: u32| {
		let parameters = pallet_proof_of_sync::ProofOfSyncParams {
			epoch_length,
			slash_defer_epochs: defer,
			..preset
		};
		sudo_result(
			chain,
			RuntimeCall::ProofOfSync(pallet_proof_of_sync::Call::set_parameters { parameters }),
		)
	};
	assert_eq!(
		set(&mut chain, 6, 3),
		Err(pallet_proof_of_sync::Error::<Runtime>::AppealWindowTooShort.into())
	);
	assert_eq!(chain.execute(Params::<Runtime>::get), preset);
	assert_eq!(set(&mut chain, 6, 4), Ok(()));
	assert_eq!(set(&mut chain, 24, 1), Ok(()));

	// A running standard chain whose genesis deferred 2 ten-minute epochs: the upgrade raises
	// the deferral to the 877 epochs that cover the slowest appeal, once.
	use frame_support::traits::OnRuntimeUpgrade;
	let mut chain = TestChain::new(dsync_runtime::genesis_config_presets::LOCAL_TESTNET);
	chain.execute(|| {
		Params::<Runtime>::mutate(|params| params.slash_defer_epochs = 2);
		assert!(ProofOfSync::check_appeal_window(&Params::<Runtime>::get()).is_err());
		dsync_runtime::configs::depin::RaiseSlashDeferral::on_runtime_upgrade();
		let params = Params::<Runtime>::get();
		assert_eq!(params.epoch_length, 100);
		assert_eq!(params.slash_defer_epochs, 877);
		assert!(ProofOfSync::check_appeal_window(&params).is_ok());
		dsync_runtime::configs::depin::RaiseSlashDeferral::on_runtime_upgrade();
		assert_eq!(Params::<Runtime>::get(), params);
	});
}

#[test]
fn exit_releases_the_whole_bond() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let bob = Bob.to_account_id();
	let key_pair = sr25519::Pair::from_seed(&SERVICE_SEED);
	let key = account_of(&key_pair);
	let free_before = chain.execute(|| free(&bob));

	let (bond, events) =
		register(&mut chain, Bob, NodeRole::Service, &key_pair, b"http://127.0.0.1:9955");
	let mut fees = fees_paid_by(&events, &bob);
	chain.execute(|| assert_eq!(free(&bob), free_before - bond - fees));

	// Exit: the whole bond starts unbonding, still held.
	let exit = RuntimeCall::NodeRegistry(pallet_node_registry::Call::exit {});
	let events = run(&mut chain, Bob, exit);
	fees += fees_paid_by(&events, &bob);
	let release_at = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::NodeRegistry(RegistryEvent::ExitStarted { node, release_at })
				if *node == bob =>
			{
				Some(*release_at)
			},
			_ => None,
		})
		.expect("the exit started");
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::NodeRegistry(RegistryEvent::StatusChanged {
				node,
				from: NodeStatus::Pending,
				to: NodeStatus::Unbonding,
			}) if *node == bob
		)),
		"{events:?}"
	);
	let (exit_block, delay) = chain.execute(|| {
		let record = node(&bob);
		assert_eq!(record.status, NodeStatus::Unbonding);
		assert_eq!(record.bond, 0);
		assert_eq!(record.unbonding, Some((bond, release_at)));
		assert_eq!(bond_held(&bob), bond);
		(System::block_number(), pallet_node_registry::Params::<Runtime>::get().unbonding_delay)
	});
	assert_eq!(release_at, exit_block + delay);
	assert!(delay >= 2, "the preset's unbonding delay leaves room for an early attempt");

	// Too early: right after the exit, and in the last block before the release.
	let withdraw = || RuntimeCall::NodeRegistry(pallet_node_registry::Call::withdraw_unbonded {});
	let mut attempts = vec![exit_block + 1, release_at - 1];
	attempts.dedup();
	for attempt in attempts {
		while chain.execute(System::block_number) + 1 < attempt {
			chain.next_block(vec![]);
		}
		let xt = chain.execute(|| signed(Bob, withdraw()));
		assert_eq!(
			chain.next_block(vec![xt]),
			vec![Ok(Err(unbonding_not_due()))],
			"withdrawing in block {attempt}, before block {release_at}"
		);
		let events = chain.events();
		assert!(
			events.iter().any(|e| matches!(
				e,
				RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. })
					if *dispatch_error == unbonding_not_due()
			)),
			"{events:?}"
		);
		fees += fees_paid_by(&events, &bob);
		chain.execute(|| {
			assert_eq!(node(&bob).unbonding, Some((bond, release_at)));
			assert_eq!(bond_held(&bob), bond);
		});
	}

	// Due: everything is released and the node is gone.
	while chain.execute(System::block_number) + 1 < release_at {
		chain.next_block(vec![]);
	}
	let events = run(&mut chain, Bob, withdraw());
	fees += fees_paid_by(&events, &bob);
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::NodeRegistry(RegistryEvent::Withdrawn { node, amount })
				if *node == bob && *amount == bond
		)),
		"{events:?}"
	);
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::NodeRegistry(RegistryEvent::NodeExited { node }) if *node == bob
		)),
		"{events:?}"
	);
	assert!(fees > 0, "every call paid its fee");
	chain.execute(|| {
		assert!(pallet_node_registry::Nodes::<Runtime>::get(&bob).is_none());
		assert!(pallet_node_registry::NodeOfKey::<Runtime>::get(&key).is_none());
		assert!(!pallet_node_registry::ServiceNodes::<Runtime>::get().contains(&bob));
		assert_eq!(bond_held(&bob), 0);
		assert_eq!(free(&bob), free_before - fees, "the bond is back, less the fees");
	});
}

#[test]
fn runtime_api_reports_scores() {
	let mut net = network();
	let bob = net.bob.clone();
	let round = probe_round(&mut net, true);
	run_until(
		&mut net.chain,
		"Bob's tally",
		|e| matches!(e, PosEvent::NodeScored { node, .. } if *node == bob),
	);

	// The views agree with storage, directly and through the runtime API.
	let check = |bob: &AccountId| {
		let record = pallet_proof_of_sync::Scores::<Runtime>::get(bob).expect("Bob has a record");
		let expected = NodeScoreView {
			score: record.score,
			last_quality: record.last_quality,
			epochs: record.epochs,
			misses: record.misses,
			good_streak: record.good_streak,
			total_rewards: record.total_rewards,
			proven_capacity: record.proven_capacity,
			credited_capacity: pallet_proof_of_sync::credited_capacity(
				&pallet_proof_of_sync::Params::<Runtime>::get(),
				node(bob).declaration.capacity_units(),
				record.proven_capacity,
				record.epochs.max(1),
			),
			status: Some(node(bob).status),
		};
		assert_eq!(ProofOfSync::node_score_view(bob), Some(expected.clone()));
		assert_eq!(
			<Runtime as ProofOfSyncApiV1<Block, AccountId, Balance>>::node_score(bob.clone()),
			Some(expected.clone())
		);
		let info = pallet_proof_of_sync::Epoch::<Runtime>::get();
		let epoch = EpochView {
			index: info.index,
			start: info.start,
			phase: info.phase,
			epoch_length: Params::<Runtime>::get().epoch_length,
		};
		assert_eq!(ProofOfSync::epoch_view(), epoch);
		assert_eq!(<Runtime as ProofOfSyncApiV1<Block, AccountId, Balance>>::epoch(), epoch);
		assert_eq!(epoch.epoch_length, EPOCH_LENGTH);
		// Neither a record nor a registration: nothing to report.
		assert_eq!(
			<Runtime as ProofOfSyncApiV1<Block, AccountId, Balance>>::node_score(
				Ferdie.to_account_id()
			),
			None
		);
		expected
	};

	let scored = net.chain.execute(|| check(&bob));
	assert!(scored.score > Perbill::zero());
	assert_eq!(scored.epochs, 1);
	assert_eq!(scored.status, Some(NodeStatus::Active));
	assert_eq!(scored.total_rewards, 0, "not paid yet");
	net.chain.execute(|| assert_eq!(epoch_index(), round.epoch));

	// After the payment the view carries Bob's reward.
	let events = run_until(
		&mut net.chain,
		"the epoch's payment",
		|e| matches!(e, PosEvent::EpochClosed { epoch, .. } if *epoch == round.epoch),
	);
	let reward = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::ProofOfSync(PosEvent::NodeRewarded { node, amount, .. })
				if *node == bob =>
			{
				Some(*amount)
			},
			_ => None,
		})
		.expect("Bob's node was rewarded");
	let paid = net.chain.execute(|| check(&bob));
	assert_eq!(paid.total_rewards, reward);
	assert_eq!(paid.score, scored.score);
}
