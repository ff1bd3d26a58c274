//! Attacks on Proof of Sync through the full runtime: a verifier that copies another verifier's
//! commitment, and later its revealed report and salt, to earn credits and era points without
//! probing (issue 17); a split of the reports, and a node that answers only some of its
//! verifiers, used to wear down an honest verifier's reputation (finding 8 of the
//! economic-soundness issue). Real signed transactions of the verifiers' off-chain keys, through
//! `Executive`.
//!
//! The `local_testnet` preset (Alice, Bob, Charlie and Dave are the session validators) with
//! [`EPOCH_LENGTH`]-block epochs and two verifiers per node at genesis: Alice and Bob register
//! validator nodes, Charlie a service node, so both verifiers are drawn for Charlie's node. In
//! the three-verifier network ([`network_of_three`]) Dave registers a validator node too, with
//! three verifiers per node, so all three are drawn for Charlie's node.

use crate::{
	chain::{account_of, genesis_config, signed, signed_by_pair, TestChain},
	depin::{declaration, era_points, fees_paid_by, run_to_assignment},
};
use dsync_primitives::{
	currency::DSYNC,
	traits::{NodeRole, NodeStatus},
	AccountId, Balance,
};
use dsync_runtime::{
	genesis_config_presets::LOCAL_TESTNET, ProofOfSync, Runtime, RuntimeCall, RuntimeEvent, System,
	UncheckedExtrinsic,
};
use frame_support::traits::FindAuthor;
use pallet_proof_of_sync::{Event as PosEvent, Params, ProbeReport, Slot};
use sp_core::{sr25519, Pair as _, H256};
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::{traits::Saturating, ApplyExtrinsicResult, DispatchError, Perbill};

/// The Proof-of-Sync epoch length of these tests, in blocks: a commit window of 5 blocks, so a
/// copier can read a commitment on chain and still commit, then a reveal window of 5 blocks.
const EPOCH_LENGTH: u32 = 10;

/// What each verifier key holds at genesis, to pay report fees up front.
const KEY_FUNDS: Balance = 10 * DSYNC;

/// Seeds of the off-chain (`dsyn`) keys of Alice's, Bob's and Dave's validator nodes and of
/// Charlie's service node.
const ALICE_KEY_SEED: [u8; 32] = [0xa1; 32];
const BOB_KEY_SEED: [u8; 32] = [0xb0; 32];
const CHARLIE_KEY_SEED: [u8; 32] = [0xc4; 32];
const DAVE_KEY_SEED: [u8; 32] = [0xd4; 32];

/// The salt of every commitment in these tests (a commitment also binds its verifier).
const SALT: [u8; 32] = [0x5a; 32];

/// The era points of a block's author (pallet-staking's `note_author`).
const AUTHORING_POINTS: u32 = 20;

/// More blocks than any wait in these tests needs.
const MAX_BLOCKS: u32 = 100;

/// `owner`'s registration of a node of `role` with off-chain key `key`, at the minimum bond.
/// Call inside `execute`.
fn register(owner: Sr25519Keyring, role: NodeRole, key: &sr25519::Pair) -> UncheckedExtrinsic {
	let declaration = declaration(role, b"http://127.0.0.1:9955");
	let bond = dsync_runtime::NodeRegistry::minimum_bond(&declaration);
	let message = dsync_runtime::NodeRegistry::key_proof_message(&owner.to_account_id());
	let call = RuntimeCall::NodeRegistry(pallet_node_registry::Call::register {
		role,
		declaration,
		offchain_key: account_of(key),
		key_proof: key.sign(&message).into(),
		bond,
	});
	signed(owner, call)
}

/// The chain, the verifier keys and the owners.
struct Network {
	chain: TestChain,
	/// Alice's off-chain key: the honest verifier signs its reports with it.
	alice_key: sr25519::Pair,
	/// Bob's off-chain key: the copier signs its reports with it.
	bob_key: sr25519::Pair,
	/// Dave's off-chain key: registered (and funded) only in [`network_of_three`].
	dave_key: sr25519::Pair,
	alice: AccountId,
	bob: AccountId,
	charlie: AccountId,
	dave: AccountId,
}

/// Alice's and Bob's validator nodes and Charlie's service node, two verifiers per node: both
/// validator nodes are drawn for Charlie's node.
fn network() -> Network {
	build_network(2)
}

/// [`network`] with a third validator node, Dave's, and three verifiers per node: all three
/// validator nodes are drawn for Charlie's node.
fn network_of_three() -> Network {
	build_network(3)
}

/// The network with `verifiers` validator nodes (Alice's and Bob's, and Dave's when three) and
/// as many verifiers per node, so every validator node is drawn for Charlie's node.
fn build_network(verifiers: u32) -> Network {
	assert!(verifiers == 2 || verifiers == 3, "Alice, Bob and maybe Dave register validator nodes");
	let with_dave = verifiers == 3;
	let alice_key = sr25519::Pair::from_seed(&ALICE_KEY_SEED);
	let bob_key = sr25519::Pair::from_seed(&BOB_KEY_SEED);
	let charlie_key = sr25519::Pair::from_seed(&CHARLIE_KEY_SEED);
	let dave_key = sr25519::Pair::from_seed(&DAVE_KEY_SEED);

	let mut config = genesis_config(LOCAL_TESTNET);
	let params = &mut config.proof_of_sync.parameters;
	params.epoch_length = EPOCH_LENGTH;
	params.verifiers_per_node = verifiers;
	config.balances.balances.push((account_of(&alice_key), KEY_FUNDS));
	config.balances.balances.push((account_of(&bob_key), KEY_FUNDS));
	if with_dave {
		config.balances.balances.push((account_of(&dave_key), KEY_FUNDS));
	}
	let mut chain = TestChain::from_config(config);

	// All register in one block of the first epoch: the validator nodes are promoted at the
	// next epoch's start, where Charlie's pending service node becomes a target.
	let xts = chain.execute(|| {
		let mut xts = vec![
			register(Alice, NodeRole::Validator, &alice_key),
			register(Bob, NodeRole::Validator, &bob_key),
			register(Charlie, NodeRole::Service, &charlie_key),
		];
		if with_dave {
			xts.push(register(Dave, NodeRole::Validator, &dave_key));
		}
		xts
	});
	let count = xts.len();
	assert_eq!(chain.next_block(xts), vec![Ok(Ok(())); count]);
	let (alice, bob, charlie, dave) =
		(Alice.to_account_id(), Bob.to_account_id(), Charlie.to_account_id(), Dave.to_account_id());
	chain.execute(|| {
		assert_eq!(pallet_proof_of_sync::Epoch::<Runtime>::get().index, 1);
		let mut owners = vec![&alice, &bob, &charlie];
		if with_dave {
			owners.push(&dave);
		}
		for owner in owners {
			let node = pallet_node_registry::Nodes::<Runtime>::get(owner).expect("registered");
			assert_eq!(node.status, NodeStatus::Pending);
		}
		let validators = dsync_runtime::Session::validators();
		assert!(validators.contains(&alice) && validators.contains(&bob));
		assert!(!with_dave || validators.contains(&dave));
	});
	Network { chain, alice_key, bob_key, dave_key, alice, bob, charlie, dave }
}

/// Produce empty blocks until the next block is in the reveal window.
fn run_to_reveal_window(chain: &mut TestChain) {
	for _ in 0..MAX_BLOCKS {
		let open = chain.execute(|| {
			ProofOfSync::in_reveal_window(
				&pallet_proof_of_sync::Epoch::<Runtime>::get(),
				&Params::<Runtime>::get(),
				System::block_number() + 1,
			)
		});
		if open {
			return;
		}
		chain.next_block(vec![]);
	}
	panic!("the reveal window never opened");
}

/// Whether the next block is in the commit window.
fn commit_window_open(chain: &mut TestChain) -> bool {
	chain.execute(|| {
		ProofOfSync::in_commit_window(
			&pallet_proof_of_sync::Epoch::<Runtime>::get(),
			&Params::<Runtime>::get(),
			System::block_number() + 1,
		)
	})
}

/// Submit a Proof-of-Sync report `call` signed by the off-chain key `key` in its own block; the
/// extrinsic's result and the block's events.
fn submit(
	chain: &mut TestChain,
	key: &sr25519::Pair,
	call: pallet_proof_of_sync::Call<Runtime>,
) -> (ApplyExtrinsicResult, Vec<RuntimeEvent>) {
	let who = account_of(key);
	let xt = chain.execute(|| {
		signed_by_pair(key, System::account_nonce(&who), RuntimeCall::ProofOfSync(call))
	});
	let mut results = chain.next_block(vec![xt]);
	assert_eq!(results.len(), 1);
	let result = results.remove(0);
	(result, chain.events())
}

/// `node`'s slot of `verifier` this epoch.
fn slot_of(node: &AccountId, verifier: &AccountId) -> Slot<AccountId> {
	pallet_proof_of_sync::Assignments::<Runtime>::get(node)
		.expect("the node is assigned")
		.slots
		.into_iter()
		.find(|slot| slot.verifier == *verifier)
		.expect("the verifier is drawn")
}

/// The author of the last block, from its pre-runtime digest (without caching it, unlike
/// `Authorship::author`).
fn last_author() -> Option<AccountId> {
	let digest = System::digest();
	<Runtime as pallet_authorship::Config>::FindAuthor::find_author(
		digest.logs.iter().filter_map(|item| item.as_pre_runtime()),
	)
}

/// What a verifier reports on a node that answered it well: available, passing, at half the
/// target latency and in sync (a quality of 100 %).
fn up_report(params: &pallet_proof_of_sync::ProofOfSyncParams<Balance>) -> ProbeReport {
	ProbeReport {
		available: true,
		challenge_ok: true,
		latency_ms: params.target_latency_ms / 2,
		sync_lag: 0,
		evidence: None,
	}
}

/// What a verifier reports on a node that did not answer it: unavailable, failed, with the
/// placeholders `max_latency_ms` and `max_lag` in place of measurements.
fn down_report(params: &pallet_proof_of_sync::ProofOfSyncParams<Balance>) -> ProbeReport {
	ProbeReport {
		available: false,
		challenge_ok: false,
		latency_ms: params.max_latency_ms,
		sync_lag: params.max_lag,
		evidence: None,
	}
}

/// One verifier's report on a target: the verifier's off-chain key, its node's owner, and the
/// report it commits to and reveals.
type Report<'a> = (&'a sr25519::Pair, &'a AccountId, ProbeReport);

/// One block holding, for every report of `reports`, `call(report)` signed by its verifier's
/// off-chain key; every transaction must succeed. The block's events.
fn each_in_one_block(
	chain: &mut TestChain,
	reports: &[Report<'_>],
	call: impl Fn(&Report<'_>) -> pallet_proof_of_sync::Call<Runtime>,
) -> Vec<RuntimeEvent> {
	let xts = chain.execute(|| {
		reports
			.iter()
			.map(|report| {
				let key = report.0;
				let nonce = System::account_nonce(account_of(key));
				signed_by_pair(key, nonce, RuntimeCall::ProofOfSync(call(report)))
			})
			.collect::<Vec<_>>()
	});
	assert_eq!(chain.next_block(xts), vec![Ok(Ok(())); reports.len()]);
	chain.events()
}

/// Commit every report of `reports` on `node` in `epoch` in one block of the commit window, then
/// reveal every one in one block of the reveal window, each in a transaction signed by the
/// verifier's off-chain key. Every commitment and every reveal must succeed.
fn commit_and_reveal(chain: &mut TestChain, epoch: u32, node: &AccountId, reports: &[Report<'_>]) {
	assert!(commit_window_open(chain), "the assignment leaves time to commit");
	let events = each_in_one_block(chain, reports, |(_, verifier, report)| {
		let commitment = report.commitment(epoch, node, verifier, &SALT);
		pallet_proof_of_sync::Call::commit_report { node: node.clone(), commitment }
	});
	for (_, verifier, _) in reports {
		assert!(events.contains(&RuntimeEvent::ProofOfSync(PosEvent::ReportCommitted {
			epoch,
			node: node.clone(),
			verifier: (*verifier).clone(),
		})));
	}

	run_to_reveal_window(chain);
	let events = each_in_one_block(chain, reports, |(_, _, report)| {
		pallet_proof_of_sync::Call::reveal_report {
			node: node.clone(),
			report: report.clone(),
			salt: SALT,
		}
	});
	for (_, verifier, report) in reports {
		assert!(events.contains(&RuntimeEvent::ProofOfSync(PosEvent::ReportRevealed {
			epoch,
			node: node.clone(),
			verifier: (*verifier).clone(),
			available: report.available,
			challenge_ok: report.challenge_ok,
			latency_ms: report.latency_ms,
			sync_lag: report.sync_lag,
		})));
	}
}

/// Produce empty blocks until `node`'s reports of `epoch` are tallied (the node is scored, or
/// not scored); the tally block's events and the era points each of `verifiers` earned in it
/// for verifying (what it gained, less the authoring points if it authored the block).
fn run_to_tally(
	chain: &mut TestChain,
	node: &AccountId,
	epoch: u32,
	verifiers: &[AccountId],
) -> (Vec<RuntimeEvent>, Vec<u32>) {
	for _ in 0..MAX_BLOCKS {
		let before: Vec<u32> = chain.execute(|| verifiers.iter().map(era_points).collect());
		chain.next_block(vec![]);
		let events = chain.events();
		let tallied = events.iter().any(|e| match e {
			RuntimeEvent::ProofOfSync(PosEvent::NodeScored {
				epoch: tallied,
				node: target,
				..
			})
			| RuntimeEvent::ProofOfSync(PosEvent::NodeNotScored { epoch: tallied, node: target }) => {
				*tallied == epoch && target == node
			},
			_ => false,
		});
		if tallied {
			let (after, author) = chain.execute(|| {
				(verifiers.iter().map(era_points).collect::<Vec<u32>>(), last_author())
			});
			let earned = verifiers
				.iter()
				.zip(before.into_iter().zip(after))
				.map(|(who, (before, after))| {
					let authoring = if author.as_ref() == Some(who) { AUTHORING_POINTS } else { 0 };
					after - before - authoring
				})
				.collect();
			return (events, earned);
		}
	}
	panic!("{node:?} was not tallied in epoch {epoch} within {MAX_BLOCKS} blocks");
}

/// Produce empty blocks until `epoch` is closed (every recipient paid); the events of those
/// blocks, the closing one included.
fn run_to_close(chain: &mut TestChain, epoch: u32) -> Vec<RuntimeEvent> {
	let mut paid = Vec::new();
	for _ in 0..MAX_BLOCKS {
		chain.next_block(vec![]);
		let events = chain.events();
		let closed = events.iter().any(|e| {
			matches!(
				e,
				RuntimeEvent::ProofOfSync(PosEvent::EpochClosed { epoch: closed, .. })
					if *closed == epoch
			)
		});
		paid.extend(events);
		if closed {
			return paid;
		}
	}
	panic!("epoch {epoch} was not closed within {MAX_BLOCKS} blocks");
}

/// Whether `who` was paid a non-zero amount as a verifier in `events`.
fn rewarded(events: &[RuntimeEvent], who: &AccountId) -> bool {
	events.iter().any(|e| {
		matches!(
			e,
			RuntimeEvent::ProofOfSync(PosEvent::VerifierRewarded { verifier, amount, .. })
				if verifier == who && *amount > 0
		)
	})
}

/// The verifiers clipped in `events`, in order.
fn clipped(events: &[RuntimeEvent]) -> Vec<AccountId> {
	events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::ProofOfSync(PosEvent::VerifierClipped { verifier, .. }) => {
				Some(verifier.clone())
			},
			_ => None,
		})
		.collect()
}

/// Whether `events` hold a `NodeMissed` of `node`.
fn missed(events: &[RuntimeEvent], node: &AccountId) -> bool {
	events.iter().any(|e| {
		matches!(
			e,
			RuntimeEvent::ProofOfSync(PosEvent::NodeMissed { node: target, .. }) if target == node
		)
	})
}

#[test]
fn a_copied_commitment_and_reveal_earn_nothing() {
	let mut net = network();
	let (alice, bob, charlie) = (net.alice.clone(), net.bob.clone(), net.charlie.clone());
	let bob_key_account = account_of(&net.bob_key);

	// Epoch 2: both validator nodes are drawn for Charlie's node.
	let assignment = run_to_assignment(&mut net.chain, &charlie);
	let epoch = assignment.epoch;
	assert_eq!(epoch, 2);
	let drawn: Vec<AccountId> = assignment.slots.iter().map(|slot| slot.verifier.clone()).collect();
	assert!(drawn.contains(&alice) && drawn.contains(&bob), "{drawn:?}");
	let params = net.chain.execute(Params::<Runtime>::get);

	// Alice probes and commits.
	let report = ProbeReport {
		available: true,
		challenge_ok: true,
		latency_ms: params.target_latency_ms / 2,
		sync_lag: 0,
		evidence: None,
	};
	let commitment: H256 = report.commitment(epoch, &charlie, &alice, &SALT);
	assert!(commit_window_open(&mut net.chain));
	let commit = pallet_proof_of_sync::Call::commit_report { node: charlie.clone(), commitment };
	let (result, events) = submit(&mut net.chain, &net.alice_key, commit);
	assert_eq!(result, Ok(Ok(())));
	assert!(events.contains(&RuntimeEvent::ProofOfSync(PosEvent::ReportCommitted {
		epoch,
		node: charlie.clone(),
		verifier: alice.clone(),
	})));

	// Bob never probes: in a later block he reads Alice's commitment from the chain and commits
	// it as his own. The chain cannot tell yet: the commitment is accepted, and free.
	let copied = net.chain.execute(|| slot_of(&charlie, &alice).commitment);
	assert_eq!(copied, Some(commitment));
	assert!(commit_window_open(&mut net.chain), "the copier can still commit");
	let copy = pallet_proof_of_sync::Call::commit_report { node: charlie.clone(), commitment };
	let (result, events) = submit(&mut net.chain, &net.bob_key, copy);
	assert_eq!(result, Ok(Ok(())));
	assert_eq!(fees_paid_by(&events, &bob_key_account), 0);
	net.chain
		.execute(|| assert_eq!(slot_of(&charlie, &bob).commitment, Some(commitment)));

	// Alice reveals.
	run_to_reveal_window(&mut net.chain);
	let reveal = pallet_proof_of_sync::Call::reveal_report {
		node: charlie.clone(),
		report: report.clone(),
		salt: SALT,
	};
	let (result, _) = submit(&mut net.chain, &net.alice_key, reveal);
	assert_eq!(result, Ok(Ok(())));

	// Bob reveals Alice's report (read from the chain) and salt (from her reveal transaction).
	// The commitment binds the verifier: it does not open for Bob, who pays the fee of the
	// failed call. (With the old `(report, salt)` commitment the reveal succeeded.)
	let revealed = net.chain.execute(|| slot_of(&charlie, &alice).report);
	assert_eq!(revealed.as_ref(), Some(&report));
	let copied_reveal = pallet_proof_of_sync::Call::reveal_report {
		node: charlie.clone(),
		report: revealed.expect("revealed"),
		salt: SALT,
	};
	let (result, events) = submit(&mut net.chain, &net.bob_key, copied_reveal);
	let mismatch: DispatchError = pallet_proof_of_sync::Error::<Runtime>::CommitmentMismatch.into();
	assert_eq!(result, Ok(Err(mismatch)));
	assert!(fees_paid_by(&events, &bob_key_account) > 0, "a failed reveal pays its fee");
	assert!(!events
		.iter()
		.any(|e| matches!(e, RuntimeEvent::ProofOfSync(PosEvent::ReportRevealed { .. }))));
	net.chain.execute(|| assert_eq!(slot_of(&charlie, &bob).report, None));

	// The tally: Alice's report alone decides; Bob is absent. Alice earns a credit and the
	// verification era points; Bob earns neither and loses reputation.
	let (bob_reputation, alice_reputation) = net.chain.execute(|| {
		(
			pallet_proof_of_sync::Reputation::<Runtime>::get(&bob),
			pallet_proof_of_sync::Reputation::<Runtime>::get(&alice),
		)
	});
	let mut tally = None;
	for _ in 0..MAX_BLOCKS {
		let before = net.chain.execute(|| (era_points(&alice), era_points(&bob)));
		net.chain.next_block(vec![]);
		let events = net.chain.events();
		let scored = events.iter().any(|e| {
			matches!(
				e,
				RuntimeEvent::ProofOfSync(PosEvent::NodeScored { node, .. }) if *node == charlie
			)
		});
		if scored {
			let (after, author) =
				net.chain.execute(|| ((era_points(&alice), era_points(&bob)), last_author()));
			tally = Some((events, before, after, author));
			break;
		}
	}
	let (events, before, after, author) = tally.expect("Charlie's node was tallied");
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::ProofOfSync(PosEvent::NodeScored { epoch: scored, node, reports: 1, .. })
			if *scored == epoch && *node == charlie
	)));
	assert!(events.contains(&RuntimeEvent::ProofOfSync(PosEvent::VerifierAbsent {
		epoch,
		node: charlie.clone(),
		verifier: bob.clone(),
	})));
	assert!(!events
		.iter()
		.any(|e| matches!(e, RuntimeEvent::ProofOfSync(PosEvent::VerifierClipped { .. }))));
	let authoring = |who: &AccountId| {
		if author.as_ref() == Some(who) {
			AUTHORING_POINTS
		} else {
			0
		}
	};
	assert_eq!(after.0 - before.0, authoring(&alice) + params.verification_points);
	assert_eq!(after.1 - before.1, authoring(&bob), "no verification points for the copier");
	net.chain.execute(|| {
		assert_eq!(pallet_proof_of_sync::Credits::<Runtime>::get(&alice), 1);
		assert_eq!(pallet_proof_of_sync::Credits::<Runtime>::get(&bob), 0);
		assert_eq!(
			pallet_proof_of_sync::Reputation::<Runtime>::get(&bob),
			bob_reputation.saturating_sub(params.reputation_penalty)
		);
		assert_eq!(
			pallet_proof_of_sync::Reputation::<Runtime>::get(&alice),
			alice_reputation.saturating_add(params.reputation_recovery)
		);
		assert!(pallet_proof_of_sync::Reputation::<Runtime>::get(&bob) < Perbill::one());
	});

	// The payment: Alice is paid for verifying, Bob is not.
	let mut paid = Vec::new();
	for _ in 0..MAX_BLOCKS {
		net.chain.next_block(vec![]);
		let events = net.chain.events();
		let closed = events.iter().any(|e| {
			matches!(
				e,
				RuntimeEvent::ProofOfSync(PosEvent::EpochClosed { epoch: closed, .. })
					if *closed == epoch
			)
		});
		paid.extend(events);
		if closed {
			break;
		}
	}
	let rewarded = |who: &AccountId| {
		paid.iter().any(|e| {
			matches!(
				e,
				RuntimeEvent::ProofOfSync(PosEvent::VerifierRewarded { verifier, amount, .. })
					if verifier == who && *amount > 0
			)
		})
	};
	assert!(paid.iter().any(|e| matches!(
		e,
		RuntimeEvent::ProofOfSync(PosEvent::EpochClosed { epoch: closed, .. }) if *closed == epoch
	)));
	assert!(rewarded(&alice), "the honest verifier is paid");
	assert!(!rewarded(&bob), "the copier is not");
}

/// Finding 8 of the economic-soundness issue, with two reports: Charlie's service node answers
/// Alice's probe and refuses Bob's (or Bob, a rival of Charlie's, lies that it was down). Alice
/// reveals "up", Bob "down". The lower median of the two booleans let the one "down" report
/// decide: Charlie's node missed its epoch and Alice, who reported what she saw, was clipped, so a
/// node that answers one of its two verifiers (or one lying verifier) wore down the other's
/// reputation. A split now decides nothing: the node is not scored (no miss, no score, no status
/// change, no reward), and neither verifier is clipped, nor credited or paid.
#[test]
fn an_even_split_of_reports_decides_nothing_and_clips_nobody() {
	let mut net = network();
	let (alice, bob, charlie) = (net.alice.clone(), net.bob.clone(), net.charlie.clone());

	// Epoch 2: both validator nodes are drawn for Charlie's node.
	let assignment = run_to_assignment(&mut net.chain, &charlie);
	let epoch = assignment.epoch;
	assert_eq!(epoch, 2);
	let drawn: Vec<AccountId> = assignment.slots.iter().map(|slot| slot.verifier.clone()).collect();
	assert_eq!(drawn.len(), 2, "{drawn:?}");
	assert!(drawn.contains(&alice) && drawn.contains(&bob), "{drawn:?}");
	let params = net.chain.execute(Params::<Runtime>::get);
	let reputations_before = net.chain.execute(|| {
		(
			pallet_proof_of_sync::Reputation::<Runtime>::get(&alice),
			pallet_proof_of_sync::Reputation::<Runtime>::get(&bob),
		)
	});

	// Alice saw the node up, Bob saw it down.
	commit_and_reveal(
		&mut net.chain,
		epoch,
		&charlie,
		&[(&net.alice_key, &alice, up_report(&params)), (&net.bob_key, &bob, down_report(&params))],
	);

	// The tally, at the end of the reveal window: one report each way is a tie on both flags.
	let (events, earned) =
		run_to_tally(&mut net.chain, &charlie, epoch, &[alice.clone(), bob.clone()]);
	assert!(events.contains(&RuntimeEvent::ProofOfSync(PosEvent::NodeNotScored {
		epoch,
		node: charlie.clone(),
	})));
	assert!(!events
		.iter()
		.any(|e| matches!(e, RuntimeEvent::ProofOfSync(PosEvent::NodeScored { .. }))));
	assert!(!missed(&events, &charlie), "a tie is no miss");
	assert_eq!(clipped(&events), Vec::<AccountId>::new(), "a tie clips nobody");
	assert!(!events
		.iter()
		.any(|e| matches!(e, RuntimeEvent::ProofOfSync(PosEvent::VerifierAbsent { .. }))));
	assert_eq!(earned, vec![0, 0], "no verification points for either report");
	net.chain.execute(|| {
		// Not scored: no record, still warming up.
		assert!(pallet_proof_of_sync::Scores::<Runtime>::get(&charlie).is_none());
		let node = pallet_node_registry::Nodes::<Runtime>::get(&charlie).expect("registered");
		assert_eq!(node.status, NodeStatus::Pending);
		// Neither verifier clipped nor credited.
		assert_eq!(
			(
				pallet_proof_of_sync::Reputation::<Runtime>::get(&alice),
				pallet_proof_of_sync::Reputation::<Runtime>::get(&bob),
			),
			reputations_before
		);
		assert_eq!(pallet_proof_of_sync::Credits::<Runtime>::get(&alice), 0);
		assert_eq!(pallet_proof_of_sync::Credits::<Runtime>::get(&bob), 0);
	});

	// The payment: no reward weight and no credit, so nothing to pay.
	let paid = run_to_close(&mut net.chain, epoch);
	assert!(paid.contains(&RuntimeEvent::ProofOfSync(PosEvent::EpochClosed {
		epoch,
		budget: 0,
		distributed: 0,
	})));
	assert!(!rewarded(&paid, &alice) && !rewarded(&paid, &bob));
}

/// Finding 8 of the economic-soundness issue, with three reports: Charlie's service node answers
/// Alice and Bob and refuses Dave, epoch after epoch, so that Dave's honest "down" report is
/// out-voted each epoch. Had the out-voted "down" report been clipped, Dave would lose
/// `reputation_penalty` every epoch until he fell below `min_reputation` and was no longer
/// drawn, at no cost to Charlie. The clear majority decides (Charlie's node was up, and it is
/// scored so, which is all it gains by answering two of three), and Dave's report is excused:
/// not clipped and not credited, so his reputation does not move and he stays drawn.
#[test]
fn a_node_answering_two_of_three_verifiers_does_not_wear_down_the_third() {
	let mut net = network_of_three();
	let (alice, bob, charlie, dave) =
		(net.alice.clone(), net.bob.clone(), net.charlie.clone(), net.dave.clone());
	let verifiers = [alice.clone(), bob.clone(), dave.clone()];
	let params = net.chain.execute(Params::<Runtime>::get);

	for expected_epoch in [2, 3] {
		// All three validator nodes are drawn for Charlie's node, Dave included.
		let assignment = run_to_assignment(&mut net.chain, &charlie);
		let epoch = assignment.epoch;
		assert_eq!(epoch, expected_epoch);
		let drawn: Vec<AccountId> =
			assignment.slots.iter().map(|slot| slot.verifier.clone()).collect();
		assert_eq!(drawn.len(), 3, "{drawn:?}");
		assert!(verifiers.iter().all(|verifier| drawn.contains(verifier)), "{drawn:?}");
		let dave_reputation =
			net.chain.execute(|| pallet_proof_of_sync::Reputation::<Runtime>::get(&dave));
		assert_eq!(dave_reputation, Perbill::one(), "never worn down");

		// Charlie's node answers Alice and Bob well and refuses Dave.
		commit_and_reveal(
			&mut net.chain,
			epoch,
			&charlie,
			&[
				(&net.alice_key, &alice, up_report(&params)),
				(&net.bob_key, &bob, up_report(&params)),
				(&net.dave_key, &dave, down_report(&params)),
			],
		);

		// The tally: two of three saw the node up, a strict majority. It is scored up (at half
		// the target latency and in sync, a quality of 100 %), with no miss.
		let (events, earned) = run_to_tally(&mut net.chain, &charlie, epoch, &verifiers);
		assert!(events.iter().any(|e| matches!(
			e,
			RuntimeEvent::ProofOfSync(PosEvent::NodeScored {
				epoch: scored, node, quality, reports: 3, ..
			}) if *scored == epoch && *node == charlie && *quality == Perbill::one()
		)));
		assert!(!missed(&events, &charlie));
		// Dave is out-voted but not clipped: the node could have refused him alone.
		assert_eq!(clipped(&events), Vec::<AccountId>::new(), "the honest third is not clipped");
		assert!(!events
			.iter()
			.any(|e| matches!(e, RuntimeEvent::ProofOfSync(PosEvent::VerifierAbsent { .. }))));
		// Alice and Bob are confirmed; Dave is excused: no verification points, no credit.
		assert_eq!(earned, vec![params.verification_points, params.verification_points, 0]);
		net.chain.execute(|| {
			assert_eq!(pallet_proof_of_sync::Credits::<Runtime>::get(&alice), 1);
			assert_eq!(pallet_proof_of_sync::Credits::<Runtime>::get(&bob), 1);
			assert_eq!(pallet_proof_of_sync::Credits::<Runtime>::get(&dave), 0);
			assert_eq!(pallet_proof_of_sync::Reputation::<Runtime>::get(&dave), dave_reputation);
			assert!(
				pallet_proof_of_sync::Reputation::<Runtime>::get(&dave) >= params.min_reputation
			);
		});

		// The payment: Alice and Bob are paid for verifying, Dave is not (nor punished).
		let paid = run_to_close(&mut net.chain, epoch);
		assert!(rewarded(&paid, &alice) && rewarded(&paid, &bob));
		assert!(!rewarded(&paid, &dave));
	}

	// After two epochs of this Dave's reputation is whole, and the majority's verdict stood:
	// Charlie's node, scored up, left its warm-up.
	net.chain.execute(|| {
		assert_eq!(pallet_proof_of_sync::Reputation::<Runtime>::get(&dave), Perbill::one());
		let node = pallet_node_registry::Nodes::<Runtime>::get(&charlie).expect("registered");
		assert_eq!(node.status, NodeStatus::Active);
	});
}
