//! The chain adapter's parts that need no client: which storage keys change answers, and the
//! bounded log of the changes of notified blocks.

use crate::dns::{
	chain::{ChangeLog, NamingKeys, MAX_TRACKED_BLOCKS, MAX_TRACKED_CHANGES},
	Changes, NameChange,
};
use sp_io::hashing::{blake2_128, twox_128};

#[test]
fn naming_storage_keys_are_classified() {
	let keys = NamingKeys::new();
	let id = [7u8; 32];
	let pallet = twox_128(b"Naming");
	let item = |name: &[u8]| [&pallet[..], &twox_128(name)[..]].concat();
	let map_key = |name: &[u8]| [item(name), blake2_128(&id).to_vec(), id.to_vec()].concat();
	assert_eq!(keys.names_prefix().to_vec(), item(b"Names"));
	assert_eq!(
		keys.classify(&map_key(b"Names"), true),
		Some(NameChange::Name { id, exists: true })
	);
	assert_eq!(
		keys.classify(&map_key(b"Names"), false),
		Some(NameChange::Name { id, exists: false })
	);
	assert_eq!(keys.classify(&map_key(b"Records"), true), Some(NameChange::Data { id }));
	assert_eq!(keys.classify(&map_key(b"Generations"), false), Some(NameChange::Data { id }));
	// Read by no answer.
	assert_eq!(keys.classify(&map_key(b"Commitments"), true), None);
	assert_eq!(keys.classify(&map_key(b"PrimaryNames"), false), None);
	assert_eq!(
		keys.classify(&[&twox_128(b"System")[..], &twox_128(b"Number")[..]].concat(), true),
		None
	);
	// Anything else of the pallet, and the runtime code.
	assert_eq!(keys.classify(&item(b"Params"), true), Some(NameChange::Other));
	assert_eq!(keys.classify(&map_key(b"Reserved"), true), Some(NameChange::Other));
	assert_eq!(keys.classify(&item(b"Names"), true), Some(NameChange::Other));
	assert_eq!(keys.classify(&pallet, true), Some(NameChange::Other));
	assert_eq!(keys.classify(b":code", true), Some(NameChange::Other));
}

#[test]
fn the_change_log_is_bounded() {
	fn block(number: usize) -> [u8; 32] {
		let mut hash = [0; 32];
		hash[..8].copy_from_slice(&(number as u64).to_be_bytes());
		hash
	}
	let change = NameChange::Data { id: [1; 32] };
	let mut log = ChangeLog::default();
	for number in 0..MAX_TRACKED_BLOCKS + 10 {
		log.record(block(number), vec![change]);
	}
	// The oldest blocks are forgotten; a block not recorded (yet) is not known.
	assert_eq!(log.collect(&[block(9)]), None);
	assert_eq!(log.collect(&[block(10), block(11)]), Some(Changes::Known(vec![change, change])));
	assert_eq!(log.collect(&[]), Some(Changes::Known(Vec::new())));
	// A block with too many changes reads as unknown.
	log.record(block(5000), vec![change; MAX_TRACKED_CHANGES + 1]);
	assert_eq!(log.collect(&[block(11), block(5000)]), Some(Changes::Unknown));
	// The changes kept are bounded: room is made by forgetting the oldest blocks.
	log.record(block(5001), vec![change; MAX_TRACKED_CHANGES]);
	assert_eq!(log.collect(&[block(MAX_TRACKED_BLOCKS + 9)]), None);
	assert_eq!(log.collect(&[block(5000)]), Some(Changes::Unknown));
	let Some(Changes::Known(kept)) = log.collect(&[block(5001)]) else { panic!("known") };
	assert_eq!(kept.len(), MAX_TRACKED_CHANGES);
}
