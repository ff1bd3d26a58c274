//! The zone index: the ids of the names stored at one finalised block (the name set), and what was
//! read of names (the records cache), kept across blocks until a storage change or the end of a
//! registration makes it stale; updated to new finalised blocks on the blocking pool. See the
//! module docs of [`super`] ("Caches and the zone index", "Updates").

use super::{
	cache::Finalized,
	records::{Cached, ZoneEntry},
	Changes, NameChange, ZoneSource, LOG_TARGET,
};
use dsync_primitives::naming::{child_id, tld_id};
use sp_core::H256;
use std::{
	collections::{HashMap, HashSet},
	mem,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
	},
	time::{Duration, Instant},
};

/// Least time between a failed scan of the names and the next update.
const SCAN_RETRY: Duration = Duration::from_secs(1);

/// The name set and the records cache at one finalised block, and their updates.
pub(super) struct ZoneIndex {
	source: Arc<dyn ZoneSource>,
	state: RwLock<IndexState>,
	/// Whether an update is running.
	updating: AtomicBool,
	/// No update before this instant (set after a failed scan).
	retry_at: Mutex<Option<Instant>>,
	/// Whether the last scan failed (its failures are logged as warnings once).
	scan_failed: AtomicBool,
	/// Most entries of the records cache.
	capacity: usize,
	/// The id of the top-level domain, the root of every name's id.
	tld: H256,
	/// The website gateways' addresses ([`ZoneEntry::decode`]).
	website_addrs: Vec<std::net::IpAddr>,
}

struct IndexState {
	/// The block the index is at (with a name set), or the block of the records cache's entries
	/// (without one).
	at: Finalized,
	/// The ids of the names stored at `at`; `None` until a scan ends (and after a failed one).
	ids: Option<HashSet<[u8; 32]>>,
	/// What was read of names, valid at `at`, by lower-case name.
	records: HashMap<String, Entry>,
}

/// What was read of one name.
struct Entry {
	/// The ids of the name's top-level ancestor, ..., the name: a change of one of them makes
	/// the entry stale.
	lineage: Box<[[u8; 32]]>,
	state: Cached,
	/// The last block the entry holds in.
	valid_through: u32,
}

/// What the index knows of a name at a block ([`ZoneIndex::resolve`]).
pub(super) enum Resolved {
	/// Its state (`None`: it does not exist) without reading state.
	Known(Cached),
	/// It must be read from state.
	Unknown,
	/// The index moved past the block asked about.
	Moved,
}

/// Resets the update flag when the update ends, however it ends.
struct UpdateGuard(Arc<ZoneIndex>);

impl Drop for UpdateGuard {
	fn drop(&mut self) {
		self.0.updating.store(false, Ordering::Release);
	}
}

impl ZoneIndex {
	/// An index without a name set yet, keeping at most `capacity` records entries; its first
	/// scan starts when [`ZoneIndex::refresh`] is first called.
	pub(super) fn new(
		source: Arc<dyn ZoneSource>,
		capacity: usize,
		website_addrs: Vec<std::net::IpAddr>,
	) -> Self {
		Self {
			source,
			website_addrs,
			state: RwLock::new(IndexState { at: ([0; 32], 0), ids: None, records: HashMap::new() }),
			updating: AtomicBool::new(false),
			retry_at: Mutex::new(None),
			scan_failed: AtomicBool::new(false),
			capacity,
			tld: tld_id(),
		}
	}

	/// The block the index is at, and whether it has a name set.
	fn position(&self) -> (Finalized, bool) {
		let state = self.read();
		(state.at, state.ids.is_some())
	}

	fn read(&self) -> RwLockReadGuard<'_, IndexState> {
		self.state.read().unwrap_or_else(PoisonError::into_inner)
	}

	fn write(&self) -> RwLockWriteGuard<'_, IndexState> {
		self.state.write().unwrap_or_else(PoisonError::into_inner)
	}

	/// The block to answer a query at: the index's, or without a name set the latest finalised
	/// one (then starting an update). Cheap: the source is only asked without a name set; moving
	/// to newer finalised blocks is [`ZoneIndex::follow`]'s.
	pub(super) fn finalized(self: &Arc<Self>) -> Finalized {
		let (at, indexed) = self.position();
		if indexed {
			return at;
		}
		self.refresh();
		self.source.finalized()
	}

	/// Start an update when the latest finalised block is past the index's (or there is no name
	/// set). The server calls it every [`super::INDEX_POLL`].
	pub(super) fn follow(self: &Arc<Self>) {
		let latest = self.source.finalized();
		let (at, indexed) = self.position();
		if !indexed || latest.1 > at.1 {
			self.refresh();
		}
	}

	/// What is known of the name `key` at block `at` without reading state:
	/// [`Resolved::Known`]`(None)` when it is not in the name set, `Known(state)` from the records
	/// cache, [`Resolved::Unknown`] when it must be read, [`Resolved::Moved`] when the index is
	/// no longer at `at` (ask again at [`ZoneIndex::finalized`]).
	pub(super) fn resolve(&self, at: Finalized, key: &str) -> Resolved {
		let state = self.read();
		if state.at != at {
			return Resolved::Moved;
		}
		if let Some(ids) = &state.ids {
			if !ids.contains(&self.id_of(key)) {
				return Resolved::Known(None);
			}
		}
		match state.records.get(key).filter(|entry| entry.valid_through >= at.1) {
			Some(entry) => Resolved::Known(entry.state.clone()),
			None => Resolved::Unknown,
		}
	}

	/// Read the name `key` from state at block `at` (on the blocking pool), and keep what was
	/// read while it is valid; `Err(())` when the read failed.
	pub(super) async fn read_name(&self, at: Finalized, key: String) -> Result<Cached, ()> {
		let source = Arc::clone(&self.source);
		let read = tokio::task::spawn_blocking(move || {
			let found = source.lookup(at.0, &key);
			(key, found)
		});
		let (key, found) = match read.await {
			Ok(read) => read,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "state read failed: {error}");
				return Err(());
			},
		};
		let (cached, valid_through) = match found {
			Ok(Some(live)) => {
				let entry = ZoneEntry::decode(&live.records, &self.website_addrs);
				(Some(Arc::new(entry)), live.expires)
			},
			// An absent name stays absent until one of its ids changes.
			Ok(None) => (None, u32::MAX),
			Err(()) => {
				log::debug!(target: LOG_TARGET, "cannot read `{key}` from state");
				return Err(());
			},
		};
		self.store(at, key, cached.clone(), valid_through);
		Ok(cached)
	}

	/// Keep what was read of `key` at block `at`, valid through block `valid_through`: only if
	/// the index is still at `at` (without a name set: unless the entries are of a newer block,
	/// which are dropped for a newer `at`).
	fn store(&self, at: Finalized, key: String, cached: Cached, valid_through: u32) {
		if self.capacity == 0 || valid_through < at.1 {
			return;
		}
		let lineage = self.lineage(&key);
		let mut state = self.write();
		let mut dropped = HashMap::new();
		if state.at != at {
			if state.ids.is_some() || at.1 < state.at.1 {
				return;
			}
			dropped = mem::take(&mut state.records);
			state.at = at;
		}
		if state.records.len() >= self.capacity && !state.records.contains_key(&key) {
			dropped = mem::take(&mut state.records);
		}
		state.records.insert(key, Entry { lineage, state: cached, valid_through });
		drop(state);
		// Freed without the lock.
		drop(dropped);
	}

	/// Start an update on the blocking pool, unless one is running, a scan failed less than
	/// [`SCAN_RETRY`] ago, or there is no Tokio runtime to run it on.
	pub(super) fn refresh(self: &Arc<Self>) {
		if self.updating.swap(true, Ordering::AcqRel) {
			return;
		}
		let guard = UpdateGuard(Arc::clone(self));
		let retry_at = *self.retry_at.lock().unwrap_or_else(PoisonError::into_inner);
		if retry_at.is_some_and(|retry_at| Instant::now() < retry_at) {
			return;
		}
		let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
		// Not awaited: the update runs to its end on its own, and the guard resets the flag.
		drop(runtime.spawn_blocking(move || {
			let guard = guard;
			guard.0.update();
		}));
	}

	/// Move the index to the latest finalised block: apply the changes since its block, or scan
	/// the names when they are unknown or there is no name set.
	fn update(&self) {
		let target = self.source.finalized();
		let (from, indexed) = self.position();
		if indexed {
			if target.1 <= from.1 {
				return;
			}
			match self.source.changes(from, target) {
				Changes::Known(changes) => return self.apply(from, target, &changes),
				Changes::Unknown => log::debug!(
					target: LOG_TARGET,
					"naming changes from block #{} to #{} unknown, scanning the names",
					from.1,
					target.1,
				),
			}
		}
		self.scan(target);
	}

	/// Apply `changes`, those of the blocks after `from` up to `target`, and move to `target`.
	fn apply(&self, from: Finalized, target: Finalized, changes: &[NameChange]) {
		let mut changed = HashSet::new();
		let mut other = false;
		for change in changes {
			match change {
				NameChange::Name { id, .. } | NameChange::Data { id } => {
					changed.insert(*id);
				},
				NameChange::Other => other = true,
			}
		}
		let mut guard = self.write();
		let state = &mut *guard;
		// Only this update moves an index that has a name set.
		if state.at != from {
			return;
		}
		let Some(ids) = state.ids.as_mut() else { return };
		for change in changes {
			if let NameChange::Name { id, exists } = change {
				if *exists {
					ids.insert(*id);
				} else {
					ids.remove(id);
				}
			}
		}
		let mut dropped = HashMap::new();
		if other {
			dropped = mem::take(&mut state.records);
		} else if !changed.is_empty() {
			state.records.retain(|_, entry| {
				entry.valid_through >= target.1
					&& !entry.lineage.iter().any(|id| changed.contains(id))
			});
		}
		state.at = target;
		drop(guard);
		// Freed without the lock.
		drop(dropped);
		log::trace!(
			target: LOG_TARGET,
			"zone index at block #{}: {} naming changes applied",
			target.1,
			changes.len(),
		);
	}

	/// Scan the names at `target` and move there with an empty records cache (kept when the
	/// entries are of `target` already); after a failure, answer without a name set.
	fn scan(&self, target: Finalized) {
		match self.source.name_ids(target.0) {
			Ok(ids) => {
				let count = ids.len();
				let mut state = self.write();
				let mut dropped = HashMap::new();
				if state.at != target {
					dropped = mem::take(&mut state.records);
				}
				state.at = target;
				let old = state.ids.replace(ids);
				drop(state);
				drop((dropped, old));
				self.scan_failed.store(false, Ordering::Relaxed);
				log::debug!(target: LOG_TARGET, "zone index at block #{}: {count} names", target.1);
			},
			Err(()) => {
				if self.scan_failed.swap(true, Ordering::Relaxed) {
					log::debug!(target: LOG_TARGET, "cannot scan the names at block #{}", target.1);
				} else {
					log::warn!(
						target: LOG_TARGET,
						"cannot scan the names at block #{}; reading every name from state until \
						 a scan succeeds",
						target.1,
					);
				}
				*self.retry_at.lock().unwrap_or_else(PoisonError::into_inner) =
					Instant::now().checked_add(SCAN_RETRY);
				let old = self.write().ids.take();
				drop(old);
			},
		}
	}

	/// The id of the name `key` (a lower-case name ending in the top-level domain). The id of its
	/// parent is remembered per thread from the last query: a flood of random names under one
	/// name hashes one label a query, not the whole name.
	fn id_of(&self, key: &str) -> [u8; 32] {
		thread_local! {
			static PARENT: std::cell::RefCell<(String, H256)> =
				const { std::cell::RefCell::new((String::new(), H256::zero())) };
		}
		let Some((label, parent)) = key.split_once('.') else { return self.tld.0 };
		let parent_id = PARENT.with(|last| {
			let mut last = last.borrow_mut();
			if last.0 != parent || last.1.is_zero() {
				let id = parent
					.rsplit('.')
					.skip(1)
					.fold(self.tld, |id, label| child_id(&id, label.as_bytes()));
				last.0.clear();
				last.0.push_str(parent);
				last.1 = id;
			}
			last.1
		});
		child_id(&parent_id, label.as_bytes()).0
	}

	/// The ids of the name `key`'s top-level ancestor, ..., `key` itself.
	fn lineage(&self, key: &str) -> Box<[[u8; 32]]> {
		let mut id = self.tld;
		key.rsplit('.')
			.skip(1)
			.map(|label| {
				id = child_id(&id, label.as_bytes());
				id.0
			})
			.collect()
	}
}
