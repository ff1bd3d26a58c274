//! The chain adapter: the `.dsync` zone read from the client's finalised state.
//!
//! - **Names' records** come from the naming runtime API at the asked block:
//!   [`NamingApi::records`], and for a name that resolves [`NamingApi::name`], whose `expires` (the
//!   last paid block of the name's registration, a subname's being its top-level ancestor's) is the
//!   last block the records hold in without a storage change.
//! - **The set of names** is a scan of the naming pallet's `Names` keys at a block, read straight
//!   from the backend's state so that a failed read fails the scan instead of shortening it.
//! - **Changes between finalised blocks** come from the client's storage change notifications,
//!   which [`ChainZone::track_changes`] records: for each notified block (by hash), the changes of
//!   naming keys that can change an answer ([`NameChange`]; the pallet's registration commitments
//!   and primary names are read by no answer and skipped) and of the runtime code. The log keeps
//!   the last [`MAX_TRACKED_BLOCKS`] notified blocks and at most [`MAX_TRACKED_CHANGES`] changes in
//!   all, forgetting the oldest blocks first; a block with more changes than that is kept as "too
//!   many", which reads as unknown. [`ZoneSource::changes`] walks the finalised block's parents
//!   back to the older one (at most [`MAX_TRACKED_BLOCKS`] blocks) and returns the union of their
//!   changes, oldest first, when every block on the way was recorded; otherwise the changes are
//!   unknown (and the DNS server scans the names again).

use super::{Changes, LiveName, NameChange, ZoneSource, LOG_TARGET};
use dsync_primitives::{
	naming::{NameRecords, NamingApi},
	AccountId, Balance, BlockNumber,
};
use dsync_runtime::opaque::Block;
use futures::StreamExt;
use sc_client_api::{Backend as ClientBackend, BlockchainEvents, StateBackend, TrieCacheContext};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{storage::well_known_keys, H256};
use sp_io::hashing::twox_128;
use std::{
	collections::{HashMap, HashSet, VecDeque},
	future::Future,
	sync::{Arc, Mutex, PoisonError},
	time::Duration,
};

/// Most recent notified blocks whose changes are kept; also the longest way between two
/// finalised blocks whose changes can be known.
pub const MAX_TRACKED_BLOCKS: usize = 1024;
/// Most changes kept, over all kept blocks.
pub const MAX_TRACKED_CHANGES: usize = 65_536;
/// The naming pallet's name in the runtime, the first part of its storage keys.
const PALLET: &[u8] = b"Naming";
/// How often, and how long apart, to look again for a block on the way that was not recorded
/// yet: a block finalised as it is imported may be asked for before its notification is handled.
const NOTIFICATION_WAITS: usize = 4;
const NOTIFICATION_WAIT: Duration = Duration::from_millis(50);

/// The `.dsync` zone read from finalised chain state; see the module docs.
pub struct ChainZone<C, B> {
	client: Arc<C>,
	backend: Arc<B>,
	keys: NamingKeys,
	log: Mutex<ChangeLog>,
}

impl<C, B> ChainZone<C, B> {
	/// The zone as `client` reads it, scanning names in `backend`'s state. Changes between blocks
	/// are only known while [`ChainZone::track_changes`] runs.
	pub fn new(client: Arc<C>, backend: Arc<B>) -> Self {
		Self { client, backend, keys: NamingKeys::new(), log: Mutex::new(ChangeLog::default()) }
	}

	fn record(&self, block: [u8; 32], changes: Vec<NameChange>) {
		self.log.lock().unwrap_or_else(PoisonError::into_inner).record(block, changes);
	}
}

impl<C, B> ChainZone<C, B>
where
	C: BlockchainEvents<Block> + Send + Sync + 'static,
	B: Send + Sync + 'static,
{
	/// Subscribe to the client's storage changes now; the returned future records the naming
	/// changes of every notified block until it is dropped (spawn it beside the DNS server).
	pub fn track_changes(
		self: Arc<Self>,
	) -> sp_blockchain::Result<impl Future<Output = ()> + Send + 'static> {
		let mut stream = self.client.storage_changes_notification_stream(None, None)?;
		let zone = self;
		Ok(async move {
			while let Some(notification) = stream.next().await {
				// One over the bound is enough to know the block has too many.
				let changes: Vec<NameChange> = notification
					.changes
					.iter()
					.filter(|(child, _, _)| child.is_none())
					.filter_map(|(_, key, value)| zone.keys.classify(&key.0, value.is_some()))
					.take(MAX_TRACKED_CHANGES.saturating_add(1))
					.collect();
				zone.record(notification.block.0, changes);
			}
		})
	}
}

impl<C: HeaderBackend<Block>, B> ChainZone<C, B> {
	/// The blocks after `from` up to `to`, oldest first, through `to`'s parents; `None` when
	/// `from` is not among its last [`MAX_TRACKED_BLOCKS`] ancestors or a header is missing.
	fn path(&self, from: ([u8; 32], u32), to: ([u8; 32], u32)) -> Option<Vec<[u8; 32]>> {
		let mut path = Vec::new();
		let mut hash = H256(to.0);
		while hash.0 != from.0 {
			if path.len() >= MAX_TRACKED_BLOCKS {
				return None;
			}
			let header = HeaderBackend::header(&*self.client, hash).ok().flatten()?;
			if header.number <= from.1 {
				return None;
			}
			path.push(hash.0);
			hash = header.parent_hash;
		}
		path.reverse();
		Some(path)
	}
}

impl<C, B> ZoneSource for ChainZone<C, B>
where
	C: HeaderBackend<Block> + ProvideRuntimeApi<Block> + Send + Sync + 'static,
	C::Api: NamingApi<Block, AccountId, Balance, BlockNumber>,
	B: ClientBackend<Block> + 'static,
{
	fn finalized(&self) -> ([u8; 32], u32) {
		let info = HeaderBackend::info(&*self.client);
		(info.finalized_hash.0, info.finalized_number)
	}

	fn lookup(&self, at: [u8; 32], name: &str) -> Result<Option<LiveName>, ()> {
		let api = self.client.runtime_api();
		let records: Option<NameRecords> = api
			.records(H256(at), name.as_bytes().to_vec())
			.map_err(|error| log::debug!(target: LOG_TARGET, "reading {name} failed: {error}"))?;
		let Some(records) = records else { return Ok(None) };
		let view = api
			.name(H256(at), name.as_bytes().to_vec())
			.map_err(|error| log::debug!(target: LOG_TARGET, "reading {name} failed: {error}"))?;
		// Both reads are of the same state: a name that resolves has a registration. Were it
		// missing, 0 keeps the answer from being stored.
		let expires = view.map_or(0, |view| view.expires);
		Ok(Some(LiveName { records, expires }))
	}

	fn changes(&self, from: ([u8; 32], u32), to: ([u8; 32], u32)) -> Changes {
		let Some(path) = self.path(from, to) else { return Changes::Unknown };
		for attempt in 0..=NOTIFICATION_WAITS {
			if let Some(changes) =
				self.log.lock().unwrap_or_else(PoisonError::into_inner).collect(&path)
			{
				return changes;
			}
			if attempt < NOTIFICATION_WAITS {
				std::thread::sleep(NOTIFICATION_WAIT);
			}
		}
		Changes::Unknown
	}

	fn name_ids(&self, at: [u8; 32]) -> Result<HashSet<[u8; 32]>, ()> {
		let failed = |error: &dyn std::fmt::Display| {
			log::debug!(target: LOG_TARGET, "cannot scan the names at {}: {error}", H256(at));
		};
		let state = self
			.backend
			.state_at(H256(at), TrieCacheContext::Untrusted)
			.map_err(|error| failed(&error))?;
		let prefix = self.keys.names_prefix();
		let mut ids = HashSet::new();
		let mut cursor = prefix.to_vec();
		// Key by key (each read's error is seen, where an iterator would just stop early).
		loop {
			let next = state.next_storage_key(&cursor).map_err(|error| failed(&error))?;
			let Some(key) = next.filter(|key| key.starts_with(&prefix)) else { break };
			// `Blake2_128Concat`: the id is the key's last 32 bytes.
			if let Some(id) = key.get(prefix.len().saturating_add(16)..) {
				if let Ok(id) = <[u8; 32]>::try_from(id) {
					ids.insert(id);
				}
			}
			cursor = key;
		}
		Ok(ids)
	}
}

/// The storage key prefixes of the naming pallet that matter to the zone.
pub(super) struct NamingKeys {
	pallet: [u8; 16],
	names: [u8; 16],
	records: [u8; 16],
	generations: [u8; 16],
	/// Items no answer reads: registration commitments, primary names (reverse records).
	unread: [[u8; 16]; 2],
}

impl NamingKeys {
	pub(super) fn new() -> Self {
		Self {
			pallet: twox_128(PALLET),
			names: twox_128(b"Names"),
			records: twox_128(b"Records"),
			generations: twox_128(b"Generations"),
			unread: [twox_128(b"Commitments"), twox_128(b"PrimaryNames")],
		}
	}

	/// The prefix of the `Names` map's keys.
	pub(super) fn names_prefix(&self) -> [u8; 32] {
		let mut prefix = [0; 32];
		prefix[..16].copy_from_slice(&self.pallet);
		prefix[16..].copy_from_slice(&self.names);
		prefix
	}

	/// What a change of the storage key `key` (to a value when `exists`, else removed) means for
	/// the zone; `None` when no answer depends on it.
	pub(super) fn classify(&self, key: &[u8], exists: bool) -> Option<NameChange> {
		if key == well_known_keys::CODE {
			return Some(NameChange::Other);
		}
		let rest = key.strip_prefix(self.pallet.as_slice())?;
		let Some((item, rest)) = rest.split_first_chunk::<16>() else {
			return Some(NameChange::Other);
		};
		// A map keyed by name id (`Blake2_128Concat`): 16 bytes of hash, then the id.
		let id = rest.get(16..).and_then(|id| <[u8; 32]>::try_from(id).ok());
		match id {
			Some(id) if *item == self.names => Some(NameChange::Name { id, exists }),
			Some(id) if *item == self.records || *item == self.generations => {
				Some(NameChange::Data { id })
			},
			_ if self.unread.contains(item) => None,
			_ => Some(NameChange::Other),
		}
	}
}

/// The naming changes of the most recent notified blocks, by block hash; see the module docs.
#[derive(Default)]
pub(super) struct ChangeLog {
	/// Each kept block's changes; `None` when it had more than [`MAX_TRACKED_CHANGES`].
	blocks: HashMap<[u8; 32], Option<Vec<NameChange>>>,
	/// The kept blocks, oldest first.
	order: VecDeque<[u8; 32]>,
	/// Changes kept, over all blocks.
	held: usize,
}

impl ChangeLog {
	/// Keep `changes` as `block`'s, forgetting the oldest blocks beyond the bounds.
	pub(super) fn record(&mut self, block: [u8; 32], changes: Vec<NameChange>) {
		let changes = (changes.len() <= MAX_TRACKED_CHANGES).then_some(changes);
		let size = changes.as_ref().map_or(0, Vec::len);
		match self.blocks.insert(block, changes) {
			Some(old) => self.held = self.held.saturating_sub(old.as_ref().map_or(0, Vec::len)),
			None => self.order.push_back(block),
		}
		self.held = self.held.saturating_add(size);
		while self.order.len() > MAX_TRACKED_BLOCKS || self.held > MAX_TRACKED_CHANGES {
			let Some(oldest) = self.order.pop_front() else { break };
			if let Some(old) = self.blocks.remove(&oldest) {
				self.held = self.held.saturating_sub(old.as_ref().map_or(0, Vec::len));
			}
		}
	}

	/// The changes of the blocks of `path` (oldest first), in order; `None` while one of them
	/// is not recorded, unknown when one had too many.
	pub(super) fn collect(&self, path: &[[u8; 32]]) -> Option<Changes> {
		let mut all = Vec::new();
		for block in path {
			match self.blocks.get(block)? {
				Some(changes) => all.extend_from_slice(changes),
				None => return Some(Changes::Unknown),
			}
		}
		Some(Changes::Known(all))
	}
}
