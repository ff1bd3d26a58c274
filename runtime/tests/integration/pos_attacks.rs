//! Attacks on Proof of Sync through the full runtime (issue 17): a verifier that copies another
//! verifier's commitment, and later its revealed report and salt, to earn credits and era points
//! without probing. Real signed transactions of the verifiers' off-chain keys, through
//! `Executive`.
//!
//! The `local_testnet` preset (Alice, Bob, Charlie and Dave are the session validators) with
//! [`EPOCH_LENGTH`]-block epochs and two verifiers per node at genesis: Alice and Bob register
//! validator nodes, Charlie a service node, so both verifiers are drawn for Charlie's node.

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

/// Seeds of the off-chain (`dsyn`) keys of Alice's and Bob's validator nodes and of Charlie's
/// service node.
const ALICE_KEY_SEED: [u8; 32] = [0xa1; 32];
const BOB_KEY_SEED: [u8; 32] = [0xb0; 32];
const CHARLIE_KEY_SEED: [u8; 32] = [0xc4; 32];

/// The salt of Alice's commitment.
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
	alice: AccountId,
	bob: AccountId,
	charlie: AccountId,
}

fn network() -> Network {
	let alice_key = sr25519::Pair::from_seed(&ALICE_KEY_SEED);
	let bob_key = sr25519::Pair::from_seed(&BOB_KEY_SEED);
	let charlie_key = sr25519::Pair::from_seed(&CHARLIE_KEY_SEED);

	let mut config = genesis_config(LOCAL_TESTNET);
	let params = &mut config.proof_of_sync.parameters;
	params.epoch_length = EPOCH_LENGTH;
	params.verifiers_per_node = 2;
	config.balances.balances.push((account_of(&alice_key), KEY_FUNDS));
	config.balances.balances.push((account_of(&bob_key), KEY_FUNDS));
	let mut chain = TestChain::from_config(config);

	// All three register in one block of the first epoch: the validator nodes are promoted at
	// the next epoch's start, where Charlie's pending service node becomes a target.
	let xts = chain.execute(|| {
		vec![
			register(Alice, NodeRole::Validator, &alice_key),
			register(Bob, NodeRole::Validator, &bob_key),
			register(Charlie, NodeRole::Service, &charlie_key),
		]
	});
	assert_eq!(chain.next_block(xts), vec![Ok(Ok(())); 3]);
	let (alice, bob, charlie) =
		(Alice.to_account_id(), Bob.to_account_id(), Charlie.to_account_id());
	chain.execute(|| {
		assert_eq!(pallet_proof_of_sync::Epoch::<Runtime>::get().index, 1);
		for owner in [&alice, &bob, &charlie] {
			let node = pallet_node_registry::Nodes::<Runtime>::get(owner).expect("registered");
			assert_eq!(node.status, NodeStatus::Pending);
		}
		let validators = dsync_runtime::Session::validators();
		assert!(validators.contains(&alice) && validators.contains(&bob));
	});
	Network { chain, alice_key, bob_key, alice, bob, charlie }
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
