//! The provider's off-chain worker, with the test externalities' HTTP, pool and an in-memory
//! keystore holding a `dsyn` key: it accepts offers and proves held slots with the proofs its
//! node serves, sends nothing before the upload arrived or for a node without storage, does not
//! send twice within the resubmission window, and takes a malformed or failed answer for "no
//! proof" (a miss at worst, never a wrong proof).

use super::*;
use crate::{
	ocw::{Sent, LOCAL_PREFIX, RESUBMIT_AFTER_BLOCKS},
	Call,
};
use codec::{Decode, Encode};
use dsync_primitives::{
	offchain::{local_storage_key, STORAGE_URL_KEY},
	probe::KEY_TYPE,
	storage::api::proof_path,
};
use frame_support::traits::Hooks;
use sp_core::offchain::{
	testing::{PendingRequest, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainStorage, OffchainWorkerExt, TransactionPoolExt,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};

const BASE: &str = "http://127.0.0.1:9955";

/// The test externalities with a keystore key, the pool and the HTTP layer's state.
struct World {
	ext: sp_io::TestExternalities,
	pool: std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>,
	http: std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::OffchainState>>,
	key: AccountId,
}

fn world(storage_url: Option<&str>) -> World {
	let keystore = MemoryKeystore::new();
	let public = keystore.sr25519_generate_new(KEY_TYPE, Some("//StorageProvider")).unwrap();
	let key: AccountId = public.into();
	let (offchain, http) = TestOffchainExt::new();
	let (pool_ext, pool) = TestTransactionPoolExt::new();
	let mut ext = ExtBuilder::default().providers(4).build();
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool_ext));
	ext.register_extension(KeystoreExt::new(keystore));
	if let Some(url) = storage_url {
		http.write().persistent_storage.set(b"", STORAGE_URL_KEY, url.as_bytes());
	}
	World { ext, pool, http, key }
}

fn proof_url(id: OrderId, j: SlotIndex, piece: u64) -> String {
	format!("{BASE}{}", proof_path(id, j, piece))
}

fn expect_proof(world: &World, url: String, body: Vec<u8>) {
	world.http.write().expect_request(PendingRequest {
		method: "GET".into(),
		uri: url,
		response: Some(body),
		sent: true,
		response_headers: vec![],
		..Default::default()
	});
}

/// The calls the worker put into the pool, with their signer.
fn submitted(world: &World) -> Vec<(AccountId, Call<Test>)> {
	world
		.pool
		.read()
		.transactions
		.iter()
		.map(|bytes| {
			let xt = Extrinsic::decode(&mut bytes.as_slice()).unwrap();
			let signer = match &xt.preamble {
				sp_runtime::generic::Preamble::Signed(who, ..) => who.clone(),
				_ => panic!("the worker signs its transactions"),
			};
			match xt.function {
				RuntimeCall::Storage(call) => (signer, call),
				other => panic!("unexpected call {other:?}"),
			}
		})
		.collect()
}

/// Places the usual order, draws it, and makes the provider of slot 0's offer the keystore key's
/// owner; returns the order, slot 0's challenge and provider.
fn offered_to_the_key(world: &mut World) -> (OrderId, u64, AccountId) {
	let key = world.key.clone();
	world.ext.execute_with(|| {
		let id = place_and_draw();
		let (j, provider, challenge, _) = offers(id)[0].clone();
		assert_eq!(j, 0);
		ExtraKeys::set(&vec![(key, provider.clone())]);
		(id, challenge, provider)
	})
}

#[test]
fn the_worker_accepts_an_offer_with_the_proof_its_node_serves() {
	let mut world = world(Some(BASE));
	let (id, challenge, provider) = offered_to_the_key(&mut world);
	expect_proof(
		&world,
		proof_url(id, 0, challenge),
		piece_proof(SIZE, DATA, 0, challenge).encode(),
	);
	world.ext.execute_with(|| Storage::offchain_worker(System::block_number()));
	let calls = submitted(&world);
	assert_eq!(calls.len(), 1);
	assert_eq!(calls[0].0, world.key);
	assert_eq!(
		calls[0].1,
		Call::accept_slot { order: id, slot: 0, proof: piece_proof(SIZE, DATA, 0, challenge) }
	);
	// The transaction, dispatched by the key, is accepted on chain.
	let key = world.key.clone();
	world.ext.execute_with(|| {
		let Call::accept_slot { order, slot, proof } = calls[0].1.clone() else { unreachable!() };
		assert_ok!(Storage::accept_slot(RuntimeOrigin::signed(key), order, slot, proof));
		assert_eq!(holder(id, 0), Some(provider));
		// Nothing is sent again for the slot: it is held, not due before the term starts.
		Storage::offchain_worker(System::block_number());
	});
	assert_eq!(submitted(&world).len(), 1);
}

#[test]
fn the_worker_proves_a_held_slot_every_epoch() {
	let mut world = world(Some(BASE));
	let (id, _, provider) = offered_to_the_key(&mut world);
	let epoch = world.ext.execute_with(|| {
		accept_all(id);
		let start = match Orders::<Test>::get(id).unwrap().status {
			OrderStatus::Active { start } => start,
			other => panic!("not active: {other:?}"),
		};
		run_to_block(Storage::epoch_start(start));
		assert_eq!(holder(id, 0), Some(provider.clone()));
		start
	});
	let challenges = world.ext.execute_with(|| Storage::challenges(id, 0, epoch).unwrap());
	for piece in &challenges {
		expect_proof(&world, proof_url(id, 0, *piece), piece_proof(SIZE, DATA, 0, *piece).encode());
	}
	world.ext.execute_with(|| Storage::offchain_worker(System::block_number()));
	let calls = submitted(&world);
	assert_eq!(calls.len(), 1);
	let Call::prove_slot { order, slot, epoch: proven, proofs } = calls[0].1.clone() else {
		panic!("not a proof: {:?}", calls[0].1)
	};
	assert_eq!((order, slot, proven), (id, 0, epoch));
	let key = world.key.clone();
	world.ext.execute_with(|| {
		assert_ok!(Storage::prove_slot(RuntimeOrigin::signed(key), id, 0, epoch, proofs));
		assert!(storage_events()
			.iter()
			.any(|e| matches!(e, crate::Event::SlotProven { order, slot: 0, epoch: e2, .. } if *order == id && *e2 == epoch)));
	});
}

#[test]
fn nothing_is_sent_twice_within_the_resubmission_window() {
	let mut world = world(Some(BASE));
	let (id, challenge, _) = offered_to_the_key(&mut world);
	let proof = piece_proof(SIZE, DATA, 0, challenge).encode();
	expect_proof(&world, proof_url(id, 0, challenge), proof.clone());
	let block = world.ext.execute_with(|| {
		Storage::offchain_worker(System::block_number());
		System::block_number()
	});
	// The record says what was sent and when.
	let key = local_storage_key(LOCAL_PREFIX, &(&world.key, id, 0u8));
	let record = world.http.read().persistent_storage.get(&key).unwrap();
	assert_eq!(
		Sent::decode(&mut record.as_slice()).unwrap(),
		Sent { task: 0, epoch: 0, block: block as u32 }
	);
	// The next runs within the window send nothing (no request is scripted: one would fail).
	for _ in 1..RESUBMIT_AFTER_BLOCKS {
		world.ext.execute_with(|| {
			next_block();
			Storage::offchain_worker(System::block_number());
		});
	}
	assert_eq!(submitted(&world).len(), 1);
	// After it, the acceptance (not on chain yet) is sent again.
	expect_proof(&world, proof_url(id, 0, challenge), proof);
	world.ext.execute_with(|| {
		next_block();
		Storage::offchain_worker(System::block_number());
	});
	assert_eq!(submitted(&world).len(), 2);
}

#[test]
fn a_node_without_storage_or_without_the_upload_sends_nothing() {
	// No storage URL: no request at all (none is scripted, so one would fail the test).
	let mut world1 = world(None);
	offered_to_the_key(&mut world1);
	world1.ext.execute_with(|| Storage::offchain_worker(System::block_number()));
	assert!(submitted(&world1).is_empty());

	// A malformed answer (the node's answer is not a proof): nothing sent, nothing recorded.
	let mut world2 = world(Some(BASE));
	let (id, challenge, _) = offered_to_the_key(&mut world2);
	expect_proof(&world2, proof_url(id, 0, challenge), b"not a proof".to_vec());
	world2.ext.execute_with(|| Storage::offchain_worker(System::block_number()));
	assert!(submitted(&world2).is_empty());
	let key = local_storage_key(LOCAL_PREFIX, &(&world2.key, id, 0u8));
	assert!(world2.http.read().persistent_storage.get(&key).is_none());

	// A damaged copy: the node serves a proof that does not verify against the slot's root (the
	// bytes of another slot). Nothing is sent: an epoch missed at worst, never a wrong proof.
	let mut world4 = world(Some(BASE));
	let (id, challenge, _) = offered_to_the_key(&mut world4);
	expect_proof(
		&world4,
		proof_url(id, 0, challenge),
		piece_proof(SIZE, DATA, 1, challenge).encode(),
	);
	world4.ext.execute_with(|| Storage::offchain_worker(System::block_number()));
	assert!(submitted(&world4).is_empty());

	// A key whose owner is no provider: nothing asked, nothing sent.
	let mut world3 = world(Some(BASE));
	world3.ext.execute_with(|| {
		place_and_draw();
	});
	world3.ext.execute_with(|| Storage::offchain_worker(System::block_number()));
	assert!(submitted(&world3).is_empty());
}
