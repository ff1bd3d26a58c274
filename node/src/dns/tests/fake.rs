//! A zone source in memory: a chain of finalised blocks, each with its names, and the naming
//! changes the chain adapter would have recorded for it; it counts its reads and scans.

use super::{BIG_TXT_RECORDS, TTL};
use crate::dns::{Changes, LiveName, NameChange, ZoneSource};
use dsync_primitives::naming::{namehash, NameRecords, RecordKind};
use std::{
	collections::{HashMap, HashSet},
	net::Ipv6Addr,
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};

/// A name stored at a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FakeName {
	pub(super) records: NameRecords,
	/// The last paid block of its own registration (top-level names; a subname lives as long as
	/// its top-level ancestor).
	pub(super) expires: u32,
}

impl FakeName {
	/// A name with `records` that never expires.
	pub(super) fn forever(records: NameRecords) -> Self {
		Self { records, expires: u32::MAX }
	}
}

struct FakeBlock {
	number: u32,
	parent: [u8; 32],
	names: Arc<HashMap<String, FakeName>>,
	/// The block's changes as recorded from storage notifications; `None`: not notified.
	changes: Option<Vec<NameChange>>,
}

struct FakeChain {
	finalized: ([u8; 32], u32),
	blocks: HashMap<[u8; 32], FakeBlock>,
}

/// The zone source of the tests; its first block is `[1; 32]`, number 10.
pub(super) struct FakeZone {
	chain: Mutex<FakeChain>,
	lookups: AtomicUsize,
	scans: AtomicUsize,
	/// How long a scan of the names takes.
	scan_delay: Mutex<Duration>,
}

/// The names of [`FakeZone::new`]: `alice` (records of every kind, some malformed), its alias
/// `www.alice`, `bare` (no DNS record), `big` (large `TXT` records) and `broken` (stored, but
/// reading it fails).
pub(super) fn default_names() -> HashMap<String, NameRecords> {
	let mut names = HashMap::new();
	names.insert(
		"alice.dsync".to_string(),
		NameRecords {
			ttl: TTL,
			records: vec![
				(RecordKind::A, vec![192, 0, 2, 1]),
				(RecordKind::A, vec![192, 0, 2, 2]),
				// Malformed values are skipped.
				(RecordKind::A, vec![1, 2, 3]),
				(
					RecordKind::Aaaa,
					Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets().to_vec(),
				),
				(RecordKind::Txt, b"v=spf1 -all".to_vec()),
				(RecordKind::Mx, [&10u16.to_be_bytes()[..], &b"mail.example.org"[..]].concat()),
				(RecordKind::Mx, vec![0]),
				(
					RecordKind::Srv,
					[
						&1u16.to_be_bytes()[..],
						&2u16.to_be_bytes()[..],
						&443u16.to_be_bytes()[..],
						&b"svc.alice.dsync."[..],
					]
					.concat(),
				),
				(RecordKind::Cname, b"not a host".to_vec()),
				(RecordKind::ContentHash, vec![1, 2, 3]),
				(RecordKind::Address(60), vec![4, 5, 6]),
			],
		},
	);
	names.insert(
		"www.alice.dsync".to_string(),
		NameRecords { ttl: 120, records: vec![(RecordKind::Cname, b"alice.dsync.".to_vec())] },
	);
	names.insert(
		"bare.dsync".to_string(),
		NameRecords { ttl: TTL, records: vec![(RecordKind::ContentHash, vec![9; 32])] },
	);
	names.insert(
		"big.dsync".to_string(),
		NameRecords {
			ttl: TTL,
			records: (0..BIG_TXT_RECORDS)
				.map(|i| (RecordKind::Txt, vec![b'a' + i as u8; 100]))
				.collect(),
		},
	);
	names.insert("broken.dsync".to_string(), NameRecords { ttl: TTL, records: Vec::new() });
	names
}

fn id_of(name: &str) -> [u8; 32] {
	namehash(name.as_bytes()).expect("a valid name").0
}

/// The changes from `old` to `new` names, as the chain adapter records them.
fn diff(old: &HashMap<String, FakeName>, new: &HashMap<String, FakeName>) -> Vec<NameChange> {
	let mut changes = Vec::new();
	for (name, before) in old {
		let id = id_of(name);
		match new.get(name) {
			None => changes.push(NameChange::Name { id, exists: false }),
			Some(after) if after.expires != before.expires => {
				changes.push(NameChange::Name { id, exists: true })
			},
			Some(after) if after.records != before.records => changes.push(NameChange::Data { id }),
			Some(_) => {},
		}
	}
	for name in new.keys().filter(|name| !old.contains_key(*name)) {
		changes.push(NameChange::Name { id: id_of(name), exists: true });
	}
	changes
}

impl FakeZone {
	/// The default names ([`default_names`]) at block 10.
	pub(super) fn new() -> Arc<Self> {
		Self::with_names(default_names())
	}

	/// `names`, never expiring, at block 10.
	pub(super) fn with_names(names: HashMap<String, NameRecords>) -> Arc<Self> {
		let names = names
			.into_iter()
			.map(|(name, records)| (name, FakeName::forever(records)))
			.collect();
		let first = FakeBlock {
			number: 10,
			parent: [0; 32],
			names: Arc::new(names),
			changes: Some(Vec::new()),
		};
		Arc::new(Self {
			chain: Mutex::new(FakeChain {
				finalized: ([1; 32], 10),
				blocks: HashMap::from([([1; 32], first)]),
			}),
			lookups: AtomicUsize::new(0),
			scans: AtomicUsize::new(0),
			scan_delay: Mutex::new(Duration::ZERO),
		})
	}

	/// Names read so far.
	pub(super) fn lookups(&self) -> usize {
		self.lookups.load(Ordering::SeqCst)
	}

	/// Scans of the names so far (started ones included).
	pub(super) fn scans(&self) -> usize {
		self.scans.load(Ordering::SeqCst)
	}

	/// Make every later scan of the names take `delay`.
	pub(super) fn set_scan_delay(&self, delay: Duration) {
		*self.scan_delay.lock().unwrap() = delay;
	}

	/// Finalise block `hash` numbered `number` on the finalised one, changing no name.
	pub(super) fn finalize(&self, hash: [u8; 32], number: u32) {
		self.push(hash, Some(number), Some(Vec::new()), |_| {});
	}

	/// Finalise the next block, `hash`, in which the names change as `edit` does.
	pub(super) fn block(&self, hash: [u8; 32], edit: impl FnOnce(&mut HashMap<String, FakeName>)) {
		self.push(hash, None, Some(Vec::new()), edit);
	}

	/// The same with `extra` changes besides the names' (e.g. [`NameChange::Other`]).
	pub(super) fn block_with(
		&self,
		hash: [u8; 32],
		extra: Vec<NameChange>,
		edit: impl FnOnce(&mut HashMap<String, FakeName>),
	) {
		self.push(hash, None, Some(extra), edit);
	}

	/// The same for a block whose changes were not notified.
	pub(super) fn unseen_block(
		&self,
		hash: [u8; 32],
		edit: impl FnOnce(&mut HashMap<String, FakeName>),
	) {
		self.push(hash, None, None, edit);
	}

	fn push(
		&self,
		hash: [u8; 32],
		number: Option<u32>,
		extra: Option<Vec<NameChange>>,
		edit: impl FnOnce(&mut HashMap<String, FakeName>),
	) {
		let mut chain = self.chain.lock().unwrap();
		let (parent, parent_number) = chain.finalized;
		let old = Arc::clone(&chain.blocks[&parent].names);
		let mut names = (*old).clone();
		edit(&mut names);
		let changes = extra.map(|mut extra| {
			let mut changes = diff(&old, &names);
			changes.append(&mut extra);
			changes
		});
		let number = number.unwrap_or(parent_number + 1);
		assert!(number > parent_number, "blocks are finalised in order");
		chain
			.blocks
			.insert(hash, FakeBlock { number, parent, names: Arc::new(names), changes });
		chain.finalized = (hash, number);
	}
}

impl ZoneSource for FakeZone {
	fn finalized(&self) -> ([u8; 32], u32) {
		self.chain.lock().unwrap().finalized
	}

	fn lookup(&self, at: [u8; 32], name: &str) -> Result<Option<LiveName>, ()> {
		self.lookups.fetch_add(1, Ordering::SeqCst);
		if name == "broken.dsync" {
			return Err(());
		}
		let chain = self.chain.lock().unwrap();
		let block = chain.blocks.get(&at).ok_or(())?;
		let Some(found) = block.names.get(name) else { return Ok(None) };
		// A subname resolves while each of its ancestors is stored, as long as its top-level
		// ancestor's registration.
		let mut registration = found;
		let mut rest = name;
		while let Some((_, parent)) = rest.split_once('.') {
			if !parent.contains('.') {
				break;
			}
			let Some(ancestor) = block.names.get(parent) else { return Ok(None) };
			registration = ancestor;
			rest = parent;
		}
		if block.number > registration.expires {
			return Ok(None);
		}
		Ok(Some(LiveName { records: found.records.clone(), expires: registration.expires }))
	}

	fn changes(&self, from: ([u8; 32], u32), to: ([u8; 32], u32)) -> Changes {
		let chain = self.chain.lock().unwrap();
		let mut blocks = Vec::new();
		let mut hash = to.0;
		while hash != from.0 {
			let Some(block) = chain.blocks.get(&hash) else { return Changes::Unknown };
			let Some(changes) = &block.changes else { return Changes::Unknown };
			if block.number <= from.1 {
				return Changes::Unknown;
			}
			blocks.push(changes.clone());
			hash = block.parent;
		}
		Changes::Known(blocks.into_iter().rev().flatten().collect())
	}

	fn name_ids(&self, at: [u8; 32]) -> Result<HashSet<[u8; 32]>, ()> {
		self.scans.fetch_add(1, Ordering::SeqCst);
		let delay = *self.scan_delay.lock().unwrap();
		std::thread::sleep(delay);
		let chain = self.chain.lock().unwrap();
		let block = chain.blocks.get(&at).ok_or(())?;
		Ok(block.names.keys().map(|name| id_of(name)).collect())
	}
}
