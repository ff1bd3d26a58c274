//! Storage across pallets, with real signed transactions: storage providers registered in
//! `NodeRegistry` and scored by Proof of Sync are drawn for an order; they accept and prove
//! their slots through their off-chain keys with proofs over the real bytes; the client pays
//! through `Tokenomics` (the storage burn share leaves the issuance), Proof of Sync records the
//! usage, an unproven epoch is a Proof-of-Sync miss and a refund, and a provider that proves with
//! data it does not have is suspended and a slash scheduled. The development preset (1-minute
//! epochs).

use crate::{
	chain::{account_of, free, signed, signed_by_pair, total_issuance, TestChain},
	gpu_jobs::{run, scored_service_node},
};
use dsync_primitives::{
	storage::{
		layout::shard_len,
		pieces::{prove_piece, slot_leaves, slot_root, PieceProof},
		Cid,
	},
	traits::{NodeRegistry as _, NodeStatus, ServiceKind, SlashReason},
	AccountId, Balance,
};
use dsync_runtime::{
	constants::TreasuryAccount, genesis_config_presets::DEVELOPMENT, NodeRegistry, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, Storage, System,
};
use frame_support::traits::fungible::InspectHold;
use pallet_storage::{Event as StorageEvent, OrderId, SlotSpec};
use sp_core::{sr25519, Pair as _};
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::Perbill;

/// Content bytes, data shards and slots of the test order (plain copies are allowed on dev).
const SIZE: usize = 10_000;
const DATA: u8 = 2;
const SLOTS: usize = 3;
const DURATION: u32 = 3;
const PRICE: Balance = dsync_primitives::currency::DSYNC;

/// The bytes slot `j` keeps (a stand-in for the coder: the chain checks lengths and roots).
fn slot_bytes(j: usize) -> Vec<u8> {
	let len = shard_len(SIZE as u64, u64::from(DATA)).unwrap() as usize;
	(0..len).map(|i| ((i * 11 + j * 17) % 251) as u8).collect()
}

fn proof(j: usize, index: u64) -> PieceProof {
	let bytes = slot_bytes(j);
	prove_piece(&bytes, &slot_leaves(&bytes), index).unwrap()
}

/// `owner` registers a storage node with 10 GiB and off-chain `key`, activated and scored.
fn storage_provider(chain: &mut TestChain, owner: Sr25519Keyring, key: &sr25519::Pair) {
	let declaration = pallet_node_registry::Declaration {
		resources: pallet_node_registry::Resources {
			cpu_cores: 4,
			memory_mib: 8 * 1024,
			storage_gib: 10,
			bandwidth_mbps: 100,
			gpus: Default::default(),
		},
		services: vec![ServiceKind::Storage].try_into().unwrap(),
		models: Default::default(),
		endpoint: b"http://127.0.0.1:9955".to_vec().try_into().unwrap(),
	};
	scored_service_node(chain, owner, key, declaration);
}

/// Submit `call` signed by `key`; the dispatch result and the block's events.
fn by_key(
	chain: &mut TestChain,
	key: &sr25519::Pair,
	call: RuntimeCall,
) -> (sp_runtime::DispatchResult, Vec<RuntimeEvent>) {
	let who = account_of(key);
	let xt = chain.execute(|| signed_by_pair(key, System::account_nonce(&who), call));
	let results = chain.next_block(vec![xt]);
	let result = results[0].expect("the transaction is valid");
	(result, chain.events())
}

fn escrow(who: &AccountId) -> Balance {
	let reason: RuntimeHoldReason = pallet_storage::HoldReason::Order.into();
	pallet_balances::Pallet::<Runtime>::balance_on_hold(&reason, who)
}

fn storage_events(events: &[RuntimeEvent]) -> Vec<StorageEvent<Runtime>> {
	events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::Storage(event) => Some(event.clone()),
			_ => None,
		})
		.collect()
}

/// Runs blocks until `done` holds of a block's storage events; those events.
fn run_until(
	chain: &mut TestChain,
	done: impl Fn(&[StorageEvent<Runtime>]) -> bool,
) -> Vec<StorageEvent<Runtime>> {
	for _ in 0..200 {
		chain.next_block(vec![]);
		let events = storage_events(&chain.events());
		if done(&events) {
			return events;
		}
	}
	panic!("the awaited storage event did not come within 200 blocks");
}

/// Runs to the first block of the storage epoch `epoch`.
fn run_to_epoch(chain: &mut TestChain, epoch: u32) {
	while chain.execute(Storage::current_epoch) < epoch {
		chain.next_block(vec![]);
	}
}

/// The holder's key of each slot, in slot order.
fn keys_of(holders: &[AccountId], providers: &[(AccountId, sr25519::Pair)]) -> Vec<sr25519::Pair> {
	holders
		.iter()
		.map(|h| providers.iter().find(|(owner, _)| owner == h).unwrap().1.clone())
		.collect()
}

#[test]
fn an_order_is_drawn_accepted_proven_and_paid_through_the_real_pallets() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let providers: Vec<(AccountId, sr25519::Pair)> = [(Bob, 0x71u8), (Charlie, 0x72), (Dave, 0x73)]
		.into_iter()
		.map(|(owner, seed)| {
			let key = sr25519::Pair::from_seed(&[seed; 32]);
			storage_provider(&mut chain, owner, &key);
			(owner.to_account_id(), key)
		})
		.collect();
	let client = Alice.to_account_id();
	let specs: Vec<SlotSpec> = (0..SLOTS)
		.map(|j| {
			let bytes = slot_bytes(j);
			SlotSpec { root: slot_root(&bytes), len: bytes.len() as u64 }
		})
		.collect();
	let events = run(
		&mut chain,
		Alice,
		RuntimeCall::Storage(pallet_storage::Call::place_order {
			cid: Cid::raw(b"the content"),
			size: SIZE as u64,
			data_shards: DATA,
			slots: specs.try_into().unwrap(),
			duration: DURATION,
			price: PRICE,
		}),
	);
	let id: OrderId = storage_events(&events)
		.iter()
		.find_map(|e| match e {
			StorageEvent::OrderPlaced { order, .. } => Some(*order),
			_ => None,
		})
		.expect("placed");
	let total = PRICE * SLOTS as u128 * u128::from(DURATION);
	assert_eq!(chain.execute(|| escrow(&client)), total);

	// Drawn two blocks later: one slot for each provider (three providers, three slots).
	let events = run_until(&mut chain, |events| {
		events.iter().filter(|e| matches!(e, StorageEvent::SlotOffered { .. })).count() == SLOTS
	});
	let mut offers: Vec<(u8, AccountId, u64)> = events
		.iter()
		.filter_map(|e| match e {
			StorageEvent::SlotOffered { slot, provider, challenge, .. } => {
				Some((*slot, provider.clone(), *challenge))
			},
			_ => None,
		})
		.collect();
	offers.sort_by_key(|(slot, _, _)| *slot);
	let holders: Vec<AccountId> = offers.iter().map(|(_, who, _)| who.clone()).collect();
	assert!(!holders.contains(&client));
	// The runtime API tells each provider's node what to accept.
	for (j, who, challenge) in &offers {
		use dsync_primitives::storage::api::runtime_decl_for_storage_api::StorageApiV1;
		let work = chain.execute(|| {
			<Runtime as StorageApiV1<dsync_runtime::Block, AccountId>>::provider_work(who.clone())
		});
		assert_eq!(work.len(), 1);
		assert_eq!((work[0].order, work[0].slot), (id, *j));
		assert!(matches!(work[0].task,
			dsync_primitives::storage::SlotTask::Accept { challenge: c, .. } if c == *challenge));
	}
	// What clients and providers' nodes read: the order with each slot's provider and the
	// endpoint its node declared, the slot alone, the order by its CID, a key's provider.
	{
		use dsync_primitives::storage::{
			api::runtime_decl_for_storage_api::StorageApiV1, OrderPhase, SlotPhase,
		};
		let view = chain
			.execute(|| <Runtime as StorageApiV1<dsync_runtime::Block, AccountId>>::order(id))
			.expect("the order is open");
		assert_eq!(
			(view.client.clone(), view.size, view.data_shards),
			(client.clone(), SIZE as u64, DATA)
		);
		assert_eq!(view.phase, OrderPhase::Filling);
		for (j, who, _) in &offers {
			let slot = &view.slots[usize::from(*j)];
			let expected = chain.execute(|| {
				pallet_node_registry::Nodes::<Runtime>::get(who)
					.map(|n| n.declaration.endpoint.to_vec())
			});
			assert!(matches!(&slot.phase,
				SlotPhase::Offered { provider, endpoint, .. }
					if provider == who && Some(endpoint.clone()) == expected));
			let alone = chain.execute(|| {
				<Runtime as StorageApiV1<dsync_runtime::Block, AccountId>>::slot(id, *j)
			});
			assert_eq!(alone.as_ref(), Some(slot));
		}
		assert_eq!(
			chain.execute(|| {
				<Runtime as StorageApiV1<dsync_runtime::Block, AccountId>>::orders_of_cid(Cid::raw(
					b"the content",
				))
			}),
			vec![id]
		);
		assert!(chain
			.execute(|| <Runtime as StorageApiV1<dsync_runtime::Block, AccountId>>::orders_of_cid(
				Cid::raw(b"other")
			))
			.is_empty());
		for (owner, key) in &providers {
			let found = chain.execute(|| {
				<Runtime as StorageApiV1<dsync_runtime::Block, AccountId>>::owner_of_key(
					account_of(key),
				)
			});
			assert_eq!(found.as_ref(), Some(owner));
		}
	}
	let keys = keys_of(&holders, &providers);

	// Each accepts through its node's key, for free.
	for (j, _, challenge) in &offers {
		let key = &keys[usize::from(*j)];
		let before = chain.execute(|| free(&account_of(key)));
		let call = RuntimeCall::Storage(pallet_storage::Call::accept_slot {
			order: id,
			slot: *j,
			proof: proof(usize::from(*j), *challenge),
		});
		let (result, _) = by_key(&mut chain, key, call);
		assert_eq!(result, Ok(()));
		assert_eq!(chain.execute(|| free(&account_of(key))), before, "accepting is free");
	}
	let start = chain
		.execute(|| pallet_storage::Orders::<Runtime>::get(id))
		.and_then(|order| match order.status {
			pallet_storage::OrderStatus::Active { start } => Some(start),
			_ => None,
		})
		.expect("active");

	// Epoch `start`: all three prove; each payment burns the storage share (10 %), gives 5 % to
	// the treasury and the rest to the provider, and is recorded as usage.
	run_to_epoch(&mut chain, start);
	let issuance = chain.execute(total_issuance);
	let treasury = chain.execute(|| free(&TreasuryAccount::get()));
	let owners_before: Vec<Balance> = chain.execute(|| holders.iter().map(free).collect());
	for j in 0..SLOTS {
		let challenges = chain.execute(|| Storage::challenges(id, j as u8, start)).unwrap();
		let proofs: Vec<PieceProof> = challenges.iter().map(|index| proof(j, *index)).collect();
		let call = RuntimeCall::Storage(pallet_storage::Call::prove_slot {
			order: id,
			slot: j as u8,
			epoch: start,
			proofs: proofs.try_into().unwrap(),
		});
		let (result, events) = by_key(&mut chain, &keys[j], call);
		assert_eq!(result, Ok(()));
		assert!(events.iter().any(|e| matches!(e,
			RuntimeEvent::ProofOfSync(pallet_proof_of_sync::Event::UsageRecorded { provider, client: c, kind: ServiceKind::Storage, .. })
				if *provider == holders[j] && *c == client)));
	}
	let burned = Perbill::from_percent(10) * PRICE;
	let to_treasury = Perbill::from_percent(5) * PRICE;
	assert_eq!(chain.execute(total_issuance), issuance - 3 * burned);
	assert_eq!(chain.execute(|| free(&TreasuryAccount::get())), treasury + 3 * to_treasury);
	for (j, owner) in holders.iter().enumerate() {
		assert_eq!(chain.execute(|| free(owner)), owners_before[j] + PRICE - burned - to_treasury);
	}
	assert_eq!(chain.execute(|| escrow(&client)), total - 3 * PRICE);

	// Epoch start + 1: slot 0 proves with bytes it does not have (another slot's); slot 1
	// proves; slot 2 stays silent.
	run_to_epoch(&mut chain, start + 1);
	let challenges = chain.execute(|| Storage::challenges(id, 0, start + 1)).unwrap();
	let wrong: Vec<PieceProof> = challenges.iter().map(|index| proof(1, *index)).collect();
	let cheat_before = chain.execute(|| free(&account_of(&keys[0])));
	let (result, events) = by_key(
		&mut chain,
		&keys[0],
		RuntimeCall::Storage(pallet_storage::Call::prove_slot {
			order: id,
			slot: 0,
			epoch: start + 1,
			proofs: wrong.try_into().unwrap(),
		}),
	);
	assert_eq!(result, Ok(()));
	assert!(
		chain.execute(|| free(&account_of(&keys[0]))) < cheat_before,
		"a wrong proof pays its fee"
	);
	assert!(storage_events(&events)
		.iter()
		.any(|e| matches!(e, StorageEvent::ProofRejected { slot: 0, .. })));
	// Proof of Sync: suspended at once, a slash scheduled (deferred, appealable).
	assert_eq!(
		chain.execute(|| NodeRegistry::node(&holders[0]).unwrap().status),
		NodeStatus::Suspended
	);
	assert!(events.iter().any(|e| matches!(e,
		RuntimeEvent::NodeRegistry(pallet_node_registry::Event::SlashScheduled { node, reason: SlashReason::WrongResult, .. })
			if *node == holders[0])));
	let challenges = chain.execute(|| Storage::challenges(id, 1, start + 1)).unwrap();
	let good: Vec<PieceProof> = challenges.iter().map(|index| proof(1, *index)).collect();
	let (result, _) = by_key(
		&mut chain,
		&keys[1],
		RuntimeCall::Storage(pallet_storage::Call::prove_slot {
			order: id,
			slot: 1,
			epoch: start + 1,
			proofs: good.try_into().unwrap(),
		}),
	);
	assert_eq!(result, Ok(()));
	// At the next epoch, slot 2's silence is a miss: refunded, a Proof-of-Sync miss.
	let escrow_before = chain.execute(|| escrow(&client));
	let events = run_until(&mut chain, |events| {
		events.iter().any(|e| matches!(e, StorageEvent::SlotMissed { slot: 2, .. }))
	});
	assert!(events
		.iter()
		.any(|e| matches!(e, StorageEvent::SlotMissed { slot: 2, misses: 1, .. })));
	assert_eq!(chain.execute(|| escrow(&client)), escrow_before - PRICE);

	// Slot 0 has no provider left to repair it (all three are in the order): lost, its last
	// epoch refunded. The order runs to its end; every slot-epoch was paid or refunded.
	let mut guard = 0;
	while chain.execute(|| pallet_storage::Orders::<Runtime>::get(id)).is_some() {
		chain.next_block(vec![]);
		guard += 1;
		assert!(guard < 300, "the order never ended");
	}
	assert_eq!(chain.execute(|| escrow(&client)), 0);
	chain.execute(Storage::do_try_state).unwrap();
}

#[test]
fn an_order_nobody_accepts_is_refunded_in_full_and_nobody_is_penalised() {
	let mut chain = TestChain::new(DEVELOPMENT);
	for (owner, seed) in [(Bob, 0x81u8), (Charlie, 0x82), (Dave, 0x83), (Eve, 0x84), (Ferdie, 0x85)]
	{
		storage_provider(&mut chain, owner, &sr25519::Pair::from_seed(&[seed; 32]));
	}
	let client = Alice.to_account_id();
	let before = chain.execute(|| free(&client));
	let specs: Vec<SlotSpec> = (0..SLOTS)
		.map(|j| {
			let bytes = slot_bytes(j);
			SlotSpec { root: slot_root(&bytes), len: bytes.len() as u64 }
		})
		.collect();
	let place = RuntimeCall::Storage(pallet_storage::Call::place_order {
		cid: Cid::raw(b"never uploaded"),
		size: SIZE as u64,
		data_shards: DATA,
		slots: specs.try_into().unwrap(),
		duration: DURATION,
		price: PRICE,
	});
	let xt = chain.execute(|| signed(Alice, place));
	assert_eq!(chain.next_block(vec![xt]), vec![Ok(Ok(()))]);
	let fee =
		before - chain.execute(|| free(&client)) - PRICE * SLOTS as u128 * u128::from(DURATION);
	// The client never uploads: offers expire (20 blocks each on dev) and move on; with five
	// providers and five offers per slot, a slot runs out of providers, and the order is
	// cancelled with everything refunded.
	let events = run_until(&mut chain, |events| {
		events.iter().any(|e| matches!(e, StorageEvent::OrderCancelled { .. }))
	});
	assert!(events.iter().any(|e| matches!(
		e,
		StorageEvent::OrderCancelled { reason: pallet_storage::CancelReason::NoProviders, .. }
	)));
	assert_eq!(chain.execute(|| free(&client)), before - fee);
	assert_eq!(chain.execute(|| escrow(&client)), 0);
	for owner in [Bob, Charlie, Dave, Eve, Ferdie] {
		assert_eq!(
			chain.execute(|| NodeRegistry::node(&owner.to_account_id()).unwrap().status),
			NodeStatus::Active,
			"nobody is penalised for data never sent"
		);
	}
	chain.execute(Storage::do_try_state).unwrap();
}

#[test]
fn a_running_chain_gets_storage_parameters_at_the_upgrade() {
	use frame_support::traits::OnRuntimeUpgrade;
	let mut chain = TestChain::new(DEVELOPMENT);
	chain.execute(|| {
		let genesis = pallet_storage::Params::<Runtime>::get().expect("set at genesis");
		// Set: left alone.
		dsync_runtime::configs::storage::InitStorageParams::on_runtime_upgrade();
		assert_eq!(pallet_storage::Params::<Runtime>::get(), Some(genesis));
		// A chain that ran without the pallet: the production parameters.
		pallet_storage::Params::<Runtime>::kill();
		dsync_runtime::configs::storage::InitStorageParams::on_runtime_upgrade();
		let params = pallet_storage::Params::<Runtime>::get().expect("initialised");
		assert_eq!(params, dsync_runtime::configs::storage::storage_params(false));
		assert!(Storage::params_valid(&params));
		assert_eq!(params.epoch_length, 600);
		// Their epochs hold every slot the runtime's bounds allow.
		assert!(Storage::slot_capacity(&params) >= 4096 * 16);
	});
}
